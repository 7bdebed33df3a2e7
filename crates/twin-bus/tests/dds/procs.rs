//! Tests across processes. They run only inside a private network namespace
//! (`scripts/netns-run` sets `TWIN_NETNS=1`); elsewhere they return at once
//! after saying so. A test re-runs this test binary as its peer process,
//! selected by `TWIN_DDS_CHILD`.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};
use twin_bus::{Bus, DdsConfig, Reader, ReaderQos, TopicType, WriterQos};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Counted {
    source: u32,
    seq: u64,
    pad: Vec<u8>,
}

impl TopicType for Counted {
    const TYPE_NAME: &'static str = "test::Counted";
    const KEY_FIELDS: &'static [&'static str] = &["source"];
    type Key = u32;
    fn key(&self) -> u32 {
        self.source
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Done {
    received: u64,
}

impl TopicType for Done {
    const TYPE_NAME: &'static str = "test::Done";
    type Key = ();
    fn key(&self) {}
}

/// Keyed type shared with `interop.py`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Reading {
    id: u32,
    name: String,
    value: f64,
    tags: Vec<String>,
    seq: u64,
}

impl TopicType for Reading {
    const TYPE_NAME: &'static str = "test::Reading";
    const KEY_FIELDS: &'static [&'static str] = &["id"];
    type Key = u32;
    fn key(&self) -> u32 {
        self.id
    }
}

pub(crate) fn in_netns() -> bool {
    if std::env::var_os("TWIN_NETNS").is_none() {
        eprintln!("not in a private network namespace: run through scripts/netns-run");
        return false;
    }
    true
}

pub(crate) fn bus(domain: u32) -> Bus {
    Bus::dds(DdsConfig {
        domain,
        ..DdsConfig::default()
    })
    .unwrap()
}

/// Starts this test binary as a child running `test` with role `role`.
pub(crate) fn child(test: &str, role: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads", "1"])
        .env("TWIN_DDS_CHILD", role)
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

pub(crate) fn role() -> Option<String> {
    std::env::var("TWIN_DDS_CHILD").ok()
}

fn wait_matched<T: TopicType>(r: &Reader<T>, timeout: Duration) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if r.status().matched_current > 0 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

const MILLION: u64 = 1_000_000;

#[test]
fn procs_million_reliable_samples_none_lost_duplicated_or_reordered() {
    let name = "procs::procs_million_reliable_samples_none_lost_duplicated_or_reordered";
    if let Some(r) = role() {
        if r == "million-pub" {
            let bus = bus(21);
            let p = bus.participant("publisher");
            let t = p.topic::<Counted>("twin/test/million").unwrap();
            let w = p
                .writer(
                    &t,
                    WriterQos::default()
                        .reliable_blocking(Duration::from_secs(10))
                        .keep_all(),
                )
                .unwrap();
            let td = p.topic::<Done>("twin/test/million/done").unwrap();
            let done = p
                .reader(&td, ReaderQos::default().reliable().keep_all())
                .unwrap();
            let end = Instant::now() + Duration::from_secs(30);
            while w.status().matched_current == 0 && Instant::now() < end {
                std::thread::sleep(Duration::from_millis(10));
            }
            for seq in 0..MILLION {
                let s = Counted {
                    source: (seq % 16) as u32,
                    seq,
                    pad: vec![7; 16],
                };
                w.write(s).expect("reliable write");
            }
            // Stay until the reader confirms, so nothing unacknowledged is dropped.
            done.take_timeout(Duration::from_secs(300))
                .expect("reader confirms");
        }
        return;
    }
    if !in_netns() {
        return;
    }
    let bus = bus(21);
    let p = bus.participant("subscriber");
    let t = p.topic::<Counted>("twin/test/million").unwrap();
    let r = p
        .reader(&t, ReaderQos::default().reliable().keep_all())
        .unwrap();
    let td = p.topic::<Done>("twin/test/million/done").unwrap();
    let dw = p.writer(&td, WriterQos::default().keep_all()).unwrap();
    let mut pubp = child(name, "million-pub");
    assert!(
        wait_matched(&r, Duration::from_secs(30)),
        "publisher never matched"
    );
    // A take returns samples instance (key) by instance, so order is checked
    // per key: the writer's samples of key k are k, k+16, k+32, …
    let mut next_of = [0u64; 16];
    for (k, n) in next_of.iter_mut().enumerate() {
        *n = k as u64;
    }
    let mut next = 0u64;
    let end = Instant::now() + Duration::from_secs(300);
    let mut buf = Vec::new();
    while next < MILLION && Instant::now() < end {
        buf.clear();
        if r.take_into(&mut buf, 4096) == 0 {
            let _ = r
                .take_timeout(Duration::from_millis(200))
                .map(|v| buf.extend(v));
        }
        for s in &buf {
            let v = s.value.as_ref().expect("data");
            let k = v.source as usize;
            assert_eq!(
                v.seq, next_of[k],
                "key {k}: sample lost, duplicated or out of order"
            );
            next_of[k] += 16;
            next += 1;
        }
    }
    dw.write(Done { received: next }).unwrap();
    let st = pubp.wait().unwrap();
    assert_eq!(next, MILLION, "received {next} of {MILLION}");
    assert!(st.success(), "publisher failed: {st}");
    assert_eq!(r.status().sample_lost.total, 0);
}

pub(crate) fn python() -> String {
    std::env::var("TWIN_PYTHON").unwrap_or_else(|_| "python3".into())
}

pub(crate) fn script() -> String {
    format!("{}/tests/dds/interop.py", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn procs_python_publisher_reaches_twin_reader_keyed() {
    if role().is_some() || !in_netns() {
        return;
    }
    let bus = bus(0);
    let p = bus.participant("twin-sub");
    let t = p.topic::<Reading>("twin/test/interop").unwrap();
    let q = ReaderQos::default().reliable().keep_all().transient_local();
    let r = p.reader(&t, q).unwrap();
    let mut py = Command::new(python())
        .args([&script(), "pub", "0", "10"])
        .spawn()
        .unwrap();
    let mut got = Vec::new();
    let end = Instant::now() + Duration::from_secs(30);
    while got.len() < 10 && Instant::now() < end {
        if let Ok(v) = r.take_timeout(Duration::from_millis(200)) {
            got.extend(
                v.into_iter()
                    .filter_map(|s| s.value.map(|v| (s.info.instance, v))),
            );
        }
    }
    assert!(py.wait().unwrap().success());
    assert_eq!(got.len(), 10, "{got:?}");
    // A take returns samples instance by instance.
    got.sort_by_key(|(_, v)| v.seq);
    for (i, (_, v)) in got.iter().enumerate() {
        let i = i as u64;
        let want = Reading {
            id: (i % 3) as u32,
            name: format!("py-{i}"),
            value: i as f64 * 0.5,
            tags: vec!["a".into(), i.to_string()],
            seq: i,
        };
        assert_eq!(v, &want);
    }
    // Three keys, three instances.
    let mut inst: Vec<_> = got.iter().map(|(h, _)| *h).collect();
    inst.sort();
    inst.dedup();
    assert_eq!(inst.len(), 3);
}

#[test]
fn procs_python_impostors_are_dropped_and_the_twin_reader_keeps_working() {
    if role().is_some() || !in_netns() {
        return;
    }
    let bus = bus(3);
    let p = bus.participant("twin-sub");
    let t = p.topic::<Reading>("twin/test/interop").unwrap();
    let q = ReaderQos::default().reliable().keep_all().transient_local();
    let r = p.reader(&t, q).unwrap();
    // Ten samples cut short or with a 4 GB string length, from two foreign
    // participants under Twin's type name, then ten good ones. They reach
    // this process: Cyclone checks each against Twin's type descriptor and
    // logs "deserialization twin/test/interop/test::Reading failed".
    let mut py = Command::new(python())
        .args([&script(), "garbage", "3", "10"])
        .spawn()
        .unwrap();
    let mut got = Vec::new();
    let end = Instant::now() + Duration::from_secs(40);
    while got.len() < 10 && Instant::now() < end {
        if let Ok(v) = r.take_timeout(Duration::from_millis(200)) {
            got.extend(v.into_iter().filter_map(|s| s.value));
        }
    }
    assert!(py.wait().unwrap().success());
    std::thread::sleep(Duration::from_millis(300));
    got.extend(r.take().into_iter().filter_map(|s| s.value));
    got.sort_by_key(|v| v.seq);
    let seqs: Vec<u64> = got.iter().map(|v| v.seq).collect();
    assert_eq!(
        seqs,
        (0..10).collect::<Vec<_>>(),
        "only the good samples: {got:?}"
    );
    assert!(got.iter().all(|v| v.name == format!("py-{}", v.seq)));
}

#[test]
fn procs_twin_writer_reaches_python_subscriber_keyed() {
    if role().is_some() || !in_netns() {
        return;
    }
    let py = Command::new(python())
        .args([&script(), "sub", "1", "10"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let bus = bus(1);
    let p = bus.participant("twin-pub");
    let t = p.topic::<Reading>("twin/test/interop").unwrap();
    let w = p
        .writer(&t, WriterQos::default().keep_all().transient_local())
        .unwrap();
    // Half before the subscriber matched (late-joiner replay), half after.
    for i in 0..10u64 {
        if i == 5 {
            let end = Instant::now() + Duration::from_secs(20);
            while w.status().matched_current == 0 && Instant::now() < end {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        w.write(Reading {
            id: (i % 3) as u32,
            name: format!("twin-{i}"),
            value: -(i as f64),
            tags: vec![format!("t{i}")],
            seq: i,
        })
        .unwrap();
    }
    let out = py.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python subscriber: {}\n{text}",
        out.status
    );
    let mut lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    lines.sort_by_key(|l| l["seq"].as_u64());
    assert_eq!(lines.len(), 10, "{text}");
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["seq"], i as u64);
        assert_eq!(l["name"], format!("twin-{i}"));
        assert_eq!(l["id"], (i % 3) as u64);
        assert_eq!(l["tags"][0], format!("t{i}"));
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Owned {
    id: u32,
    strength: i32,
    n: u64,
}

impl TopicType for Owned {
    const TYPE_NAME: &'static str = "test::Owned";
    const KEY_FIELDS: &'static [&'static str] = &["id"];
    type Key = u32;
    fn key(&self) -> u32 {
        self.id
    }
}

const LEASE: Duration = Duration::from_millis(200);

#[test]
fn procs_sigkill_of_the_owner_hands_over_to_the_next_strongest() {
    let name = "procs::procs_sigkill_of_the_owner_hands_over_to_the_next_strongest";
    if let Some(r) = role() {
        if let Some(s) = r.strip_prefix("owner-") {
            let strength: i32 = s.parse().unwrap();
            let bus = bus(22);
            let p = bus.participant(&format!("writer-{strength}"));
            let t = p.topic::<Owned>("twin/test/owned").unwrap();
            let q = WriterQos::default()
                .exclusive_strength(strength)
                .deadline(LEASE)
                .liveliness_lease(LEASE)
                .keep_last(1);
            let w = p.writer(&t, q).unwrap();
            for n in 0.. {
                let _ = w.write(Owned { id: 1, strength, n });
                std::thread::sleep(Duration::from_millis(10));
                if n > 6000 {
                    break; // 60 s at most
                }
            }
        }
        return;
    }
    if !in_netns() {
        return;
    }
    let bus = bus(22);
    let p = bus.participant("reader");
    let t = p.topic::<Owned>("twin/test/owned").unwrap();
    let q = ReaderQos::default()
        .reliable()
        .keep_all()
        .exclusive()
        .deadline(LEASE)
        .liveliness_lease(LEASE);
    let r = p.reader(&t, q).unwrap();
    let mut weak = child(name, "owner-1");
    let mut strong = child(name, "owner-9");
    // Wait until the strong writer owns the instance.
    let end = Instant::now() + Duration::from_secs(30);
    let mut strong_seen = 0;
    while strong_seen < 50 && Instant::now() < end {
        for s in r.take() {
            if s.value.is_some_and(|v| v.strength == 9) {
                strong_seen += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(strong_seen >= 50, "strong writer never owned the instance");
    // While it owns it, the weak one is suppressed.
    std::thread::sleep(Duration::from_millis(200));
    let _ = r.take();
    std::thread::sleep(Duration::from_millis(300));
    let window = r.take();
    assert!(
        window
            .iter()
            .all(|s| s.value.as_ref().is_none_or(|v| v.strength == 9)),
        "weaker writer's samples delivered while the owner is alive"
    );
    strong.kill().unwrap(); // SIGKILL
    let killed = Instant::now();
    let _ = strong.wait();
    let mut handover = None;
    while killed.elapsed() < Duration::from_secs(10) {
        if r.take()
            .iter()
            .any(|s| s.value.as_ref().is_some_and(|v| v.strength == 1))
        {
            handover = Some(killed.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    weak.kill().unwrap();
    let _ = weak.wait();
    let h = handover.expect("the weaker writer took over after the owner was killed");
    eprintln!("ownership hand-over {h:?} after SIGKILL (lease {LEASE:?})");
    assert!(h < LEASE * 5, "hand-over took {h:?} with a {LEASE:?} lease");
}
