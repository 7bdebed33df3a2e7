use super::*;

/// Two regions, 1 <- 0 with weight 2 and delay 2 steps, 0 <- 1 with weight 1, delay 0.
fn setup() -> (CouplingEngine, History) {
    let w = [0.0, 1.0, 2.0, 0.0];
    let d = [0, 0, 2, 0];
    let eng = CouplingEngine::new(2, 1, &w, &d, 3);
    let mut h = History::new(3, 1, 2);
    for s in 0..3u64 {
        h.update(s, &[10.0 * s as f64, 100.0 + s as f64]);
    }
    (eng, h)
}

#[test]
fn linear_reads_delayed_source_values() {
    let (mut eng, h) = setup();
    let mut out = [0.0; 2];
    // Coupling for step 3 reads x(2 - d).
    eng.compute(&Coupling::Linear { a: 0.5, b: 1.0 }, &h, 3, &mut out);
    assert_eq!(out[0], 0.5 * 102.0 + 1.0); // from region 1, no delay: x1(2) = 102
    assert_eq!(out[1], 0.5 * (2.0 * 0.0) + 1.0); // from region 0, delay 2: x0(0) = 0
    assert_eq!(eng.nnz(), 2);
}

#[test]
fn difference_subtracts_the_current_target_value() {
    let (mut eng, h) = setup();
    let mut out = [0.0; 2];
    eng.compute(&Coupling::Difference { a: 1.0 }, &h, 3, &mut out);
    assert_eq!(out[0], 102.0 - 20.0);
    assert_eq!(out[1], 2.0 * (0.0 - 102.0));
}

#[test]
fn rows_without_afferents_get_the_offset() {
    let eng_w = [0.0, 0.0, 1.0, 0.0];
    let mut eng = CouplingEngine::new(2, 1, &eng_w, &[0; 4], 1);
    let mut h = History::new(1, 1, 2);
    h.update(0, &[3.0, 4.0]);
    let mut out = [0.0; 2];
    eng.compute(&Coupling::Linear { a: 2.0, b: 0.25 }, &h, 1, &mut out);
    assert_eq!(out, [0.25, 6.25]);
}

#[test]
fn sigmoidal_and_tanh_and_jansen_rit_shapes() {
    let (mut eng, h) = setup();
    let mut out = [0.0; 2];
    eng.compute(&Coupling::sigmoidal_default(), &h, 3, &mut out);
    assert!(out.iter().all(|c| c.abs() < 1.0));
    eng.compute(&Coupling::hyperbolic_tangent_default(), &h, 3, &mut out);
    assert!((out[0] - (1.0 + 102f64.tanh())).abs() < 1e-12);
    assert_eq!(Coupling::sigmoidal_jansen_rit_default().n_terms(2), 1);
    assert_eq!(Coupling::linear(1.0).n_terms(2), 2);
    assert_eq!(Coupling::difference(1.0).name(), "Difference");
}

#[test]
fn serde_uses_tvb_names() {
    let c: Coupling = serde_json::from_str(r#"{"kind": "Linear", "a": 0.0154, "b": 0.0}"#).unwrap();
    assert_eq!(c, Coupling::linear(0.0154));
    // Fields left out take TVB's defaults; unknown fields are errors.
    let c: Coupling = serde_json::from_str(r#"{"kind": "Linear", "a": 1}"#).unwrap();
    assert_eq!(c, Coupling::linear(1.0));
    let c: Coupling = serde_json::from_str(r#"{"kind": "Sigmoidal"}"#).unwrap();
    assert_eq!(c, Coupling::sigmoidal_default());
    let c: Coupling = serde_json::from_str(r#"{"kind": "SigmoidalJansenRit"}"#).unwrap();
    assert_eq!(c, Coupling::sigmoidal_jansen_rit_default());
    assert!(serde_json::from_str::<Coupling>(r#"{"kind": "Linear", "c": 1}"#).is_err());
}
