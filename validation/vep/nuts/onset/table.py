#!/usr/bin/env python3
"""Markdown rows from nuts_vs_map JSON files: python3 table.py FILE.json..."""
import json
import sys

print("| seed | true EZ | MAP EZ | NUTS EZ | max R-hat | min ESS | leapfrogs | divergent / draws | step | accept |")
print("|---|---|---|---|---|---|---|---|---|---|")
for f in sys.argv[1:]:
    d = json.load(open(f))
    n = d["chains"] * d["draws"]
    for p in d["patients"]:
        print(f"| {p['seed']} | {p['ez_true']} | {p['ez_map']} | {p['ez_nuts']} | {p['max_rhat']:.3f} "
              f"| {p['min_ess']:.0f} | {p['leapfrogs']} | {p['divergences']} / {n} "
              f"({100 * p['divergences'] / n:.2f} %) | {p['step_size']:.3f} | {p['accept']:.2f} |")
