use std::{thread, time::Duration};

use twin_bus::{Bus, ReaderQos, StatusMask, WaitSet, WriterQos};
use twin_testkit::{eventually, with_timeout};

use crate::common::{pt, Pt};

#[test]
fn requested_deadline_missed_is_reported() {
    with_timeout("deadline", Duration::from_secs(10), || {
        let bus = Bus::in_memory();
        let p = bus.participant("p");
        let t = p.topic::<Pt>("twin/test/deadline").unwrap();
        let d = Duration::from_millis(50);
        let r = p.reader(&t, ReaderQos::default().deadline(d)).unwrap();
        let w = p.writer(&t, WriterQos::default().deadline(d)).unwrap();
        let mut ws = WaitSet::new();
        ws.attach(r.status_condition(StatusMask::DEADLINE_MISSED));
        w.write(pt(1, 0, 0)).unwrap();
        // Updating faster than the deadline: no miss.
        for s in 1..10 {
            thread::sleep(Duration::from_millis(10));
            w.write(pt(1, 0, s)).unwrap();
        }
        assert_eq!(r.status().deadline_missed.total, 0);
        // Silent: the wait-set wakes on the miss.
        ws.wait(Duration::from_secs(2))
            .expect("deadline miss should trigger");
        let st = r.status();
        assert!(st.deadline_missed.total >= 1);
        assert_eq!(st.last_deadline_instance.map(|h| h.0), Some(0));
    });
}

#[test]
fn manual_liveliness_lost_and_regained() {
    with_timeout("liveliness", Duration::from_secs(10), || {
        let bus = Bus::in_memory();
        let p = bus.participant("p");
        let t = p.topic::<Pt>("twin/test/liveliness").unwrap();
        let lease = Duration::from_millis(60);
        let r = p
            .reader(
                &t,
                ReaderQos::default().liveliness_lease(Duration::from_secs(1)),
            )
            .unwrap();
        let w = p
            .writer(&t, WriterQos::default().manual_liveliness(lease))
            .unwrap();
        assert_eq!(r.status().alive_writers, 1);
        // Asserting keeps it alive.
        for _ in 0..4 {
            thread::sleep(Duration::from_millis(20));
            w.assert_liveliness();
        }
        assert_eq!(r.status().not_alive_writers, 0);
        let lost = eventually(Duration::from_secs(2), || r.status().not_alive_writers == 1);
        assert!(lost.is_some(), "liveliness never lost");
        assert_eq!(w.status().liveliness_lost.total, 1);
        w.write(pt(1, 0, 0)).unwrap();
        let st = r.status();
        assert_eq!((st.alive_writers, st.not_alive_writers), (1, 0));
    });
}

#[test]
fn lifespan_expires_old_samples() {
    let bus = Bus::in_memory();
    let p = bus.participant("p");
    let t = p.topic::<Pt>("twin/test/lifespan").unwrap();
    let r = p.reader(&t, ReaderQos::default().keep_all()).unwrap();
    let w = p
        .writer(&t, WriterQos::default().lifespan(Duration::from_millis(30)))
        .unwrap();
    w.write(pt(1, 0, 0)).unwrap();
    thread::sleep(Duration::from_millis(60));
    w.write(pt(1, 0, 1)).unwrap();
    assert_eq!(r.take_data(), vec![pt(1, 0, 1)]);
}
