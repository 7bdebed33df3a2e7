use twin_bus::{Bus, CreateError, InstanceState, ReaderQos, WriterQos};

use crate::common::{pt, Other, Pt};

fn tl_reader() -> ReaderQos {
    ReaderQos::default()
        .reliable()
        .keep_last(1)
        .transient_local()
}

#[test]
fn late_joiner_gets_last_value_of_every_live_instance_and_nothing_disposed() {
    let bus = Bus::in_memory();
    let p = bus.participant("pub");
    let t = p.topic::<Pt>("twin/test/tl").unwrap();
    let w = p
        .writer(&t, WriterQos::default().transient_local().keep_last(1))
        .unwrap();
    for id in 0..10 {
        for s in 0..3 {
            w.write(pt(id, 0, s)).unwrap();
        }
    }
    assert!(w.dispose(&3));
    assert!(w.unregister(&4));
    let late = bus.participant("late");
    let r = late.reader(&t, tl_reader()).unwrap();
    let mut got = r.take_data();
    got.sort_by_key(|p| p.id);
    let ids: Vec<u32> = got.iter().map(|p| p.id).collect();
    assert_eq!(ids, vec![0, 1, 2, 5, 6, 7, 8, 9]);
    assert!(
        got.iter().all(|p| p.seq == 2),
        "only the last value: {got:?}"
    );
    // A volatile late joiner gets nothing.
    let v = late.reader(&t, ReaderQos::default().reliable()).unwrap();
    assert!(v.take().is_empty());
    // Writing a disposed instance again revives it for the next late joiner.
    w.write(pt(3, 0, 9)).unwrap();
    let r2 = late.reader(&t, tl_reader()).unwrap();
    assert!(r2.take_data().contains(&pt(3, 0, 9)));
}

#[test]
fn transient_local_keep_last_n_replays_n() {
    let bus = Bus::in_memory();
    let p = bus.participant("pub");
    let t = p.topic::<Pt>("twin/test/tl-n").unwrap();
    let w = p
        .writer(&t, WriterQos::default().transient_local().keep_last(3))
        .unwrap();
    for s in 0..10 {
        w.write(pt(1, 0, s)).unwrap();
    }
    let r = p
        .reader(&t, ReaderQos::default().transient_local().keep_all())
        .unwrap();
    let seqs: Vec<u64> = r.take_data().iter().map(|p| p.seq).collect();
    assert_eq!(seqs, vec![7, 8, 9]);
}

#[test]
fn dispose_and_unregister_reach_readers_as_state_changes() {
    let bus = Bus::in_memory();
    let p = bus.participant("p");
    let t = p.topic::<Pt>("twin/test/life").unwrap();
    let r = p.reader(&t, ReaderQos::default().keep_all()).unwrap();
    let w = p.writer(&t, WriterQos::default()).unwrap();
    w.write(pt(1, 0, 0)).unwrap();
    w.dispose(&1);
    w.write(pt(2, 0, 0)).unwrap();
    w.unregister(&2);
    let got = r.take();
    let states: Vec<(u32, InstanceState, bool)> = got
        .iter()
        .map(|s| (s.key, s.info.state, s.is_valid()))
        .collect();
    assert_eq!(
        states,
        vec![
            (1, InstanceState::Alive, true),
            (1, InstanceState::NotAliveDisposed, false),
            (2, InstanceState::Alive, true),
            (2, InstanceState::NotAliveNoWriters, false),
        ]
    );
    assert!(!w.unregister(&2), "second unregister is a no-op");
    assert_eq!(t.live_keys(), Vec::<u32>::new());
}

#[test]
fn keep_last_depth_is_per_instance() {
    let bus = Bus::in_memory();
    let p = bus.participant("p");
    let t = p.topic::<Pt>("twin/test/depth").unwrap();
    let r = p.reader(&t, ReaderQos::default().keep_last(2)).unwrap();
    let w = p.writer(&t, WriterQos::default()).unwrap();
    for s in 0..100 {
        w.write(pt((s % 3) as u32, 0, s)).unwrap();
    }
    let got: Vec<(u32, u64)> = r.take_data().iter().map(|p| (p.id, p.seq)).collect();
    assert_eq!(
        got,
        vec![(1, 94), (2, 95), (0, 96), (1, 97), (2, 98), (0, 99)]
    );
}

#[test]
fn topic_type_mismatch_is_refused() {
    let bus = Bus::in_memory();
    let p = bus.participant("p");
    p.topic::<Pt>("twin/test/typed").unwrap();
    let err = p.topic::<Other>("twin/test/typed").unwrap_err();
    assert!(matches!(err, CreateError::TypeMismatch { .. }), "{err}");
    assert!(err.to_string().contains("test::Pt@1"));
    assert!(matches!(
        p.topic::<Pt>("bad name"),
        Err(CreateError::InvalidTopicName { .. })
    ));
    assert!(matches!(
        p.topic::<Pt>("a//b"),
        Err(CreateError::InvalidTopicName { .. })
    ));
}

#[test]
fn partitions_separate_traffic() {
    let bus = Bus::in_memory();
    let p = bus.participant("p");
    let t = p.topic::<Pt>("twin/test/part").unwrap();
    let north = p
        .reader(
            &t,
            ReaderQos::default().keep_all().partitions(["site/north"]),
        )
        .unwrap();
    let any = p
        .reader(&t, ReaderQos::default().keep_all().partitions(["site/*"]))
        .unwrap();
    let dflt = p.reader(&t, ReaderQos::default().keep_all()).unwrap();
    let ws = p
        .writer(&t, WriterQos::default().partitions(["site/south"]))
        .unwrap();
    let wn = p
        .writer(&t, WriterQos::default().partitions(["site/north"]))
        .unwrap();
    ws.write(pt(1, 1, 0)).unwrap();
    wn.write(pt(1, 2, 0)).unwrap();
    assert_eq!(north.take_data().len(), 1);
    assert_eq!(any.take_data().len(), 2);
    assert!(dflt.take_data().is_empty());
}

#[test]
fn incompatible_qos_does_not_match_and_is_reported() {
    let bus = Bus::in_memory();
    let p = bus.participant("p");
    let t = p.topic::<Pt>("twin/test/rxo").unwrap();
    let r = p.reader(&t, ReaderQos::default().reliable()).unwrap();
    let w = p.writer(&t, WriterQos::default().best_effort()).unwrap();
    w.write(pt(1, 0, 0)).unwrap();
    assert!(r.take().is_empty());
    let st = r.status();
    assert_eq!(st.matched_current, 0);
    assert_eq!(st.incompatible_qos.total, 1);
    assert_eq!(
        st.last_incompatible_policy,
        Some(twin_bus::QosPolicy::Reliability)
    );
    assert_eq!(w.status().incompatible_qos.total, 1);
}

#[test]
fn matched_counts_follow_endpoints() {
    let bus = Bus::in_memory();
    let p = bus.participant("p");
    let t = p.topic::<Pt>("twin/test/matched").unwrap();
    let w = p.writer(&t, WriterQos::default()).unwrap();
    let r1 = p.reader(&t, ReaderQos::default()).unwrap();
    let r2 = p.reader(&t, ReaderQos::default()).unwrap();
    assert_eq!(w.status().matched_current, 2);
    drop(r2);
    assert_eq!(w.status().matched_current, 1);
    assert_eq!(r1.status().matched_current, 1);
    let info = &bus.topics()[0];
    assert_eq!((info.writers, info.readers), (1, 1));
    assert_eq!(info.descriptor.type_name, "test::Pt");
}
