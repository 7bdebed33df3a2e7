//! End-to-end tests of the `twin` binary.

mod brain;

use std::{fs, path::Path, process::Command};

pub(crate) fn twin(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_twin"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run twin");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const GOOD: &str = r#"[federation]
name = "t"
end = "2s"
dt = "100ms"
seed = 1

[[member]]
name = "points"
kind = "moving-points"
[member.params]
count = 3
radius_m = 100.0
speed_mps = 10.0

[[member]]
name = "rec"
kind = "recorder"
[member.params]
path = "out/rec.jsonl"
topics = ["twin/demo/point/position"]
"#;

fn write(dir: &Path, name: &str, text: &str) -> String {
    fs::write(dir.join(name), text).unwrap();
    name.to_owned()
}

#[test]
fn demo_runs_to_completion_and_records() {
    let d = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = twin(d.path(), &["demo", "--end", "3s", "--quiet"]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("federation `demo` ended"), "{stdout}");
    assert!(stdout.contains("sim time     3.000 s"), "{stdout}");
    let rec = fs::read_to_string(d.path().join("out/demo-record.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = rec
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let positions = lines
        .iter()
        .filter(|v| v["topic"] == "twin/demo/point/position")
        .count();
    assert_eq!(positions, 12 * 31, "12 points at t = 0, 0.1, …, 3.0 s");
    assert!(lines.iter().any(|v| v["topic"] == "twin/demo/tick"));
    let t: Vec<u64> = lines.iter().map(|v| v["t_ns"].as_u64().unwrap()).collect();
    assert!(
        t.windows(2).all(|w| w[0] <= w[1]),
        "record is in time order"
    );
}

#[test]
fn runs_are_reproducible_inline_and_threaded() {
    let d = tempfile::tempdir().unwrap();
    let s = write(d.path(), "good.toml", GOOD);
    let mut outputs = Vec::new();
    for extra in [&[][..], &[][..], &["--threads"][..]] {
        let mut args = vec!["run", s.as_str(), "--quiet"];
        args.extend_from_slice(extra);
        let (code, _, stderr) = twin(d.path(), &args);
        assert_eq!(code, 0, "{stderr}");
        outputs.push(fs::read(d.path().join("out/rec.jsonl")).unwrap());
    }
    assert!(!outputs[0].is_empty());
    assert_eq!(outputs[0], outputs[1], "two inline runs differ");
    assert_eq!(outputs[0], outputs[2], "threaded run differs from inline");
}

#[test]
fn validate_accepts_a_good_scenario() {
    let d = tempfile::tempdir().unwrap();
    let s = write(d.path(), "good.toml", GOOD);
    let (code, stdout, _) = twin(d.path(), &["validate", &s]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("ok: federation `t`, 2 member(s)"),
        "{stdout}"
    );
}

/// Each malformed scenario exits with 2 and names file, line and field.
#[test]
fn malformed_scenarios_are_located() {
    let d = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "syntax.toml",
            GOOD.replace("end = \"2s\"", "end = \"2s"),
            vec!["syntax.toml:3:"],
        ),
        (
            "kind.toml",
            GOOD.replace("kind = \"recorder\"", "kind = \"recorderr\""),
            vec!["kind.toml:17:", "member[1].kind", "recorderr"],
        ),
        (
            "negdt.toml",
            GOOD.replace(
                "kind = \"moving-points\"",
                "kind = \"moving-points\"\ndt = \"-5ms\"",
            ),
            vec!["negdt.toml:10:", "member[0].dt", "must be positive"],
        ),
        (
            "missing.toml",
            GOOD.replace("end = \"2s\"\n", ""),
            vec!["missing.toml:1:", "federation.end"],
        ),
        (
            "param.toml",
            GOOD.replace("count = 3", "count = 0"),
            vec!["param.toml:11:", "member[0].params.count", "count must be"],
        ),
        (
            "unknownparam.toml",
            GOOD.replace("count = 3", "count = 3\ncolour = 1"),
            vec!["unknownparam.toml:12:", "colour"],
        ),
    ];
    for (name, text, wants) in cases {
        let s = write(d.path(), name, &text);
        for cmd in ["validate", "run"] {
            let (code, _, stderr) = twin(d.path(), &[cmd, &s]);
            assert_eq!(code, 2, "{cmd} {name}: exit code; stderr:\n{stderr}");
            for w in &wants {
                assert!(
                    stderr.contains(w),
                    "{cmd} {name}: `{w}` missing in:\n{stderr}"
                );
            }
        }
    }
}

#[test]
fn missing_file_is_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    let (code, _, stderr) = twin(d.path(), &["run", "nope.toml"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("nope.toml"), "{stderr}");
}

/// Ctrl-C (SIGINT) freezes and ends the federation; the recording written
/// so far is complete JSON lines and the exit is clean.
#[test]
fn ctrl_c_ends_cleanly_and_keeps_the_recording() {
    // A light scenario (3 points and a recorder): the full demo's brain
    // network runs slower than real time in debug builds.
    let d = tempfile::tempdir().unwrap();
    let s = write(d.path(), "good.toml", GOOD);
    let mut child = Command::new(env!("CARGO_BIN_EXE_twin"))
        .args([
            "run",
            &s,
            "--pacing",
            "1",
            "--end",
            "120s",
            "--quiet",
            "--no-dashboard",
        ])
        .current_dir(d.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "twin did not stop after SIGINT"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        status.success(),
        "exit {status:?}\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("ended early by Ctrl-C"), "{stdout}");
    let rec = fs::read_to_string(d.path().join("out/rec.jsonl")).unwrap();
    for l in rec.lines() {
        serde_json::from_str::<serde_json::Value>(l).expect("every line is complete JSON");
    }
    let n = rec.lines().count();
    // Paced at real time for ~1.5 s: roughly 15 steps of 3 points.
    assert!(n >= 3 * 5, "only {n} records");
    assert!(n < 3 * 200, "{n} records: the run did not stop early");
}

/// Sends one HTTP/1.1 request to the dashboard; returns status and body.
fn http(addr: &str, method: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect to the dashboard");
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    (head[9..12].parse().unwrap(), body.to_owned())
}

#[test]
fn demo_serves_the_dashboard_and_ends_from_it() {
    use std::io::BufRead;
    let d = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_twin"))
        .args([
            "demo",
            "--pacing",
            "1",
            "--end",
            "60s",
            "--dashboard-port",
            "0",
        ])
        .current_dir(d.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = line
        .strip_prefix("dashboard: http://")
        .and_then(|r| r.trim().strip_suffix('/'))
        .unwrap_or_else(|| panic!("first line names the dashboard: {line:?}"))
        .to_owned();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    // The dashboard starts before the federation publishes its state.
    let start = std::time::Instant::now();
    loop {
        let (status, body) = http(&addr, "GET", "/api/federation");
        assert_eq!(status, 200, "{body}");
        if body.contains(r#""state":"running""#) {
            assert!(body.contains(r#""federation":"demo""#), "{body}");
            break;
        }
        assert!(start.elapsed().as_secs() < 10, "never running: {body}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (status, body) = http(&addr, "POST", "/api/control/end");
    assert_eq!(status, 202, "{body}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert!(child.wait().unwrap().success());
    assert!(rest.contains("federation `demo` ended"), "{rest}");
    assert!(
        !rest.contains("sim time     60.000 s"),
        "ended early: {rest}"
    );
}

#[test]
fn no_dashboard_skips_it() {
    let d = tempfile::tempdir().unwrap();
    let (code, stdout, _) = twin(
        d.path(),
        &["demo", "--end", "1s", "--quiet", "--no-dashboard"],
    );
    assert_eq!(code, 0);
    assert!(!stdout.contains("dashboard:"), "{stdout}");
}

#[cfg(feature = "llama")]
mod demo_assistant;
mod llm;
mod net;
