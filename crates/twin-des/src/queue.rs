//! Pending-event queues: the [`Queue`] trait and its implementations.
//!
//! A queue stores only small [`Key`]s (24 bytes: time, insertion sequence,
//! slab slot and slot generation); the event payloads stay in the
//! [`Scheduler`](crate::Scheduler)'s slab. A queue's one job is to hand keys
//! back in ascending `(time, seq)` order. Because `seq` is unique, that order
//! is total, so every correct queue produces the same event sequence and the
//! structures can be swapped without changing a simulation's results.
//!
//! | queue | structure | notes |
//! |---|---|---|
//! | [`BinaryHeapQueue`] | `std` `BinaryHeap<Reverse<Key>>` | reference |
//! | [`QuaternaryHeap`] | own 4-ary implicit heap | fewer, wider levels |
//! | [`FifoFront<Q>`] | adapter: FIFO for same-time keys in front of `Q` | zero-delay fast path |
//! | [`DefaultQueue`] | `FifoFront<QuaternaryHeap>` | the scheduler's default |
//!
//! On the hold benchmark the 4-ary heap beats `std`'s binary heap by 0-8 %
//! at 10^3-10^4 pending events and by 20-40 % at 10^5; the FIFO adapter
//! costs nothing measurable there and makes bursts of zero-delay events
//! about three times faster. Packing `(time, seq)` into one `u128` for
//! comparisons is worth about 10 % over a lexicographic tuple compare.
//! Numbers and commands are in the crate's `BENCHMARKS.md`.

use std::{
    cmp::{Ordering, Reverse},
    collections::{BinaryHeap, VecDeque},
};

use twin_core::SimTime;

/// The entry a [`Queue`] stores for one scheduled event.
///
/// Keys compare by `(time, seq)` only; `seq` is the scheduler's global
/// insertion counter, so no two keys of one scheduler compare equal.
#[derive(Clone, Copy, Debug)]
pub struct Key {
    /// Firing time (ns since the scenario epoch).
    pub(crate) time: u64,
    /// Insertion sequence number, unique per scheduler.
    pub(crate) seq: u64,
    /// Index of the payload in the scheduler's slab.
    pub(crate) slot: u32,
    /// Generation of that slot when the event was scheduled.
    pub(crate) gen: u32,
}

impl Key {
    /// The time at which the event fires.
    #[inline]
    pub fn time(&self) -> SimTime {
        SimTime::from_nanos(self.time)
    }

    /// The insertion sequence number that breaks ties between equal times.
    #[inline]
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// `(time, seq)` packed into one integer, so a comparison is a single
    /// 128-bit subtraction instead of two branches.
    #[inline(always)]
    fn rank(&self) -> u128 {
        (u128::from(self.time) << 64) | u128::from(self.seq)
    }
}

impl PartialEq for Key {
    #[inline(always)]
    fn eq(&self, other: &Self) -> bool {
        self.rank() == other.rank()
    }
}
impl Eq for Key {}

impl PartialOrd for Key {
    #[inline(always)]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
    #[inline(always)]
    fn lt(&self, other: &Self) -> bool {
        self.rank() < other.rank()
    }
    #[inline(always)]
    fn le(&self, other: &Self) -> bool {
        self.rank() <= other.rank()
    }
    #[inline(always)]
    fn gt(&self, other: &Self) -> bool {
        self.rank() > other.rank()
    }
    #[inline(always)]
    fn ge(&self, other: &Self) -> bool {
        self.rank() >= other.rank()
    }
}

impl Ord for Key {
    #[inline(always)]
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank())
    }
}

/// A priority queue of [`Key`]s, smallest `(time, seq)` first.
///
/// Contract for implementors: `pop` and `peek` return the smallest key
/// present; `retain` keeps exactly the keys for which the predicate holds.
/// The scheduler pushes keys with strictly increasing `seq` and never a time
/// earlier than the last popped one, which implementations may exploit (as
/// [`FifoFront`] does) but must not rely on for correctness.
pub trait Queue {
    /// An empty queue with room for `capacity` keys.
    fn with_capacity(capacity: usize) -> Self
    where
        Self: Sized;
    /// Inserts a key.
    fn push(&mut self, key: Key);
    /// Removes and returns the smallest key.
    fn pop(&mut self) -> Option<Key>;
    /// The smallest key, without removing it.
    fn peek(&self) -> Option<&Key>;
    /// Number of keys stored (including keys of cancelled events that the
    /// scheduler has not yet discarded).
    fn len(&self) -> usize;
    /// True when no key is stored.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Keeps only the keys for which `keep` returns true.
    fn retain<F: FnMut(&Key) -> bool>(&mut self, keep: F);
    /// Removes every key.
    fn clear(&mut self);
}

/// The queue a [`Scheduler`](crate::Scheduler) uses unless told otherwise.
pub type DefaultQueue = FifoFront<QuaternaryHeap>;

/// The standard library's binary heap over reversed keys.
#[derive(Debug, Default)]
pub struct BinaryHeapQueue {
    heap: BinaryHeap<Reverse<Key>>,
}

impl Queue for BinaryHeapQueue {
    fn with_capacity(capacity: usize) -> Self {
        BinaryHeapQueue {
            heap: BinaryHeap::with_capacity(capacity),
        }
    }
    #[inline]
    fn push(&mut self, key: Key) {
        self.heap.push(Reverse(key));
    }
    #[inline]
    fn pop(&mut self) -> Option<Key> {
        self.heap.pop().map(|Reverse(k)| k)
    }
    #[inline]
    fn peek(&self) -> Option<&Key> {
        self.heap.peek().map(|Reverse(k)| k)
    }
    #[inline]
    fn len(&self) -> usize {
        self.heap.len()
    }
    fn retain<F: FnMut(&Key) -> bool>(&mut self, mut keep: F) {
        self.heap.retain(|Reverse(k)| keep(k));
    }
    fn clear(&mut self) {
        self.heap.clear();
    }
}

/// An implicit 4-ary min-heap.
///
/// Half as many levels as a binary heap, and the four children of a node are
/// adjacent in memory (96 bytes, one or two cache lines). `pop` uses the
/// "hole to the bottom, then sift up" strategy, which suits simulations where
/// the element moved from the last leaf almost always belongs near a leaf.
#[derive(Debug, Default)]
pub struct QuaternaryHeap {
    keys: Vec<Key>,
}

impl QuaternaryHeap {
    /// Moves `key` up from index `i` until its parent is smaller.
    #[inline]
    fn sift_up(&mut self, mut i: usize, key: Key) {
        while i > 0 {
            let parent = (i - 1) / 4;
            let p = self.keys[parent];
            if p <= key {
                break;
            }
            self.keys[i] = p;
            i = parent;
        }
        self.keys[i] = key;
    }

    /// Index (0..4) of the smallest of four keys, without branches.
    #[inline(always)]
    fn min_of_four(k: &[Key; 4]) -> usize {
        let a = usize::from(k[1] < k[0]);
        let b = 2 + usize::from(k[3] < k[2]);
        if k[b] < k[a] {
            b
        } else {
            a
        }
    }

    /// Index of the smallest key in `kids` (one to four keys).
    #[inline]
    fn min_of_some(kids: &[Key]) -> usize {
        let mut best = 0;
        for (j, k) in kids.iter().enumerate().skip(1) {
            if *k < kids[best] {
                best = j;
            }
        }
        best
    }

    /// Moves the hole at `hole` down to a leaf along the smallest children
    /// and returns the leaf index.
    #[inline]
    fn hole_to_bottom(&mut self, mut hole: usize) -> usize {
        let n = self.keys.len();
        // Fast path while all four children exist.
        loop {
            let first = 4 * hole + 1;
            let Some(kids) = self.keys.get(first..first + 4) else {
                break;
            };
            let kids: &[Key; 4] = kids.try_into().expect("slice of length four");
            let best = Self::min_of_four(kids);
            self.keys[hole] = kids[best];
            hole = first + best;
        }
        let first = 4 * hole + 1;
        if first < n {
            let best = Self::min_of_some(&self.keys[first..n]);
            self.keys[hole] = self.keys[first + best];
            hole = first + best;
        }
        hole
    }
}

impl Queue for QuaternaryHeap {
    fn with_capacity(capacity: usize) -> Self {
        QuaternaryHeap {
            keys: Vec::with_capacity(capacity),
        }
    }

    #[inline]
    fn push(&mut self, key: Key) {
        let i = self.keys.len();
        self.keys.push(key);
        self.sift_up(i, key);
    }

    #[inline]
    fn pop(&mut self) -> Option<Key> {
        let last = self.keys.pop()?;
        if self.keys.is_empty() {
            return Some(last);
        }
        let top = self.keys[0];
        // Walk the hole from the root to a leaf along the smallest children,
        // then drop `last` into it and let it rise to its place.
        let hole = self.hole_to_bottom(0);
        self.sift_up(hole, last);
        Some(top)
    }

    #[inline]
    fn peek(&self) -> Option<&Key> {
        self.keys.first()
    }

    #[inline]
    fn len(&self) -> usize {
        self.keys.len()
    }

    fn retain<F: FnMut(&Key) -> bool>(&mut self, keep: F) {
        self.keys.retain(keep);
        // Re-heapify bottom-up (Floyd): sift every internal node down.
        let n = self.keys.len();
        if n < 2 {
            return;
        }
        for start in (0..=(n - 2) / 4).rev() {
            let key = self.keys[start];
            let mut i = start;
            loop {
                let first = 4 * i + 1;
                if first >= n {
                    break;
                }
                let kids = &self.keys[first..n.min(first + 4)];
                let best = Self::min_of_some(kids);
                if key <= kids[best] {
                    break;
                }
                self.keys[i] = kids[best];
                i = first + best;
            }
            self.keys[i] = key;
        }
    }

    fn clear(&mut self) {
        self.keys.clear();
    }
}

/// A FIFO for keys at the current front time, in front of another queue.
///
/// Keys pushed with the same time as the last popped key (zero-delay events,
/// e.g. the receivers of a broadcast) go to a ring buffer in O(1) instead of
/// through `Q`'s O(log n) insertion; `pop` takes the smaller of the two heads,
/// so the `(time, seq)` order is exactly the same as with `Q` alone. This is
/// OMNeT++'s `cEventHeap` arrangement.
#[derive(Debug, Default)]
pub struct FifoFront<Q> {
    inner: Q,
    fifo: VecDeque<Key>,
    /// Time of the keys in `fifo` (and of the last popped key while `fifo`
    /// is empty) (ns).
    front_time: u64,
}

impl<Q: Queue> Queue for FifoFront<Q> {
    fn with_capacity(capacity: usize) -> Self {
        FifoFront {
            inner: Q::with_capacity(capacity),
            fifo: VecDeque::new(),
            front_time: 0,
        }
    }

    #[inline]
    fn push(&mut self, key: Key) {
        let in_order = self.fifo.back().is_none_or(|b| b.seq < key.seq);
        if key.time == self.front_time && in_order {
            self.fifo.push_back(key);
        } else {
            self.inner.push(key);
        }
    }

    #[inline]
    fn pop(&mut self) -> Option<Key> {
        let from_fifo = match (self.fifo.front(), self.inner.peek()) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(f), Some(h)) => f < h,
        };
        if from_fifo {
            self.fifo.pop_front()
        } else {
            let key = self.inner.pop()?;
            if self.fifo.is_empty() {
                self.front_time = key.time;
            }
            Some(key)
        }
    }

    #[inline]
    fn peek(&self) -> Option<&Key> {
        match (self.fifo.front(), self.inner.peek()) {
            (Some(f), Some(h)) => Some(if f < h { f } else { h }),
            (f, h) => f.or(h),
        }
    }

    #[inline]
    fn len(&self) -> usize {
        self.fifo.len() + self.inner.len()
    }

    fn retain<F: FnMut(&Key) -> bool>(&mut self, mut keep: F) {
        self.fifo.retain(&mut keep);
        self.inner.retain(keep);
    }

    fn clear(&mut self) {
        self.fifo.clear();
        self.inner.clear();
    }
}

#[cfg(test)]
mod tests;
