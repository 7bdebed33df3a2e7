//! Driving a scheduler the way a federation member does: by granted times.

use twin_core::{SimDuration, SimTime};
use twin_des::Scheduler;

/// A periodic sampler every 3 ms plus a one-shot at 10 ms, advanced in
/// grants of 4 ms: the same events run as with one big `run`, and after
/// each grant `now` equals the grant.
#[test]
fn stepping_by_grants_equals_running_at_once() {
    fn model(
        s: &mut Scheduler<&'static str>,
        now: SimTime,
        ev: &'static str,
        log: &mut Vec<(u64, &str)>,
    ) {
        log.push((now.as_nanos(), ev));
        if ev == "sample" && now < SimTime::ZERO + SimDuration::from_millis(30) {
            s.schedule_in(SimDuration::from_millis(3), "sample")
                .unwrap();
        }
    }
    let setup = || {
        let mut s = Scheduler::new();
        s.schedule_at(SimTime::ZERO, "sample").unwrap();
        s.schedule_at(SimTime::ZERO + SimDuration::from_millis(10), "oneshot")
            .unwrap();
        s
    };

    let mut whole = Vec::new();
    let mut s = setup();
    s.run(|s, now, ev| model(s, now, ev, &mut whole));

    let mut stepped = Vec::new();
    let mut s = setup();
    let mut grant = SimTime::ZERO;
    let mut grants = 0;
    while let Some(next) = s.next_time() {
        assert!(next >= s.now());
        grant += SimDuration::from_millis(4);
        s.step_until(grant, |s, now, ev| model(s, now, ev, &mut stepped))
            .unwrap();
        assert_eq!(s.now(), grant);
        assert!(s.next_time().is_none_or(|t| t > grant));
        grants += 1;
    }
    assert_eq!(whole, stepped);
    assert_eq!(grants, 8); // the last sample is at 30 ms, inside the 8th grant (28, 32]
}

/// A message injected from outside between grants (as a bus adapter does)
/// is accepted at the grant time or later, rejected before it.
#[test]
fn injection_between_grants_respects_now() {
    let mut s = Scheduler::new();
    let grant = SimTime::ZERO + SimDuration::from_millis(5);
    s.step_until(grant, |_, _, _: u32| {}).unwrap();
    assert!(s.schedule_at(grant, 1).is_ok());
    assert!(s
        .schedule_at(SimTime::ZERO + SimDuration::from_millis(4), 2)
        .is_err());
    let mut got = Vec::new();
    s.step_until(grant, |_, _, e| got.push(e)).unwrap();
    assert_eq!(got, [1]);
}
