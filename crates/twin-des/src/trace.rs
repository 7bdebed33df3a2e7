//! Deterministic hashing of event traces.
//!
//! A simulator records each executed event into a [`TraceHasher`]; two runs
//! that executed the same events at the same times in the same order end
//! with the same [`digest`](TraceHasher::digest). Tests compare digests (or
//! check them against golden values) instead of storing whole traces.
//!
//! The hash is 64-bit FNV-1a over a fixed little-endian encoding, with no
//! random keys, so a digest is the same on every run, machine and platform.
//! It is not collision-resistant against an adversary; it only needs to
//! catch accidental divergence.

use std::hash::Hasher;

use twin_core::SimTime;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// An FNV-1a accumulator over a trace of `(time, event)` records.
///
/// It also implements [`std::hash::Hasher`], so an event type that derives
/// `Hash` can be fed in with `event.hash(&mut hasher)`. Integers are always
/// encoded as little-endian and `usize`/`isize` as 64-bit, so that path is
/// platform-independent too; it does depend on how `#[derive(Hash)]` walks
/// the type, which the standard library does not promise to keep across
/// compiler versions. For golden values that must outlive toolchains, use
/// [`record`](Self::record) with explicit integers.
///
/// ```
/// use twin_core::SimTime;
/// use twin_des::TraceHasher;
/// let mut a = TraceHasher::new();
/// let mut b = TraceHasher::new();
/// a.record(SimTime::from_nanos(5), 1);
/// b.record(SimTime::from_nanos(5), 1);
/// assert_eq!(a.digest(), b.digest());
/// b.record(SimTime::from_nanos(6), 2);
/// assert_ne!(a.digest(), b.digest());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceHasher {
    state: u64,
    records: u64,
}

impl TraceHasher {
    /// An empty trace.
    pub const fn new() -> Self {
        TraceHasher {
            state: FNV_OFFSET,
            records: 0,
        }
    }

    /// Appends one record: the event time and a caller-chosen tag (an event
    /// discriminant, an entity id, or both packed together).
    #[inline]
    pub fn record(&mut self, time: SimTime, tag: u64) {
        self.write_u64(time.as_nanos());
        self.write_u64(tag);
        self.records += 1;
    }

    /// Appends one record: the event time and the event's encoded bytes.
    /// The length is included, so `(b"ab", b"c")` and `(b"a", b"bc")` differ.
    #[inline]
    pub fn record_bytes(&mut self, time: SimTime, bytes: &[u8]) {
        self.write_u64(time.as_nanos());
        self.write_u64(bytes.len() as u64);
        self.write_bytes(bytes);
        self.records += 1;
    }

    /// Feeds raw bytes (no length prefix, not counted as a record).
    #[inline]
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        let mut h = self.state;
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(FNV_PRIME);
        }
        self.state = h;
    }

    /// The hash of everything written so far.
    #[inline]
    pub fn digest(&self) -> u64 {
        self.state
    }

    /// Number of [`record`](Self::record)/[`record_bytes`](Self::record_bytes)
    /// calls so far.
    #[inline]
    pub fn records(&self) -> u64 {
        self.records
    }
}

impl Default for TraceHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl Hasher for TraceHasher {
    fn finish(&self) -> u64 {
        self.state
    }
    fn write(&mut self, bytes: &[u8]) {
        self.write_bytes(bytes);
    }
    fn write_u8(&mut self, i: u8) {
        self.write_bytes(&[i]);
    }
    fn write_u16(&mut self, i: u16) {
        self.write_bytes(&i.to_le_bytes());
    }
    fn write_u32(&mut self, i: u32) {
        self.write_bytes(&i.to_le_bytes());
    }
    fn write_u64(&mut self, i: u64) {
        self.write_bytes(&i.to_le_bytes());
    }
    fn write_u128(&mut self, i: u128) {
        self.write_bytes(&i.to_le_bytes());
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    fn write_i8(&mut self, i: i8) {
        self.write_u8(i as u8);
    }
    fn write_i16(&mut self, i: i16) {
        self.write_u16(i as u16);
    }
    fn write_i32(&mut self, i: i32) {
        self.write_u32(i as u32);
    }
    fn write_i64(&mut self, i: i64) {
        self.write_u64(i as u64);
    }
    fn write_i128(&mut self, i: i128) {
        self.write_u128(i as u128);
    }
    fn write_isize(&mut self, i: isize) {
        self.write_u64(i as i64 as u64);
    }
}

#[cfg(test)]
mod tests;
