#!/usr/bin/env bash
# A/B of federation steps/s between two `dds_steps` builds, alternating
# run by run in one private network namespace so that both see the same
# machine state; each run under `perf stat` for the CPU time and context
# switches of all its processes (controller and members), per grant round.
#
#   benches/dds/steps-ab.sh BASE_BIN NEW_BIN N PAIRS awake|idle [MODE...]
#   e.g. benches/dds/steps-ab.sh /tmp/base/dds_steps target/release/examples/dds_steps 4 5 awake
#
# `awake`: two `nice -n 19` busy loops in the namespace keep the vCPUs out
# of their idle state (a halted vCPU is slow to wake; see BENCHMARKS.md,
# DDS run 6); `idle`: nothing else started. MODE is passed to dds_steps
# (`thread`, `data`, `datalast`, `local`). Prints one line per run and the
# load average before and after. Needs root (network namespace) and perf.
set -euo pipefail
[ $# -ge 5 ] || { sed -n 2,15p "$0" >&2; exit 2; }
cd "$(dirname "$0")/../.."
base="$(realpath "$1")"; new="$(realpath "$2")"
command -v perf >/dev/null || { echo "steps-ab: perf not found" >&2; exit 2; }
exec scripts/netns-run bash -s "$base" "$new" "${@:3}" <<'INNER'
set -uo pipefail
base="$1"; new="$2"; n="$3"; pairs="$4"; state="$5"; shift 5
export TWIN_DDS_DOMAIN="${TWIN_DDS_DOMAIN:-61}"
pids=()
if [ "$state" = awake ]; then
  for _ in 1 2; do nice -n 19 bash -c 'while :; do :; done' & pids+=($!); done
fi
stat="$(mktemp)"
echo "== $(date -u +%H:%M:%S) N=$n state=$state mode=[$*] $(uptime | sed 's/.*load/load/')"
for _ in $(seq "$pairs"); do
  for tag in base new; do
    bin="$base"; [ "$tag" = new ] && bin="$new"
    out="$(timeout 120 perf stat -x, -e task-clock,context-switches -o "$stat" "$bin" "$n" 20000 "$@")"
    sps="$(echo "$out" | grep -o '= [0-9]* steps/s' | awk '{print $2}')"
    awk -F, -v sps="${sps:-FAILED}" -v tag="$tag" '/task-clock/{t=$1} /context-switches/{c=$1}
      END {printf "%-4s %6s steps/s  cpu %5.1f us/round  cs %4.1f/round\n", tag, sps, t*1000/20000, c/20000}' "$stat"
  done
done
echo "== end $(date -u +%H:%M:%S) $(uptime | sed 's/.*load/load/')"
rm -f "$stat"
for p in "${pids[@]}"; do kill "$p"; done
INNER
