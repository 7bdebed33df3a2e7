//! The network layer: routing protocols behind one interface.
//!
//! Each protocol is a process with explicit state (route tables, neighbour
//! sets, discoveries) driven by four inputs: a packet from the application,
//! a packet from the MAC, a timer, and MAC feedback (link failure). Its
//! outputs are typed (`NetOut`): hand a packet to the MAC for a next hop,
//! deliver one to the application, or drop one with a reason. The node
//! wiring ([`crate::node`]) connects them; protocols never see the MAC.
//!
//! * [`aodv`]: reactive distance vector, RFC 3561.
//! * [`olsr`]: proactive link state with multipoint relays, RFC 3626.
//! * [`greedy`]: greedy geographic forwarding on position beacons.

use serde::Serialize;
use twin_core::{NodeId, SimDuration, SimTime};
use twin_des::{Rng, Scheduler};

use crate::{mobility::Position, packet::Packet, scenario::Protocol, world::Event};

pub mod aodv;
pub mod greedy;
pub mod olsr;

pub use aodv::{AodvMsg, AodvParams, Rrep, Rreq};
pub use greedy::GreedyParams;
pub use olsr::{OlsrMsg, OlsrPacket, OlsrParams};

/// Why the network layer dropped a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetDrop {
    /// No route: a packet in transit, or a proactive protocol's source.
    NoRoute,
    /// The source's route discovery gave up (AODV: all RREQ retries spent).
    DiscoveryFailed,
    /// The TTL ran out.
    TtlExpired,
    /// The route-discovery buffer was full.
    BufferFull,
    /// The packet waited too long for a route.
    BufferTimeout,
    /// The MAC could not reach the next hop.
    LinkBreak,
    /// Address resolution of the next hop failed or its queue was full.
    Arp,
}

/// Outputs of a routing process.
#[derive(Debug)]
pub(crate) enum NetOut {
    /// Give `pkt` to the MAC for `next_hop` (or broadcast).
    Send { pkt: Packet, next_hop: NodeId },
    /// Like `Send`, after `delay` (broadcast jitter).
    SendLater {
        pkt: Packet,
        next_hop: NodeId,
        delay: SimDuration,
    },
    /// The packet reached its destination: hand it to the application.
    Deliver(Packet),
    /// The packet is dropped.
    Drop { pkt: Packet, reason: NetDrop },
}

/// Timers of the routing processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum NetTimer {
    /// A jittered send is due (slot in the node's deferred list).
    Deferred(u32),
    /// AODV timers.
    Aodv(aodv::Timer),
    /// OLSR timers.
    Olsr(olsr::Timer),
    /// Greedy timers.
    Greedy(greedy::Timer),
}

/// What a routing process may use during one call.
pub(crate) struct NetCx<'a> {
    pub(crate) now: SimTime,
    pub(crate) me: NodeId,
    pub(crate) sched: &'a mut Scheduler<Event>,
    pub(crate) out: &'a mut Vec<NetOut>,
    /// Packet-uid allocator shared by the run.
    pub(crate) uid: &'a mut u64,
    /// Current positions of all nodes (geographic routing only).
    pub(crate) positions: &'a mut dyn FnMut(NodeId) -> Position,
    /// Whether this node's ARP cache holds a live entry for a neighbour
    /// (always true without ARP).
    pub(crate) resolved: &'a dyn Fn(NodeId) -> bool,
}

impl NetCx<'_> {
    /// Current time in nanoseconds.
    pub(crate) fn ns(&self) -> u64 {
        self.now.as_nanos()
    }

    /// A fresh packet id.
    pub(crate) fn next_uid(&mut self) -> u64 {
        *self.uid += 1;
        *self.uid
    }

    /// Schedules a routing timer after `delay` nanoseconds.
    pub(crate) fn timer_in(&mut self, delay: u64, t: NetTimer) -> twin_des::EventId {
        let node = self.me.0;
        self.sched
            .schedule_in(
                SimDuration::from_nanos(delay),
                Event::Net { node, timer: t },
            )
            .expect("routing timers fit in SimTime")
    }

    /// Sends `pkt` to `next_hop` now.
    pub(crate) fn send(&mut self, pkt: Packet, next_hop: NodeId) {
        self.out.push(NetOut::Send { pkt, next_hop });
    }

    /// Broadcasts `pkt` after a uniform jitter in `[0, max_jitter)` \[ns\].
    /// Broadcasts `pkt` after a uniform delay in \[0, `max_jitter`) ns, or,
    /// with `step` > 0, after a whole number of steps in \[0, `max_jitter`\]
    /// (ns-3's AODV draws integer milliseconds 0..=10, so neighbours that
    /// draw the same value transmit together and collide).
    pub(crate) fn broadcast_jittered(
        &mut self,
        pkt: Packet,
        max_jitter: u64,
        step: u64,
        rng: &mut Rng,
    ) {
        let delay = if step > 0 {
            step * rng.below(max_jitter / step + 1)
        } else if max_jitter > 0 {
            rng.below(max_jitter)
        } else {
            0
        };
        self.out.push(NetOut::SendLater {
            pkt,
            next_hop: crate::packet::BROADCAST,
            delay: SimDuration::from_nanos(delay),
        });
    }

    pub(crate) fn deliver(&mut self, pkt: Packet) {
        self.out.push(NetOut::Deliver(pkt));
    }

    pub(crate) fn drop_pkt(&mut self, pkt: Packet, reason: NetDrop) {
        self.out.push(NetOut::Drop { pkt, reason });
    }
}

/// Observable summary of a node's routing process.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoutingState {
    /// The protocol.
    pub protocol: Protocol,
    /// Destinations with a usable route.
    pub routes: usize,
    /// Current one-hop neighbours the protocol knows.
    pub neighbors: Vec<NodeId>,
    /// AODV: destinations under discovery; OLSR: multipoint relays.
    pub pending: Vec<NodeId>,
    /// Packets waiting for a route.
    pub buffered: usize,
}

/// A node's routing process, one of the supported protocols.
#[derive(Debug)]
pub(crate) enum Routing {
    Aodv(Box<aodv::Aodv>),
    Olsr(Box<olsr::Olsr>),
    Greedy(Box<greedy::Greedy>),
}

impl Routing {
    /// Arms the protocol's initial timers.
    pub(crate) fn start(&mut self, cx: &mut NetCx<'_>) {
        match self {
            Routing::Aodv(p) => p.start(cx),
            Routing::Olsr(p) => p.start(cx),
            Routing::Greedy(p) => p.start(cx),
        }
    }

    /// A packet from the local application.
    pub(crate) fn send(&mut self, cx: &mut NetCx<'_>, pkt: Packet) {
        match self {
            Routing::Aodv(p) => p.send(cx, pkt),
            Routing::Olsr(p) => p.route_out(cx, pkt),
            Routing::Greedy(p) => p.route_out(cx, pkt),
        }
    }

    /// A packet from neighbour `from`.
    pub(crate) fn receive(&mut self, cx: &mut NetCx<'_>, pkt: Packet, from: NodeId) {
        match self {
            Routing::Aodv(p) => p.receive(cx, pkt, from),
            Routing::Olsr(p) => p.receive(cx, pkt, from),
            Routing::Greedy(p) => p.receive(cx, pkt, from),
        }
    }

    /// A protocol timer fired.
    pub(crate) fn timer(&mut self, cx: &mut NetCx<'_>, t: NetTimer) {
        match (self, t) {
            (Routing::Aodv(p), NetTimer::Aodv(t)) => p.timer(cx, t),
            (Routing::Olsr(p), NetTimer::Olsr(t)) => p.timer(cx, t),
            (Routing::Greedy(p), NetTimer::Greedy(t)) => p.timer(cx, t),
            _ => {}
        }
    }

    /// The MAC gave up on `pkt` to `next_hop` (queued at `queued_at` ns).
    pub(crate) fn tx_failed(
        &mut self,
        cx: &mut NetCx<'_>,
        pkt: Packet,
        next_hop: NodeId,
        queued_at: u64,
    ) {
        match self {
            Routing::Aodv(p) => p.link_failed(cx, pkt, next_hop, queued_at),
            Routing::Olsr(_) => cx.drop_pkt(pkt, NetDrop::LinkBreak),
            Routing::Greedy(p) => p.link_failed(cx, pkt, next_hop),
        }
    }

    /// Every packet the protocol holds (AODV's discovery buffer).
    pub(crate) fn for_each_packet(&self, f: &mut dyn FnMut(&Packet)) {
        if let Routing::Aodv(p) = self {
            p.buffered().for_each(f);
        }
    }

    /// The next hop toward `dst` at `now`, as far as this node knows.
    pub(crate) fn next_hop(
        &self,
        dst: NodeId,
        now: SimTime,
        positions: &[Position],
    ) -> Option<NodeId> {
        match self {
            Routing::Aodv(p) => p.next_hop(dst, now),
            Routing::Olsr(p) => p.next_hop(dst),
            Routing::Greedy(p) => p.next_hop(dst, now, positions),
        }
    }

    /// Observable summary.
    pub(crate) fn state(&self, now: SimTime) -> RoutingState {
        match self {
            Routing::Aodv(p) => p.summary(now),
            Routing::Olsr(p) => p.summary(now),
            Routing::Greedy(p) => p.summary(now),
        }
    }
}

/// `a` is newer than `b` in 32-bit sequence-number arithmetic (RFC 3561 §6.1).
pub(crate) fn seq_newer(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// `a` is newer than `b` in 16-bit sequence-number arithmetic (RFC 3626 §19).
pub(crate) fn seq16_newer(a: u16, b: u16) -> bool {
    (a.wrapping_sub(b) as i16) > 0
}
