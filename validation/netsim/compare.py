#!/usr/bin/env python3
"""Compares the ns-3 and Twin validation runs (results/ns3.jsonl, results/twin.jsonl).

For every (protocol, N) it reports, per simulator, the mean over runs and a
95 % confidence interval (Student t, n - 1 degrees of freedom) of: delivery
ratio against the nominal offered load, mean end-to-end delay (mean over
runs of each run's mean), throughput, routing overhead (control packets and
bytes sent at the IP layer, every hop counted), and checks the issue's
tolerances: |PDR difference| <= 0.05 and |delay difference| <= 25 % of
ns-3's. Writes results/summary.csv, results/summary.json and
results/summary.md. Standard library only.
"""
import json
import math
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RES = HERE / "results"

# Student t quantiles, two-sided 95 %, by degrees of freedom.
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365,
       8: 2.306, 9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 14: 2.145, 19: 2.093}

METRICS = [
    # (name, unit, ns-3 key, Twin key, scale)
    ("pdr", "", "pdr_nominal", "pdr_nominal", 1.0),
    ("delay_mean", "ms", "mean_delay_ms", "mean_delay_ms", 1.0),
    ("delay_p50", "ms", "delay_p50_ms", "delay_p50_ms", 1.0),
    ("throughput", "kb/s", "throughput_kbps", "throughput_kbps", 1.0),
    ("control_packets", "", "control_pkts", "control_pkts", 1.0),
    ("control_bytes", "kB", "control_bytes", "control_bytes", 1e-3),
]


# Control packets by message type (sent at the IP layer, every hop counted):
# (label, ns-3 extractor, Twin extractor); a None extractor = not counted.
AODV_TYPES = [
    ("RREQ", lambda r: r["control_by_type"].get("1", 0),
     lambda r: r["aodv"]["rreq_originated"] + r["aodv"]["rreq_forwarded"]),
    ("RREQ originated", lambda r: r.get("rreq_originated"), lambda r: r["aodv"]["rreq_originated"]),
    ("RREP", lambda r: r["control_by_type"].get("2", 0) - r["aodv_hello"] if "aodv_hello" in r else None,
     lambda r: r["aodv"]["rrep_generated"] + r["aodv"]["rrep_forwarded"]),
    ("HELLO", lambda r: r.get("aodv_hello"), lambda r: r["aodv"]["hello_sent"]),
    ("RERR", lambda r: r["control_by_type"].get("3", 0), lambda r: r["aodv"]["rerr_sent"]),
    ("RREP-ACK", lambda r: r["control_by_type"].get("4", 0), lambda r: r["aodv"].get("rrep_ack_sent")),
]
OLSR_TYPES = [
    ("HELLO", lambda r: r.get("olsr_hello"), lambda r: r["olsr"]["hello_sent"]),
    ("TC originated", lambda r: r.get("olsr_tc_originated"), lambda r: r["olsr"]["tc_originated"]),
    ("TC forwarded", lambda r: r.get("olsr_tc_forwarded"), lambda r: r["olsr"]["tc_forwarded"]),
    ("packets", lambda r: r["control_pkts"], lambda r: r["control_pkts"]),
]


def type_table(ns3, twin, groups):
    """Mean control messages per run by type, both simulators."""
    md = ["| routing | N | message | ns-3 runs | ns-3 mean | Twin mean | Twin / ns-3 |", "|---|---|---|---|---|---|---|"]
    for proto, n in groups:
        a = [r for r in ns3 if r["protocol"].upper() == proto and r["nodes"] == n]
        b = [r for r in twin if r["protocol"].upper() == proto and r["nodes"] == n]
        for label, fa, fb in (AODV_TYPES if proto == "AODV" else OLSR_TYPES):
            va = [v for v in map(fa, a) if v is not None]
            vb = [v for v in map(fb, b) if v is not None]
            if not va or not vb:
                continue
            ma, mb = statistics.fmean(va), statistics.fmean(vb)
            md.append(f"| {proto} | {n} | {label} | {len(va)} | {ma:,.0f} | {mb:,.0f} | {mb / ma if ma else float('nan'):.2f} |")
    return md


def load(path):
    rows = []
    for line in path.read_text().splitlines():
        if line.strip():
            rows.append(json.loads(line))
    return rows


def ci(values):
    """Mean and 95 % half-width."""
    n = len(values)
    m = statistics.fmean(values)
    if n < 2:
        return m, float("nan")
    t = T95.get(n - 1, 1.96)
    return m, t * statistics.stdev(values) / math.sqrt(n)


def t_sf(t, df):
    """Two-sided p-value of Student's t with `df` degrees of freedom
    (Simpson integration of the density; standard library only)."""
    t = abs(t)
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    f = lambda x: c * (1 + x * x / df) ** (-(df + 1) / 2)
    n = 2000
    h = t / n
    area = f(0) + f(t) + sum((4 if k % 2 else 2) * f(k * h) for k in range(1, n))
    return max(0.0, 1.0 - 2.0 * area * h / 3.0)


def welch(a, b):
    """Welch's t-test of equal means: p-value."""
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    if va + vb == 0:
        return 1.0
    t = (statistics.fmean(b) - statistics.fmean(a)) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    return t_sf(t, df)


def main():
    ns3 = load(RES / "ns3.jsonl")
    twin = load(RES / "twin.jsonl")
    for r in twin:  # as the ns-3 driver: FlowMonitor rx bytes (IP datagrams, 540 B) over 175 s
        r.setdefault("throughput_kbps", r["rx_pkts"] * 540 * 8 / 1000 / 175.0)
    groups = sorted({(r["protocol"].upper(), r["nodes"]) for r in ns3})
    out = []
    for proto, n in groups:
        a = [r for r in ns3 if r["protocol"].upper() == proto and r["nodes"] == n]
        b = [r for r in twin if r["protocol"].upper() == proto and r["nodes"] == n]
        if not a or not b:
            continue
        row = {"protocol": proto, "nodes": n, "runs_ns3": len(a), "runs_twin": len(b)}
        for name, unit, ka, kb, scale in METRICS:
            va = [r[ka] * scale for r in a if ka in r]
            vb = [r[kb] * scale for r in b if kb in r]
            if not va or not vb:
                continue
            row[name] = {"unit": unit, "ns3": ci(va), "twin": ci(vb),
                         "welch_p": welch(va, vb) if len(va) > 1 and len(vb) > 1 else None}
        pa, pb = row["pdr"]["ns3"][0], row["pdr"]["twin"][0]
        da, db = row["delay_mean"]["ns3"][0], row["delay_mean"]["twin"][0]
        row["pdr_diff"] = pb - pa
        row["delay_rel_diff"] = (db - da) / da if da else float("nan")
        row["pdr_ok"] = abs(pb - pa) <= 0.05
        row["delay_ok"] = abs(db - da) <= 0.25 * da
        out.append(row)
    (RES / "summary.json").write_text(json.dumps(out, indent=1) + "\n")
    lines = ["protocol,nodes,metric,unit,ns3_mean,ns3_ci95,twin_mean,twin_ci95,welch_p"]
    for row in out:
        for name, unit, *_ in METRICS:
            if name in row:
                (ma, ha), (mb, hb) = row[name]["ns3"], row[name]["twin"]
                lines.append(f"{row['protocol']},{row['nodes']},{name},{unit},{ma:.4g},{ha:.3g},{mb:.4g},{hb:.3g},"
                             f"{row[name]['welch_p']:.3f}")
    (RES / "summary.csv").write_text("\n".join(lines) + "\n")
    md = ["| routing | N | metric | ns-3 mean ± 95 % CI | Twin mean ± 95 % CI |", "|---|---|---|---|---|"]
    for row in out:
        for name, unit, *_ in METRICS:
            if name in row:
                (ma, ha), (mb, hb) = row[name]["ns3"], row[name]["twin"]
                u = f" {unit}" if unit else ""
                md.append(f"| {row['protocol']} | {row['nodes']} | {name} | {ma:.3g} ± {ha:.2g}{u} | {mb:.3g} ± {hb:.2g}{u} |")
    md.append("")
    md.append("| routing | N | PDR Twin − ns-3 | within ±0.05 | Welch p | delay (Twin − ns-3)/ns-3 | within ±25 % | Welch p |")
    md.append("|---|---|---|---|---|---|---|---|")
    for row in out:
        md.append(f"| {row['protocol']} | {row['nodes']} | {row['pdr_diff']:+.3f} | {'yes' if row['pdr_ok'] else 'no'} "
                  f"| {row['pdr']['welch_p']:.2f} "
                  f"| {100 * row['delay_rel_diff']:+.0f} % | {'yes' if row['delay_ok'] else 'no'} "
                  f"| {row['delay_mean']['welch_p']:.2f} |")
    md += ["", *type_table(ns3, twin, groups)]
    (RES / "summary.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
