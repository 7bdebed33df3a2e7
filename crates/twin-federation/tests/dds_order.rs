//! Data and grants travel by different writers, so on DDS a grant can
//! arrive before the data its watermarks promise. A member must then wait
//! for the data (both member modes), and fail with a clear error when it
//! never comes. The controller here is played by hand so that the data can
//! be held back deliberately. Runs only inside a private network namespace
//! (`scripts/netns-run`, which sets `TWIN_NETNS=1`).
#![cfg(feature = "dds")]

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use twin_bus::{Bus, Participant, Reader, TopicType, Writer, WriterQos};
use twin_core::{Epoch, SimDuration, SimTime};
use twin_federation::{proto::*, *};

mod support;
use support::*;

const TOPIC: &str = "twin/test/order";

/// The next report from the sink, within 10 s.
fn report(reports: &Reader<MemberReport>) -> Report {
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if let Some(s) = reports.take_one() {
            if let Some(r) = s.value {
                return r.report;
            }
        } else {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    panic!("no report from the sink within 10 s");
}

fn until_matched<T: TopicType>(w: &Writer<T>) {
    let end = Instant::now() + Duration::from_secs(10);
    while w.status().matched_current == 0 {
        assert!(Instant::now() < end, "writer never matched");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn written(count: u64) -> Vec<Written> {
    vec![Written {
        member: "source".into(),
        topic: TOPIC.into(),
        count,
        initial: false,
        held: 0,
    }]
}

fn held_back_data_is_waited_for(bus: Bus, on_receive: bool) {
    let ctl: Participant = bus.participant("ctl");
    let reports = ctl
        .reader(
            &ctl.topic::<MemberReport>(REPORT_TOPIC).unwrap(),
            protocol_reader(),
        )
        .unwrap();
    let states = ctl
        .writer(
            &ctl.topic::<ControlState>(STATE_TOPIC).unwrap(),
            state_writer(),
        )
        .unwrap();
    let grants = ctl
        .writer(
            &ctl.topic::<TimeGrant>(GRANT_TOPIC).unwrap(),
            grant_writer().partitions(["member/sink".to_string()]),
        )
        .unwrap();
    let source = bus.participant("source");
    let data = source
        .writer(
            &source.topic::<Val>(TOPIC).unwrap(),
            WriterQos::default().reliable().keep_all(),
        )
        .unwrap();

    let log: Log = Arc::default();
    let dt = SimDuration::from_millis(10);
    let mut d = MemberDriver::new(
        bus.participant("sink"),
        TimeMode::Stepped { dt },
        Box::new(Sink::new(TOPIC, Arc::clone(&log), false)),
        Epoch::UNIX,
        1,
        Duration::from_secs(5),
    )
    .unwrap();
    d.step_on_receive(on_receive);
    d.data_wait(Duration::from_millis(600));
    let member = std::thread::spawn(move || d.run_blocking());

    assert!(matches!(report(&reports), Report::Join { .. }));
    assert_eq!(report(&reports), Report::Ready);
    until_matched(&data);
    until_matched(&grants);
    states
        .write(ControlState {
            federation: "order".into(),
            state: FedState::Running,
            time: SimTime::ZERO,
            end: SimTime::ZERO + SimDuration::from_secs(1),
            written: vec![],
        })
        .unwrap();

    // The grant promises sample 1 of `source`, which is written 300 ms later.
    let t1 = SimTime::ZERO + dt;
    let sent = Instant::now();
    grants
        .write(TimeGrant {
            member: "sink".into(),
            time: t1,
            round: 1,
            after: written(1),
        })
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(log.lock().unwrap().is_empty(), "stepped before the data");
    data.write_at(Val { n: 1 }, SimTime::ZERO).unwrap();
    match report(&reports) {
        Report::Completed { granted, .. } => assert_eq!(granted, t1),
        r => panic!("unexpected report {r:?}"),
    }
    assert!(sent.elapsed() >= Duration::from_millis(300));
    assert_eq!(*log.lock().unwrap(), vec![(t1, vec![1])]);

    // A promised sample that never comes: a clear error, no hang.
    grants
        .write(TimeGrant {
            member: "sink".into(),
            time: t1 + dt,
            round: 2,
            after: written(2),
        })
        .unwrap();
    let err = member.join().unwrap().unwrap_err().to_string();
    for part in ["`sink`", "sample 2 of `source`", TOPIC, "have 1"] {
        assert!(err.contains(part), "{part} missing in: {err}");
    }
    assert_eq!(log.lock().unwrap().len(), 1, "stepped without the data");
}

#[test]
fn a_grant_that_overtakes_promised_data_waits_for_it_on_the_members_thread() {
    let Some(bus) = dds(43) else { return };
    held_back_data_is_waited_for(bus, false);
}

#[test]
fn a_grant_that_overtakes_promised_data_waits_for_it_when_stepping_on_receive() {
    let Some(bus) = dds(44) else { return };
    held_back_data_is_waited_for(bus, true);
}
