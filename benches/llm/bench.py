"""Throughput and time to first token of `twin llm serve` beside llama.cpp's own server
(the `xllamacpp` wheel embeds it), in the same run, on the same GGUF and thread count.

Both servers get the same OpenAI `/v1/completions` streaming requests: a fixed prompt,
temperature 0, `ignore_eos`, N generated tokens. Per request: time to first token (TTFT),
decode rate after the first token as the client sees it, and the server's own decode rate
from its `timings` (llama.cpp's server reports them; Twin reports the same fields), which
leaves out HTTP, SSE and client time. Per concurrency level C, two arrival modes:

- burst: C requests sent at once, aggregate tokens/s over their wall time;
- staggered: C closed-loop clients, each starting at a random offset within one
  single-stream request time, then sending PER_CLIENT requests one after another, each
  after a random think time (exponential, mean `--think` × one single-stream request time)
  and each asking for a random number of tokens (uniform in [N/2, 3N/2], mean N). Random
  lengths and think times keep the clients from synchronising: with fixed lengths, clients
  whose requests share a step finish on the same step and arrive together again, which
  turns staggered arrivals back into bursts. About C requests are in flight; both servers
  get the same offsets, lengths and think times. TTFT statistics leave out each client's
  first request (the ramp-up) and so describe the steady state.

Twin's streamed `timings` split its time to first token (step in progress at arrival, wait
for a slot, decode steps carrying the prompt, steps without it, server handler time); the
report prints that split, averaged over all requests and over the slowest tenth. The gaps
between a stream's successive tokens as the client sees them give the inter-token latency
(p50/p99 over all gaps of all requests): what the running streams pay for a scheduling rule.

Both servers are started first and stay up; every (pass, mode, C) runs Twin and llama.cpp
back to back, alternating which goes first, so that load swings on a shared machine hit
both. Only 127.0.0.1 is contacted; the run is bounded.

Usage: python bench.py TWIN_BINARY MODEL.gguf [--threads 2] [--slots 4] [--tokens 128]
                       [--conc 1,4] [--reps 3] [--modes burst,staggered] [--per-client 3]
                       [--think 0.1] [--prefill-chunk N] [--baseline OLD_TWIN_BINARY]
                       [--variant NAME=TWIN_SERVE_ARGS]... [--steady C:N,...] [--json FILE]
With --json every request's send time, TTFT and split are kept (per_request) for
benches/llm/ttft_tail.py. TTFT p50/p95/p99/max are over the steady requests of all passes.
Needs: pip install xllamacpp (llama.cpp reference); stdlib only otherwise.
"""
import argparse
import http.client
import json
import random
import re
import statistics
import subprocess
import threading
import time

PROMPT = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
          "Face<|im_end|>\n<|im_start|>user\nExplain in a few sentences why the sky is blue, then "
          "list three reasons to write servers in Rust.<|im_end|>\n<|im_start|>assistant\n")


COUNTER = iter(range(1 << 30))


def one_request(host, port, tokens, out, i, steady=True):
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
    first, n, usage, timings, stamps = None, 0, None, None, []
    for raw in r:
        line = raw.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        ev = json.loads(line[6:])
        if ev.get("usage"):
            usage = ev["usage"]
        if ev.get("timings"):
            timings = ev["timings"]
        for ch in ev.get("choices", []):
            if ch.get("text"):
                n += 1
                stamps.append(time.perf_counter())
                if first is None:
                    first = time.perf_counter()
    t1 = time.perf_counter()
    c.close()
    generated = usage["completion_tokens"] if usage else n
    server_tps = 0.0
    if timings and timings.get("predicted_ms", 0) > 0:
        # Both servers count the first token in predicted_n; its interval is not in the time.
        server_tps = (timings["predicted_n"] - 1) * 1e3 / timings["predicted_ms"]
    out[i] = {"ttft": first - t0, "total": t1 - t0, "tokens": generated, "sent": t0,
              "decode_tps": (generated - 1) / (t1 - first) if t1 > first else 0.0,
              "server_tps": server_tps, "timings": timings or {}, "steady": steady,
              "gaps": [b - a for a, b in zip(stamps, stamps[1:])]}


def run_level(host, port, tokens, conc):
    out = [None] * conc
    threads = [threading.Thread(target=one_request, args=(host, port, tokens, out, i))
               for i in range(conc)]
    return summarise(out, run_threads(threads))


def run_threads(threads):
    """Starts and joins the threads; returns the wall time in seconds."""
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def run_staggered(host, port, tokens, conc, per_client, spread, think, seed):
    """C closed-loop clients with random start offsets in [0, spread) seconds, random
    lengths and exponential think times (mean `think` seconds), all drawn from `seed`."""
    out = [None] * (conc * per_client)
    plans = []
    for c in range(conc):
        rng = random.Random(seed * 1000 + c)
        plans.append((rng.uniform(0, spread),
                      [(rng.randint(max(1, tokens // 2), tokens * 3 // 2),
                        rng.expovariate(1 / think) if think > 0 else 0.0)
                       for _ in range(per_client)]))

    def client(c):
        offset, reqs = plans[c]
        time.sleep(offset)
        for k, (n, pause) in enumerate(reqs):
            if k:
                time.sleep(pause)
            one_request(host, port, n, out, c * per_client + k, steady=k > 0)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(conc)]
    return summarise(out, run_threads(threads))


def summarise(out, wall):
    steady = [o for o in out if o["steady"]] or out
    start = min(o["sent"] for o in out)
    # Every request (steady or not): when it was sent (s from the cell's first request), its
    # time to first token and Twin's split of it, for benches/llm/ttft_tail.py.
    reqs = [{"sent_s": o["sent"] - start, "ttft_ms": o["ttft"] * 1e3, "steady": o["steady"],
             "split": split(o)} for o in out]
    return {"requests": reqs,"aggregate_tps": sum(o["tokens"] for o in out) / wall,
            "ttfts": [o["ttft"] for o in steady], "decode_tps": [o["decode_tps"] for o in out],
            "server_tps": [o["server_tps"] for o in out],
            "gaps": [g for o in out for g in o["gaps"]],
            "splits": [split(o) for o in steady]}


# Time-to-first-token parts (ms): client TTFT, then Twin's own split of it.
PARTS = ["ttft", "http", "step_wait", "slot_wait", "prefill_decode", "prefill_skipped",
         "other", "prefill_steps", "prompt_ms"]


def split(o):
    t = o["timings"]
    r = {"ttft": o["ttft"] * 1e3, "prompt_ms": t.get("prompt_ms", 0.0)}
    if "server_ttft_ms" in t:
        queued, prompt = t["queued_ms"], t["prompt_ms"]
        r.update(http=r["ttft"] - queued - prompt, step_wait=t["step_wait_ms"],
                 slot_wait=queued - t["step_wait_ms"], prefill_decode=t["prefill_decode_ms"],
                 prefill_skipped=t["prefill_skipped_ms"],
                 other=prompt - t["prefill_decode_ms"] - t["prefill_skipped_ms"],
                 prefill_steps=t["prefill_steps"])
    return r


def report_split(name, mode, conc, levels):
    """Mean TTFT parts over all requests and over the slowest tenth."""
    rows = sorted((s for l in levels for s in l["splits"]), key=lambda s: s["ttft"])
    if not rows:
        return {}
    tail = rows[-max(1, len(rows) // 10):]
    res = {}
    for label, sel in (("all", rows), ("slowest 10%", tail)):
        parts = {k: statistics.mean(s.get(k, 0.0) for s in sel) for k in PARTS
                 if all(k in s for s in sel)}
        res[label] = parts
        text = "  ".join(f"{k} {v:.1f}" for k, v in parts.items())
        print(f"  {name:10s} {mode:9s} C={conc:2d} TTFT split, {label} (ms): {text}", flush=True)
    return res


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def report(name, mode, conc, levels):
    agg = statistics.median(l["aggregate_tps"] for l in levels)
    ttfts = [t for l in levels for t in l["ttfts"]]
    dec = statistics.median(d for l in levels for d in l["decode_tps"])
    srv = statistics.median(d for l in levels for d in l["server_tps"])
    gaps = [g for l in levels for g in l["gaps"]] or [0.0]
    row = {"server": name, "mode": mode, "conc": conc, "aggregate_tps": agg,
           "decode_tps": dec, "server_decode_tps": srv,
           "ttft_p50_ms": pct(ttfts, 0.5) * 1e3, "ttft_p95_ms": pct(ttfts, 0.95) * 1e3,
           "ttft_p99_ms": pct(ttfts, 0.99) * 1e3, "ttft_max_ms": max(ttfts) * 1e3,
           "requests": len(ttfts), "itl_p50_ms": pct(gaps, 0.5) * 1e3,
           "itl_p99_ms": pct(gaps, 0.99) * 1e3}
    print(f"{name:10s} {mode:9s} C={conc:2d}  aggregate {agg:7.1f} tok/s  per-stream decode "
          f"{dec:6.1f} (server {srv:6.1f}) tok/s  TTFT p50 {row['ttft_p50_ms']:7.1f} ms  "
          f"p95 {row['ttft_p95_ms']:7.1f} p99 {row['ttft_p99_ms']:7.1f} max "
          f"{row['ttft_max_ms']:7.1f} ms  token gap p50 {row['itl_p50_ms']:6.1f} "
          f"p99 {row['itl_p99_ms']:6.1f} ms  n={len(ttfts)}", flush=True)
    return row


def ratios(rows):
    """The issue-6 ratios: each server's aggregate at C streams over its own C = 1, its p99
    TTFT over its own C = 1 p99, and its aggregate over llama.cpp's at the same C."""
    by = {(r["server"], r["mode"], r["conc"]): r for r in rows}
    for (name, mode, conc), r in by.items():
        one, peer = by.get((name, mode, 1)), by.get(("llama.cpp", mode, conc))
        if not one or conc == 1:
            continue
        agg = r["aggregate_tps"] / one["aggregate_tps"]
        p95 = r["ttft_p95_ms"] / one["ttft_p95_ms"]
        p99 = r["ttft_p99_ms"] / one["ttft_p99_ms"]
        text = (f"{name:10s} {mode:9s} C={conc:2d}: aggregate {agg:.2f}x own C=1, "
                f"p99 TTFT {p99:.2f}x own C=1 p99 (p95 {p95:.2f}x own C=1 p95)")
        if peer and name != "llama.cpp":
            text += f", aggregate {r['aggregate_tps'] / peer['aggregate_tps']:.2f}x llama.cpp"
        print(text, flush=True)


def start_twin(args, binary, extra=()):
    p = subprocess.Popen([binary, "llm", "serve", "--model", args.model, "--port", "0",
                          "--slots", str(args.slots), "--ctx", "1024", "--threads",
                          str(args.threads), "--prefill-chunk", str(args.prefill_chunk),
                          "--no-access-log", *extra],
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
    ap.add_argument("--reps", type=int, default=3, help="passes over every mode and C")
    ap.add_argument("--modes", type=lambda s: s.split(","), default=["burst"])
    ap.add_argument("--per-client", type=int, default=3)
    ap.add_argument("--steady", type=lambda s: dict(kv.split(":") for kv in s.split(",")),
                    default={}, help="C:N,…: at least N steady requests per pass at "
                    "C streams (each client then sends ceil(N / C) + 1), e.g. 1:8,8:48")
    ap.add_argument("--think", type=float, default=0.1,
                    help="mean think time, in single-stream request times (staggered)")
    ap.add_argument("--prefill-chunk", type=int, default=128)
    ap.add_argument("--json", help="write every row here")
    ap.add_argument("--baseline", help="a second twin binary (an older build) in the same run")
    ap.add_argument("--variant", action="append", default=[],
                    help="NAME=ARGS: another instance of the twin binary with extra serve "
                         "arguments, e.g. 'prio=--decode-with-prefill 0' (repeatable)")
    args = ap.parse_args()

    procs = [start_twin(args, args.twin)]
    if args.baseline:
        procs.append(start_twin(args, args.baseline))
    variants = [v.split("=", 1) for v in args.variant]
    for _, extra in variants:
        procs.append(start_twin(args, args.twin, extra.split()))
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
    llama_port = int(server.listening_address.rsplit(":", 1)[1])
    servers = [("twin", procs[0][1]), ("llama.cpp", llama_port)]
    if args.baseline:
        servers.append(("twin-base", procs[1][1]))
    for (name, _), (_, port) in zip(variants, procs[-len(variants):] if variants else []):
        servers.append((name, port))
    try:
        spread = {}
        for name, port in servers:
            run_level("127.0.0.1", port, 8, 1)  # warm-up
            spread[name] = run_level("127.0.0.1", port, args.tokens, 1)
        # One single-stream request time (the slower server's) spreads staggered starts.
        single = max(args.tokens / s["aggregate_tps"] for s in spread.values())
        results = {}
        for rep in range(args.reps):
            # Every server goes first in turn (with two, the order alternates).
            order = servers[rep % len(servers):] + servers[:rep % len(servers)]
            for mode in args.modes:
                for conc in args.conc:
                    seed = 7 + 100 * rep + conc
                    for name, port in order:
                        if mode == "burst":
                            r = run_level("127.0.0.1", port, args.tokens, conc)
                        else:
                            want = int(args.steady.get(str(conc), 0))
                            per_client = max(args.per_client, -(-want // conc) + 1)
                            r = run_staggered("127.0.0.1", port, args.tokens, conc,
                                              per_client, single, args.think * single,
                                              seed)
                        results.setdefault((name, mode, conc), []).append(r)
                        print(f"  pass {rep + 1} {name} {mode} C={conc}: "
                              f"{r['aggregate_tps']:.1f} tok/s", flush=True)
        rows = []
        for mode in args.modes:
            for conc in args.conc:
                for name, _ in servers:
                    row = report(name, mode, conc, results[(name, mode, conc)])
                    row["ttft_split_ms"] = report_split(name, mode, conc,
                                                        results[(name, mode, conc)])
                    row["per_request"] = [q for lv in results[(name, mode, conc)]
                                          for q in lv["requests"]]
                    rows.append(row)
        ratios(rows)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"args": vars(args), "rows": rows}, f, indent=1)
    finally:
        for proc, _ in procs:
            proc.terminate()
            proc.wait(timeout=30)
        del server


if __name__ == "__main__":
    main()
