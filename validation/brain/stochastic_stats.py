#!/usr/bin/env python3
"""Statistics of stochastic TVB runs over seeds, for twin-brain's statistical parity test
(`crates/twin-brain/tests/it/stochastic.rs`), which runs the same configuration with *other*
seeds and compares the across-seed distributions (so it does not rely on the random streams
being identical, although they are).

Configuration: Generic2dOscillator (TVB defaults) on connectivity_76, speed 4 mm/ms, Linear
coupling a = 0.0154, HeunStochastic dt = 0.1 ms, additive nsig = 1e-3 on both state variables,
noise_seed = seed, TVB's default random initial history (drawn from the noise stream),
TemporalAverage 1 ms, 1000 ms simulated; the first 200 samples are discarded.

Statistics of V per seed (definitions repeated in the Rust test):
  mean   mean over time and regions
  var    mean over regions of the variance over time (population variance)
  bands  Welch PSD (segments of 256 samples, hop 128, numpy.hanning window, segment mean
         removed, |DFT|^2 summed over segments and regions), fraction of the power at
         f_k = k * 1000/256 Hz (k >= 1) in each band of BANDS_HZ.

    /tmp/tvb/bin/python validation/brain/stochastic_stats.py   # writes references/stochastic_stats.json
"""
import json
import os

import numpy as np
from tvb.simulator.lab import connectivity, coupling, integrators, models, monitors, noise, simulator
import tvb_data

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = list(range(1, 11))
BANDS_HZ = [[0, 8], [8, 16], [16, 32], [32, 64], [64, 128], [128, 501]]
CONFIG = dict(model="Generic2dOscillator", speed=4.0, coupling={"kind": "Linear", "a": 0.0154, "b": 0.0},
              dt=0.1, nsig=[1e-3], tavg_period=1.0, length_ms=1000.0, discard=200, segment=256, hop=128,
              bands_hz=BANDS_HZ)


def run(seed):
    c = connectivity.Connectivity.from_file(
        os.path.join(os.path.dirname(tvb_data.__file__), "connectivity", "connectivity_76.zip"))
    c.speed = np.array([CONFIG["speed"]])
    nz = noise.Additive(nsig=np.array(CONFIG["nsig"]), noise_seed=seed)
    sim = simulator.Simulator(model=models.Generic2dOscillator(), connectivity=c,
                              coupling=coupling.Linear(a=np.array([0.0154])),
                              integrator=integrators.HeunStochastic(dt=CONFIG["dt"], noise=nz),
                              monitors=(monitors.TemporalAverage(period=CONFIG["tavg_period"]),))
    sim.configure()
    (t, d), = sim.run(simulation_length=CONFIG["length_ms"])
    return d[CONFIG["discard"]:, 0, :, 0]  # time x regions, V


def stats(x):
    L, hop = CONFIG["segment"], CONFIG["hop"]
    w = np.hanning(L)
    n = np.arange(L)
    psd = np.zeros(L // 2 + 1)
    for s in range(0, x.shape[0] - L + 1, hop):
        seg = x[s:s + L] - x[s:s + L].mean(axis=0)
        for k in range(L // 2 + 1):
            e = np.exp(-2j * np.pi * k * n / L)
            psd[k] += (np.abs((w * e) @ seg) ** 2).sum()
    f = np.arange(L // 2 + 1) * 1000.0 / (L * CONFIG["tavg_period"])
    total = psd[1:].sum()
    bands = [float(psd[1:][(f[1:] >= lo) & (f[1:] < hi)].sum() / total) for lo, hi in BANDS_HZ]
    return dict(mean=float(x.mean()), var=float(x.var(axis=0).mean()), bands=bands)


def main():
    per_seed = []
    for seed in SEEDS:
        s = stats(run(seed))
        per_seed.append(dict(seed=seed, **s))
        print(seed, s, flush=True)
    keys = ["mean", "var"] + [f"band{k}" for k in range(len(BANDS_HZ))]
    rows = np.array([[p["mean"], p["var"]] + p["bands"] for p in per_seed])
    agg = {k: {"mean": float(rows[:, i].mean()), "sd": float(rows[:, i].std(ddof=1))} for i, k in enumerate(keys)}
    out = dict(config=CONFIG, seeds=SEEDS, per_seed=per_seed, across_seeds=agg)
    with open(os.path.join(HERE, "references", "stochastic_stats.json"), "w") as fh:
        json.dump(out, fh, indent=1)
    print(json.dumps(agg, indent=1))


if __name__ == "__main__":
    main()
