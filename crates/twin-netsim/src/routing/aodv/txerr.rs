//! Link-layer feedback: what AODV does when the MAC gives up on a frame
//! (§6.11 (i)), as a further `impl` block of [`Aodv`], and the counters
//! that compare it with ns-3.
//!
//! RFC 3561 lets any link-layer failure break the link to the next hop.
//! ns-3's `Neighbors::ProcessTxError` closes only a neighbour-table entry
//! whose MAC address equals the frame's receiver; an entry learns that
//! address from the ARP cache when it is made or refreshed (`Update`) and
//! only if ARP holds a live entry then. With `tx_error_needs_neighbor` Twin
//! does the same, so a next hop that is not in the table (a route learnt
//! from its RREP, the neighbour lost since) or whose address was never
//! resolved keeps its routes, and every frame sent through it dies at the
//! retry limit until something else ends the route: a *black hole*. A
//! source refreshes such a route with each packet it sends (§6.2), so it
//! can last as long as the flow (measured in `validation/netsim.md`).
//!
//! Failures are grouped into episodes per next hop: a failure with none
//! toward the same next hop in the second before starts one. For the
//! later failures of an episode the counters record whether the frame was
//! already queued when the episode began (a backlog behind the first) or
//! was sent afterwards (the route kept the dead next hop).

use super::*;

/// An episode ends after this long without a failure to its next hop \[ns\].
const EPISODE_GAP: u64 = 1_000_000_000;

/// MAC failures reported to AODV (data and AODV frames; summed per run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TxErrorCounters {
    /// Frames the MAC gave up on at the retry limit.
    pub tx_errors: u64,
    /// Failure episodes (see the module doc).
    pub tx_error_episodes: u64,
    /// Failures whose next hop was not in the neighbour table.
    pub tx_error_not_neighbor: u64,
    /// Episodes whose first failure's next hop was not in the table.
    pub tx_error_first_not_neighbor: u64,
    /// Failures ignored under `tx_error_needs_neighbor`.
    pub tx_errors_ignored: u64,
    /// Later failures of an episode whose frame was queued before it
    /// began, carrying data.
    pub tx_error_follow_queued_data: u64,
    /// ... carrying an AODV message.
    pub tx_error_follow_queued_aodv: u64,
    /// Later failures of an episode whose frame was queued after it began
    /// (the route kept the dead next hop), carrying data.
    pub tx_error_follow_later_data: u64,
    /// ... carrying an AODV message.
    pub tx_error_follow_later_aodv: u64,
    /// Failures by distance to the next hop when the MAC gave up (the
    /// manet-ns3 range is ≈ 138 m: near ones are collisions, far ones
    /// departed neighbours): < 100 m.
    pub tx_error_lt100m: u64,
    /// ... 100–130 m.
    pub tx_error_100_130m: u64,
    /// ... 130–150 m.
    pub tx_error_130_150m: u64,
    /// ... ≥ 150 m.
    pub tx_error_ge150m: u64,
    /// First failures of episodes by distance: < 100 m.
    pub tx_error_first_lt100m: u64,
    /// ... 100–130 m.
    pub tx_error_first_100_130m: u64,
    /// ... 130–150 m.
    pub tx_error_first_130_150m: u64,
    /// ... ≥ 150 m.
    pub tx_error_first_ge150m: u64,
}

impl TxErrorCounters {
    /// Counts one failure: `first` of its episode or not, whether its frame
    /// was `queued_before` the episode began, carried `data`, went to a
    /// `known` neighbour, and the distance to it in metres.
    fn count(&mut self, first: bool, queued_before: bool, data: bool, known: bool, d_m: f64) {
        self.tx_errors += 1;
        self.tx_error_episodes += u64::from(first);
        self.tx_error_not_neighbor += u64::from(!known);
        self.tx_error_first_not_neighbor += u64::from(first && !known);
        if !first {
            *match (queued_before, data) {
                (true, true) => &mut self.tx_error_follow_queued_data,
                (true, false) => &mut self.tx_error_follow_queued_aodv,
                (false, true) => &mut self.tx_error_follow_later_data,
                (false, false) => &mut self.tx_error_follow_later_aodv,
            } += 1;
        }
        let bin = [100.0, 130.0, 150.0]
            .iter()
            .take_while(|&&e| d_m >= e)
            .count();
        *[
            &mut self.tx_error_lt100m,
            &mut self.tx_error_100_130m,
            &mut self.tx_error_130_150m,
            &mut self.tx_error_ge150m,
        ][bin] += 1;
        if first {
            *[
                &mut self.tx_error_first_lt100m,
                &mut self.tx_error_first_100_130m,
                &mut self.tx_error_first_130_150m,
                &mut self.tx_error_first_ge150m,
            ][bin] += 1;
        }
    }
}

impl Aodv {
    /// The MAC could not deliver `pkt` (queued at `queued_at` ns) to
    /// `next_hop`: a link break (§6.11 (i)), unless `tx_error_needs_neighbor`
    /// and no neighbour entry knows `next_hop`'s MAC address.
    pub(crate) fn link_failed(
        &mut self,
        cx: &mut NetCx<'_>,
        pkt: Packet,
        next_hop: NodeId,
        queued_at: u64,
    ) {
        let now = cx.ns();
        let (first, start) = match self.tx_episodes.get(&next_hop.0) {
            Some(&(last, start)) if now - last < EPISODE_GAP => (false, start),
            _ => (true, now),
        };
        self.tx_episodes.insert(next_hop.0, (now, start));
        let queued_before = queued_at < start;
        let d_m = (cx.positions)(self.me)
            .xyz
            .distance((cx.positions)(next_hop).xyz);
        let known = self.neighbors.contains_key(&next_hop.0);
        let data = !matches!(pkt.body, Body::Aodv(_));
        self.counters
            .tx
            .count(first, queued_before, data, known, d_m);
        if self.p.tx_error_needs_neighbor && !self.neighbor_mac.contains(&next_hop.0) {
            // ns-3: no neighbour entry carries this MAC address, so the
            // failure goes unnoticed and the route keeps its next hop.
            self.counters.tx.tx_errors_ignored += 1;
        } else {
            self.counters.link_breaks_mac += 1;
            self.link_break(cx, next_hop);
        }
        cx.drop_pkt(pkt, NetDrop::LinkBreak);
    }

    /// With `tx_error_needs_neighbor`: a neighbour-table entry made or
    /// refreshed while ARP holds a live entry for `n` learns its MAC
    /// address and keeps it until the entry goes (ns-3's `Neighbors::Update`).
    pub(super) fn learn_mac(&mut self, cx: &NetCx<'_>, n: u32) {
        if self.p.tx_error_needs_neighbor && (cx.resolved)(NodeId(n)) {
            self.neighbor_mac.insert(n);
        }
    }
}
