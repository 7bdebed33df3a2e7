#!/usr/bin/env python3
"""Writes random-waypoint movement files (ns-2 format) shared by ns-3 and
Twin for the paired validation: N nodes in 1500 x 300 m, speed U(0, 20)
m/s, pause 0, as ns-3's RandomWaypointMobilityModel draws them, for 200 s.
Usage: make_traces.py N RUNS OUTDIR   (traces/rwp-N-RUN.ns2)"""
import math
import random
import sys
from pathlib import Path


def trace(n, run, t_end=200.0, xmax=1500.0, ymax=300.0, vmax=20.0):
    rng = random.Random(1_000_003 * n + run)
    out = []
    for k in range(n):
        x, y = rng.uniform(0, xmax), rng.uniform(0, ymax)
        out += [f"$node_({k}) set X_ {x:.6f}", f"$node_({k}) set Y_ {y:.6f}", f"$node_({k}) set Z_ 0.0"]
        t = 0.0
        while t < t_end:
            nx, ny = rng.uniform(0, xmax), rng.uniform(0, ymax)
            v = rng.uniform(0, vmax)
            out.append(f'$ns_ at {t:.6f} "$node_({k}) setdest {nx:.6f} {ny:.6f} {v:.6f}"')
            if v <= 1e-9:
                break
            t += math.hypot(nx - x, ny - y) / v
            x, y = nx, ny
    return "\n".join(out) + "\n"


def main():
    n, runs, outdir = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    outdir.mkdir(parents=True, exist_ok=True)
    for r in range(1, runs + 1):
        (outdir / f"rwp-{n}-{r}.ns2").write_text(trace(n, r))


if __name__ == "__main__":
    main()
