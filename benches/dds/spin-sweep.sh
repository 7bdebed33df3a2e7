#!/usr/bin/env bash
# Federation steps/s and CPU cost against the idle-spin window
# (`TWIN_DDS_SPIN_US`), the windows alternating run by run in one private
# network namespace so that each sees the same machine state; each run
# under `perf stat` (CPU time and context switches of the controller and
# all member processes).
#
#   benches/dds/spin-sweep.sh BIN N RUNS idle|awake VARIANT... [-- MODE...]
#   e.g. benches/dds/spin-sweep.sh target/release/examples/dds_steps 4 5 idle 0 20 50 100 200 0k
#
# A VARIANT is a spin window in µs (`TWIN_DDS_SPIN_US`), with a `k` suffix
# also `TWIN_DDS_KEEP_AWAKE=1` (a PM QoS CPU latency request of 0 µs held
# by every process: idle vCPUs poll instead of halting). With DDSPERF set
# (Cyclone's ddsperf), ddsperf's 64 B round trip is measured before and
# after the runs, in the same namespace: ~25 µs with the vCPUs awake,
# ~90-150 µs on the idle VM (BENCHMARKS.md, DDS runs 6 and 8b).
#
# BIN is a `dds_steps` build (cargo build --release -p twin-federation
# --features dds --example dds_steps). `awake`: two `nice -n 19` busy loops
# keep the vCPUs out of their idle state (see BENCHMARKS.md, DDS run 6);
# `idle`: nothing else started. MODE goes to dds_steps (`thread`, `data`).
# Prints one line per run: steps/s, CPU ms per 1,000 steps (all processes),
# context switches per round, vCPU halts per round (cpuidle state 1 entries
# of all CPUs, where the kernel has a cpuidle driver: machine-wide, so
# other work counts too); and the load average before and after.
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
halts() { cat /sys/devices/system/cpu/cpu*/cpuidle/state1/usage 2>/dev/null | awk '{s+=$1} END {print s+0}'; }
rtt() { # ddsperf 64 B round trip: median of its per-second medians (one-way x 2)
  [ -n "${DDSPERF:-}" ] || return 0
  "$DDSPERF" -D 9 pong >/dev/null 2>&1 & local p=$!
  sleep 0.5
  "$DDSPERF" -D 5 ping size 64 2>/dev/null | grep -o ' 50% [0-9.]*us' | awk '{print $2+0}' \
    | sort -n | awk '{a[NR]=$1} END {printf "ddsperf round trip 64 B: median %.1f us\n", 2*a[int((NR+1)/2)]}'
  wait $p || true
}
echo "== $(date -u +%H:%M:%S) N=$n state=$state mode=[$*] $(uptime | sed 's/.*load/load/')"
rtt
for _ in $(seq "$runs"); do
  for v in "${spins[@]}"; do
    s="${v%k}"; k=0; [ "$s" != "$v" ] && k=1
    h0="$(halts)"
    out="$(TWIN_DDS_SPIN_US=$s TWIN_DDS_KEEP_AWAKE=$k timeout 120 perf stat -x, -e task-clock,context-switches -o "$stat" "$bin" "$n" $rounds "$@")"
    h1="$(halts)"
    sps="$(echo "$out" | grep -o '= [0-9]* steps/s' | awk '{print $2}')"
    awk -F, -v sps="${sps:-FAILED}" -v s="$v" -v r=$rounds -v h=$((h1 - h0)) '/task-clock/{t=$1} /context-switches/{c=$1}
      END {printf "spin %5s %6s steps/s  cpu %6.1f ms/1000 steps  cs %4.1f/round  halts %5.2f/round\n", s, sps, t*1000/r, c/r, h/r}' "$stat"
  done
done
rtt
echo "== end $(date -u +%H:%M:%S) $(uptime | sed 's/.*load/load/')"
rm -f "$stat"
for p in "${pids[@]}"; do kill "$p"; done
INNER
