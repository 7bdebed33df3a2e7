#!/usr/bin/env bash
# Runs the ns-3 side of the validation matrix: N in {20, 50} x {AODV, OLSR}
# x runs 1..10 (seed 1), appending one JSON line per run to
# results/ns3.jsonl. ~15 CPU-minutes in total (AODV N=50 is ~60 CPU-s a run).
# Usage: run_ns3.sh [JOBS]   (parallel runs, default 1)
set -euo pipefail
cd "$(dirname "$0")"
./build_ns3.sh >/dev/null
mkdir -p results
JOBS=${1:-1}
: > results/ns3.jsonl.tmp
for n in 20 50; do for p in OLSR AODV; do for r in $(seq 1 10); do
    echo "$n $p $r"
done; done; done | xargs -P "$JOBS" -L 1 sh -c \
    './ns3_manet --nodes=$0 --protocol=$1 --seed=1 --run=$2 | sed -n "s/^RESULT //p" >> results/ns3.jsonl.tmp'
sort results/ns3.jsonl.tmp > results/ns3.jsonl && rm results/ns3.jsonl.tmp
wc -l results/ns3.jsonl
