//! Greedy geographic forwarding.
//!
//! Every node broadcasts a position beacon every `beacon_interval` (with
//! ±10 % jitter) and keeps the neighbours heard within
//! `neighbor_timeout`. A packet goes to the destination if it is a
//! neighbour, else to the neighbour closest to the destination, provided
//! that neighbour is closer than this node (greedy mode of GPSR, Karp &
//! Kung 2000, without perimeter recovery). At a local maximum the packet is
//! dropped. The destination's position comes from a location service,
//! modelled as an oracle with the exact current position (as AeroRP-style
//! protocols assume from ADS-B).
//!
//! If the MAC cannot reach the chosen neighbour, that neighbour is
//! forgotten and the packet is routed again once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use twin_core::{NodeId, SimDuration, SimTime};
use twin_des::Rng;

use super::{NetCx, NetDrop, NetTimer, RoutingState};
use crate::{
    geo::Vec3,
    mobility::Position,
    packet::{Body, Packet, BROADCAST, IP_UDP_HEADER},
    scenario::{diag::Problem, ProblemKind, Protocol},
};

/// Beacon payload: node id and three coordinates \[bytes\].
const BEACON_BYTES: u32 = 4 + 24;

/// `[routing.greedy]` parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GreedyParams {
    /// Beacon period.
    pub beacon_interval: SimDuration,
    /// Neighbours not heard for this long are forgotten.
    pub neighbor_timeout: SimDuration,
    /// Neighbours farther than this (by their last beacon) are not used as
    /// next hops \[m\]: a margin below the radio range, so that greedy
    /// progress does not always pick a link at the edge of detection.
    pub max_hop_m: Option<f64>,
}

impl Default for GreedyParams {
    fn default() -> Self {
        GreedyParams {
            beacon_interval: SimDuration::from_secs(1),
            neighbor_timeout: SimDuration::from_millis(3500),
            max_hop_m: None,
        }
    }
}

impl GreedyParams {
    pub(crate) fn check(&self, prefix: &str, p: &mut Vec<Problem>) {
        if self.beacon_interval.is_zero() {
            p.push(Problem::new(
                format!("{prefix}.beacon_interval"),
                ProblemKind::Range,
                "must be > 0",
            ));
        }
        if self.neighbor_timeout.is_zero() {
            p.push(Problem::new(
                format!("{prefix}.neighbor_timeout"),
                ProblemKind::Range,
                "must be > 0",
            ));
        }
        if self.max_hop_m.is_some_and(|m| !(m.is_finite() && m > 0.0)) {
            p.push(Problem::new(
                format!("{prefix}.max_hop_m"),
                ProblemKind::Range,
                "must be a finite number > 0",
            ));
        }
    }
}

/// Timers of a greedy node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timer {
    /// Send a beacon.
    Beacon,
}

/// One node's greedy-forwarding process.
#[derive(Debug)]
pub struct Greedy {
    me: NodeId,
    p: GreedyParams,
    /// Neighbour → (last beaconed position, expiry).
    neighbors: BTreeMap<u32, (Vec3, u64)>,
    rng: Rng,
}

impl Greedy {
    pub(crate) fn new(me: NodeId, p: &GreedyParams, rng: Rng) -> Greedy {
        Greedy {
            me,
            p: p.clone(),
            neighbors: BTreeMap::new(),
            rng,
        }
    }

    pub(crate) fn start(&mut self, cx: &mut NetCx<'_>) {
        let first = self.rng.below(self.p.beacon_interval.as_nanos().max(1));
        cx.timer_in(first, NetTimer::Greedy(Timer::Beacon));
    }

    /// The best neighbour toward `dst` at `dst_pos`, seen from `here`.
    fn choose(&self, dst: NodeId, here: Vec3, dst_pos: Vec3, now: u64) -> Option<NodeId> {
        if self.neighbors.get(&dst.0).is_some_and(|n| n.1 > now) {
            return Some(dst);
        }
        let mine = here.distance(dst_pos);
        let reach = self.p.max_hop_m.unwrap_or(f64::INFINITY);
        self.neighbors
            .iter()
            .filter(|(_, n)| n.1 > now && n.0.distance(here) <= reach)
            .map(|(&id, n)| (n.0.distance(dst_pos), id))
            .filter(|&(d, _)| d < mine)
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
            .map(|(_, id)| NodeId(id))
    }

    pub(crate) fn next_hop(
        &self,
        dst: NodeId,
        now: SimTime,
        positions: &[Position],
    ) -> Option<NodeId> {
        let here = positions.get(self.me.0 as usize)?.xyz;
        let there = positions.get(dst.0 as usize)?.xyz;
        self.choose(dst, here, there, now.as_nanos())
    }

    pub(crate) fn summary(&self, now: SimTime) -> RoutingState {
        let t = now.as_nanos();
        let neighbors: Vec<NodeId> = self
            .neighbors
            .iter()
            .filter(|(_, n)| n.1 > t)
            .map(|(&id, _)| NodeId(id))
            .collect();
        RoutingState {
            protocol: Protocol::Greedy,
            routes: neighbors.len(),
            neighbors,
            pending: Vec::new(),
            buffered: 0,
        }
    }

    pub(crate) fn timer(&mut self, cx: &mut NetCx<'_>, t: Timer) {
        match t {
            Timer::Beacon => {
                let pos = (cx.positions)(self.me).xyz;
                let pkt = Packet {
                    uid: cx.next_uid(),
                    src: self.me,
                    dst: BROADCAST,
                    ttl: 1,
                    hops: 0,
                    bytes: IP_UDP_HEADER + BEACON_BYTES,
                    created: cx.now,
                    body: Body::Beacon {
                        pos: pos.to_array(),
                    },
                };
                cx.send(pkt, BROADCAST);
                let i = self.p.beacon_interval.as_nanos();
                let next = i - i / 10 + self.rng.below(i / 5 + 1);
                cx.timer_in(next, NetTimer::Greedy(Timer::Beacon));
                let now = cx.ns();
                self.neighbors.retain(|_, n| n.1 > now);
            }
        }
    }

    /// Routes a packet (from the application or in transit).
    pub(crate) fn route_out(&mut self, cx: &mut NetCx<'_>, pkt: Packet) {
        let here = (cx.positions)(self.me).xyz;
        let there = (cx.positions)(pkt.dst).xyz;
        match self.choose(pkt.dst, here, there, cx.ns()) {
            Some(next) => cx.send(pkt, next),
            None => cx.drop_pkt(pkt, NetDrop::NoRoute),
        }
    }

    pub(crate) fn receive(&mut self, cx: &mut NetCx<'_>, mut pkt: Packet, from: NodeId) {
        match pkt.body {
            Body::Beacon { pos } => {
                let until = cx.ns() + self.p.neighbor_timeout.as_nanos();
                self.neighbors.insert(from.0, (Vec3::from(pos), until));
            }
            _ if pkt.dst == self.me => cx.deliver(pkt),
            _ if pkt.ttl <= 1 => cx.drop_pkt(pkt, NetDrop::TtlExpired),
            _ => {
                pkt.ttl -= 1;
                pkt.hops += 1;
                self.route_out(cx, pkt);
            }
        }
    }

    /// The MAC could not reach `next_hop`: forget it and try once more.
    pub(crate) fn link_failed(&mut self, cx: &mut NetCx<'_>, pkt: Packet, next_hop: NodeId) {
        let known = self.neighbors.remove(&next_hop.0).is_some();
        if known {
            self.route_out(cx, pkt);
        } else {
            cx.drop_pkt(pkt, NetDrop::LinkBreak);
        }
    }
}

#[cfg(test)]
mod tests;
