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

/// MontbrioPazoRoxin that never declares a coupling term unused.
#[derive(Debug)]
struct AllTerms(crate::models::MontbrioPazoRoxin);

impl NeuralMass for AllTerms {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn state_variables(&self) -> &'static [&'static str] {
        self.0.state_variables()
    }
    fn cvar(&self) -> &'static [usize] {
        self.0.cvar()
    }
    fn state_variable_range(&self) -> &'static [(f64, f64)] {
        self.0.state_variable_range()
    }
    fn boundaries(&self) -> &'static [Bound] {
        self.0.boundaries()
    }
    fn default_voi(&self) -> &'static [&'static str] {
        self.0.default_voi()
    }
    fn params(&self) -> Vec<(&'static str, &crate::param::Param)> {
        self.0.params()
    }
    fn params_mut(&mut self) -> Vec<(&'static str, &mut crate::param::Param)> {
        self.0.params_mut()
    }
    fn dfun(&self, x: &[f64], c: &[f64], n: usize, dx: &mut [f64]) {
        self.0.dfun(x, c, n, dx)
    }
}

#[test]
fn zero_gain_coupling_terms_are_skipped_without_changing_the_trajectory() {
    use crate::models::MontbrioPazoRoxin;
    let mpr = |cv: f64, all: bool, cpl: Coupling| {
        let mut m = MontbrioPazoRoxin::default();
        m.p.cv = crate::param::Param::scalar(cv);
        let model: Box<dyn NeuralMass> = match all {
            true => Box::new(AllTerms(m)),
            false => Box::new(m),
        };
        SimulatorBuilder::new(conn(), model)
            .coupling(cpl)
            .speed(4.0)
            .dt(0.01)
            .noise(Noise::per_state_variable(vec![0.01, 0.02], 3))
            .initial(InitialConditions::Random { seed: 3 })
    };
    for cpl in [Coupling::linear(0.5), Coupling::difference(0.5)] {
        // cv = 0 (TVB's default): V is neither stored nor coupled...
        let sim = mpr(0.0, false, cpl).build().unwrap();
        assert_eq!(sim.history.n_cvar(), 1);
        assert!(sim.coupling_input()[3..].iter().all(|&c| c == 0.0));
        // ...and the trajectory is bit-identical to computing c_V and
        // multiplying it by zero.
        let (a, b) = (
            trajectory(mpr(0.0, false, cpl), 3000),
            trajectory(mpr(0.0, true, cpl), 3000),
        );
        assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
        assert!(a.iter().all(|x| x.is_finite()) && a[..6] != a[a.len() - 6..]);
        // A non-zero gain keeps both terms.
        let sim = mpr(0.3, false, cpl).build().unwrap();
        assert_eq!(sim.history.n_cvar(), 2);
        assert!(sim.coupling_input()[3..].iter().any(|&c| c != 0.0));
    }
}
