#!/usr/bin/env bash
# Runs the Twin side of the validation matrix: N in {20, 50} x {aodv, olsr}
# x runs 1..10 (seed 1) of scenarios/net/manet-ns3.toml, one JSON line per
# run in results/twin.jsonl. ~1 CPU-minute in total (release build).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --quiet --release -p twin-netsim --example manet_bench
BIN=$CARGO_TARGET_DIR/release/examples/manet_bench
OUT=validation/netsim/results/twin.jsonl
mkdir -p "$(dirname "$OUT")"
: > "$OUT.tmp"
for n in 20 50; do for p in olsr aodv; do for r in $(seq 1 10); do
    "$BIN" --nodes "$n" --protocol "$p" --seed 1 --run "$r" | sed -n 's/^RESULT //p' >> "$OUT.tmp"
done; done; done
mv "$OUT.tmp" "$OUT"
wc -l "$OUT"
