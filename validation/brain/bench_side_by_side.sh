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
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${1:-python3}
passes=${2:-3}
cargo build --release -p twin-brain --example speed >&2
speed="${CARGO_TARGET_DIR:-target}/release/examples/speed"
echo "commit $(git rev-parse --short HEAD); $(nproc) CPUs; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
for pass in $(seq "$passes"); do
  echo "=== pass $pass $(date -u +%H:%M:%S) $(uptime)"
  "$py" validation/brain/bench_tvb.py 1.0 2>/dev/null
  echo "--- twin $(date -u +%H:%M:%S) $(uptime)"
  "$speed"
  echo "--- tvb mpr $(date -u +%H:%M:%S) $(uptime)"
  "$py" validation/brain/bench_tvb_mpr.py 5 2>/dev/null
  echo "--- twin mpr $(date -u +%H:%M:%S) $(uptime)"
  "$speed" Montbrio
done
echo "=== done $(date -u +%H:%M:%S) $(uptime)"
