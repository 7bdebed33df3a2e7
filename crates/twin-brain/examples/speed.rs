//! Quick speed check without criterion: best of several repetitions, so that a
//! busy shared machine inflates the numbers as little as possible.
//!
//! ```text
//! cargo run --release -p twin-brain --example speed [-- LABEL_SUBSTRING]
//! ```
//!
//! Prints, per simulated second, the best wall time of 30 repetitions and the
//! least and median CPU time of the simulating thread over them, for Generic2dOscillator (dt 0.1 ms)
//! and Epileptor (dt 0.05 ms) on the 76- and 192-region connectomes (the 76-region
//! cases are those of `benches/brain.rs`), and MontbrioPazoRoxin with noise
//! (dt 0.01 ms, 76 regions), the one model of TVB's numba backend
//! (`validation/brain/bench_tvb_mpr.py` times TVB on the same case); MPR and
//! a noisy 192-region Generic2dOscillator also with the opt-in fast noise
//! generator (`generator = "fast"`: same statistics, not TVB's numbers).

use std::{path::PathBuf, time::Instant};

use twin_brain::{
    models::{Epileptor, EpileptorParams, Generic2dOscillator, MontbrioPazoRoxin},
    monitors::Raw,
    Connectome, Coupling, InitialConditions, Noise, Simulator, SimulatorBuilder,
};

/// A tvb-data connectome shipped with the tests.
fn connectome(n: usize) -> Connectome {
    let rel = format!("tests/data/tvb-data/connectivity_{n}.zip");
    Connectome::from_zip(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)).expect("connectome")
}

/// Generic2dOscillator, Heun, Linear(0.0154), speed 4 mm/ms, dt 0.1 ms.
fn g2d(n: usize) -> Simulator {
    g2d_noisy(n, None)
}

/// [`g2d`] with additive noise (stochastic Heun) on both state variables.
fn g2d_noisy(n: usize, noise: Option<Noise>) -> Simulator {
    let ic: Vec<f64> = (0..2 * n)
        .map(|k| 0.5 * ((k % n) as f64 * 0.7 + (k / n) as f64).sin())
        .collect();
    let b = SimulatorBuilder::new(connectome(n), Box::new(Generic2dOscillator::default()))
        .coupling(Coupling::linear(0.0154))
        .speed(4.0)
        .dt(0.1)
        .initial(InitialConditions::Constant(ic));
    match noise {
        Some(nz) => b.noise(nz),
        None => b,
    }
    .build()
    .expect("g2d")
}

/// Epileptor (TVB demo preset), Heun, Difference(1), speed 4 mm/ms, dt 0.05 ms.
fn epileptor(n: usize) -> Simulator {
    let mut p = EpileptorParams::tvb_demo_network();
    let mut x0 = vec![-2.4; n];
    for i in [62, 47, 40] {
        x0[i] = -1.6;
    }
    for i in [69, 72] {
        x0[i] = -1.8;
    }
    p.x0 = x0.into();
    let mut ic = Vec::new();
    for (k, v) in [-1.6, -10.0, 3.0, -0.9, 0.0, -0.15].into_iter().enumerate() {
        ic.extend((0..n).map(|i| {
            if k == 0 {
                v + 0.01 * (i as f64).sin()
            } else {
                v
            }
        }));
    }
    SimulatorBuilder::new(
        connectome(n),
        Box::new(Epileptor {
            p,
            modification: false,
        }),
    )
    .coupling(Coupling::difference(1.0))
    .speed(4.0)
    .dt(0.05)
    .initial(InitialConditions::Constant(ic))
    .build()
    .expect("epileptor")
}

/// MontbrioPazoRoxin, stochastic Heun (nsig 0.01, 0.02; seed 42), Linear(0.01),
/// speed 4 mm/ms, dt 0.01 ms, TVB's random initial history, Raw monitor: the
/// configuration of `validation/brain/bench_tvb_mpr.py`.
fn mpr(n: usize, fast: bool) -> Simulator {
    let noise = Noise::per_state_variable(vec![0.01, 0.02], 42);
    SimulatorBuilder::new(connectome(n), Box::new(MontbrioPazoRoxin::default()))
        .coupling(Coupling::linear(0.01))
        .speed(4.0)
        .dt(0.01)
        .noise(if fast { noise.fast() } else { noise })
        .initial(InitialConditions::Random { seed: 42 })
        .monitor(Raw::new())
        .build()
        .expect("mpr")
}

/// CPU time of this thread so far \[s\] (`CLOCK_THREAD_CPUTIME_ID`, ns resolution).
fn thread_cpu_s() -> Option<f64> {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Some(t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9)
}

/// Over `reps` runs of `sim_ms` each, per simulated second: the best wall
/// time, and the least and the median CPU time of the simulating thread (CPU
/// time counts only this thread's own cycles, so it is far less disturbed by
/// other processes on a shared machine than wall time; it still grows when
/// they evict this thread's data from shared caches).
fn best_of(mut sim: Simulator, sim_ms: f64, reps: usize) -> (f64, Option<(f64, f64)>) {
    let steps = (sim_ms / sim.dt()).round() as u64;
    sim.run(steps / 10, &mut |_, _| {});
    let per_s = 1000.0 / sim_ms;
    let mut best = f64::INFINITY;
    let mut cpus = Vec::with_capacity(reps);
    for _ in 0..reps {
        let c0 = thread_cpu_s();
        let t = Instant::now();
        sim.run(steps, &mut |_, _| {});
        best = best.min(t.elapsed().as_secs_f64() * per_s);
        if let (Some(a), Some(b)) = (c0, thread_cpu_s()) {
            cpus.push((b - a) * per_s);
        }
    }
    cpus.sort_by(f64::total_cmp);
    let cpu = (!cpus.is_empty()).then(|| (cpus[0], cpus[cpus.len() / 2]));
    (best, cpu)
}

fn main() {
    // (label, simulator, ms per repetition, TVB CPU-s per simulated s measured here)
    let cases = [
        ("Generic2dOscillator  76 dt 0.1 ms ", g2d(76), 100.0, 0.9),
        (
            "Epileptor            76 dt 0.05 ms",
            epileptor(76),
            50.0,
            2.6,
        ),
        ("Generic2dOscillator 192 dt 0.1 ms ", g2d(192), 100.0, 1.25),
        (
            "MontbrioPazoRoxin    76 dt 0.01 ms",
            mpr(76, false),
            20.0,
            3.9,
        ),
        (
            "MontbrioPazoRoxin    76 dt 0.01 ms fast noise",
            mpr(76, true),
            20.0,
            3.9,
        ),
        (
            "Epileptor           192 dt 0.05 ms",
            epileptor(192),
            50.0,
            5.5,
        ),
        (
            "Generic2dOscillator 192 dt 0.1 ms noise nsig 1e-4",
            g2d_noisy(192, Some(Noise::additive(1e-4, 42))),
            100.0,
            1.25,
        ),
        (
            "Generic2dOscillator 192 dt 0.1 ms fast noise nsig 1e-4",
            g2d_noisy(192, Some(Noise::additive(1e-4, 42).fast())),
            100.0,
            1.25,
        ),
    ];
    println!(
        "SIMD clone of the hot loops on this CPU: {}",
        twin_brain::simd::selected_features()
    );
    // Optional filter: only the cases whose label contains the argument.
    let only = std::env::args().nth(1).unwrap_or_default();
    for (label, sim, ms, tvb) in cases {
        if !label.contains(&only) {
            continue;
        }
        let (t, cpu) = best_of(sim, ms, 30);
        let (lo, med) = cpu.unwrap_or((f64::NAN, f64::NAN));
        println!(
            "{label}: wall {t:.4} (best); CPU {lo:.4} (least), {med:.4} (median) \
             s per simulated s ({:.0}x TVB's {tvb} CPU-s, by least CPU)",
            tvb / lo
        );
    }
}
