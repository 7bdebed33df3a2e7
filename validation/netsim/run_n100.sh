#!/usr/bin/env bash
# AODV N = 100 beside ns-3 on a shortened run (the 200 s ns-3 run takes
# 10-40 minutes on the shared 2-core VM): flows start U(20, 21) s and stop at
# T - 5 s. One JSON line per simulator and run in results/n100-${T}s.jsonl.
# ns-3 runs under `nice`, one at a time. Both programs report their own CPU
# time and peak RSS.
# Usage: run_n100.sh [T_SECONDS=50] [RUNS="1 2"]
set -euo pipefail
cd "$(dirname "$0")"
T=${1:-50}
RUNS=${2:-1 2}
./build_ns3.sh >/dev/null
(cd ../.. && CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target} cargo build --quiet --release -p twin-netsim --example manet_bench)
BIN=${CARGO_TARGET_DIR:-../../target}/release/examples/manet_bench
OUT=results/n100-${T}s.jsonl
: > "$OUT.tmp"
for r in $RUNS; do
    nice -n 10 ./ns3_manet --nodes=100 --protocol=AODV --seed=1 --run="$r" --time="$T" | sed -n 's/^RESULT //p' >> "$OUT.tmp"
    "$BIN" --nodes 100 --protocol aodv --seed 1 --run "$r" --time "$T" | sed -n 's/^RESULT //p' >> "$OUT.tmp"
done
mv "$OUT.tmp" "$OUT"
wc -l "$OUT"
