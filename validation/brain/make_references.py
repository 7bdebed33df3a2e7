#!/usr/bin/env python3
"""Regenerate the TVB reference trajectories that twin-brain's parity tests compare against.

Run (a peer run on a developer machine, never in CI):

    python3 -m venv /tmp/tvb && /tmp/tvb/bin/pip install tvb-library tvb-data
    /tmp/tvb/bin/python validation/brain/make_references.py

Every configuration uses TVB's 76-region connectome (tvb-data, connectivity_76.zip), conduction
speed 4 mm/ms and a deterministic initial history (the same state in every history slot, see
`initial_state` below) unless it says `"ic": "random"`, in which case TVB draws the initial history
from the noise stream (seed 42) exactly as it does by default. Each run writes
`references/<name>.npz` with `data` (samples x variables x regions), `time` (ms), the
`initial_state` (variables x regions, empty for random initial conditions) and the JSON
configuration; `references/index.json` lists all runs, and `references/versions.json` the
library versions that produced them. Keep runs short so the committed files stay small.
"""
import json
import os
import sys
import time

import numpy as np

from tvb.simulator.lab import connectivity, coupling, integrators, models, monitors, noise, simulator
from tvb.datatypes import equations, patterns
import tvb
import tvb_data

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "references")
CONN = os.path.join(os.path.dirname(tvb_data.__file__), "connectivity", "connectivity_76.zip")

# model name -> (dt, steps, stride, model kwargs, linear a, difference a)
MODELS = {
    "Generic2dOscillator": (0.1, 400, 4, {}, 0.0154, 0.1),
    "Epileptor": (0.05, 400, 4, {"Ks": [-0.2], "Kf": [0.1], "r": [0.00015], "x0": "epi_x0"}, 0.01, 1.0),
    "Epileptor2D": (0.05, 400, 4, {"Ks": [-0.2], "r": [0.00035], "x0": "epi_x0"}, 0.01, 1.0),
    "JansenRit": (0.1, 400, 4, {}, 0.0001, 0.001),
    "ReducedWongWang": (0.1, 400, 4, {}, 0.01, 0.1),
    "MontbrioPazoRoxin": (0.01, 400, 4, {}, 0.01, 0.1),
    "Kuramoto": (0.1, 400, 4, {}, 0.01, 0.1),
    "WilsonCowan": (0.1, 400, 4, {}, 0.01, 0.1),
    "LarterBreakspear": (0.1, 400, 4, {}, 0.01, 0.1),
}


def epi_x0(n):
    x0 = np.ones(n) * -2.4
    x0[[62, 47, 40]] = -1.6
    x0[[69, 72]] = -1.8
    return x0


def initial_state(model, n):
    """Deterministic state inside the model's ranges: lo + (hi-lo)*(0.5 + 0.4 sin(0.7 i + k))."""
    rows = []
    for k, sv in enumerate(model.state_variables):
        lo, hi = model.state_variable_range[sv]
        i = np.arange(n)
        rows.append(lo + (hi - lo) * (0.5 + 0.4 * np.sin(0.7 * i + k)))
    return np.array(rows)


def make_model(name, kwargs, n):
    kw = {}
    for k, v in kwargs.items():
        kw[k] = epi_x0(n) if v == "epi_x0" else np.array(v)
    cls = getattr(models, name)
    m = cls(**kw)
    m.variables_of_interest = tuple(m.state_variables)
    return m


def make_coupling(spec):
    kind = spec["kind"]
    args = {k: np.array([v]) for k, v in spec.items() if k != "kind"}
    return getattr(coupling, kind)(**args)


def make_integrator(spec, dt):
    kind = spec["scheme"]
    if spec.get("nsig") is None:
        return getattr(integrators, kind)(dt=dt)
    nz = noise.Additive(nsig=np.array(spec["nsig"]), noise_seed=spec.get("seed", 42))
    return getattr(integrators, kind)(dt=dt, noise=nz)


def make_stimulus(spec, conn):
    """TVB StimuliRegion from twin-brain's stimulus spec (same keys as `RegionStimulus`)."""
    n = conn.weights.shape[0]
    if "weights" in spec:
        w = np.array(spec["weights"], dtype=float)
    else:
        w = np.zeros(n)
        w[spec["regions"]] = spec.get("weight", 1.0)
    temporal = dict(spec["temporal"])
    eq = getattr(equations, temporal.pop("kind"))(parameters=temporal)
    return patterns.StimuliRegion(temporal=eq, connectivity=conn, weight=w)


def stim_weights(n):
    """A deterministic weight vector: a few regions driven with different strengths."""
    w = np.zeros(n)
    w[[3, 40, 47, 62]] = [1.0, 0.5, 0.25, 2.0]
    return w.tolist()


def run(cfg):
    conn = connectivity.Connectivity.from_file(CONN)
    conn.speed = np.array([cfg["speed"]])
    conn.configure()
    n = conn.weights.shape[0]
    dt = cfg["dt"]
    m = make_model(cfg["model"], cfg["model_params"], n)
    mons = []
    if cfg["monitor"]["kind"] == "Raw":
        mons.append(monitors.Raw())
    elif cfg["monitor"]["kind"] == "TemporalAverage":
        mons.append(monitors.TemporalAverage(period=cfg["monitor"]["period"]))
    elif cfg["monitor"]["kind"] == "Bold":
        mons.append(monitors.Bold(period=cfg["monitor"]["period"]))
    horizon = int(np.rint(conn.tract_lengths / cfg["speed"] / dt).astype(np.int32).max()) + 1
    ic = None
    state = np.zeros((0,))
    if cfg["ic"] == "constant":
        state = initial_state(m, n)
        ic = np.repeat(state[np.newaxis, :, :, np.newaxis], horizon, axis=0)
    stim = make_stimulus(cfg["stimulus"], conn) if cfg.get("stimulus") else None
    sim = simulator.Simulator(model=m, connectivity=conn, coupling=make_coupling(cfg["coupling"]),
                              integrator=make_integrator(cfg["integrator"], dt), monitors=mons,
                              initial_conditions=ic, stimulus=stim)
    sim.configure()
    t0 = time.perf_counter()
    (t, d), = sim.run(simulation_length=cfg["steps"] * dt)
    wall = time.perf_counter() - t0
    stride = cfg.get("stride", 1)
    d = d[..., 0][::stride]
    t = t[::stride]
    return t, d, wall, horizon, state


def configs():
    out = []
    for name, (dt, steps, stride, params, lin_a, diff_a) in MODELS.items():
        base = dict(model=name, model_params=params, dt=dt, steps=steps, stride=stride, speed=4.0,
                    ic="constant", monitor={"kind": "Raw"})
        out.append(dict(base, name=f"{name}_heun_linear",
                        integrator={"scheme": "HeunDeterministic"}, coupling={"kind": "Linear", "a": lin_a, "b": 0.0}))
        out.append(dict(base, name=f"{name}_euler_linear",
                        integrator={"scheme": "EulerDeterministic"}, coupling={"kind": "Linear", "a": lin_a, "b": 0.0}))
        out.append(dict(base, name=f"{name}_heun_difference",
                        integrator={"scheme": "HeunDeterministic"}, coupling={"kind": "Difference", "a": diff_a}))
        out.append(dict(base, name=f"{name}_euler_difference",
                        integrator={"scheme": "EulerDeterministic"}, coupling={"kind": "Difference", "a": diff_a}))
    g2d = dict(model="Generic2dOscillator", model_params={}, dt=0.1, steps=400, stride=4, speed=4.0,
               ic="constant", monitor={"kind": "Raw"}, integrator={"scheme": "HeunDeterministic"},
               coupling={"kind": "Linear", "a": 0.0154, "b": 0.0})
    out += [
        dict(g2d, name="Generic2dOscillator_rk4_linear", integrator={"scheme": "RungeKutta4thOrderDeterministic"}),
        dict(g2d, name="Generic2dOscillator_heun_sigmoidal",
             coupling={"kind": "Sigmoidal", "cmin": -1.0, "cmax": 1.0, "midpoint": 0.0, "a": 1.0, "sigma": 230.0}),
        dict(g2d, name="Generic2dOscillator_heun_tanh",
             coupling={"kind": "HyperbolicTangent", "a": 0.01, "b": 1.0, "midpoint": 0.0, "sigma": 1.0}),
        dict(g2d, name="Generic2dOscillator_heunsto_randomic", ic="random",
             integrator={"scheme": "HeunStochastic", "nsig": [1e-4], "seed": 42}),
        dict(g2d, name="Generic2dOscillator_eulersto_randomic", ic="random",
             integrator={"scheme": "EulerStochastic", "nsig": [1e-4, 1e-5], "seed": 7}),
        dict(g2d, name="Generic2dOscillator_heun_tavg", steps=2000, stride=1,
             monitor={"kind": "TemporalAverage", "period": 1.0}),
        dict(g2d, name="ReducedWongWang_heun_bold", model="ReducedWongWang", steps=15000, stride=1,
             monitor={"kind": "Bold", "period": 500.0}, coupling={"kind": "Linear", "a": 0.01, "b": 0.0}),
        dict(g2d, name="JansenRit_heun_sigmoidaljr", model="JansenRit",
             coupling={"kind": "SigmoidalJansenRit", "cmin": 0.0, "cmax": 0.005, "midpoint": 6.0, "r": 0.56, "a": 1.0}),
        dict(g2d, name="Kuramoto_heun_kuramoto", model="Kuramoto", coupling={"kind": "Kuramoto", "a": 0.1}),
        # Long horizons: 1 s of the Epileptor demo network, 1 s of stochastic G2D.
        dict(g2d, name="Epileptor_heun_difference_1s", model="Epileptor", dt=0.05, steps=20000, stride=200,
             model_params=MODELS["Epileptor"][3], coupling={"kind": "Difference", "a": 1.0}),
        # Stimuli (TVB StimuliRegion): a pulse train, a sinusoid on both Epileptor cvars, an alpha.
        dict(g2d, name="Generic2dOscillator_heun_pulsetrain",
             stimulus={"temporal": {"kind": "PulseTrain", "T": 5.0, "tau": 1.0, "amp": 0.5, "onset": 3.0},
                       "weights": stim_weights(76)}),
        dict(g2d, name="Epileptor_heun_sinusoid", model="Epileptor", dt=0.05,
             model_params=MODELS["Epileptor"][3], coupling={"kind": "Difference", "a": 1.0},
             stimulus={"temporal": {"kind": "Sinusoid", "amp": 0.3, "frequency": 0.05},
                       "regions": [10, 62], "weight": 1.5}),
        dict(g2d, name="Generic2dOscillator_euler_alpha", integrator={"scheme": "EulerDeterministic"},
             stimulus={"temporal": {"kind": "Alpha", "onset": 2.0, "alpha": 1.0, "beta": 2.0},
                       "weights": stim_weights(76)}),
        dict(g2d, name="Generic2dOscillator_heunsto_1s", steps=10000, stride=100, ic="random",
             integrator={"scheme": "HeunStochastic", "nsig": [1e-3], "seed": 1234}),
    ]
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    only = set(sys.argv[1:])
    index = []
    for cfg in configs():
        if only and cfg["name"] not in only:
            continue
        t, d, wall, horizon, state = run(cfg)
        cfg = dict(cfg, horizon=horizon)
        np.savez_compressed(os.path.join(OUT, cfg["name"] + ".npz"), data=d, time=t, initial_state=state,
                            config=np.array(json.dumps(cfg)))
        index.append(cfg)
        print(f"{cfg['name']}: {d.shape} in {wall:.2f}s, finite={np.isfinite(d).all()}", flush=True)
    if only:
        # Merge into the existing index, keeping the order of `configs()`.
        with open(os.path.join(OUT, "index.json")) as f:
            old = {c["name"]: c for c in json.load(f)}
        old.update({c["name"]: c for c in index})
        order = [c["name"] for c in configs()]
        index = [old[k] for k in order if k in old]
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
    if not only:
        with open(os.path.join(OUT, "versions.json"), "w") as f:
            json.dump({"tvb-library": getattr(tvb, "__version__", "2.10.0"), "numpy": np.__version__,
                       "tvb-data": getattr(tvb_data, "__version__", "3.0.0"),
                       "python": sys.version.split()[0]}, f, indent=1)


if __name__ == "__main__":
    main()
