//! `twin run --distributed` and `twin member` over DDS. Run inside a
//! private network namespace (`scripts/netns-run`, which sets
//! `TWIN_NETNS=1`); elsewhere the tests return at once after saying so.
#![cfg(feature = "dds")]

use std::{
    path::Path,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

const SCENARIO: &str = r#"
[federation]
name = "dist"
end = "5s"
dt = "100ms"
pacing = 0.0
epoch = "2026-01-01T00:00:00Z"
seed = 7
on_member_lost = "ON_LOST"

[[member]]
name = "points"
kind = "moving-points"
[member.params]
count = 4
radius_m = 500.0
speed_mps = 60.0

[[member]]
name = "ticker"
kind = "event-ticker"
time = "event"
[member.params]
mean_interval = "750ms"

[[member]]
name = "recorder"
kind = "recorder"
[member.params]
path = "out/record.jsonl"
topics = ["twin/demo/point/position", "twin/demo/tick"]
"#;

fn in_netns() -> bool {
    if std::env::var_os("TWIN_NETNS").is_none() {
        eprintln!("not in a private network namespace: run through scripts/netns-run");
        return false;
    }
    true
}

/// The child's output once it ends; killed (and the test failed) after `secs`.
fn output_within(mut c: Child, secs: u64, what: &str) -> Output {
    let end = Instant::now() + Duration::from_secs(secs);
    while c.try_wait().unwrap().is_none() {
        if Instant::now() > end {
            let _ = c.kill();
            let out = c.wait_with_output().unwrap();
            panic!(
                "{what} did not end within {secs} s; stdout: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    c.wait_with_output().unwrap()
}

fn twin(dir: &Path, args: &[&str], domain: u32) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_twin"));
    c.current_dir(dir)
        .args(args)
        .env("TWIN_DDS_DOMAIN", domain.to_string())
        .stdin(Stdio::null());
    let child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let id = child.id();
    // A watchdog so a hang fails the test instead of blocking it; it is
    // cancelled as soon as the child ends, so it never signals a reused id.
    let (done, cancel) = std::sync::mpsc::channel::<()>();
    let guard = std::thread::spawn(move || {
        if cancel.recv_timeout(Duration::from_secs(240)).is_err() {
            let _ = Command::new("kill").args(["-9", &id.to_string()]).status();
        }
    });
    let out = child.wait_with_output().unwrap();
    let _ = done.send(());
    let _ = guard.join();
    out
}

#[test]
fn distributed_demo_records_exactly_what_the_in_memory_run_records() {
    if !in_netns() {
        return;
    }
    let mem = tempfile::tempdir().unwrap();
    let dist = tempfile::tempdir().unwrap();
    let text = SCENARIO.replace("ON_LOST", "freeze");
    for d in [&mem, &dist] {
        std::fs::write(d.path().join("s.toml"), &text).unwrap();
    }
    let a = twin(
        mem.path(),
        &["run", "s.toml", "--quiet", "--no-dashboard"],
        0,
    );
    assert!(
        a.status.success(),
        "in-memory run: {}",
        String::from_utf8_lossy(&a.stderr)
    );
    let b = twin(
        dist.path(),
        &[
            "run",
            "s.toml",
            "--quiet",
            "--no-dashboard",
            "--distributed",
        ],
        31,
    );
    assert!(
        b.status.success(),
        "distributed run: {}\n{}",
        String::from_utf8_lossy(&b.stdout),
        String::from_utf8_lossy(&b.stderr)
    );
    let ra = std::fs::read_to_string(mem.path().join("out/record.jsonl")).unwrap();
    let rb = std::fs::read_to_string(dist.path().join("out/record.jsonl")).unwrap();
    assert!(
        ra.lines().count() > 100,
        "the in-memory run recorded {} lines",
        ra.lines().count()
    );
    if ra != rb {
        let first = ra.lines().zip(rb.lines()).position(|(x, y)| x != y);
        panic!(
            "records differ ({} vs {} lines); first difference at line {first:?}:\n{:?}\n{:?}",
            ra.lines().count(),
            rb.lines().count(),
            first.and_then(|i| ra.lines().nth(i)),
            first.and_then(|i| rb.lines().nth(i)),
        );
    }
}

#[test]
fn a_sigkilled_member_is_detected_and_the_drop_policy_lets_the_run_finish() {
    if !in_netns() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Paced at real time so the kill lands mid-run; the lease is 2 s.
    let text = SCENARIO
        .replace("ON_LOST", "drop")
        .replace("pacing = 0.0", "pacing = 1.0")
        .replace("end = \"5s\"", "end = \"8s\"");
    std::fs::write(dir.path().join("s.toml"), text).unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_twin"));
    c.current_dir(dir.path())
        .args([
            "run",
            "s.toml",
            "--quiet",
            "--no-dashboard",
            "--distributed",
        ])
        .env("TWIN_DDS_DOMAIN", "32")
        .env("RUST_LOG", "twin_federation=warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    // Find the ticker's process id in the launcher's stderr.
    use std::io::{BufRead, BufReader};
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for l in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let start = Instant::now();
    let mut ticker = None;
    let mut log = Vec::new();
    while ticker.is_none() && start.elapsed() < Duration::from_secs(60) {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(100)) {
            if let Some(rest) = l.strip_prefix("twin: member `ticker` started as process ") {
                ticker = rest.trim().parse::<u32>().ok();
            }
            log.push(l);
        }
    }
    let pid = ticker.expect("launcher reported the ticker's process");
    std::thread::sleep(Duration::from_secs(3));
    assert!(Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap()
        .success());
    let end = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < end,
            "distributed run hung after a member was killed"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    while let Ok(l) = rx.recv_timeout(Duration::from_millis(500)) {
        log.push(l);
    }
    let log = log.join("\n");
    assert!(
        log.contains("member lost"),
        "lost member not reported:\n{log}"
    );
    assert!(
        log.contains("`ticker` process ended with signal: 9"),
        "{log}"
    );
    // The other members finished the run; only the killed one is reported.
    assert!(!status.success());
    let rec = std::fs::read_to_string(dir.path().join("out/record.jsonl")).unwrap();
    assert!(
        rec.contains("\"t\":\"7.9"),
        "recording reached the end time"
    );
    // Nothing of the survivors' reliable data is lost: the moving points
    // recorded exactly as in an in-memory run of the same scenario.
    let mem = tempfile::tempdir().unwrap();
    let text = SCENARIO
        .replace("ON_LOST", "drop")
        .replace("end = \"5s\"", "end = \"8s\"");
    std::fs::write(mem.path().join("s.toml"), text).unwrap();
    let m = twin(
        mem.path(),
        &["run", "s.toml", "--quiet", "--no-dashboard"],
        0,
    );
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    let points = |r: &str| -> Vec<String> {
        r.lines()
            .filter(|l| l.contains("\"source\":\"points\""))
            .map(str::to_owned)
            .collect()
    };
    let want = points(&std::fs::read_to_string(mem.path().join("out/record.jsonl")).unwrap());
    let got = points(&rec);
    assert!(want.len() > 300, "{} points lines in memory", want.len());
    assert!(
        got == want,
        "points lines: {} after the kill vs {} in memory",
        got.len(),
        want.len()
    );
}

#[test]
fn bus_tools_play_echo_and_record_ticks() {
    if !in_netns() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut lines = String::new();
    for n in 1..=5u64 {
        lines.push_str(&format!(
            "{{\"topic\":\"twin/demo/tick\",\"wall_ns\":{},\"sim_ns\":{},\"data\":{{\"n\":{n}}}}}\n",
            n * 1_000_000,
            n * 250_000_000
        ));
    }
    std::fs::write(dir.path().join("ticks.jsonl"), lines).unwrap();
    let spawn = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_twin"))
            .current_dir(dir.path())
            .args(args)
            .env("TWIN_DDS_DOMAIN", "35")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let echo = spawn(&["bus", "echo", "twin/demo/tick", "--count", "5"]);
    let rec = spawn(&["bus", "record", "rec.jsonl", "--seconds", "6"]);
    std::thread::sleep(Duration::from_millis(1500));
    let play = twin(
        dir.path(),
        &["bus", "play", "ticks.jsonl", "--speed", "0"],
        35,
    );
    assert!(
        play.status.success(),
        "{}",
        String::from_utf8_lossy(&play.stderr)
    );
    let echo = output_within(echo, 20, "`twin bus echo --count 5`");
    assert!(
        echo.status.success(),
        "{}",
        String::from_utf8_lossy(&echo.stderr)
    );
    let got: Vec<serde_json::Value> = String::from_utf8_lossy(&echo.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got.len(), 5);
    for (i, v) in got.iter().enumerate() {
        assert_eq!(v["data"]["n"], i as u64 + 1);
        assert_eq!(v["sim_ns"], (i as u64 + 1) * 250_000_000);
        assert_eq!(v["source"], "twin-bus-tool");
    }
    assert!(output_within(rec, 20, "`twin bus record --seconds 6`")
        .status
        .success());
    let recorded = std::fs::read_to_string(dir.path().join("rec.jsonl")).unwrap();
    let ticks = recorded
        .lines()
        .filter(|l| l.contains("\"topic\":\"twin/demo/tick\"") && l.contains("\"data\":{"))
        .count();
    assert_eq!(ticks, 5, "{recorded}");
    // The player leaving shows as an instance-state change, also recorded.
    assert!(recorded.contains("NotAliveNoWriters"), "{recorded}");
}

#[test]
fn a_python_cyclonedds_program_joins_a_running_federation_and_follows_its_grants() {
    if !in_netns() {
        return;
    }
    let python = std::env::var("TWIN_PYTHON").unwrap_or_else(|_| "python3".into());
    let dir = tempfile::tempdir().unwrap();
    // Paced at real time, so the federation is running when Python joins.
    let text = SCENARIO
        .replace("ON_LOST", "drop")
        .replace("pacing = 0.0", "pacing = 1.0")
        .replace("end = \"5s\"", "end = \"6s\"");
    std::fs::write(dir.path().join("s.toml"), text).unwrap();
    let fed = Command::new(env!("CARGO_BIN_EXE_twin"))
        .current_dir(dir.path())
        .args([
            "run",
            "s.toml",
            "--quiet",
            "--no-dashboard",
            "--distributed",
        ])
        .env("TWIN_DDS_DOMAIN", "36")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let script = format!("{}/tests/py_member.py", env!("CARGO_MANIFEST_DIR"));
    let py = Command::new(python)
        .args([&script, "36", "py", "100000000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let fed = fed.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&py.stdout);
    assert!(
        py.status.success(),
        "python member: {}\n{out}\n{}",
        py.status,
        String::from_utf8_lossy(&py.stderr)
    );
    assert!(
        fed.status.success(),
        "{}",
        String::from_utf8_lossy(&fed.stderr)
    );
    let grants: Vec<u64> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["granted"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert!(grants.len() >= 10, "only {} grants: {out}", grants.len());
    // It joined mid-run and advanced in its own steps of 100 ms to the end.
    assert!(
        grants[0] >= 1_000_000_000,
        "joined at {} ns: not mid-run",
        grants[0]
    );
    for w in grants.windows(2) {
        assert_eq!(w[1] - w[0], 100_000_000, "{grants:?}");
    }
    assert_eq!(*grants.last().unwrap(), 6_000_000_000, "{grants:?}");
}
