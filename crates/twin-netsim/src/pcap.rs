//! pcap traces of the frames each node sends and receives, readable by
//! Wireshark and tshark.
//!
//! One file per node (`DIR/<node>.pcap`, as ns-3's `EnablePcapAll` writes
//! one per device), link type 127 (`LINKTYPE_IEEE802_11_RADIOTAP`): every
//! record is a radiotap header (flags, rate, channel, signal and noise in
//! dBm) followed by the 802.11 frame without FCS. Transmissions are stamped
//! with their start, receptions with their end (when the PHY hands the
//! frame to the MAC), as ns-3's monitor sniffers do.
//!
//! Addressing follows ns-3's helpers: node *i* has MAC `00:00:00:00:hi:lo`
//! with `hi:lo` = *i* + 1 and IPv4 address `10.1.hi.lo`; broadcasts go to
//! `ff:ff:ff:ff:ff:ff` / `255.255.255.255`. Packet contents are encoded as
//! on a real network: IPv4 + UDP headers (ports 9 for data, 654 AODV,
//! 698 OLSR, 4000 greedy beacons), AODV messages per RFC 3561 §5, OLSR
//! packets per RFC 3626 §3.3, ARP per RFC 826; application payload is
//! zeros. Every datagram has exactly the size the simulator accounts.

use std::{
    fs::File,
    io::{self, BufWriter, Write},
    path::Path,
};

use twin_core::NodeId;

use crate::{
    arp::ArpMsg,
    packet::{Body, Frame, FrameKind, Packet, BROADCAST},
    routing::{
        olsr::{LinkType, NeighborType, OlsrBody},
        AodvMsg,
    },
};

/// `LINKTYPE_IEEE802_11_RADIOTAP`.
pub const LINKTYPE_RADIOTAP: u32 = 127;

/// Per-node pcap writers.
#[derive(Debug)]
pub(crate) struct PcapSink {
    files: Vec<BufWriter<File>>,
}

/// Radio facts recorded with a frame.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RadioInfo {
    /// Data rate \[Mb/s\].
    pub(crate) rate_mbps: f64,
    /// Centre frequency \[Hz\].
    pub(crate) frequency_hz: f64,
    /// Received (or transmitted) power \[dBm\].
    pub(crate) signal_dbm: f64,
    /// Noise floor \[dBm\].
    pub(crate) noise_dbm: f64,
}

impl PcapSink {
    /// Creates `dir/<name>.pcap` for every node (and `dir` itself).
    pub(crate) fn create(dir: &Path, names: &[String]) -> io::Result<PcapSink> {
        std::fs::create_dir_all(dir)?;
        let mut files = Vec::with_capacity(names.len());
        for n in names {
            let mut w = BufWriter::new(File::create(dir.join(format!("{n}.pcap")))?);
            // Global header: magic (µs), version 2.4, zone, sigfigs, snaplen, link type.
            w.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
            w.write_all(&2u16.to_le_bytes())?;
            w.write_all(&4u16.to_le_bytes())?;
            w.write_all(&0i32.to_le_bytes())?;
            w.write_all(&0u32.to_le_bytes())?;
            w.write_all(&65_535u32.to_le_bytes())?;
            w.write_all(&LINKTYPE_RADIOTAP.to_le_bytes())?;
            files.push(w);
        }
        Ok(PcapSink { files })
    }

    /// Appends `frame` to `node`'s file at `t_ns`.
    pub(crate) fn record(
        &mut self,
        node: u32,
        t_ns: u64,
        frame: &Frame,
        radio: RadioInfo,
    ) -> io::Result<()> {
        let mut rec = radiotap(radio);
        encode_frame(frame, &mut rec);
        let w = &mut self.files[node as usize];
        let (s, us) = (t_ns / 1_000_000_000, (t_ns % 1_000_000_000) / 1_000);
        w.write_all(&(s as u32).to_le_bytes())?;
        w.write_all(&(us as u32).to_le_bytes())?;
        w.write_all(&(rec.len() as u32).to_le_bytes())?;
        w.write_all(&(rec.len() as u32).to_le_bytes())?;
        w.write_all(&rec)
    }

    /// Flushes every file.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.files.iter_mut().try_for_each(Write::flush)
    }
}

/// Radiotap header: flags, rate, channel, antenna signal and noise.
fn radiotap(r: RadioInfo) -> Vec<u8> {
    let present: u32 = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 6);
    let mut v = vec![0u8, 0, 16, 0];
    v.extend_from_slice(&present.to_le_bytes());
    v.push(0); // flags
    v.push((r.rate_mbps * 2.0).round().clamp(0.0, 255.0) as u8); // 500 kb/s units
    let mhz = (r.frequency_hz / 1e6).round().clamp(0.0, 65_535.0) as u16;
    v.extend_from_slice(&mhz.to_le_bytes());
    // Channel flags: 2 GHz + CCK below 3 GHz, 5 GHz + OFDM above.
    let flags: u16 = if mhz < 3000 {
        0x0080 | 0x0020
    } else {
        0x0100 | 0x0040
    };
    v.extend_from_slice(&flags.to_le_bytes());
    v.push(r.signal_dbm.round().clamp(-128.0, 127.0) as i8 as u8);
    v.push(r.noise_dbm.round().clamp(-128.0, 127.0) as i8 as u8);
    v
}

/// MAC address of a node.
pub fn mac_of(n: NodeId) -> [u8; 6] {
    if n == BROADCAST {
        return [0xff; 6];
    }
    let k = n.0.wrapping_add(1);
    [
        0,
        0,
        (k >> 24) as u8,
        (k >> 16) as u8,
        (k >> 8) as u8,
        k as u8,
    ]
}

/// IPv4 address of a node (`10.1.0.0/16` like ns-3's helper).
pub fn ip_of(n: NodeId) -> [u8; 4] {
    if n == BROADCAST {
        return [255; 4];
    }
    let k = n.0.wrapping_add(1);
    [10, 1, (k >> 8) as u8, k as u8]
}

/// Appends the 802.11 frame (no FCS).
fn encode_frame(f: &Frame, out: &mut Vec<u8>) {
    let dur = (f.nav.as_nanos() / 1_000).min(32_767) as u16;
    let retry = if f.retry { 0x08 } else { 0 };
    match f.kind {
        FrameKind::Ack | FrameKind::Cts => {
            let fc = if f.kind == FrameKind::Ack { 0xd4 } else { 0xc4 };
            out.extend_from_slice(&[fc, 0]);
            out.extend_from_slice(&dur.to_le_bytes());
            out.extend_from_slice(&mac_of(f.dst));
        }
        FrameKind::Rts => {
            out.extend_from_slice(&[0xb4, 0]);
            out.extend_from_slice(&dur.to_le_bytes());
            out.extend_from_slice(&mac_of(f.dst));
            out.extend_from_slice(&mac_of(f.src));
        }
        FrameKind::Data => {
            out.extend_from_slice(&[0x08, retry]);
            out.extend_from_slice(&dur.to_le_bytes());
            out.extend_from_slice(&mac_of(f.dst));
            out.extend_from_slice(&mac_of(f.src));
            out.extend_from_slice(&[0; 6]); // BSSID of the ad hoc network
            out.extend_from_slice(&(f.seq << 4).to_le_bytes());
            let Some(p) = &f.packet else { return };
            let ethertype: u16 = if matches!(p.body, Body::Arp(_)) {
                0x0806
            } else {
                0x0800
            };
            out.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0]);
            out.extend_from_slice(&ethertype.to_be_bytes());
            encode_packet(p, f.src, out);
        }
    }
}

/// Appends the network-layer datagram of `p`, sent by `from`.
fn encode_packet(p: &Packet, from: NodeId, out: &mut Vec<u8>) {
    if let Body::Arp(msg) = &p.body {
        let (op, target_mac, target_ip) = match msg {
            ArpMsg::Request { target } => (1u16, [0; 6], ip_of(*target)),
            ArpMsg::Reply => (2u16, mac_of(p.dst), ip_of(p.dst)),
        };
        out.extend_from_slice(&[0, 1, 8, 0, 6, 4]);
        out.extend_from_slice(&op.to_be_bytes());
        out.extend_from_slice(&mac_of(from));
        out.extend_from_slice(&ip_of(from));
        out.extend_from_slice(&target_mac);
        out.extend_from_slice(&target_ip);
        return;
    }
    let port: u16 = match p.body {
        Body::Data { .. } => 9,
        Body::Aodv(_) => 654,
        Body::Olsr(_) => 698,
        Body::Beacon { .. } | Body::Arp(_) => 4000,
    };
    let total = p.bytes.clamp(28, 65_535) as usize;
    let mut payload = Vec::with_capacity(total - 28);
    match &p.body {
        Body::Aodv(m) => encode_aodv(m, from, &mut payload),
        Body::Olsr(op) => {
            payload.extend_from_slice(&((total - 28) as u16).to_be_bytes());
            payload.extend_from_slice(&op.seq.to_be_bytes());
            for m in &op.msgs {
                encode_olsr_msg(m, &mut payload);
            }
        }
        _ => {}
    }
    payload.resize(total - 28, 0);
    // The IP source of a forwarded RREQ is the forwarder, as in ns-3.
    let src = if matches!(p.body, Body::Aodv(_) | Body::Olsr(_)) {
        from
    } else {
        p.src
    };
    let mut ip = [0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    ip[4..6].copy_from_slice(&(p.uid as u16).to_be_bytes());
    ip[8] = p.ttl.max(1);
    ip[9] = 17;
    ip[12..16].copy_from_slice(&ip_of(src));
    ip[16..20].copy_from_slice(&ip_of(p.dst));
    let sum = checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    out.extend_from_slice(&ip);
    out.extend_from_slice(&port.to_be_bytes());
    out.extend_from_slice(&port.to_be_bytes());
    out.extend_from_slice(&((total - 20) as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0]); // no UDP checksum
    out.extend_from_slice(&payload);
}

/// RFC 791 header checksum.
fn checksum(h: &[u8]) -> u16 {
    let mut s: u32 = h
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// RFC 3561 §5 message formats.
fn encode_aodv(m: &AodvMsg, from: NodeId, out: &mut Vec<u8>) {
    match m {
        AodvMsg::Rreq(r) => {
            let flags = u8::from(r.gratuitous) << 5
                | u8::from(r.dest_only) << 4
                | u8::from(r.unknown_seq) << 3;
            out.extend_from_slice(&[1, flags, 0, r.hop_count]);
            out.extend_from_slice(&r.id.to_be_bytes());
            out.extend_from_slice(&ip_of(r.dst));
            out.extend_from_slice(&r.dst_seq.to_be_bytes());
            out.extend_from_slice(&ip_of(r.origin));
            out.extend_from_slice(&r.origin_seq.to_be_bytes());
        }
        AodvMsg::Rrep(r) => {
            out.extend_from_slice(&[2, u8::from(r.ack_required) << 6, 0, r.hop_count]);
            out.extend_from_slice(&ip_of(r.dst));
            out.extend_from_slice(&r.dst_seq.to_be_bytes());
            out.extend_from_slice(&ip_of(r.origin));
            out.extend_from_slice(&r.lifetime_ms.to_be_bytes());
        }
        AodvMsg::Hello { seq } => {
            // A HELLO is an RREP about ourselves with TTL 1 (§6.9); the
            // originator field is not used.
            out.extend_from_slice(&[2, 0, 0, 0]);
            out.extend_from_slice(&ip_of(from));
            out.extend_from_slice(&seq.to_be_bytes());
            out.extend_from_slice(&[0; 4]);
            out.extend_from_slice(&2000u32.to_be_bytes());
        }
        AodvMsg::RrepAck => out.extend_from_slice(&[4, 0]),
        AodvMsg::Rerr(list) => {
            out.extend_from_slice(&[3, 0, 0, list.len().min(255) as u8]);
            for (d, s) in list.iter() {
                out.extend_from_slice(&ip_of(*d));
                out.extend_from_slice(&s.to_be_bytes());
            }
        }
    }
}

/// RFC 3626 §3.3 message header and HELLO (§6.1) / TC (§9.1) bodies.
fn encode_olsr_msg(m: &crate::routing::olsr::OlsrMsg, out: &mut Vec<u8>) {
    let mut body = Vec::new();
    let kind = match &m.body {
        OlsrBody::Hello { willingness, links } => {
            body.extend_from_slice(&[0, 0, 0x05, *willingness]); // htime 2 s
            let codes = [
                (LinkType::Sym, NeighborType::Mpr),
                (LinkType::Sym, NeighborType::Sym),
                (LinkType::Asym, NeighborType::Not),
                (LinkType::Lost, NeighborType::Not),
            ];
            for (lt, nt) in codes {
                let addrs: Vec<NodeId> = links
                    .iter()
                    .filter(|(l, n, _)| (*l, *n) == (lt, nt))
                    .map(|x| x.2)
                    .collect();
                if addrs.is_empty() {
                    continue;
                }
                let ltc = match lt {
                    LinkType::Asym => 1u8,
                    LinkType::Sym => 2,
                    LinkType::Lost => 3,
                };
                let ntc = match nt {
                    NeighborType::Not => 0u8,
                    NeighborType::Sym => 1,
                    NeighborType::Mpr => 2,
                };
                body.extend_from_slice(&[ntc << 2 | ltc, 0]);
                body.extend_from_slice(&((4 + 4 * addrs.len()) as u16).to_be_bytes());
                for a in addrs {
                    body.extend_from_slice(&ip_of(a));
                }
            }
            1u8
        }
        OlsrBody::Tc { ansn, advertised } => {
            body.extend_from_slice(&ansn.to_be_bytes());
            body.extend_from_slice(&[0, 0]);
            for a in advertised {
                body.extend_from_slice(&ip_of(*a));
            }
            2
        }
    };
    out.extend_from_slice(&[kind, vtime_code(m.vtime)]);
    out.extend_from_slice(&((12 + body.len()) as u16).to_be_bytes());
    out.extend_from_slice(&ip_of(m.originator));
    out.extend_from_slice(&[m.ttl, m.hops]);
    out.extend_from_slice(&m.seq.to_be_bytes());
    out.extend_from_slice(&body);
}

/// RFC 3626 §18.3 mantissa/exponent time code of `ns`.
fn vtime_code(ns: u64) -> u8 {
    let t = ns as f64 * 1e-9 / 0.0625;
    let mut b: u8 = 0;
    while b < 15 && t >= f64::from(1u32 << (b + 1)) {
        b += 1;
    }
    let a = ((16.0 * (t / f64::from(1u32 << b) - 1.0)).round() as i32).clamp(0, 15) as u8;
    a << 4 | b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_checksum_of_a_known_header() {
        // Example header from RFC 1071 discussions (checksum 0xb861).
        let mut h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0x00,
            0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(checksum(&h), 0xb861);
        h[10..12].copy_from_slice(&0xb861u16.to_be_bytes());
        assert_eq!(checksum(&h), 0);
    }

    #[test]
    fn olsr_time_codes_round_trip_common_values() {
        // 6 s (NEIGHB_HOLD_TIME) and 15 s (TOP_HOLD_TIME), RFC 3626 §18.3.
        for secs in [6.0f64, 15.0, 2.0] {
            let c = vtime_code((secs * 1e9) as u64);
            let (a, b) = (f64::from(c >> 4), i32::from(c & 15));
            let back = 0.0625 * (1.0 + a / 16.0) * 2f64.powi(b);
            assert!(
                (back - secs).abs() / secs < 0.07,
                "{secs} -> {c:#x} -> {back}"
            );
        }
    }

    #[test]
    fn addresses_follow_ns3_helpers() {
        assert_eq!(ip_of(NodeId(0)), [10, 1, 0, 1]);
        assert_eq!(ip_of(NodeId(299)), [10, 1, 1, 44]);
        assert_eq!(mac_of(NodeId(0)), [0, 0, 0, 0, 0, 1]);
        assert_eq!(mac_of(BROADCAST), [0xff; 6]);
    }
}
