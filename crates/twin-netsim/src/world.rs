//! The simulated world: nodes, channel and statistics, and the event
//! dispatch that wires the layers of each node together.
//!
//! Every event is a plain enum value ([`Event`]); the scheduler stores it in
//! its slab, no closure is boxed. Handling an event calls one layer's input
//! method; its typed outputs are routed to the next layer by the `on_*_out`
//! functions below (the node wiring), depth first, so everything a packet
//! triggers at one instant happens in one deterministic order.

use twin_core::{NodeId, SimDuration, SimTime};
use twin_des::{Scheduler, TraceHasher};

use crate::{
    arp::{ArpOut, ArpTimer},
    channel::{Channel, Transmission},
    mac::{MacCx, MacOut, MacTimer},
    mobility::{Mobility, Position},
    node::Node,
    packet::{Body, Frame, Packet, BROADCAST},
    pcap::{PcapSink, RadioInfo},
    phy::{mw, Lock, Mode, Radio},
    propagation::Propagation,
    routing::{NetCx, NetOut, NetTimer, Routing},
    stats::{data_id, AirLoss, Stats},
    traffic::Flow,
};

/// Everything that can happen.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// Flow `flow` sends its next packet.
    App { flow: u32 },
    /// The first bit of transmission `tx` reaches node `rx`.
    SignalStart { tx: u64, rx: u32, power_mw: f64 },
    /// The last bit of transmission `tx` reaches node `rx`.
    SignalEnd { tx: u64, rx: u32 },
    /// Node `node` finished transmitting.
    TxEnd { node: u32 },
    /// A MAC timer of `node`.
    Mac { node: u32, timer: MacTimer },
    /// A routing timer of `node`.
    Net { node: u32, timer: NetTimer },
    /// An ARP timer of `node`.
    Arp { node: u32, timer: ArpTimer },
}

impl Event {
    /// A compact tag for the trace hash: kind, node, detail.
    fn tag(&self) -> u64 {
        let (kind, node, detail): (u64, u32, u64) = match self {
            Event::App { flow } => (1, *flow, 0),
            Event::SignalStart { tx, rx, .. } => (2, *rx, *tx),
            Event::SignalEnd { tx, rx } => (3, *rx, *tx),
            Event::TxEnd { node } => (4, *node, 0),
            Event::Mac { node, timer } => (
                5,
                *node,
                match timer {
                    MacTimer::Access => 0,
                    MacTimer::AckTimeout => 1,
                    MacTimer::SendAck { to } => 2 | u64::from(*to) << 8,
                    MacTimer::NavEnd => 3,
                    MacTimer::SendCts { to } => 4 | u64::from(*to) << 8,
                    MacTimer::CtsTimeout => 5,
                    MacTimer::SendData => 6,
                    MacTimer::Slot => 7,
                },
            ),
            Event::Net { node, timer } => (
                6,
                *node,
                match timer {
                    NetTimer::Deferred(s) => u64::from(*s),
                    NetTimer::Aodv(t) => 1 << 32 | aodv_tag(*t),
                    NetTimer::Olsr(t) => 2 << 32 | *t as u64,
                    NetTimer::Greedy(_) => 3 << 32,
                },
            ),
            Event::Arp { node, timer } => (
                7,
                *node,
                match timer {
                    ArpTimer::Request(t) => u64::from(*t),
                    ArpTimer::WaitReply(t, e) => 1 << 63 | u64::from(*e) << 32 | u64::from(*t),
                    ArpTimer::CacheTick => 1 << 62,
                },
            ),
        };
        kind << 60 | u64::from(node) << 32 ^ detail
    }
}

/// Trace detail of an AODV timer.
fn aodv_tag(t: crate::routing::aodv::Timer) -> u64 {
    match t {
        crate::routing::aodv::Timer::Hello => 0,
        crate::routing::aodv::Timer::RreqTimeout(d) => 1 + u64::from(d),
        crate::routing::aodv::Timer::RreqSend(d) => 1 << 33 | u64::from(d),
    }
}

/// The position of node `n` at `now`, cached per instant.
fn pos_of(mob: &mut [Mobility], cache: &mut [(u64, Position)], n: usize, now: u64) -> Position {
    let c = &mut cache[n];
    if c.0 != now {
        *c = (now, mob[n].position(SimTime::from_nanos(now)));
    }
    c.1
}

/// The simulated world.
#[derive(Debug)]
pub(crate) struct World {
    /// Node names, by id.
    pub(crate) names: Vec<String>,
    /// Compiled radio profiles.
    pub(crate) radios: Vec<Radio>,
    /// Filter radius of each radio as a transmitter \[m\].
    pub(crate) reach: Vec<f64>,
    /// Lowest received power worth an event, per radio as receiver \[dBm\].
    pub(crate) floor_dbm: Vec<f64>,
    /// The propagation model shared by all links.
    pub(crate) prop: Propagation,
    /// Mobility process of each node.
    pub(crate) mob: Vec<Mobility>,
    /// Last evaluated position of each node, with its time \[ns\].
    cache: Vec<(u64, Position)>,
    /// Protocol stack of each node.
    pub(crate) nodes: Vec<Node>,
    /// Traffic generators.
    pub(crate) flows: Vec<Flow>,
    /// Transmissions on the air and the spatial index.
    pub(crate) channel: Channel,
    /// Flow statistics and counters.
    pub(crate) stats: Stats,
    /// Digest of every executed event.
    pub(crate) trace: TraceHasher,
    /// Last packet uid handed out.
    uid: u64,
    /// Scratch: receiver candidates of a transmission.
    cand: Vec<u32>,
    /// Frames each node put on the air (data, control, ACKs).
    pub(crate) frames_sent: Vec<u64>,
    /// Scratch: interference pieces at a receiver.
    pieces: Vec<(u64, u64, f64)>,
    /// Scratch: interference change points.
    scratch: Vec<(u64, f64)>,
    /// Reusable output buffers of MAC calls (calls nest).
    mac_pool: Vec<Vec<MacOut>>,
    /// Reusable output buffers of routing calls (calls nest).
    net_pool: Vec<Vec<NetOut>>,
    /// Frame capture, if enabled.
    pub(crate) pcap: Option<PcapSink>,
    /// The first capture write error (capture stops there).
    pub(crate) pcap_error: Option<std::io::Error>,
    /// Data frames on the air that own their packet's copy (no MAC
    /// retransmission): transmission id → (flow, seq, addressee).
    pub(crate) air: rustc_hash::FxHashMap<u64, (u32, u32, u32)>,
}

impl World {
    /// Assembles a world; positions are evaluated lazily from `mob`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        names: Vec<String>,
        radios: Vec<Radio>,
        reach: Vec<f64>,
        floor_dbm: Vec<f64>,
        prop: Propagation,
        mob: Vec<Mobility>,
        nodes: Vec<Node>,
        flows: Vec<Flow>,
        channel: Channel,
        stats: Stats,
    ) -> World {
        let n = mob.len();
        World {
            names,
            radios,
            reach,
            floor_dbm,
            prop,
            mob,
            cache: vec![(u64::MAX, Position::local(0.0, 0.0, 0.0)); n],
            nodes,
            flows,
            channel,
            stats,
            trace: TraceHasher::new(),
            uid: 0,
            cand: Vec::new(),
            frames_sent: vec![0; n],
            pieces: Vec::new(),
            scratch: Vec::new(),
            mac_pool: Vec::new(),
            net_pool: Vec::new(),
            pcap: None,
            pcap_error: None,
            air: rustc_hash::FxHashMap::default(),
        }
    }

    /// Position of node `n` at `now`.
    pub(crate) fn position(&mut self, n: usize, now: SimTime) -> Position {
        pos_of(&mut self.mob, &mut self.cache, n, now.as_nanos())
    }

    /// Forgets a cached position (after an external update).
    pub(crate) fn invalidate(&mut self, n: usize) {
        self.cache[n].0 = u64::MAX;
    }

    /// The `(flow, seq)` of every data packet physically present now: in
    /// a deferred send, routing buffer, ARP queue or MAC queue of any node,
    /// or on the air as a TDMA frame; sorted, without duplicates.
    pub(crate) fn census(&self) -> Vec<(u32, u32)> {
        let mut v: Vec<(u32, u32)> = self.air.values().map(|&(f, q, _)| (f, q)).collect();
        let mut add = |p: &Packet| v.extend(data_id(p));
        for n in &self.nodes {
            n.deferred.iter().flatten().for_each(|(p, _)| add(p));
            n.net.for_each_packet(&mut add);
            if let Some(a) = &n.arp {
                a.for_each_packet(&mut add);
            }
            n.mac.for_each_packet(&mut add);
        }
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Starts every routing process and flow (at time zero).
    pub(crate) fn start(&mut self, s: &mut Scheduler<Event>) {
        for n in 0..self.nodes.len() as u32 {
            self.run_net(s, n, |net, cx| net.start(cx));
        }
        for f in &self.flows {
            if f.start < f.stop {
                s.schedule_at(SimTime::from_nanos(f.start), Event::App { flow: f.id })
                    .expect("flow start lies in the future");
            }
        }
    }

    /// Handles one event.
    pub(crate) fn handle(&mut self, s: &mut Scheduler<Event>, now: SimTime, ev: Event) {
        self.trace.record(now, ev.tag());
        match ev {
            Event::App { flow } => self.app(s, flow),
            Event::SignalStart { tx, rx, power_mw } => self.signal_start(s, tx, rx, power_mw),
            Event::SignalEnd { tx, rx } => self.signal_end(s, tx, rx),
            Event::TxEnd { node } => {
                self.nodes[node as usize].phy.end_tx();
                self.run_mac(s, node, |m, cx| m.on_tx_end(cx));
                self.cca(s, node);
            }
            Event::Mac { node, timer } => self.run_mac(s, node, |m, cx| m.on_timer(cx, timer)),
            Event::Net { node, timer } => match timer {
                NetTimer::Deferred(slot) => {
                    if let Some((pkt, next_hop)) = self.nodes[node as usize].take_deferred(slot) {
                        self.hand_to_mac(s, node, pkt, next_hop);
                    }
                }
                t => self.run_net(s, node, |net, cx| net.timer(cx, t)),
            },
            Event::Arp { node, timer } => {
                self.uid += 1;
                let now = s.now().as_nanos();
                let mut out = Vec::new();
                if let Some(arp) = self.nodes[node as usize].arp.as_mut() {
                    arp.timer(now, &mut self.uid, timer, &mut out);
                }
                self.on_arp_out(s, node, out);
            }
        }
    }

    /// A flow emits a packet (and schedules its next one) into the
    /// routing process of its source.
    fn app(&mut self, s: &mut Scheduler<Event>, flow: u32) {
        let now = s.now();
        let f = &mut self.flows[flow as usize];
        if now.as_nanos() >= f.stop {
            return;
        }
        self.uid += 1;
        let pkt = f.packet(now, self.uid);
        let src = f.src.0;
        let gap = f.next_gap();
        if now.as_nanos() + gap < f.stop {
            s.schedule_in(SimDuration::from_nanos(gap), Event::App { flow })
                .expect("flow gaps fit in SimTime");
        }
        if let Body::Data { seq, .. } = pkt.body {
            self.stats.app_tx(flow, seq, pkt.bytes, now);
        }
        self.run_net(s, src, |net, cx| net.send(cx, pkt));
    }

    /// Calls the routing process of `node`, then routes its outputs.
    fn run_net(
        &mut self,
        s: &mut Scheduler<Event>,
        node: u32,
        f: impl FnOnce(&mut Routing, &mut NetCx<'_>),
    ) {
        let mut out = self.net_pool.pop().unwrap_or_default();
        {
            let World {
                nodes,
                mob,
                cache,
                uid,
                ..
            } = self;
            let now = s.now();
            let mut positions = |n: NodeId| pos_of(mob, cache, n.0 as usize, now.as_nanos());
            let Node { net, arp, .. } = &mut nodes[node as usize];
            let arp = &*arp;
            let resolved = |n: NodeId| arp.as_ref().is_none_or(|a| a.resolved(n, now.as_nanos()));
            let mut cx = NetCx {
                now,
                me: NodeId(node),
                sched: s,
                out: &mut out,
                uid,
                positions: &mut positions,
                resolved: &resolved,
            };
            f(net, &mut cx);
        }
        for o in out.drain(..) {
            self.on_net_out(s, node, o);
        }
        self.net_pool.push(out);
    }

    /// Wiring of routing outputs.
    fn on_net_out(&mut self, s: &mut Scheduler<Event>, node: u32, o: NetOut) {
        match o {
            NetOut::Send { pkt, next_hop } => self.hand_to_mac(s, node, pkt, next_hop),
            NetOut::SendLater {
                pkt,
                next_hop,
                delay,
            } => {
                let slot = self.nodes[node as usize].defer(pkt, next_hop);
                let timer = NetTimer::Deferred(slot);
                s.schedule_in(delay, Event::Net { node, timer })
                    .expect("jitter fits in SimTime");
            }
            NetOut::Deliver(pkt) => {
                if let Body::Data { flow, seq } = pkt.body {
                    self.stats
                        .rx(flow, seq, pkt.bytes, pkt.created, s.now(), pkt.hops);
                }
            }
            NetOut::Drop { pkt, reason } => self.stats.net_drop(reason, &pkt),
        }
    }

    /// Hands a packet from the routing of `node` to its MAC.
    fn hand_to_mac(&mut self, s: &mut Scheduler<Event>, node: u32, pkt: Packet, next_hop: NodeId) {
        match pkt.body {
            Body::Data { flow, seq } => {
                self.stats.data_transmission();
                if pkt.src.0 == node && pkt.hops == 0 {
                    self.stats.entered(flow, seq);
                }
            }
            _ => self.stats.control_tx(pkt.bytes),
        }
        let now = s.now().as_nanos();
        match self.nodes[node as usize].arp.as_mut() {
            Some(arp) if next_hop != BROADCAST => {
                let mut out = Vec::new();
                arp.send(now, pkt, next_hop, &mut out);
                self.on_arp_out(s, node, out);
            }
            _ => self.run_mac(s, node, |m, cx| m.enqueue(cx, pkt, next_hop)),
        }
    }

    /// Wiring of ARP outputs.
    fn on_arp_out(&mut self, s: &mut Scheduler<Event>, node: u32, out: Vec<ArpOut>) {
        for o in out {
            match o {
                ArpOut::Send(pkt, next_hop) => {
                    self.run_mac(s, node, |m, cx| m.enqueue(cx, pkt, next_hop));
                }
                ArpOut::Timer(delay, timer) => {
                    s.schedule_in(SimDuration::from_nanos(delay), Event::Arp { node, timer })
                        .expect("ARP timers fit in SimTime");
                }
                ArpOut::Drop(pkt) => self.stats.arp_drop(&pkt),
            }
        }
    }

    /// Calls the MAC of `node`, then routes its outputs.
    fn run_mac(
        &mut self,
        s: &mut Scheduler<Event>,
        node: u32,
        f: impl FnOnce(&mut crate::mac::Mac, &mut MacCx<'_>),
    ) {
        let mut out = self.mac_pool.pop().unwrap_or_default();
        {
            let mut cx = MacCx {
                now: s.now(),
                node,
                sched: s,
                out: &mut out,
            };
            f(&mut self.nodes[node as usize].mac, &mut cx);
        }
        for o in out.drain(..) {
            self.on_mac_out(s, node, o);
        }
        self.mac_pool.push(out);
    }

    /// Wiring of MAC outputs.
    fn on_mac_out(&mut self, s: &mut Scheduler<Event>, node: u32, o: MacOut) {
        match o {
            MacOut::Transmit(frame, mode) => self.transmit(s, node, frame, mode),
            MacOut::Deliver { pkt, from } => {
                if let Body::Arp(msg) = pkt.body {
                    self.uid += 1;
                    let (now, uid) = (s.now().as_nanos(), self.uid);
                    let mut out = Vec::new();
                    if let Some(arp) = self.nodes[node as usize].arp.as_mut() {
                        arp.receive(now, uid, msg, from, &mut out);
                    }
                    self.on_arp_out(s, node, out);
                } else {
                    if let Some(id) = data_id(&pkt) {
                        self.stats.copy(id);
                    }
                    self.run_net(s, node, |n, cx| n.receive(cx, pkt, from));
                }
            }
            MacOut::TxOk { data } => {
                if let Some(id) = data {
                    self.stats.handed_over(id);
                }
            }
            MacOut::TxFailed { pkt, .. } if matches!(pkt.body, Body::Arp(_)) => {
                self.stats.mac_drop(crate::mac::MacDrop::RetryLimit, &pkt);
            }
            MacOut::TxFailed {
                pkt,
                next_hop,
                queued_at,
            } => {
                self.run_net(s, node, |n, cx| n.tx_failed(cx, pkt, next_hop, queued_at));
            }
            MacOut::Dropped { pkt, reason } => self.stats.mac_drop(reason, &pkt),
        }
    }

    /// Writes `frame` to `node`'s capture, if capturing.
    fn capture(&mut self, node: u32, t: u64, frame: &Frame, mode: Mode, dbm: f64) {
        let Some(p) = self.pcap.as_mut() else {
            return;
        };
        let r = &self.radios[self.nodes[node as usize].phy.radio];
        let info = RadioInfo {
            rate_mbps: mode.rate() / 1e6,
            frequency_hz: r.frequency,
            signal_dbm: dbm,
            noise_dbm: 10.0 * r.noise_mw.log10(),
        };
        if let Err(e) = p.record(node, t, frame, info) {
            self.pcap = None;
            self.pcap_error = Some(e);
        }
    }

    /// Reports a carrier-sense edge of `node`'s PHY to its MAC.
    fn cca(&mut self, s: &mut Scheduler<Event>, node: u32) {
        let n = &mut self.nodes[node as usize];
        let r = &self.radios[n.phy.radio];
        if let Some(busy) = n.phy.cca_edge(r, s.now().as_nanos()) {
            self.run_mac(s, node, |m, cx| m.on_cca(cx, busy));
        }
    }

    /// Puts a frame on the air and schedules its arrival at every node the
    /// spatial filter keeps.
    fn transmit(&mut self, s: &mut Scheduler<Event>, node: u32, frame: Frame, mode: Mode) {
        let now = s.now().as_nanos();
        let ri = self.nodes[node as usize].phy.radio;
        let r = &self.radios[ri];
        let dur = r.duration(mode, frame.bytes);
        let pos = pos_of(&mut self.mob, &mut self.cache, node as usize, now);
        self.nodes[node as usize].phy.start_tx();
        self.frames_sent[node as usize] += 1;
        s.schedule_in(SimDuration::from_nanos(dur), Event::TxEnd { node })
            .expect("frame fits in SimTime");
        let t = Transmission {
            src: node,
            pos,
            start: now,
            end: now + dur,
            tx_dbm: r.tx_dbm,
            frequency: r.frequency,
            lambda: r.lambda,
            mode,
            frame,
        };
        let (tx_dbm, lambda, freq) = (r.tx_dbm, r.lambda, r.frequency);
        // A TDMA data frame carries its packet's copy (no retransmission).
        let owned = match (&self.nodes[node as usize].mac, t.frame.packet.as_ref()) {
            (crate::mac::Mac::Tdma(_), Some(p)) if t.frame.dst != BROADCAST => {
                data_id(p).map(|(f, q)| (f, q, t.frame.dst.0))
            }
            _ => None,
        };
        let mut reached = false;
        if self.pcap.is_some() {
            self.capture(node, now, &t.frame, mode, tx_dbm);
        }
        let id = self.channel.push(t, now);
        if let Some(o) = owned {
            self.air.insert(id, o);
        }
        if self.channel.grid.stale(now) {
            let World {
                mob,
                cache,
                channel,
                ..
            } = self;
            let n = mob.len();
            channel
                .grid
                .rebuild(now, (0..n).map(|i| pos_of(mob, cache, i, now).xyz));
        }
        let mut cand = std::mem::take(&mut self.cand);
        self.channel
            .grid
            .query(pos.xyz, self.reach[ri], now, &mut cand);
        for &rx in &cand {
            if rx == node {
                continue;
            }
            let rri = self.nodes[rx as usize].phy.radio;
            let rr = &self.radios[rri];
            if rr.frequency != freq {
                continue;
            }
            let gain = rr.rx_gain_db;
            let rpos = pos_of(&mut self.mob, &mut self.cache, rx as usize, now);
            if let Some((p_dbm, d)) = self.prop.rx_power_dbm(tx_dbm + gain, lambda, &pos, &rpos) {
                if p_dbm >= self.floor_dbm[rri] {
                    reached |= owned.is_some_and(|o| o.2 == rx);
                    let ev = Event::SignalStart {
                        tx: id,
                        rx,
                        power_mw: mw(p_dbm),
                    };
                    s.schedule_in(Propagation::delay(d), ev)
                        .expect("propagation delay fits in SimTime");
                }
            }
        }
        self.cand = cand;
        if owned.is_some() && !reached {
            self.resolve_air(id, None, AirLoss::OutOfRange);
        }
        self.cca(s, node);
    }

    /// Settles the copy carried by air transmission `tx` at `rx`
    /// (`None`: at any node): handed over if `ok`, else lost for `why`.
    fn resolve_air_as(&mut self, tx: u64, rx: Option<u32>, ok: bool, why: AirLoss) {
        let Some(&(flow, seq, to)) = self.air.get(&tx) else {
            return;
        };
        if rx.is_some_and(|r| r != to) {
            return;
        }
        self.air.remove(&tx);
        if ok {
            self.stats.handed_over((flow, seq));
        } else {
            self.stats.air_loss((flow, seq), why);
        }
    }

    /// Settles the copy carried by `tx` at `rx` as lost for `why`.
    fn resolve_air(&mut self, tx: u64, rx: Option<u32>, why: AirLoss) {
        if !self.air.is_empty() {
            self.resolve_air_as(tx, rx, false, why);
        }
    }

    /// The first bit of `tx` reaches `rx`: preamble detection against the
    /// interference present now decides whether the PHY locks on it. The
    /// end of the signal is an event only if it matters (a lock, or energy
    /// above the CCA threshold); otherwise the signal expires silently.
    fn signal_start(&mut self, s: &mut Scheduler<Event>, tx: u64, rx: u32, power_mw: f64) {
        let now = s.now().as_nanos();
        let Some(t) = self.channel.get(tx) else {
            self.resolve_air(tx, Some(rx), AirLoss::PhyError);
            return;
        };
        let end = t.end + (now - t.start);
        let n = rx as usize;
        let r = &self.radios[self.nodes[n].phy.radio];
        let mut lock = None;
        let mut why = AirLoss::OutOfRange;
        if power_mw >= r.pd_rssi_mw {
            why = AirLoss::RxBusy;
        }
        if self.nodes[n].phy.can_lock() && power_mw >= r.pd_rssi_mw {
            why = AirLoss::Collision;
            let rpos = pos_of(&mut self.mob, &mut self.cache, n, now);
            self.channel.interference(
                &self.prop,
                rx,
                &rpos,
                r.rx_gain_db,
                r.frequency,
                now,
                now + 1,
                tx,
                &mut self.pieces,
            );
            let i: f64 = self.pieces.iter().map(|p| p.2).sum();
            if power_mw / (r.noise_mw + i) >= r.pd_snr {
                lock = Some(Lock {
                    tx,
                    start: now,
                    end,
                    power_mw,
                });
            }
        }
        let cca_mw = r.cca_mw;
        if lock.is_none() {
            self.resolve_air(tx, Some(rx), why);
        }
        let phy = &mut self.nodes[n].phy;
        phy.signal_start(tx, power_mw, end, lock);
        if lock.is_some() || phy.energy_mw(now) >= cca_mw {
            s.schedule_at(SimTime::from_nanos(end), Event::SignalEnd { tx, rx })
                .expect("signal end lies in the future");
        }
        self.cca(s, rx);
    }

    /// The last bit of `tx` reaches `rx`: if the PHY was locked on it, the
    /// frame survives with the probability given by its SINR chunks, drawn
    /// from the node's PHY stream, and goes to the MAC (or counts as an
    /// error, which switches the MAC to EIFS).
    fn signal_end(&mut self, s: &mut Scheduler<Event>, tx: u64, rx: u32) {
        let now = s.now().as_nanos();
        let n = rx as usize;
        if let Some(l) = self.nodes[n].phy.signal_end(tx) {
            if let Some(t) = self.channel.get(tx) {
                let r = &self.radios[self.nodes[n].phy.radio];
                let rpos = pos_of(&mut self.mob, &mut self.cache, n, now);
                self.channel.interference(
                    &self.prop,
                    rx,
                    &rpos,
                    r.rx_gain_db,
                    r.frequency,
                    l.start,
                    l.end,
                    tx,
                    &mut self.pieces,
                );
                let p = r.success_probability(
                    t.mode,
                    l.start,
                    l.end,
                    l.power_mw,
                    &self.pieces,
                    &mut self.scratch,
                );
                let ok = p >= 1.0 || self.nodes[n].rng.uniform_f64() < p;
                self.stats.phy_rx(ok);
                if ok {
                    let frame = t.frame.clone();
                    if self.pcap.is_some() {
                        let dbm = 10.0 * l.power_mw.log10();
                        self.capture(rx, now, &frame, t.mode, dbm);
                    }
                    self.run_mac(s, rx, |m, cx| m.on_rx(cx, &frame));
                    if !self.air.is_empty() {
                        self.resolve_air_as(tx, Some(rx), true, AirLoss::PhyError);
                    }
                } else {
                    self.nodes[n].mac.on_rx_error();
                    self.resolve_air(tx, Some(rx), AirLoss::PhyError);
                }
            }
        }
        // Lock lost (the addressee started sending) or frame gone.
        self.resolve_air(tx, Some(rx), AirLoss::RxBusy);
        self.cca(s, rx);
    }
}
