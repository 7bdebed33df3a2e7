//! Parity with TVB 2.10 reference trajectories.

use twin_brain::{
    models::Generic2dOscillator, monitors::Raw, Connectome, Coupling, InitialConditions, Scheme,
    SimulatorBuilder,
};

use crate::common::{data, max_abs_diff, Npz};

/// The reference shipped with the project: G2D, HeunDeterministic, dt 0.1 ms,
/// Linear(0.0154), speed 4 mm/ms, 76 regions, 2000 steps, every step saved.
#[test]
fn g2d_heun_linear_76_matches_tvb_bit_for_bit() {
    let r = Npz::load(&data("ref_g2d_heundet_dt0.1_76.npz"));
    let w = r.f64("weights");
    let n = (w.len() as f64).sqrt() as usize;
    let conn = Connectome::new(n, w, r.f64("tract_lengths")).unwrap();
    let (dt, speed) = (r.scalar("dt"), r.scalar("speed"));
    let idelays: Vec<usize> = r
        .get("idelays")
        .to_i64()
        .unwrap()
        .iter()
        .map(|&d| d as usize)
        .collect();
    assert_eq!(
        conn.idelays(speed, dt),
        idelays,
        "integer delays differ from TVB's"
    );
    let hist = r.get("initial_history");
    let expected = r.f64("data");
    let steps = r.get("data").shape[0];
    let mut sim = SimulatorBuilder::new(conn, Box::new(Generic2dOscillator::default()))
        .coupling(Coupling::linear(0.0154))
        .speed(speed)
        .dt(dt)
        .scheme(Scheme::Heun)
        .initial(InitialConditions::History {
            len: hist.shape[0],
            data: hist.to_f64().unwrap(),
        })
        .voi(["V", "W"])
        .monitor(Raw::new())
        .build()
        .unwrap();
    assert_eq!(sim.horizon(), 385);
    let mut got = Vec::with_capacity(expected.len());
    let mut times = Vec::new();
    sim.run(steps as u64, &mut |_, s| {
        got.extend_from_slice(s.data);
        times.push(s.time_ms);
    });
    let t = r.f64("time");
    assert_eq!(max_abs_diff(&times, &t), 0.0, "time stamps");
    let d = max_abs_diff(&got, &expected);
    println!("G2D HeunDet Linear 76: max |delta| = {d:e}");
    assert_eq!(d, 0.0, "not bit-identical to TVB (max |delta| = {d:e})");
}
