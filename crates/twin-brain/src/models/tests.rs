use super::*;

#[test]
fn every_model_builds_and_gives_finite_derivatives() {
    for name in MODEL_NAMES {
        let mut m = model_by_name(name).unwrap();
        assert_eq!(m.name(), *name);
        let n = 5;
        m.prepare(n).unwrap();
        let nsv = m.state_variables().len();
        assert_eq!(m.state_variable_range().len(), nsv);
        assert!(m.cvar().iter().all(|&k| k < nsv));
        let mut x = vec![0.0; nsv * n];
        for (sv, (lo, hi)) in m.state_variable_range().iter().enumerate() {
            for i in 0..n {
                x[sv * n + i] = lo + (hi - lo) * (0.3 + 0.1 * i as f64);
            }
        }
        let c = vec![0.01; m.cvar().len() * n];
        let mut dx = vec![f64::NAN; nsv * n];
        m.dfun(&x, &c, n, &mut dx);
        assert!(dx.iter().all(|v| v.is_finite()), "{name}: {dx:?}");
        for v in m.default_voi() {
            assert!(
                m.state_variables().contains(v) || m.derived_observables().contains(v),
                "{name}: VOI {v}"
            );
        }
    }
    assert!(model_by_name("Nope").is_none());
}

#[test]
fn per_region_parameters_must_match_the_region_count() {
    let mut m = Epileptor2D::default();
    set_param(&mut m, "x0", vec![-2.0, -1.6, -2.2]).unwrap();
    assert!(m.prepare(3).is_ok());
    let err = m.prepare(4).unwrap_err();
    assert!(err.to_string().contains("x0"), "{err}");
    let err = set_param(&mut m, "nope", vec![1.0]).unwrap_err();
    assert!(err.to_string().contains("known: a, b"), "{err}");
}

#[test]
fn generic_2d_oscillator_rest_point_values() {
    let mut m = Generic2dOscillator::default();
    m.prepare(1).unwrap();
    let mut dx = [0.0; 2];
    m.dfun(&[1.0, 2.0], &[0.5], 1, &mut dx);
    // dV = 0.02 * (2 - 1 + 3 + 0.5), dW = 0.02 * (-2 - 10 - 2)
    assert_eq!(
        dx,
        [0.02 * (2.0 - 1.0 + 3.0 + 0.5), 0.02 * (-2.0 - 10.0 - 2.0)]
    );
}

#[test]
fn params_deserialize_scalars_and_arrays_with_defaults() {
    let p: EpileptorParams = serde_json::from_str(r#"{"x0": [-1.6, -2.4], "Ks": -0.2}"#).unwrap();
    assert_eq!(p.x0.values(), [-1.6, -2.4]);
    assert_eq!(p.Ks.first(), -0.2);
    assert_eq!(p.Iext.first(), 3.1);
    assert!(serde_json::from_str::<EpileptorParams>(r#"{"bogus": 1}"#).is_err());
    assert_eq!(EpileptorParams::NAMES.len(), 17);
}

#[test]
fn numba_integer_powers() {
    let x = 1.1f64;
    assert_eq!(ipow(x, 2), x * x);
    assert_eq!(ipow(x, 3), x * (x * x));
    assert_eq!(ipow(x, 7), (x * (x * x)) * ((x * x) * (x * x)));
    assert_eq!(ipow(x, 0), 1.0);
}
