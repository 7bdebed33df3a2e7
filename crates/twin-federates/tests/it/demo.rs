use std::path::Path;

use twin_bus::Bus;
use twin_core::SimDuration;
use twin_federates::{build, BuildOptions, Catalog};
use twin_scenario::Scenario;

/// The bundled demo scenario is valid and runs with every member, the
/// brain included, without data files.
#[test]
fn bundled_demo_runs_with_every_member() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/demo.toml");
    let mut s = Scenario::from_file(&path).unwrap();
    s.check(&Catalog).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for m in &mut s.members {
        if m.kind == "recorder" {
            let out = dir.path().join("rec.jsonl");
            m.params.insert(
                "path".into(),
                toml::Value::String(out.display().to_string()),
            );
        }
    }
    s.federation.end = SimDuration::from_secs(2);
    let mut fed = build(&s, Bus::in_memory(), BuildOptions::default()).unwrap();
    let summary = fed.run(&mut |_| {}).unwrap();
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    let names: Vec<&str> = summary.steps.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["points", "ticker", "recorder", "network", "brain", "logger"]
    );
    let brain_steps = summary.steps.iter().find(|(n, _)| n == "brain").unwrap().1;
    assert_eq!(brain_steps, 20, "2 s at 100 ms steps");
    let topics: Vec<String> = fed
        .bus()
        .topics()
        .into_iter()
        .map(|t| t.descriptor.name)
        .collect();
    assert!(
        topics.contains(&"twin/brain/monitor/tavg".to_string()),
        "{topics:?}"
    );
    let tavg = fed
        .bus()
        .topics()
        .into_iter()
        .find(|t| t.descriptor.name == "twin/brain/monitor/tavg")
        .unwrap();
    assert_eq!(tavg.samples_written, 200, "10 ms monitor over 2 s");
    let pos = fed
        .bus()
        .topics()
        .into_iter()
        .find(|t| t.descriptor.name == "twin/net/node/position")
        .unwrap();
    assert_eq!(
        pos.samples_written,
        22 * 21,
        "22 nodes at 10 Hz, t = 0 … 2 s"
    );
}
