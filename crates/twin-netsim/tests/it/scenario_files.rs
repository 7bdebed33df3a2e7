//! Malformed scenario files give errors naming the file, line and field.

use std::io::Write;

use twin_netsim::{ProblemKind, Scenario, ScenarioError};

use crate::{scenario_path, secs};

/// Writes `text` to a temporary `.toml` file and parses it.
fn parse_file(text: &str) -> (tempfile::NamedTempFile, ScenarioError) {
    let mut f = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    let err = Scenario::from_file(f.path()).expect_err("scenario is malformed");
    (f, err)
}

fn manet() -> String {
    std::fs::read_to_string(scenario_path("manet-ns3.toml")).unwrap()
}

/// The 1-based line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).unwrap()].matches('\n').count() + 1
}

fn check(text: &str, needle: &str, field: &str, kind: ProblemKind) {
    let (file, err) = parse_file(text);
    let d = &err.diagnostics()[0];
    assert_eq!(d.file.as_deref(), Some(file.path()));
    assert_eq!(d.line, line_of(text, needle), "{err}");
    assert_eq!(d.field, field, "{err}");
    assert_eq!(d.kind, kind, "{err}");
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("{}:{}:", file.path().display(), d.line)),
        "{shown}"
    );
    assert!(shown.contains(field), "{shown}");
}

#[test]
fn unknown_protocol() {
    let t = manet().replace("protocol = \"aodv\"", "protocol = \"babel\"");
    check(&t, "\"babel\"", "routing.protocol", ProblemKind::Schema);
}

#[test]
fn node_without_mobility() {
    let t = manet().replace(
        "radio = \"wifi\"\nmobility = { model = \"random-waypoint\", area = { min = [0, 0, 0], max = [1500, 300, 0] }, speed = [0.0, 20.0], pause = \"0s\" }",
        "radio = \"wifi\"",
    );
    check(&t, "[[nodes]]", "nodes[0].mobility", ProblemKind::Schema);
}

#[test]
fn negative_rate() {
    let t = manet().replacen("rate = 4.0", "rate = -4.0", 1);
    check(&t, "rate = -4.0", "flows[0].rate", ProblemKind::Range);
}

#[test]
fn flow_to_missing_node() {
    let t = manet().replacen("dst = \"n3\"", "dst = \"n999\"", 1);
    check(&t, "\"n999\"", "flows[3].dst", ProblemKind::Reference);
}

#[test]
fn missing_file_is_an_io_error() {
    let err = Scenario::from_file("/nonexistent/net.toml").unwrap_err();
    assert!(matches!(err, ScenarioError::Io { .. }));
    assert!(err.to_string().contains("/nonexistent/net.toml"));
}

/// A two-node scenario replaying `trace` (an ns-2 movement file).
fn ns2_scenario(dir: &std::path::Path, trace: &str, count: u32) -> std::path::PathBuf {
    std::fs::write(dir.join("moves.ns2"), trace).unwrap();
    let sc = format!(
        "[simulation]\nname = \"replay\"\nduration = \"20s\"\n\
         [radios.wifi]\nstandard = \"802.11b\"\n\
         [routing]\nprotocol = \"aodv\"\n\
         [[nodes]]\nname = \"n\"\ncount = {count}\n\
         mobility = {{ model = \"ns2-trace\", file = \"moves.ns2\" }}\n"
    );
    let path = dir.join("replay.toml");
    std::fs::write(&path, sc).unwrap();
    path
}

#[test]
fn ns2_movement_files_are_replayed() {
    let d = tempfile::tempdir().unwrap();
    let trace = "$node_(0) set X_ 0.0\n$node_(0) set Y_ 0.0\n$node_(1) set X_ 100.0\n\
                 $ns_ at 2.0 \"$node_(0) setdest 200.0 0.0 20.0\"\n";
    let sc = twin_netsim::Scenario::from_file(ns2_scenario(d.path(), trace, 2)).unwrap();
    let mut sim = twin_netsim::Simulation::from_scenario(&sc).unwrap();
    sim.step_until(secs(7)).unwrap();
    let p = sim.positions();
    // Moving at 20 m/s since 2 s: x = 100 at 7 s; node 1 stays.
    assert!((p[0].xyz[0] - 100.0).abs() < 1e-6, "{:?}", p[0]);
    assert!((p[0].velocity[0] - 20.0).abs() < 1e-6, "{:?}", p[0]);
    assert_eq!(p[1].xyz, [100.0, 0.0, 0.0]);
    sim.step_until(secs(15)).unwrap();
    assert!((sim.positions()[0].xyz[0] - 200.0).abs() < 1e-6);
}

#[test]
fn ns2_trace_problems_are_located() {
    let d = tempfile::tempdir().unwrap();
    // A malformed line: located in the movement file.
    let bad = "$node_(0) set X_ 0.0\n$ns_ at 1.0 \"$node_(0) setdest 5 5 fast\"\n";
    let e = twin_netsim::Scenario::from_file(ns2_scenario(d.path(), bad, 1)).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("moves.ns2:2:"), "{msg}");
    assert!(msg.contains("speed"), "{msg}");
    // Too few nodes in the file: located at the scenario's `file` field.
    let one = "$node_(0) set X_ 0.0\n";
    let e = twin_netsim::Scenario::from_file(ns2_scenario(d.path(), one, 2)).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("replay.toml:") && msg.contains("$node_(1)"),
        "{msg}"
    );
    // A missing file.
    std::fs::remove_file(d.path().join("moves.ns2")).unwrap();
    let sc = d.path().join("replay.toml");
    let e = twin_netsim::Scenario::from_file(&sc).unwrap_err();
    assert!(e.to_string().contains("cannot read movement file"), "{e}");
}
