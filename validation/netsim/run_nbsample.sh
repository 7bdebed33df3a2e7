#!/usr/bin/env bash
# One-hop AODV routes by state, sampled once a second on both sides
# (`--nbsample`): how many neighbours each node's AODV holds as valid, the
# measurement behind validation/netsim.md, "AODV N = 50". ns-3 under
# `nice`, one process at a time. One JSON line per run and simulator,
# appended to results/nbsample-N-Ts.jsonl.
# Usage: [TWIN_ONLY=1] [NS3_ONLY=1] run_nbsample.sh N T RUNS
set -euo pipefail
cd "$(dirname "$0")"
N=$1 T=$2 RUNS=$3
OUT=$PWD/results/nbsample-$N-${T}s.jsonl
if [ -z "${NS3_ONLY:-}" ]; then
    (cd ../.. && CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target} cargo build --quiet --release -p twin-netsim --example manet_bench)
    BIN=$(cd ../.. && realpath -m "${CARGO_TARGET_DIR:-target}/release/examples/manet_bench")
    for r in $RUNS; do
        (cd ../.. && "$BIN" --nodes "$N" --protocol aodv --seed 1 --run "$r" --time "$T" --nbsample) \
            | sed -n 's/^RESULT //p' >> "$OUT"
    done
fi
if [ -z "${TWIN_ONLY:-}" ]; then
    ./build_ns3.sh >/dev/null
    for r in $RUNS; do
        timeout 3000 nice -n 10 ./ns3_manet --nodes="$N" --protocol=AODV --seed=1 --run="$r" --time="$T" --nbsample=1 \
            | sed -n 's/^RESULT //p' >> "$OUT"
    done
fi
