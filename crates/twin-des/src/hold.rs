//! The "hold" model: the standard workload for benchmarking event queues.
//!
//! `P` events are pending; executing one schedules one new event after an
//! exponential delay, so the pending set stays at `P` (Vaucher and Duval,
//! 1975; ns-3's `utils/bench-scheduler.cc`). The per-event cost it measures
//! is the kernel's own: one pop, one push, one slab round trip and one
//! random draw. `benches/hold.rs` and `examples/hold.rs` both run it.
//!
//! A `fanout` above zero turns it into a broadcast-like workload: each
//! primary event also schedules `fanout` zero-delay secondary events (the
//! receivers of a frame), which is what a same-time FIFO fast path targets.

use twin_core::SimDuration;

use crate::{
    queue::{DefaultQueue, Queue},
    rng::Rng,
    scheduler::Scheduler,
};

/// The payload of the hold model: 24 bytes, like a small model event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HoldEvent {
    /// Which of the `P` chains the event belongs to.
    pub chain: u32,
    /// Zero for a primary (rescheduling) event, `1..` for secondaries.
    pub secondary: u32,
    /// Time of the event that scheduled this one, in nanoseconds.
    pub stamp: u64,
    /// Events executed on this chain so far.
    pub hops: u64,
}

/// A hold model running on a [`Scheduler`] with queue `Q`.
#[derive(Debug)]
pub struct Hold<Q: Queue = DefaultQueue> {
    sched: Scheduler<HoldEvent, Q>,
    rng: Rng,
    mean_ns: f64,
    fanout: u32,
    checksum: u64,
}

/// An exponential delay of mean `mean_ns`, rounded up to whole nanoseconds
/// and to at least 1 ns.
#[inline]
pub fn exp_delay(rng: &mut Rng, mean_ns: f64) -> SimDuration {
    let x = rng.exponential(mean_ns);
    // `ceil` without a libm call (it is one on baseline x86-64): truncate,
    // then add one if something was cut off.
    let n = x as u64;
    let n = n + u64::from((n as f64) < x);
    SimDuration::from_nanos(n.max(1))
}

impl<Q: Queue> Hold<Q> {
    /// `pending` chains with Exp(`mean_ns`) delays and no fanout.
    pub fn new(pending: usize, mean_ns: f64, seed: u64) -> Self {
        Self::with_fanout(pending, mean_ns, 0, seed)
    }

    /// Like [`new`](Self::new), with `fanout` zero-delay secondaries per
    /// primary event.
    pub fn with_fanout(pending: usize, mean_ns: f64, fanout: u32, seed: u64) -> Self {
        let capacity = pending * (1 + fanout as usize) + 1;
        let mut sched = Scheduler::with_queue(Q::with_capacity(capacity));
        let mut rng = Rng::seed_from_u64(seed);
        for chain in 0..pending {
            let ev = HoldEvent {
                chain: chain as u32,
                secondary: 0,
                stamp: 0,
                hops: 0,
            };
            sched
                .schedule_in(exp_delay(&mut rng, mean_ns), ev)
                .expect("initial hold events fit");
        }
        Hold {
            sched,
            rng,
            mean_ns,
            fanout,
            checksum: 0,
        }
    }

    /// Executes `events` events and returns a checksum of everything
    /// executed so far (so the work cannot be optimised away, and two runs
    /// can be compared).
    pub fn run(&mut self, events: u64) -> u64 {
        let sched = &mut self.sched;
        for _ in 0..events {
            let (t, ev) = sched.pop().expect("the hold model never runs dry");
            let now = t.as_nanos();
            self.checksum = self.checksum.rotate_left(5) ^ now ^ ev.hops;
            if ev.secondary != 0 {
                continue;
            }
            for k in 1..=self.fanout {
                let rx = HoldEvent {
                    secondary: k,
                    stamp: now,
                    ..ev
                };
                sched
                    .schedule_in(SimDuration::ZERO, rx)
                    .expect("hold delays never overflow");
            }
            let next = HoldEvent {
                stamp: now,
                hops: ev.hops + 1,
                ..ev
            };
            sched
                .schedule_in(exp_delay(&mut self.rng, self.mean_ns), next)
                .expect("hold delays never overflow");
        }
        self.checksum
    }

    /// The underlying scheduler.
    pub fn scheduler(&self) -> &Scheduler<HoldEvent, Q> {
        &self.sched
    }
}
