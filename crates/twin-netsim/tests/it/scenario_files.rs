//! Malformed scenario files give errors naming the file, line and field.

use std::io::Write;

use twin_netsim::{ProblemKind, Scenario, ScenarioError};

use crate::scenario_path;

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
