//! The event scheduler: a slab of typed payloads plus a [`Queue`] of keys.
//!
//! Layout, chosen for a small per-event cost:
//!
//! ```text
//!   queue (Q: Queue)                 slab: Vec<Slot<E>>          free: Vec<u32>
//!   Key{time, seq, slot, gen} ───►  [gen | Option<E>] ...        LIFO of empty slots
//! ```
//!
//! * Scheduling takes a slot (the most recently freed one, which is likely in
//!   cache), stores the payload there and pushes a 24-byte key.
//! * A slot's generation is bumped whenever its event fires or is cancelled,
//!   so an [`EventId`] or a queued key from an earlier use no longer matches.
//! * Cancellation is lazy: the payload is dropped and the slot freed at once,
//!   while the key stays queued as *stale* and is discarded when it reaches
//!   the head. The head of the queue is always kept live, which is what lets
//!   [`Scheduler::next_time`] take `&self`. When stale keys outnumber live
//!   ones the queue is compacted in one pass, so memory stays bounded even if
//!   a model cancels far-future timers all the time.

use std::fmt;

use twin_core::{SimDuration, SimTime};

use crate::{
    error::{ScheduleError, StepError},
    queue::{DefaultQueue, Key, Queue},
};

/// Compaction is not attempted below this many stale keys.
const COMPACT_MIN_STALE: usize = 64;

/// A handle to a scheduled event, used to cancel it.
///
/// It stays valid until the event fires or is cancelled; after that, every
/// operation on it is a no-op (generation check), even if the underlying
/// slot has been reused for another event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventId {
    slot: u32,
    gen: u32,
}

/// Counters of a [`Scheduler`] since its creation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Stats {
    /// Events accepted by `schedule_at` / `schedule_in`.
    pub scheduled: u64,
    /// Events handed out by `pop`, `step_until` or `run`.
    pub executed: u64,
    /// Events removed by `cancel` / `remove` before firing.
    pub cancelled: u64,
    /// Events scheduled but neither executed nor cancelled yet.
    pub pending: u64,
}

/// One entry of the payload slab.
struct Slot<E> {
    /// Bumped each time the slot is released; `u32::MAX` retires the slot.
    gen: u32,
    /// The payload while the event is pending, `None` otherwise.
    event: Option<E>,
}

/// A single-threaded discrete-event scheduler over events of type `E`.
///
/// Events fire in ascending `(time, insertion sequence)` order: see the
/// crate documentation for the full ordering contract. `Q` selects the queue
/// structure ([`DefaultQueue`] unless given); it changes speed, never results.
pub struct Scheduler<E, Q = DefaultQueue> {
    /// Current simulation time (ns).
    now: u64,
    /// Sequence number for the next scheduled event.
    next_seq: u64,
    queue: Q,
    slots: Vec<Slot<E>>,
    free: Vec<u32>,
    /// Keys in `queue` whose event was cancelled.
    stale: usize,
    scheduled: u64,
    executed: u64,
    cancelled: u64,
}

impl<E> Scheduler<E> {
    /// An empty scheduler at time zero with the default queue.
    pub fn new() -> Self {
        Self::with_queue(DefaultQueue::default())
    }

    /// Like [`new`](Self::new), with room for `capacity` pending events.
    pub fn with_capacity(capacity: usize) -> Self {
        let mut s = Self::with_queue(DefaultQueue::with_capacity(capacity));
        s.slots.reserve(capacity);
        s
    }
}

impl<E> Default for Scheduler<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E, Q: Queue> Scheduler<E, Q> {
    /// An empty scheduler at time zero using `queue`, which should be empty.
    ///
    /// ```
    /// use twin_des::{QuaternaryHeap, Queue, Scheduler};
    /// let s: Scheduler<u8, _> = Scheduler::with_queue(QuaternaryHeap::with_capacity(1024));
    /// assert!(s.is_empty());
    /// ```
    pub fn with_queue(queue: Q) -> Self {
        debug_assert!(queue.is_empty(), "with_queue needs an empty queue");
        Scheduler {
            now: 0,
            next_seq: 0,
            queue,
            slots: Vec::new(),
            free: Vec::new(),
            stale: 0,
            scheduled: 0,
            executed: 0,
            cancelled: 0,
        }
    }

    /// The current simulation time: the time of the last executed event, or
    /// the last `step_until` target, whichever is later.
    #[inline]
    pub fn now(&self) -> SimTime {
        SimTime::from_nanos(self.now)
    }

    /// Schedules `event` to fire at `at`, which may equal [`now`](Self::now).
    ///
    /// # Errors
    /// [`ScheduleError::InPast`] if `at < now`, [`ScheduleError::Full`] if
    /// 2^32 - 1 events are pending. The event is dropped in both cases.
    #[inline]
    pub fn schedule_at(&mut self, at: SimTime, event: E) -> Result<EventId, ScheduleError> {
        let time = at.as_nanos();
        if time < self.now {
            return Err(ScheduleError::InPast {
                now: self.now(),
                requested: at,
            });
        }
        self.insert(time, event)
    }

    /// Schedules `event` to fire `delay` after [`now`](Self::now); a zero
    /// delay runs it after every event already pending at the current time.
    ///
    /// # Errors
    /// [`ScheduleError::Overflow`] if `now + delay` exceeds [`SimTime::MAX`],
    /// [`ScheduleError::Full`] if 2^32 - 1 events are pending.
    #[inline]
    pub fn schedule_in(&mut self, delay: SimDuration, event: E) -> Result<EventId, ScheduleError> {
        match self.now.checked_add(delay.as_nanos()) {
            Some(time) => self.insert(time, event),
            None => Err(ScheduleError::Overflow {
                now: self.now(),
                delay,
            }),
        }
    }

    /// Stores the payload, pushes its key and returns its handle.
    #[inline]
    fn insert(&mut self, time: u64, event: E) -> Result<EventId, ScheduleError> {
        let slot = match self.free.pop() {
            Some(slot) => {
                let s = &mut self.slots[slot as usize];
                debug_assert!(s.event.is_none(), "free slot {slot} holds an event");
                s.event = Some(event);
                slot
            }
            None => {
                // Index u32::MAX is never used, so `len` always fits in u32.
                let Ok(slot) = u32::try_from(self.slots.len()) else {
                    return Err(self.full());
                };
                if slot == u32::MAX {
                    return Err(self.full());
                }
                self.slots.push(Slot {
                    gen: 0,
                    event: Some(event),
                });
                slot
            }
        };
        let gen = self.slots[slot as usize].gen;
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push(Key {
            time,
            seq,
            slot,
            gen,
        });
        self.scheduled += 1;
        Ok(EventId { slot, gen })
    }

    #[cold]
    fn full(&self) -> ScheduleError {
        ScheduleError::Full {
            pending: self.pending(),
        }
    }

    /// Cancels a pending event. Returns `false`, and does nothing, if the
    /// event has already fired or been cancelled. O(1) amortised.
    #[inline]
    pub fn cancel(&mut self, id: EventId) -> bool {
        self.remove(id).is_some()
    }

    /// Cancels a pending event and returns its payload; `None` if it has
    /// already fired or been cancelled.
    pub fn remove(&mut self, id: EventId) -> Option<E> {
        let slot = self.slots.get_mut(id.slot as usize)?;
        if slot.gen != id.gen {
            return None;
        }
        let event = slot.event.take()?;
        self.release(id.slot);
        self.cancelled += 1;
        self.stale += 1;
        self.purge_head();
        if self.stale >= COMPACT_MIN_STALE && self.stale * 2 > self.queue.len() {
            self.compact();
        }
        Some(event)
    }

    /// True while the event of `id` is pending.
    pub fn is_pending(&self, id: EventId) -> bool {
        self.event(id).is_some()
    }

    /// The payload of a pending event.
    pub fn event(&self, id: EventId) -> Option<&E> {
        self.slots
            .get(id.slot as usize)
            .filter(|s| s.gen == id.gen)
            .and_then(|s| s.event.as_ref())
    }

    /// The firing time of the next pending event, `None` if there is none.
    ///
    /// A federation member reports this (or `now + lookahead`, whichever is
    /// smaller) when asking the time controller for its next grant.
    #[inline]
    pub fn next_time(&self) -> Option<SimTime> {
        self.queue.peek().map(Key::time)
    }

    /// Removes the next event, advances [`now`](Self::now) to its time and
    /// returns it. The caller is the handler: it may schedule more events.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let key = self.queue.pop()?;
        let slot = &mut self.slots[key.slot as usize];
        debug_assert_eq!(slot.gen, key.gen, "stale key at the queue head");
        let event = slot
            .event
            .take()
            .expect("the queue head always refers to a pending event");
        self.release(key.slot);
        self.now = key.time;
        self.executed += 1;
        if self.stale != 0 {
            self.purge_head();
        }
        Some((SimTime::from_nanos(key.time), event))
    }

    /// Executes, in order, every event with time `<= until` (including those
    /// the handler schedules at or before `until` during this call), then sets
    /// [`now`](Self::now) to `until`. Returns the number of events executed.
    ///
    /// This is what a federation member calls with each granted time. Events
    /// later than `until` stay pending.
    ///
    /// # Errors
    /// [`StepError::InPast`] if `until < now`; nothing is executed.
    pub fn step_until<F>(&mut self, until: SimTime, mut handler: F) -> Result<u64, StepError>
    where
        F: FnMut(&mut Self, SimTime, E),
    {
        let limit = until.as_nanos();
        if limit < self.now {
            return Err(StepError::InPast {
                now: self.now(),
                requested: until,
            });
        }
        let mut n = 0;
        while self.queue.peek().is_some_and(|k| k.time <= limit) {
            let (time, event) = self.pop().expect("peeked a pending event");
            handler(self, time, event);
            n += 1;
        }
        // `max`: a handler that itself stepped further must not move time back.
        self.now = self.now.max(limit);
        Ok(n)
    }

    /// Executes events until none is pending and returns how many ran. Does
    /// not return if the model keeps scheduling events forever.
    pub fn run<F>(&mut self, mut handler: F) -> u64
    where
        F: FnMut(&mut Self, SimTime, E),
    {
        let mut n = 0;
        while let Some((time, event)) = self.pop() {
            handler(self, time, event);
            n += 1;
        }
        n
    }

    /// Number of events pending (scheduled, not yet executed or cancelled).
    #[inline]
    pub fn pending(&self) -> u64 {
        self.scheduled - self.executed - self.cancelled
    }

    /// True when no event is pending.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pending() == 0
    }

    /// The counters since creation.
    pub fn stats(&self) -> Stats {
        Stats {
            scheduled: self.scheduled,
            executed: self.executed,
            cancelled: self.cancelled,
            pending: self.pending(),
        }
    }

    /// The queue, e.g. to inspect its length including stale keys.
    pub fn queue(&self) -> &Q {
        &self.queue
    }

    /// Bumps the slot's generation and returns it to the free list, or
    /// retires it for good once the generation would wrap (so an old id can
    /// never alias a new event).
    #[inline]
    fn release(&mut self, slot: u32) {
        let s = &mut self.slots[slot as usize];
        if s.gen == u32::MAX {
            return;
        }
        s.gen += 1;
        self.free.push(slot);
    }

    /// True if `key` still refers to a pending event.
    #[inline]
    fn is_live(slots: &[Slot<E>], key: &Key) -> bool {
        let s = &slots[key.slot as usize];
        s.gen == key.gen && s.event.is_some()
    }

    /// Discards stale keys at the head of the queue.
    fn purge_head(&mut self) {
        while let Some(key) = self.queue.peek() {
            if Self::is_live(&self.slots, key) {
                break;
            }
            self.queue.pop();
            self.stale -= 1;
        }
    }

    /// Drops every stale key in one pass.
    #[cold]
    fn compact(&mut self) {
        let slots = &self.slots;
        self.queue.retain(|k| Self::is_live(slots, k));
        self.stale = 0;
    }
}

impl<E, Q: Queue> fmt::Debug for Scheduler<E, Q> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scheduler")
            .field("now", &self.now())
            .field("next_time", &self.next_time())
            .field("stats", &self.stats())
            .field("stale_keys", &self.stale)
            .field("slots", &self.slots.len())
            .finish()
    }
}

#[cfg(test)]
mod tests;
