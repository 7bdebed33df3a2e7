use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread,
    time::{Duration, Instant},
};

use twin_bus::{Bus, ReaderQos, StatusMask, WriterQos};
use twin_testkit::{eventually, with_timeout};

use crate::common::{pt, Pt};

const LEASE: Duration = Duration::from_millis(300);

fn exclusive_reader() -> ReaderQos {
    ReaderQos::default()
        .reliable()
        .keep_all()
        .exclusive()
        .liveliness_lease(LEASE)
}

fn exclusive_writer(strength: i32) -> WriterQos {
    WriterQos::default()
        .exclusive_strength(strength)
        .liveliness_lease(LEASE)
}

#[test]
fn only_the_stronger_writer_reaches_readers() {
    let bus = Bus::in_memory();
    let (a, b, c) = (
        bus.participant("weak"),
        bus.participant("strong"),
        bus.participant("view"),
    );
    let t = a.topic::<Pt>("twin/test/own").unwrap();
    let readers: Vec<_> = (0..2)
        .map(|_| c.reader(&t, exclusive_reader()).unwrap())
        .collect();
    let weak = a.writer(&t, exclusive_writer(10)).unwrap();
    let strong = b.writer(&t, exclusive_writer(20)).unwrap();
    for s in 0..50 {
        weak.write(pt(1, 10, s)).unwrap();
        strong.write(pt(1, 20, s)).unwrap();
    }
    for r in &readers {
        let got = r.take_data();
        // The weak writer may own the instance only until the strong one writes.
        assert!(
            got.iter().filter(|p| p.writer == 10).count() <= 1,
            "{got:?}"
        );
        assert_eq!(got.iter().filter(|p| p.writer == 20).count(), 50);
        assert_eq!(r.status().last_owner, Some(strong.id()));
    }
    // Another instance is owned independently.
    weak.write(pt(2, 10, 0)).unwrap();
    assert_eq!(readers[0].take_data(), vec![pt(2, 10, 0)]);
}

#[test]
fn killed_owner_hands_over_within_one_lease() {
    with_timeout("kill handover", Duration::from_secs(10), || {
        let bus = Bus::in_memory();
        let (a, b, c) = (
            bus.participant("weak"),
            bus.participant("strong"),
            bus.participant("v"),
        );
        let t = a.topic::<Pt>("twin/test/own-kill").unwrap();
        let r = c.reader(&t, exclusive_reader()).unwrap();
        let strong = b.writer(&t, exclusive_writer(20)).unwrap();
        strong.write(pt(1, 20, 0)).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let weak_thread = {
            let stop = Arc::clone(&stop);
            let weak = a.writer(&t, exclusive_writer(10)).unwrap();
            thread::spawn(move || {
                let mut s = 0;
                while !stop.load(Ordering::Relaxed) {
                    weak.write(pt(1, 10, s)).unwrap();
                    s += 1;
                    thread::sleep(Duration::from_millis(2));
                }
            })
        };
        thread::sleep(Duration::from_millis(100));
        assert!(
            r.take_data().iter().all(|p| p.writer == 20),
            "weak leaked while strong alive"
        );
        b.kill(); // crash: no unregister, no goodbye
        let killed = Instant::now();
        assert!(
            strong.write(pt(1, 20, 1)).is_err(),
            "a killed participant cannot write"
        );
        let mut first_weak = None;
        let waited = eventually(Duration::from_secs(5), || {
            let got = r.take_data();
            if got.iter().any(|p| p.writer == 10) {
                first_weak = Some(killed.elapsed());
                return true;
            }
            false
        });
        stop.store(true, Ordering::Relaxed);
        weak_thread.join().unwrap();
        assert!(waited.is_some(), "no hand-over after the owner was killed");
        let took = first_weak.unwrap();
        // Detection is by lease: not before it expires, and within it plus scheduling slack.
        assert!(
            took >= LEASE - Duration::from_millis(5),
            "handed over too early: {took:?}"
        );
        assert!(
            took <= LEASE + Duration::from_millis(250),
            "hand-over took {took:?}"
        );
        let st = r.status();
        assert_eq!(st.not_alive_writers, 1);
        assert!(st.liveliness_changed.total >= 1);
    });
}

#[test]
fn graceful_drop_of_owner_hands_over_at_once() {
    let bus = Bus::in_memory();
    let (a, b) = (bus.participant("a"), bus.participant("b"));
    let t = a.topic::<Pt>("twin/test/own-drop").unwrap();
    let r = a.reader(&t, exclusive_reader()).unwrap();
    let weak = a.writer(&t, exclusive_writer(1)).unwrap();
    let strong = b.writer(&t, exclusive_writer(2)).unwrap();
    strong.write(pt(5, 2, 0)).unwrap();
    weak.write(pt(5, 1, 0)).unwrap();
    drop(strong);
    weak.write(pt(5, 1, 1)).unwrap();
    let got = r.take_data();
    assert_eq!(got, vec![pt(5, 2, 0), pt(5, 1, 1)]);
}

#[test]
fn deadline_miss_releases_ownership() {
    with_timeout("deadline handover", Duration::from_secs(10), || {
        let bus = Bus::in_memory();
        let p = bus.participant("p");
        let t = p.topic::<Pt>("twin/test/own-deadline").unwrap();
        let d = Duration::from_millis(100);
        let r = p
            .reader(&t, ReaderQos::default().keep_all().exclusive().deadline(d))
            .unwrap();
        let weak = p
            .writer(&t, WriterQos::default().exclusive_strength(1).deadline(d))
            .unwrap();
        let strong = p
            .writer(&t, WriterQos::default().exclusive_strength(2).deadline(d))
            .unwrap();
        strong.write(pt(1, 2, 0)).unwrap();
        weak.write(pt(1, 1, 0)).unwrap();
        assert_eq!(r.take_data(), vec![pt(1, 2, 0)]);
        // The strong writer goes silent (hung, not dead): after a deadline
        // period the instance is released and the weak writer takes over.
        let took = eventually(Duration::from_secs(3), || {
            weak.write(pt(1, 1, 1)).unwrap();
            r.take_data().iter().any(|p| p.writer == 1)
        });
        assert!(
            took.is_some(),
            "weak writer never took over after deadline miss"
        );
        assert!(r.status().deadline_missed.total >= 1);
        assert!(strong.status().deadline_missed.total >= 1);
    });
}

#[test]
fn ownership_changed_status_triggers_condition() {
    let bus = Bus::in_memory();
    let p = bus.participant("p");
    let t = p.topic::<Pt>("twin/test/own-cond").unwrap();
    let r = p.reader(&t, ReaderQos::default().exclusive()).unwrap();
    let cond = r.status_condition(StatusMask::OWNERSHIP_CHANGED);
    assert!(!cond.is_triggered());
    let w = p
        .writer(&t, WriterQos::default().exclusive_strength(3))
        .unwrap();
    w.write(pt(9, 3, 0)).unwrap();
    assert!(cond.is_triggered());
    let st = r.status();
    assert_eq!(st.ownership_changed.change, 1);
    assert!(
        !cond.is_triggered(),
        "reading the status resets the condition"
    );
}
