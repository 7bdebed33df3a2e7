#!/usr/bin/env bash
# Builds benches/llm/quantize.c against the static llama.cpp of the release build in
# CARGO_TARGET_DIR (made by `cargo build --release -p twin-llm --features llama`), then runs it.
# Usage: benches/llm/quantize.sh IN.gguf OUT.gguf q4_0|iq4_nl|q4_k_s|q4_k_m|q8_0 [pure]
set -euo pipefail
here=$(dirname "$0")
target=${CARGO_TARGET_DIR:-target}
out=$(ls -d "$target"/release/build/llama-cpp-sys-2-*/out/lib/libllama.a | head -1)
out=${out%/lib/libllama.a}
bin="$target/release/twin-quantize"
if [ ! -x "$bin" ] || [ "$here/quantize.c" -nt "$bin" ]; then
    c++ -O2 -x c "$here/quantize.c" -x none -I"$out/include" -o "$bin" \
        -L"$out/lib" -L"$out/lib64" -lllama -lggml -lggml-cpu -lggml-base -fopenmp -lpthread
fi
exec "$bin" "$@"
