#!/usr/bin/env python3
"""Can tvb-data give the 192-region connectome real per-region positions?

Issue 8 needs EZ recovery on `connectivity_192`, whose `centres.txt` puts 116
of the 192 regions (subcortical nuclei) on one placeholder centre, so a
distance-based SEEG gain cannot tell them apart. This script checks the only
other geometric source tvb-data 3.0.0 ships for that parcellation: the cortical
surface `surfaceData/cortex_16384.zip` with `regionMapping/regionMapping_16k_192.txt`
(one region index per surface vertex). Where a region has mapped vertices, the
mean vertex position is a real centre; the script reports which regions have
any, and compares the surface-derived centres with `centres.txt`.

Usage: geometry_192.py [TVB_DATA_DIR]   (the `tvb_data` package folder; without
it the tvb-data 3.0.0 wheel is downloaded with pip into a temporary folder).
Standard library only. Prints a Markdown report (committed as geometry_192.md).
"""
import io
import math
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path


def tvb_data_dir(tmp):
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
         "--dest", tmp, "tvb-data==3.0.0"],
        check=True,
    )
    wheel = next(Path(tmp).glob("*.whl"))
    zipfile.ZipFile(wheel).extractall(Path(tmp) / "x")
    return Path(tmp) / "x" / "tvb_data"


def rows(text):
    return [line.split() for line in text.splitlines() if line.strip()]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        d = tvb_data_dir(tmp)
        conn = zipfile.ZipFile(d / "connectivity" / "connectivity_192.zip")
        member = lambda name: next(n for n in conn.namelist() if n.endswith(name))
        cen = rows(conn.read(member("centres.txt")).decode())
        labels = [r[0] for r in cen]
        centres = [tuple(float(v) for v in r[1:4]) for r in cen]
        cortical = [int(float(r[0])) for r in rows(conn.read(member("cortical.txt")).decode())]
        mapping = [int(float(v)) for v in
                   (d / "regionMapping" / "regionMapping_16k_192.txt").read_text().split()]
        surf = zipfile.ZipFile(d / "surfaceData" / "cortex_16384.zip")
        verts = [tuple(float(v) for v in r[:3]) for r in rows(surf.read("vertices.txt").decode())]
        # Every surface tvb-data ships, with its vertex count.
        surfaces = {}
        for z in sorted((d / "surfaceData").glob("*.zip")):
            zz = zipfile.ZipFile(z)
            vname = next((n for n in zz.namelist() if n.endswith("vertices.txt")), None)
            if vname:
                surfaces[z.name] = len(rows(zz.read(vname).decode()))

    n = len(labels)
    shared = {}
    for i, c in enumerate(centres):
        shared.setdefault(c, []).append(i)
    placeholder = max(shared.values(), key=len)
    on_surface = {}
    for v, r in enumerate(mapping[: len(verts)]):
        on_surface.setdefault(r, []).append(verts[v])
    extra = mapping[len(verts):]
    print("# connectivity_192: real positions from tvb-data's surface?\n")
    print(f"tvb-data 3.0.0, `python3 validation/vep/geometry_192.py`.\n")
    print(f"* regions: {n}; cortical (`cortical.txt` = 1): {sum(cortical)}")
    print(f"* regions sharing the placeholder centre {centres[placeholder[0]]}: "
          f"{len(placeholder)} (all subcortical: "
          f"{all(cortical[i] == 0 for i in placeholder)})")
    print(f"* surfaces shipped (vertices): "
          + ", ".join(f"`{k}` {v}" for k, v in surfaces.items()))
    print(f"* `regionMapping_16k_192.txt`: {len(mapping)} entries; `cortex_16384` has "
          f"{len(verts)} vertices, so {len(extra)} entries refer to vertices of a "
          f"surface tvb-data does not ship")
    print(f"* regions with vertices on `cortex_16384`: {len(on_surface)}, all cortical: "
          f"{all(cortical[r] == 1 for r in on_surface)}")
    print(f"* placeholder-centre regions with any vertex on `cortex_16384`: "
          f"{sum(1 for i in placeholder if i in on_surface)}")
    one_each = sorted(extra) == sorted(placeholder)
    print(f"* the {len(extra)} extra entries name each placeholder-centre region exactly "
          f"once: {one_each} (one point per nucleus, whose position is not shipped)\n")
    dists = []
    for r, vs in on_surface.items():
        m = tuple(sum(v[k] for v in vs) / len(vs) for k in range(3))
        dists.append(math.dist(m, centres[r]))
    dists.sort()
    print(f"Surface-derived centres (mean of mapped vertices) of the "
          f"{len(on_surface)} cortical regions vs `centres.txt`: median distance "
          f"{dists[len(dists) // 2]:.1f} mm, max {dists[-1]:.1f} mm; these regions "
          f"already have distinct centres, so the surface adds nothing for them.\n")
    print("Verdict: tvb-data 3.0.0 has no position for any of the "
          f"{len(placeholder)} subcortical nuclei of `connectivity_192` (no subcortical "
          "surface, no volume parcellation, and the region mapping's entries for them "
          "point past the only cortical surface; `gifti/sample.cortex.gii` is a sample "
          "surface with no region mapping). Real per-nucleus centres need data "
          "from outside tvb-data (e.g. a subcortical surface or a volumetric atlas of "
          "the same parcellation).")


if __name__ == "__main__":
    main()
