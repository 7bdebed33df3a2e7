//! AODV messages (RFC 3561 §5) and their sizes on the wire.

use std::sync::Arc;

use twin_core::NodeId;

/// A route request (RFC 3561 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rreq {
    /// RREQ id, unique per originator.
    pub id: u32,
    /// Hops from the originator so far.
    pub hop_count: u8,
    /// Sought destination.
    pub dst: NodeId,
    /// Latest known destination sequence number.
    pub dst_seq: u32,
    /// U flag: `dst_seq` unknown.
    pub unknown_seq: bool,
    /// Originator.
    pub origin: NodeId,
    /// Originator sequence number.
    pub origin_seq: u32,
    /// G flag.
    pub gratuitous: bool,
    /// D flag.
    pub dest_only: bool,
}

/// A route reply (RFC 3561 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rrep {
    /// Hops from the replier to `dst`, grows on the way back.
    pub hop_count: u8,
    /// The destination the route leads to.
    pub dst: NodeId,
    /// Its sequence number.
    pub dst_seq: u32,
    /// The RREQ originator.
    pub origin: NodeId,
    /// Route lifetime \[ms\].
    pub lifetime_ms: u32,
    /// A flag: the receiver must answer with an RREP-ACK.
    pub ack_required: bool,
}

/// AODV messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AodvMsg {
    /// Route request.
    Rreq(Rreq),
    /// Route reply.
    Rrep(Rrep),
    /// Route error: unreachable destinations with their sequence numbers.
    Rerr(Arc<[(NodeId, u32)]>),
    /// Acknowledges an RREP with the A flag (§5.4).
    RrepAck,
    /// HELLO (an RREP about the sender with TTL 1, §6.9).
    Hello {
        /// The sender's sequence number.
        seq: u32,
    },
}

impl AodvMsg {
    /// Message size without IP/UDP headers \[bytes\] (RFC 3561 §5, plus
    /// ns-3's one-byte type header).
    pub(crate) fn size(&self) -> u32 {
        1 + match self {
            AodvMsg::Rreq(_) => 23,
            AodvMsg::Rrep(_) | AodvMsg::Hello { .. } => 19,
            AodvMsg::Rerr(l) => 3 + 8 * l.len() as u32,
            AodvMsg::RrepAck => 1,
        }
    }
}
