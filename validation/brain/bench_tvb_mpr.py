#!/usr/bin/env python3
"""Time TVB's MontbrioPazoRoxin on the numba backend (NbMPRBackend) and on the reference NumPy
backend, for the MPR case of twin-brain's `examples/speed.rs`:

76 regions (tvb-data connectivity_76), conduction speed 4 mm/ms, Linear coupling a = 0.01,
HeunStochastic dt = 0.01 ms with additive noise nsig = (0.01, 0.02), Raw monitor.

    /tmp/tvb/bin/python validation/brain/bench_tvb_mpr.py [seconds_simulated]

The numba backend recompiles its kernel on every `run_sim`, so it is timed twice: a 10 ms run
(mostly compilation) and the full run; "steady" is the difference per simulated second, i.e. the
cost without compilation (the most favourable figure for TVB). CPU time is `process_time`.
"""
import os
import sys
import time

import numpy as np
from tvb.simulator.backend.nb_mpr import NbMPRBackend
from tvb.simulator.lab import connectivity, coupling, integrators, models, monitors, noise, simulator
import tvb_data

T = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
DT = 0.01


def make_sim():
    c = connectivity.Connectivity.from_file(
        os.path.join(os.path.dirname(tvb_data.__file__), "connectivity", "connectivity_76.zip"))
    c.speed = np.array([4.0])
    nz = noise.Additive(nsig=np.array([0.01, 0.02]), noise_seed=42)
    sim = simulator.Simulator(model=models.MontbrioPazoRoxin(), connectivity=c,
                              coupling=coupling.Linear(a=np.array([0.01])),
                              integrator=integrators.HeunStochastic(dt=DT, noise=nz),
                              monitors=(monitors.Raw(),))
    sim.configure()
    return sim


def timed(f):
    w0, c0 = time.perf_counter(), time.process_time()
    out = f()
    return time.perf_counter() - w0, time.process_time() - c0, out


load = os.getloadavg()[0]
w_s, c_s, _ = timed(lambda: NbMPRBackend().run_sim(make_sim(), simulation_length=10.0))
w_l, c_l, ((t, y),) = timed(lambda: NbMPRBackend().run_sim(make_sim(), simulation_length=T * 1000.0))
assert np.isfinite(y).all()
steady_c = (c_l - c_s) / (T - 0.01)
steady_w = (w_l - w_s) / (T - 0.01)
print(f"TVB numba MPR 76 dt 0.01 ms, {T} s: {w_l / T:.3f} s wall, {c_l / T:.3f} CPU-s per simulated s "
      f"incl. compilation; steady {steady_w:.3f} s wall, {steady_c:.3f} CPU-s per simulated s "
      f"(10 ms run: {c_s:.2f} CPU-s) (load {load:.1f})", flush=True)
sim = make_sim()
w_r, c_r, _ = timed(lambda: sim.run(simulation_length=500.0))
print(f"TVB reference MPR 76 dt 0.01 ms, 0.5 s: {w_r / 0.5:.3f} s wall, {c_r / 0.5:.3f} CPU-s per simulated s "
      f"(load {os.getloadavg()[0]:.1f})", flush=True)
