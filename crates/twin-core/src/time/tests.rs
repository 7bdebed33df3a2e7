use super::*;

#[test]
fn parses_units_exactly() {
    let p = |s: &str| s.parse::<SimDuration>().unwrap().as_nanos();
    assert_eq!(p("100ms"), 100_000_000);
    assert_eq!(p("1.5s"), 1_500_000_000);
    assert_eq!(p("0.1 s"), 100_000_000);
    assert_eq!(p("250us"), 250_000);
    assert_eq!(p("7ns"), 7);
    assert_eq!(p("2min"), 120_000_000_000);
    assert_eq!(p(".5ms"), 500_000);
}

#[test]
fn rejects_bad_durations() {
    let e = |s: &str| s.parse::<SimDuration>().unwrap_err();
    assert!(matches!(e("-1s"), ParseDurationError::Negative(_)));
    assert!(matches!(e("10"), ParseDurationError::BadUnit(_)));
    assert!(matches!(e("10 parsecs"), ParseDurationError::BadUnit(_)));
    assert!(matches!(e("s"), ParseDurationError::BadNumber(_)));
    assert!(matches!(e("0.5ns"), ParseDurationError::OutOfRange(_)));
    assert!(matches!(
        e("99999999999999d"),
        ParseDurationError::OutOfRange(_)
    ));
}

#[test]
fn display_round_trips() {
    for s in ["100ms", "1.5s", "250us", "7ns", "3s", "1.000000001s"] {
        let d: SimDuration = s.parse().unwrap();
        assert_eq!(d.to_string(), s);
        assert_eq!(d.to_string().parse::<SimDuration>().unwrap(), d);
    }
}

#[test]
fn checked_arithmetic_reports_overflow() {
    let t = SimTime::MAX;
    let err = t.checked_add(SimDuration::from_nanos(1)).unwrap_err();
    assert_eq!(err.op, "+");
    assert_eq!(
        SimTime::from_nanos(5).checked_duration_since(SimTime::from_nanos(6)),
        None
    );
    assert_eq!(t.saturating_add(SimDuration::from_secs(1)), SimTime::MAX);
}

#[test]
#[should_panic(expected = "simulation time overflow")]
fn operator_overflow_panics_with_message() {
    let _ = SimTime::MAX + SimDuration::from_nanos(1);
}

#[test]
fn serde_accepts_nanos_and_text() {
    let d: SimDuration = serde_json::from_str("\"20ms\"").unwrap();
    assert_eq!(d, SimDuration::from_millis(20));
    let d: SimDuration = serde_json::from_str("20").unwrap();
    assert_eq!(d.as_nanos(), 20);
    assert!(serde_json::from_str::<SimDuration>("-20").is_err());
    assert_eq!(
        serde_json::to_string(&SimDuration::from_millis(1)).unwrap(),
        "1000000"
    );
}

#[test]
fn float_conversion_rejects_garbage() {
    assert_eq!(
        SimDuration::from_secs_f64(0.25),
        Some(SimDuration::from_millis(250))
    );
    assert_eq!(SimDuration::from_secs_f64(-1.0), None);
    assert_eq!(SimDuration::from_secs_f64(f64::NAN), None);
}
