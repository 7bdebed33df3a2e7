#!/usr/bin/env bash
# One quiet-window run for issue 6's batching targets (BENCHMARKS.md, "Local model service",
# round 6): the engine's own batching ceiling (examples/batched_decode, S = 1/2/4/8) and the
# servers at 1/4/8 staggered streams, Twin (default: prefill priority, --decode-with-prefill 0),
# Twin with every generating sequence in every step (twin-all, the default before round 6)
# and llama.cpp's server, for the SmolLM2
# Q4_1 file and its Q4_0 re-quantisation (repacked for batched GEMM by both builds), then
# the ceiling again. Prints `uptime` before and after. About 5–6 minutes on an idle 2-core VM
# (plus the model download and Q4_0 re-quantisation, about 30 s, the first time).
#
# Needs (built beforehand): CARGO_TARGET_DIR's native release `twin` and
# `examples/batched_decode` (RUSTFLAGS="-C target-cpu=native" cargo build --release -p twin-cli
# --features llama; the same with -p twin-llm --example batched_decode), a python with
# xllamacpp and gguf (PY, default /tmp/xl-venv/bin/python), target/models/ with the Q4_1 file.
# Usage: benches/llm/quiet-run.sh [THREADS]   (default 2)
set -euo pipefail
cd "$(dirname "$0")/../.."
threads=${1:-2}
target=${CARGO_TARGET_DIR:-target}
py=${PY:-/tmp/xl-venv/bin/python}
m=target/models/SmolLM2-135M-Instruct
[ -f $m.Q4_1.gguf ] || scripts/fetch-llm-models smollm2
[ -f $m.Q4_0.gguf ] || "$py" benches/llm/requant.py $m.Q4_1.gguf $m.Q4_0.gguf Q4_0
echo "== $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD) threads $threads"; uptime
ceiling() { "$target/release/examples/batched_decode" $m.Q4_1.gguf,$m.Q4_0.gguf "$threads" 16 2; }
ceiling
for q in Q4_1 Q4_0; do
    echo "== server bench $q"
    "$py" benches/llm/bench.py "$target/release/twin" $m.$q.gguf --threads "$threads" \
        --slots 8 --tokens 64 --conc 1,4,8 --reps 2 --modes staggered --per-client 3 \
        --variant "twin-all=--decode-with-prefill 4294967295" --json "/tmp/llm-quiet-$q.json"
done
ceiling
uptime
