use std::{sync::Arc, time::Duration};

use serde::{Deserialize, Serialize};
use twin_bus::{Bus, DdsConfig, InstanceState, ReaderQos, TopicType, WriterQos};
use twin_core::SimTime;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum Mode {
    Idle,
    Moving { speed: f64 },
    Tagged(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Vehicle {
    id: Arc<str>,
    pos: [f64; 2],
    mode: Mode,
    note: Option<String>,
    hops: Vec<u32>,
}

impl TopicType for Vehicle {
    const TYPE_NAME: &'static str = "test::Vehicle";
    const KEY_FIELDS: &'static [&'static str] = &["id"];
    type Key = Arc<str>;
    fn key(&self) -> Arc<str> {
        Arc::clone(&self.id)
    }
}

fn v(id: &str, x: f64) -> Vehicle {
    Vehicle {
        id: id.into(),
        pos: [x, -x],
        mode: if x > 1.0 {
            Mode::Moving { speed: x }
        } else {
            Mode::Tagged(format!("t{x}"))
        },
        note: (x > 2.0).then(|| "far".to_string()),
        hops: vec![1, 2, x as u32],
    }
}

/// Each test uses its own domain so parallel tests do not meet.
fn bus(domain: u32) -> Bus {
    Bus::dds(DdsConfig {
        domain,
        ..DdsConfig::default()
    })
    .unwrap()
}

fn wait_matched<T: TopicType>(r: &twin_bus::Reader<T>, n: u32) {
    for _ in 0..500 {
        if r.status().matched_current >= n {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("reader never matched {n} writers");
}

/// A reliable keep-all reader and writer of `t` in `p`, matched to each other.
fn matched_pair<T: TopicType>(
    p: &twin_bus::Participant,
    t: &twin_bus::Topic<T>,
) -> (twin_bus::Reader<T>, twin_bus::Writer<T>) {
    let r = p
        .reader(t, ReaderQos::default().reliable().keep_all())
        .unwrap();
    let w = p
        .writer(t, WriterQos::default().reliable().keep_all())
        .unwrap();
    wait_matched(&r, 1);
    (r, w)
}

#[test]
fn keyed_samples_cross_participants_with_sim_time() {
    let bus = bus(11);
    let a = bus.participant("a");
    let b = bus.participant("b");
    let ta = a.topic::<Vehicle>("twin/test/vehicle").unwrap();
    let tb = b.topic::<Vehicle>("twin/test/vehicle").unwrap();
    let r = b
        .reader(&tb, ReaderQos::default().reliable().keep_last(10))
        .unwrap();
    let w = a.writer(&ta, WriterQos::default().keep_last(10)).unwrap();
    wait_matched(&r, 1);
    w.write(v("x", 1.0)).unwrap();
    w.write_at(v("y", 3.0), SimTime::from_nanos(42)).unwrap();
    w.write(v("x", 2.0)).unwrap();
    let mut got = Vec::new();
    while got.len() < 3 {
        got.extend(
            r.take_timeout(Duration::from_secs(5))
                .expect("samples arrive"),
        );
    }
    let xs: Vec<_> = got.iter().filter(|s| &*s.key == "x").collect();
    assert_eq!(xs.len(), 2);
    assert_eq!(xs[1].value.as_ref().unwrap(), &v("x", 2.0));
    assert_eq!(xs[0].info.instance, xs[1].info.instance);
    let y = got.iter().find(|s| &*s.key == "y").unwrap();
    assert_ne!(y.info.instance, xs[0].info.instance);
    assert_eq!(y.info.sim_time, Some(SimTime::from_nanos(42)));
    assert_eq!(y.info.participant, a.id());
    assert_eq!(
        bus.participant_name(y.info.participant).as_deref(),
        Some("a")
    );
    assert_eq!(xs[0].info.sim_time, None);
    assert!(y.info.source_time.0 > 1_600_000_000_000_000_000);

    // Dispose reaches the reader as an instance-state change of key y.
    assert!(w.dispose(&Arc::from("y")));
    let s = r.take_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(s.len(), 1);
    assert_eq!(&*s[0].key, "y");
    assert_eq!(s[0].info.state, InstanceState::NotAliveDisposed);
    assert!(s[0].value.is_none());
    // Unregistering x (its only writer) leaves it without writers.
    assert!(w.unregister(&Arc::from("x")));
    let s = r.take_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(s.len(), 1);
    assert_eq!(&*s[0].key, "x");
    assert_eq!(s[0].info.state, InstanceState::NotAliveNoWriters);
}

#[test]
fn a_mismatched_type_under_the_same_name_is_dropped_and_the_reader_keeps_working() {
    // Another program's idea of test::Vehicle: same name and key, other fields.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    struct Impostor {
        id: Arc<str>,
        junk: u8,
    }
    impl TopicType for Impostor {
        const TYPE_NAME: &'static str = "test::Vehicle";
        const KEY_FIELDS: &'static [&'static str] = &["id"];
        type Key = Arc<str>;
        fn key(&self) -> Arc<str> {
            Arc::clone(&self.id)
        }
    }
    let bus = bus(16);
    let bad = bus.participant("impostor");
    let good = bus.participant("good");
    let me = bus.participant("reader");
    let tb = bad.topic::<Impostor>("twin/test/mixed").unwrap();
    let tg = good.topic::<Vehicle>("twin/test/mixed").unwrap();
    let tr = me.topic::<Vehicle>("twin/test/mixed").unwrap();
    let r = me
        .reader(&tr, ReaderQos::default().reliable().keep_all())
        .unwrap();
    let wb = bad.writer(&tb, WriterQos::default().keep_all()).unwrap();
    let wg = good.writer(&tg, WriterQos::default().keep_all()).unwrap();
    wait_matched(&r, 2);
    for i in 0..5 {
        wb.write(Impostor {
            id: "z".into(),
            junk: i,
        })
        .unwrap();
        wg.write(v("g", f64::from(i))).unwrap();
    }
    let mut got = Vec::new();
    let end = std::time::Instant::now() + Duration::from_secs(5);
    while got.len() < 5 && std::time::Instant::now() < end {
        if let Ok(s) = r.take_timeout(Duration::from_millis(200)) {
            got.extend(s.into_iter().filter_map(|s| s.value));
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    got.extend(r.take().into_iter().filter_map(|s| s.value));
    assert_eq!(got.len(), 5, "only the well-typed samples arrive: {got:?}");
    assert!(got.iter().all(|x| &*x.id == "g"));
}

#[test]
fn keep_last_is_per_instance_and_transient_local_reaches_late_joiners() {
    let bus = bus(12);
    let a = bus.participant("a");
    let t = a.topic::<Vehicle>("twin/test/tl").unwrap();
    let w = a
        .writer(&t, WriterQos::default().transient_local().keep_last(1))
        .unwrap();
    for i in 0..5 {
        w.write(v("p", f64::from(i))).unwrap();
        w.write(v("q", 10.0 + f64::from(i))).unwrap();
    }
    let b = bus.participant("late");
    let tb = b.topic::<Vehicle>("twin/test/tl").unwrap();
    let r = b
        .reader(
            &tb,
            ReaderQos::default().reliable().transient_local().keep_all(),
        )
        .unwrap();
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while got.len() < 2 && std::time::Instant::now() < deadline {
        if let Ok(s) = r.take_timeout(Duration::from_millis(200)) {
            got.extend(s);
        }
    }
    let mut last: Vec<(String, f64)> = got
        .iter()
        .map(|s| (s.key.to_string(), s.value.as_ref().unwrap().pos[0]))
        .collect();
    last.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(last, vec![("p".into(), 4.0), ("q".into(), 14.0)]);
}

#[test]
fn incompatible_qos_does_not_match_and_partitions_separate() {
    let bus = bus(13);
    let a = bus.participant("a");
    let t = a.topic::<Vehicle>("twin/test/qos").unwrap();
    let r = a
        .reader(&t, ReaderQos::default().reliable().transient_local())
        .unwrap();
    let _w = a.writer(&t, WriterQos::default().best_effort()).unwrap();
    let rp = a
        .reader(&t, ReaderQos::default().partitions(["site/*"]))
        .unwrap();
    let wp = a
        .writer(&t, WriterQos::default().partitions(["site/north"]))
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let st = r.status();
    assert_eq!(st.matched_current, 0);
    assert!(st.incompatible_qos.total >= 1);
    assert_eq!(rp.status().matched_current, 1);
    wp.write(v("n", 1.0)).unwrap();
    let got = rp.take_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(got.len(), 1);
}

#[test]
fn exclusive_ownership_hands_over_when_the_owner_loses_liveliness() {
    // Cyclone renews an instance's deadline on every sample, the weaker
    // writer's included, so a silent owner is detected through its
    // liveliness lease (here manual: the owner must write every 100 ms).
    let bus = bus(14);
    let a = bus.participant("weak");
    let b = bus.participant("strong");
    let c = bus.participant("reader");
    let dl = Duration::from_millis(100);
    let ta = a.topic::<Vehicle>("twin/test/own").unwrap();
    let tb = b.topic::<Vehicle>("twin/test/own").unwrap();
    let tc = c.topic::<Vehicle>("twin/test/own").unwrap();
    let r = c
        .reader(
            &tc,
            ReaderQos::default()
                .reliable()
                .keep_all()
                .exclusive()
                .deadline(dl),
        )
        .unwrap();
    let q = |s| {
        WriterQos::default()
            .exclusive_strength(s)
            .deadline(dl)
            .manual_liveliness(dl)
    };
    let weak = a.writer(&ta, q(1)).unwrap();
    let strong = b.writer(&tb, q(9)).unwrap();
    wait_matched(&r, 2);
    let from = |s: &twin_bus::Sample<Vehicle>| s.value.as_ref().map(|v| v.hops[0]);
    let mut weak_seen = 0;
    let mut strong_seen = 0;
    for i in 0..20 {
        let mut x = v("k", 0.5);
        x.hops[0] = 1;
        weak.write(x.clone()).unwrap();
        x.hops[0] = 9;
        strong.write(x).unwrap();
        std::thread::sleep(Duration::from_millis(10));
        for s in r.take() {
            match from(&s) {
                Some(1) if i > 2 => weak_seen += 1,
                Some(9) => strong_seen += 1,
                _ => {}
            }
        }
    }
    assert!(strong_seen > 10, "strong {strong_seen}");
    assert_eq!(
        weak_seen, 0,
        "the weaker writer is suppressed while the owner writes"
    );
    // The owner falls silent: after its deadline the weaker writer takes over.
    let mut x = v("k", 0.5);
    x.hops[0] = 1;
    let start = std::time::Instant::now();
    let mut took_over = None;
    while start.elapsed() < Duration::from_secs(3) {
        weak.write(x.clone()).unwrap();
        std::thread::sleep(Duration::from_millis(10));
        if r.take().iter().any(|s| from(s) == Some(1)) {
            took_over = Some(start.elapsed());
            break;
        }
    }
    let t = took_over.expect("weaker writer took over");
    assert!(t < Duration::from_millis(500), "hand-over took {t:?}");
    assert!(r.status().liveliness_changed.total >= 1 || r.status().not_alive_writers >= 1);
}

#[test]
fn types_without_key_fields_are_refused_with_a_reason() {
    #[derive(Clone, Debug, Serialize, Deserialize)]
    struct NoKeys {
        id: u32,
    }
    impl TopicType for NoKeys {
        const TYPE_NAME: &'static str = "test::NoKeys";
        type Key = u32;
        fn key(&self) -> u32 {
            self.id
        }
    }
    let bus = bus(15);
    let p = bus.participant("p");
    let e = p
        .topic::<NoKeys>("twin/test/nokeys")
        .unwrap_err()
        .to_string();
    assert!(e.contains("KEY_FIELDS"), "{e}");
}

#[test]
fn data_hook_runs_on_arrival_and_handled_data_wakes_no_waiter() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let bus = bus(17);
    let p = bus.participant("hook");
    let t = p.topic::<Vehicle>("twin/test/hook").unwrap();
    let r = Arc::new(
        p.reader(&t, ReaderQos::default().reliable().keep_all())
            .unwrap(),
    );
    let w = p
        .writer(&t, WriterQos::default().reliable().keep_all())
        .unwrap();
    wait_matched(&r, 1);
    let taken = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let (r2, taken2) = (Arc::downgrade(&r), Arc::clone(&taken));
    // Handles even-numbered arrivals itself, leaves the others to waiters.
    let calls = Arc::new(AtomicUsize::new(0));
    let calls2 = Arc::clone(&calls);
    assert!(r.set_data_hook(move || {
        if calls2.fetch_add(1, Ordering::Relaxed) % 2 == 1 {
            return false;
        }
        let Some(r) = r2.upgrade() else { return false };
        taken2.lock().extend(r.take_data());
        true
    }));
    w.write(v("a", 1.0)).unwrap();
    let end = std::time::Instant::now() + Duration::from_secs(5);
    while taken.lock().is_empty() && std::time::Instant::now() < end {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(*taken.lock(), vec![v("a", 1.0)], "the hook took the sample");
    // Handled: a waiter is not woken (and finds nothing).
    assert!(r.take_timeout(Duration::from_millis(200)).is_err());
    // Not handled (the hook said false): the waiter is woken and takes it.
    w.write(v("b", 2.0)).unwrap();
    let got = r.take_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(got[0].value, Some(v("b", 2.0)));
    assert_eq!(calls.load(Ordering::Relaxed), 2);
    // The in-memory bus has no delivery thread: nothing is installed.
    let m = Bus::in_memory().participant("m");
    let mt = m.topic::<Vehicle>("x").unwrap();
    assert!(!m
        .reader(&mt, ReaderQos::default())
        .unwrap()
        .set_data_hook(|| true));
}

#[test]
fn arrivals_count_deliveries_so_a_quiet_reader_need_not_be_taken() {
    let bus = bus(18);
    let p = bus.participant("arrivals");
    let t = p.topic::<Vehicle>("twin/test/arrivals").unwrap();
    let (r, w) = matched_pair(&p, &t);
    let before = r.arrivals().expect("DDS readers count arrivals");
    assert!(r.take().is_empty());
    w.write(v("a", 1.0)).unwrap();
    w.write(v("b", 2.0)).unwrap();
    // Same-process writes are delivered inside `write`: counted by now, and
    // a take after reading the count finds the samples.
    let after = r.arrivals().unwrap();
    assert_eq!(after, before + 2, "one arrival per delivered sample");
    assert_eq!(r.take().len(), 2);
    // Nothing written: the count stays, and so a poller skips the take.
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(r.arrivals(), Some(after));
    assert!(r.take().is_empty());
    // The in-memory bus does not count: pollers always take.
    let m = Bus::in_memory().participant("m");
    let mt = m.topic::<Vehicle>("x").unwrap();
    assert_eq!(
        m.reader(&mt, ReaderQos::default()).unwrap().arrivals(),
        None
    );
}

#[test]
fn f64s_cross_cyclone_in_one_copy_with_the_idl_of_a_vec_f64() {
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Trace {
        id: u32,
        v: twin_bus::F64s,
        tail: u8,
    }
    impl TopicType for Trace {
        const TYPE_NAME: &'static str = "test::Trace";
        const KEY_FIELDS: &'static [&'static str] = &["id"];
        type Key = u32;
        fn key(&self) -> u32 {
            self.id
        }
    }
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Plain {
        id: u32,
        v: Vec<f64>,
        tail: u8,
    }
    impl TopicType for Plain {
        const TYPE_NAME: &'static str = "test::Trace";
        const KEY_FIELDS: &'static [&'static str] = &["id"];
        type Key = u32;
        fn key(&self) -> u32 {
            self.id
        }
    }
    let idl = twin_bus::dds::idl_of::<Trace>().unwrap();
    assert_eq!(idl, twin_bus::dds::idl_of::<Plain>().unwrap());
    assert!(idl.contains("sequence<double> v;"), "{idl}");
    let bus = bus(19);
    let p = bus.participant("f64s");
    let t = p.topic::<Trace>("twin/test/f64s").unwrap();
    let (r, w) = matched_pair(&p, &t);
    let sent: Vec<Trace> = [0usize, 1, 4096]
        .iter()
        .map(|&n| Trace {
            id: n as u32,
            v: twin_bus::F64s((0..n).map(|i| (i as f64).sin()).collect()),
            tail: 7,
        })
        .collect();
    for s in &sent {
        w.write(s.clone()).unwrap();
    }
    let got = r.take_data();
    assert_eq!(got, sent, "Cyclone normalised and delivered them unchanged");
    // Same bytes as the plain `Vec<f64>` type, both ways.
    let plain = Plain {
        id: 4096,
        v: sent[2].v.0.clone(),
        tail: 7,
    };
    let cdr = twin_bus::dds::cdr_of(&sent[2]).unwrap();
    assert_eq!(cdr, twin_bus::dds::cdr_of(&plain).unwrap());
    assert_eq!(twin_bus::dds::from_cdr::<Plain>(&cdr).unwrap(), plain);
}
