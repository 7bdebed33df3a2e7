"""Throughput and time to first token of `twin llm serve` beside llama.cpp's own server
(the `xllamacpp` wheel embeds it), in the same run, on the same GGUF and thread count.

Both servers get the same OpenAI `/v1/completions` streaming requests: a fixed prompt,
temperature 0, `ignore_eos`, N generated tokens. Per request: time to first token (TTFT) and
decode rate after the first token. Per concurrency level C: aggregate tokens/s over the wall
time of C simultaneous requests. Only 127.0.0.1 is contacted; the run is bounded.

Usage: python bench.py TWIN_BINARY MODEL.gguf [--threads 2] [--slots 4] [--tokens 128]
                       [--conc 1,4] [--reps 3]
Needs: pip install xllamacpp (llama.cpp reference); stdlib only otherwise.
"""
import argparse
import http.client
import json
import re
import statistics
import subprocess
import threading
import time

PROMPT = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
          "Face<|im_end|>\n<|im_start|>user\nExplain in a few sentences why the sky is blue, then "
          "list three reasons to write servers in Rust.<|im_end|>\n<|im_start|>assistant\n")


COUNTER = iter(range(1 << 30))


def one_request(host, port, tokens, out, i):
    # A unique first line: no prompt-prefix reuse in either server, every prompt is prefilled.
    prompt = f"Request {next(COUNTER)}.\n" + PROMPT
    body = json.dumps({"prompt": prompt, "max_tokens": tokens, "temperature": 0, "top_k": 1,
                       "ignore_eos": True, "stream": True,
                       "stream_options": {"include_usage": True}})
    c = http.client.HTTPConnection(host, port, timeout=300)
    t0 = time.perf_counter()
    c.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    assert r.status == 200, r.read()
    first, n, usage = None, 0, None
    for raw in r:
        line = raw.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        ev = json.loads(line[6:])
        if ev.get("usage"):
            usage = ev["usage"]
        for ch in ev.get("choices", []):
            if ch.get("text"):
                n += 1
                if first is None:
                    first = time.perf_counter()
    t1 = time.perf_counter()
    c.close()
    generated = usage["completion_tokens"] if usage else n
    out[i] = {"ttft": first - t0, "total": t1 - t0, "tokens": generated,
              "decode_tps": (generated - 1) / (t1 - first) if t1 > first else 0.0}


def run_level(host, port, tokens, conc):
    out = [None] * conc
    threads = [threading.Thread(target=one_request, args=(host, port, tokens, out, i))
               for i in range(conc)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {"aggregate_tps": sum(o["tokens"] for o in out) / wall,
            "ttfts": [o["ttft"] for o in out], "decode_tps": [o["decode_tps"] for o in out]}


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def bench(name, host, port, args):
    run_level(host, port, 8, 1)  # warm-up
    rows = []
    for conc in args.conc:
        levels = [run_level(host, port, args.tokens, conc) for _ in range(args.reps)]
        agg = statistics.median(l["aggregate_tps"] for l in levels)
        ttfts = [t for l in levels for t in l["ttfts"]]
        dec = statistics.median(d for l in levels for d in l["decode_tps"])
        rows.append((name, conc, agg, dec, pct(ttfts, 0.5) * 1e3, pct(ttfts, 0.99) * 1e3))
        print(f"{name:10s} C={conc:2d}  aggregate {agg:7.1f} tok/s  per-stream decode "
              f"{dec:6.1f} tok/s  TTFT p50 {rows[-1][4]:6.1f} ms  p99 {rows[-1][5]:6.1f} ms",
              flush=True)
    return rows


def start_twin(args):
    p = subprocess.Popen([args.twin, "llm", "serve", "--model", args.model, "--port", "0",
                          "--slots", str(args.slots), "--ctx", "1024", "--threads",
                          str(args.threads), "--no-access-log"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    assert m, line
    return p, int(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("twin")
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--slots", type=int, default=4)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--conc", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4])
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()

    proc, port = start_twin(args)
    try:
        bench("twin", "127.0.0.1", port, args)
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    import xllamacpp as xl
    p = xl.CommonParams()
    p.model.path = args.model
    p.n_parallel = args.slots
    p.n_ctx = 1024 * args.slots
    p.cpuparams.n_threads = args.threads
    p.cpuparams_batch.n_threads = args.threads
    p.port = 0
    p.verbosity = 0
    server = xl.Server(p)
    port = int(server.listening_address.rsplit(":", 1)[1])
    bench("llama.cpp", "127.0.0.1", port, args)
    del server


if __name__ == "__main__":
    main()
