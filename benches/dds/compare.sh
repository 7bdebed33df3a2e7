#!/usr/bin/env bash
# Twin's DDS bus beside Cyclone's own ddsperf, in the same run and the same
# private network namespace (loopback only): round trips at 64 B and 4 KiB,
# lossless reliable throughput at 64 B, federation steps/s with 2/4/8
# member processes. Prints one line per measurement. See BENCHMARKS.md.
#
#   benches/dds/compare.sh            (run as root: it makes a network namespace)
#
# Needs: DDSPERF=path/to/ddsperf (Cyclone 11.0.1, as cyclors ships it; build
# line in BENCHMARKS.md) and the release builds
#   cargo build --release -p twin-bus --features dds --example dds_perf
#   cargo build --release -p twin-federation --features dds --example dds_steps
set -euo pipefail
cd "$(dirname "$0")/../.."
T="${CARGO_TARGET_DIR:-target}/release/examples"
: "${DDSPERF:?set DDSPERF to the ddsperf binary}"
N="${N:-5000}"
exec scripts/netns-run bash -s "$DDSPERF" "$T" "$N" <<'INNER'
set -euo pipefail
D="$1"; T="$2"; N="$3"
# ddsperf prints once a second; the median of its per-second medians (it
# reports one-way latency = round trip / 2, doubled here).
ddsperf_rtt() {
  "$D" -D 9 pong >/dev/null 2>&1 & local p=$!
  sleep 0.5
  "$D" -D 7 ping size "$1" 2>/dev/null | grep -o ' 50% [0-9.]*us' | awk '{print $2+0}' \
    | sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; printf "ddsperf round trip %s B: median %.1f us (of %d per-second medians)\n", "'"$1"'", 2*m, NR}'
  wait $p || true
}
ddsperf_tp() {
  "$D" -D 11 sub 2>/dev/null > /tmp/ddsperf-sub.$$ & local p=$!
  sleep 0.5
  "$D" -D 9 pub size 64 >/dev/null 2>&1 || true
  wait $p || true
  grep -o 'rate [0-9.]* kS/s' /tmp/ddsperf-sub.$$ | awk '{print $2}' | sort -n \
    | awk '{a[NR]=$1} END {printf "ddsperf throughput 64 B: median %.1f k samples/s, best %.1f k (per-second rates, n=%d)\n", a[int((NR+1)/2)], a[NR], NR}'
  grep -o 'lost [0-9]*' /tmp/ddsperf-sub.$$ | sort -u | tr '\n' ' '; echo
  rm -f /tmp/ddsperf-sub.$$
}
twin_rtt() { # SIZE MODE...
  local s=$1; shift
  "$T/dds_perf" pong "$@" & local p=$!
  "$T/dds_perf" ping "$s" "$N" "$@" | sed "s/^/twin $* /"
  kill $p 2>/dev/null; wait $p 2>/dev/null || true
}
twin_tp() { # MODE...
  "$T/dds_perf" sub 1000000 "${@:2}" & local p=$!
  sleep 0.5
  "$T/dds_perf" pub 64 1000000 $1
  wait $p
}
export TWIN_DDS_DOMAIN=60
ddsperf_rtt 64; twin_rtt 64; twin_rtt 64 take
ddsperf_rtt 4096; twin_rtt 4096; twin_rtt 4096 vec; twin_rtt 4096 take
ddsperf_tp
twin_tp batch; twin_tp nobatch
twin_tp batch take
# Steps/s: members on their thread, then on receive (the default), each
# without data and with one sample per member and step (watermarks in play).
for n in 2 4 8; do
  for mode in "thread" "" "thread data" "data"; do "$T/dds_steps" "$n" 20000 $mode; done
done
INNER
