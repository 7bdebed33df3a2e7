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
