#!/bin/bash
# TVB and Twin beside each other, several passes in one go (the machine's load
# changes by the minute, so each pass times both sides back to back):
#   bench_tvb.py 1.0; speed; bench_tvb_mpr.py 5; speed Montbrio
#
#   validation/brain/bench_side_by_side.sh [PYTHON] [PASSES] > log
#
# PYTHON: a Python with tvb-library 2.10, tvb-data and numba (default: python3).
# Builds the speed example first (release). Compare TVB's CPU-s with Twin's
# CPU columns (least, median), not with its wall time.
# The hot loops pick their SIMD clone (AVX-512, AVX2+FMA or SSE2) at run time;
# the speed example prints which one. TWIN_EXTRA="BIN ...": also time these
# speed binaries (e.g. built from an earlier commit) after the current build in
# every pass, for before/after comparisons in the same run.
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${1:-python3}
passes=${2:-3}
cargo build --release -p twin-brain --example speed >&2
speed="${CARGO_TARGET_DIR:-target}/release/examples/speed"
speeds=("$speed")
for extra in ${TWIN_EXTRA:-}; do
  speeds+=("$extra")
done
echo "commit $(git rev-parse --short HEAD); $(nproc) CPUs; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
for pass in $(seq "$passes"); do
  echo "=== pass $pass $(date -u +%H:%M:%S) $(uptime)"
  "$py" validation/brain/bench_tvb.py 1.0 2>/dev/null
  for s in "${speeds[@]}"; do
    echo "--- twin $s $(date -u +%H:%M:%S) $(uptime)"
    "$s"
  done
  echo "--- tvb mpr $(date -u +%H:%M:%S) $(uptime)"
  "$py" validation/brain/bench_tvb_mpr.py 5 2>/dev/null
  for s in "${speeds[@]}"; do
    echo "--- twin mpr $s $(date -u +%H:%M:%S) $(uptime)"
    "$s" Montbrio
  done
done
echo "=== done $(date -u +%H:%M:%S) $(uptime)"
