use super::*;
use crate::models::{Generic2dOscillator, ReducedWongWang};

fn conn() -> Connectome {
    let w = vec![0.0, 1.0, 0.5, 1.0, 0.0, 0.0, 0.5, 2.0, 0.0];
    let l = vec![0.0, 4.0, 8.0, 4.0, 0.0, 1.0, 8.0, 1.0, 0.0];
    Connectome::new(3, w, l).unwrap()
}

fn builder() -> SimulatorBuilder {
    SimulatorBuilder::new(conn(), Box::new(Generic2dOscillator::default()))
        .coupling(Coupling::linear(0.1))
        .speed(4.0)
        .dt(0.1)
}

fn trajectory(b: SimulatorBuilder, steps: u64) -> Vec<f64> {
    let mut sim = b.build().unwrap();
    let mut out = vec![];
    for _ in 0..steps {
        sim.step();
        out.extend_from_slice(sim.state());
    }
    out
}

#[test]
fn rejects_bad_configuration() {
    assert!(builder().dt(0.0).build().is_err());
    assert!(builder().speed(-1.0).build().is_err());
    assert!(builder()
        .scheme(Scheme::Rk4)
        .noise(Noise::additive(1e-3, 1))
        .build()
        .is_err());
    assert!(builder()
        .initial(InitialConditions::Constant(vec![0.0; 5]))
        .build()
        .is_err());
    let err = builder().voi(["Q"]).build().unwrap_err();
    assert!(err.to_string().contains("`Q`"), "{err}");
}

#[test]
fn horizon_and_start_step_follow_tvb() {
    let sim = builder()
        .initial(InitialConditions::Constant(vec![0.1; 6]))
        .build()
        .unwrap();
    assert_eq!(sim.horizon(), 21); // 8 mm / 4 mm/ms / 0.1 ms + 1
    assert_eq!(sim.current_step(), 20);
    let sim = builder().build().unwrap();
    assert_eq!(sim.current_step(), 0); // random initial conditions start at step 0
}

#[test]
fn same_seed_same_trajectory_different_seed_differs() {
    let noisy = |seed| {
        builder()
            .noise(Noise::additive(1e-3, seed))
            .initial(InitialConditions::Random { seed: 1 })
    };
    let a = trajectory(noisy(5), 200);
    let b = trajectory(noisy(5), 200);
    let c = trajectory(noisy(6), 200);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(a.iter().all(|v| v.is_finite()));
}

#[test]
fn run_until_stops_at_the_requested_time() {
    let mut sim = builder()
        .initial(InitialConditions::Constant(vec![0.1; 6]))
        .build()
        .unwrap();
    let t0 = sim.time_ms();
    let target = SimTime::from_nanos(((t0 + 1.0) * 1e6) as u64);
    let steps = sim.run_until(target, &mut |_, _| {});
    assert_eq!(steps, 10);
    assert_eq!(sim.sim_time(), target);
}

#[test]
fn stimulus_reaches_the_model_within_one_step() {
    let ic = InitialConditions::Constant(vec![0.0; 6]);
    let mut a = builder().initial(ic.clone()).build().unwrap();
    let mut b = builder().initial(ic).build().unwrap();
    b.set_stimulus(Some(vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0]))
        .unwrap();
    a.step();
    b.step();
    assert!(b.state()[0] > a.state()[0] + 0.09);
    assert_eq!(b.state()[1], a.state()[1]);
    assert!(b.set_stimulus(Some(vec![1.0])).is_err());
}

#[test]
fn bounded_models_stay_in_bounds() {
    let mut sim = SimulatorBuilder::new(conn(), Box::new(ReducedWongWang::default()))
        .dt(0.1)
        .noise(Noise::additive(0.5, 3))
        .build()
        .unwrap();
    for _ in 0..500 {
        sim.step();
        assert!(sim.state().iter().all(|&s| (0.0..=1.0).contains(&s)));
    }
}
