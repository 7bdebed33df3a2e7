//! Discovery through Cyclone's builtin topics: a Python Cyclone DDS program's
//! writer and a Twin writer and reader, with their types and QoS, as
//! [`twin_bus::Participant::observe_domain`] reports them. Runs only inside a
//! private network namespace (`scripts/netns-run`).

use std::{process::Command, time::Duration};

use twin_bus::{dds::EndpointKind, ReaderQos, WriterQos};

use crate::procs::{bus, in_netns, python, role, script};

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Probe {
    id: u32,
    value: f64,
}

impl twin_bus::TopicType for Probe {
    const TYPE_NAME: &'static str = "test::Probe";
    const KEY_FIELDS: &'static [&'static str] = &["id"];
    type Key = u32;
    fn key(&self) -> u32 {
        self.id
    }
}

#[test]
fn procs_discovery_lists_a_python_writer_and_twin_endpoints_with_qos() {
    if role().is_some() || !in_netns() {
        return;
    }
    const DOMAIN: u32 = 3;
    let bus = bus(DOMAIN);
    // Twin endpoints on one participant, observed from another.
    let member = bus.participant("probe-member");
    let t = member.topic::<Probe>("twin/test/probe").unwrap();
    let wq = WriterQos::default()
        .reliable()
        .keep_last(4)
        .exclusive_strength(7)
        .deadline(Duration::from_millis(250))
        .partitions(["zone-a"]);
    let _w = member.writer(&t, wq).unwrap();
    let _r = member
        .reader(&t, ReaderQos::default().transient_local().keep_all())
        .unwrap();
    let observer = bus.participant("observer");
    let obs = observer.observe_domain().unwrap();
    // A Python program's keyed writer (reliable, keep-all, transient-local);
    // it waits for a subscriber that never comes, so it stays up.
    let mut py = Command::new(python())
        .args([&script(), "pub", &DOMAIN.to_string(), "1"])
        .spawn()
        .unwrap();
    let (snap, ok) = obs.wait_until(Duration::from_secs(15), |s| {
        s.on_topic("twin/test/interop", EndpointKind::Writer)
            .next()
            .is_some()
            && s.on_topic("twin/test/probe", EndpointKind::Reader)
                .next()
                .is_some()
    });
    let _ = py.kill();
    let _ = py.wait();
    assert!(ok, "Python writer or Twin reader not discovered: {snap:#?}");

    let py_w = snap
        .on_topic("twin/test/interop", EndpointKind::Writer)
        .next()
        .unwrap();
    assert_eq!(py_w.type_name, "test::Reading");
    assert!(
        py_w.qos.reliable && py_w.qos.transient_local,
        "{:?}",
        py_w.qos
    );
    assert_eq!(py_w.qos.keep_last, None, "keep-all");
    assert!(
        snap.participants.iter().any(|p| p.id == py_w.participant),
        "the Python participant is listed: {:#?}",
        snap.participants
    );

    let tw = snap
        .on_topic("twin/test/probe", EndpointKind::Writer)
        .next()
        .expect("Twin writer");
    assert_eq!(tw.type_name, "test::Probe");
    assert_eq!(tw.participant_name.as_deref(), Some("probe-member"));
    assert_eq!(tw.participant, member.id());
    assert_eq!(tw.qos.keep_last, Some(4));
    assert!(tw.qos.reliable && tw.qos.exclusive);
    assert_eq!(tw.qos.strength, Some(7));
    assert_eq!(tw.qos.deadline, Some(Duration::from_millis(250)));
    assert_eq!(tw.qos.partitions, vec!["zone-a".to_string()]);
    let shown = tw.qos.to_string();
    assert!(
        shown.contains("exclusive(7)") && shown.contains("partitions=[zone-a]"),
        "{shown}"
    );

    let tr = snap
        .on_topic("twin/test/probe", EndpointKind::Reader)
        .next()
        .unwrap();
    assert!(!tr.qos.reliable && tr.qos.transient_local && tr.qos.keep_last.is_none());
    // The observer leaves itself out.
    assert!(snap.participants.iter().all(|p| p.id != observer.id()));
}
