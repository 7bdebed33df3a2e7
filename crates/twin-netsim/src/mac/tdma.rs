//! A TDMA MAC for long-range (aeronautical) links, in the manner of
//! L-DACS air-to-air or Link-16: time is cut into frames of `slots` slots
//! of `slot` each; node *i* owns slot *i* mod `slots` of every frame.
//!
//! ```text
//!   frame k:  | slot 0 (n0) | slot 1 (n1) | ... | slot S-1 |  frame k+1 ...
//!             |<-- frames -->|<- guard ->|
//! ```
//!
//! In its slot a node sends queued frames back to back as long as each
//! ends one guard time before the slot does (guard ≥ the longest one-way
//! propagation delay, so a transmission never spills into the next owner's
//! slot at any receiver within range). There is no carrier sense, no
//! back-off, no ACK and no retransmission: with one owner per slot there
//! are no collisions among nodes that own distinct slots, and lost frames
//! are left to the routing protocol (HELLO loss). Broadcast and unicast are
//! the same on the air; receivers keep unicast frames addressed to them.
//!
//! Capacity per node: `(slot − guard) / slots / slot` of the channel, e.g.
//! 200 nodes × 5 ms slots at 1 Mb/s ≈ 5 kb/s each with a 1.5 ms guard.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use twin_core::{NodeId, SimDuration};

use super::{DcfState, MacCounters, MacCx, MacDrop, MacOut, MacTimer, Queued};
use crate::{
    packet::{Frame, FrameKind, Packet, BROADCAST, MAC_DATA_OVERHEAD},
    phy::{Mode, Radio},
    scenario::MacSpec,
};

/// `[mac.tdma]`: slot structure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TdmaSpec {
    /// Slot length.
    pub slot: SimDuration,
    /// Slots per frame; 0 = one per node.
    pub slots: u32,
    /// Idle time at the end of every slot; default: the longest one-way
    /// propagation delay (`mac.max_range_m`, or the radio's range).
    pub guard: Option<SimDuration>,
    /// Gap between consecutive frames of one slot (transmitter ramp-down
    /// and ramp-up). Without it, a receiver closing in on the sender gets
    /// the next preamble a few nanoseconds before the previous frame ends
    /// (the propagation delay shrinks by v/c between the two) and misses
    /// it while still locked.
    pub ifs: SimDuration,
}

impl Default for TdmaSpec {
    fn default() -> Self {
        TdmaSpec {
            slot: SimDuration::from_millis(5),
            slots: 0,
            guard: None,
            ifs: SimDuration::from_micros(10),
        }
    }
}

/// One node's TDMA process.
#[derive(Debug)]
pub(crate) struct Tdma {
    me: NodeId,
    mode: Mode,
    radio: Radio,
    /// Slot length, guard and frame length \[ns\].
    slot: u64,
    guard: u64,
    ifs: u64,
    frame: u64,
    /// Offset of our slot in the frame \[ns\].
    offset: u64,
    queue: VecDeque<Queued>,
    queue_limit: usize,
    max_delay: u64,
    state: DcfState,
    /// End of our current slot \[ns\] (while sending).
    slot_end: u64,
    /// Earliest start of our next frame in this slot \[ns\].
    next_tx: u64,
    armed: bool,
    pub(crate) counters: MacCounters,
}

impl Tdma {
    /// `index` is the node's position in the slot order, `nodes` the node count.
    pub(crate) fn new(
        me: NodeId,
        spec: &MacSpec,
        radio: &Radio,
        guard_ns: u64,
        index: u32,
        nodes: u32,
    ) -> Tdma {
        let t = &spec.tdma;
        let slots = if t.slots == 0 { nodes.max(1) } else { t.slots };
        let slot = t.slot.as_nanos().max(1);
        let guard = t.guard.map_or(guard_ns, SimDuration::as_nanos).min(slot);
        Tdma {
            me,
            mode: radio.data,
            radio: radio.clone(),
            slot,
            guard,
            ifs: t.ifs.as_nanos(),
            frame: slot * u64::from(slots),
            offset: slot * u64::from(index % slots),
            queue: VecDeque::new(),
            queue_limit: spec.queue_limit as usize,
            max_delay: spec.queue_max_delay.as_nanos(),
            state: DcfState::Idle,
            slot_end: 0,
            next_tx: 0,
            armed: false,
            counters: MacCounters::default(),
        }
    }

    pub(crate) fn state(&self) -> DcfState {
        self.state
    }

    pub(crate) fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// Every queued packet.
    pub(crate) fn for_each_packet(&self, f: &mut dyn FnMut(&Packet)) {
        self.queue.iter().for_each(|q| f(&q.pkt));
    }

    /// Start of our next slot at or after `now` \[ns\].
    fn next_slot(&self, now: u64) -> u64 {
        let k = now.saturating_sub(self.offset).div_ceil(self.frame);
        let t = self.offset + k * self.frame;
        if t < now {
            t + self.frame
        } else {
            t
        }
    }

    fn arm(&mut self, cx: &mut MacCx<'_>) {
        if self.armed || self.queue.is_empty() {
            return;
        }
        let at = self.next_slot(cx.now.as_nanos());
        self.armed = true;
        self.state = DcfState::SlotWait;
        cx.at(at, MacTimer::Slot);
    }

    pub(crate) fn enqueue(&mut self, cx: &mut MacCx<'_>, pkt: Packet, next_hop: NodeId) {
        if self.queue.len() >= self.queue_limit {
            self.counters.drop_queue_full += 1;
            cx.out.push(MacOut::Dropped {
                pkt,
                reason: MacDrop::QueueFull,
            });
            return;
        }
        self.queue.push_back(Queued {
            pkt,
            next_hop,
            since: cx.now.as_nanos(),
        });
        if self.state == DcfState::Idle {
            self.arm(cx);
        }
    }

    /// Sends the head of the queue if it fits before the guard; otherwise
    /// waits for the next slot.
    fn send_next(&mut self, cx: &mut MacCx<'_>) {
        let now = cx.now.as_nanos();
        while let Some(q) = self.queue.front() {
            if now.saturating_sub(q.since) > self.max_delay {
                let q = self.queue.pop_front().expect("front exists");
                self.counters.drop_expired += 1;
                cx.out.push(MacOut::Dropped {
                    pkt: q.pkt,
                    reason: MacDrop::QueueExpired,
                });
                continue;
            }
            let bytes = q.pkt.bytes + MAC_DATA_OVERHEAD;
            let dur = self.radio.duration(self.mode, bytes);
            if now + dur + self.guard > self.slot_end {
                if dur + self.guard > self.slot {
                    // Never fits: drop rather than block the queue.
                    let q = self.queue.pop_front().expect("front exists");
                    self.counters.drop_queue_full += 1;
                    cx.out.push(MacOut::Dropped {
                        pkt: q.pkt,
                        reason: MacDrop::QueueFull,
                    });
                    continue;
                }
                break;
            }
            let q = self.queue.pop_front().expect("front exists");
            self.counters.tx_frames += 1;
            let frame = Frame {
                kind: FrameKind::Data,
                src: self.me,
                dst: q.next_hop,
                seq: 0,
                retry: false,
                nav: SimDuration::ZERO,
                bytes,
                packet: Some(q.pkt),
            };
            self.state = DcfState::TxData;
            // No ACK: the copy travels with the frame; the world accounts
            // for it at the addressee (received, or lost on the air).
            cx.out.push(MacOut::Transmit(frame, self.mode));
            return;
        }
        self.state = DcfState::Idle;
        self.arm(cx);
    }

    pub(crate) fn on_timer(&mut self, cx: &mut MacCx<'_>, timer: MacTimer) {
        if timer == MacTimer::Slot {
            let now = cx.now.as_nanos();
            if now == self.next_tx && now < self.slot_end {
                // The gap after a frame of this slot is over.
                self.send_next(cx);
                return;
            }
            self.armed = false;
            self.slot_end = now + self.slot;
            self.send_next(cx);
        }
    }

    pub(crate) fn on_tx_end(&mut self, cx: &mut MacCx<'_>) {
        if self.state == DcfState::TxData {
            let now = cx.now.as_nanos();
            if self.ifs == 0 {
                self.send_next(cx);
            } else {
                self.state = DcfState::SlotWait;
                self.next_tx = now + self.ifs;
                cx.at(self.next_tx, MacTimer::Slot);
            }
        }
    }

    pub(crate) fn on_rx(&mut self, cx: &mut MacCx<'_>, frame: &Frame) {
        let mine = frame.dst == self.me || frame.dst == BROADCAST;
        if frame.kind == FrameKind::Data && mine {
            if let Some(pkt) = &frame.packet {
                cx.out.push(MacOut::Deliver {
                    pkt: pkt.clone(),
                    from: frame.src,
                });
            }
        }
    }
}
