use super::*;
use crate::{config::SimulationConfig, Coupling};

fn base() -> SimulationConfig {
    serde_json::from_str(
        r#"{"connectome": "unused", "model": {"name": "Generic2dOscillator"},
            "dt": 0.1, "speed": 4.0, "duration_ms": 20.0,
            "initial": {"kind": "Random", "seed": 3},
            "monitors": [{"kind": "TemporalAverage", "period": 1.0}]}"#,
    )
    .unwrap()
}

fn conn() -> Connectome {
    let n = 6;
    let w: Vec<f64> = (0..n * n)
        .map(|k| {
            if k % (n + 1) == 0 {
                0.0
            } else {
                1.0 + (k % 5) as f64
            }
        })
        .collect();
    let l: Vec<f64> = (0..n * n).map(|k| 5.0 + (k % 7) as f64 * 3.0).collect();
    Connectome::new(n, w, l).unwrap()
}

#[test]
fn axes_parse_lists_and_ranges_and_reject_garbage() {
    let a = Axis::parse("coupling.a=0:0.03:4").unwrap();
    assert_eq!(a.path, "coupling.a");
    assert_eq!(a.values.len(), 4);
    assert_eq!(a.values[0], 0.0);
    assert!((a.values[3] - 0.03).abs() < 1e-15);
    assert_eq!(Axis::parse("speed=1,2.5").unwrap().values, [1.0, 2.5]);
    for bad in [
        "speed",
        "speed=x",
        "=1",
        "a..b=1",
        "speed=0:1:0",
        "speed=1:2",
        "speed=nan",
    ] {
        assert!(Axis::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn grid_is_the_cartesian_product_last_axis_fastest() {
    let axes = [
        Axis::parse("a=1,2").unwrap(),
        Axis::parse("b=10,20,30").unwrap(),
    ];
    let g = grid(&axes);
    assert_eq!(g.len(), 6);
    assert_eq!(g[0], [1.0, 10.0]);
    assert_eq!(g[1], [1.0, 20.0]);
    assert_eq!(g[5], [2.0, 30.0]);
}

#[test]
fn apply_sets_nested_fields_and_lists_and_names_bad_paths() {
    let axes = [
        Axis::parse("coupling.a=0.5").unwrap(),
        Axis::parse("noise.nsig=1e-4").unwrap(),
        Axis::parse("model.params.tau=2").unwrap(),
    ];
    let c = apply(&base(), &axes, &[0.5, 1e-4, 2.0]).unwrap();
    assert_eq!(c.coupling, Coupling::Linear { a: 0.5, b: 0.0 });
    assert_eq!(c.noise.unwrap().nsig, [1e-4]);
    assert_eq!(c.model.params["tau"].values(), [2.0]);
    let bad = [Axis::parse("model.name=1").unwrap()];
    let e = apply(&base(), &bad, &[1.0]).unwrap_err().to_string();
    assert!(e.contains("model.name"), "{e}");
}

#[test]
fn parallel_map_keeps_order_with_any_thread_count() {
    for t in [1, 2, 5, 64] {
        let v = parallel_map(37, t, |k| k * k);
        assert_eq!(v, (0..37).map(|k| k * k).collect::<Vec<_>>());
    }
    assert!(parallel_map(0, 4, |k| k).is_empty());
}

#[test]
fn sweep_results_do_not_depend_on_threads_and_differ_across_points() {
    let axes = [
        Axis::parse("coupling.a=0:0.2:3").unwrap(),
        Axis::parse("noise.nsig=0,1e-3").unwrap(),
    ];
    let one = run_sweep(&base(), &axes, &conn(), Path::new("."), 1);
    let two = run_sweep(&base(), &axes, &conn(), Path::new("."), 2);
    assert_eq!(one.len(), 6);
    let strip = |v: &[Result<RunSummary, BrainError>]| {
        v.iter()
            .map(|r| r.as_ref().unwrap().monitors.clone())
            .collect::<Vec<_>>()
    };
    let (a, b) = (strip(&one), strip(&two));
    assert_eq!(a, b);
    assert_eq!(a[0][0].samples, 20);
    assert_ne!(a[0][0].mean, a[2][0].mean, "coupling has no effect");
    assert_ne!(a[0][0].var, a[1][0].var, "noise has no effect");
}

#[test]
fn summary_matches_direct_mean_and_variance() {
    let mut s = MonitorSummary::new("m".into(), vec!["x".into(), "y".into()], 3);
    let samples = [
        [1.0, 2.0, 3.0, 0.0, 0.0, 0.0],
        [4.0, 5.0, 6.0, 1.0, -1.0, 1.0],
    ];
    for d in &samples {
        s.add(d);
    }
    s.finish();
    assert!((s.mean[0] - 3.5).abs() < 1e-12);
    assert!((s.var[0] - 17.5 / 6.0).abs() < 1e-12);
    assert!((s.mean[1] - 1.0 / 6.0).abs() < 1e-12);
    let m: f64 = 1.0 / 6.0;
    let direct = (3.0 * m * m + 2.0 * (1.0 - m).powi(2) + (1.0 + m).powi(2)) / 6.0;
    assert!((s.var[1] - direct).abs() < 1e-12);
}
