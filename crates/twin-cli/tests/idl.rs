//! The IDL in `idl/` is what `twin bus idl` generates from the bus types,
//! and the types' CDR passes Cyclone's validation against the same shape
//! (a round trip through a DDS writer and reader in this process).
#![cfg(feature = "dds")]

use std::{sync::Arc, time::Duration};

use twin_bus::{Bus, DdsConfig, ReaderQos, TopicType, WriterQos};
use twin_core::{SimDuration, SimTime};
use twin_federation::proto::{MemberReport, Report, TimeGrant, Written};
use twin_federation::{FedState, FederationStatus, MemberStatus, TimeMode};

#[test]
fn committed_idl_matches_the_generated_idl() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_twin"))
        .args(["bus", "idl", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../idl");
    let mut n = 0;
    for e in std::fs::read_dir(dir.path()).unwrap() {
        let e = e.unwrap();
        let want = std::fs::read_to_string(e.path()).unwrap();
        let have = std::fs::read_to_string(repo.join(e.file_name())).unwrap_or_default();
        assert_eq!(
            have,
            want,
            "idl/{:?} is stale: run `twin bus idl --out idl`",
            e.file_name()
        );
        n += 1;
    }
    assert!(n >= 16, "{n} IDL files");
}

fn round_trip<T: TopicType + PartialEq + std::fmt::Debug>(bus: &Bus, topic: &str, values: Vec<T>) {
    let p = bus.participant("idl-check");
    let t = p.topic::<T>(topic).unwrap();
    let r = p
        .reader(&t, ReaderQos::default().reliable().keep_all())
        .unwrap();
    let w = p.writer(&t, WriterQos::default().keep_all()).unwrap();
    for v in &values {
        w.write(v.clone()).unwrap();
    }
    let mut got = Vec::new();
    let end = std::time::Instant::now() + Duration::from_secs(5);
    while got.len() < values.len() && std::time::Instant::now() < end {
        if let Ok(s) = r.take_timeout(Duration::from_millis(100)) {
            got.extend(s.into_iter().filter_map(|s| s.value));
        }
    }
    assert_eq!(
        got.len(),
        values.len(),
        "{topic}: Cyclone rejected some samples"
    );
    for v in &values {
        assert!(got.contains(v), "{topic}: {v:?} changed on the way");
    }
}

#[test]
fn protocol_types_pass_cyclone_validation_of_their_declared_shape() {
    let bus = Bus::dds(DdsConfig {
        domain: 40,
        ..DdsConfig::default()
    })
    .unwrap();
    let m: Arc<str> = Arc::from("m1");
    round_trip(
        &bus,
        "twin/federation/report",
        vec![
            MemberReport {
                member: m.clone(),
                report: Report::Join {
                    mode: TimeMode::Stepped {
                        dt: SimDuration::from_nanos(100),
                    },
                },
                written: vec![],
            },
            MemberReport {
                member: "m2".into(),
                report: Report::Ready,
                written: vec![Written {
                    member: "m2".into(),
                    topic: "twin/demo/point/position".into(),
                    count: 4,
                    initial: true,
                    held: 4,
                }],
            },
            MemberReport {
                member: "m3".into(),
                report: Report::Completed {
                    granted: SimTime::from_nanos(5),
                    next: SimTime::MAX,
                    published_min: Some(SimTime::from_nanos(3)),
                },
                written: vec![Written {
                    member: "m3".into(),
                    topic: "twin/demo/tick".into(),
                    count: 12,
                    initial: false,
                    held: 0,
                }],
            },
            MemberReport {
                member: "m4".into(),
                report: Report::Leave,
                written: vec![],
            },
        ],
    );
    round_trip(
        &bus,
        "twin/time/grant",
        vec![TimeGrant {
            member: m,
            time: SimTime::from_nanos(7),
            round: 2,
            after: vec![Written {
                member: "m4".into(),
                topic: "twin/demo/tick".into(),
                count: 3,
                initial: false,
                held: 0,
            }],
        }],
    );
    round_trip(
        &bus,
        "twin/federation/status",
        vec![FederationStatus {
            federation: "f".into(),
            state: FedState::Running,
            time: SimTime::from_nanos(9),
            rounds: 3,
            pacing: 0.5,
            lag_ms: 1.25,
            speed: 10.0,
            members: vec![MemberStatus {
                name: "a".into(),
                mode: TimeMode::Event {
                    lookahead: SimDuration::from_nanos(1),
                },
                phase: "busy".into(),
                completed: SimTime::ZERO,
                requested: None,
                since_report_ms: 4,
            }],
        }],
    );
}
