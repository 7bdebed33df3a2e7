#!/usr/bin/env python3
"""Paired comparison: ns-3 and Twin on the same movement files
(results/paired-ns3.jsonl, results/paired-twin.jsonl from run_paired.sh).
Per (protocol, trace): PDR and mean delay of both; then the mean paired
difference with a 95 % confidence interval (Student t on the differences).
Writes results/paired.md. Standard library only."""
import json
import math
import statistics
from pathlib import Path

RES = Path(__file__).resolve().parent / "results"
T95 = {9: 2.262, 8: 2.306, 7: 2.365, 6: 2.447, 5: 2.571, 4: 2.776, 3: 3.182, 2: 4.303, 1: 12.706}


def load(name):
    return [json.loads(l) for l in (RES / name).read_text().splitlines() if l.strip()]


def key(r):
    return (r["protocol"].upper(), Path(r["trace"]).name)


def diff_ci(d):
    m = statistics.fmean(d)
    h = T95.get(len(d) - 1, 1.96) * statistics.stdev(d) / math.sqrt(len(d)) if len(d) > 1 else float("nan")
    return m, h


def main():
    a = {key(r): r for r in load("paired-ns3.jsonl")}
    b = {key(r): r for r in load("paired-twin.jsonl")}
    md = ["| routing | movement file | ns-3 PDR | Twin PDR | ns-3 delay ms | Twin delay ms | ns-3 ctrl pkts | Twin ctrl pkts |",
          "|---|---|---|---|---|---|---|---|"]
    summary = ["", "| routing | runs | mean PDR ns-3 | mean PDR Twin | PDR diff (Twin − ns-3) ± 95 % CI | mean delay ns-3 | mean delay Twin | delay ratio Twin/ns-3 ± 95 % CI |",
               "|---|---|---|---|---|---|---|---|"]
    for proto in ("AODV", "OLSR"):
        ks = sorted((k for k in a if k[0] == proto and k in b), key=lambda k: int(k[1].split("-")[-1].split(".")[0]))
        if not ks:
            continue
        for k in ks:
            x, y = a[k], b[k]
            md.append(f"| {proto} | {k[1]} | {x['pdr_nominal']:.3f} | {y['pdr_nominal']:.3f} | {x['mean_delay_ms']:.1f} | "
                      f"{y['mean_delay_ms']:.1f} | {x['control_pkts']} | {y['control_pkts']} |")
        dp = [b[k]["pdr_nominal"] - a[k]["pdr_nominal"] for k in ks]
        rd = [b[k]["mean_delay_ms"] / a[k]["mean_delay_ms"] for k in ks if a[k]["mean_delay_ms"] > 0]
        mp, hp = diff_ci(dp)
        mr, hr = diff_ci(rd)
        summary.append(f"| {proto} | {len(ks)} | {statistics.fmean(a[k]['pdr_nominal'] for k in ks):.3f} | "
                       f"{statistics.fmean(b[k]['pdr_nominal'] for k in ks):.3f} | {mp:+.3f} ± {hp:.3f} | "
                       f"{statistics.fmean(a[k]['mean_delay_ms'] for k in ks):.1f} ms | "
                       f"{statistics.fmean(b[k]['mean_delay_ms'] for k in ks):.1f} ms | {mr:.2f} ± {hr:.2f} |")
    text = "\n".join(md + summary) + "\n"
    (RES / "paired.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
