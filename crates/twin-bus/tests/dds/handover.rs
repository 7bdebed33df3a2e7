//! Exclusive ownership hands over within the topic's deadline when the
//! owner process is killed, with a liveliness lease far longer than the
//! deadline (so the lease cannot be what detects it). Runs only inside a
//! private network namespace (`scripts/netns-run`).

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use twin_bus::{ReaderQos, TopicType, WriterQos};

use crate::procs::{bus, child, in_netns, role};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Owned2 {
    id: u32,
    strength: i32,
    n: u64,
}

impl TopicType for Owned2 {
    const TYPE_NAME: &'static str = "test::Owned2";
    const KEY_FIELDS: &'static [&'static str] = &["id"];
    type Key = u32;
    fn key(&self) -> u32 {
        self.id
    }
}

const DEADLINE: Duration = Duration::from_millis(200);
const LEASE: Duration = Duration::from_secs(60);
const DOMAIN: u32 = 23;

#[test]
fn procs_sigkill_of_the_owner_hands_over_within_the_deadline_not_the_lease() {
    let name = "handover::procs_sigkill_of_the_owner_hands_over_within_the_deadline_not_the_lease";
    if let Some(r) = role() {
        if let Some(s) = r.strip_prefix("owner2-") {
            let strength: i32 = s.parse().unwrap();
            let bus = bus(DOMAIN);
            let p = bus.participant(&format!("writer-{strength}"));
            let t = p.topic::<Owned2>("twin/test/owned2").unwrap();
            let q = WriterQos::default()
                .exclusive_strength(strength)
                .deadline(DEADLINE)
                .liveliness_lease(LEASE)
                .keep_last(1);
            let w = p.writer(&t, q).unwrap();
            for n in 0..6000 {
                let _ = w.write(Owned2 { id: 1, strength, n });
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        return;
    }
    if !in_netns() {
        return;
    }
    let bus = bus(DOMAIN);
    let p = bus.participant("reader");
    let t = p.topic::<Owned2>("twin/test/owned2").unwrap();
    let q = ReaderQos::default()
        .reliable()
        .keep_all()
        .exclusive()
        .deadline(DEADLINE)
        .liveliness_lease(LEASE);
    let r = p.reader(&t, q).unwrap();
    let mut weak = child(name, "owner2-1");
    let mut strong = child(name, "owner2-9");
    let end = Instant::now() + Duration::from_secs(30);
    let mut strong_seen = 0;
    while strong_seen < 50 && Instant::now() < end {
        strong_seen += r
            .take()
            .iter()
            .filter(|s| s.value.as_ref().is_some_and(|v| v.strength == 9))
            .count();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(strong_seen >= 50, "strong writer never owned the instance");
    // While the owner writes, the weaker writer stays suppressed (the
    // watchdog must not hand over a live owner's instance).
    let _ = r.take();
    std::thread::sleep(DEADLINE * 4);
    let window = r.take();
    assert!(!window.is_empty());
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
    while killed.elapsed() < Duration::from_secs(20) {
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
    eprintln!("ownership hand-over {h:?} after SIGKILL (deadline {DEADLINE:?}, lease {LEASE:?})");
    // Detection needs one deadline plus the watchdog's period (D/4) and a
    // fresh reader's matching; the lease (60 s) or Cyclone's participant
    // lease (10 s) would take far longer.
    assert!(
        h < DEADLINE * 6,
        "hand-over took {h:?} with a {DEADLINE:?} deadline"
    );
}
