"""A queueing model of bench.py's staggered 8-stream cell, for reading its p99 time to first
token: how large the p99 of a cell of W requests is in steady state, and how much it swings
from cell to cell, under each prompt-scheduling rule of `twin_llm::plan` (the same rules as
the Rust simulated engine in plan.rs's tests, with the bench's parameters).

Model: C closed-loop clients; each sends a PROMPT-token prompt, generates uniform
[N/2, 3N/2] tokens (one per step), thinks an exponential time (mean THINK ms) and sends
again. One engine runs one step at a time; a step with p prompt tokens and d generating
tokens takes T0 + p*CP + d*CD ms. Defaults are SmolLM2 Q4_1 at 2 threads on the quiet
VM (BENCHMARKS.md, LLM rounds 6-7): a lone 76-token prefill step 233 ms, decode steps
11 / 26.5 / 43.5 ms at 1 / 4 / 8 sequences. Rules: prefill priority (a prompt step
carries no generating tokens) or every sequence in every step; all waiting prompts in
the next step or one per step (oldest first). TTFT excludes each client's first request.

Usage: python ttft_sim.py [REQUESTS_PER_CLIENT] [SEEDS] [T0,CP,CD]   (default 200, 5, 5,3,4.8)
(1 thread on the same VM: about 5,5.2,12 — a lone prefill 400 ms, decode 17 ms at S = 1.)
Prints per rule: TTFT quantiles over all requests (in lone-prefill steps), and the median
and 10-90 % range of the p99 over consecutive windows of 32 and 96 requests (the cell
sizes of the round-6 and round-7 quiet runs), with the share of windows at or below 2.0.
"""
import random
import statistics
import sys

T0, CP, CD, PROMPT, TOKENS, THINK, CLIENTS = 5.0, 3.0, 4.8, 76, 64, 100.0, 8


def simulate(priority, per_step, per_client, seed):
    """TTFTs in ms, in the order the first tokens came, and the aggregate tokens/s."""
    rng = random.Random(seed)
    next_at = [rng.uniform(0, 1000) for _ in range(CLIENTS)]
    sent, slots, now, order, ttfts, tokens = [0] * CLIENTS, [None] * CLIENTS, 0.0, 0, [], 0
    while True:
        for c in range(CLIENTS):
            if sent[c] < per_client and next_at[c] <= now and slots[c] is None:
                order += 1
                slots[c] = {"left": PROMPT, "pending": False, "order": order,
                            "arrived": next_at[c], "generated": 0,
                            "target": rng.randint(TOKENS // 2, TOKENS * 3 // 2)}
                sent[c] += 1
        waiting = sorted((s["order"], i) for i, s in enumerate(slots)
                         if s and not s["pending"] and s["left"] > 0)[:per_step]
        generating = [i for i, s in enumerate(slots) if s and s["pending"]]
        if not waiting and not generating:
            later = [next_at[c] for c in range(CLIENTS) if sent[c] < per_client]
            if not later:
                break
            now = max(now, min(later))
            continue
        if waiting and priority:
            generating = []
        now += T0 + sum(slots[i]["left"] for _, i in waiting) * CP + len(generating) * CD
        for _, i in waiting:
            s = slots[i]
            s.update(left=0, pending=True, generated=1)
            if sent[i] > 1:
                ttfts.append(now - s["arrived"])
        for i in generating:
            slots[i]["generated"] += 1
        for i, s in enumerate(slots):
            if s and s["generated"] >= s["target"]:
                tokens += s["target"]
                slots[i] = None
                next_at[i] = now + rng.expovariate(1 / THINK)
    return ttfts, tokens * 1e3 / now


def quantile(xs, q):
    xs = sorted(xs)
    return xs[round(q * (len(xs) - 1))]


def main():
    per_client = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    if len(sys.argv) > 3:
        global T0, CP, CD
        T0, CP, CD = (float(x) for x in sys.argv[3].split(","))
    lone = T0 + PROMPT * CP
    for name, priority, per_step in [("prefill priority, all waiting prompts", True, 1 << 30),
                                     ("prefill priority, one prompt per step", True, 1),
                                     ("every sequence in every step, all prompts", False, 1 << 30),
                                     ("every sequence in every step, one prompt", False, 1)]:
        runs = [simulate(priority, per_step, per_client, s) for s in range(seeds)]
        every = [t / lone for r, _ in runs for t in r]
        tps = statistics.mean(x for _, x in runs)
        print(f"{name}: {len(every)} requests, {tps:.0f} tok/s; TTFT / lone prefill step: "
              + "  ".join(f"p{int(q * 100)} {quantile(every, q):.2f}"
                          for q in (0.5, 0.95, 0.99)) + f"  max {max(every):.2f}")
        for w in (32, 96):
            p99s = sorted(quantile(r[k:k + w], 0.99) / lone for r, _ in runs
                          for k in range(0, len(r) - w + 1, w))
            low = sum(x <= 2.0 for x in p99s) / len(p99s)
            print(f"   p99 of {w}-request windows ({len(p99s)}): median "
                  f"{statistics.median(p99s):.2f}, 10-90 % {quantile(p99s, 0.1):.2f}-"
                  f"{quantile(p99s, 0.9):.2f}, at or below 2.0 in {low:.0%}")


if __name__ == "__main__":
    main()
