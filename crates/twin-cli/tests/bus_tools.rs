//! `twin bus ls` and `twin bus play` through the real binary, over DDS,
//! beside a Cyclone DDS Python program and Twin member processes. Run
//! inside a private network namespace (`scripts/netns-run`, which sets
//! `TWIN_NETNS=1`); elsewhere the tests return at once after saying so.
#![cfg(feature = "dds")]

use std::{
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use twin_bus::{Bus, DdsConfig, ReaderQos};
use twin_federates::demo::{PointPosition, POSITION_TOPIC};

fn in_netns() -> bool {
    if std::env::var_os("TWIN_NETNS").is_none() {
        eprintln!("not in a private network namespace: run through scripts/netns-run");
        return false;
    }
    true
}

fn spawn(dir: &std::path::Path, args: &[&str], domain: u32) -> Child {
    Command::new(env!("CARGO_BIN_EXE_twin"))
        .current_dir(dir)
        .args(args)
        .env("TWIN_DDS_DOMAIN", domain.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for `child` at most `limit`, then kills it (our own child, by its
/// handle), so that a hang fails the test instead of blocking it.
fn finish(mut child: Child, limit: Duration) -> Output {
    let end = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn play_writes_durable_topics_transient_local_so_durable_readers_match() {
    if !in_netns() {
        return;
    }
    const DOMAIN: u32 = 38;
    let dir = tempfile::tempdir().unwrap();
    let mut lines = String::new();
    for id in 0..4u32 {
        lines.push_str(&format!(
            "{{\"topic\":\"{POSITION_TOPIC}\",\"wall_ns\":{},\"sim_ns\":{},\"data\":\
             {{\"id\":{id},\"x_m\":{}.5,\"y_m\":-1.0,\"z_m\":0.0,\"vx_mps\":2.0,\"vy_mps\":0.0}}}}\n",
            1_000_000 * (id as u64 + 1),
            100_000_000 * (id as u64 + 1),
            id * 10,
        ));
    }
    std::fs::write(dir.path().join("points.jsonl"), lines).unwrap();
    // A durable reader, as the dashboard has: it requests transient-local
    // data, which a volatile writer does not offer (no match at all).
    let bus = Bus::dds(DdsConfig {
        domain: DOMAIN,
        ..DdsConfig::default()
    })
    .unwrap();
    let p = bus.participant("durable-reader");
    let t = p.topic::<PointPosition>(POSITION_TOPIC).unwrap();
    let r = p
        .reader(
            &t,
            ReaderQos::default().reliable().transient_local().keep_all(),
        )
        .unwrap();
    let play = finish(
        spawn(
            dir.path(),
            &["bus", "play", "points.jsonl", "--speed", "0"],
            DOMAIN,
        ),
        Duration::from_secs(60),
    );
    assert!(play.status.success(), "{}", text(&play));
    let mut got = Vec::new();
    let end = Instant::now() + Duration::from_secs(5);
    while got.len() < 4 && Instant::now() < end {
        got.extend(r.take().into_iter().filter(|s| s.value.is_some()));
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(got.len(), 4, "replayed samples received: {got:?}");
    for (k, s) in got.iter().enumerate() {
        let v = s.value.as_ref().unwrap();
        assert_eq!(v.id, k as u32);
        assert_eq!(v.x_m, k as f64 * 10.0 + 0.5);
        assert_eq!(
            s.info.sim_time.map(|t| t.as_nanos()),
            Some(100_000_000 * (k as u64 + 1))
        );
    }
    let w = r.status();
    assert_eq!(w.incompatible_qos.total, 0, "{w:?}");
}

const SCENARIO: &str = r#"
[federation]
name = "ls"
end = "8s"
dt = "100ms"
pacing = 1.0
epoch = "2026-01-01T00:00:00Z"
seed = 3
on_member_lost = "drop"

[[member]]
name = "points"
kind = "moving-points"
[member.params]
count = 2
radius_m = 100.0
speed_mps = 10.0

[[member]]
name = "ticker"
kind = "event-ticker"
time = "event"
[member.params]
mean_interval = "500ms"
"#;

#[test]
fn ls_shows_a_python_programs_topic_and_twin_members_topics_with_types() {
    if !in_netns() {
        return;
    }
    const DOMAIN: u32 = 39;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), SCENARIO).unwrap();
    let fed = spawn(
        dir.path(),
        &[
            "run",
            "s.toml",
            "--quiet",
            "--no-dashboard",
            "--distributed",
        ],
        DOMAIN,
    );
    // A Cyclone DDS Python writer (it waits for a subscriber that never
    // comes, so it stays up until killed).
    let python = std::env::var("TWIN_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = format!(
        "{}/../twin-bus/tests/dds/interop.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let py = Command::new(python)
        .args([&script, "pub", &DOMAIN.to_string(), "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let ls = finish(
        spawn(dir.path(), &["bus", "ls", "--wait", "4"], DOMAIN),
        Duration::from_secs(60),
    );
    let py = finish(py, Duration::ZERO);
    let fed = finish(fed, Duration::from_secs(120));
    assert!(ls.status.success(), "{}", text(&ls));
    assert!(fed.status.success(), "federation: {}", text(&fed));
    let out = String::from_utf8_lossy(&ls.stdout).into_owned();
    let section = |topic: &str| -> Vec<String> {
        let mut lines = out
            .lines()
            .skip_while(|l| !l.starts_with(&format!("  {topic}  [")));
        let head = lines.next().map(str::to_owned);
        head.into_iter()
            .chain(
                lines
                    .take_while(|l| l.starts_with("    "))
                    .map(str::to_owned),
            )
            .collect()
    };
    // The Python program's topic, its type and its writer.
    let py_topic = section("twin/test/interop");
    assert!(
        py_topic
            .first()
            .is_some_and(|h| h.ends_with("[test::Reading]")),
        "Python topic missing or mistyped: {py_topic:?}\n{out}\n(python: {})",
        text(&py)
    );
    assert!(
        py_topic
            .iter()
            .any(|l| l.trim_start().starts_with("writer ") && l.contains("transient-local")),
        "{py_topic:?}\n{out}"
    );
    // The Twin members' data topics with their types and writers.
    for (topic, ty, member) in [
        (POSITION_TOPIC, "twin::demo::PointPosition", "points"),
        ("twin/demo/tick", "twin::demo::Tick", "ticker"),
    ] {
        let s = section(topic);
        assert!(
            s.first().is_some_and(|h| h.ends_with(&format!("[{ty}]"))),
            "{topic}: {s:?}\n{out}"
        );
        assert!(
            s.iter()
                .any(|l| l.trim_start().starts_with(&format!("writer {member} "))),
            "{topic}: no writer of `{member}`: {s:?}\n{out}"
        );
    }
    // The federation protocol: each member reports to the controller.
    let reports = section("twin/federation/report");
    for who in ["points", "ticker"] {
        assert!(
            reports
                .iter()
                .any(|l| l.trim_start().starts_with(&format!("writer {who} "))),
            "{reports:?}\n{out}"
        );
    }
    assert!(
        reports
            .iter()
            .any(|l| l.trim_start().starts_with("reader controller ")),
        "{reports:?}\n{out}"
    );
    let participants = out
        .lines()
        .take_while(|l| !l.starts_with("topics"))
        .collect::<Vec<_>>()
        .join("\n");
    for who in ["controller", "points", "ticker"] {
        assert!(
            participants.contains(&format!("  {who} ")),
            "{who} not listed:\n{out}"
        );
    }
}
