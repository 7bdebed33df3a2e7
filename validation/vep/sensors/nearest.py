#!/usr/bin/env python3
"""Per true EZ region of the tvb-data SEEG rows: distance to the nearest contact
and whether the fit found it (standard library only).

Usage: nearest.py RESULTS_JSON TVB_DATA_DIR
(TVB_DATA_DIR holds connectivity_76.zip, seeg_588.txt, seeg_39.txt.bz2, as
fetched by scripts/fetch-tvb-data). Prints a Markdown table and a summary of
recall by distance band.
"""
import bz2
import json
import math
import sys
import zipfile
from pathlib import Path


def rows(text):
    return [l.split() for l in text.splitlines() if l.strip()]


def main():
    results, tvb = json.load(open(sys.argv[1])), Path(sys.argv[2])
    z = zipfile.ZipFile(tvb / "connectivity_76.zip")
    cen = rows(z.read(next(n for n in z.namelist() if n.endswith("centres.txt"))).decode())
    labels = [r[0] for r in cen]
    centres = [[float(v) for v in r[1:4]] for r in cen]
    files = {"seeg_588": tvb / "seeg_588.txt", "seeg_39": tvb / "seeg_39.txt.bz2"}
    sensors = {}
    for k, f in files.items():
        raw = f.read_bytes()
        text = (bz2.decompress(raw) if f.suffix == ".bz2" else raw).decode()
        sensors[k] = [[float(v) for v in r[1:4]] for r in rows(text)]
    print("| condition | seed | EZ region | nearest contact [mm] | found |")
    print("|---|---|---|---|---|")
    bands = {}
    for c in results["cases"]:
        key = next((k for k in sensors if k in c["condition"]), None)
        if key is None:
            continue
        for r in c["ez_true"]:
            d = min(math.dist(p, centres[r]) for p in sensors[key])
            found = r in c["ez_fit"]
            band = "≤ 5 mm" if d <= 5 else "5–10 mm" if d <= 10 else "> 10 mm"
            b = bands.setdefault((key, band), [0, 0])
            b[0] += found
            b[1] += 1
            print(f"| {c['condition']} | {c['seed']} | {r} ({labels[r]}) | {d:.1f} | {'yes' if found else 'no'} |")
    print("\nRecall by distance from the EZ centre to the nearest contact:\n")
    print("| sensors | band | found / true EZ |")
    print("|---|---|---|")
    for (key, band), (f, n) in sorted(bands.items()):
        print(f"| {key} | {band} | {f} / {n} |")


if __name__ == "__main__":
    main()
