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
    let r = p.reader(&t, owned_qos()).unwrap();
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

/// Kills its child process (SIGKILL, by PID) when dropped, so that a
/// failing assertion leaves no writer behind.
struct Kid(std::process::Child);

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Who wrote a sample: its writer's strength (each writer writes its own).
/// The reader side of both tests: exclusive, with the short deadline and the long lease.
fn owned_qos() -> ReaderQos {
    ReaderQos::default()
        .reliable()
        .keep_all()
        .exclusive()
        .deadline(DEADLINE)
        .liveliness_lease(LEASE)
}

fn writers(v: &[twin_bus::Sample<Owned2>], id: u32) -> Vec<i32> {
    v.iter()
        .filter_map(|s| s.value.as_ref())
        .filter(|v| v.id == id)
        .map(|v| v.strength)
        .collect()
}

#[test]
fn procs_sigkill_of_one_instance_owner_hands_over_only_its_instance() {
    let name = "handover::procs_sigkill_of_one_instance_owner_hands_over_only_its_instance";
    const K: u32 = 1; // owned by A (strength 9), whose process is killed
    const J: u32 = 2; // owned by B (strength 8), alive throughout
    if let Some(r) = role() {
        // "inst-STRENGTH-PERIOD_MS-ID[-ID]": writes every ID every period
        // for about 60 s.
        if let Some(s) = r.strip_prefix("inst-") {
            let mut parts = s.split('-');
            let strength: i32 = parts.next().unwrap().parse().unwrap();
            let period = Duration::from_millis(parts.next().unwrap().parse().unwrap());
            let ids: Vec<u32> = parts.map(|x| x.parse().unwrap()).collect();
            let bus = bus(DOMAIN + 1);
            let p = bus.participant(&format!("writer-{strength}"));
            let t = p.topic::<Owned2>("twin/test/owned-instances").unwrap();
            let q = WriterQos::default()
                .exclusive_strength(strength)
                .deadline(DEADLINE)
                .liveliness_lease(LEASE)
                .keep_last(1);
            let w = p.writer(&t, q).unwrap();
            let end = Instant::now() + Duration::from_secs(60);
            let mut n = 0;
            while Instant::now() < end {
                for &id in &ids {
                    let _ = w.write(Owned2 { id, strength, n });
                }
                n += 1;
                std::thread::sleep(period);
            }
        }
        return;
    }
    if !in_netns() {
        return;
    }
    let bus = bus(DOMAIN + 1);
    let p = bus.participant("reader");
    let t = p.topic::<Owned2>("twin/test/owned-instances").unwrap();
    let r = p.reader(&t, owned_qos()).unwrap();
    // C writes far more often than B: after the Cyclone reader is renewed,
    // C's samples of j reach it before B's next one, so only Twin's guard
    // keeps them from being delivered.
    let _c = Kid(child(name, &format!("inst-1-2-{K}-{J}")));
    let mut a = Kid(child(name, &format!("inst-9-10-{K}")));
    let _b = Kid(child(name, &format!("inst-8-50-{J}")));
    // Both owners established: each instance delivers its owner's samples.
    let end = Instant::now() + Duration::from_secs(30);
    let (mut a_seen, mut b_seen) = (0, 0);
    while (a_seen < 50 || b_seen < 10) && Instant::now() < end {
        let v = r.take();
        a_seen += writers(&v, K).iter().filter(|&&s| s == 9).count();
        b_seen += writers(&v, J).iter().filter(|&&s| s == 8).count();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        a_seen >= 50 && b_seen >= 10,
        "owners never established: A {a_seen}, B {b_seen}"
    );
    // While both owners write, the weaker writer C is suppressed on both.
    let _ = r.take();
    std::thread::sleep(DEADLINE * 4);
    let window = r.take();
    assert_eq!(writers(&window, K).iter().filter(|&&s| s != 9).count(), 0);
    assert_eq!(writers(&window, J).iter().filter(|&&s| s != 8).count(), 0);
    assert!(!writers(&window, J).is_empty(), "B's samples stopped");
    a.0.kill().unwrap(); // SIGKILL of A only
    let killed = Instant::now();
    let _ = a.0.wait();
    // Watch for 20 s at most: k must go to C; j must never yield C's samples.
    let (mut handover, mut j_from_c, mut j_from_b_after) = (None, 0, 0);
    while killed.elapsed() < Duration::from_secs(20) {
        let v = r.take();
        let on_j = writers(&v, J);
        j_from_c += on_j.iter().filter(|&&s| s == 1).count();
        if handover.is_none() && writers(&v, K).contains(&1) {
            handover = Some(killed.elapsed());
        }
        if let Some(h) = handover {
            j_from_b_after += on_j.iter().filter(|&&s| s == 8).count();
            // Keep watching j for a while after k's hand-over.
            if killed.elapsed() > h + DEADLINE * 5 {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let h = handover.expect("instance k was not handed over to C after its owner was killed");
    eprintln!("instance hand-over {h:?} after SIGKILL while j's owner keeps writing (deadline {DEADLINE:?})");
    assert!(
        h < DEADLINE * 6,
        "hand-over of k took {h:?} with a {DEADLINE:?} deadline"
    );
    assert_eq!(
        j_from_c, 0,
        "the weaker writer's samples on j were delivered while j's owner lives"
    );
    assert!(
        j_from_b_after > 0,
        "j's owner B no longer delivered after k's hand-over"
    );
}
