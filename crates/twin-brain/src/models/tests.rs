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

#[test]
fn epileptor_scalar_and_per_region_parameters_give_the_same_bits() {
    // Scalar parameters (but x0) take a kernel that reads each once; the
    // same values given per region take the indexed kernel. Region 2 gets a
    // different `Iext` in a third model, which must change only region 2.
    let n = 7;
    let mut x = vec![0.0; 6 * n];
    for (k, v) in x.iter_mut().enumerate() {
        *v = ((k * 37 % 11) as f64 - 5.0) * 0.41;
    }
    let c: Vec<f64> = (0..2 * n).map(|k| 0.03 * k as f64 - 0.2).collect();
    let run = |modification: bool, iext2: Option<f64>| {
        let mut m = Epileptor {
            p: EpileptorParams::tvb_demo_network(),
            modification,
        };
        set_param(
            &mut m,
            "x0",
            (0..n).map(|i| -2.4 + 0.1 * i as f64).collect(),
        )
        .unwrap();
        if let Some(v) = iext2 {
            let mut iext: Vec<f64> = vec![m.p.Iext.first(); n];
            iext[2] = v;
            set_param(&mut m, "Iext", iext).unwrap();
        }
        m.prepare(n).unwrap();
        let mut dx = vec![f64::NAN; 6 * n];
        m.dfun(&x, &c, n, &mut dx);
        dx
    };
    for modification in [false, true] {
        let scalar = run(modification, None);
        let given = run(modification, Some(EpileptorParams::default().Iext.first()));
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&scalar), bits(&given), "modification {modification}");
        let other = run(modification, Some(0.5));
        for k in 0..6 * n {
            // Iext enters dx1 only (state variable 0).
            assert_eq!(scalar[k] != other[k], k == 2, "k {k}");
        }
    }
}
