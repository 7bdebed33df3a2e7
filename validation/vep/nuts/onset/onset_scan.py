#!/usr/bin/env python3
"""Seizure-onset time of one isolated Epileptor2D region against x0.

The model of crates/twin-vep/src/model.rs (explicit Euler, dt = 0.05 s,
tau0 = 20, I1 = 3.1, start x = -1.9, z = 3.6, onset = first x > -0.5), no
coupling, no noise. Shows the near-discontinuity behind the divergences:
onset jumps from "never" to about 20 s within a few 1e-4 of x0.
"""


def onset(x0, t_end=60.0, dt=0.05, tau0=20.0, x=-1.9, z=3.6, thr=-0.5):
    for k in range(int(t_end / dt)):
        if x > thr:
            return k * dt
        x, z = x + dt * (3.1 + 1 - x**3 - 2 * x**2 - z), z + dt / tau0 * (4 * (x - x0) - z)
    return None


if __name__ == "__main__":
    for i in range(-10, 11):
        x0 = -2.0465 + 0.0001 * i
        print(f"x0 {x0:.4f}: onset {onset(x0)}")
    for x0 in (-2.04, -2.0, -1.9, -1.8, -1.7, -1.6, -1.5):
        print(f"x0 {x0:.4f}: onset {onset(x0)}")
