//! The MAC slot of a node's stack: DCF or TDMA, chosen by `mac.kind`,
//! behind one set of inputs so the node wiring does not care which.

use twin_core::NodeId;

use super::{tdma, Dcf, DcfState, MacCounters, MacCx, MacTimer};
use crate::packet::{Frame, Packet};

/// The MAC of a node: DCF or TDMA, chosen by `mac.kind`.
// DCF is the common case and on the hot path: kept inline; TDMA is boxed.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Mac {
    /// 802.11 DCF.
    Dcf(Dcf),
    /// Slotted TDMA.
    Tdma(Box<tdma::Tdma>),
}

impl Mac {
    pub(crate) fn state(&self) -> DcfState {
        match self {
            Mac::Dcf(m) => m.state(),
            Mac::Tdma(m) => m.state(),
        }
    }

    pub(crate) fn queue_len(&self) -> usize {
        match self {
            Mac::Dcf(m) => m.queue_len(),
            Mac::Tdma(m) => m.queue_len(),
        }
    }

    /// Every packet the MAC holds.
    pub(crate) fn for_each_packet(&self, f: &mut dyn FnMut(&Packet)) {
        match self {
            Mac::Dcf(m) => m.for_each_packet(f),
            Mac::Tdma(m) => m.for_each_packet(f),
        }
    }

    pub(crate) fn counters(&self) -> &MacCounters {
        match self {
            Mac::Dcf(m) => &m.counters,
            Mac::Tdma(m) => &m.counters,
        }
    }

    pub(crate) fn enqueue(&mut self, cx: &mut MacCx<'_>, pkt: Packet, next_hop: NodeId) {
        match self {
            Mac::Dcf(m) => m.enqueue(cx, pkt, next_hop),
            Mac::Tdma(m) => m.enqueue(cx, pkt, next_hop),
        }
    }

    pub(crate) fn on_timer(&mut self, cx: &mut MacCx<'_>, timer: MacTimer) {
        match self {
            Mac::Dcf(m) => m.on_timer(cx, timer),
            Mac::Tdma(m) => m.on_timer(cx, timer),
        }
    }

    pub(crate) fn on_tx_end(&mut self, cx: &mut MacCx<'_>) {
        match self {
            Mac::Dcf(m) => m.on_tx_end(cx),
            Mac::Tdma(m) => m.on_tx_end(cx),
        }
    }

    pub(crate) fn on_rx(&mut self, cx: &mut MacCx<'_>, frame: &Frame) {
        match self {
            Mac::Dcf(m) => m.on_rx(cx, frame),
            Mac::Tdma(m) => m.on_rx(cx, frame),
        }
    }

    /// Carrier sense matters to DCF only (TDMA owns its slots).
    pub(crate) fn on_cca(&mut self, cx: &mut MacCx<'_>, busy: bool) {
        if let Mac::Dcf(m) = self {
            m.on_cca(cx, busy);
        }
    }

    pub(crate) fn on_rx_error(&mut self) {
        if let Mac::Dcf(m) = self {
            m.on_rx_error();
        }
    }
}
