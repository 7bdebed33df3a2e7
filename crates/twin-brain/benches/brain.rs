//! Criterion benchmarks of twin-brain's step loop on TVB's 76-region connectome.
//!
//! * `cpu_g2d_76_dt0.1`: Generic2dOscillator, Heun, Linear(0.0154), speed 4 mm/ms,
//!   dt 0.1 ms; one iteration = 1000 steps = 100 ms simulated.
//! * `cpu_epileptor_76_dt0.05`: Epileptor (TVB demo preset), Heun, Difference(1),
//!   speed 4 mm/ms, dt 0.05 ms; one iteration = 1000 steps = 50 ms simulated.
//!
//! Wall seconds per simulated second = time per iteration × 10 (G2D) or × 20
//! (Epileptor). TVB 2.10 measured on the same machine class: ≈ 0.9 and ≈ 2.6
//! CPU-s per simulated second.
//!
//! Run: `cargo bench -p twin-brain --bench brain`.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::{hint::black_box, path::PathBuf, time::Duration};

use criterion::{criterion_group, criterion_main, Criterion};
use twin_brain::{
    models::{Epileptor, EpileptorParams, Generic2dOscillator},
    Connectome, Coupling, InitialConditions, Scheme, Simulator, SimulatorBuilder,
};

fn connectome() -> Connectome {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/tvb-data/connectivity_76.zip");
    Connectome::from_zip(p).expect("connectivity_76.zip")
}

fn g2d() -> Simulator {
    let n = 76;
    let ic: Vec<f64> = (0..2 * n)
        .map(|k| 0.5 * ((k % n) as f64 * 0.7 + (k / n) as f64).sin())
        .collect();
    SimulatorBuilder::new(connectome(), Box::new(Generic2dOscillator::default()))
        .coupling(Coupling::linear(0.0154))
        .speed(4.0)
        .dt(0.1)
        .scheme(Scheme::Heun)
        .initial(InitialConditions::Constant(ic))
        .build()
        .expect("g2d simulator")
}

fn epileptor() -> Simulator {
    let n = 76;
    let mut p = EpileptorParams::tvb_demo_network();
    let mut x0 = vec![-2.4; n];
    for i in [62, 47, 40] {
        x0[i] = -1.6;
    }
    for i in [69, 72] {
        x0[i] = -1.8;
    }
    p.x0 = x0.into();
    let mut ic = Vec::with_capacity(6 * n);
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
        connectome(),
        Box::new(Epileptor {
            p,
            modification: false,
        }),
    )
    .coupling(Coupling::difference(1.0))
    .speed(4.0)
    .dt(0.05)
    .scheme(Scheme::Heun)
    .initial(InitialConditions::Constant(ic))
    .build()
    .expect("epileptor simulator")
}

fn bench_step_loop(c: &mut Criterion) {
    let mut group = c.benchmark_group("brain");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    let mut sim = g2d();
    group.bench_function("cpu_g2d_76_dt0.1_1000steps", |b| {
        b.iter(|| {
            sim.run(1000, &mut |_, _| {});
            black_box(sim.state()[0])
        })
    });
    let mut sim = epileptor();
    group.bench_function("cpu_epileptor_76_dt0.05_1000steps", |b| {
        b.iter(|| {
            sim.run(1000, &mut |_, _| {});
            black_box(sim.state()[0])
        })
    });
    group.finish();
}

criterion_group!(benches, bench_step_loop);
criterion_main!(benches);
