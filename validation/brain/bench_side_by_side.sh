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
# TWIN_AVX2=1: also build the example with AVX2 enabled (RUSTFLAGS
# "-C target-feature=+avx2,+fma", own target dir "<target>-avx2"; Rust never
# contracts to FMA, the TVB references match identically) and time it after
# the baseline build in every pass.
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${1:-python3}
passes=${2:-3}
cargo build --release -p twin-brain --example speed >&2
speed="${CARGO_TARGET_DIR:-target}/release/examples/speed"
speeds=("$speed")
if [ "${TWIN_AVX2:-0}" = 1 ]; then
  avx2_dir="${CARGO_TARGET_DIR:-target}-avx2"
  RUSTFLAGS="-C target-feature=+avx2,+fma" CARGO_TARGET_DIR="$avx2_dir" \
    cargo build --release -p twin-brain --example speed >&2
  speeds+=("$avx2_dir/release/examples/speed")
fi
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
