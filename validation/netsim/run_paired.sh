#!/usr/bin/env bash
# Paired validation: ns-3 and Twin replay the same random-waypoint movement
# files (make_traces.py, ns-2 format), so run k is the same topology in both.
# N = 20, AODV and OLSR, 10 traces -> results/paired-ns3.jsonl,
# results/paired-twin.jsonl (~3 CPU-min, mostly ns-3).
set -euo pipefail
cd "$(dirname "$0")"
N=${N:-20}
python3 make_traces.py "$N" 10 traces
./build_ns3.sh >/dev/null
(cd ../.. && cargo build --quiet --release -p twin-netsim --example manet_bench)
BIN=$(cd ../.. && realpath -m "${CARGO_TARGET_DIR:-target}/release/examples/manet_bench")
mkdir -p results
: > results/paired-ns3.jsonl.tmp
: > results/paired-twin.jsonl.tmp
for p in AODV OLSR; do for r in $(seq 1 10); do echo "$p $r"; done; done | xargs -P 2 -L 1 sh -c \
    './ns3_manet --nodes='"$N"' --protocol=$0 --run=$1 --trace=traces/rwp-'"$N"'-$1.ns2 | sed -n "s/^RESULT //p" >> results/paired-ns3.jsonl.tmp'
for p in aodv olsr; do for r in $(seq 1 10); do
    (cd ../.. && "$BIN" --nodes "$N" --protocol "$p" --run "$r" --trace "validation/netsim/traces/rwp-$N-$r.ns2") \
        | sed -n 's/^RESULT //p' >> results/paired-twin.jsonl.tmp
done; done
sort results/paired-ns3.jsonl.tmp > results/paired-ns3.jsonl
mv results/paired-twin.jsonl.tmp results/paired-twin.jsonl
rm results/paired-ns3.jsonl.tmp
wc -l results/paired-*.jsonl
