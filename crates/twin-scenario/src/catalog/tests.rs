use std::path::Path;

use twin_core::SimDuration;

use crate::{KindCatalog, Location, ParamIssue, Scenario, TimeMode};

/// The demo kinds, with a few parameter rules to exercise the reporting.
struct Demo;

impl KindCatalog for Demo {
    fn kinds(&self) -> Vec<&'static str> {
        vec![
            "moving-points",
            "event-ticker",
            "recorder",
            "logger",
            "manual",
        ]
    }

    fn default_time(&self, kind: &str) -> Option<TimeMode> {
        match kind {
            "moving-points" | "recorder" => Some(TimeMode::Stepped),
            "event-ticker" => Some(TimeMode::Event),
            "logger" => Some(TimeMode::None),
            _ => None,
        }
    }

    fn check_params(&self, kind: &str, params: &toml::Table) -> Result<(), Vec<ParamIssue>> {
        let mut issues = Vec::new();
        if kind == "moving-points" {
            match params.get("count").map(|v| v.as_integer()) {
                None => issues.push(ParamIssue::table("missing required key `count`")),
                Some(Some(n)) if n > 0 => {}
                Some(_) => issues.push(ParamIssue::at("count", "must be a positive integer")),
            }
            if let Some(g) = params.get("antenna").and_then(|a| a.get("gain")) {
                if g.as_float().is_none() {
                    issues.push(ParamIssue::at("antenna.gain", "must be a float [dBi]"));
                }
            }
            if params.contains_key("ghost") {
                issues.push(ParamIssue::at("ghost.inner", "nested key not written"));
            }
        }
        if issues.is_empty() {
            Ok(())
        } else {
            Err(issues)
        }
    }
}

fn parse(src: &str) -> Scenario {
    Scenario::parse(src, "t.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// Check diagnostics as `(line, column, field, message)`.
fn check_errors(src: &str) -> Vec<(usize, usize, String, String)> {
    match parse(src).check(&Demo) {
        Ok(()) => panic!("expected check errors"),
        Err(d) => d
            .into_vec()
            .into_iter()
            .map(|d| (d.line, d.column, d.field, d.message))
            .collect(),
    }
}

const HEAD: &str = "[federation]\nname = \"x\"\nend = \"1s\"\n";

#[test]
fn demo_fixture_passes_check() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/demo-fixture.toml");
    let s = Scenario::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
    s.check(&Demo).unwrap_or_else(|e| panic!("{e}"));
    let modes: Vec<_> = s.members.iter().map(|m| m.time_mode(&Demo)).collect();
    assert_eq!(
        modes,
        [
            TimeMode::Stepped,
            TimeMode::Event,
            TimeMode::Stepped,
            TimeMode::None
        ]
    );
    assert_eq!(
        s.members[0].effective_dt(&s.federation),
        SimDuration::from_millis(100)
    );
}

#[test]
fn unknown_kind_names_kind_line_and_known_kinds() {
    let src = format!("{HEAD}\n[[member]]\nname = \"a\"\nkind = \"moving-point\"\n\n[[member]]\nname = \"b\"\nkind = \"teleporter\"\n");
    let e = check_errors(&src);
    assert_eq!(
        e,
        [
            (
                7,
                8,
                "member[0].kind".to_owned(),
                "unknown member kind \"moving-point\" (did you mean \"moving-points\"? known kinds: \
                 \"event-ticker\", \"logger\", \"manual\", \"moving-points\", \"recorder\")"
                    .to_owned()
            ),
            (
                11,
                8,
                "member[1].kind".to_owned(),
                "unknown member kind \"teleporter\" (known kinds: \"event-ticker\", \"logger\", \
                 \"manual\", \"moving-points\", \"recorder\")"
                    .to_owned()
            ),
        ]
    );
}

#[test]
fn param_issue_is_located_at_its_key() {
    let src = format!(
        "{HEAD}\n[[member]]\nname = \"a\"\nkind = \"moving-points\"\n[member.params]\nradius_m = 3.0\n  count = -2\n"
    );
    let e = check_errors(&src);
    assert_eq!(
        e,
        [(
            10,
            3,
            "member[0].params.count".to_owned(),
            "must be a positive integer".to_owned()
        )]
    );
    let shown = parse(&src).check(&Demo).unwrap_err().to_string();
    assert_eq!(
        shown,
        "t.toml:10:3: member[0].params.count: must be a positive integer"
    );
}

#[test]
fn nested_param_issue_is_located_at_nested_key_or_parent() {
    let src = format!(
        "{HEAD}[[member]]\nname = \"a\"\nkind = \"moving-points\"\n[member.params]\ncount = 1\n\
         antenna = {{ gain = \"high\" }}\nghost = 0\n"
    );
    let e = check_errors(&src);
    let located: Vec<_> = e.iter().map(|(l, c, f, _)| (*l, *c, f.as_str())).collect();
    assert_eq!(
        located,
        [
            (9, 13, "member[0].params.antenna.gain"),
            (10, 1, "member[0].params.ghost.inner"),
        ]
    );
}

#[test]
fn table_level_param_issue_is_located_at_params_header_or_member() {
    let src = format!("{HEAD}[[member]]\nname = \"a\"\nkind = \"moving-points\"\n[member.params]\nradius_m = 1.0\n");
    let e = check_errors(&src);
    assert_eq!(
        e,
        [(
            7,
            1,
            "member[0].params".to_owned(),
            "missing required key `count`".to_owned()
        )]
    );
    let src = format!("{HEAD}[[member]]\nname = \"a\"\nkind = \"moving-points\"\n");
    let e = check_errors(&src);
    assert_eq!(
        (e[0].0, e[0].1, e[0].2.as_str()),
        (4, 1, "member[0].params")
    );
}

#[test]
fn dt_on_member_whose_kind_defaults_to_event_is_rejected() {
    let src = format!("{HEAD}[[member]]\nname = \"t\"\nkind = \"event-ticker\"\ndt = \"10ms\"\n");
    let e = check_errors(&src);
    assert_eq!(
        e,
        [(
            7,
            6,
            "member[0].dt".to_owned(),
            "`dt` applies only to time-stepped members, but kind \"event-ticker\" runs with \
             time = \"event\""
                .to_owned()
        )]
    );
    // An explicit stepped mode overrides the kind's default, so dt is fine.
    let ok = src.replace("dt = ", "time = \"stepped\"\ndt = ");
    parse(&ok).check(&Demo).unwrap();
    assert_eq!(parse(&ok).members[0].time_mode(&Demo), TimeMode::Stepped);
}

#[test]
fn lookahead_on_member_whose_kind_defaults_to_stepped_is_rejected() {
    let src = format!("{HEAD}[[member]]\nname = \"r\"\nkind = \"recorder\"\nlookahead = \"1ms\"\n");
    let e = check_errors(&src);
    assert_eq!((e[0].0, e[0].2.as_str()), (7, "member[0].lookahead"));
}

#[test]
fn kind_without_default_time_needs_explicit_time() {
    let src = format!("{HEAD}[[member]]\nname = \"m\"\nkind = \"manual\"\n");
    let e = check_errors(&src);
    assert_eq!((e[0].0, e[0].1, e[0].2.as_str()), (4, 1, "member[0].time"));
    parse(&format!("{src}time = \"event\"\n"))
        .check(&Demo)
        .unwrap();
}

#[test]
fn check_reports_every_member() {
    let src = format!(
        "{HEAD}[[member]]\nname = \"a\"\nkind = \"nope\"\n[[member]]\nname = \"b\"\nkind = \"moving-points\"\n\
         params = {{ count = 0 }}\n[[member]]\nname = \"c\"\nkind = \"manual\"\n"
    );
    let fields: Vec<_> = check_errors(&src)
        .into_iter()
        .map(|(l, _, f, _)| (l, f))
        .collect();
    assert_eq!(
        fields,
        [
            (6, "member[0].kind".to_owned()),
            (10, "member[1].params.count".to_owned()),
            (11, "member[2].time".to_owned()),
        ]
    );
}

#[test]
fn member_locations_survive_for_check() {
    let s = parse(&format!(
        "{HEAD}[[member]]\nname = \"a\"\nkind = \"logger\"\n"
    ));
    assert_eq!(s.members[0].location, Location { line: 4, column: 1 });
    assert_eq!(s.members[0].locations.kind, Location { line: 6, column: 8 });
}
