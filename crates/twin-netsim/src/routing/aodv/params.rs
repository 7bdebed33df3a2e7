//! AODV parameters, `[routing.aodv]` in a scenario.

use serde::{Deserialize, Serialize};
use twin_core::SimDuration;

use crate::scenario::{diag::Problem, ProblemKind};

/// `[routing.aodv]` parameters (see the module table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AodvParams {
    /// Send HELLO messages.
    pub hello: bool,
    /// HELLO period.
    pub hello_interval: SimDuration,
    /// Missed HELLOs before a neighbour is lost.
    pub allowed_hello_loss: u32,
    /// Lifetime of a route after its last use.
    pub active_route_timeout: SimDuration,
    /// Per-hop traversal time estimate.
    pub node_traversal_time: SimDuration,
    /// Maximum hops of the network.
    pub net_diameter: u8,
    /// RREQ retries at the network diameter.
    pub rreq_retries: u32,
    /// First TTL of the expanding ring.
    pub ttl_start: u8,
    /// TTL increment of the expanding ring.
    pub ttl_increment: u8,
    /// Beyond this TTL the search jumps to `net_diameter`.
    pub ttl_threshold: u8,
    /// Extra hops of waiting time per ring.
    pub timeout_buffer: u8,
    /// Lifetime the destination grants in its RREP; default 11.2 s.
    pub my_route_timeout: Option<SimDuration>,
    /// How long invalid routes are kept; default 15 s.
    pub delete_period: Option<SimDuration>,
    /// Set the G flag: intermediate repliers also inform the destination.
    pub gratuitous_reply: bool,
    /// Set the D flag: only the destination may reply.
    pub destination_only: bool,
    /// Packets buffered while discovering routes.
    pub buffer_size: u32,
    /// Longest a packet waits for a route.
    pub buffer_timeout: SimDuration,
    /// Maximum random delay of broadcasts.
    pub broadcast_jitter: SimDuration,
    /// If set, broadcast delays are whole multiples of this step (ns-3: 1 ms).
    pub broadcast_jitter_step: Option<SimDuration>,
    /// Drop an RREQ when our entry for its destination (valid or not) has
    /// the sender as next hop (ns-3's loop check; not in RFC 3561).
    pub drop_rreq_via_sender: bool,
    /// Increment the destination sequence number of routes broken by a
    /// link failure (RFC 3561 §6.11; ns-3 does not, so intermediate nodes
    /// with the old number may still answer).
    pub increment_seq_on_break: bool,
    /// Window in which the first HELLO is sent; default one
    /// `hello_interval` (ns-3: 100 ms, so all nodes start together).
    pub hello_start: Option<SimDuration>,
    /// HELLO timer rule. `false`: every `hello_interval` (±5 %) send a HELLO
    /// unless any broadcast left in the last interval (RFC 3561 §6.9 as
    /// written). `true` (ns-3): skip the HELLO only if an RREQ was
    /// broadcast since the last expiry, and then re-arm the timer one
    /// interval after that RREQ, so HELLOs are never more than one interval
    /// apart from the node's last RREQ/HELLO.
    pub hello_after_last_rreq: bool,
    /// Set the A flag on an RREP an intermediate node sends for a
    /// destination one hop away; the receiver answers with an RREP-ACK
    /// (§5.4, §6.7; ns-3 does this).
    pub rrep_ack: bool,
    /// RREQs a node may originate per second, extra ones wait for the next
    /// second (RREQ_RATELIMIT, §10); 0 = no limit.
    pub rreq_rate_limit: u32,
    /// RERRs a node may send per second, extra ones are dropped
    /// (RERR_RATELIMIT, §10); 0 = no limit.
    pub rerr_rate_limit: u32,
    /// Forwarding or receiving a data packet keeps the previous and next
    /// hop in the neighbour table for `active_route_timeout` (ns-3), so
    /// neighbours on active routes are not lost with a HELLO or two.
    pub data_refreshes_neighbors: bool,
    /// Unicast AODV messages need a valid route entry for their next hop;
    /// without one the message waits in the buffer while an RREQ looks
    /// for that neighbour (ns-3 sends AODV messages as UDP datagrams that
    /// AODV itself routes; not in RFC 3561).
    pub control_needs_route: bool,
    /// An RREP, RERR or duplicate RREQ from a neighbour whose entry has a
    /// valid sequence number and one hop leaves that entry untouched, so
    /// an entry invalidated by a link break stays invalid until the
    /// neighbour's next HELLO, new RREQ (which makes it a one-hop route
    /// without sequence number for `active_route_timeout`) or RREP-ACK
    /// (which marks it valid): ns-3's `UpdateRouteToNeighbor`,
    /// `RecvRequest` and `RecvReplyAck`; RFC 3561 §6.2 refreshes it on
    /// every message. With `control_needs_route`, replies to such a
    /// neighbour then start a route discovery for it.
    pub only_hello_revalidates_neighbors: bool,
    /// A new (not duplicate) RREQ from a neighbour keeps it in the
    /// neighbour table for `allowed_hello_loss` × `hello_interval`, as a
    /// HELLO does (ns-3's `RecvRequest`; RFC 3561 §6.9 allows any packet).
    /// Without it a node whose HELLOs are postponed by its own RREQ
    /// rebroadcasts (`hello_after_last_rreq`) is declared lost.
    pub rreq_refreshes_neighbors: bool,
    /// An RREP leaves its replier with an IP TTL equal to the replier's
    /// hop count to the RREP's originator (ns-3's `SendReply`), instead of
    /// `net_diameter`. Either way each forwarding hop decrements it and
    /// an RREP arriving with TTL < 2 is not forwarded, so an RREP caught
    /// in a routing loop dies.
    pub rrep_ttl_from_hops: bool,
    /// Link-layer feedback (a frame the MAC gave up on) breaks the link
    /// only if the next hop is in the neighbour table with a known MAC
    /// address, i.e. one its ARP cache held when the entry was made or
    /// refreshed; other failures are ignored and the route stays in use
    /// (ns-3's `Neighbors::ProcessTxError`). RFC 3561 §6.11: any failure.
    pub tx_error_needs_neighbor: bool,
    /// A new RREQ always makes its sender the next hop of an existing
    /// reverse route (with the RREQ's hop count, and its originator
    /// sequence number if newer) but leaves the route's state as it was, so
    /// an invalid route stays invalid (ns-3's `RecvRequest`). RFC 3561
    /// §6.5: the route is updated only with fresher or shorter information,
    /// and is then valid.
    pub rreq_keeps_reverse_state: bool,
}

impl Default for AodvParams {
    fn default() -> Self {
        AodvParams {
            hello: true,
            hello_interval: SimDuration::from_secs(1),
            allowed_hello_loss: 2,
            active_route_timeout: SimDuration::from_secs(3),
            node_traversal_time: SimDuration::from_millis(40),
            net_diameter: 35,
            rreq_retries: 2,
            ttl_start: 1,
            ttl_increment: 2,
            ttl_threshold: 7,
            timeout_buffer: 2,
            my_route_timeout: None,
            delete_period: None,
            gratuitous_reply: true,
            destination_only: false,
            buffer_size: 64,
            buffer_timeout: SimDuration::from_secs(30),
            broadcast_jitter: SimDuration::from_millis(10),
            broadcast_jitter_step: None,
            drop_rreq_via_sender: false,
            increment_seq_on_break: true,
            hello_start: None,
            hello_after_last_rreq: false,
            rrep_ack: false,
            rreq_rate_limit: 10,
            rerr_rate_limit: 10,
            data_refreshes_neighbors: false,
            control_needs_route: false,
            only_hello_revalidates_neighbors: false,
            rreq_refreshes_neighbors: false,
            rrep_ttl_from_hops: false,
            tx_error_needs_neighbor: false,
            rreq_keeps_reverse_state: false,
        }
    }
}

impl AodvParams {
    pub(crate) fn check(&self, prefix: &str, p: &mut Vec<Problem>) {
        let positive = [
            ("hello_interval", self.hello_interval),
            ("active_route_timeout", self.active_route_timeout),
            ("node_traversal_time", self.node_traversal_time),
        ];
        for (name, v) in positive {
            if v.is_zero() {
                p.push(Problem::new(
                    format!("{prefix}.{name}"),
                    ProblemKind::Range,
                    "must be > 0",
                ));
            }
        }
        if self.net_diameter == 0 || self.ttl_start == 0 || self.ttl_start > self.net_diameter {
            p.push(Problem::new(
                format!("{prefix}.ttl_start"),
                ProblemKind::Range,
                "need 1 <= ttl_start <= net_diameter",
            ));
        }
        if self.buffer_size == 0 {
            p.push(Problem::new(
                format!("{prefix}.buffer_size"),
                ProblemKind::Range,
                "must be >= 1",
            ));
        }
    }
}
