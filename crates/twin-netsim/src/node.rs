//! The *node* level: a stack of layer modules wired at build time.
//!
//! ```text
//!   app (flows, FlowMonitor)        Flow::packet ─┐            ▲ NetOut::Deliver
//!   net  (aodv | olsr | greedy)     Routing::send ▼            │ Routing::receive / tx_failed
//!   mac  (dcf)                      NetOut::Send ─► Dcf::enqueue   MacOut::Deliver / TxFailed
//!   phy  (802.11b | generic)        MacOut::Transmit ─► channel ─► signal start/end ─► Dcf::on_rx
//! ```
//!
//! Which implementation fills each slot is decided by the scenario when the
//! simulation is built ([`crate::Simulation::from_scenario`]); the wiring
//! itself (who consumes which typed output) is fixed and lives in the
//! world's dispatch loop. Every layer is a process with an observable
//! state, collected in [`NodeState`].

use serde::Serialize;
use twin_core::NodeId;
use twin_des::Rng;

use crate::{
    mac::{DcfState, Mac},
    packet::Packet,
    phy::{Phy, PhyState},
    routing::{Routing, RoutingState},
};

/// One node's protocol stack.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) phy: Phy,
    pub(crate) mac: Mac,
    pub(crate) net: Routing,
    /// Address resolution, if the scenario enables it.
    pub(crate) arp: Option<crate::arp::Arp>,
    /// Jittered sends waiting for their timer.
    pub(crate) deferred: Vec<Option<(Packet, NodeId)>>,
    /// Stream for reception draws.
    pub(crate) rng: Rng,
    /// Layer names, top to bottom.
    pub(crate) stack: [&'static str; 4],
}

impl Node {
    /// Stores a deferred send; returns its slot.
    pub(crate) fn defer(&mut self, pkt: Packet, next_hop: NodeId) -> u32 {
        let item = Some((pkt, next_hop));
        match self.deferred.iter().position(Option::is_none) {
            Some(i) => {
                self.deferred[i] = item;
                i as u32
            }
            None => {
                self.deferred.push(item);
                (self.deferred.len() - 1) as u32
            }
        }
    }

    /// Takes a deferred send out of its slot.
    pub(crate) fn take_deferred(&mut self, slot: u32) -> Option<(Packet, NodeId)> {
        self.deferred.get_mut(slot as usize).and_then(Option::take)
    }
}

/// Observable state of one node's processes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeState {
    /// Node id.
    pub node: NodeId,
    /// Node name.
    pub name: String,
    /// Layer implementations, top to bottom (e.g. `["udp", "aodv", "dcf", "802.11b"]`).
    pub stack: Vec<&'static str>,
    /// Mobility model.
    pub mobility: &'static str,
    /// PHY process state.
    pub phy: PhyState,
    /// MAC process state.
    pub mac: DcfState,
    /// Packets in the MAC queue (including the one being served).
    pub mac_queue: usize,
    /// Routing process summary.
    pub routing: RoutingState,
}
