//! Same seed, same trace; different seed, different trace.

use twin_core::{SimDuration, SimTime};
use twin_des::{
    BinaryHeapQueue, EventId, FifoFront, QuaternaryHeap, Queue, RngStreams, Scheduler, TraceHasher,
};

/// Events of a small random network-like model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Ev {
    /// Node sends a frame; its neighbours receive it after a delay.
    Send { node: u32 },
    /// Node receives a frame from `from`.
    Recv { node: u32, from: u32 },
    /// A retransmission timer fired.
    Timeout { node: u32 },
}

const NODES: u32 = 50;
const TRAFFIC: u64 = 1;
const LINK: u64 = 2;

/// Runs the model to 2 ms of simulated time and returns the trace digest
/// and the number of events executed.
fn run<Q: Queue>(seed: u64, mut sched: Scheduler<Ev, Q>) -> (u64, u64) {
    let streams = RngStreams::new(seed, 0);
    let mut traffic: Vec<_> = (0..NODES)
        .map(|n| streams.stream(u64::from(n), TRAFFIC))
        .collect();
    let mut link: Vec<_> = (0..NODES)
        .map(|n| streams.stream(u64::from(n), LINK))
        .collect();
    let mut timers: Vec<Option<EventId>> = vec![None; NODES as usize];
    for node in 0..NODES {
        let d = traffic[node as usize].exponential(10_000.0) as u64;
        sched
            .schedule_in(SimDuration::from_nanos(d), Ev::Send { node })
            .unwrap();
    }
    let mut trace = TraceHasher::new();
    let horizon = SimTime::from_nanos(2_000_000);
    let executed = sched
        .step_until(horizon, |s, now, ev| {
            let tag = match ev {
                Ev::Send { node } => u64::from(node),
                Ev::Recv { node, from } => 1 << 32 | u64::from(node) << 16 | u64::from(from),
                Ev::Timeout { node } => 2 << 32 | u64::from(node),
            };
            trace.record(now, tag);
            match ev {
                Ev::Send { node } => {
                    let rng = &mut link[node as usize];
                    for _ in 0..3 {
                        let to = rng.below(u64::from(NODES)) as u32;
                        // Equal delays on purpose: ties must break by insertion.
                        let d = SimDuration::from_nanos(100 * rng.below(3));
                        s.schedule_in(
                            d,
                            Ev::Recv {
                                node: to,
                                from: node,
                            },
                        )
                        .unwrap();
                    }
                    let timeout = SimDuration::from_nanos(5_000);
                    timers[node as usize] =
                        Some(s.schedule_in(timeout, Ev::Timeout { node }).unwrap());
                    let gap = traffic[node as usize].exponential(10_000.0).ceil() as u64;
                    s.schedule_in(SimDuration::from_nanos(gap), Ev::Send { node })
                        .unwrap();
                }
                Ev::Recv { from, .. } => {
                    // An acknowledgement cancels the sender's timer half the time.
                    if link[from as usize].bernoulli(0.5) {
                        if let Some(id) = timers[from as usize].take() {
                            s.cancel(id);
                        }
                    }
                }
                Ev::Timeout { node } => timers[node as usize] = None,
            }
        })
        .unwrap();
    assert_eq!(trace.records(), executed);
    (trace.digest(), executed)
}

#[test]
fn same_seed_gives_identical_trace() {
    let a = run(7, Scheduler::new());
    let b = run(7, Scheduler::new());
    assert!(a.1 > 10_000, "workload too small: {} events", a.1);
    assert_eq!(a, b);
}

#[test]
fn different_seed_gives_different_trace() {
    let a = run(7, Scheduler::new());
    let b = run(8, Scheduler::new());
    assert_ne!(a.0, b.0);
}

#[test]
fn queue_choice_does_not_change_the_trace() {
    let reference = run(3, Scheduler::with_queue(BinaryHeapQueue::default()));
    assert_eq!(reference, run(3, Scheduler::new()));
    assert_eq!(
        reference,
        run(3, Scheduler::with_queue(QuaternaryHeap::default()))
    );
    assert_eq!(
        reference,
        run(
            3,
            Scheduler::with_queue(FifoFront::<BinaryHeapQueue>::default())
        )
    );
}
