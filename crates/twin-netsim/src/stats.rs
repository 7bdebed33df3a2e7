//! Flow statistics in the manner of ns-3's FlowMonitor, plus routing
//! overhead and drop accounting.
//!
//! Per flow: packets and bytes offered by the application (`tx`), packets
//! that actually left the source node (`entered`, i.e. were handed to the
//! source's MAC: with proactive routing a packet without a route never
//! enters the network), packets and bytes received (`rx`, duplicates
//! ignored), `lost = tx − rx`, the delivery ratio against both `tx` and
//! `entered`, the end-to-end delay (mean and percentiles), jitter (mean
//! absolute difference of consecutive delays, as FlowMonitor's
//! `jitterSum / (rx − 1)`), mean hop count and throughput
//! (`rx bytes × 8 / (last rx − first tx)`).
//!
//! Globally: routing control packets and bytes transmitted (every hop
//! counts), the normalised routing load (control packets per delivered data
//! packet), MAC counters and drops by reason.

use std::collections::BTreeMap;

use serde::Serialize;
use twin_core::{NodeId, SimTime};

use crate::{
    mac::{MacCounters, MacDrop},
    packet::{Body, Packet},
    routing::NetDrop,
};

mod ledger;

use ledger::Ledger;
pub use ledger::{Accounting, AirLoss, Loss};

/// `(flow, seq)` of a data packet; `None` for control traffic.
pub(crate) fn data_id(pkt: &Packet) -> Option<(u32, u32)> {
    match pkt.body {
        Body::Data { flow, seq } => Some((flow, seq)),
        _ => None,
    }
}

/// A set of sequence numbers as a growable bitmap.
#[derive(Debug, Clone, Default)]
struct SeqSet(Vec<u64>);

impl SeqSet {
    /// Inserts `seq`; returns whether it was new.
    fn insert(&mut self, seq: u32) -> bool {
        let (w, b) = ((seq / 64) as usize, seq % 64);
        if w >= self.0.len() {
            self.0.resize(w + 1, 0);
        }
        let new = self.0[w] & (1 << b) == 0;
        self.0[w] |= 1 << b;
        new
    }
}

/// Accumulators of one flow.
#[derive(Debug, Clone, Default)]
pub(crate) struct FlowAcc {
    src: NodeId,
    dst: NodeId,
    offered_nominal: f64,
    tx: u64,
    tx_bytes: u64,
    entered: u64,
    entered_set: SeqSet,
    rx: u64,
    rx_bytes: u64,
    rx_set: SeqSet,
    delays: Vec<u64>,
    delay_sum: u128,
    jitter_sum: u128,
    last_delay: Option<u64>,
    hops_sum: u64,
    first_tx: Option<u64>,
    last_rx: Option<u64>,
}

/// The statistics collector of a run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Stats {
    flows: Vec<FlowAcc>,
    control_packets: u64,
    control_bytes: u64,
    data_transmissions: u64,
    net_drops: BTreeMap<NetDrop, u64>,
    mac_drops: BTreeMap<MacDrop, u64>,
    air_losses: BTreeMap<AirLoss, u64>,
    control_drops: u64,
    phy_rx_ok: u64,
    phy_rx_errors: u64,
    ledger: Ledger,
}

impl Stats {
    pub(crate) fn new(flows: impl IntoIterator<Item = (NodeId, NodeId, f64)>) -> Stats {
        let mut s = Stats {
            flows: flows
                .into_iter()
                .map(|(src, dst, offered_nominal)| FlowAcc {
                    src,
                    dst,
                    offered_nominal,
                    ..FlowAcc::default()
                })
                .collect(),
            ..Stats::default()
        };
        s.ledger = Ledger::new(s.flows.len());
        s
    }

    pub(crate) fn app_tx(&mut self, flow: u32, seq: u32, bytes: u32, now: SimTime) {
        self.ledger.sent(flow, seq);
        let f = &mut self.flows[flow as usize];
        f.tx += 1;
        f.tx_bytes += u64::from(bytes);
        f.first_tx.get_or_insert(now.as_nanos());
    }

    pub(crate) fn entered(&mut self, flow: u32, seq: u32) {
        let f = &mut self.flows[flow as usize];
        if f.entered_set.insert(seq) {
            f.entered += 1;
        }
    }

    pub(crate) fn data_transmission(&mut self) {
        self.data_transmissions += 1;
    }

    pub(crate) fn control_tx(&mut self, bytes: u32) {
        self.control_packets += 1;
        self.control_bytes += u64::from(bytes);
    }

    pub(crate) fn rx(
        &mut self,
        flow: u32,
        seq: u32,
        bytes: u32,
        created: SimTime,
        now: SimTime,
        hops: u8,
    ) {
        self.ledger.delivered(flow, seq);
        let f = &mut self.flows[flow as usize];
        if !f.rx_set.insert(seq) {
            return;
        }
        let d = now.as_nanos().saturating_sub(created.as_nanos());
        f.rx += 1;
        f.rx_bytes += u64::from(bytes);
        f.delays.push(d);
        f.delay_sum += u128::from(d);
        if let Some(last) = f.last_delay {
            f.jitter_sum += u128::from(d.abs_diff(last));
        }
        f.last_delay = Some(d);
        f.hops_sum += u64::from(hops) + 1;
        f.last_rx = Some(now.as_nanos());
    }

    /// Counts a network-layer drop (by reason for data, in one sum for control).
    pub(crate) fn net_drop(&mut self, reason: NetDrop, pkt: &Packet) {
        match data_id(pkt) {
            Some((flow, seq)) => {
                *self.net_drops.entry(reason).or_default() += 1;
                self.ledger.release(flow, seq, Some(Loss::Net(reason)));
            }
            None => self.control_drops += 1,
        }
    }

    /// Counts a MAC drop (by reason for data, in one sum for control).
    pub(crate) fn mac_drop(&mut self, reason: MacDrop, pkt: &Packet) {
        match data_id(pkt) {
            Some((flow, seq)) => {
                *self.mac_drops.entry(reason).or_default() += 1;
                self.ledger.release(flow, seq, Some(Loss::Mac(reason)));
            }
            None => self.control_drops += 1,
        }
    }

    /// Counts a packet lost in address resolution.
    pub(crate) fn arp_drop(&mut self, pkt: &Packet) {
        self.net_drop(NetDrop::Arp, pkt);
    }

    /// A next hop received a copy of data packet `id`.
    pub(crate) fn copy(&mut self, (flow, seq): (u32, u32)) {
        self.ledger.copy(flow, seq);
    }

    /// A sender's copy of `id` ended without loss (acknowledged, or its
    /// TDMA frame reached the addressee).
    pub(crate) fn handed_over(&mut self, (flow, seq): (u32, u32)) {
        self.ledger.release(flow, seq, None);
    }

    /// A frame carrying `id`, not retransmitted by its MAC, missed its addressee.
    pub(crate) fn air_loss(&mut self, (flow, seq): (u32, u32), why: AirLoss) {
        *self.air_losses.entry(why).or_default() += 1;
        self.ledger.release(flow, seq, Some(Loss::Air(why)));
    }

    /// Data packets with a live copy, as `(flow, seq)`.
    pub(crate) fn in_flight_ids(&self) -> Vec<(u32, u32)> {
        self.ledger.in_flight_ids()
    }

    pub(crate) fn phy_rx(&mut self, ok: bool) {
        if ok {
            self.phy_rx_ok += 1;
        } else {
            self.phy_rx_errors += 1;
        }
    }

    /// A serialisable snapshot.
    pub(crate) fn snapshot(&self, now: SimTime, events: u64, mac: MacCounters) -> StatsSnapshot {
        let flows: Vec<FlowReport> = self
            .flows
            .iter()
            .enumerate()
            .map(|(i, f)| FlowReport::new(i as u32, f))
            .collect();
        let tx: u64 = flows.iter().map(|f| f.tx_packets).sum();
        let entered: u64 = flows.iter().map(|f| f.entered_packets).sum();
        let rx: u64 = flows.iter().map(|f| f.rx_packets).sum();
        let offered: f64 = self.flows.iter().map(|f| f.offered_nominal).sum();
        let delay_sum: u128 = self.flows.iter().map(|f| f.delay_sum).sum();
        let hops_sum: u64 = self.flows.iter().map(|f| f.hops_sum).sum();
        let mut all: Vec<u64> = self
            .flows
            .iter()
            .flat_map(|f| f.delays.iter().copied())
            .collect();
        all.sort_unstable();
        StatsSnapshot {
            time_s: now.as_secs_f64(),
            events,
            totals: Totals {
                tx_packets: tx,
                entered_packets: entered,
                rx_packets: rx,
                offered_nominal: offered,
                delivery_ratio: ratio(rx, tx),
                delivery_ratio_entered: ratio(rx, entered),
                delivery_ratio_nominal: if offered > 0.0 {
                    rx as f64 / offered
                } else {
                    0.0
                },
                mean_delay_ms: if rx > 0 {
                    delay_sum as f64 / rx as f64 / 1e6
                } else {
                    0.0
                },
                delay_p50_ms: percentile(&all, 50.0),
                delay_p90_ms: percentile(&all, 90.0),
                delay_bins: delay_bins(&all),
                hops_mean: if rx > 0 {
                    hops_sum as f64 / rx as f64
                } else {
                    0.0
                },
            },
            routing: Overhead {
                control_packets: self.control_packets,
                control_bytes: self.control_bytes,
                data_transmissions: self.data_transmissions,
                normalized_routing_load: ratio(self.control_packets, rx),
                control_drops: self.control_drops,
            },
            mac,
            phy_rx_ok: self.phy_rx_ok,
            phy_rx_errors: self.phy_rx_errors,
            net_drops: self
                .net_drops
                .iter()
                .map(|(k, v)| (format!("{k:?}"), *v))
                .collect(),
            mac_drops: self
                .mac_drops
                .iter()
                .map(|(k, v)| (format!("{k:?}"), *v))
                .collect(),
            air_losses: self
                .air_losses
                .iter()
                .map(|(k, v)| (Loss::Air(*k).key(), *v))
                .collect(),
            accounting: self.ledger.report(tx),
            flows,
        }
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Upper edges of [`Totals::delay_bins`] \[ms\] (the last bin is open).
pub const DELAY_BIN_EDGES_MS: [f64; 5] = [10.0, 100.0, 300.0, 1000.0, 3000.0];

/// Packets and summed delay per delay bin (edges [`DELAY_BIN_EDGES_MS`]).
fn delay_bins(sorted: &[u64]) -> Vec<DelayBin> {
    let mut bins: Vec<DelayBin> = DELAY_BIN_EDGES_MS
        .iter()
        .copied()
        .chain([f64::INFINITY])
        .map(|upper_ms| DelayBin {
            upper_ms,
            packets: 0,
            delay_sum_ms: 0.0,
        })
        .collect();
    for &d in sorted {
        let ms = d as f64 / 1e6;
        let i = DELAY_BIN_EDGES_MS.partition_point(|&e| e <= ms);
        bins[i].packets += 1;
        bins[i].delay_sum_ms += ms;
    }
    bins
}

/// One bin of the end-to-end delay distribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DelayBin {
    /// Upper edge \[ms\] (exclusive; infinite for the last bin).
    pub upper_ms: f64,
    /// Packets received with a delay in this bin.
    pub packets: u64,
    /// Sum of their delays \[ms\]: the bin's share of the mean delay.
    pub delay_sum_ms: f64,
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let k = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[k.min(sorted.len() - 1)] as f64 / 1e6
}

/// Statistics of one flow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowReport {
    /// Flow index.
    pub flow: u32,
    /// Source node.
    pub src: NodeId,
    /// Destination node.
    pub dst: NodeId,
    /// Packets the application sent.
    pub tx_packets: u64,
    /// Bytes the application sent (UDP payload plus headers).
    pub tx_bytes: u64,
    /// Packets that left the source node.
    pub entered_packets: u64,
    /// Packets received (without duplicates).
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// `tx − rx`.
    pub lost_packets: u64,
    /// `rx / tx`.
    pub delivery_ratio: f64,
    /// `rx / entered`.
    pub delivery_ratio_entered: f64,
    /// Mean end-to-end delay \[ms\].
    pub delay_mean_ms: f64,
    /// Median delay \[ms\].
    pub delay_p50_ms: f64,
    /// 95th percentile delay \[ms\].
    pub delay_p95_ms: f64,
    /// 99th percentile delay \[ms\].
    pub delay_p99_ms: f64,
    /// Mean jitter \[ms\].
    pub jitter_mean_ms: f64,
    /// Mean path length of received packets \[hops\].
    pub hops_mean: f64,
    /// Throughput \[kb/s\].
    pub throughput_kbps: f64,
}

impl FlowReport {
    fn new(flow: u32, f: &FlowAcc) -> FlowReport {
        let mut sorted = f.delays.clone();
        sorted.sort_unstable();
        let span = match (f.first_tx, f.last_rx) {
            (Some(a), Some(b)) if b > a => (b - a) as f64 * 1e-9,
            _ => 0.0,
        };
        FlowReport {
            flow,
            src: f.src,
            dst: f.dst,
            tx_packets: f.tx,
            tx_bytes: f.tx_bytes,
            entered_packets: f.entered,
            rx_packets: f.rx,
            rx_bytes: f.rx_bytes,
            lost_packets: f.tx.saturating_sub(f.rx),
            delivery_ratio: ratio(f.rx, f.tx),
            delivery_ratio_entered: ratio(f.rx, f.entered),
            delay_mean_ms: if f.rx > 0 {
                f.delay_sum as f64 / f.rx as f64 / 1e6
            } else {
                0.0
            },
            delay_p50_ms: percentile(&sorted, 50.0),
            delay_p95_ms: percentile(&sorted, 95.0),
            delay_p99_ms: percentile(&sorted, 99.0),
            jitter_mean_ms: if f.rx > 1 {
                f.jitter_sum as f64 / (f.rx - 1) as f64 / 1e6
            } else {
                0.0
            },
            hops_mean: if f.rx > 0 {
                f.hops_sum as f64 / f.rx as f64
            } else {
                0.0
            },
            throughput_kbps: if span > 0.0 {
                f.rx_bytes as f64 * 8.0 / span / 1e3
            } else {
                0.0
            },
        }
    }
}

/// Totals over all flows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    /// Packets offered by the applications.
    pub tx_packets: u64,
    /// Packets that left their source.
    pub entered_packets: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Nominal offered load: Σ (stop − start) × rate.
    pub offered_nominal: f64,
    /// `rx / tx`.
    pub delivery_ratio: f64,
    /// `rx / entered`.
    pub delivery_ratio_entered: f64,
    /// `rx / offered_nominal` (comparable with the ns-3 anchor's "PDR vs offered").
    pub delivery_ratio_nominal: f64,
    /// Mean delay of all received packets \[ms\].
    pub mean_delay_ms: f64,
    /// Median delay of all received packets \[ms\].
    pub delay_p50_ms: f64,
    /// 90th percentile delay of all received packets \[ms\].
    pub delay_p90_ms: f64,
    /// Delay distribution in coarse bins, with each bin's delay sum.
    pub delay_bins: Vec<DelayBin>,
    /// Mean path length of all received packets \[hops\].
    pub hops_mean: f64,
}

/// Routing overhead.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overhead {
    /// Control packets transmitted (each hop counts).
    pub control_packets: u64,
    /// Control bytes transmitted (IP datagrams).
    pub control_bytes: u64,
    /// Data packet transmissions handed to MACs (each hop counts).
    pub data_transmissions: u64,
    /// Control packets per received data packet.
    pub normalized_routing_load: f64,
    /// Control packets dropped (any layer, any reason).
    pub control_drops: u64,
}

/// A snapshot of a run's statistics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsSnapshot {
    /// Simulation time of the snapshot \[s\].
    pub time_s: f64,
    /// Events executed so far.
    pub events: u64,
    /// Totals.
    pub totals: Totals,
    /// Routing overhead.
    pub routing: Overhead,
    /// MAC counters summed over nodes.
    pub mac: MacCounters,
    /// Frames received correctly by a locked PHY.
    pub phy_rx_ok: u64,
    /// Frames a locked PHY lost to noise or interference.
    pub phy_rx_errors: u64,
    /// Network-layer drops of data packets by reason.
    pub net_drops: BTreeMap<String, u64>,
    /// MAC drops of data packets by reason.
    pub mac_drops: BTreeMap<String, u64>,
    /// Data frames without MAC retransmission (TDMA) that missed their
    /// addressee, by reason (each lost frame counts).
    pub air_losses: BTreeMap<String, u64>,
    /// Fate of every application packet (balances: see [`Accounting`]).
    pub accounting: Accounting,
    /// Per-flow reports.
    pub flows: Vec<FlowReport>,
}

impl StatsSnapshot {
    /// Pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("statistics serialise to JSON")
    }

    /// One CSV row per flow, with a header line.
    pub fn flows_csv(&self) -> String {
        let mut s = String::from(
            "flow,src,dst,tx_packets,entered_packets,rx_packets,lost_packets,delivery_ratio,\
             delay_mean_ms,delay_p50_ms,delay_p95_ms,delay_p99_ms,jitter_mean_ms,hops_mean,throughput_kbps\n",
        );
        for f in &self.flows {
            s.push_str(&format!(
                "{},{},{},{},{},{},{},{:.6},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3}\n",
                f.flow,
                f.src.0,
                f.dst.0,
                f.tx_packets,
                f.entered_packets,
                f.rx_packets,
                f.lost_packets,
                f.delivery_ratio,
                f.delay_mean_ms,
                f.delay_p50_ms,
                f.delay_p95_ms,
                f.delay_p99_ms,
                f.jitter_mean_ms,
                f.hops_mean,
                f.throughput_kbps
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::delay_bins;

    #[test]
    fn delay_bins_split_at_their_edges() {
        let ns = |ms: f64| (ms * 1e6).round() as u64;
        let b = delay_bins(&[ns(0.5), ns(9.99), ns(10.0), ns(250.0), ns(5000.0)]);
        let counts: Vec<u64> = b.iter().map(|b| b.packets).collect();
        assert_eq!(counts, [2, 1, 1, 0, 0, 1]);
        assert!((b[0].delay_sum_ms - 10.49).abs() < 1e-9);
        assert!((b[5].delay_sum_ms - 5000.0).abs() < 1e-9);
        assert!(b[5].upper_ms.is_infinite());
    }
}
