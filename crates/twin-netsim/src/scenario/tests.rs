//! Parsing and validation of scenario files, including the located
//! diagnostics of malformed ones.

use super::*;

const BASE: &str = r#"[simulation]
name = "t"
duration = "10s"

[radios.wifi]
tx_power_dbm = 7.5

[routing]
protocol = "aodv"

[[nodes]]
name = "n"
count = 3
mobility = { model = "line", start = [0, 0, 0], spacing = [100, 0, 0] }

[[nodes]]
name = "base"
mobility = { model = "constant", position = [0, 50, 10] }

[[flows]]
src = "n0"
dst = "base"
rate = 4.0
size = 512
"#;

fn diag(text: &str) -> Vec<Diagnostic> {
    match Scenario::parse(text, Some(Path::new("x.toml"))) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.diagnostics().to_vec(),
    }
}

/// 1-based (line, column) of the first occurrence of `needle`.
fn pos(text: &str, needle: &str) -> (usize, usize) {
    let off = text.find(needle).expect("needle present");
    let line = text[..off].matches('\n').count() + 1;
    let col = off - text[..off].rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

#[test]
fn valid_scenario_parses_with_defaults_and_expanded_names() {
    let s = Scenario::parse(BASE, None).unwrap();
    assert_eq!(s.node_names(), vec!["n0", "n1", "n2", "base"]);
    assert_eq!(s.routing.protocol, Protocol::Aodv);
    assert_eq!(s.mac.retry_limit, 7);
    assert_eq!(s.radios["wifi"].rate_mbps, 11.0);
    assert_eq!(s.flows[0].kind, TrafficKind::Cbr);
}

#[test]
fn unknown_protocol_is_located_at_its_value() {
    let text = BASE.replace("protocol = \"aodv\"", "protocol = \"dsr\"");
    let d = diag(&text);
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].line, d[0].column), pos(&text, "\"dsr\""));
    assert_eq!(d[0].field, "routing.protocol");
    assert_eq!(d[0].kind, ProblemKind::Schema);
    assert!(
        d[0].message.contains("unknown variant `dsr`"),
        "{}",
        d[0].message
    );
    assert!(
        d[0].message.contains("`aodv`"),
        "lists the choices: {}",
        d[0].message
    );
}

#[test]
fn node_without_mobility_names_the_missing_field() {
    let text = BASE.replace(
        "name = \"base\"\nmobility = { model = \"constant\", position = [0, 50, 10] }\n",
        "name = \"base\"\n",
    );
    let d = diag(&text);
    assert_eq!(d[0].field, "nodes[1].mobility");
    assert_eq!(d[0].kind, ProblemKind::Schema);
    assert_eq!(d[0].line, pos(&text, "[[nodes]]\nname = \"base\"").0);
    assert!(d[0].message.contains("missing field `mobility`"));
}

#[test]
fn negative_rate_is_a_range_error_at_its_value() {
    let text = BASE.replace("rate = 4.0", "rate = -4.0");
    let d = diag(&text);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].field, "flows[0].rate");
    assert_eq!(d[0].kind, ProblemKind::Range);
    assert_eq!((d[0].line, d[0].column), pos(&text, "-4.0"));
    assert!(d[0].message.contains("-4"), "{}", d[0].message);
}

#[test]
fn flow_to_missing_node_is_a_reference_error() {
    let text = BASE.replace("dst = \"base\"", "dst = \"tower\"");
    let d = diag(&text);
    assert_eq!(d[0].field, "flows[0].dst");
    assert_eq!(d[0].kind, ProblemKind::Reference);
    assert_eq!((d[0].line, d[0].column), pos(&text, "\"tower\""));
    assert!(d[0].message.contains("\"tower\""));
}

#[test]
fn every_semantic_problem_is_reported() {
    let text = BASE
        .replace("dst = \"base\"", "dst = \"tower\"")
        .replace("rate = 4.0", "rate = -4.0")
        .replace("count = 3", "count = 0");
    let fields: Vec<String> = diag(&text).into_iter().map(|d| d.field).collect();
    // count = 0 also removes n0, the flow's source.
    assert_eq!(
        fields,
        vec![
            "nodes[0].count",
            "flows[0].src",
            "flows[0].dst",
            "flows[0].rate"
        ]
    );
}

#[test]
fn random_waypoint_needs_the_local_frame() {
    let text = BASE
        .replace("duration = \"10s\"", "duration = \"10s\"\nframe = \"wgs84\"")
        .replace(
            "{ model = \"line\", start = [0, 0, 0], spacing = [100, 0, 0] }",
            "{ model = \"random-waypoint\", area = { min = [0, 0, 0], max = [10, 10, 0] }, speed = [1, 2] }",
        );
    let d = diag(&text);
    assert_eq!(d[0].field, "nodes[0].mobility.model");
    assert_eq!(d[0].kind, ProblemKind::Incompatible);
}

#[test]
fn duplicate_node_names_are_reported() {
    let text = BASE.replace("name = \"base\"", "name = \"n1\"");
    let d = diag(&text);
    assert_eq!(d[0].kind, ProblemKind::Duplicate);
    assert_eq!(d[0].field, "nodes[1].name");
}

#[test]
fn unknown_keys_are_schema_errors() {
    let text = BASE.replace("size = 512", "size = 512\nburst = 3");
    let d = diag(&text);
    assert_eq!(d[0].kind, ProblemKind::Schema);
    assert!(
        d[0].message.contains("unknown field `burst`"),
        "{}",
        d[0].message
    );
    assert_eq!(d[0].line, pos(&text, "burst").0);
}

#[test]
fn display_reads_file_line_column_field_message() {
    let text = BASE.replace("rate = 4.0", "rate = -4.0");
    let err = Scenario::parse(&text, Some(Path::new("net/x.toml"))).unwrap_err();
    let (l, c) = pos(&text, "-4.0");
    assert_eq!(
        err.to_string(),
        format!("net/x.toml:{l}:{c}: flows[0].rate: must be a finite number > 0 (got -4)")
    );
}

#[test]
fn syntax_errors_are_located() {
    let d = diag("[simulation\nname = 1");
    assert_eq!(d[0].kind, ProblemKind::Syntax);
    assert_eq!(d[0].line, 1);
}

#[test]
fn validate_checks_scenarios_edited_in_code() {
    let mut s = Scenario::parse(BASE, None).unwrap();
    s.flows[0].rate = f64::NAN;
    let e = s.validate().unwrap_err();
    assert_eq!(e.diagnostics()[0].field, "flows[0].rate");
    assert_eq!(e.diagnostics()[0].line, 0);
}
