#!/usr/bin/env bash
# One quiet-window run for issue 6's batching targets (BENCHMARKS.md, "Local model service",
# round 7): the engine's own batching ceiling (examples/batched_decode, S = 1/2/4/8, the
# SmolLM2 Q4_1 file and its Q4_0 re-quantisation, repacked for batched GEMM), then the
# servers at 1/4/8 staggered streams on the Q4_1 file: Twin (defaults: prefill priority,
# one waiting prompt per step), Twin with every waiting prompt in the next step (the rule
# before round 7, `--prompts-per-step 4294967295`, "twin-shared") and llama.cpp's server,
# two passes in alternating order, with enough requests per cell for a p99 that is not
# the maximum (steady requests over both passes: 16 at C = 1 and C = 4, 96 at C = 8;
# p50/p95/p99/max printed), then what made the slowest 5 % at C = 8 slow
# (benches/llm/ttft_tail.py), then the ceiling again. Prints `uptime` before and after.
# About 7 minutes on an idle 2-core VM (plus the model download and Q4_0 re-quantisation,
# about 30 s, the first time). The Q4_0 server cells of round 6 are left out to make room
# for the requests.
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
json=${QUIET_JSON:-/tmp/llm-quiet-Q4_1.json}
[ -f $m.Q4_1.gguf ] || scripts/fetch-llm-models smollm2
[ -f $m.Q4_0.gguf ] || "$py" benches/llm/requant.py $m.Q4_1.gguf $m.Q4_0.gguf Q4_0
echo "== $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD) threads $threads"; uptime
ceiling() { "$target/release/examples/batched_decode" $m.Q4_1.gguf,$m.Q4_0.gguf "$threads" 16 2; }
ceiling
echo "== server bench Q4_1"
"$py" benches/llm/bench.py "$target/release/twin" $m.Q4_1.gguf --threads "$threads" \
    --slots 8 --tokens 64 --conc 1,4,8 --reps 2 --modes staggered --per-client 3 \
    --steady 1:8,8:48 --variant "twin-shared=--prompts-per-step 4294967295" --json "$json"
"$py" benches/llm/ttft_tail.py "$json" 8
ceiling
uptime
