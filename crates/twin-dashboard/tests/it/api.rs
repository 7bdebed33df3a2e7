//! REST API: federation state, members, topics, control commands, errors.

use std::time::Duration;

use twin_bus::{Bus, ReaderQos, WriterQos};
use twin_core::SimTime;
use twin_federation::{
    proto::ControlCommand,
    proto::{COMMAND_TOPIC, STATE_TOPIC, STATUS_TOPIC},
    Command, ControlState, FedState, FederationStatus, MemberStatus, TimeMode,
};

use crate::{dashboard, demo, get_json, http, until_json, within};

#[tokio::test]
async fn federation_members_and_topics_follow_the_bus() {
    let bus = Bus::in_memory();
    let dash = dashboard(&bus);
    let addr = dash.local_addr();
    let before = get_json(addr, "/api/federation").await;
    assert_eq!(before["present"], false, "{before}");
    let run = demo(&bus, 2.0, "8s");
    let f = within!(
        10,
        until_json(addr, "/api/federation", "running", |v| v["state"]
            == "running"
            && v["time_ns"].as_u64() > Some(0))
    );
    assert_eq!(f["federation"], "it");
    assert_eq!(f["end_ns"], 8_000_000_000u64);
    assert_eq!(f["pacing"], 2.0);
    assert_eq!(f["diagnosis"]["stalled"], false);

    let members = get_json(addr, "/api/members").await;
    let names: Vec<&str> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["points", "ticker"]);
    assert_eq!(members[0]["mode"], "stepped");
    assert_eq!(members[0]["mode_ns"], 100_000_000u64);
    assert_eq!(members[1]["mode"], "event");

    // Rates are measured over a second of wall time: 5 points at 20 steps/s.
    let topics = within!(
        10,
        until_json(addr, "/api/topics", "position rate", |v| {
            v.as_array().unwrap().iter().any(|t| {
                t["name"] == "twin/demo/point/position"
                    && t["writers"] == 1
                    && t["rate_hz"].as_f64().unwrap() > 50.0
            })
        })
    );
    let pos = topics
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "twin/demo/point/position")
        .unwrap();
    assert_eq!(pos["role"], "positions");
    assert_eq!(pos["type_name"], "twin::demo::PointPosition");
    let rate = pos["rate_hz"].as_f64().unwrap();
    assert!((50.0..=150.0).contains(&rate), "≈100 samples/s: {rate}");
    let report = topics
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "twin/federation/report")
        .unwrap();
    assert_eq!(report["role"], serde_json::Value::Null, "no decoder");

    within!(
        20,
        until_json(addr, "/api/federation", "ended", |v| v["state"] == "ended")
    );
    run.join().unwrap();
    // Commands to an ended federation are refused.
    let (status, body) = http(addr, "POST", "/api/control/freeze", None, &[]).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains(r#""type":"ended""#), "{body}");
}

#[tokio::test]
async fn freeze_and_resume_change_the_state_on_the_bus() {
    let bus = Bus::in_memory();
    let dash = dashboard(&bus);
    let addr = dash.local_addr();
    // An independent observer of the bus, not the dashboard's own view.
    let p = bus.participant("test-observer");
    let states = p
        .reader(
            &p.topic::<ControlState>(STATE_TOPIC).unwrap(),
            ReaderQos::default().reliable().transient_local().keep_all(),
        )
        .unwrap();
    let run = demo(&bus, 1.0, "30s");
    within!(
        10,
        until_json(addr, "/api/federation", "running", |v| v["state"]
            == "running")
    );
    let (status, body) = http(addr, "POST", "/api/control/freeze", None, &[]).await;
    assert_eq!((status, body.as_str()), (202, r#"{"sent":"freeze"}"#));
    let frozen = within!(
        10,
        until_json(addr, "/api/federation", "frozen", |v| v["state"]
            == "frozen")
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    let later = get_json(addr, "/api/federation").await;
    assert_eq!(
        later["time_ns"], frozen["time_ns"],
        "time holds while frozen"
    );
    let (status, _) = http(addr, "POST", "/api/control/resume", None, &[]).await;
    assert_eq!(status, 202);
    within!(
        10,
        until_json(addr, "/api/federation", "time moves again", |v| v["state"]
            == "running"
            && v["time_ns"].as_u64() > frozen["time_ns"].as_u64())
    );
    let (status, body) = http(
        addr,
        "POST",
        "/api/control/pacing",
        Some(r#"{"ratio": 0.5}"#),
        &[],
    )
    .await;
    assert_eq!(status, 202, "{body}");
    within!(
        10,
        until_json(addr, "/api/federation", "new pacing", |v| v["pacing"]
            == 0.5)
    );
    let (status, _) = http(addr, "POST", "/api/control/end", None, &[]).await;
    assert_eq!(status, 202);
    let summary = run.join().unwrap();
    assert_eq!(summary.state, FedState::Ended);
    assert!(
        summary.time < SimTime::from_nanos(30_000_000_000),
        "ended early"
    );
    let seen: Vec<FedState> = states.take_data().into_iter().map(|s| s.state).collect();
    for want in [FedState::Running, FedState::Frozen, FedState::Ended] {
        assert!(seen.contains(&want), "{want} on the bus: {seen:?}");
    }
    let frozen_at = seen.iter().position(|s| *s == FedState::Frozen).unwrap();
    assert!(
        seen[frozen_at..].contains(&FedState::Running),
        "resumed after the freeze: {seen:?}"
    );
}

#[tokio::test]
async fn every_command_reaches_the_command_topic() {
    let bus = Bus::in_memory();
    let p = bus.participant("fake-controller");
    let commands = p
        .reader(
            &p.topic::<ControlCommand>(COMMAND_TOPIC).unwrap(),
            ReaderQos::default().reliable().keep_all(),
        )
        .unwrap();
    let dash = dashboard(&bus);
    let addr = dash.local_addr();
    for path in ["run", "freeze", "resume", "end"] {
        let (status, body) = http(addr, "POST", &format!("/api/control/{path}"), None, &[]).await;
        assert_eq!(status, 202, "{path}: {body}");
    }
    let (status, body) = http(
        addr,
        "POST",
        "/api/control/pacing",
        Some(r#"{"ratio": 2.5}"#),
        &[],
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (202, r#"{"ratio":2.5,"sent":"pacing"}"#)
    );
    let got = commands.take_timeout(Duration::from_secs(2)).unwrap();
    let got: Vec<ControlCommand> = got.into_iter().filter_map(|s| s.value).collect();
    assert!(got.iter().all(|c| c.from == "dashboard"));
    let cmds: Vec<Command> = got.into_iter().map(|c| c.command).collect();
    assert_eq!(
        cmds,
        [
            Command::Run,
            Command::Freeze,
            Command::Resume,
            Command::End,
            Command::SetPacing { ratio: 2.5 }
        ]
    );
}

#[tokio::test]
async fn bad_requests_get_typed_errors() {
    let bus = Bus::in_memory();
    let dash = dashboard(&bus);
    let addr = dash.local_addr();
    let cases: [(&str, Option<&str>, u16, &str); 5] = [
        ("/api/control/jump", None, 404, "unknown_command"),
        (
            "/api/control/pacing",
            Some(r#"{"ratio": -1}"#),
            422,
            "bad_pacing",
        ),
        (
            "/api/control/pacing",
            Some(r#"{"speed": 1}"#),
            422,
            "bad_pacing",
        ),
        ("/api/control/pacing", Some("fast"), 422, "bad_pacing"),
        ("/api/control/pacing", None, 422, "bad_pacing"),
    ];
    for (path, body, want, kind) in cases {
        let (status, text) = http(addr, "POST", path, body, &[]).await;
        assert_eq!(status, want, "{path} {body:?}: {text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["error"]["type"], kind, "{text}");
        assert!(v["error"]["message"].as_str().unwrap().len() > 5);
    }
    // Another site cannot drive the federation through the user's browser.
    let (status, _) = http(
        addr,
        "POST",
        "/api/control/end",
        None,
        &[("Origin", "http://evil.example")],
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = http(
        addr,
        "POST",
        "/api/control/end",
        None,
        &[("Origin", &format!("http://{addr}"))],
    )
    .await;
    assert_eq!(status, 202, "same-origin commands are fine");
    // DNS rebinding: a foreign Host name is refused even for reads.
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    s.write_all(
        b"GET /api/federation HTTP/1.1\r\nHost: evil.example:7878\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 403"), "{out}");
}

#[tokio::test]
async fn page_and_assets_are_embedded() {
    let bus = Bus::in_memory();
    let dash = dashboard(&bus);
    let addr = dash.local_addr();
    assert_eq!(dash.url(), format!("http://{addr}/"));
    let (status, html) = http(addr, "GET", "/", None, &[]).await;
    assert_eq!(status, 200);
    assert!(html.contains("<title>Twin dashboard</title>"), "{html}");
    assert!(html.contains("/assets/app.js"));
    let (status, js) = http(addr, "GET", "/assets/app.js", None, &[]).await;
    assert_eq!(status, 200);
    assert!(js.len() > 10_000, "the bundle with three.js");
    let (status, _) = http(addr, "GET", "/assets/app.css", None, &[]).await;
    assert_eq!(status, 200);
    let (status, _) = http(addr, "GET", "/assets/../Cargo.toml", None, &[]).await;
    assert_eq!(status, 404);
}

#[test]
fn only_loopback_addresses_are_served() {
    let bus = Bus::in_memory();
    let err = twin_dashboard::serve(bus.clone(), "0.0.0.0:0".parse().unwrap()).unwrap_err();
    assert!(
        matches!(err, twin_dashboard::DashboardError::NotLoopback { .. }),
        "{err}"
    );
    let first = twin_dashboard::serve(bus.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
    let err = twin_dashboard::serve(bus, first.local_addr()).unwrap_err();
    assert!(
        matches!(err, twin_dashboard::DashboardError::Bind { .. }),
        "{err}"
    );
    first.stop();
}

fn status(state: FedState, time_s: u64, members: Vec<MemberStatus>) -> FederationStatus {
    FederationStatus {
        federation: "fake".into(),
        state,
        time: SimTime::from_nanos(time_s * 1_000_000_000),
        rounds: 7,
        pacing: 1.0,
        lag_ms: 0.0,
        speed: 1.0,
        members,
    }
}

fn member(name: &str, phase: &str, since_report_ms: u64) -> MemberStatus {
    MemberStatus {
        name: name.into(),
        mode: TimeMode::Stepped {
            dt: twin_core::SimDuration::from_millis(100),
        },
        phase: phase.into(),
        completed: SimTime::from_nanos(5_000_000_000),
        requested: Some(SimTime::from_nanos(5_100_000_000)),
        since_report_ms,
    }
}

#[tokio::test]
async fn a_stalled_grant_names_the_member_it_waits_for() {
    let bus = Bus::in_memory();
    let dash = dashboard(&bus);
    let addr = dash.local_addr();
    // A fake controller: running, time stuck at 5 s, `slow` busy and silent.
    let p = bus.participant("fake-controller");
    let qos = WriterQos::default().transient_local().keep_last(1);
    let w = p
        .writer(&p.topic::<FederationStatus>(STATUS_TOPIC).unwrap(), qos)
        .unwrap();
    let members = |silent_ms| {
        vec![
            member("fast", "waiting", 10),
            member("slow", "busy", silent_ms),
        ]
    };
    w.write(status(FedState::Running, 5, members(100))).unwrap();
    let f = within!(
        5,
        until_json(addr, "/api/federation", "status", |v| v["present"] == true)
    );
    assert_eq!(f["diagnosis"]["stalled"], false, "not yet: {f}");
    assert_eq!(f["diagnosis"]["blocking"], serde_json::json!(["slow"]));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    w.write(status(FedState::Running, 5, members(2500)))
        .unwrap();
    let f = within!(
        5,
        until_json(addr, "/api/federation", "stall", |v| v["diagnosis"]
            ["stalled"]
            == true)
    );
    let msg = f["diagnosis"]["message"].as_str().unwrap();
    assert!(msg.contains("`slow` (busy"), "{msg}");
    let m = get_json(addr, "/api/members").await;
    assert_eq!(m[1]["blocking"], true);
    assert_eq!(m[0]["blocking"], false);
    assert_eq!(m[1]["requested_ns"], 5_100_000_000u64);
    // A lost member explains a freeze.
    let mut ms = members(3000);
    ms[1].phase = "lost".into();
    w.write(status(FedState::Frozen, 5, ms)).unwrap();
    let f = within!(
        5,
        until_json(addr, "/api/federation", "lost", |v| v["state"] == "frozen")
    );
    assert_eq!(f["diagnosis"]["stalled"], false);
    assert_eq!(f["diagnosis"]["lost"], serde_json::json!(["slow"]));
    assert!(f["diagnosis"]["message"]
        .as_str()
        .unwrap()
        .contains("lost: slow"));
}
