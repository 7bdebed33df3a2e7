//! OLSR: Optimized Link State Routing (RFC 3626), single interface.
//!
//! Implemented: HELLO link sensing and neighbour detection (§7.1.1, §8.1),
//! two-hop neighbourhood (§8.2), MPR selection by the heuristic of §8.3.1,
//! MPR selectors (§8.4.1), TC generation with ANSN (§9.3) and processing
//! (§9.5), duplicate set and MPR flooding (§3.4), the routing table of
//! §10, and message jitter with aggregation (§18.1: messages queued during
//! the jitter go out in one packet). Not implemented: multiple interfaces,
//! HNA, link hysteresis.
//!
//! | parameter | default | RFC 3626 §18 |
//! |---|---|---|
//! | `hello_interval` | 2 s | HELLO_INTERVAL |
//! | `tc_interval` | 5 s | TC_INTERVAL |
//! | `neighbor_hold` | 6 s | NEIGHB_HOLD_TIME = 3 × REFRESH_INTERVAL |
//! | `topology_hold` | 15 s | TOP_HOLD_TIME = 3 × TC_INTERVAL |
//! | `duplicate_hold` | 30 s | DUP_HOLD_TIME |
//! | `max_jitter` | 0.5 s | MAXJITTER = HELLO_INTERVAL / 4 |
//! | `willingness` | 3 | WILL_DEFAULT |

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use serde::{Deserialize, Serialize};
use twin_core::{NodeId, SimDuration, SimTime};
use twin_des::Rng;

use super::{seq16_newer, NetCx, NetDrop, NetTimer, RoutingState};
use crate::{
    packet::{Body, Packet, BROADCAST, IP_UDP_HEADER},
    scenario::{diag::Problem, ProblemKind, Protocol},
};

/// Willingness that never relays (§18.8).
const WILL_NEVER: u8 = 0;
/// Willingness that always relays (§18.8).
const WILL_ALWAYS: u8 = 7;

/// `[routing.olsr]` parameters (see the module table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OlsrParams {
    /// HELLO period.
    pub hello_interval: SimDuration,
    /// TC period.
    pub tc_interval: SimDuration,
    /// Validity of HELLO information.
    pub neighbor_hold: SimDuration,
    /// Validity of TC information.
    pub topology_hold: SimDuration,
    /// How long duplicates are remembered.
    pub duplicate_hold: SimDuration,
    /// Maximum jitter of generated and forwarded messages.
    pub max_jitter: SimDuration,
    /// Willingness to relay, 0 ..= 7.
    pub willingness: u8,
    /// Start every node's HELLO and TC timers at time zero (ns-3 does;
    /// messages then bunch up and share packets). Default: a random
    /// phase within each interval.
    pub synchronized_start: bool,
}

impl Default for OlsrParams {
    fn default() -> Self {
        OlsrParams {
            hello_interval: SimDuration::from_secs(2),
            tc_interval: SimDuration::from_secs(5),
            neighbor_hold: SimDuration::from_secs(6),
            topology_hold: SimDuration::from_secs(15),
            duplicate_hold: SimDuration::from_secs(30),
            max_jitter: SimDuration::from_millis(500),
            willingness: 3,
            synchronized_start: false,
        }
    }
}

impl OlsrParams {
    pub(crate) fn check(&self, prefix: &str, p: &mut Vec<Problem>) {
        for (name, v) in [
            ("hello_interval", self.hello_interval),
            ("tc_interval", self.tc_interval),
            ("neighbor_hold", self.neighbor_hold),
            ("topology_hold", self.topology_hold),
        ] {
            if v.is_zero() {
                p.push(Problem::new(
                    format!("{prefix}.{name}"),
                    ProblemKind::Range,
                    "must be > 0",
                ));
            }
        }
        if self.willingness > WILL_ALWAYS {
            p.push(Problem::new(
                format!("{prefix}.willingness"),
                ProblemKind::Range,
                format!("must be 0 ..= 7 (got {})", self.willingness),
            ));
        }
    }
}

/// Link type of a HELLO link code (§6.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LinkType {
    /// Heard, not confirmed.
    Asym,
    /// Bidirectional.
    Sym,
    /// Lost.
    Lost,
}

/// Neighbour type of a HELLO link code (§6.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NeighborType {
    /// Not a symmetric neighbour.
    Not,
    /// Symmetric neighbour.
    Sym,
    /// Symmetric neighbour chosen as MPR.
    Mpr,
}

/// Body of an OLSR message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OlsrBody {
    /// HELLO: willingness and the sender's links.
    Hello {
        /// Sender willingness.
        willingness: u8,
        /// (link type, neighbour type, neighbour).
        links: Vec<(LinkType, NeighborType, NodeId)>,
    },
    /// TC: advertised neighbour sequence number and the MPR selectors.
    Tc {
        /// ANSN.
        ansn: u16,
        /// Advertised neighbours.
        advertised: Vec<NodeId>,
    },
}

/// An OLSR message (§3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OlsrMsg {
    /// Originator.
    pub originator: NodeId,
    /// Remaining hops.
    pub ttl: u8,
    /// Hops travelled.
    pub hops: u8,
    /// Message sequence number.
    pub seq: u16,
    /// Validity time \[ns\].
    pub vtime: u64,
    /// Content.
    pub body: OlsrBody,
}

impl OlsrMsg {
    fn size(&self) -> u32 {
        12 + match &self.body {
            OlsrBody::Hello { links, .. } => {
                let groups: BTreeSet<_> = links.iter().map(|l| (l.0, l.1)).collect();
                4 + 4 * groups.len() as u32 + 4 * links.len() as u32
            }
            OlsrBody::Tc { advertised, .. } => 4 + 4 * advertised.len() as u32,
        }
    }
}

/// An OLSR packet: a header and one or more messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OlsrPacket {
    /// Packet sequence number.
    pub seq: u16,
    /// The messages.
    pub msgs: Vec<OlsrMsg>,
}

/// Timers of an OLSR node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timer {
    /// Generate a HELLO.
    Hello,
    /// Generate a TC.
    Tc,
    /// Send the queued messages.
    Flush,
}

/// A link tuple (§4.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Link {
    /// Symmetric until \[ns\] (L_SYM_time).
    sym_until: u64,
    /// Heard until \[ns\] (L_ASYM_time).
    asym_until: u64,
    /// Tuple expiry \[ns\] (L_time).
    until: u64,
}

/// One node's OLSR process.
#[derive(Debug)]
pub struct Olsr {
    /// This node.
    me: NodeId,
    /// Parameters.
    p: OlsrParams,
    /// Link set (§4.2.1), by neighbour.
    links: BTreeMap<u32, Link>,
    /// Advertised willingness of each neighbour.
    willingness: BTreeMap<u32, u8>,
    /// (neighbour, two-hop neighbour) → expiry.
    two_hop: BTreeMap<(u32, u32), u64>,
    /// The MPR set (§8.3), recomputed lazily.
    mpr: BTreeSet<u32>,
    /// MPR selector set (§8.4): neighbour → expiry.
    selectors: BTreeMap<u32, u64>,
    /// (last hop, destination) → (ANSN, expiry): keyed by the TC's
    /// originator first so that its tuples form one range.
    topology: BTreeMap<(u32, u32), (u16, u64)>,
    /// (originator, seq) → (expiry, retransmitted).
    dup: BTreeMap<(u32, u16), (u64, bool)>,
    /// destination → (next hop, distance).
    table: BTreeMap<u32, (u32, u32)>,
    /// Whether a tuple changed since the last recomputation.
    dirty: bool,
    /// Earliest expiry of any tuple the table depends on.
    next_expiry: u64,
    /// Symmetric neighbours at the last full recomputation.
    last_sym: BTreeSet<u32>,
    /// Advertised neighbour sequence number of our TCs.
    ansn: u16,
    /// Selector set of the last TC (ANSN changes with it).
    last_selectors: BTreeSet<u32>,
    /// Last message sequence number used.
    msg_seq: u16,
    /// Last packet sequence number used.
    pkt_seq: u16,
    /// Messages waiting for the jittered flush.
    queue: Vec<OlsrMsg>,
    /// Whether a flush timer is armed.
    flush_pending: bool,
    /// Jitter stream.
    rng: Rng,
    /// Message counters.
    counters: OlsrCounters,
}

/// Message counters of one OLSR node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OlsrCounters {
    /// HELLOs generated.
    pub hello_sent: u64,
    /// TCs generated.
    pub tc_originated: u64,
    /// TCs retransmitted for others (MPR flooding).
    pub tc_forwarded: u64,
    /// Packets sent (each carries one or more messages).
    pub packets_sent: u64,
}

impl Olsr {
    /// Message counters.
    pub fn counters(&self) -> OlsrCounters {
        self.counters
    }

    pub(crate) fn new(me: NodeId, p: &OlsrParams, rng: Rng) -> Olsr {
        Olsr {
            me,
            p: p.clone(),
            links: BTreeMap::new(),
            willingness: BTreeMap::new(),
            two_hop: BTreeMap::new(),
            mpr: BTreeSet::new(),
            selectors: BTreeMap::new(),
            topology: BTreeMap::new(),
            dup: BTreeMap::new(),
            table: BTreeMap::new(),
            dirty: true,
            next_expiry: 0,
            last_sym: BTreeSet::new(),
            ansn: 0,
            last_selectors: BTreeSet::new(),
            msg_seq: 0,
            pkt_seq: 0,
            queue: Vec::new(),
            flush_pending: false,
            rng,
            counters: OlsrCounters::default(),
        }
    }

    pub(crate) fn start(&mut self, cx: &mut NetCx<'_>) {
        let (h, t) = if self.p.synchronized_start {
            (0, 0)
        } else {
            (
                self.rng.below(self.p.hello_interval.as_nanos().max(1)),
                self.rng.below(self.p.tc_interval.as_nanos().max(1)),
            )
        };
        cx.timer_in(h, NetTimer::Olsr(Timer::Hello));
        cx.timer_in(t, NetTimer::Olsr(Timer::Tc));
    }

    /// The current MPR set.
    pub fn mpr_set(&self) -> Vec<NodeId> {
        self.mpr.iter().map(|&n| NodeId(n)).collect()
    }

    /// The current MPR selectors.
    pub fn mpr_selectors(&self, now: SimTime) -> Vec<NodeId> {
        let t = now.as_nanos();
        self.selectors
            .iter()
            .filter(|(_, &e)| e > t)
            .map(|(&n, _)| NodeId(n))
            .collect()
    }

    /// The routing table: destination → (next hop, hops).
    pub fn table(&self) -> Vec<(NodeId, NodeId, u32)> {
        self.table
            .iter()
            .map(|(&d, &(n, h))| (NodeId(d), NodeId(n), h))
            .collect()
    }

    /// Whether the link to `n` is symmetric at `now`.
    fn sym(&self, n: u32, now: u64) -> bool {
        self.links.get(&n).is_some_and(|l| l.sym_until > now)
    }

    pub(crate) fn next_hop(&self, dst: NodeId) -> Option<NodeId> {
        self.table.get(&dst.0).map(|&(n, _)| NodeId(n))
    }

    pub(crate) fn summary(&self, now: SimTime) -> RoutingState {
        let t = now.as_nanos();
        RoutingState {
            protocol: Protocol::Olsr,
            routes: self.table.len(),
            neighbors: self
                .links
                .iter()
                .filter(|(_, l)| l.sym_until > t)
                .map(|(&n, _)| NodeId(n))
                .collect(),
            pending: self.mpr_set(),
            buffered: 0,
        }
    }

    /// A new message originated here, with the next sequence number.
    fn new_msg(&mut self, ttl: u8, vtime: u64, body: OlsrBody) -> OlsrMsg {
        self.msg_seq = self.msg_seq.wrapping_add(1);
        OlsrMsg {
            originator: self.me,
            ttl,
            hops: 0,
            seq: self.msg_seq,
            vtime,
            body,
        }
    }

    /// Queues a message; the queue goes out after a random jitter.
    fn queue(&mut self, cx: &mut NetCx<'_>, msg: OlsrMsg) {
        self.queue.push(msg);
        if !self.flush_pending {
            self.flush_pending = true;
            let j = self.rng.below(self.p.max_jitter.as_nanos().max(1));
            cx.timer_in(j, NetTimer::Olsr(Timer::Flush));
        }
    }

    /// Sends every queued message in one packet.
    fn flush(&mut self, cx: &mut NetCx<'_>) {
        self.flush_pending = false;
        if self.queue.is_empty() {
            return;
        }
        self.counters.packets_sent += 1;
        let msgs = std::mem::take(&mut self.queue);
        self.pkt_seq = self.pkt_seq.wrapping_add(1);
        let bytes = IP_UDP_HEADER + 4 + msgs.iter().map(OlsrMsg::size).sum::<u32>();
        let pkt = Packet {
            uid: cx.next_uid(),
            src: self.me,
            dst: BROADCAST,
            ttl: 1,
            hops: 0,
            bytes,
            created: cx.now,
            body: Body::Olsr(Arc::new(OlsrPacket {
                seq: self.pkt_seq,
                msgs,
            })),
        };
        cx.send(pkt, BROADCAST);
    }

    /// Builds a HELLO listing every link with its link and neighbour type (§6.2).
    fn hello(&mut self, cx: &mut NetCx<'_>) {
        let now = cx.ns();
        self.recompute(now);
        let links = self
            .links
            .iter()
            .map(|(&n, l)| {
                let lt = if l.sym_until > now {
                    LinkType::Sym
                } else if l.asym_until > now {
                    LinkType::Asym
                } else {
                    LinkType::Lost
                };
                let nt = if self.mpr.contains(&n) {
                    NeighborType::Mpr
                } else if l.sym_until > now {
                    NeighborType::Sym
                } else {
                    NeighborType::Not
                };
                (lt, nt, NodeId(n))
            })
            .collect();
        let body = OlsrBody::Hello {
            willingness: self.p.willingness,
            links,
        };
        let msg = self.new_msg(1, self.p.neighbor_hold.as_nanos(), body);
        self.counters.hello_sent += 1;
        self.queue(cx, msg);
    }

    /// Builds a TC advertising the MPR selectors (§9.2); bumps the ANSN
    /// when they changed.
    fn tc(&mut self, cx: &mut NetCx<'_>) {
        let now = cx.ns();
        self.recompute(now);
        let sel: BTreeSet<u32> = self.selectors.keys().copied().collect();
        if sel != self.last_selectors {
            self.ansn = self.ansn.wrapping_add(1);
            self.last_selectors = sel.clone();
        }
        if sel.is_empty() {
            return;
        }
        let body = OlsrBody::Tc {
            ansn: self.ansn,
            advertised: sel.into_iter().map(NodeId).collect(),
        };
        let msg = self.new_msg(255, self.p.topology_hold.as_nanos(), body);
        self.counters.tc_originated += 1;
        self.queue(cx, msg);
    }

    pub(crate) fn timer(&mut self, cx: &mut NetCx<'_>, t: Timer) {
        match t {
            Timer::Hello => {
                let now = cx.ns();
                self.dup.retain(|_, (e, _)| *e > now);
                self.hello(cx);
                cx.timer_in(
                    self.p.hello_interval.as_nanos(),
                    NetTimer::Olsr(Timer::Hello),
                );
            }
            Timer::Tc => {
                self.tc(cx);
                cx.timer_in(self.p.tc_interval.as_nanos(), NetTimer::Olsr(Timer::Tc));
            }
            Timer::Flush => self.flush(cx),
        }
    }

    /// Link sensing and neighbourhood processing of a HELLO (§7.1.1, §8).
    fn on_hello(
        &mut self,
        now: u64,
        from: u32,
        vtime: u64,
        willingness: u8,
        links: &[(LinkType, NeighborType, NodeId)],
    ) {
        let hold = self.p.neighbor_hold.as_nanos();
        // Only structural changes require new MPRs and routes; refreshed
        // expiry times are picked up by `next_expiry`.
        let was_sym = self.sym(from, now);
        let mut changed = !self.links.contains_key(&from);
        let l = self.links.entry(from).or_insert(Link {
            sym_until: 0,
            asym_until: 0,
            until: now + vtime,
        });
        l.asym_until = now + vtime;
        if let Some(&(lt, _, _)) = links.iter().find(|x| x.2 == self.me) {
            if lt == LinkType::Lost {
                l.sym_until = 0;
            } else {
                l.sym_until = now + vtime;
                l.until = l.sym_until + hold;
            }
        }
        l.until = l.until.max(l.asym_until);
        let sym = l.sym_until > now;
        changed |= sym != was_sym;
        changed |= self.willingness.insert(from, willingness) != Some(willingness);
        if sym {
            for &(_, nt, addr) in links {
                if addr == self.me {
                    if nt == NeighborType::Mpr {
                        self.selectors.insert(from, now + vtime);
                    }
                    continue;
                }
                match nt {
                    NeighborType::Sym | NeighborType::Mpr => {
                        changed |= self.two_hop.insert((from, addr.0), now + vtime).is_none();
                    }
                    NeighborType::Not => {
                        changed |= self.two_hop.remove(&(from, addr.0)).is_some();
                    }
                }
            }
        }
        self.dirty |= changed;
        // Everything set here lives at least until now + vtime.
        self.next_expiry = self.next_expiry.min(now + vtime);
    }

    /// Topology processing of a TC (§9.5).
    fn on_tc(&mut self, now: u64, from: u32, m: &OlsrMsg, ansn: u16, adv: &[NodeId]) {
        if !self.sym(from, now) {
            return;
        }
        let orig = m.originator.0;
        let range = (orig, 0)..=(orig, u32::MAX);
        let newer_exists = self
            .topology
            .range(range.clone())
            .any(|(_, &(a, e))| e > now && seq16_newer(a, ansn));
        if newer_exists {
            return;
        }
        let stale: Vec<(u32, u32)> = self
            .topology
            .range(range)
            .filter(|(_, (a, _))| seq16_newer(ansn, *a))
            .map(|(&k, _)| k)
            .collect();
        let mut changed = !stale.is_empty();
        for k in stale {
            self.topology.remove(&k);
        }
        for d in adv {
            changed |= self
                .topology
                .insert((orig, d.0), (ansn, now + m.vtime))
                .is_none();
        }
        self.dirty |= changed;
        self.next_expiry = self.next_expiry.min(now + m.vtime);
    }

    /// A packet from neighbour `from`.
    pub(crate) fn receive(&mut self, cx: &mut NetCx<'_>, pkt: Packet, from: NodeId) {
        let now = cx.ns();
        let Body::Olsr(op) = &pkt.body else {
            self.forward(cx, pkt);
            return;
        };
        let op = Arc::clone(op);
        let hold = self.p.duplicate_hold.as_nanos();
        for m in &op.msgs {
            if m.originator == self.me || m.ttl == 0 {
                continue;
            }
            let (ansn, advertised) = match &m.body {
                OlsrBody::Hello { willingness, links } => {
                    // One hop, never forwarded: no duplicate bookkeeping.
                    self.on_hello(now, from.0, m.vtime, *willingness, links);
                    continue;
                }
                OlsrBody::Tc { ansn, advertised } => (*ansn, advertised),
            };
            let key = (m.originator.0, m.seq);
            let seen = self.dup.get(&key).copied();
            if seen.is_none() {
                self.on_tc(now, from.0, m, ansn, advertised);
            }
            // Default forwarding algorithm (§3.4.1): a message from a node
            // that is not a symmetric neighbour is ignored (no duplicate
            // tuple); one already considered for forwarding on this, the
            // only, interface is never retransmitted, even if the first copy
            // came from a node that had not selected us as MPR.
            if seen.is_some() || !self.sym(from.0, now) {
                continue;
            }
            let relay = self.selectors.get(&from.0).is_some_and(|&e| e > now) && m.ttl > 1;
            if relay {
                let fwd = OlsrMsg {
                    ttl: m.ttl - 1,
                    hops: m.hops + 1,
                    ..m.clone()
                };
                self.counters.tc_forwarded += 1;
                self.queue(cx, fwd);
            }
            self.dup.insert(key, (now + hold, relay));
        }
    }

    /// Routes a packet from the local application.
    pub(crate) fn route_out(&mut self, cx: &mut NetCx<'_>, pkt: Packet) {
        self.recompute(cx.ns());
        match self.table.get(&pkt.dst.0) {
            Some(&(next, _)) => cx.send(pkt, NodeId(next)),
            None => cx.drop_pkt(pkt, NetDrop::NoRoute),
        }
    }

    /// Forwards (or delivers) a data packet.
    fn forward(&mut self, cx: &mut NetCx<'_>, mut pkt: Packet) {
        if pkt.dst == self.me {
            cx.deliver(pkt);
            return;
        }
        if pkt.ttl <= 1 {
            cx.drop_pkt(pkt, NetDrop::TtlExpired);
            return;
        }
        pkt.ttl -= 1;
        pkt.hops += 1;
        self.route_out(cx, pkt);
    }
}

mod table;

#[cfg(test)]
mod tests;
