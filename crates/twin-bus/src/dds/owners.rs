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

/// The owner Twin keeps for one key.
struct Owner {
    last: Arrival,
    strength: i32,
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
    /// Books a valid sample of `key` from a writer of `strength` and says
    /// whether it is delivered: not when the key is guarded for an owner
    /// that wrote within `d_ns` and the sample's writer is not stronger.
    pub(super) fn admit(&mut self, key: &K, a: Arrival, strength: i32, d_ns: u64) -> bool {
        self.cyclone
            .entry(a.instance)
            .and_modify(|l| a.renew(l))
            .or_insert(a);
        match self.twin.get_mut(key) {
            Some(o) if o.last.publication == a.publication => {
                a.renew(&mut o.last);
                o.guarded = false;
                o.strength = strength;
                true
            }
            Some(o)
                if o.guarded
                    && strength <= o.strength
                    && a.at_ns.saturating_sub(o.last.at_ns) < d_ns =>
            {
                false
            }
            _ => {
                let owner = Owner {
                    last: a,
                    strength,
                    guarded: false,
                };
                self.twin.insert(key.clone(), owner);
                true
            }
        }
    }

    /// A Cyclone instance has no writers or was disposed.
    pub(super) fn gone(&mut self, instance: u64) {
        self.cyclone.remove(&instance);
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
        assert!(o.admit(&1, at(101, A, 0), 9, D));
        assert!(o.admit(&2, at(102, B, 0), 8, D));
        assert!(o.admit(&2, at(102, B, 150), 8, D));
        // A stopped at 0 ms: silent at 200 ms although B still writes.
        assert!(!o.silent_owner(199 * MS, D));
        assert!(o.silent_owner(200 * MS, D));
        o.gone(101);
        assert!(!o.silent_owner(200 * MS, D));
    }

    #[test]
    fn after_renewal_a_live_owner_keeps_its_key_and_a_silent_one_hands_over() {
        let mut o = Owners::<u32>::default();
        assert!(o.admit(&1, at(101, A, 0), 9, D));
        assert!(o.admit(&2, at(102, B, 150), 8, D));
        o.renewed(250 * MS, D);
        assert!(
            !o.silent_owner(10_000 * MS, D),
            "Cyclone's owners forgotten"
        );
        // Key 1's owner A was silent for 250 ms: C takes it at once.
        assert!(o.admit(&1, at(101, C, 251), 1, D));
        // Key 2's owner B wrote 100 ms ago: C's samples are dropped ...
        assert!(!o.admit(&2, at(102, C, 252), 1, D));
        assert!(!o.admit(&2, at(102, C, 349), 1, D));
        // ... until B is silent for D (150 + 200 ms).
        assert!(o.admit(&2, at(102, C, 350), 1, D));
        // B is stronger: it wins the key back when it writes.
        assert!(o.admit(&2, at(102, B, 360), 8, D));
    }

    #[test]
    fn a_guard_ends_when_the_owner_writes_and_never_stops_a_stronger_writer() {
        let mut o = Owners::<u32>::default();
        assert!(o.admit(&2, at(102, B, 0), 8, D));
        o.renewed(10 * MS, D);
        // A stronger writer wins a guarded key at once.
        assert!(o.admit(&2, at(102, A, 11), 9, D));
        assert!(o.admit(&2, at(102, B, 12), 8, D), "not guarded for A");
        o.renewed(20 * MS, D);
        assert!(!o.admit(&2, at(102, C, 21), 1, D));
        // An equal strength is not stronger.
        assert!(!o.admit(&2, at(102, 14, 22), 8, D));
        // The owner writes again: Cyclone arbitrates once more, and what
        // it lets through is delivered.
        assert!(o.admit(&2, at(102, B, 23), 8, D));
        assert!(o.admit(&2, at(102, C, 24), 1, D));
    }

    #[test]
    fn a_sample_read_again_is_no_news_of_its_writer() {
        let mut o = Owners::<u32>::default();
        assert!(o.admit(&1, at(101, A, 0), 9, D));
        // The same sample (same source time) read again at 300 ms.
        let again = Arrival {
            at_ns: 300 * MS,
            ..at(101, A, 0)
        };
        assert!(o.admit(&1, again, 9, D));
        assert!(o.silent_owner(300 * MS, D));
    }
}
