#!/usr/bin/env python3
"""Precision / recall per condition from study logs (the example's progress
lines `COND seed S: true EZ [..], fitted EZ [..] (T s)`), so that a run cut
short by its timeout still counts the patients it finished.

usage: summarize.py [--only COND] LOG_OR_RESULTS_JSON...
(a results.json of the study contributes its `cases`.)
"""
import json
import re
import sys
from collections import OrderedDict

LINE = re.compile(r"^(.*?)\s+seed\s+(\d+): true EZ \[(.*?)\], fitted EZ \[(.*?)\] \(([\d.]+) s\)")


def ints(s):
    return [int(v) for v in s.split(",") if v.strip()]


rows = OrderedDict()
args = sys.argv[1:]
only = None
if args[:1] == ["--only"]:
    only, args = args[1].split(";"), args[2:]
for path in args:
    if path.endswith(".json"):
        for c in json.load(open(path))["cases"]:
            rows.setdefault(c["condition"], {})[c["seed"]] = (c["ez_true"], c["ez_fit"], c["seconds"])
        continue
    for line in open(path):
        m = LINE.match(line)
        if m:
            cond, seed, true, fit, secs = m.groups()
            rows.setdefault(cond.strip(), {})[int(seed)] = (ints(true), ints(fit), float(secs))

print("| condition | patients | seeds | precision | recall | exact | misses (seed: true → fitted) |")
print("|---|---|---|---|---|---|---|")
for cond, cases in rows.items():
    if only and cond not in only:
        continue
    tp = npred = ntrue = exact = 0
    misses = []
    for seed in sorted(cases):
        true, fit, _ = cases[seed]
        hit = len(set(true) & set(fit))
        tp += hit
        npred += len(fit)
        ntrue += len(true)
        if hit == len(true) == len(fit):
            exact += 1
        else:
            misses.append(f"{seed}: {true} → {fit}")
    p = tp / npred if npred else 0.0
    r = tp / ntrue if ntrue else 0.0
    seeds = f"{min(cases)}–{max(cases)}"
    print(f"| {cond} | {len(cases)} | {seeds} | {p:.2f} ({tp}/{npred}) | {r:.2f} ({tp}/{ntrue}) | {exact} | {'; '.join(misses) or '–'} |")
