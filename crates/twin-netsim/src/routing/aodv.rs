//! AODV: Ad hoc On-Demand Distance Vector routing (RFC 3561).
//!
//! Implemented: route discovery with RREQ flooding and an expanding ring
//! search (§6.4), duplicate RREQ suppression (§6.5), replies by the
//! destination and by intermediate nodes with fresh enough routes, with
//! gratuitous RREP (§6.6), forward and reverse route set-up with precursor
//! lists (§6.2, §6.7), route lifetimes and deletion (§6.11), HELLO
//! messages for neighbour connectivity (§6.9), link-layer feedback,
//! RERR propagation to precursors (§6.11), RREQ and RERR rate limits (§10)
//! and, optionally, RREP-ACK (§6.7). Not implemented: local repair and the
//! blacklist of unidirectional links (ns-3 never arms its RREP-ACK timer
//! either).
//!
//! Each node's routing table entry is a small state machine
//! ([`RouteState`]): `Valid` → (timeout, RERR, link break) → `Invalid` →
//! (`delete_period`) → removed, and back to `Valid` on fresher information.
//!
//! | parameter | default | RFC 3561 §10 / ns-3 |
//! |---|---|---|
//! | `hello_interval` | 1 s | HELLO_INTERVAL |
//! | `allowed_hello_loss` | 2 | ALLOWED_HELLO_LOSS |
//! | `active_route_timeout` | 3 s | ACTIVE_ROUTE_TIMEOUT |
//! | `node_traversal_time` | 40 ms | NODE_TRAVERSAL_TIME |
//! | `net_diameter` | 35 | NET_DIAMETER |
//! | `rreq_retries` | 2 | RREQ_RETRIES |
//! | `ttl_start`, `ttl_increment`, `ttl_threshold` | 1, 2, 7 | TTL_START, TTL_INCREMENT, TTL_THRESHOLD |
//! | `timeout_buffer` | 2 | TIMEOUT_BUFFER |
//! | `my_route_timeout` | 2 × max(PATH_DISCOVERY_TIME, ACTIVE_ROUTE_TIMEOUT) = 11.2 s | ns-3 `MyRouteTimeout` |
//! | `delete_period` | 5 × max(ACTIVE_ROUTE_TIMEOUT, HELLO_INTERVAL) = 15 s | DELETE_PERIOD |
//! | `buffer_size`, `buffer_timeout` | 64, 30 s | ns-3 `MaxQueueLen`, `MaxQueueTime` |
//! | `broadcast_jitter` | 10 ms | ns-3 jitter of RREQ/RERR/HELLO |
//! | `rreq_rate_limit`, `rerr_rate_limit` | 10/s | RREQ_RATELIMIT, RERR_RATELIMIT |
//!
//! The HELLO timer (§6.9) fires every HELLO_INTERVAL `I`. With
//! `hello_after_last_rreq` (ns-3) a node that broadcast an RREQ at `t_r`
//! since the last expiry skips its HELLO and re-arms at `t_r + I`, so the
//! gap between a node's consecutive RREQ/HELLO broadcasts is at most `I`
//! (plus the 0–10 ms send jitter); otherwise the timer runs with period
//! `I ± 5 %` and a HELLO is sent when nothing was broadcast in the last
//! `I`, which leaves gaps of up to `2 I` after a broadcast.
//!
//! A frame the MAC gives up on breaks the link to its next hop (§6.11),
//! or, with `tx_error_needs_neighbor`, only if that next hop is in the
//! neighbour table with a known MAC address, as in ns-3 (module `txerr`).
//!
//! An RREP carries an IP TTL that each forwarding hop decrements; one that
//! arrives with TTL < 2 is not forwarded, so an RREP caught in a routing
//! loop dies. Its replier sets TTL = `net_diameter`, or (ns-3's
//! `SendReply`, `rrep_ttl_from_hops`) the replier's hop count to the
//! RREP's originator.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::Serialize;
use twin_core::{NodeId, SimDuration, SimTime};
use twin_des::{EventId, Rng};

pub use self::{
    msg::{AodvMsg, Rrep, Rreq},
    params::AodvParams,
};
use super::{seq_newer, NetCx, NetDrop, NetTimer, RoutingState};
use crate::{
    packet::{Body, Packet, BROADCAST, IP_UDP_HEADER},
    scenario::Protocol,
};

mod control;
mod msg;
mod params;
mod txerr;

pub use self::txerr::TxErrorCounters;

/// Timers of an AODV node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timer {
    /// Periodic HELLO and housekeeping.
    Hello,
    /// No RREP for the discovery of this destination in time.
    RreqTimeout(u32),
    /// An RREQ held back by the rate limit may now be sent.
    RreqSend(u32),
}

/// State of a routing table entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RouteState {
    /// Usable until `expires`.
    Valid,
    /// Broken or expired; kept until `expires` for its sequence number.
    Invalid,
}

/// A routing table entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Next hop toward the destination.
    pub next_hop: NodeId,
    /// Hops to the destination.
    pub hops: u8,
    /// Destination sequence number.
    pub seq: u32,
    /// Whether `seq` is known.
    pub valid_seq: bool,
    /// Entry state.
    pub state: RouteState,
    /// Expiry (valid) or deletion (invalid) time \[ns\].
    pub expires: u64,
    /// Neighbours that route through us to this destination.
    pub precursors: Vec<NodeId>,
}

/// Message counters of one AODV node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AodvCounters {
    /// RREQs originated (each ring and retry counts).
    pub rreq_originated: u64,
    /// RREQs rebroadcast for others.
    pub rreq_forwarded: u64,
    /// RREPs generated (as destination or intermediate node).
    pub rrep_generated: u64,
    /// RREPs forwarded toward an originator.
    pub rrep_forwarded: u64,
    /// RERRs sent.
    pub rerr_sent: u64,
    /// RERRs received.
    pub rerr_received: u64,
    /// HELLOs sent.
    pub hello_sent: u64,
    /// Links declared broken (MAC feedback or lost HELLOs).
    pub link_breaks: u64,
    /// Discoveries abandoned after all retries.
    pub discoveries_failed: u64,
    /// RREP-ACKs sent.
    pub rrep_ack_sent: u64,
    /// RREQs delayed to the next second by the rate limit.
    pub rreq_deferred: u64,
    /// RERRs not sent because of the rate limit.
    pub rerr_suppressed: u64,
    /// Control messages held for a route to their next hop.
    pub control_held: u64,
    /// Link breaks reported by the MAC (the rest of `link_breaks` are
    /// neighbours whose table entry expired).
    pub link_breaks_mac: u64,
    /// RREPs not forwarded because their TTL ran out (routing loops).
    pub rrep_ttl_expired: u64,
    /// MAC failures as AODV saw them (diagnostics of `tx_error_needs_neighbor`).
    #[serde(flatten)]
    pub tx: TxErrorCounters,
}

/// An ongoing route discovery.
#[derive(Debug, Clone, Copy)]
struct Discovery {
    /// TTL of the last RREQ.
    ttl: u8,
    /// Retries at the network diameter so far.
    retries: u32,
    /// The pending RREQ timeout.
    timer: EventId,
}

/// One node's AODV process.
#[derive(Debug)]
pub struct Aodv {
    /// This node.
    me: NodeId,
    /// Parameters.
    p: AodvParams,
    /// NET_TRAVERSAL_TIME \[ns\].
    net_traversal: u64,
    /// PATH_DISCOVERY_TIME \[ns\].
    path_discovery: u64,
    /// MY_ROUTE_TIMEOUT \[ns\].
    my_route_timeout: u64,
    /// DELETE_PERIOD \[ns\].
    delete_period: u64,
    /// ACTIVE_ROUTE_TIMEOUT \[ns\].
    art: u64,
    /// Own sequence number.
    seq: u32,
    /// Last RREQ id used.
    rreq_id: u32,
    /// Routing table by destination.
    routes: BTreeMap<u32, Route>,
    /// (originator, RREQ id) seen, with expiry.
    seen: BTreeMap<(u32, u32), u64>,
    /// Route discoveries in progress, by destination.
    discovery: BTreeMap<u32, Discovery>,
    /// Packets waiting for a route: (packet, arrival time, the destination
    /// whose route it waits for: its own for data, the next hop for
    /// control messages held by `control_needs_route`).
    buffer: VecDeque<(Packet, u64, u32)>,
    /// HELLO neighbours and when they expire.
    neighbors: BTreeMap<u32, u64>,
    /// Neighbours whose MAC address was learned (`tx_error_needs_neighbor`).
    neighbor_mac: BTreeSet<u32>,
    /// Per next hop: last MAC failure and start of its episode \[ns\].
    tx_episodes: BTreeMap<u32, (u64, u64)>,
    /// Time of our last broadcast (HELLOs are skipped after one).
    last_bcast: u64,
    /// Time of the last RREQ broadcast since the HELLO timer last expired.
    rreq_since_hello: Option<u64>,
    /// Rate-limit windows: (second, messages sent in it) for RREQ and RERR.
    rreq_window: (u64, u32),
    rerr_window: (u64, u32),
    /// Jitter stream.
    rng: Rng,
    /// Message counters.
    counters: AodvCounters,
}

impl Aodv {
    pub(crate) fn new(me: NodeId, p: &AodvParams, rng: Rng) -> Aodv {
        let ntt = p.node_traversal_time.as_nanos();
        let net_traversal = 2 * ntt * u64::from(p.net_diameter);
        let path_discovery = 2 * net_traversal;
        let art = p.active_route_timeout.as_nanos();
        let hello = p.hello_interval.as_nanos();
        Aodv {
            me,
            net_traversal,
            path_discovery,
            my_route_timeout: p
                .my_route_timeout
                .map_or(2 * path_discovery.max(art), SimDuration::as_nanos),
            delete_period: p
                .delete_period
                .map_or(5 * art.max(hello), SimDuration::as_nanos),
            art,
            p: p.clone(),
            seq: 0,
            rreq_id: 0,
            routes: BTreeMap::new(),
            seen: BTreeMap::new(),
            discovery: BTreeMap::new(),
            buffer: VecDeque::new(),
            neighbors: BTreeMap::new(),
            neighbor_mac: BTreeSet::new(),
            tx_episodes: BTreeMap::new(),
            last_bcast: 0,
            rreq_since_hello: None,
            rreq_window: (0, 0),
            rerr_window: (0, 0),
            rng,
            counters: AodvCounters::default(),
        }
    }

    pub(crate) fn start(&mut self, cx: &mut NetCx<'_>) {
        // First HELLO at a random point of the start window (whole jitter
        // steps if broadcasts are stepped, as ns-3's integer milliseconds).
        let window = self
            .p
            .hello_start
            .unwrap_or(self.p.hello_interval)
            .as_nanos()
            .max(1);
        let step = self
            .p
            .broadcast_jitter_step
            .map_or(0, SimDuration::as_nanos);
        let first = if step > 0 && self.p.hello_start.is_some() {
            step * self.rng.below(window / step + 1)
        } else {
            self.rng.below(window)
        };
        cx.timer_in(first, NetTimer::Aodv(Timer::Hello));
    }

    /// The route table (for tests and observers).
    pub fn routes(&self) -> &BTreeMap<u32, Route> {
        &self.routes
    }

    /// Message counters.
    pub fn counters(&self) -> AodvCounters {
        self.counters
    }

    /// The node's own sequence number.
    pub fn own_seq(&self) -> u32 {
        self.seq
    }

    pub(crate) fn next_hop(&self, dst: NodeId, now: SimTime) -> Option<NodeId> {
        self.routes
            .get(&dst.0)
            .filter(|r| r.state == RouteState::Valid && r.expires > now.as_nanos())
            .map(|r| r.next_hop)
    }

    pub(crate) fn summary(&self, now: SimTime) -> RoutingState {
        let t = now.as_nanos();
        RoutingState {
            protocol: Protocol::Aodv,
            routes: self
                .routes
                .values()
                .filter(|r| r.state == RouteState::Valid && r.expires > t)
                .count(),
            neighbors: self
                .neighbors
                .iter()
                .filter(|(_, &e)| e > t)
                .map(|(&n, _)| NodeId(n))
                .collect(),
            pending: self.discovery.keys().map(|&d| NodeId(d)).collect(),
            buffered: self.buffer.len(),
        }
    }

    /// A valid, unexpired route to `dst`; expired ones turn invalid here.
    fn valid_route(&mut self, dst: u32, now: u64) -> Option<&mut Route> {
        let delete = self.delete_period;
        let r = self.routes.get_mut(&dst)?;
        if r.state == RouteState::Valid && r.expires <= now {
            r.state = RouteState::Invalid;
            r.expires = now + delete;
        }
        (r.state == RouteState::Valid).then_some(r)
    }

    /// Extends a valid route's lifetime to at least `now + art`.
    fn refresh(&mut self, dst: u32, now: u64) {
        let art = self.art;
        if let Some(r) = self.valid_route(dst, now) {
            r.expires = r.expires.max(now + art);
        }
    }

    /// A control packet carrying `msg` from this node.
    fn control(&self, cx: &mut NetCx<'_>, dst: NodeId, ttl: u8, msg: AodvMsg) -> Packet {
        Packet {
            uid: cx.next_uid(),
            src: self.me,
            dst,
            ttl,
            hops: 0,
            bytes: IP_UDP_HEADER + msg.size(),
            created: cx.now,
            body: Body::Aodv(msg),
        }
    }

    /// Broadcasts `msg` after the broadcast jitter.
    fn broadcast(&mut self, cx: &mut NetCx<'_>, ttl: u8, msg: AodvMsg) {
        let pkt = self.control(cx, BROADCAST, ttl, msg);
        self.last_bcast = cx.ns();
        let step = self
            .p
            .broadcast_jitter_step
            .map_or(0, SimDuration::as_nanos);
        cx.broadcast_jittered(pkt, self.p.broadcast_jitter.as_nanos(), step, &mut self.rng);
    }

    /// A data packet from the local application.
    pub(crate) fn send(&mut self, cx: &mut NetCx<'_>, pkt: Packet) {
        let now = cx.ns();
        let art = self.art;
        if let Some(r) = self.valid_route(pkt.dst.0, now) {
            r.expires = r.expires.max(now + art);
            let next = r.next_hop;
            self.refresh(next.0, now);
            cx.send(pkt, next);
            return;
        }
        let dst = pkt.dst.0;
        self.buffer_packet(cx, pkt, dst);
        self.discover(cx, dst);
    }

    /// Starts a route discovery for `dst` unless one is running (§6.3; the
    /// ring starts at the last known hop count + TTL_INCREMENT).
    fn discover(&mut self, cx: &mut NetCx<'_>, dst: u32) {
        if !self.discovery.contains_key(&dst) {
            let ttl = match self.routes.get(&dst) {
                Some(r) => r
                    .hops
                    .saturating_add(self.p.ttl_increment)
                    .min(self.p.net_diameter),
                None => self.p.ttl_start,
            };
            self.send_rreq(cx, dst, ttl, 0);
        }
    }

    /// Unicasts an AODV message to neighbour `next`. With
    /// `control_needs_route` (ns-3, whose AODV messages are UDP datagrams
    /// routed by AODV itself) a neighbour without a valid route entry is
    /// first looked for with an RREQ, the message waiting in the buffer.
    pub(super) fn send_control(&mut self, cx: &mut NetCx<'_>, pkt: Packet, next: NodeId) {
        let now = cx.ns();
        if !self.p.control_needs_route {
            cx.send(pkt, next);
        } else if let Some(r) = self.valid_route(next.0, now) {
            let hop = r.next_hop;
            cx.send(pkt, hop);
        } else {
            self.counters.control_held += 1;
            self.buffer_packet(cx, pkt, next.0);
            self.discover(cx, next.0);
        }
    }

    /// Queues a packet for a route; expired and overflowing ones are dropped.
    pub(crate) fn buffered(&self) -> impl Iterator<Item = &Packet> {
        self.buffer.iter().map(|(p, _, _)| p)
    }

    fn buffer_packet(&mut self, cx: &mut NetCx<'_>, pkt: Packet, wait_for: u32) {
        let now = cx.ns();
        let timeout = self.p.buffer_timeout.as_nanos();
        while let Some((_, since, _)) = self.buffer.front() {
            if now.saturating_sub(*since) <= timeout {
                break;
            }
            let (old, _, _) = self.buffer.pop_front().expect("front exists");
            cx.drop_pkt(old, NetDrop::BufferTimeout);
        }
        if self.buffer.len() >= self.p.buffer_size as usize {
            let (old, _, _) = self.buffer.pop_front().expect("buffer is full");
            cx.drop_pkt(old, NetDrop::BufferFull);
        }
        self.buffer.push_back((pkt, now, wait_for));
    }

    /// Counts a message against a per-second rate limit; false if the
    /// window's budget is spent (`limit` 0: unlimited).
    fn rate_ok(window: &mut (u64, u32), now: u64, limit: u32) -> bool {
        let second = now / 1_000_000_000;
        if window.0 != second {
            *window = (second, 0);
        }
        if limit > 0 && window.1 >= limit {
            return false;
        }
        window.1 += 1;
        true
    }

    /// Originates an RREQ for `dst` with `ttl` (§6.3) and arms its timer;
    /// over the rate limit it waits for the next second (as ns-3, 100 µs in).
    fn send_rreq(&mut self, cx: &mut NetCx<'_>, dst: u32, ttl: u8, retries: u32) {
        let now = cx.ns();
        if !Self::rate_ok(&mut self.rreq_window, now, self.p.rreq_rate_limit) {
            self.counters.rreq_deferred += 1;
            let next = (now / 1_000_000_000 + 1) * 1_000_000_000 + 100_000;
            let timer = cx.timer_in(next - now, NetTimer::Aodv(Timer::RreqSend(dst)));
            self.discovery.insert(
                dst,
                Discovery {
                    ttl,
                    retries,
                    timer,
                },
            );
            return;
        }
        self.rreq_since_hello = Some(now);
        self.seq = self.seq.wrapping_add(1);
        self.rreq_id = self.rreq_id.wrapping_add(1);
        let (dst_seq, unknown_seq) = self
            .routes
            .get(&dst)
            .map_or((0, true), |r| (r.seq, !r.valid_seq));
        self.seen
            .insert((self.me.0, self.rreq_id), now + self.path_discovery);
        let rreq = Rreq {
            id: self.rreq_id,
            hop_count: 0,
            dst: NodeId(dst),
            dst_seq,
            unknown_seq,
            origin: self.me,
            origin_seq: self.seq,
            gratuitous: self.p.gratuitous_reply,
            dest_only: self.p.destination_only,
        };
        self.counters.rreq_originated += 1;
        self.broadcast(cx, ttl, AodvMsg::Rreq(rreq));
        let wait = if ttl < self.p.net_diameter {
            // RING_TRAVERSAL_TIME (§6.4).
            2 * self.p.node_traversal_time.as_nanos()
                * (u64::from(ttl) + u64::from(self.p.timeout_buffer))
        } else {
            // Binary exponential back-off of retries (§6.3).
            self.net_traversal << retries.min(16)
        };
        let timer = cx.timer_in(wait, NetTimer::Aodv(Timer::RreqTimeout(dst)));
        self.discovery.insert(
            dst,
            Discovery {
                ttl,
                retries,
                timer,
            },
        );
    }

    /// §6.3/§6.4: widen the ring, retry at the diameter, or give up.
    fn rreq_timeout(&mut self, cx: &mut NetCx<'_>, dst: u32) {
        let Some(d) = self.discovery.remove(&dst) else {
            return;
        };
        if self.valid_route(dst, cx.ns()).is_some() {
            self.flush(cx, dst);
            return;
        }
        let (ttl, retries) = if d.ttl < self.p.net_diameter {
            let t = d.ttl.saturating_add(self.p.ttl_increment);
            (
                if t > self.p.ttl_threshold {
                    self.p.net_diameter
                } else {
                    t
                },
                0,
            )
        } else {
            (d.ttl, d.retries + 1)
        };
        if retries > self.p.rreq_retries {
            self.counters.discoveries_failed += 1;
            // Give up: drop everything waiting for this destination.
            let (drop, keep): (Vec<_>, Vec<_>) =
                self.buffer.drain(..).partition(|(_, _, w)| *w == dst);
            self.buffer = keep.into();
            for (p, _, _) in drop {
                cx.drop_pkt(p, NetDrop::DiscoveryFailed);
            }
            return;
        }
        self.send_rreq(cx, dst, ttl, retries);
    }

    /// Sends every buffered packet for `dst` on its new route.
    fn flush(&mut self, cx: &mut NetCx<'_>, dst: u32) {
        let now = cx.ns();
        let Some(next) = self.valid_route(dst, now).map(|r| r.next_hop) else {
            return;
        };
        let timeout = self.p.buffer_timeout.as_nanos();
        let mut keep = VecDeque::with_capacity(self.buffer.len());
        for (p, since, w) in self.buffer.drain(..) {
            if w != dst {
                keep.push_back((p, since, w));
            } else if now.saturating_sub(since) > timeout {
                cx.drop_pkt(p, NetDrop::BufferTimeout);
            } else {
                cx.send(p, next);
            }
        }
        self.buffer = keep;
    }

    /// Creates or refreshes the one-hop route to a neighbour we heard.
    fn touch_neighbor(&mut self, from: NodeId, now: u64, lifetime: u64, seq: Option<u32>) {
        if seq.is_none() && self.p.only_hello_revalidates_neighbors {
            match self.routes.get_mut(&from.0) {
                // ns-3 (`UpdateRouteToNeighbor`): an entry with a valid
                // sequence number and one hop is left exactly as it is,
                // valid or not; any other entry is replaced by a fresh
                // one-hop route without sequence number.
                Some(r) if r.valid_seq && r.hops == 1 => return,
                Some(r) => {
                    let expires = if r.state == RouteState::Valid {
                        r.expires.max(now + lifetime)
                    } else {
                        now + lifetime
                    };
                    *r = Route {
                        next_hop: from,
                        hops: 1,
                        seq: 0,
                        valid_seq: false,
                        state: RouteState::Valid,
                        expires,
                        precursors: std::mem::take(&mut r.precursors),
                    };
                    return;
                }
                None => {}
            }
        }
        let r = self.routes.entry(from.0).or_insert(Route {
            next_hop: from,
            hops: 1,
            seq: 0,
            valid_seq: false,
            state: RouteState::Invalid,
            expires: 0,
            precursors: Vec::new(),
        });
        if r.state == RouteState::Invalid || r.expires <= now {
            r.expires = now + lifetime;
        } else {
            r.expires = r.expires.max(now + lifetime);
        }
        r.state = RouteState::Valid;
        r.next_hop = from;
        r.hops = 1;
        if let Some(s) = seq {
            r.seq = s;
            r.valid_seq = true;
        }
    }

    /// A packet from neighbour `from`.
    pub(crate) fn receive(&mut self, cx: &mut NetCx<'_>, pkt: Packet, from: NodeId) {
        let now = cx.ns();
        let Body::Aodv(msg) = &pkt.body else {
            self.forward(cx, pkt, from);
            return;
        };
        let msg = msg.clone();
        match msg {
            AodvMsg::Hello { seq } => {
                let life = u64::from(self.p.allowed_hello_loss) * self.p.hello_interval.as_nanos();
                self.touch_neighbor(from, now, life, Some(seq));
                self.neighbors.insert(from.0, now + life);
                self.learn_mac(cx, from.0);
            }
            AodvMsg::Rreq(r) => {
                self.touch_neighbor(from, now, self.art, None);
                self.recv_rreq(cx, r, pkt.ttl, from);
            }
            AodvMsg::Rrep(r) => {
                self.touch_neighbor(from, now, self.art, None);
                self.recv_rrep(cx, r, pkt.ttl, from);
            }
            AodvMsg::Rerr(list) => {
                self.touch_neighbor(from, now, self.art, None);
                self.recv_rerr(cx, &list, from);
            }
            AodvMsg::RrepAck => {
                self.touch_neighbor(from, now, self.art, None);
                if self.p.only_hello_revalidates_neighbors {
                    // ns-3's `RecvReplyAck` marks the sender's entry valid.
                    if let Some(r) = self.routes.get_mut(&from.0) {
                        r.state = RouteState::Valid;
                    }
                }
            }
        }
    }

    /// §6.11 (i): the link to `next_hop` broke. Invalidates every route
    /// through it and reports those with precursors.
    fn link_break(&mut self, cx: &mut NetCx<'_>, next_hop: NodeId) {
        let now = cx.ns();
        self.counters.link_breaks += 1;
        self.neighbors.remove(&next_hop.0);
        self.neighbor_mac.remove(&next_hop.0);
        let mut lost = Vec::new();
        let mut precursors = Vec::new();
        for (&dst, r) in self.routes.iter_mut() {
            if r.state == RouteState::Valid && r.next_hop == next_hop {
                r.state = RouteState::Invalid;
                if r.valid_seq && self.p.increment_seq_on_break {
                    r.seq = r.seq.wrapping_add(1);
                }
                r.expires = now + self.delete_period;
                if !r.precursors.is_empty() {
                    lost.push((NodeId(dst), r.seq));
                    precursors.extend(r.precursors.iter().copied());
                }
            }
        }
        self.send_rerr(cx, lost, precursors);
    }

    /// Forwards (or delivers) a packet that is not AODV control (§6.2).
    fn forward(&mut self, cx: &mut NetCx<'_>, mut pkt: Packet, from: NodeId) {
        let now = cx.ns();
        if pkt.dst == self.me {
            self.refresh(pkt.src.0, now);
            self.refresh(from.0, now);
            self.keep_neighbor(cx, from.0, now);
            cx.deliver(pkt);
            return;
        }
        if pkt.ttl <= 1 {
            cx.drop_pkt(pkt, NetDrop::TtlExpired);
            return;
        }
        let dst = pkt.dst.0;
        let art = self.art;
        if let Some(r) = self.valid_route(dst, now) {
            r.expires = r.expires.max(now + art);
            let next = r.next_hop;
            self.refresh(pkt.src.0, now);
            self.refresh(from.0, now);
            self.refresh(next.0, now);
            self.keep_neighbor(cx, from.0, now);
            self.keep_neighbor(cx, next.0, now);
            pkt.ttl -= 1;
            pkt.hops += 1;
            cx.send(pkt, next);
            return;
        }
        // §6.11 (ii): no route for a packet in transit. The RERR goes
        // toward the packet's source if we have a route there (ns-3), else
        // it is broadcast.
        let seq = self.routes.get(&dst).map_or(0, |r| r.seq);
        let src = pkt.src.0;
        cx.drop_pkt(pkt, NetDrop::NoRoute);
        if !Self::rate_ok(&mut self.rerr_window, now, self.p.rerr_rate_limit) {
            self.counters.rerr_suppressed += 1;
            return;
        }
        self.counters.rerr_sent += 1;
        let msg = AodvMsg::Rerr(vec![(NodeId(dst), seq)].into());
        match self.valid_route(src, now).map(|r| r.next_hop) {
            Some(toward_src) => {
                let pkt = self.control(cx, toward_src, 1, msg);
                self.send_control(cx, pkt, toward_src);
            }
            None => self.broadcast(cx, 1, msg),
        }
    }

    pub(crate) fn timer(&mut self, cx: &mut NetCx<'_>, t: Timer) {
        match t {
            Timer::RreqTimeout(dst) => self.rreq_timeout(cx, dst),
            Timer::RreqSend(dst) => {
                if let Some(d) = self.discovery.remove(&dst) {
                    self.send_rreq(cx, dst, d.ttl, d.retries);
                }
            }
            Timer::Hello => {
                let now = cx.ns();
                let interval = self.p.hello_interval.as_nanos();
                let next = if self.p.hello_after_last_rreq {
                    // ns-3: skip after an RREQ, re-arm one interval after it.
                    match self.rreq_since_hello.take() {
                        Some(t) => interval.saturating_sub(now - t).max(1),
                        None => {
                            self.send_hello(cx);
                            interval
                        }
                    }
                } else {
                    if now.saturating_sub(self.last_bcast) >= interval {
                        self.send_hello(cx);
                    }
                    interval - interval / 20 + self.rng.below(interval / 10 + 1)
                };
                self.housekeeping(cx);
                cx.timer_in(next, NetTimer::Aodv(Timer::Hello));
            }
        }
    }

    /// Broadcasts a HELLO (if enabled).
    fn send_hello(&mut self, cx: &mut NetCx<'_>) {
        if self.p.hello {
            let msg = AodvMsg::Hello { seq: self.seq };
            self.counters.hello_sent += 1;
            self.broadcast(cx, 1, msg);
        }
    }

    /// With `data_refreshes_neighbors`, a data packet to or from `n` keeps
    /// it in the neighbour table for at least `active_route_timeout`.
    fn keep_neighbor(&mut self, cx: &NetCx<'_>, n: u32, now: u64) {
        if self.p.data_refreshes_neighbors && n != self.me.0 {
            let e = self.neighbors.entry(n).or_insert(0);
            *e = (*e).max(now + self.art);
            self.learn_mac(cx, n);
        }
    }

    /// Purges expired state; lost HELLO neighbours count as link breaks.
    fn housekeeping(&mut self, cx: &mut NetCx<'_>) {
        let now = cx.ns();
        let expired: Vec<u32> = self
            .neighbors
            .iter()
            .filter(|(_, &e)| e <= now)
            .map(|(&n, _)| n)
            .collect();
        for n in expired {
            self.link_break(cx, NodeId(n));
        }
        self.seen.retain(|_, e| *e > now);
        self.routes
            .retain(|_, r| r.state == RouteState::Valid || r.expires > now);
    }
}

#[cfg(test)]
mod tests;
