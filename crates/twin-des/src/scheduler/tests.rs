use twin_core::{SimDuration, SimTime};

use super::*;
use crate::{BinaryHeapQueue, FifoFront, QuaternaryHeap};

fn t(ns: u64) -> SimTime {
    SimTime::from_nanos(ns)
}

fn drain<E, Q: Queue>(s: &mut Scheduler<E, Q>) -> Vec<(u64, E)> {
    std::iter::from_fn(|| s.pop())
        .map(|(time, e)| (time.as_nanos(), e))
        .collect()
}

#[test]
fn pops_by_time_then_insertion_order() {
    let mut s = Scheduler::new();
    for (time, tag) in [
        (30, 'a'),
        (10, 'b'),
        (20, 'c'),
        (10, 'd'),
        (30, 'e'),
        (0, 'f'),
    ] {
        s.schedule_at(t(time), tag).unwrap();
    }
    let order: Vec<_> = drain(&mut s);
    assert_eq!(
        order,
        [
            (0, 'f'),
            (10, 'b'),
            (10, 'd'),
            (20, 'c'),
            (30, 'a'),
            (30, 'e')
        ]
    );
    assert_eq!(s.now(), t(30));
}

#[test]
fn same_time_events_are_fifo() {
    let mut s = Scheduler::new();
    for i in 0..1000u32 {
        s.schedule_at(t(7), i).unwrap();
    }
    let got: Vec<u32> = drain(&mut s).into_iter().map(|(_, e)| e).collect();
    assert_eq!(got, (0..1000).collect::<Vec<_>>());
}

#[test]
fn zero_delay_from_handler_runs_after_pending_same_time_events() {
    let mut s = Scheduler::new();
    s.schedule_at(t(5), "first").unwrap();
    s.schedule_at(t(5), "second").unwrap();
    let mut log = Vec::new();
    s.run(|s, now, e| {
        log.push((now.as_nanos(), e));
        if e == "first" {
            s.schedule_in(SimDuration::ZERO, "spawned").unwrap();
        }
    });
    assert_eq!(log, [(5, "first"), (5, "second"), (5, "spawned")]);
}

#[test]
fn cancel_before_fire_removes_the_event() {
    let mut s = Scheduler::new();
    let a = s.schedule_at(t(1), 'a').unwrap();
    let b = s.schedule_at(t(2), 'b').unwrap();
    s.schedule_at(t(3), 'c').unwrap();
    assert!(s.is_pending(b));
    assert!(s.cancel(b));
    assert!(!s.is_pending(b));
    assert_eq!(s.next_time(), Some(t(1)));
    assert!(s.cancel(a));
    // The head was cancelled: next_time must skip it.
    assert_eq!(s.next_time(), Some(t(3)));
    assert_eq!(drain(&mut s), [(3, 'c')]);
    let st = s.stats();
    assert_eq!(
        (st.scheduled, st.executed, st.cancelled, st.pending),
        (3, 1, 2, 0)
    );
}

#[test]
fn cancel_after_fire_is_a_noop() {
    let mut s = Scheduler::new();
    let a = s.schedule_at(t(1), 'a').unwrap();
    assert_eq!(s.pop(), Some((t(1), 'a')));
    assert!(!s.cancel(a));
    assert_eq!(s.stats().cancelled, 0);
}

#[test]
fn double_cancel_is_a_noop() {
    let mut s = Scheduler::new();
    let a = s.schedule_at(t(1), 'a').unwrap();
    assert!(s.cancel(a));
    assert!(!s.cancel(a));
    assert_eq!(s.remove(a), None);
    assert_eq!(s.stats().cancelled, 1);
    assert!(s.is_empty());
}

#[test]
fn stale_id_does_not_cancel_the_slots_next_event() {
    let mut s = Scheduler::new();
    let old = s.schedule_at(t(1), 'a').unwrap();
    s.pop();
    // The freed slot is reused for the next event.
    let new = s.schedule_at(t(2), 'b').unwrap();
    assert_ne!(old, new);
    assert!(!s.cancel(old));
    assert!(s.is_pending(new));
    assert_eq!(s.event(new), Some(&'b'));
    assert_eq!(s.remove(new), Some('b'));
}

#[test]
fn cancelled_keys_are_compacted() {
    let mut s = Scheduler::new();
    let ids: Vec<_> = (0..10_000u64)
        .map(|i| s.schedule_at(t(1_000_000 + i), i).unwrap())
        .collect();
    s.schedule_at(t(0), u64::MAX).unwrap();
    for id in &ids {
        assert!(s.cancel(*id));
    }
    // Without compaction the queue would still hold 10 001 keys.
    assert!(s.queue().len() < 200, "queue len {}", s.queue().len());
    assert_eq!(drain(&mut s), [(0, u64::MAX)]);
}

#[test]
fn step_until_runs_due_events_and_stops() {
    let mut s = Scheduler::new();
    for time in [10, 20, 30, 40] {
        s.schedule_at(t(time), time).unwrap();
    }
    let mut seen = Vec::new();
    let n = s
        .step_until(t(25), |s, now, e| {
            seen.push(e);
            // Chained events at or before the limit run in the same call...
            if e == 10 {
                s.schedule_at(t(25), 25).unwrap();
            }
            // ...and those after it stay pending.
            if e == 20 {
                s.schedule_in(SimDuration::from_nanos(6), 26).unwrap();
            }
            assert_eq!(s.now(), now);
        })
        .unwrap();
    assert_eq!(n, 3);
    assert_eq!(seen, [10, 20, 25]);
    assert_eq!(s.now(), t(25));
    assert_eq!(s.pending(), 3);
    assert_eq!(s.next_time(), Some(t(26)));
    assert_eq!(drain(&mut s), [(26, 26), (30, 30), (40, 40)]);
}

#[test]
fn step_until_with_no_due_events_only_advances_now() {
    let mut s = Scheduler::new();
    s.schedule_at(t(100), ()).unwrap();
    assert_eq!(s.step_until(t(50), |_, _, _| panic!("nothing due")), Ok(0));
    assert_eq!(s.now(), t(50));
    // An event exactly at the limit is due.
    assert_eq!(s.step_until(t(100), |_, _, _| {}), Ok(1));
    assert_eq!(s.step_until(t(100), |_, _, _| {}), Ok(0));
}

#[test]
fn step_until_in_the_past_is_a_typed_error() {
    let mut s: Scheduler<()> = Scheduler::new();
    s.step_until(t(10), |_, _, _| {}).unwrap();
    assert_eq!(
        s.step_until(t(9), |_, _, _| {}),
        Err(StepError::InPast {
            now: t(10),
            requested: t(9)
        })
    );
    assert_eq!(s.now(), t(10));
}

#[test]
fn schedule_in_the_past_is_a_typed_error() {
    let mut s = Scheduler::new();
    s.schedule_at(t(10), 0).unwrap();
    s.pop();
    let err = s.schedule_at(t(9), 1).unwrap_err();
    assert_eq!(
        err,
        ScheduleError::InPast {
            now: t(10),
            requested: t(9)
        }
    );
    // Scheduling exactly at `now` is fine, and the failure used no sequence
    // number (FIFO order among the successful calls is unchanged).
    s.schedule_at(t(10), 2).unwrap();
    assert_eq!(s.stats().scheduled, 2);
}

#[test]
fn schedule_in_overflow_is_a_typed_error() {
    let mut s = Scheduler::new();
    s.step_until(t(5), |_, _, ()| {}).unwrap();
    let err = s.schedule_in(SimDuration::MAX, ()).unwrap_err();
    assert_eq!(
        err,
        ScheduleError::Overflow {
            now: t(5),
            delay: SimDuration::MAX
        }
    );
    assert!(s.schedule_at(SimTime::MAX, ()).is_ok());
}

#[test]
fn stats_track_every_operation() {
    let mut s = Scheduler::new();
    let ids: Vec<_> = (0..10).map(|i| s.schedule_at(t(i), i).unwrap()).collect();
    s.cancel(ids[3]);
    s.cancel(ids[9]);
    s.step_until(t(5), |_, _, _| {}).unwrap();
    assert_eq!(
        s.stats(),
        Stats {
            scheduled: 10,
            executed: 5,
            cancelled: 2,
            pending: 3
        }
    );
}

#[test]
fn retired_slot_is_never_reused() {
    let mut s = Scheduler::new();
    let id = s.schedule_at(t(1), 'a').unwrap();
    // Fast-forward the slot to its last generation.
    s.slots[id.slot as usize].gen = u32::MAX;
    s.queue.clear();
    s.queue.push(Key {
        time: 1,
        seq: 99,
        slot: id.slot,
        gen: u32::MAX,
    });
    let old = EventId {
        slot: id.slot,
        gen: u32::MAX,
    };
    assert!(s.cancel(old));
    let next = s.schedule_at(t(2), 'b').unwrap();
    assert_ne!(next.slot, id.slot, "a retired slot must not be reused");
    assert!(!s.cancel(old));
    assert_eq!(drain(&mut s), [(2, 'b')]);
}

/// The same random schedule/cancel workload gives the same trace on every
/// queue.
#[test]
fn all_queues_give_identical_order() {
    fn workload<Q: Queue>(s: &mut Scheduler<u64, Q>) -> Vec<(u64, u64)> {
        let mut rng = crate::Rng::seed_from_u64(9);
        let mut ids = Vec::new();
        let mut out = Vec::new();
        for i in 0..2_000u64 {
            ids.push(
                s.schedule_in(SimDuration::from_nanos(rng.below(8)), i)
                    .unwrap(),
            );
        }
        while let Some((time, e)) = s.pop() {
            out.push((time.as_nanos(), e));
            if e < 20_000 {
                let d = SimDuration::from_nanos(rng.below(4));
                ids.push(s.schedule_in(d, e + 2_000).unwrap());
            }
            if rng.below(3) == 0 {
                let victim = ids[rng.below(ids.len() as u64) as usize];
                s.cancel(victim);
            }
        }
        out
    }
    let reference = workload(&mut Scheduler::new());
    assert!(reference.len() > 5_000);
    assert_eq!(
        reference,
        workload(&mut Scheduler::with_queue(QuaternaryHeap::default()))
    );
    assert_eq!(
        reference,
        workload(&mut Scheduler::with_queue(BinaryHeapQueue::default()))
    );
    assert_eq!(
        reference,
        workload(&mut Scheduler::with_queue(
            FifoFront::<BinaryHeapQueue>::default()
        ))
    );
}

#[test]
fn debug_output_names_the_state() {
    let mut s = Scheduler::new();
    s.schedule_at(t(3), ()).unwrap();
    let text = format!("{s:?}");
    assert!(text.contains("pending: 1"), "{text}");
}
