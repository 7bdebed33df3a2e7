//! IEEE 802.11 distributed coordination function (CSMA/CA).
//!
//! The MAC of each node is an explicit state machine ([`DcfState`]):
//!
//! ```text
//!          enqueue                      access timer                 tx end (unicast)
//!   Idle ───────────► Contend ─────────────────────────► TxData ─────────────────► WaitAck
//!    ▲                  ▲  │ medium busy: freeze back-off      │ tx end (broadcast)      │ ACK / timeout
//!    │                  │  ▼                                    ▼                         ▼
//!    └──── queue empty ─┴──────────────── new back-off, next packet ◄──────── retry or drop
//!
//!   any state ── unicast data for me ──(SIFS)──► TxAck ── tx end ──► back to that state
//! ```
//!
//! * **Access**: a frame goes out when the medium has been idle for DIFS
//!   (EIFS after a frame received in error) plus the remaining back-off
//!   slots. The medium is busy while the PHY reports carrier sense or the
//!   NAV (set by the duration field of overheard unicast frames) runs. When
//!   it turns busy during the countdown, the slots already elapsed are
//!   consumed and the rest is frozen.
//! * **Back-off**: after every transmission (post-back-off) and retry a
//!   new count is drawn uniformly from `[0, CW]`; CW starts at `cw_min`,
//!   doubles (`2 CW + 1`) per retry up to `cw_max` and resets on success or
//!   drop. A packet arriving at an idle MAC whose medium has been idle for
//!   DIFS and whose back-off has run out is sent at once.
//! * **Unicast**: acknowledged after SIFS; without an ACK within the ACK
//!   timeout the frame is retransmitted up to `retry_limit` times, then
//!   dropped and reported to routing as a link failure. Retransmissions
//!   carry the retry bit and receivers drop duplicates (but still ACK).
//! * **RTS/CTS** (unicast frames longer than `rts_threshold`): the sender
//!   first sends an RTS whose duration field reserves the medium for CTS,
//!   data and ACK (`3 SIFS + CTS + DATA + ACK`); the receiver answers with
//!   a CTS after SIFS unless its NAV is set; the data follows SIFS after the
//!   CTS. Nodes that hear either frame set their NAV, which silences hidden
//!   terminals of the sender. No CTS within the CTS timeout counts as a
//!   failed attempt (same retry counter and back-off as a missing ACK).
//! * **Broadcast**: sent once, never acknowledged.
//! * **Long links** (802.11 coverage class): the ACK timeout is
//!   `SIFS + ACK + slot + 2 × max_range / c`, and the slot grows by the
//!   one-way delay beyond 1 µs, so DCF keeps working at hundreds of km.
//! * **Queue**: drop-tail at `queue_limit`; packets older than
//!   `queue_max_delay` are dropped when they reach the head (ns-3
//!   `WifiMacQueue` defaults 500 packets, 500 ms).

use std::collections::VecDeque;

pub(crate) use self::kind::Mac;
pub use self::tdma::TdmaSpec;

mod kind;
pub(crate) mod tdma;

use serde::Serialize;
use twin_core::{NodeId, SimDuration, SimTime};
use twin_des::{EventId, Rng, Scheduler};

use crate::{
    geo::SPEED_OF_LIGHT,
    packet::{
        Frame, FrameKind, Packet, ACK_BYTES, BROADCAST, CTS_BYTES, MAC_DATA_OVERHEAD, RTS_BYTES,
    },
    phy::{Mode, Radio},
    scenario::MacSpec,
    world::Event,
};

/// Observable state of a node's DCF process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DcfState {
    /// Nothing to send.
    Idle,
    /// A frame is waiting for the medium (IFS and back-off).
    Contend,
    /// A data or broadcast frame is on the air.
    TxData,
    /// Waiting for the ACK of a unicast frame.
    WaitAck,
    /// Sending an ACK or a CTS.
    TxAck,
    /// An RTS is on the air.
    TxRts,
    /// Waiting for the CTS that answers our RTS.
    WaitCts,
    /// TDMA: frames wait for the node's next slot.
    SlotWait,
}

/// Timers of the DCF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum MacTimer {
    /// IFS plus back-off elapsed: transmit.
    Access,
    /// No ACK arrived in time.
    AckTimeout,
    /// SIFS after a unicast frame for us: send its ACK.
    SendAck {
        /// Who to acknowledge.
        to: u32,
    },
    /// The NAV ran out.
    NavEnd,
    /// SIFS after an RTS for us: answer with a CTS.
    SendCts {
        /// Who asked.
        to: u32,
    },
    /// No CTS arrived in time.
    CtsTimeout,
    /// SIFS after the CTS: send the data frame.
    SendData,
    /// TDMA: our slot begins.
    Slot,
}

/// Why a packet never left the MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MacDrop {
    /// The interface queue was full.
    QueueFull,
    /// The packet waited longer than `queue_max_delay`.
    QueueExpired,
    /// No ACK after every retransmission.
    RetryLimit,
}

/// What the MAC tells the other layers (its typed outputs).
#[derive(Debug)]
pub(crate) enum MacOut {
    /// Put this frame on the air now at this mode.
    Transmit(Frame, Mode),
    /// A packet arrived from neighbour `from`.
    Deliver { pkt: Packet, from: NodeId },
    /// A unicast packet was acknowledged (`data`: its `(flow, seq)` if it
    /// carried application data).
    TxOk { data: Option<(u32, u32)> },
    /// A unicast packet to `next_hop` failed after all retries.
    TxFailed {
        pkt: Packet,
        next_hop: NodeId,
        /// When the packet entered the MAC queue \[ns\].
        queued_at: u64,
    },
    /// A packet was dropped (queue overflow or expiry).
    Dropped { pkt: Packet, reason: MacDrop },
}

/// Inputs the MAC needs from its surroundings for one call.
pub(crate) struct MacCx<'a> {
    pub(crate) now: SimTime,
    pub(crate) node: u32,
    pub(crate) sched: &'a mut Scheduler<Event>,
    pub(crate) out: &'a mut Vec<MacOut>,
}

impl MacCx<'_> {
    fn at(&mut self, t: u64, timer: MacTimer) -> EventId {
        let node = self.node;
        self.sched
            .schedule_at(SimTime::from_nanos(t), Event::Mac { node, timer })
            .expect("MAC timers lie in the future")
    }
}

/// DCF timing, derived from the radio and `[mac]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub(crate) slot: u64,
    pub(crate) sifs: u64,
    pub(crate) difs: u64,
    pub(crate) eifs: u64,
    pub(crate) ack_timeout: u64,
    /// Air time of an ACK \[ns\].
    pub(crate) ack: u64,
    /// Air time of a CTS \[ns\].
    pub(crate) cts: u64,
    /// Wait for a CTS after the end of our RTS \[ns\].
    pub(crate) cts_timeout: u64,
}

impl Timing {
    pub(crate) fn new(spec: &MacSpec, radio: &Radio, max_range: f64) -> Timing {
        let prop = (max_range / SPEED_OF_LIGHT * 1e9).ceil() as u64;
        let sifs = spec.sifs.map_or(radio.sifs, SimDuration::as_nanos);
        let base_slot = spec.slot.map_or(radio.slot, SimDuration::as_nanos);
        let slot = base_slot + prop.saturating_sub(1_000);
        let difs = sifs + 2 * slot;
        let ack = radio.duration(radio.basic, ACK_BYTES);
        let cts = radio.duration(radio.basic, CTS_BYTES);
        Timing {
            cts,
            cts_timeout: sifs + cts + slot + 2 * prop,
            slot,
            sifs,
            difs,
            eifs: sifs + ack + difs,
            ack_timeout: sifs + ack + slot + 2 * prop,
            ack,
        }
    }
}

/// A packet waiting in the interface queue.
#[derive(Debug, Clone)]
struct Queued {
    pkt: Packet,
    next_hop: NodeId,
    since: u64,
}

/// Counters of one MAC.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MacCounters {
    /// Data and broadcast frames sent (each attempt).
    pub tx_frames: u64,
    /// Retransmissions.
    pub retries: u64,
    /// ACKs sent.
    pub acks: u64,
    /// Duplicates received and discarded.
    pub duplicates: u64,
    /// RTS frames sent.
    pub rts: u64,
    /// CTS frames sent.
    pub cts: u64,
    /// Packets dropped: queue full.
    pub drop_queue_full: u64,
    /// Packets dropped: too old.
    pub drop_expired: u64,
    /// Packets dropped: retry limit.
    pub drop_retry: u64,
}

/// One node's DCF process.
#[derive(Debug)]
pub(crate) struct Dcf {
    me: NodeId,
    t: Timing,
    data_mode: Mode,
    basic_mode: Mode,
    /// The radio profile (frame air times for RTS durations).
    radio: Radio,
    rts_threshold: u32,
    /// NAV our pending CTS will carry \[ns\].
    cts_nav: u64,
    cts_timer: Option<EventId>,
    /// Whether the current frame's data has been on the air (retry bit).
    data_sent: bool,
    retry_limit: u32,
    queue_limit: usize,
    max_delay: u64,
    cw_min: u32,
    cw_max: u32,
    state: DcfState,
    /// State to return to after an ACK.
    resume: DcfState,
    queue: VecDeque<Queued>,
    current: Option<Queued>,
    retries: u32,
    cw: u32,
    backoff: u32,
    phy_busy: bool,
    nav_until: u64,
    /// When the medium last became idle.
    idle_since: u64,
    use_eifs: bool,
    access: Option<EventId>,
    ack_timer: Option<EventId>,
    nav_timer: Option<EventId>,
    seq: u16,
    /// Last sequence number received from each neighbour (duplicate filter).
    last_seq: Vec<(u32, u16)>,
    rng: Rng,
    pub(crate) counters: MacCounters,
}

impl Dcf {
    pub(crate) fn new(me: NodeId, spec: &MacSpec, radio: &Radio, timing: Timing, rng: Rng) -> Dcf {
        Dcf {
            me,
            t: timing,
            data_mode: radio.data,
            basic_mode: radio.basic,
            radio: radio.clone(),
            rts_threshold: spec.rts_threshold,
            cts_nav: 0,
            cts_timer: None,
            data_sent: false,
            retry_limit: spec.retry_limit,
            queue_limit: spec.queue_limit as usize,
            max_delay: spec.queue_max_delay.as_nanos(),
            cw_min: spec.cw_min,
            cw_max: spec.cw_max,
            state: DcfState::Idle,
            resume: DcfState::Idle,
            queue: VecDeque::new(),
            current: None,
            retries: 0,
            cw: spec.cw_min,
            backoff: 0,
            phy_busy: false,
            nav_until: 0,
            idle_since: 0,
            use_eifs: false,
            access: None,
            ack_timer: None,
            nav_timer: None,
            seq: 0,
            last_seq: Vec::new(),
            rng,
            counters: MacCounters::default(),
        }
    }

    /// Current state.
    pub(crate) fn state(&self) -> DcfState {
        self.state
    }

    /// Packets waiting, including the one being served.
    pub(crate) fn queue_len(&self) -> usize {
        self.queue.len() + usize::from(self.current.is_some())
    }

    /// Every packet held: the one being served, then the queue.
    pub(crate) fn for_each_packet(&self, f: &mut dyn FnMut(&Packet)) {
        self.current
            .iter()
            .chain(&self.queue)
            .for_each(|q| f(&q.pkt));
    }

    fn busy(&self, now: u64) -> bool {
        self.phy_busy || now < self.nav_until
    }

    /// A packet from the network layer for `next_hop` (or [`BROADCAST`]).
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
            self.next_packet(cx);
        }
    }

    /// Takes the next live packet from the queue and contends for it.
    fn next_packet(&mut self, cx: &mut MacCx<'_>) {
        let now = cx.now.as_nanos();
        while let Some(q) = self.queue.pop_front() {
            if now.saturating_sub(q.since) > self.max_delay {
                self.counters.drop_expired += 1;
                cx.out.push(MacOut::Dropped {
                    pkt: q.pkt,
                    reason: MacDrop::QueueExpired,
                });
                continue;
            }
            self.current = Some(q);
            self.retries = 0;
            // One sequence number per packet, whatever its attempts.
            self.seq = self.seq.wrapping_add(1);
            self.data_sent = false;
            self.state = DcfState::Contend;
            self.try_access(cx);
            return;
        }
        self.state = DcfState::Idle;
    }

    /// Arms the access timer if the medium is idle and a frame waits.
    fn try_access(&mut self, cx: &mut MacCx<'_>) {
        let now = cx.now.as_nanos();
        if self.state != DcfState::Contend || self.access.is_some() || self.busy(now) {
            return;
        }
        let ifs = if self.use_eifs {
            self.t.eifs
        } else {
            self.t.difs
        };
        let at = (self.idle_since + ifs + u64::from(self.backoff) * self.t.slot).max(now);
        self.access = Some(cx.at(at, MacTimer::Access));
    }

    /// The medium turned busy at `now`: consume elapsed slots, freeze.
    fn medium_busy(&mut self, cx: &mut MacCx<'_>) {
        let now = cx.now.as_nanos();
        let ifs = if self.use_eifs {
            self.t.eifs
        } else {
            self.t.difs
        };
        let counting_from = self.idle_since + ifs;
        if now > counting_from {
            let elapsed = ((now - counting_from) / self.t.slot).min(u64::from(self.backoff));
            self.backoff -= elapsed as u32;
        }
        if let Some(id) = self.access.take() {
            cx.sched.cancel(id);
        }
    }

    /// The medium turned idle at `now`.
    fn medium_idle(&mut self, cx: &mut MacCx<'_>) {
        self.idle_since = cx.now.as_nanos();
        self.try_access(cx);
    }

    /// Carrier-sense edge from the PHY.
    pub(crate) fn on_cca(&mut self, cx: &mut MacCx<'_>, busy: bool) {
        let now = cx.now.as_nanos();
        let was_busy = self.busy(now);
        self.phy_busy = busy;
        match (was_busy, self.busy(now)) {
            (false, true) => self.medium_busy(cx),
            (true, false) => self.medium_idle(cx),
            _ => {}
        }
    }

    fn set_nav(&mut self, cx: &mut MacCx<'_>, until: u64) {
        let now = cx.now.as_nanos();
        if until <= self.nav_until.max(now) {
            return;
        }
        let was_busy = self.busy(now);
        self.nav_until = until;
        if !was_busy {
            self.medium_busy(cx);
        }
        if let Some(id) = self.nav_timer.take() {
            cx.sched.cancel(id);
        }
        self.nav_timer = Some(cx.at(until, MacTimer::NavEnd));
    }

    fn draw_backoff(&mut self) {
        self.backoff = self.rng.below(u64::from(self.cw) + 1) as u32;
    }

    /// A timer fired.
    pub(crate) fn on_timer(&mut self, cx: &mut MacCx<'_>, timer: MacTimer) {
        match timer {
            MacTimer::Access => {
                self.access = None;
                if self.state != DcfState::Contend || self.busy(cx.now.as_nanos()) {
                    return;
                }
                self.backoff = 0;
                if self.needs_rts() {
                    self.transmit_rts(cx);
                } else {
                    self.transmit_current(cx);
                }
            }
            MacTimer::CtsTimeout => {
                self.cts_timer = None;
                if self.state == DcfState::WaitCts {
                    self.retry(cx);
                } else if self.state == DcfState::TxAck && self.resume == DcfState::WaitCts {
                    self.resume = DcfState::Contend;
                    self.retry_bookkeeping(cx);
                }
            }
            MacTimer::SendData => {
                if self.state == DcfState::WaitCts {
                    self.transmit_current(cx);
                } else if self.state == DcfState::TxAck && self.resume == DcfState::WaitCts {
                    // Busy acknowledging someone else: the slot is lost.
                    self.resume = DcfState::Contend;
                    self.retry_bookkeeping(cx);
                }
            }
            MacTimer::SendCts { to } => {
                // Only if idle enough to answer, and the NAV does not
                // forbid it (802.11: a CTS is not sent while the NAV is set).
                let now = cx.now.as_nanos();
                if matches!(self.state, DcfState::Idle | DcfState::Contend) && now >= self.nav_until
                {
                    self.resume = self.state;
                    if let Some(id) = self.access.take() {
                        cx.sched.cancel(id);
                    }
                    self.state = DcfState::TxAck;
                    self.counters.cts += 1;
                    let frame = Frame {
                        kind: FrameKind::Cts,
                        src: self.me,
                        dst: NodeId(to),
                        seq: 0,
                        retry: false,
                        nav: SimDuration::from_nanos(self.cts_nav),
                        bytes: CTS_BYTES,
                        packet: None,
                    };
                    cx.out.push(MacOut::Transmit(frame, self.basic_mode));
                }
            }
            MacTimer::AckTimeout => {
                self.ack_timer = None;
                if self.state == DcfState::WaitAck {
                    self.retry(cx);
                } else if self.state == DcfState::TxAck && self.resume == DcfState::WaitAck {
                    // The ACK we were sending overlapped our own ACK wait.
                    self.resume = DcfState::Contend;
                    self.retry_bookkeeping(cx);
                }
            }
            MacTimer::SendAck { to } => {
                if matches!(
                    self.state,
                    DcfState::TxData | DcfState::TxAck | DcfState::TxRts
                ) {
                    return; // cannot: already transmitting
                }
                self.resume = self.state;
                if self.state == DcfState::Contend {
                    if let Some(id) = self.access.take() {
                        cx.sched.cancel(id);
                    }
                }
                self.state = DcfState::TxAck;
                self.counters.acks += 1;
                let frame = Frame {
                    kind: FrameKind::Ack,
                    src: self.me,
                    dst: NodeId(to),
                    seq: 0,
                    retry: false,
                    nav: SimDuration::ZERO,
                    bytes: ACK_BYTES,
                    packet: None,
                };
                cx.out.push(MacOut::Transmit(frame, self.basic_mode));
            }
            MacTimer::Slot => {}
            MacTimer::NavEnd => {
                self.nav_timer = None;
                if !self.phy_busy && cx.now.as_nanos() >= self.nav_until {
                    self.medium_idle(cx);
                }
            }
        }
    }

    /// Whether the current frame is unicast and longer than the RTS threshold.
    fn needs_rts(&self) -> bool {
        self.current.as_ref().is_some_and(|q| {
            q.next_hop != BROADCAST && q.pkt.bytes + MAC_DATA_OVERHEAD > self.rts_threshold
        })
    }

    /// Sends an RTS for the current frame, reserving CTS + data + ACK.
    fn transmit_rts(&mut self, cx: &mut MacCx<'_>) {
        let Some(q) = &self.current else {
            return;
        };
        let data = self
            .radio
            .duration(self.data_mode, q.pkt.bytes + MAC_DATA_OVERHEAD);
        let nav = 3 * self.t.sifs + self.t.cts + data + self.t.ack;
        self.counters.rts += 1;
        if self.retries > 0 {
            self.counters.retries += 1;
        }
        let frame = Frame {
            kind: FrameKind::Rts,
            src: self.me,
            dst: q.next_hop,
            seq: 0,
            retry: self.retries > 0,
            nav: SimDuration::from_nanos(nav),
            bytes: RTS_BYTES,
            packet: None,
        };
        self.state = DcfState::TxRts;
        cx.out.push(MacOut::Transmit(frame, self.basic_mode));
    }

    fn transmit_current(&mut self, cx: &mut MacCx<'_>) {
        let Some(q) = &self.current else {
            self.state = DcfState::Idle;
            return;
        };
        let unicast = q.next_hop != BROADCAST;
        let mode = if unicast {
            self.data_mode
        } else {
            self.basic_mode
        };
        let retry = self.data_sent;
        if retry {
            self.counters.retries += 1;
        }
        self.data_sent = true;
        self.counters.tx_frames += 1;
        let frame = Frame {
            kind: FrameKind::Data,
            src: self.me,
            dst: q.next_hop,
            seq: self.seq,
            retry,
            nav: if unicast {
                SimDuration::from_nanos(self.t.sifs + self.t.ack)
            } else {
                SimDuration::ZERO
            },
            bytes: q.pkt.bytes + MAC_DATA_OVERHEAD,
            packet: Some(q.pkt.clone()),
        };
        self.state = DcfState::TxData;
        cx.out.push(MacOut::Transmit(frame, mode));
    }

    /// Our transmission ended.
    pub(crate) fn on_tx_end(&mut self, cx: &mut MacCx<'_>) {
        match self.state {
            DcfState::TxAck => {
                self.state = self.resume;
                if self.state == DcfState::Contend {
                    if self.current.is_some() {
                        self.try_access(cx);
                    } else {
                        // The frame was dropped while we sent the ACK.
                        self.next_packet(cx);
                    }
                }
            }
            DcfState::TxRts => {
                self.state = DcfState::WaitCts;
                let at = cx.now.as_nanos() + self.t.cts_timeout;
                self.cts_timer = Some(cx.at(at, MacTimer::CtsTimeout));
            }
            DcfState::TxData => {
                let unicast = self
                    .current
                    .as_ref()
                    .is_some_and(|q| q.next_hop != BROADCAST);
                if unicast {
                    self.state = DcfState::WaitAck;
                    let at = cx.now.as_nanos() + self.t.ack_timeout;
                    self.ack_timer = Some(cx.at(at, MacTimer::AckTimeout));
                } else {
                    self.finish(cx);
                }
            }
            _ => {}
        }
    }

    /// The current frame is done (sent, acknowledged or dropped).
    fn finish(&mut self, cx: &mut MacCx<'_>) {
        self.current = None;
        self.cw = self.cw_min;
        self.draw_backoff();
        self.next_packet(cx);
    }

    fn retry_bookkeeping(&mut self, cx: &mut MacCx<'_>) {
        self.retries += 1;
        if self.retries > self.retry_limit {
            self.counters.drop_retry += 1;
            if let Some(q) = self.current.take() {
                cx.out.push(MacOut::TxFailed {
                    pkt: q.pkt,
                    next_hop: q.next_hop,
                    queued_at: q.since,
                });
            }
            self.cw = self.cw_min;
            self.draw_backoff();
        } else {
            self.cw = (2 * self.cw + 1).min(self.cw_max);
            self.draw_backoff();
        }
    }

    fn retry(&mut self, cx: &mut MacCx<'_>) {
        self.retry_bookkeeping(cx);
        if self.current.is_some() {
            self.state = DcfState::Contend;
            self.try_access(cx);
        } else {
            self.next_packet(cx);
        }
    }

    /// A frame was received correctly at `now`.
    pub(crate) fn on_rx(&mut self, cx: &mut MacCx<'_>, frame: &Frame) {
        self.use_eifs = false;
        let now = cx.now.as_nanos();
        match frame.kind {
            FrameKind::Ack => {
                let for_me = frame.dst == self.me;
                let waited = self.current.as_ref().map(|q| q.next_hop);
                if for_me && self.state == DcfState::WaitAck && waited == Some(frame.src) {
                    if let Some(id) = self.ack_timer.take() {
                        cx.sched.cancel(id);
                    }
                    let data = self
                        .current
                        .as_ref()
                        .and_then(|q| crate::stats::data_id(&q.pkt));
                    cx.out.push(MacOut::TxOk { data });
                    self.finish(cx);
                }
            }
            FrameKind::Cts if frame.dst == self.me => {
                let waited = self.current.as_ref().map(|q| q.next_hop);
                if self.state == DcfState::WaitCts && waited == Some(frame.src) {
                    if let Some(id) = self.cts_timer.take() {
                        cx.sched.cancel(id);
                    }
                    cx.at(now + self.t.sifs, MacTimer::SendData);
                }
            }
            FrameKind::Rts if frame.dst == self.me => {
                let to = frame.src.0;
                self.cts_nav = frame
                    .nav
                    .as_nanos()
                    .saturating_sub(self.t.sifs + self.t.cts);
                cx.at(now + self.t.sifs, MacTimer::SendCts { to });
            }
            FrameKind::Rts | FrameKind::Cts => {
                // Overheard reservation: defer for the whole exchange.
                self.set_nav(cx, now + frame.nav.as_nanos());
            }
            FrameKind::Data if frame.dst == self.me => {
                let to = frame.src.0;
                cx.at(now + self.t.sifs, MacTimer::SendAck { to });
                let dup = match self.last_seq.iter_mut().find(|e| e.0 == to) {
                    Some(e) => {
                        let dup = frame.retry && e.1 == frame.seq;
                        e.1 = frame.seq;
                        dup
                    }
                    None => {
                        self.last_seq.push((to, frame.seq));
                        false
                    }
                };
                if dup {
                    self.counters.duplicates += 1;
                } else if let Some(pkt) = &frame.packet {
                    cx.out.push(MacOut::Deliver {
                        pkt: pkt.clone(),
                        from: frame.src,
                    });
                }
            }
            FrameKind::Data if frame.dst == BROADCAST => {
                if let Some(pkt) = &frame.packet {
                    cx.out.push(MacOut::Deliver {
                        pkt: pkt.clone(),
                        from: frame.src,
                    });
                }
            }
            FrameKind::Data => {
                // Overheard unicast: defer for its ACK.
                self.set_nav(cx, now + frame.nav.as_nanos());
            }
        }
    }

    /// A frame was received in error: use EIFS before the next access.
    pub(crate) fn on_rx_error(&mut self) {
        self.use_eifs = true;
    }
}

#[cfg(test)]
mod tests;
