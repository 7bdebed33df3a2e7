use super::*;
use crate::{models::Generic2dOscillator, Coupling, InitialConditions, Scheme, SimulatorBuilder};

fn conn3() -> Connectome {
    let w = vec![0.0, 1.0, 0.5, 1.0, 0.0, 0.0, 0.5, 0.0, 0.0];
    let l = vec![0.0, 4.0, 8.0, 4.0, 0.0, 1.0, 8.0, 1.0, 0.0];
    Connectome::new(3, w, l)
        .unwrap()
        .with_labels(vec!["a".into(), "b".into(), "c".into()])
        .unwrap()
}

#[test]
fn pulse_train_follows_tvb_definition() {
    let p = Temporal::pulse_train(10.0, 2.0, 3.0, 5.0);
    // Strictly after onset, then `amp` for `tau` ms of every period.
    assert_eq!(p.eval(5.0), 0.0);
    assert_eq!(p.eval(5.5), 3.0);
    assert_eq!(p.eval(6.9), 3.0);
    assert_eq!(p.eval(7.0), 0.0);
    assert_eq!(p.eval(14.9), 0.0);
    assert_eq!(p.eval(15.0), 3.0);
    assert_eq!(p.eval(0.0), 0.0);
}

#[test]
fn sinusoid_and_table() {
    let s = Temporal::sinusoid_hz(2.0, 10.0); // 10 Hz: period 100 ms
    assert!((s.eval(25.0) - 2.0).abs() < 1e-12);
    assert!(s.eval(50.0).abs() < 1e-12);
    let t = Temporal::Table {
        times_ms: vec![1.0, 2.0, 4.0],
        values: vec![0.0, 1.0, -1.0],
        interpolation: Interpolation::Linear,
    };
    assert_eq!(t.eval(0.5), 0.0);
    assert_eq!(t.eval(1.5), 0.5);
    assert_eq!(t.eval(3.0), 0.0);
    assert_eq!(t.eval(4.0), -1.0);
    assert_eq!(t.eval(4.1), 0.0);
    let t = Temporal::Table {
        times_ms: vec![1.0, 2.0, 4.0],
        values: vec![0.0, 1.0, -1.0],
        interpolation: Interpolation::Step,
    };
    assert_eq!(t.eval(3.9), 1.0);
}

#[test]
fn bad_patterns_and_weights_are_rejected_with_the_stimulus_named() {
    let bad = Temporal::Table {
        times_ms: vec![1.0, 1.0],
        values: vec![0.0, 1.0],
        interpolation: Interpolation::Linear,
    };
    assert!(bad.validate().unwrap_err().contains("entry 1"));
    assert!(Temporal::pulse_train(0.0, 1.0, 1.0, 0.0)
        .validate()
        .is_err());
    let c = conn3();
    let svs = ["V", "W"];
    let e = RegionStimulus::with_weights(Temporal::Linear { a: 0.0, b: 1.0 }, vec![1.0])
        .compile(2, &c, &svs, &[0])
        .unwrap_err()
        .to_string();
    assert!(e.contains("stimulus 2") && e.contains("3"), "{e}");
    let e = RegionStimulus::at_regions(Temporal::Linear { a: 0.0, b: 1.0 }, vec![7], 1.0)
        .compile(0, &c, &svs, &[0])
        .unwrap_err()
        .to_string();
    assert!(e.contains("region 7"), "{e}");
    let e = RegionStimulus::at_regions(Temporal::Linear { a: 0.0, b: 1.0 }, vec![0], 1.0)
        .on_variables(["Q"])
        .compile(0, &c, &svs, &[0])
        .unwrap_err()
        .to_string();
    assert!(e.contains("`Q`"), "{e}");
    let mut by_label = RegionStimulus::at_regions(Temporal::Linear { a: 0.0, b: 1.0 }, vec![], 2.0);
    by_label.regions = None;
    by_label.labels = Some(vec!["c".into()]);
    let s = by_label.compile(0, &c, &svs, &[0]).unwrap();
    let mut out = vec![0.0; 6];
    s.add(0.0, &mut out, 3);
    assert_eq!(out, [0.0, 0.0, 2.0, 0.0, 0.0, 0.0]);
}

fn sim(stim: Option<RegionStimulus>) -> crate::Simulator {
    let mut b = SimulatorBuilder::new(conn3(), Box::new(Generic2dOscillator::default()))
        .coupling(Coupling::linear(0.0))
        .speed(4.0)
        .dt(0.1)
        .scheme(Scheme::Euler)
        .initial(InitialConditions::Constant(vec![0.0; 6]));
    if let Some(s) = stim {
        b = b.stimulus(s);
    }
    b.build().unwrap()
}

#[test]
fn stimulus_time_starts_at_the_first_step_and_drives_only_its_regions() {
    // Region 1 gets a 1 ms pulse starting just after t = 0.25 ms.
    let s = RegionStimulus::at_regions(Temporal::pulse_train(100.0, 1.0, 5.0, 0.25), vec![1], 1.0);
    let mut a = sim(Some(s));
    let mut b = sim(None);
    let first = a.current_step() + 1;
    assert_eq!(a.stimulus_at(first).unwrap()[1], 0.0); // t = 0
    assert_eq!(a.stimulus_at(first + 3).unwrap()[1], 5.0); // t = 0.3 ms
    assert_eq!(a.stimulus_at(first + 3).unwrap()[4], 0.0); // W is not a cvar
    for _ in 0..3 {
        a.step();
        b.step();
    }
    assert_eq!(a.state(), b.state(), "no effect before onset");
    a.step();
    b.step();
    // Euler: the stimulus adds exactly dt · 5 to V of region 1 in this step.
    let dv = a.state()[1] - b.state()[1];
    assert!((dv - 0.5).abs() < 1e-12, "{dv}");
    assert_eq!(a.state()[0], b.state()[0]);
    assert_eq!(a.state()[2], b.state()[2]);
}

#[test]
fn external_and_patterned_stimuli_add_up() {
    let s = RegionStimulus::with_weights(Temporal::Linear { a: 0.0, b: 2.0 }, vec![1.0, 0.5, 0.0]);
    let mut a = sim(Some(s));
    a.set_stimulus(Some(vec![1.0, 1.0, 1.0, 0.0, 0.0, 0.0]))
        .unwrap();
    let st = a.stimulus_at(a.current_step() + 1).unwrap();
    assert_eq!(st, [3.0, 2.0, 1.0, 0.0, 0.0, 0.0]);
}
