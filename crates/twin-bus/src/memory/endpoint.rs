//! Writer and reader entries of a topic and the per-reader queue: history
//! depth, resource limits, ownership admission, lifespan.

use std::{
    collections::VecDeque,
    sync::{Arc, Weak},
    task::Waker,
    time::Instant,
};

use parking_lot::{Condvar, Mutex};
use rustc_hash::FxHashMap;

use super::{topic::TopicCore, PartState};
use crate::{
    status::{ReaderStatus, StatusEvent, StatusMask, WriterStatus},
    waitset::Notifier,
    History, InstanceHandle, InstanceState, Ownership, ReaderId, ReaderQos, Sample, SampleInfo,
    TopicType, WallTime, WriterId, WriterQos,
};

/// A reader's listener and how to reach the reader's queue from any thread.
pub(crate) struct ListenerSlot<T: TopicType> {
    /// Held while dispatching, so calls are serial and in delivery order.
    pub(crate) listener: Mutex<Box<dyn crate::ReaderListener<T>>>,
    pub(crate) core: Weak<TopicCore<T>>,
    pub(crate) slot: u32,
}

impl<T: TopicType> ListenerSlot<T> {
    /// Drains the reader into the listener until nothing is pending. If
    /// another thread is already dispatching, it will see our samples: the
    /// holder re-checks after releasing the lock.
    pub(crate) fn dispatch(&self) {
        let Some(core) = self.core.upgrade() else {
            return;
        };
        loop {
            let Some(mut l) = self.listener.try_lock() else {
                return;
            };
            loop {
                let (samples, events) = core.drain_listener(self.slot);
                if samples.is_empty() && events.is_empty() {
                    break;
                }
                for e in events {
                    l.on_status(e);
                }
                for s in samples {
                    l.on_sample(s);
                }
            }
            drop(l);
            if !core.listener_pending(self.slot) {
                return;
            }
        }
    }
}

/// Work to do after the topic lock is released.
pub(crate) struct Effects<T: TopicType> {
    pub(super) wakers: Vec<Waker>,
    pub(super) notifiers: Vec<Arc<Notifier>>,
    pub(super) listeners: Vec<Arc<ListenerSlot<T>>>,
}

impl<T: TopicType> Effects<T> {
    pub(super) fn new() -> Self {
        Effects {
            wakers: Vec::new(),
            notifiers: Vec::new(),
            listeners: Vec::new(),
        }
    }
    pub(crate) fn run(self) {
        for w in self.wakers {
            w.wake();
        }
        for n in self.notifiers {
            n.notify();
        }
        for l in self.listeners {
            l.dispatch();
        }
    }
}

/// Topic-wide state of one instance (key value). Instances are indexed
/// densely (`InstanceHandle` = index) and never removed, so readers can keep
/// per-instance state in plain vectors.
pub(super) struct Instance<T: TopicType> {
    /// The key.
    pub(super) key: T::Key,
    /// Disposed and not written since: not replayed to late joiners.
    pub(super) disposed: bool,
    /// Writer slots that have this instance registered.
    pub(super) registered: Vec<u32>,
}

/// A writer as the topic sees it.
pub(super) struct WEntry<T: TopicType> {
    /// Bus-wide id; lower ids win ownership ties.
    pub(super) id: WriterId,
    /// Its participant; a killed participant makes the writer silent.
    pub(super) part: Arc<PartState>,
    /// Offered QoS.
    pub(super) qos: WriterQos,
    /// Reader slots matched with this writer (QoS compatible, partitions meet).
    pub(super) matched: Vec<u32>,
    /// Sequence number of the last sample written.
    pub(super) seq: u64,
    /// Liveliness as readers see it; cleared by the monitor when the lease
    /// expires, set again by the next write or assertion.
    pub(super) alive: bool,
    /// Last write or assertion (manual liveliness).
    pub(super) last_assert: Instant,
    /// Transient-local replay history per instance.
    pub(super) history: FxHashMap<u32, VecDeque<Sample<T>>>,
    /// Last write per instance, for the offered deadline.
    pub(super) last_write: FxHashMap<u32, Instant>,
    /// Cumulative statuses.
    pub(super) status: WriterStatus,
    /// Statuses changed since last read (status conditions).
    pub(super) changed: StatusMask,
    /// Wait-sets watching this writer.
    pub(super) notifiers: Vec<Arc<Notifier>>,
    /// Whether a write must read the clock (deadlines, manual liveliness, lifespan).
    pub(super) needs_clock: bool,
}

/// A reader's view of one instance.
///
/// Queue invariant: the queued samples of this instance have sequences
/// `head .. next`, of which the last `queued` are live; entries below
/// `head` are dead (replaced under keep-last) and skipped when popped.
#[derive(Clone, Copy, Default)]
pub(super) struct RInst {
    /// Current owner and its strength (exclusive ownership only).
    pub(super) owner: Option<(WriterId, i32)>,
    /// Sequence of the oldest live queued sample of this instance.
    pub(super) head: u64,
    /// Sequence the next queued sample of this instance gets.
    pub(super) next: u64,
    /// Live samples of this instance in the queue.
    pub(super) queued: u32,
    /// Last sample arrival, for the requested deadline (set only if one is requested).
    pub(super) last_arrival: Option<Instant>,
}

/// One entry of a reader's arrival-ordered queue.
pub(super) struct Queued<T: TopicType> {
    /// Instance index.
    pub(super) inst: u32,
    /// Per-instance sequence (see [`RInst`]).
    pub(super) seq: u64,
    /// Lifespan expiry, if the writer set a lifespan.
    pub(super) expires: Option<Instant>,
    /// The sample.
    pub(super) sample: Sample<T>,
}

/// A reader as the topic sees it: its queue and per-instance state.
pub(super) struct REntry<T: TopicType> {
    /// Bus-wide id.
    pub(super) id: ReaderId,
    /// Its participant; readers of killed participants receive nothing.
    pub(super) part: Arc<PartState>,
    /// Requested QoS.
    pub(super) qos: ReaderQos,
    /// Writer slots matched with this reader.
    pub(super) matched: Vec<u32>,
    /// Samples in arrival order across instances (per-writer order kept).
    pub(super) queue: VecDeque<Queued<T>>,
    /// Entries in `queue` replaced by newer samples (keep-last), not yet popped.
    pub(super) dead: usize,
    /// Per-instance state, indexed by instance.
    pub(super) inst: Vec<RInst>,
    /// Cumulative statuses.
    pub(super) status: ReaderStatus,
    /// Statuses changed since last read (status conditions).
    pub(super) changed: StatusMask,
    /// A thread is blocked in a take on `cv`.
    pub(super) waiting: bool,
    /// Wakes a blocked take; waits on the topic mutex.
    pub(super) cv: Arc<Condvar>,
    /// An `async` take waiting for data.
    pub(super) waker: Option<Waker>,
    /// Wait-sets watching this reader.
    pub(super) notifiers: Vec<Arc<Notifier>>,
    /// The listener, for listener readers.
    pub(super) listener: Option<Arc<ListenerSlot<T>>>,
    /// Status events not yet given to the listener.
    pub(super) events: Vec<StatusEvent>,
}

impl<T: TopicType> REntry<T> {
    /// Live (not replaced, not yet taken) samples in the queue.
    pub(super) fn live(&self) -> usize {
        self.queue.len() - self.dead
    }

    /// A keep-all reader at its resource limit: reliable writers must wait.
    pub(super) fn full(&self) -> bool {
        self.qos.history == History::KeepAll && self.live() >= self.qos.resource_limits.max_samples
    }

    /// The state of instance `i`, created on first use.
    pub(super) fn inst_mut(&mut self, i: u32) -> &mut RInst {
        let i = i as usize;
        if self.inst.len() <= i {
            self.inst.resize(i + 1, RInst::default());
        }
        &mut self.inst[i]
    }

    /// Records a status change and queues its notifications.
    pub(super) fn event(&mut self, e: StatusEvent, fx: &mut Effects<T>) {
        self.changed = StatusMask(self.changed.0 | e.mask().0);
        fx.notifiers.extend(self.notifiers.iter().cloned());
        if let Some(l) = &self.listener {
            self.events.push(e);
            fx.listeners.push(Arc::clone(l));
        }
    }

    /// Queues a sample, applying history depth and resource limits.
    pub(super) fn push(
        &mut self,
        inst: u32,
        sample: Sample<T>,
        expires: Option<Instant>,
        fx: &mut Effects<T>,
    ) {
        let depth = match self.qos.history {
            History::KeepLast(d) => Some(d),
            History::KeepAll => None,
        };
        if depth.is_none() && self.live() >= self.qos.resource_limits.max_samples {
            // Only a best-effort reader gets here: reliable writers wait first.
            self.status.sample_lost.bump();
            self.event(StatusEvent::SampleLost, fx);
            return;
        }
        let ri = self.inst_mut(inst);
        if let Some(d) = depth {
            if ri.queued >= d {
                ri.head += 1;
                ri.queued -= 1;
                self.dead += 1;
            }
        }
        let ri = self.inst_mut(inst);
        let seq = ri.next;
        ri.next += 1;
        ri.queued += 1;
        self.queue.push_back(Queued {
            inst,
            seq,
            expires,
            sample,
        });
        if self.dead > 64 && self.dead * 2 > self.queue.len() {
            self.compact();
        }
        if self.waiting {
            self.cv.notify_one();
        }
        if let Some(w) = self.waker.take() {
            fx.wakers.push(w);
        }
        if !self.notifiers.is_empty() {
            fx.notifiers.extend(self.notifiers.iter().cloned());
        }
        if let Some(l) = &self.listener {
            fx.listeners.push(Arc::clone(l));
        }
    }

    /// Drops dead entries; amortised O(1) per push since it runs only when
    /// dead entries outnumber live ones.
    pub(super) fn compact(&mut self) {
        let inst = &self.inst;
        self.queue.retain(|q| q.seq >= inst[q.inst as usize].head);
        self.dead = 0;
    }

    /// Pops the oldest live, unexpired sample.
    pub(super) fn pop(&mut self, now: &mut Option<Instant>) -> Option<Sample<T>> {
        while let Some(q) = self.queue.pop_front() {
            let ri = &mut self.inst[q.inst as usize];
            if q.seq < ri.head {
                self.dead -= 1;
                continue;
            }
            ri.head = q.seq + 1;
            ri.queued -= 1;
            if let Some(exp) = q.expires {
                if *now.get_or_insert_with(Instant::now) >= exp {
                    continue;
                }
            }
            return Some(q.sample);
        }
        None
    }

    /// Applies exclusive ownership; returns false if the sample must be dropped.
    pub(super) fn admit(
        &mut self,
        inst: u32,
        writer: WriterId,
        strength: i32,
        fx: &mut Effects<T>,
    ) -> bool {
        if self.qos.ownership == Ownership::Shared {
            return true;
        }
        let ri = self.inst_mut(inst);
        let take_over = match ri.owner {
            None => true,
            Some((o, _)) if o == writer => return true,
            Some((o, s)) => strength > s || (strength == s && writer < o),
        };
        if take_over {
            ri.owner = Some((writer, strength));
            self.status.ownership_changed.bump();
            self.status.last_owner = Some(writer);
            let e = StatusEvent::OwnershipChanged {
                instance: InstanceHandle(inst),
                owner: Some(writer),
            };
            self.event(e, fx);
        }
        take_over
    }

    /// Releases `writer`'s ownership of `inst`, if it holds it.
    pub(super) fn release(&mut self, inst: u32, writer: WriterId, fx: &mut Effects<T>) {
        let ri = self.inst_mut(inst);
        if matches!(ri.owner, Some((o, _)) if o == writer) {
            ri.owner = None;
            self.status.ownership_changed.bump();
            let e = StatusEvent::OwnershipChanged {
                instance: InstanceHandle(inst),
                owner: None,
            };
            self.event(e, fx);
        }
    }
}

/// Delivers one written sample to every matched reader: ownership
/// admission, deadline bookkeeping, then the queue. The sample is cloned for
/// all readers but the last, which gets it by move.
#[allow(clippy::too_many_arguments)]
pub(super) fn deliver<T: TopicType>(
    readers: &mut [Option<REntry<T>>],
    matched: &[u32],
    inst: u32,
    writer: WriterId,
    strength: i32,
    sample: Sample<T>,
    expires: Option<Instant>,
    now: Option<Instant>,
    fx: &mut Effects<T>,
) {
    let mut pending = Some(sample);
    let last = matched.len().saturating_sub(1);
    for (k, &r) in matched.iter().enumerate() {
        let Some(re) = readers[r as usize].as_mut() else {
            continue;
        };
        if re.part.is_killed() || !re.admit(inst, writer, strength, fx) {
            continue;
        }
        if re.qos.deadline.is_some() {
            re.inst_mut(inst).last_arrival = now;
        }
        let s = if k == last {
            pending.take().expect("moved only at the last reader")
        } else {
            pending.as_ref().expect("still held").clone()
        };
        re.push(inst, s, expires, fx);
    }
}

/// A sample without data announcing an instance-state change.
pub(super) fn state_sample<T: TopicType>(
    key: &T::Key,
    i: u32,
    writer: WriterId,
    participant: crate::ParticipantId,
    seq: u64,
    state: InstanceState,
) -> Sample<T> {
    Sample {
        key: key.clone(),
        value: None,
        info: SampleInfo {
            state,
            instance: InstanceHandle(i),
            writer,
            participant,
            sequence: seq,
            source_time: WallTime::now(),
            sim_time: None,
        },
    }
}
