#!/usr/bin/env python3
"""Summarises run_variants.sh output against ns-3 (results/ns3.jsonl).

Usage: variants.py PROTO N [T]  (reads results/variants-PROTO-N.jsonl, or
with T the shortened runs results/variants-PROTO-N-Ts.jsonl against the ns-3
lines of results/nN-Ts.jsonl; extra ns-3 runs in results/ns3-PROTO-N-runs*.jsonl
join ns-3's)
Prints a Markdown table, one row per variant and one for ns-3: runs,
delivery (mean ± 95 % CI, difference to ns-3 and Welch p), mean delay
(± CI, ratio to ns-3), control packets and the per-type counts of
compare.py, and Twin's held control messages and link breaks. Standard
library only.
"""
import statistics
import sys

from compare import AODV_TYPES, OLSR_TYPES, RES, ci, load, welch


def main():
    proto, n = sys.argv[1].upper(), int(sys.argv[2])
    suffix = f"-{sys.argv[3]}s" if len(sys.argv) > 3 else ""
    ns3_file = RES / (f"n{n}{suffix}.jsonl" if suffix else "ns3.jsonl")
    ns3 = [r for r in load(ns3_file) if r["sim"].startswith("ns-3") and r["protocol"].upper() == proto and r["nodes"] == n]
    if not suffix:
        # Extra ns-3 runs beyond the validation matrix (ns3-olsr-20-runs11-40.jsonl).
        for extra in sorted(RES.glob(f"ns3-{proto.lower()}-{n}-runs*.jsonl")):
            ns3 += load(extra)
    rows = load(RES / f"variants-{proto.lower()}-{n}{suffix}.jsonl")
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    types = AODV_TYPES if proto == "AODV" else OLSR_TYPES
    head = ["simulator / variant", "runs", "PDR", "PDR − ns-3 (p)", "mean delay ms", "delay / ns-3 (p)", "control pkts"]
    head += [t[0] for t in types]
    if proto == "AODV":
        head += ["held", "link breaks"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    a_pdr = [r["pdr_nominal"] for r in ns3]
    a_del = [r["mean_delay_ms"] for r in ns3]

    def line(name, rs, ext, twin):
        pdr = [r["pdr_nominal"] for r in rs]
        dl = [r["mean_delay_ms"] for r in rs]
        m, h = ci(pdr)
        md, hd = ci(dl)
        cells = [name, str(len(rs)), f"{m:.3f} ± {h:.3f}"]
        if twin:
            cells += [f"{m - statistics.fmean(a_pdr):+.3f} ({welch(a_pdr, pdr):.2f})",
                      f"{md:.1f} ± {hd:.1f}",
                      f"{md / statistics.fmean(a_del):.2f} ({welch(a_del, dl):.2f})"]
        else:
            cells += ["", f"{md:.1f} ± {hd:.1f}", ""]
        cells.append(f"{statistics.fmean(r['control_pkts'] for r in rs):,.0f}")
        for _, fa, fb in types:
            f = fb if twin else fa
            v = [x for x in map(f, rs) if x is not None]
            cells.append(f"{statistics.fmean(v):,.0f}" if v else "")
        if proto == "AODV":
            if twin:
                cells.append(f"{statistics.fmean(r['aodv']['control_held'] for r in rs):,.0f}")
                cells.append(f"{statistics.fmean(r['aodv']['link_breaks'] for r in rs):,.0f}")
            else:
                held = [sum(r["loopback_by_type"].get(k, 0) for k in "234") for r in rs if "loopback_by_type" in r]
                cells.append(f"{statistics.fmean(held):,.0f}" if held else "")
                cells.append("")
        print("| " + " | ".join(cells) + " |")

    line("ns-3", ns3, None, False)
    for v in variants:
        line(f"Twin {v}", [r for r in rows if r["variant"] == v], None, True)


if __name__ == "__main__":
    main()
