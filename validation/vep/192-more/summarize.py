#!/usr/bin/env python3
"""Combines the 192-region rows of validation/vep/results.json (patients 0-7 of
each condition) with the per-patient lines of the extension runs in this folder
(log-*.txt: patients 8.. of the same conditions and seed scheme, written by
`study --patients 8..20` as each patient finishes) and prints the per-condition
table with the same columns as results.md. Centre groups (regions sharing one
centre) come from connectivity_192.zip's centres.txt, as in twin-vep's
`sensors::centre_groups`. Standard library only.

    python3 validation/vep/192-more/summarize.py > validation/vep/192-more/results.md
"""
import json
import pathlib
import re
import zipfile

here = pathlib.Path(__file__).resolve().parent
root = here.parents[2]
zpath = root / "crates/twin-brain/tests/data/tvb-data/connectivity_192.zip"
with zipfile.ZipFile(zpath) as z:
    name = next(n for n in z.namelist() if n.endswith("centres.txt"))
    rows = [l.split() for l in z.read(name).decode().splitlines() if l.strip()]
centres = [tuple(float(v) for v in r[1:4]) for r in rows]
group = []
for i, c in enumerate(centres):
    group.append(next(j for j in range(i + 1) if centres[j] == c))
shared = {g for g in group if group.count(g) > 1}


def own(r):
    return group[r] not in shared


cases = {}
old = json.loads((root / "validation/vep/results.json").read_text())
for c in old["cases"]:
    if c["condition"].startswith("192"):
        cases.setdefault(c["condition"], {})[c["seed"]] = (c["ez_true"], c["ez_fit"])
pat = re.compile(r"^(192, [^\n]*?)\s+seed\s+(\d+): true EZ \[([\d, ]*)\], fitted EZ \[([\d, ]*)\]")
for log in sorted(here.glob("log-*.txt")):
    for line in log.read_text().splitlines():
        m = pat.match(line)
        if m:
            ints = lambda s: [int(x) for x in s.replace(" ", "").split(",") if x]
            cases.setdefault(m.group(1).strip(), {})[int(m.group(2))] = (ints(m.group(3)), ints(m.group(4)))

print("| condition | patients | seeds | precision | recall | exact | EZ observable | recall (observable) | group P / R |")
print("|---|---|---|---|---|---|---|---|---|")
for cond, by_seed in cases.items():
    tp = npred = ntrue = exact = nobs = tpobs = 0
    gtpf = gf = gtpt = gt = 0
    for seed, (t, f) in sorted(by_seed.items()):
        hit = len(set(t) & set(f))
        tp += hit
        npred += len(f)
        ntrue += len(t)
        exact += hit == len(t) == len(f)
        obs = [r for r in t if own(r)]
        nobs += len(obs)
        tpobs += sum(r in f for r in obs)
        tg, fg = {group[r] for r in t}, {group[r] for r in f}
        gf += len(fg)
        gtpf += len(fg & tg)
        gt += len(tg)
        gtpt += len(tg & fg)
    r = lambda a, b: a / b if b else 0.0
    seeds = sorted(by_seed)
    print(
        f"| {cond} | {len(seeds)} | {seeds[0]}–{seeds[-1]} | {r(tp, npred):.2f} | {r(tp, ntrue):.2f} | {exact} | "
        f"{r(nobs, ntrue):.2f} | {r(tpobs, nobs):.2f} | {r(gtpf, gf):.2f} / {r(gtpt, gt):.2f} |"
    )
