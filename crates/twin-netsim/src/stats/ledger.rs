//! Packet accounting: the fate of every application packet.
//!
//! A data packet can exist as several *copies* at once: the copy a sender's
//! 802.11 MAC keeps for retransmission while the next hop already forwards
//! the one it received, or a TDMA frame on the air on its way to the next
//! hop. The ledger counts the live copies of each `(flow, seq)`:
//!
//! ```text
//!   app send            copies = 1
//!   next hop receives   copies += 1     (MAC delivers the frame up)
//!   sender done (ACK)   copies -= 1     (hand-over, no loss)
//!   any layer drops     copies -= 1     (loss, with its reason)
//!   TDMA frame lost     copies -= 1     (air loss: out of range, busy, collision, PHY error)
//! ```
//!
//! A packet is *delivered* when its first copy reaches the destination
//! (later copies are duplicates and their fates do not count). A packet
//! whose copies all died undelivered is *dropped* with the reason of the
//! last loss. At any time
//!
//! ```text
//!   sent = delivered + Σ_reason dropped(reason) + in_flight
//! ```
//!
//! holds by construction; what makes it a check is [`Ledger::unaccounted`]
//! (copies that died without a loss reason: a wiring defect, 0 in a
//! correct run) and the census test, which counts the packets physically
//! present in queues, buffers and on the air at the end of a run and
//! compares them with `in_flight`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{mac::MacDrop, routing::NetDrop};

/// Why the addressee of a frame that no MAC retransmits did not get it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AirLoss {
    /// Received power below the preamble-detection threshold (distance or
    /// radio horizon).
    OutOfRange,
    /// The addressee's PHY was transmitting or locked on another frame.
    RxBusy,
    /// Preamble SINR below threshold because of interference (collision).
    Collision,
    /// The PHY locked on the frame but decoding failed (noise/interference).
    PhyError,
}

/// The layer and reason of a lost copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Loss {
    /// Network layer (routing, ARP).
    Net(NetDrop),
    /// MAC (queue, retries).
    Mac(MacDrop),
    /// The air, for frames without MAC retransmission.
    Air(AirLoss),
}

impl Loss {
    /// `layer/reason`, e.g. `mac/queue-full`.
    pub fn key(self) -> String {
        fn kebab<T: Serialize>(t: T) -> String {
            serde_json::to_value(t)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        }
        match self {
            Loss::Net(r) => format!("net/{}", kebab(r)),
            Loss::Mac(r) => format!("mac/{}", kebab(r)),
            Loss::Air(r) => format!("air/{}", kebab(r)),
        }
    }
}

/// State of one packet.
#[derive(Debug, Clone, Copy, Default)]
struct Fate {
    copies: u32,
    done: bool,
    last: Option<Loss>,
}

/// Copy counts of every data packet of every flow.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ledger {
    /// Per flow, indexed by sequence number.
    flows: Vec<Vec<Fate>>,
    delivered: u64,
    dropped: BTreeMap<Loss, u64>,
    unaccounted: u64,
}

impl Ledger {
    pub(crate) fn new(flows: usize) -> Ledger {
        Ledger {
            flows: vec![Vec::new(); flows],
            ..Ledger::default()
        }
    }

    fn fate(&mut self, flow: u32, seq: u32) -> Option<&mut Fate> {
        self.flows
            .get_mut(flow as usize)
            .and_then(|f| f.get_mut(seq as usize))
    }

    /// The application sent `(flow, seq)`.
    pub(crate) fn sent(&mut self, flow: u32, seq: u32) {
        let f = &mut self.flows[flow as usize];
        if f.len() <= seq as usize {
            f.resize(seq as usize + 1, Fate::default());
        }
        f[seq as usize] = Fate {
            copies: 1,
            done: false,
            last: None,
        };
    }

    /// A new copy exists (a next hop received it).
    pub(crate) fn copy(&mut self, flow: u32, seq: u32) {
        if let Some(f) = self.fate(flow, seq) {
            f.copies += 1;
        }
    }

    /// A copy reached the destination.
    pub(crate) fn delivered(&mut self, flow: u32, seq: u32) {
        let Some(f) = self.fate(flow, seq) else {
            return;
        };
        f.copies = f.copies.saturating_sub(1);
        if !f.done {
            f.done = true;
            self.delivered += 1;
        }
    }

    /// A copy ended: handed over (`None`) or lost (`Some(reason)`).
    pub(crate) fn release(&mut self, flow: u32, seq: u32, loss: Option<Loss>) {
        let Some(f) = self.fate(flow, seq) else {
            return;
        };
        if f.done {
            f.copies = f.copies.saturating_sub(1);
            return;
        }
        if loss.is_some() {
            f.last = loss;
        }
        if f.copies <= 1 {
            f.copies = 0;
            f.done = true;
            match f.last {
                Some(l) => *self.dropped.entry(l).or_default() += 1,
                None => self.unaccounted += 1,
            }
        } else {
            f.copies -= 1;
        }
    }

    /// Packets with a live copy and no delivery yet.
    pub(crate) fn in_flight(&self) -> u64 {
        self.flows
            .iter()
            .flatten()
            .filter(|f| !f.done && f.copies > 0)
            .count() as u64
    }

    /// The `(flow, seq)` of every packet in flight, sorted.
    pub(crate) fn in_flight_ids(&self) -> Vec<(u32, u32)> {
        let mut v = Vec::new();
        for (i, f) in self.flows.iter().enumerate() {
            for (s, x) in f.iter().enumerate() {
                if !x.done && x.copies > 0 {
                    v.push((i as u32, s as u32));
                }
            }
        }
        v
    }

    pub(crate) fn report(&self, sent: u64) -> Accounting {
        let dropped: BTreeMap<String, u64> =
            self.dropped.iter().map(|(k, v)| (k.key(), *v)).collect();
        let dropped_total = dropped.values().sum::<u64>();
        let in_flight = self.in_flight();
        Accounting {
            sent,
            delivered: self.delivered,
            dropped_total,
            dropped,
            in_flight,
            unaccounted: self.unaccounted,
            balanced: self.unaccounted == 0 && sent == self.delivered + dropped_total + in_flight,
        }
    }
}

/// Where every application packet went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Accounting {
    /// Packets the applications sent.
    pub sent: u64,
    /// Packets that reached their destination.
    pub delivered: u64,
    /// Packets whose every copy was lost.
    pub dropped_total: u64,
    /// Lost packets by `layer/reason` of their last lost copy.
    pub dropped: BTreeMap<String, u64>,
    /// Packets still queued, buffered or on the air at the snapshot.
    pub in_flight: u64,
    /// Packets whose copies vanished without a reason (a defect if > 0).
    pub unaccounted: u64,
    /// `unaccounted == 0` and `sent = delivered + dropped_total + in_flight`.
    pub balanced: bool,
}
