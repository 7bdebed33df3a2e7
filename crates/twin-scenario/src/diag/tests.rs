use super::*;

fn diag(line: usize, column: usize, field: &str, message: &str) -> Diagnostic {
    Diagnostic {
        origin: "scenarios/x.toml".to_owned(),
        line,
        column,
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

#[test]
fn diagnostic_displays_like_a_compiler() {
    let d = diag(
        12,
        7,
        "member[1].dt",
        "duration must be positive (got \"-5ms\")",
    );
    assert_eq!(
        d.to_string(),
        "scenarios/x.toml:12:7: member[1].dt: duration must be positive (got \"-5ms\")"
    );
    let syntax = diag(3, 1, "", "TOML syntax error: expected newline");
    assert_eq!(
        syntax.to_string(),
        "scenarios/x.toml:3:1: TOML syntax error: expected newline"
    );
    assert_eq!(
        d.location(),
        Location {
            line: 12,
            column: 7
        }
    );
}

#[test]
fn diagnostics_are_sorted_and_one_per_line() {
    assert!(Diagnostics::new(Vec::new()).is_none());
    let list = Diagnostics::new(vec![
        diag(9, 1, "b", "second"),
        diag(2, 5, "a", "first"),
        diag(9, 1, "c", "third"),
    ])
    .unwrap();
    assert_eq!(list.len(), 3);
    assert!(!list.is_empty());
    assert_eq!(
        list.to_string(),
        "scenarios/x.toml:2:5: a: first\nscenarios/x.toml:9:1: b: second\nscenarios/x.toml:9:1: c: third"
    );
    let err = ScenarioError::from(list.clone());
    assert_eq!(err.to_string(), list.to_string());
    assert_eq!(err.diagnostics(), Some(&list));
}

#[test]
fn line_index_counts_lines_and_characters() {
    let text = "ab\nπλ = 1\n\nx";
    let idx = LineIndex::new(text);
    assert_eq!(idx.locate(0), Location { line: 1, column: 1 });
    assert_eq!(idx.locate(2), Location { line: 1, column: 3 });
    assert_eq!(idx.locate(3), Location { line: 2, column: 1 });
    // "π" and "λ" are two bytes each: byte 8 is the '=' in column 4.
    assert_eq!(idx.locate(8), Location { line: 2, column: 4 });
    assert_eq!(idx.locate(13), Location { line: 4, column: 1 });
    assert_eq!(idx.locate(99), Location { line: 4, column: 2 });
    assert_eq!(idx.span(None), None);
}

#[test]
fn io_error_names_the_path() {
    let err = ScenarioError::Io {
        path: PathBuf::from("scenarios/missing.toml"),
        source: std::io::Error::from(std::io::ErrorKind::NotFound),
    };
    assert_eq!(
        err.to_string(),
        "cannot read scenario file `scenarios/missing.toml`"
    );
    assert!(std::error::Error::source(&err).is_some());
    assert!(err.diagnostics().is_none());
}
