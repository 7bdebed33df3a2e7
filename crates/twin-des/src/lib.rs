//! A single-threaded, deterministic discrete-event kernel.
//!
//! `twin-des` is the engine under Twin's simulators (the network simulator
//! first). It knows nothing of the data bus, tokio or HTTP: a simulator owns
//! a [`Scheduler`], and whoever drives it (a test, the CLI, a federation
//! member adapter) calls [`Scheduler::step_until`] with the time it may
//! advance to. Its parts:
//!
//! * [`Scheduler<E, Q>`]: pending events of a user type `E` (usually an enum)
//!   in a slab, small keys in a [`Queue`] `Q`, O(1) lazy cancellation through
//!   [`EventId`]s, counters in [`Stats`].
//! * [`Queue`] with [`BinaryHeapQueue`], [`QuaternaryHeap`] and the
//!   [`FifoFront`] adapter; [`DefaultQueue`] is a 4-ary heap behind a
//!   same-time FIFO. Other structures (calendar, ladder) can be added and
//!   benchmarked without touching models.
//! * [`RngStreams`] / [`Rng`]: one reproducible random stream per
//!   (entity, purpose), independent of every other stream.
//! * [`TraceHasher`]: a fixed-key digest of an event trace, for tests that
//!   assert two runs did exactly the same thing.
//! * [`hold`]: the classic queue benchmark workload.
//!
//! # Writing a model
//!
//! Events are plain values. A model is ordinary state plus a handler
//! `FnMut(&mut Scheduler<E>, SimTime, E)` that reacts to one event and may
//! schedule (or cancel) others. No closure is boxed per event.
//!
//! ```
//! use twin_core::{SimDuration, SimTime};
//! use twin_des::{Scheduler, TraceHasher};
//!
//! /// Events of a two-player ping-pong rally; the number counts volleys.
//! #[derive(Debug, Clone, Copy, PartialEq, Eq)]
//! enum Ev {
//!     Ping(u32),
//!     Pong(u32),
//! }
//!
//! /// The model: the ball's flight time and the rally length.
//! struct PingPong {
//!     flight: SimDuration,
//!     volleys: u32,
//!     trace: TraceHasher,
//! }
//!
//! impl PingPong {
//!     fn handle(&mut self, s: &mut Scheduler<Ev>, now: SimTime, ev: Ev) {
//!         let (tag, n) = match ev {
//!             Ev::Ping(n) => (0, n),
//!             Ev::Pong(n) => (1, n),
//!         };
//!         self.trace.record(now, tag << 32 | u64::from(n));
//!         let reply = match ev {
//!             Ev::Ping(n) => Ev::Pong(n),
//!             Ev::Pong(n) if n + 1 < self.volleys => Ev::Ping(n + 1),
//!             Ev::Pong(_) => return, // rally over
//!         };
//!         s.schedule_in(self.flight, reply).expect("rally fits in 584 years");
//!     }
//! }
//!
//! let mut sched = Scheduler::new();
//! sched.schedule_at(SimTime::ZERO, Ev::Ping(0))?;
//! let mut model = PingPong {
//!     flight: SimDuration::from_millis(2),
//!     volleys: 3,
//!     trace: TraceHasher::new(),
//! };
//! let executed = sched.run(|s, now, ev| model.handle(s, now, ev));
//! assert_eq!(executed, 6); // Ping0 Pong0 Ping1 Pong1 Ping2 Pong2
//! assert_eq!(sched.now(), SimTime::ZERO + SimDuration::from_millis(10));
//! assert_eq!(sched.stats().executed, 6);
//! assert!(sched.is_empty());
//! # Ok::<(), twin_des::ScheduleError>(())
//! ```
//!
//! # Driving it from a federation clock
//!
//! A federation's time controller grants advances; the member runs every
//! event up to the granted time, and the scheduler's clock then stands at
//! that time even if no event fell exactly on it. [`Scheduler::next_time`]
//! tells the controller when this member next has work.
//!
//! ```
//! # use twin_core::{SimDuration, SimTime};
//! # use twin_des::{Scheduler, StepError};
//! let mut sched = Scheduler::new();
//! for ms in [1, 4, 7, 12] {
//!     sched.schedule_at(SimTime::ZERO + SimDuration::from_millis(ms), ms).unwrap();
//! }
//! let mut seen = Vec::new();
//! let grant = SimTime::ZERO + SimDuration::from_millis(5);
//! let ran = sched.step_until(grant, |_, _, ms| seen.push(ms))?;
//! assert_eq!((ran, seen.as_slice()), (2, &[1, 4][..]));
//! assert_eq!(sched.now(), grant);
//! assert_eq!(sched.next_time(), Some(SimTime::ZERO + SimDuration::from_millis(7)));
//! // Time never goes back: an earlier grant is a typed error.
//! assert!(matches!(sched.step_until(SimTime::ZERO, |_, _, _| {}), Err(StepError::InPast { .. })));
//! # Ok::<(), StepError>(())
//! ```
//!
//! # Timers and cancellation
//!
//! [`Scheduler::schedule_at`] and [`Scheduler::schedule_in`] return an
//! [`EventId`]. Cancelling is O(1): the payload is dropped at once and the
//! queue entry is skipped later. Cancelling an event that has already fired,
//! or twice, does nothing and returns `false`.
//!
//! ```
//! # use twin_core::SimDuration;
//! # use twin_des::Scheduler;
//! #[derive(Debug, PartialEq)]
//! enum Ev { Timeout, Reply }
//! let mut s = Scheduler::new();
//! let timeout = s.schedule_in(SimDuration::from_millis(100), Ev::Timeout).unwrap();
//! s.schedule_in(SimDuration::from_millis(3), Ev::Reply).unwrap();
//! let (_, ev) = s.pop().unwrap();
//! assert_eq!(ev, Ev::Reply);
//! assert!(s.cancel(timeout)); // the reply came in time
//! assert!(!s.cancel(timeout)); // a second cancel is a no-op
//! assert_eq!(s.pop(), None);
//! ```
//!
//! # Random numbers
//!
//! Draw from [`RngStreams::stream`]`(entity, purpose)`, never from one shared
//! generator, so that adding a node or a retransmission does not shift the
//! numbers every other entity sees.
//!
//! ```
//! use twin_des::RngStreams;
//! const BACKOFF: u64 = 2;
//! let streams = RngStreams::new(2024, 0); // (master seed, replication)
//! let mut node7 = streams.stream(7, BACKOFF);
//! let slot_us = node7.below(32) * 20;
//! let jitter_ns = node7.exponential(100.0);
//! assert!(slot_us < 640 && jitter_ns >= 0.0);
//! ```
//!
//! # Ordering and determinism contract
//!
//! 1. **Total order.** Events execute in ascending `(time, seq)`, where
//!    `seq` counts the successful `schedule_*` calls on this scheduler. Two
//!    events at the same time run in the order they were scheduled (FIFO),
//!    whoever scheduled them.
//! 2. **Zero delay.** An event scheduled for the current time from inside a
//!    handler runs in the same instant, after every event already pending for
//!    that instant.
//! 3. **Monotone time.** [`Scheduler::now`] never decreases. Scheduling
//!    before `now` fails with [`ScheduleError::InPast`]; stepping to an
//!    earlier time fails with [`StepError::InPast`]. `step_until(t)` leaves
//!    `now == t` and every event later than `t` pending.
//! 4. **Cancellation is invisible.** Cancelling one event does not change the
//!    relative order of any other; a failed `schedule_*` call consumes no
//!    sequence number.
//! 5. **The queue does not matter.** Every [`Queue`] yields the same order,
//!    so switching `Q` changes speed, never results.
//! 6. **No hidden inputs.** The kernel reads no clock, uses no threads and no
//!    randomly keyed hashing. Given the same model, the same schedule calls
//!    and the same [`RngStreams`] seed, a run is bit-for-bit reproducible.
//!    Integer draws ([`Rng::next_u64`], [`Rng::below`]) are identical on
//!    every platform; `f64` variates go through the platform's `ln`, `cos`
//!    and `sqrt`, which in principle may differ in the last bit between C
//!    libraries, so golden traces are per platform.
//!
//! A handler receives `&mut Scheduler`: it may schedule, cancel and query.
//! The scheduler is single-threaded by design; it is `Send` when `E` is, so a
//! simulator may live on its own thread.
//!
//! # Performance
//!
//! On the hold benchmark (P pending events, Exp(100 ns) delays; see
//! [`hold`]) the default queue runs about 16 M events/s at P = 10^3, 12 M at
//! 10^4 and 6 M at 10^5 on the project's 2-core development VM, about three
//! times ns-3's default scheduler measured on the same machine. Numbers and
//! commands are in `BENCHMARKS.md` next to this crate's `Cargo.toml`.

mod error;
pub mod hold;
mod queue;
mod rng;
mod scheduler;
mod trace;

pub use error::{ScheduleError, StepError};
pub use queue::{BinaryHeapQueue, DefaultQueue, FifoFront, Key, QuaternaryHeap, Queue};
pub use rng::{Rng, RngStreams, SplitMix64};
pub use scheduler::{EventId, Scheduler, Stats};
pub use trace::TraceHasher;
