//! Incremental `.npy` + JSON output of monitor samples.

use twin_brain::{
    models::Generic2dOscillator,
    monitors::{Raw, TemporalAverage},
    npy::read_npy,
    output::OutputWriter,
    Connectome, Coupling, InitialConditions, SimulatorBuilder,
};

use crate::common::data;

#[test]
fn writes_npy_per_monitor_and_metadata() {
    let conn = Connectome::from_zip(data("tvb-data/connectivity_76.zip")).unwrap();
    let mut sim = SimulatorBuilder::new(conn, Box::new(Generic2dOscillator::default()))
        .coupling(Coupling::linear(0.0154))
        .speed(4.0)
        .dt(0.1)
        .initial(InitialConditions::Constant(vec![0.1; 152]))
        .voi(["V", "W"])
        .monitor(Raw::new())
        .monitor(TemporalAverage::new(1.0))
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut out = OutputWriter::create(dir.path(), &sim, true, serde_json::json!({"seed": 1}))
        .unwrap()
        .flush_every(7);
    let mut last_raw = Vec::new();
    sim.run(100, &mut |k, s| {
        out.write(k, &s).unwrap();
        if k == 0 {
            last_raw = s.data.to_vec();
        }
    });
    // Before finish: the flushed part is already a valid file (a crash keeps it).
    let partial = read_npy(dir.path().join("raw.npy")).unwrap();
    assert_eq!(partial.shape, vec![98, 2, 76]);
    out.finish().unwrap();
    let raw = read_npy(dir.path().join("raw.npy")).unwrap();
    assert_eq!(raw.shape, vec![100, 2, 76]);
    assert_eq!(&raw.to_f64().unwrap()[99 * 152..], &last_raw[..]);
    let tavg = read_npy(dir.path().join("tavg.npy")).unwrap();
    assert_eq!(tavg.shape, vec![10, 2, 76]);
    let t = read_npy(dir.path().join("tavg_time.npy"))
        .unwrap()
        .to_f64()
        .unwrap();
    // First output at step H + 5 (the first multiple of 10), stamped mid-window.
    assert!((t[0] - sim.horizon() as f64 * 0.1).abs() < 1e-9, "{t:?}");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("metadata.json")).unwrap())
            .unwrap();
    assert_eq!(meta["model"], "Generic2dOscillator");
    assert_eq!(meta["samples"]["raw"], 100);
    assert_eq!(meta["monitors"][1]["name"], "tavg");
    assert_eq!(meta["run"]["seed"], 1);
    let csv = std::fs::read_to_string(dir.path().join("tavg.csv")).unwrap();
    assert_eq!(csv.lines().count(), 11);
    assert!(csv.starts_with("time_ms,V_0,V_1"));
}
