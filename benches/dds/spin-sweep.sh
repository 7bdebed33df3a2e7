#!/usr/bin/env bash
# Federation steps/s and CPU cost against the idle-spin window
# (`TWIN_DDS_SPIN_US`), the windows alternating run by run in one private
# network namespace so that each sees the same machine state; each run
# under `perf stat` (CPU time and context switches of the controller and
# all member processes).
#
#   benches/dds/spin-sweep.sh BIN N RUNS idle|awake SPIN_US... [-- MODE...]
#   e.g. benches/dds/spin-sweep.sh target/release/examples/dds_steps 4 5 idle 0 20 50 100 200
#
# BIN is a `dds_steps` build (cargo build --release -p twin-federation
# --features dds --example dds_steps). `awake`: two `nice -n 19` busy loops
# keep the vCPUs out of their idle state (see BENCHMARKS.md, DDS run 6);
# `idle`: nothing else started. MODE goes to dds_steps (`thread`, `data`).
# Prints one line per run: steps/s, CPU ms per 1,000 steps (all processes),
# context switches per round; and the load average before and after.
# Needs root (network namespace) and perf.
set -euo pipefail
[ $# -ge 5 ] || { sed -n 2,18p "$0" >&2; exit 2; }
cd "$(dirname "$0")/../.."
bin="$(realpath "$1")"
command -v perf >/dev/null || { echo "spin-sweep: perf not found" >&2; exit 2; }
exec scripts/netns-run bash -s "$bin" "${@:2}" <<'INNER'
set -uo pipefail
bin="$1"; n="$2"; runs="$3"; state="$4"; shift 4
spins=(); while [ $# -gt 0 ] && [ "$1" != "--" ]; do spins+=("$1"); shift; done
[ $# -gt 0 ] && shift
export TWIN_DDS_DOMAIN="${TWIN_DDS_DOMAIN:-62}"
rounds=20000
pids=()
if [ "$state" = awake ]; then
  for _ in 1 2; do nice -n 19 bash -c 'while :; do :; done' & pids+=($!); done
fi
stat="$(mktemp)"
echo "== $(date -u +%H:%M:%S) N=$n state=$state mode=[$*] $(uptime | sed 's/.*load/load/')"
for _ in $(seq "$runs"); do
  for s in "${spins[@]}"; do
    out="$(TWIN_DDS_SPIN_US=$s timeout 120 perf stat -x, -e task-clock,context-switches -o "$stat" "$bin" "$n" $rounds "$@")"
    sps="$(echo "$out" | grep -o '= [0-9]* steps/s' | awk '{print $2}')"
    awk -F, -v sps="${sps:-FAILED}" -v s="$s" -v r=$rounds '/task-clock/{t=$1} /context-switches/{c=$1}
      END {printf "spin %4s us %6s steps/s  cpu %6.1f ms/1000 steps  cs %4.1f/round\n", s, sps, t*1000/r, c/r}' "$stat"
  done
done
echo "== end $(date -u +%H:%M:%S) $(uptime | sed 's/.*load/load/')"
rm -f "$stat"
for p in "${pids[@]}"; do kill "$p"; done
INNER
