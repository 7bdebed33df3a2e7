use std::path::Path;

use twin_core::{Epoch, SimDuration};

use crate::{
    Diagnostic, FederationSpec, Location, MemberLostPolicy, Scenario, ScenarioError, StartState,
    TimeMode,
};

/// A frozen copy of the first demo scenario: parser tests must not change
/// when the product demo gains members (that is checked in twin-federates).
const DEMO: &str = include_str!("../../tests/data/demo-fixture.toml");

fn ms(n: u64) -> SimDuration {
    SimDuration::from_millis(n)
}

fn parse_ok(src: &str) -> Scenario {
    match Scenario::parse(src, "t.toml") {
        Ok(s) => s,
        Err(e) => panic!("expected a valid scenario, got:\n{e}"),
    }
}

/// Every diagnostic as `(line, column, field, message)`.
fn errors(src: &str) -> Vec<(usize, usize, String, String)> {
    match Scenario::parse(src, "t.toml") {
        Ok(s) => panic!("expected errors, got {s:#?}"),
        Err(ScenarioError::Invalid(d)) => d
            .into_vec()
            .into_iter()
            .map(|d| (d.line, d.column, d.field, d.message))
            .collect(),
        Err(e) => panic!("expected Invalid, got {e:?}"),
    }
}

/// Every diagnostic as `(line, field)`, for tests about which and where.
fn where_(src: &str) -> Vec<(usize, String)> {
    errors(src).into_iter().map(|(l, _, f, _)| (l, f)).collect()
}

const MINIMAL: &str = r#"[federation]
name = "x"
end = "1s"

[[member]]
name = "a"
kind = "k"
"#;

#[test]
fn full_scenario_parses_into_typed_struct() {
    let src = r#"[federation]
name = "demo"
end = "30s"
dt = "50ms"
pacing = 1.5
epoch = "2026-01-01T00:00:00Z"
seed = 42
on_member_lost = "drop"
liveliness_lease = "3s"
stall_warning = "1.5s"
start = "frozen"

[[member]]
name = "points"
kind = "moving-points"
time = "stepped"
dt = "10ms"
[member.params]
count = 16
label = "p"

[[member]]
name = "tick-2"
kind = "event-ticker"
time = "event"
lookahead = "5ms"
"#;
    let s = parse_ok(src);
    assert_eq!(s.origin, "t.toml");
    let f = &s.federation;
    assert_eq!(f.name, "demo");
    assert_eq!(f.end, SimDuration::from_secs(30));
    assert_eq!(f.dt, ms(50));
    assert_eq!(f.pacing, 1.5);
    assert_eq!(f.epoch, Epoch::from_civil(2026, 1, 1, 0, 0, 0).unwrap());
    assert_eq!(f.seed, 42);
    assert_eq!(f.on_member_lost, MemberLostPolicy::Drop);
    assert_eq!(f.liveliness_lease, SimDuration::from_secs(3));
    assert_eq!(f.stall_warning, ms(1500));
    assert_eq!(f.start, StartState::Frozen);

    assert_eq!(s.members.len(), 2);
    let p = &s.members[0];
    assert_eq!(
        (p.name.as_str(), p.kind.as_str()),
        ("points", "moving-points")
    );
    assert_eq!(p.time, Some(TimeMode::Stepped));
    assert_eq!(p.dt, Some(ms(10)));
    assert_eq!(p.effective_dt(f), ms(10));
    assert_eq!(p.lookahead, SimDuration::ZERO);
    assert_eq!(p.params.get("count"), Some(&toml::Value::Integer(16)));
    assert_eq!(
        p.params.get("label"),
        Some(&toml::Value::String("p".into()))
    );
    assert_eq!(
        p.location,
        Location {
            line: 13,
            column: 1
        }
    );
    assert_eq!(
        p.locations.kind,
        Location {
            line: 15,
            column: 8
        }
    );
    assert_eq!(
        p.locations.dt,
        Some(Location {
            line: 17,
            column: 6
        })
    );
    assert_eq!(
        p.locations.params,
        Location {
            line: 18,
            column: 1
        }
    );
    assert_eq!(
        p.locations.param_keys["label"],
        Location {
            line: 20,
            column: 1
        }
    );

    let t = &s.members[1];
    assert_eq!(t.time, Some(TimeMode::Event));
    assert_eq!(t.dt, None);
    assert_eq!(t.lookahead, ms(5));
    assert!(t.params.is_empty());
    assert_eq!(t.locations.params, t.location);
    assert_eq!(s.member("tick-2"), Some(t));
}

#[test]
fn optional_fields_take_defaults() {
    let s = parse_ok(MINIMAL);
    let mut expected = FederationSpec::new("x", SimDuration::from_secs(1));
    expected.dt = ms(100);
    assert_eq!(s.federation, expected);
    assert_eq!(s.federation.pacing, 0.0);
    assert_eq!(s.federation.epoch, Epoch::UNIX);
    assert_eq!(s.federation.seed, 0);
    assert_eq!(s.federation.on_member_lost, MemberLostPolicy::Freeze);
    assert_eq!(s.federation.liveliness_lease, SimDuration::from_secs(2));
    assert_eq!(s.federation.stall_warning, SimDuration::from_secs(5));
    assert_eq!(s.federation.start, StartState::Running);
    let m = &s.members[0];
    assert_eq!((m.time, m.dt, m.lookahead), (None, None, SimDuration::ZERO));
    assert_eq!(m.effective_dt(&s.federation), ms(100));
}

#[test]
fn demo_fixture_parses() {
    let s = parse_ok(DEMO);
    let f = &s.federation;
    assert_eq!(
        (f.name.as_str(), f.end, f.dt),
        ("demo", SimDuration::from_secs(60), ms(100))
    );
    assert_eq!((f.pacing, f.seed), (0.0, 7));
    assert_eq!(f.epoch, "2026-01-01T00:00:00Z".parse().unwrap());
    let names: Vec<_> = s
        .members
        .iter()
        .map(|m| (m.name.as_str(), m.kind.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("points", "moving-points"),
            ("ticker", "event-ticker"),
            ("recorder", "recorder"),
            ("logger", "logger"),
        ]
    );
    assert_eq!(s.members[1].time, Some(TimeMode::Event));
    assert_eq!(s.members[3].time, Some(TimeMode::None));
    assert_eq!(s.members[0].params["radius_m"], toml::Value::Float(500.0));
    let topics = s.members[2].params["topics"].as_array().unwrap();
    assert_eq!(topics[1].as_str(), Some("twin/demo/tick"));
}

#[test]
fn syntax_error_reports_line_and_column() {
    let src = "[federation]\nname = \"demo\"\nend = \"30s\nseed = 1\n";
    let e = errors(src);
    assert_eq!(e.len(), 1);
    let (line, column, field, message) = &e[0];
    assert_eq!((*line, *column, field.as_str()), (3, 11, ""));
    assert!(
        message.starts_with("TOML syntax error: invalid basic string"),
        "{message}"
    );
}

#[test]
fn syntax_error_column_counts_characters() {
    let src = "[federation]\nname = \"dämo\" x\n";
    let e = errors(src);
    assert_eq!((e[0].0, e[0].1), (2, 15));
}

#[test]
fn negative_member_dt_names_field_and_line() {
    let src = format!("{MINIMAL}\n[[member]]\nname = \"b\"\nkind = \"k\"\n  dt = \"-5ms\"\n");
    let e = errors(&src);
    assert_eq!(
        e,
        [(
            12,
            8,
            "member[1].dt".to_owned(),
            "duration must be positive (got \"-5ms\")".to_owned()
        )]
    );
    let shown = Scenario::parse(&src, "scenarios/x.toml")
        .unwrap_err()
        .to_string();
    assert_eq!(
        shown,
        "scenarios/x.toml:12:8: member[1].dt: duration must be positive (got \"-5ms\")"
    );
}

#[test]
fn zero_end_is_rejected() {
    let src = MINIMAL.replace("end = \"1s\"", "end = \"0s\"");
    assert_eq!(
        errors(&src),
        [(
            3,
            7,
            "federation.end".to_owned(),
            "duration must be positive (got \"0s\")".to_owned()
        )]
    );
}

#[test]
fn missing_end_is_reported_at_federation_header() {
    let src = MINIMAL.replace("end = \"1s\"\n", "");
    assert_eq!(
        errors(&src),
        [(
            1,
            1,
            "federation.end".to_owned(),
            "missing required field `end` in `federation`".to_owned()
        )]
    );
}

#[test]
fn unknown_key_suggests_closest() {
    let src = "[federation]\nname = \"x\"\nend = \"1s\"\nstal_warning = \"1s\"\n\n\
               [[member]]\nname = \"a\"\nkind = \"k\"\nlookahaed = \"1ms\"\n";
    let e = errors(src);
    assert_eq!(
        e,
        [
            (
                4,
                1,
                "federation.stal_warning".to_owned(),
                "unknown key `stal_warning` (did you mean `stall_warning`?)".to_owned()
            ),
            (
                9,
                1,
                "member[0].lookahaed".to_owned(),
                "unknown key `lookahaed` (did you mean `lookahead`?)".to_owned()
            ),
        ]
    );
}

#[test]
fn unknown_key_without_close_match_lists_valid_keys() {
    let src = format!("{MINIMAL}colour = \"red\"\n");
    let e = errors(&src);
    assert_eq!((e[0].0, e[0].2.as_str()), (8, "member[0].colour"));
    assert_eq!(
        e[0].3,
        "unknown key `colour`; expected one of: name, kind, time, dt, lookahead, params"
    );
}

#[test]
fn unknown_top_level_table_is_reported() {
    let src = format!("{MINIMAL}\n[[members]]\nname = \"b\"\n");
    let e = errors(&src);
    assert_eq!((e[0].0, e[0].2.as_str()), (9, "members"));
    assert_eq!(e[0].3, "unknown key `members` (did you mean `member`?)");
}

#[test]
fn keys_inside_params_are_not_checked() {
    let src = format!("{MINIMAL}[member.params]\nanything_goes = 1\nnested.deep = true\n");
    let s = parse_ok(&src);
    assert_eq!(s.members[0].params.len(), 2);
    assert_eq!(
        s.members[0].locations.param_keys["nested.deep"],
        Location {
            line: 10,
            column: 8
        }
    );
}

#[test]
fn duplicate_member_names_are_reported() {
    let src = format!("{MINIMAL}\n[[member]]\nname = \"b\"\nkind = \"k\"\n\n[[member]]\nname = \"a\"\nkind = \"k\"\n");
    let e = errors(&src);
    assert_eq!(
        e,
        [(
            14,
            8,
            "member[2].name".to_owned(),
            "duplicate member name \"a\" (first used by member[0] at line 6)".to_owned()
        )]
    );
}

#[test]
fn duplicate_names_are_found_even_when_members_have_other_errors() {
    let src = format!("{MINIMAL}dt = \"0s\"\n[[member]]\nname = \"a\"\nparams = 3\n");
    assert_eq!(
        errors(&src),
        [
            (
                8,
                6,
                "member[0].dt".to_owned(),
                "duration must be positive (got \"0s\")".to_owned()
            ),
            (
                9,
                1,
                "member[1].kind".to_owned(),
                "missing required field `kind` in `member[1]`".to_owned()
            ),
            (
                10,
                8,
                "member[1].name".to_owned(),
                "duplicate member name \"a\" (first used by member[0] at line 6)".to_owned()
            ),
            (
                11,
                10,
                "member[1].params".to_owned(),
                "expected a table `[member.params]`, got integer".to_owned()
            ),
        ]
    );
}

#[test]
fn bad_member_name_is_rejected() {
    for bad in ["Points", "-a", "", "a b", "ä"] {
        let src = MINIMAL.replace("name = \"a\"", &format!("name = {bad:?}"));
        let e = where_(&src);
        assert_eq!(e, [(6, "member[0].name".to_owned())], "name {bad:?}");
    }
    for good in ["a", "0", "a_b-c9"] {
        parse_ok(&MINIMAL.replace("name = \"a\"", &format!("name = {good:?}")));
    }
}

#[test]
fn dt_with_event_or_none_time_is_rejected() {
    let src = format!("{MINIMAL}time = \"event\"\ndt = \"1ms\"\n");
    let e = errors(&src);
    assert_eq!((e[0].0, e[0].2.as_str()), (9, "member[0].dt"));
    assert_eq!(
        e[0].3,
        "`dt` applies only to time-stepped members, but time = \"event\""
    );
    let src = format!("{MINIMAL}time = \"none\"\ndt = \"1ms\"\n");
    assert_eq!(where_(&src), [(9, "member[0].dt".to_owned())]);
}

#[test]
fn lookahead_with_stepped_time_is_rejected_and_negative_lookahead_too() {
    let src = format!("{MINIMAL}time = \"stepped\"\nlookahead = \"1ms\"\n");
    assert_eq!(where_(&src), [(9, "member[0].lookahead".to_owned())]);
    let src = format!("{MINIMAL}time = \"event\"\nlookahead = \"-1ms\"\n");
    let e = errors(&src);
    assert_eq!(e[0].3, "duration must not be negative (got \"-1ms\")");
    let src = format!("{MINIMAL}time = \"event\"\nlookahead = \"0s\"\n");
    assert_eq!(parse_ok(&src).members[0].lookahead, SimDuration::ZERO);
}

#[test]
fn several_errors_are_all_reported_in_file_order() {
    let src = r#"[federation]
name = ""
end = "0s"
pacing = -1.0
seed = -3
start = "runing"

[[member]]
name = "Bad Name"
kind = "k"
dt = "fast"

[[member]]
kind = 3
time = "sometimes"
"#;
    let e = errors(src);
    let fields: Vec<_> = e.iter().map(|(l, c, f, _)| (*l, *c, f.as_str())).collect();
    assert_eq!(
        fields,
        [
            (2, 8, "federation.name"),
            (3, 7, "federation.end"),
            (4, 10, "federation.pacing"),
            (5, 8, "federation.seed"),
            (6, 9, "federation.start"),
            (9, 8, "member[0].name"),
            (11, 6, "member[0].dt"),
            (13, 1, "member[1].name"),
            (14, 8, "member[1].kind"),
            (15, 8, "member[1].time"),
        ]
    );
    assert_eq!(
        e[4].3,
        r#"expected one of "running", "frozen" (got "runing"); did you mean "running"?"#
    );
    assert_eq!(e[7].3, "missing required field `name` in `member[1]`");
    assert_eq!(e[8].3, "expected a string, got integer");
    assert!(e[6].3.contains("needs a unit"), "{}", e[6].3);
}

#[test]
fn integer_durations_count_nanoseconds() {
    let s = parse_ok(&MINIMAL.replace("end = \"1s\"", "end = 2500"));
    assert_eq!(s.federation.end, SimDuration::from_nanos(2500));
    let e = errors(&MINIMAL.replace("end = \"1s\"", "end = -5"));
    assert_eq!(e[0].3, "duration must be positive (got -5)");
    let e = errors(&MINIMAL.replace("end = \"1s\"", "end = 1.5"));
    assert_eq!(
        e[0].3,
        "expected a duration with a unit such as \"100ms\", or an integer number of nanoseconds, got float"
    );
}

#[test]
fn pacing_must_be_finite_and_non_negative() {
    let with = |v: &str| MINIMAL.replace("end = \"1s\"", &format!("end = \"1s\"\npacing = {v}"));
    assert_eq!(parse_ok(&with("1")).federation.pacing, 1.0);
    for bad in ["nan", "inf", "-0.5"] {
        assert_eq!(
            where_(&with(bad)),
            [(4, "federation.pacing".to_owned())],
            "{bad}"
        );
    }
}

#[test]
fn epoch_accepts_strings_and_toml_datetimes() {
    let with = |v: &str| MINIMAL.replace("end = \"1s\"", &format!("end = \"1s\"\nepoch = {v}"));
    let want: Epoch = "2026-01-01T00:00:00Z".parse().unwrap();
    assert_eq!(
        parse_ok(&with("2026-01-01T00:00:00Z")).federation.epoch,
        want
    );
    assert_eq!(parse_ok(&with("\"2026001.000000\"")).federation.epoch, want);
    let e = errors(&with("\"yesterday\""));
    assert_eq!((e[0].0, e[0].2.as_str()), (4, "federation.epoch"));
    assert!(
        e[0].3.starts_with("invalid epoch `yesterday`"),
        "{}",
        e[0].3
    );
}

#[test]
fn missing_tables_are_reported() {
    assert_eq!(
        where_(""),
        [(1, "federation".to_owned()), (1, "member".to_owned())]
    );
    let e = errors("[federation]\nname = \"x\"\nend = \"1s\"\n");
    assert_eq!(e[0].3, "a scenario needs at least one `[[member]]` table");
    let e = errors(&format!(
        "federation = 3\n{}",
        &MINIMAL[MINIMAL.find("[[").unwrap()..]
    ));
    assert_eq!((e[0].0, e[0].2.as_str()), (1, "federation"));
    assert_eq!(e[0].3, "expected a table `[federation]`, got integer");
    let e = errors("[federation]\nname = \"x\"\nend = \"1s\"\n[member]\nname = \"a\"\n");
    assert_eq!((e[0].0, e[0].2.as_str()), (4, "member"));
}

#[test]
fn inline_member_array_is_accepted() {
    let src = "member = [{ name = \"a\", kind = \"k\", params = { n = 1 } }]\n\
               [federation]\nname = \"x\"\nend = \"1s\"\n";
    let s = parse_ok(src);
    assert_eq!(
        s.members[0].location,
        Location {
            line: 1,
            column: 11
        }
    );
    assert_eq!(
        s.members[0].locations.param_keys["n"],
        Location {
            line: 1,
            column: 48
        }
    );
}

#[test]
fn from_file_uses_path_as_origin() {
    let dir = std::env::temp_dir().join(format!("twin-scenario-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(&path, MINIMAL.replace("\"1s\"", "\"0s\"")).unwrap();
    let err = Scenario::from_file(&path).unwrap_err();
    let d: &Diagnostic = &err.diagnostics().unwrap().as_slice()[0];
    assert_eq!(d.origin, path.display().to_string());
    std::fs::write(&path, MINIMAL).unwrap();
    assert_eq!(
        Scenario::from_file(&path).unwrap().origin,
        path.display().to_string()
    );
    std::fs::remove_dir_all(&dir).unwrap();

    let missing = Path::new("/nonexistent/twin/scenario.toml");
    match Scenario::from_file(missing) {
        Err(ScenarioError::Io { path, .. }) => assert_eq!(path, missing),
        other => panic!("expected Io, got {other:?}"),
    }
}
