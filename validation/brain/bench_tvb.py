#!/usr/bin/env python3
"""Time TVB (reference NumPy backend) on the cases of twin-brain's `examples/speed.rs`,
so that both can be recorded side by side from the same machine and the same hour.

    /tmp/tvb/bin/python validation/brain/bench_tvb.py [seconds_simulated]

Prints one line per case: wall and CPU (process_time) seconds per simulated second.
Raw monitor, as in the project's research measurements; import and configure() excluded.
"""
import os
import sys
import time

import numpy as np
from tvb.simulator.lab import connectivity, coupling, integrators, models, monitors, noise, simulator
import tvb_data

T = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0


def conn(n):
    c = connectivity.Connectivity.from_file(
        os.path.join(os.path.dirname(tvb_data.__file__), "connectivity", f"connectivity_{n}.zip"))
    c.speed = np.array([4.0])
    c.configure()
    return c


def epi_model(n):
    m = models.Epileptor(Ks=np.array([-0.2]), Kf=np.array([0.1]), r=np.array([0.00015]))
    x0 = np.ones(n) * -2.4
    x0[[62, 47, 40]] = -1.6
    x0[[69, 72]] = -1.8
    m.x0 = x0
    return m


def heun(dt):
    return integrators.HeunDeterministic(dt=dt)


def heun_noisy(dt):
    # Additive noise nsig 1e-4 on both state variables, TVB's NumPy stream (seed 42).
    return integrators.HeunStochastic(dt=dt, noise=noise.Additive(nsig=np.array([1e-4]), noise_seed=42))


G2D = lambda n: models.Generic2dOscillator()
CASES = [
    ("Generic2dOscillator  76 dt 0.1 ms ", 76, 0.1, G2D, coupling.Linear(a=np.array([0.0154])), heun),
    ("Epileptor            76 dt 0.05 ms", 76, 0.05, epi_model, coupling.Difference(a=np.array([1.0])), heun),
    ("Generic2dOscillator 192 dt 0.1 ms ", 192, 0.1, G2D, coupling.Linear(a=np.array([0.0154])), heun),
    ("Epileptor           192 dt 0.05 ms", 192, 0.05, epi_model, coupling.Difference(a=np.array([1.0])), heun),
    ("Generic2dOscillator 192 dt 0.1 ms noise nsig 1e-4", 192, 0.1, G2D, coupling.Linear(a=np.array([0.0154])),
     heun_noisy),
]

for label, n, dt, mk, cpl, integ in CASES:
    sim = simulator.Simulator(model=mk(n), connectivity=conn(n), coupling=cpl,
                              integrator=integ(dt), monitors=(monitors.Raw(),))
    sim.configure()
    w0, c0 = time.perf_counter(), time.process_time()
    sim.run(simulation_length=T * 1000.0)
    w, c = time.perf_counter() - w0, time.process_time() - c0
    print(f"TVB {label}: {w / T:.3f} s wall, {c / T:.3f} CPU-s per simulated s (load {os.getloadavg()[0]:.1f})",
          flush=True)
