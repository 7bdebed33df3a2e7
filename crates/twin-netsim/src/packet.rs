//! Packets (network layer) and frames (MAC layer).
//!
//! Addresses are node ids; [`BROADCAST`] addresses every neighbour. Sizes
//! are counted as on the air: a packet's `bytes` is its IPv4 datagram
//! (20-byte IP header, 8-byte UDP header, payload), and a data frame adds
//! the 802.11 MAC header, LLC/SNAP header and FCS ([`MAC_DATA_OVERHEAD`]).

use std::sync::Arc;

use twin_core::{NodeId, SimDuration, SimTime};

use crate::routing::{AodvMsg, OlsrPacket};

/// The broadcast address.
pub const BROADCAST: NodeId = NodeId(u32::MAX);
/// IPv4 plus UDP header bytes.
pub const IP_UDP_HEADER: u32 = 28;
/// 802.11 data frame overhead: MAC header 24, LLC/SNAP 8, FCS 4 \[bytes\].
pub const MAC_DATA_OVERHEAD: u32 = 36;
/// 802.11 ACK frame size \[bytes\].
pub const ACK_BYTES: u32 = 14;
/// 802.11 RTS frame size \[bytes\].
pub const RTS_BYTES: u32 = 20;
/// 802.11 CTS frame size \[bytes\].
pub const CTS_BYTES: u32 = 14;

/// What a packet carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// Application data of flow `flow`, sequence number `seq`.
    Data {
        /// Flow index (order of `[[flows]]`).
        flow: u32,
        /// Per-flow sequence number, from 0.
        seq: u32,
    },
    /// An AODV control message.
    Aodv(AodvMsg),
    /// An OLSR packet (one or more messages).
    Olsr(Arc<OlsrPacket>),
    /// An ARP request or reply (link layer, below routing).
    Arp(crate::arp::ArpMsg),
    /// A greedy-routing position beacon \[position in the simulation frame\].
    Beacon {
        /// Sender position when the beacon was built.
        pos: [f64; 3],
    },
}

/// A network-layer packet (an IPv4/UDP datagram).
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// Unique id within a run.
    pub uid: u64,
    /// Originator.
    pub src: NodeId,
    /// Final destination, or [`BROADCAST`].
    pub dst: NodeId,
    /// Remaining hops.
    pub ttl: u8,
    /// Hops travelled so far.
    pub hops: u8,
    /// Datagram size on the wire \[bytes\].
    pub bytes: u32,
    /// When the originator created it.
    pub created: SimTime,
    /// Content.
    pub body: Body,
}

impl Packet {
    /// Whether this is routing-protocol traffic rather than data.
    pub fn is_control(&self) -> bool {
        !matches!(self.body, Body::Data { .. })
    }
}

/// MAC frame type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameKind {
    /// A data frame carrying a packet.
    Data,
    /// An acknowledgement.
    Ack,
    /// Request to send (reserves the medium for CTS, data and ACK).
    Rts,
    /// Clear to send (answers an RTS).
    Cts,
}

/// A MAC frame on the air.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    pub(crate) kind: FrameKind,
    /// Transmitter.
    pub(crate) src: NodeId,
    /// Receiver address, or [`BROADCAST`].
    pub(crate) dst: NodeId,
    /// MAC sequence number (duplicate detection).
    pub(crate) seq: u16,
    /// Set on retransmissions.
    pub(crate) retry: bool,
    /// Duration field: how long others must defer after the frame (NAV).
    pub(crate) nav: SimDuration,
    /// Frame size \[bytes\].
    pub(crate) bytes: u32,
    /// The carried packet (data frames).
    pub(crate) packet: Option<Packet>,
}
