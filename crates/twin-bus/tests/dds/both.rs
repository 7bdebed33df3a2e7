//! Bus behaviour that must not depend on the backend: each check is a
//! function of a [`Bus`], run once on the in-memory bus and once on DDS
//! (in-process, each DDS check in its own domain). A representative subset
//! of the in-memory suite in `tests/it`: exclusive ownership,
//! transient-local late joiners, keep-last history, partitions, lifespan.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use twin_bus::{Bus, ReaderQos, TopicType, WriterQos};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct K {
    id: u32,
    writer: u32,
    seq: u64,
}

impl TopicType for K {
    const TYPE_NAME: &'static str = "test::K";
    const KEY_FIELDS: &'static [&'static str] = &["id"];
    type Key = u32;
    fn key(&self) -> u32 {
        self.id
    }
}

fn k(id: u32, writer: u32, seq: u64) -> K {
    K { id, writer, seq }
}

fn stronger_writer_owns_each_instance(bus: Bus) {
    let (a, b, c) = (
        bus.participant("weak"),
        bus.participant("strong"),
        bus.participant("view"),
    );
    let t = a.topic::<K>("twin/test/both/own").unwrap();
    let r = c
        .reader(&t, ReaderQos::default().reliable().keep_all().exclusive())
        .unwrap();
    let weak = a
        .writer(&t, WriterQos::default().exclusive_strength(10))
        .unwrap();
    let strong = b
        .writer(&t, WriterQos::default().exclusive_strength(20))
        .unwrap();
    for s in 0..50 {
        weak.write(k(1, 10, s)).unwrap();
        strong.write(k(1, 20, s)).unwrap();
    }
    let got = r.take_data();
    // The weak writer may own the instance only until the strong one writes.
    assert!(
        got.iter().filter(|p| p.writer == 10).count() <= 1,
        "{got:?}"
    );
    assert_eq!(got.iter().filter(|p| p.writer == 20).count(), 50, "{got:?}");
    // Another instance is owned independently.
    weak.write(k(2, 10, 0)).unwrap();
    assert_eq!(r.take_data(), vec![k(2, 10, 0)]);
}

fn late_joiner_gets_the_last_value_of_each_live_instance(bus: Bus) {
    let p = bus.participant("pub");
    let t = p.topic::<K>("twin/test/both/tl").unwrap();
    let w = p
        .writer(&t, WriterQos::default().transient_local().keep_last(1))
        .unwrap();
    for id in 0..6 {
        for s in 0..3 {
            w.write(k(id, 0, s)).unwrap();
        }
    }
    assert!(w.dispose(&3));
    let late = bus.participant("late");
    let tl = ReaderQos::default()
        .reliable()
        .keep_last(1)
        .transient_local();
    let r = late.reader(&t, tl).unwrap();
    let mut got = Vec::new();
    for _ in 0..200 {
        got.extend(r.take_data());
        if got.len() >= 5 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    got.sort_by_key(|p| p.id);
    assert_eq!(
        got.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![0, 1, 2, 4, 5]
    );
    assert!(got.iter().all(|p| p.seq == 2), "only the last: {got:?}");
    // A volatile late joiner gets nothing.
    let v = late.reader(&t, ReaderQos::default().reliable()).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert!(v.take_data().is_empty());
}

fn keep_last_depth_is_per_instance(bus: Bus) {
    let p = bus.participant("p");
    let t = p.topic::<K>("twin/test/both/depth").unwrap();
    let r = p
        .reader(&t, ReaderQos::default().reliable().keep_last(2))
        .unwrap();
    let w = p.writer(&t, WriterQos::default()).unwrap();
    for s in 0..100 {
        w.write(k((s % 3) as u32, 0, s)).unwrap();
    }
    // The order across instances is the backend's; per instance it is the
    // last two in writing order.
    let mut got: Vec<(u32, u64)> = r.take_data().iter().map(|p| (p.id, p.seq)).collect();
    got.sort();
    assert_eq!(
        got,
        vec![(0, 96), (0, 99), (1, 94), (1, 97), (2, 95), (2, 98)]
    );
}

fn partitions_separate_traffic(bus: Bus) {
    let p = bus.participant("p");
    let t = p.topic::<K>("twin/test/both/part").unwrap();
    let rq = || ReaderQos::default().reliable().keep_all();
    let north = p.reader(&t, rq().partitions(["site/north"])).unwrap();
    let any = p.reader(&t, rq().partitions(["site/*"])).unwrap();
    let dflt = p.reader(&t, rq()).unwrap();
    let ws = p
        .writer(&t, WriterQos::default().partitions(["site/south"]))
        .unwrap();
    let wn = p
        .writer(&t, WriterQos::default().partitions(["site/north"]))
        .unwrap();
    ws.write(k(1, 1, 0)).unwrap();
    wn.write(k(1, 2, 0)).unwrap();
    assert_eq!(north.take_data(), vec![k(1, 2, 0)]);
    let mut both: Vec<u32> = any.take_data().iter().map(|p| p.writer).collect();
    both.sort();
    assert_eq!(both, vec![1, 2]);
    assert!(dflt.take_data().is_empty());
}

fn lifespan_expires_old_samples(bus: Bus) {
    let p = bus.participant("p");
    let t = p.topic::<K>("twin/test/both/lifespan").unwrap();
    let r = p.reader(&t, ReaderQos::default().keep_all()).unwrap();
    let w = p
        .writer(&t, WriterQos::default().lifespan(Duration::from_millis(30)))
        .unwrap();
    w.write(k(1, 0, 0)).unwrap();
    std::thread::sleep(Duration::from_millis(80));
    w.write(k(1, 0, 1)).unwrap();
    assert_eq!(r.take_data(), vec![k(1, 0, 1)]);
}

macro_rules! on_both_backends {
    ($($check:ident @ $domain:expr),* $(,)?) => {
        mod memory {
            $(#[test]
            fn $check() {
                super::$check(twin_bus::Bus::in_memory());
            })*
        }
        mod dds {
            $(#[test]
            fn $check() {
                super::$check(crate::procs::bus($domain));
            })*
        }
    };
}

on_both_backends!(
    stronger_writer_owns_each_instance @ 41,
    late_joiner_gets_the_last_value_of_each_live_instance @ 42,
    keep_last_depth_is_per_instance @ 43,
    partitions_separate_traffic @ 44,
    lifespan_expires_old_samples @ 45,
);
