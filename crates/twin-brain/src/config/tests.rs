use super::*;
use crate::noise::NoiseGenerator;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/tvb-data")
}

#[test]
fn epileptor_config_builds_and_runs() {
    let json = r#"{
        "connectome": "connectivity_76.zip",
        "speed": 4.0, "dt": 0.05, "duration_ms": 5.0, "integrator": "Heun",
        "model": {"name": "Epileptor", "params": {"Ks": -0.2, "r": 0.00015}},
        "coupling": {"kind": "Difference", "a": 1.0},
        "noise": {"nsig": [0.0, 0.0, 0.0, 0.0003, 0.0003, 0.0], "seed": 42},
        "voi": ["x2 - x1", "z"],
        "monitors": [{"kind": "TemporalAverage", "period": 1.0}, {"kind": "Bold", "period": 500.0},
                     {"kind": "SpatialAverage", "period": 1.0, "mask": "cortical"}]
    }"#;
    let cfg: SimulationConfig = serde_json::from_str(json).unwrap();
    let mut sim = cfg.build(&data_dir()).unwrap();
    assert_eq!(sim.monitors().len(), 3);
    let mut tavg = 0;
    sim.run(cfg.n_steps(), &mut |k, _| tavg += usize::from(k == 0));
    assert_eq!(tavg, 5);
}

#[test]
fn defaults_follow_tvb() {
    let cfg: SimulationConfig = serde_json::from_str(
        r#"{"connectome": "c.zip", "model": {"name": "Generic2dOscillator"}, "duration_ms": 1}"#,
    )
    .unwrap();
    assert_eq!(cfg.speed, 3.0);
    assert_eq!(cfg.dt, 0.01220703125);
    assert_eq!(cfg.integrator, Scheme::Heun);
    assert_eq!(
        cfg.coupling,
        Coupling::Linear {
            a: 0.00390625,
            b: 0.0
        }
    );
    assert_eq!(cfg.initial, InitialConfig::Random { seed: 42 });
    assert_eq!(cfg.n_steps(), 82);
}

#[test]
fn errors_name_what_is_wrong() {
    let bad_model: SimulationConfig = serde_json::from_str(
        r#"{"connectome": "connectivity_66.zip", "model": {"name": "Nope"}, "duration_ms": 1}"#,
    )
    .unwrap();
    let err = bad_model.build(&data_dir()).unwrap_err();
    assert!(err.to_string().contains("unknown model `Nope`"), "{err}");
    let bad_param: SimulationConfig = serde_json::from_str(
        r#"{"connectome": "connectivity_66.zip", "model": {"name": "Epileptor2D", "params": {"x0": [1, 2]}}, "duration_ms": 1}"#,
    )
    .unwrap();
    let err = bad_param.build(&data_dir()).unwrap_err();
    assert!(
        err.to_string()
            .contains("`x0` has 2 values; expected 1 or 66"),
        "{err}"
    );
    let missing: SimulationConfig = serde_json::from_str(
        r#"{"connectome": "nope.zip", "model": {"name": "Kuramoto"}, "duration_ms": 1}"#,
    )
    .unwrap();
    assert!(missing
        .build(&data_dir())
        .unwrap_err()
        .to_string()
        .contains("nope.zip"));
    assert!(serde_json::from_str::<SimulationConfig>(
        r#"{"connectome": "c", "model": {"name": "K"}, "duration_ms": 1, "typo": 1}"#
    )
    .is_err());
}

#[test]
fn projection_from_sensor_positions() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("seeg.txt"),
        "A1 10 20 30\nA2 11 21 31\nB1 -40 0 10\n",
    )
    .unwrap();
    let conn = Connectome::from_zip(data_dir().join("connectivity_76.zip")).unwrap();
    let json = r#"{"connectome": "x", "model": {"name": "Epileptor2D"}, "dt": 0.1, "speed": 4.0, "duration_ms": 2,
        "initial": {"kind": "Constant", "state": []},
        "monitors": [{"kind": "Projection", "name": "seeg", "period": 1.0, "sensors": "seeg.txt"}]}"#;
    let mut cfg: SimulationConfig = serde_json::from_str(json).unwrap();
    cfg.initial = InitialConfig::Constant {
        state: vec![-1.8; 76].into_iter().chain(vec![3.0; 76]).collect(),
    };
    let mut sim = cfg.build_with(conn, dir.path()).unwrap();
    assert_eq!(sim.monitors()[0].shape(), (1, 3));
    let mut n = 0;
    sim.run(cfg.n_steps(), &mut |_, s| {
        assert_eq!(s.data.len(), 3);
        n += 1;
    });
    assert_eq!(n, 2);
}

/// `generator = "fast"` selects the fast normal generator: a run differs from
/// the default (TVB's stream) with the same seed, repeats itself, and an
/// unknown generator name is an error that names the accepted ones.
#[test]
fn noise_generator_is_selectable() {
    let cfg = |generator: &str| -> SimulationConfig {
        serde_json::from_str(&format!(
            r#"{{"connectome": "connectivity_76.zip", "model": {{"name": "Generic2dOscillator"}},
                "dt": 0.1, "duration_ms": 5.0, "integrator": "Heun",
                "noise": {{"nsig": [1e-3], "seed": 3 {generator}}},
                "monitors": [{{"kind": "Raw"}}]}}"#
        ))
        .unwrap()
    };
    let last = |c: SimulationConfig| {
        let mut sim = c.build(&data_dir()).unwrap();
        let mut out = Vec::new();
        sim.run(c.n_steps(), &mut |_, s| out = s.data.to_vec());
        out
    };
    assert_eq!(cfg("").noise.unwrap().generator, NoiseGenerator::Numpy);
    let fast = cfg(r#", "generator": "fast""#);
    assert_eq!(fast.noise.as_ref().unwrap().generator, NoiseGenerator::Fast);
    let (a, b) = (last(fast.clone()), last(fast));
    assert_eq!(a, b);
    assert_ne!(a, last(cfg(r#", "generator": "numpy""#)));
    let err = serde_json::from_str::<SimulationConfig>(
        r#"{"connectome": "c.zip", "model": {"name": "Generic2dOscillator"}, "duration_ms": 1,
            "noise": {"nsig": [1e-3], "generator": "mersenne"}}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("mersenne") && err.contains("fast"), "{err}");
}
