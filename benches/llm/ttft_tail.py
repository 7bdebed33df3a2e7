"""What made the slowest requests slow: for each Twin cell at C streams in a bench.py JSON
(`--json`), the steady requests at or above the p95 time to first token, with Twin's split
of it (step in progress at arrival, prefill steps and their decode time, steps skipped) and
the number of other prompts sent within one single-stream TTFT before it and until its first
token (`near`: the prompts it may have collided with).

Usage: python ttft_tail.py RUN.json [C]   (default C = 8)
"""
import json
import statistics
import sys

d = json.load(open(sys.argv[1]))
conc = int(sys.argv[2]) if len(sys.argv) > 2 else 8
rows = {(r["server"], r["conc"]): r for r in d["rows"]}
for (name, c), r in sorted(rows.items()):
    if c != conc or "per_request" not in r:
        continue
    one = rows.get((name, 1))
    p1 = statistics.median(q["ttft_ms"] for q in one["per_request"]) if one else 250.0
    reqs = r["per_request"]
    steady = sorted((q for q in reqs if q["steady"]), key=lambda q: q["ttft_ms"])
    cut = steady[min(len(steady) - 1, int(round(0.95 * (len(steady) - 1))))]["ttft_ms"]
    print(f"{name} C={c}: {len(steady)} steady requests, single-stream TTFT p50 {p1:.0f} ms, "
          f"p95 {cut:.0f} ms ({cut / p1:.2f}x)")
    print("   TTFT ms  x single  near  step_wait  prefill_decode  steps  skipped")
    for q in steady:
        if q["ttft_ms"] < cut:
            continue
        t0, t1 = q["sent_s"], q["sent_s"] + q["ttft_ms"] / 1e3
        near = sum(1 for o in reqs if o is not q and t0 - p1 / 1e3 <= o["sent_s"] <= t1)
        s = q["split"]
        print(f"  {q['ttft_ms']:8.0f}  {q['ttft_ms'] / p1:8.2f}  {near:4d}  "
              f"{s.get('step_wait', float('nan')):9.0f}  {s.get('prefill_decode', float('nan')):14.0f}"
              f"  {s.get('prefill_steps', 0):5.0f}  {s.get('prefill_skipped', float('nan')):7.0f}")
