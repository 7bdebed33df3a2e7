//! Per-instance exclusive ownership as Twin books it over Cyclone's, for
//! readers with a deadline `D` (the owner watchdog in `reader.rs` explains
//! why Cyclone's own arbitration is not enough).
//!
//! Two views. Per Cyclone instance handle: the writer whose sample Cyclone
//! last let through since its reader was (re)created, i.e. its owner there,
//! and when. Per key: the owner whose samples Twin delivers, its strength
//! and when it last wrote. Times are [ns] since the reader's epoch.

use std::hash::Hash;

use rustc_hash::FxHashMap;

/// One sample as it comes out of Cyclone.
#[derive(Clone, Copy, Debug)]
pub(super) struct Arrival {
    pub(super) instance: u64,
    pub(super) publication: u64,
    /// When it was taken here [ns].
    pub(super) at_ns: u64,
    /// Its source timestamp [ns], to tell a new sample from one read again.
    pub(super) source_ns: i64,
}

impl Arrival {
    /// Books `self` into `last` unless it is `last`'s sample read again.
    fn renew(self, last: &mut Arrival) {
        if last.publication != self.publication || self.source_ns > last.source_ns {
            *last = self;
        }
    }
}

/// How a writer ranks under exclusive ownership: the stronger wins, and
/// between equal strengths the lower GUID (compared bytewise), the rule
/// Cyclone applies (`inst_accepts_sample_by_writer_guid` in its reader
/// cache), so that every reader picks the same owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Rank {
    pub(super) strength: i32,
    pub(super) guid: [u8; 16],
}

impl Rank {
    /// A writer whose QoS could not be read: strength 0, loses every tie.
    pub(super) const UNKNOWN: Rank = Rank {
        strength: 0,
        guid: [0xff; 16],
    };

    /// Whether a sample of `self` wins an instance owned by `o`.
    fn beats(&self, o: &Rank) -> bool {
        self.strength > o.strength || (self.strength == o.strength && self.guid < o.guid)
    }
}

/// The owner Twin keeps for one key.
struct Owner {
    last: Arrival,
    rank: Rank,
    /// Set when the Cyclone reader was replaced while this owner was
    /// writing: Cyclone no longer knows it as the owner, so samples of
    /// writers not stronger are dropped until it writes again (and
    /// Cyclone's arbitration holds once more) or is silent for `D`.
    guarded: bool,
}

/// Owners per Cyclone instance and per key.
pub(super) struct Owners<K> {
    cyclone: FxHashMap<u64, Arrival>,
    twin: FxHashMap<K, Owner>,
}

impl<K> Default for Owners<K> {
    fn default() -> Self {
        Owners {
            cyclone: FxHashMap::default(),
            twin: FxHashMap::default(),
        }
    }
}

impl<K: Clone + Eq + Hash> Owners<K> {
    /// Books a valid sample of `key` from a writer of rank `rank` and says
    /// whether it is delivered: not when the key is guarded for an owner
    /// that wrote within `d_ns` and the sample's writer does not outrank it.
    pub(super) fn admit(&mut self, key: &K, a: Arrival, rank: Rank, d_ns: u64) -> bool {
        self.cyclone
            .entry(a.instance)
            .and_modify(|l| a.renew(l))
            .or_insert(a);
        match self.twin.get_mut(key) {
            Some(o) if o.last.publication == a.publication => {
                a.renew(&mut o.last);
                o.guarded = false;
                o.rank = rank;
                true
            }
            Some(o)
                if o.guarded
                    && !rank.beats(&o.rank)
                    && a.at_ns.saturating_sub(o.last.at_ns) < d_ns =>
            {
                false
            }
            _ => {
                let owner = Owner {
                    last: a,
                    rank,
                    guarded: false,
                };
                self.twin.insert(key.clone(), owner);
                true
            }
        }
    }

    /// An invalid sample of `key` (its instance was disposed, or has no
    /// writers left): the Cyclone instance has no owner to watch. A
    /// dispose by the key's owner is news of it like a write (it ends a
    /// guard: the fresh Cyclone reader knows it as the owner again); with
    /// no writers left nobody owns the key, and its entry is dropped.
    pub(super) fn gone(&mut self, key: &K, a: Arrival, disposed: bool) {
        self.cyclone.remove(&a.instance);
        if !disposed {
            self.twin.remove(key);
        } else if let Some(o) = self.twin.get_mut(key) {
            if o.last.publication == a.publication {
                a.renew(&mut o.last);
                o.guarded = false;
            }
        }
    }

    /// A writer is no longer matched (deleted, or its participant lost):
    /// the keys it owned are free at once, and its entries are dropped.
    pub(super) fn writer_gone(&mut self, publication: u64) {
        self.twin.retain(|_, o| o.last.publication != publication);
        self.cyclone.retain(|_, l| l.publication != publication);
    }

    /// Keys with an owner booked (bounded by the live writers' keys).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.twin.len()
    }

    /// After a replacement of the Cyclone reader at `now_ns`: guards every
    /// key whose owner wrote within `d_ns`; forgets Cyclone's owners.
    pub(super) fn renewed(&mut self, now_ns: u64, d_ns: u64) {
        for o in self.twin.values_mut() {
            o.guarded = now_ns.saturating_sub(o.last.at_ns) < d_ns;
        }
        self.cyclone.clear();
    }

    /// Whether some instance's owner in the Cyclone reader has not written
    /// for `d_ns` (Cyclone may be rejecting other writers on its behalf).
    pub(super) fn silent_owner(&self, now_ns: u64, d_ns: u64) -> bool {
        self.cyclone
            .values()
            .any(|l| now_ns.saturating_sub(l.at_ns) >= d_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: u64 = 200_000_000;
    const MS: u64 = 1_000_000;
    // Writers (publication handles) and their instances (Cyclone handles).
    const A: u64 = 11;
    const B: u64 = 12;
    const C: u64 = 13;

    /// Writer `publication` at `strength`; its GUID sorts as its handle.
    fn rank(strength: i32, publication: u64) -> Rank {
        let mut guid = [0; 16];
        guid[8..].copy_from_slice(&publication.to_be_bytes());
        Rank { strength, guid }
    }

    fn at(instance: u64, publication: u64, ms: u64) -> Arrival {
        Arrival {
            instance,
            publication,
            at_ns: ms * MS,
            source_ns: (ms * MS) as i64,
        }
    }

    #[test]
    fn a_silent_owner_is_found_per_instance() {
        let mut o = Owners::<u32>::default();
        assert!(o.admit(&1, at(101, A, 0), rank(9, A), D));
        assert!(o.admit(&2, at(102, B, 0), rank(8, B), D));
        assert!(o.admit(&2, at(102, B, 150), rank(8, B), D));
        // A stopped at 0 ms: silent at 200 ms although B still writes.
        assert!(!o.silent_owner(199 * MS, D));
        assert!(o.silent_owner(200 * MS, D));
        o.gone(&1, at(101, A, 200), false);
        assert!(!o.silent_owner(200 * MS, D));
    }

    #[test]
    fn after_renewal_a_live_owner_keeps_its_key_and_a_silent_one_hands_over() {
        let mut o = Owners::<u32>::default();
        assert!(o.admit(&1, at(101, A, 0), rank(9, A), D));
        assert!(o.admit(&2, at(102, B, 150), rank(8, B), D));
        o.renewed(250 * MS, D);
        assert!(
            !o.silent_owner(10_000 * MS, D),
            "Cyclone's owners forgotten"
        );
        // Key 1's owner A was silent for 250 ms: C takes it at once.
        assert!(o.admit(&1, at(101, C, 251), rank(1, C), D));
        // Key 2's owner B wrote 100 ms ago: C's samples are dropped ...
        assert!(!o.admit(&2, at(102, C, 252), rank(1, C), D));
        assert!(!o.admit(&2, at(102, C, 349), rank(1, C), D));
        // ... until B is silent for D (150 + 200 ms).
        assert!(o.admit(&2, at(102, C, 350), rank(1, C), D));
        // B is stronger: it wins the key back when it writes.
        assert!(o.admit(&2, at(102, B, 360), rank(8, B), D));
    }

    #[test]
    fn a_guard_ends_when_the_owner_writes_and_never_stops_a_stronger_writer() {
        let mut o = Owners::<u32>::default();
        assert!(o.admit(&2, at(102, B, 0), rank(8, B), D));
        o.renewed(10 * MS, D);
        // A stronger writer wins a guarded key at once.
        assert!(o.admit(&2, at(102, A, 11), rank(9, A), D));
        assert!(
            o.admit(&2, at(102, B, 12), rank(8, B), D),
            "not guarded for A"
        );
        o.renewed(20 * MS, D);
        assert!(!o.admit(&2, at(102, C, 21), rank(1, C), D));
        // An equal strength with a higher GUID does not outrank the owner.
        assert!(!o.admit(&2, at(102, 14, 22), rank(8, 14), D));
        // The owner writes again: Cyclone arbitrates once more, and what
        // it lets through is delivered.
        assert!(o.admit(&2, at(102, B, 23), rank(8, B), D));
        assert!(o.admit(&2, at(102, C, 24), rank(1, C), D));
    }

    #[test]
    fn a_sample_read_again_is_no_news_of_its_writer() {
        let mut o = Owners::<u32>::default();
        assert!(o.admit(&1, at(101, A, 0), rank(9, A), D));
        // The same sample (same source time) read again at 300 ms.
        let again = Arrival {
            at_ns: 300 * MS,
            ..at(101, A, 0)
        };
        assert!(o.admit(&1, again, rank(9, A), D));
        assert!(o.silent_owner(300 * MS, D));
    }

    #[test]
    fn equal_strengths_go_to_the_lower_guid_as_in_cyclone() {
        let mut o = Owners::<u32>::default();
        assert!(o.admit(&2, at(102, B, 0), rank(8, B), D));
        o.renewed(10 * MS, D);
        // Guarded for B (GUID ...12): a higher GUID at B's strength loses,
        assert!(!o.admit(&2, at(102, 14, 11), rank(8, 14), D));
        // a lower one wins, as Cyclone would have let it win from the start.
        assert!(o.admit(&2, at(102, 10, 12), rank(8, 10), D));
        assert!(rank(8, 10).beats(&rank(8, B)) && !rank(8, B).beats(&rank(8, 10)));
        assert!(rank(9, 99).beats(&rank(8, 1)), "strength first");
        assert!(
            !Rank::UNKNOWN.beats(&rank(0, 99)),
            "an unknown writer loses ties"
        );
    }

    #[test]
    fn a_dispose_by_the_owner_ends_its_guard_and_no_writers_free_the_key() {
        let mut o = Owners::<u32>::default();
        assert!(o.admit(&2, at(102, B, 0), rank(8, B), D));
        o.renewed(10 * MS, D);
        assert!(!o.admit(&2, at(102, C, 11), rank(1, C), D));
        // A dispose by another writer is not news of the owner.
        o.gone(&2, at(102, C, 12), true);
        assert!(!o.admit(&2, at(102, C, 13), rank(1, C), D));
        // B disposes: Cyclone knows B as the owner again and arbitrates.
        o.gone(&2, at(102, B, 14), true);
        assert!(o.admit(&2, at(102, C, 15), rank(1, C), D));
        // No writers left: the key's entry goes (the table stays bounded).
        assert!(o.admit(&3, at(103, A, 16), rank(9, A), D));
        assert_eq!(o.len(), 2);
        o.gone(&2, at(102, C, 20), false);
        o.gone(&3, at(103, A, 20), false);
        assert_eq!(o.len(), 0);
        assert!(!o.silent_owner(10_000 * MS, D));
    }

    #[test]
    fn a_writer_that_leaves_frees_its_keys_at_once() {
        let mut o = Owners::<u32>::default();
        assert!(o.admit(&2, at(102, B, 0), rank(8, B), D));
        assert!(o.admit(&3, at(103, B, 0), rank(8, B), D));
        assert!(o.admit(&4, at(104, A, 0), rank(9, A), D));
        o.renewed(10 * MS, D);
        assert!(!o.admit(&2, at(102, C, 11), rank(1, C), D));
        // B unmatched (deleted, or its participant lost): no wait for D.
        o.writer_gone(B);
        assert_eq!(o.len(), 1, "only A's key is left");
        assert!(o.admit(&2, at(102, C, 12), rank(1, C), D));
        assert!(o.admit(&3, at(103, C, 12), rank(1, C), D));
        // A's key is still guarded.
        assert!(!o.admit(&4, at(104, C, 13), rank(1, C), D));
    }
}
