//! OLSR route computation: expiry of tuples, MPR selection (RFC 3626
//! §8.3.1) and the routing table (§10), as a second `impl` block of
//! [`Olsr`].

use super::*;

impl Olsr {
    /// Purges expired tuples and recomputes MPRs and routes (§8.3, §10)
    /// if the neighbourhood or topology changed since the last time.
    ///
    /// Expiry is exact: once the earliest deadline passes, expired tuples
    /// are purged and symmetric links re-evaluated; the expensive part only
    /// runs when that (or a received message) changed something, since most
    /// deadlines were pushed back by refreshes in the meantime.
    pub(crate) fn recompute(&mut self, now: u64) {
        if now >= self.next_expiry {
            let sizes = (self.links.len(), self.two_hop.len(), self.topology.len());
            self.links.retain(|_, l| l.until > now);
            self.two_hop.retain(|_, e| *e > now);
            self.selectors.retain(|_, e| *e > now);
            self.topology.retain(|_, (_, e)| *e > now);
            let sym: BTreeSet<u32> = self
                .links
                .iter()
                .filter(|(_, l)| l.sym_until > now)
                .map(|(&n, _)| n)
                .collect();
            if sizes != (self.links.len(), self.two_hop.len(), self.topology.len())
                || sym != self.last_sym
            {
                self.dirty = true;
            }
            let mut next = u64::MAX;
            for l in self.links.values() {
                for t in [l.sym_until, l.until] {
                    if t > now {
                        next = next.min(t);
                    }
                }
            }
            for &e in self
                .two_hop
                .values()
                .chain(self.topology.values().map(|(_, e)| e))
            {
                next = next.min(e);
            }
            self.next_expiry = next;
        }
        if !self.dirty {
            return;
        }
        self.mpr = self.select_mprs(now);
        self.table = self.build_table(now);
        self.last_sym = self
            .links
            .iter()
            .filter(|(_, l)| l.sym_until > now)
            .map(|(&n, _)| n)
            .collect();
        self.dirty = false;
    }

    /// MPR selection heuristic (§8.3.1); ties broken by lowest id.
    pub(super) fn select_mprs(&self, now: u64) -> BTreeSet<u32> {
        let n1: BTreeSet<u32> = self
            .links
            .iter()
            .filter(|(n, l)| {
                l.sym_until > now && self.willingness.get(n).copied().unwrap_or(3) != WILL_NEVER
            })
            .map(|(&n, _)| n)
            .collect();
        let all_sym: BTreeSet<u32> = self
            .links
            .iter()
            .filter(|(_, l)| l.sym_until > now)
            .map(|(&n, _)| n)
            .collect();
        // Two-hop neighbours reachable through each N1 node.
        let mut reach: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
        for &(nb, two) in self.two_hop.keys() {
            if n1.contains(&nb) && two != self.me.0 && !all_sym.contains(&two) {
                reach.entry(nb).or_default().insert(two);
            }
        }
        let mut uncovered: BTreeSet<u32> = reach.values().flatten().copied().collect();
        let mut mpr = BTreeSet::new();
        let will = |n: u32| self.willingness.get(&n).copied().unwrap_or(3);
        let take = |n: u32, mpr: &mut BTreeSet<u32>, uncovered: &mut BTreeSet<u32>| {
            mpr.insert(n);
            if let Some(r) = reach.get(&n) {
                for t in r {
                    uncovered.remove(t);
                }
            }
        };
        for &n in &n1 {
            if will(n) == WILL_ALWAYS {
                take(n, &mut mpr, &mut uncovered);
            }
        }
        // Nodes that are the only way to some two-hop neighbour.
        let mut via: BTreeMap<u32, (u32, u32)> = BTreeMap::new(); // two → (count, a neighbour)
        for (&nb, r) in &reach {
            for &t in r {
                let e = via.entry(t).or_insert((0, nb));
                e.0 += 1;
            }
        }
        let sole: BTreeSet<u32> = via
            .iter()
            .filter(|(t, (count, _))| *count == 1 && uncovered.contains(t))
            .map(|(_, &(_, nb))| nb)
            .collect();
        for n in sole {
            take(n, &mut mpr, &mut uncovered);
        }
        while !uncovered.is_empty() {
            let best = reach
                .iter()
                .filter(|(n, _)| !mpr.contains(*n))
                .map(|(&n, r)| {
                    let covers = r.intersection(&uncovered).count();
                    (will(n), covers, r.len(), std::cmp::Reverse(n))
                })
                .filter(|k| k.1 > 0)
                .max();
            match best {
                Some((_, _, _, std::cmp::Reverse(n))) => take(n, &mut mpr, &mut uncovered),
                None => break,
            }
        }
        mpr
    }

    /// Routing table calculation (§10).
    pub(super) fn build_table(&self, now: u64) -> BTreeMap<u32, (u32, u32)> {
        let mut t: BTreeMap<u32, (u32, u32)> = BTreeMap::new();
        for (&n, l) in &self.links {
            if l.sym_until > now {
                t.insert(n, (n, 1));
            }
        }
        for &(nb, two) in self.two_hop.keys() {
            if two != self.me.0 && !t.contains_key(&two) && self.sym(nb, now) {
                t.insert(two, (nb, 2));
            }
        }
        // Breadth first from the two-hop frontier: a destination gets the
        // route of the first (shortest) last hop that advertises it.
        let mut frontier: std::collections::VecDeque<u32> = t
            .iter()
            .filter(|(_, v)| v.1 == 2)
            .map(|(&d, _)| d)
            .collect();
        while let Some(last) = frontier.pop_front() {
            let (next, h) = t[&last];
            for (&(_, dest), _) in self.topology.range((last, 0)..=(last, u32::MAX)) {
                if dest != self.me.0 && !t.contains_key(&dest) {
                    t.insert(dest, (next, h + 1));
                    frontier.push_back(dest);
                }
            }
        }
        t
    }
}
