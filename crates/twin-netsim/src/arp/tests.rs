use twin_core::{NodeId, SimTime};
use twin_des::RngStreams;

use super::*;

fn arp() -> Arp {
    let spec = ArpSpec {
        enabled: true,
        request_jitter: SimDuration::ZERO,
        ..ArpSpec::default()
    };
    Arp::new(NodeId(0), &spec, RngStreams::new(1, 1).stream(0, 6))
}

fn data(uid: u64) -> Packet {
    Packet {
        uid,
        src: NodeId(0),
        dst: NodeId(9),
        ttl: 64,
        hops: 0,
        bytes: 540,
        created: SimTime::ZERO,
        body: Body::Data {
            flow: 0,
            seq: uid as u32,
        },
    }
}

const S: u64 = 1_000_000_000;

#[test]
fn first_packet_waits_for_reply_and_only_three_are_kept() {
    let mut a = arp();
    let mut out = Vec::new();
    for uid in 0..5 {
        a.send(0, data(uid), NodeId(1), &mut out);
    }
    // One wait started: request timer + wait-reply timer, then two drops.
    assert!(matches!(out[0], ArpOut::Timer(0, ArpTimer::Request(1))));
    assert!(matches!(out[1], ArpOut::Timer(t, ArpTimer::WaitReply(1, _)) if t == S));
    let drops = out.iter().filter(|o| matches!(o, ArpOut::Drop(_))).count();
    assert_eq!(drops, 2);
    let c = a.counters;
    assert_eq!(
        (c.drops, c.drops_queue_full, c.data_drops_queue_full),
        (2, 2, 2)
    );
    assert_eq!(c.drops_retries + c.drops_dead, 0);
    out.clear();
    a.timer(0, &mut 100, ArpTimer::Request(1), &mut out);
    assert!(matches!(&out[0], ArpOut::Send(p, BROADCAST)
        if p.body == Body::Arp(ArpMsg::Request { target: NodeId(1) })));
    out.clear();
    a.receive(S / 10, 101, ArpMsg::Reply, NodeId(1), &mut out);
    let sent: Vec<u64> = out
        .iter()
        .map(|o| match o {
            ArpOut::Send(p, NodeId(1)) => p.uid,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(sent, vec![0, 1, 2]);
    out.clear();
    // Resolved: the next packet goes straight to the MAC.
    a.send(S, data(7), NodeId(1), &mut out);
    assert!(matches!(&out[..], [ArpOut::Send(p, NodeId(1))] if p.uid == 7));
}

#[test]
fn unanswered_requests_make_the_neighbour_dead_until_dead_timeout() {
    let mut a = arp();
    let mut out = Vec::new();
    a.send(0, data(0), NodeId(2), &mut out);
    let ArpOut::Timer(_, wait @ ArpTimer::WaitReply(..)) = out[1] else {
        panic!("no wait timer: {out:?}");
    };
    // Three retries, then dead and the pending packet dropped.
    for k in 1..=3 {
        out.clear();
        a.timer(k * S, &mut (10 + k), wait, &mut out);
        assert_eq!(a.counters.requests, k);
        assert!(out.iter().any(|o| matches!(o, ArpOut::Timer(_, _))));
    }
    out.clear();
    a.timer(4 * S, &mut 20, wait, &mut out);
    assert!(matches!(&out[..], [ArpOut::Drop(p)] if p.uid == 0));
    assert_eq!((a.counters.drops_retries, a.counters.drops_dead), (1, 0));
    out.clear();
    a.send(50 * S, data(1), NodeId(2), &mut out);
    assert!(matches!(&out[..], [ArpOut::Drop(p)] if p.uid == 1));
    let c = a.counters;
    assert_eq!(
        (c.drops, c.drops_retries, c.drops_dead, c.data_drops_dead),
        (2, 1, 1, 1)
    );
    // A late reply for the dead entry is ignored (and counted, as ns-3 traces it).
    out.clear();
    a.receive(51 * S, 30, ArpMsg::Reply, NodeId(2), &mut out);
    assert!(out.is_empty());
    assert_eq!(a.counters.replies_ignored, 1);
    out.clear();
    // After the dead timeout, resolution starts again.
    a.send(105 * S, data(2), NodeId(2), &mut out);
    assert!(matches!(out[0], ArpOut::Timer(_, ArpTimer::Request(2))));
}

#[test]
fn requests_for_us_are_answered_without_caching_the_requester() {
    let mut a = arp();
    let mut out = Vec::new();
    let req = ArpMsg::Request { target: NodeId(0) };
    a.receive(0, 5, req, NodeId(3), &mut out);
    assert!(matches!(&out[..], [ArpOut::Send(p, NodeId(3))] if p.body == Body::Arp(ArpMsg::Reply)));
    out.clear();
    a.receive(
        0,
        6,
        ArpMsg::Request { target: NodeId(4) },
        NodeId(3),
        &mut out,
    );
    assert!(out.is_empty());
    // Sending to the requester still needs its own resolution.
    a.send(1, data(0), NodeId(3), &mut out);
    assert!(matches!(out[0], ArpOut::Timer(_, ArpTimer::Request(3))));
}

#[test]
fn a_line_delivers_with_arp_and_counts_one_exchange_per_link_direction() {
    use crate::testutil::{flow, id, line, run_to};
    let extra = format!(
        "{}\n[mac.arp]\nenabled = true\n",
        flow(0, 2, 4.0, "1s", "5s")
    );
    let sc = line("aodv", 3, 200.0, "5s", &extra);
    let mut sim = run_to(&sc, 5.0);
    let st = sim.stats();
    assert!(sim.routes()[0].complete);
    let arp = |n: u32| sim.arp_counters(id(n));
    // n0 resolves n1 (data); n1 resolves n2 (data) and n0 (RREP).
    assert!(
        arp(0).requests >= 1 && arp(1).replies >= 1,
        "{:?} {:?}",
        arp(0),
        arp(1)
    );
    assert!(arp(1).requests >= 2, "{:?}", arp(1));
    // At most three packets wait per unresolved neighbour: every packet not
    // delivered was dropped by ARP, none elsewhere.
    let arp_drops = arp(0).drops + arp(1).drops + arp(2).drops;
    assert_eq!(
        st.totals.rx_packets + arp_drops,
        st.totals.tx_packets,
        "{st:?}"
    );
    assert_eq!(st.net_drops.get("Arp").copied().unwrap_or(0), arp_drops);
    assert!(st.totals.delivery_ratio > 0.75, "{:?}", st.totals);
}

#[test]
fn a_cache_wide_wait_timer_retries_every_waiting_entry_at_its_ticks_like_ns3() {
    let spec = ArpSpec {
        enabled: true,
        request_jitter: SimDuration::ZERO,
        cache_wide_wait_timer: true,
        ..ArpSpec::default()
    };
    let mut a = Arp::new(NodeId(0), &spec, RngStreams::new(1, 1).stream(0, 6));
    let mut out = Vec::new();
    a.send(0, data(0), NodeId(1), &mut out);
    // One tick armed one wait-reply timeout after the first wait began ...
    let ticks = |o: &[ArpOut]| {
        o.iter()
            .filter(|x| matches!(x, ArpOut::Timer(_, ArpTimer::CacheTick)))
            .count()
    };
    assert!(
        matches!(out[..], [ArpOut::Timer(0, ArpTimer::Request(1)), ArpOut::Timer(t, ArpTimer::CacheTick)] if t == S)
    );
    out.clear();
    // ... and none for a second entry that starts waiting before it fires.
    a.send(9 * S / 10, data(1), NodeId(2), &mut out);
    assert_eq!(ticks(&out), 0);
    assert!(!out
        .iter()
        .any(|o| matches!(o, ArpOut::Timer(_, ArpTimer::WaitReply(..)))));
    // Each tick re-requests both (node 2 only 0.1 s after it began) ...
    let mut uid = 100;
    for k in 1..=3 {
        out.clear();
        a.timer(k * S, &mut uid, ArpTimer::CacheTick, &mut out);
        let reqs: Vec<u64> = out
            .iter()
            .filter_map(|o| match o {
                ArpOut::Send(p, BROADCAST) => Some(p.uid),
                _ => None,
            })
            .collect();
        assert_eq!(reqs.len(), 2, "tick {k}: {out:?}");
        assert_ne!(reqs[0], reqs[1], "each request has its own packet id");
        assert_eq!(ticks(&out), 1);
        uid += 1;
    }
    // ... and the fourth declares both dead: node 2 after 3.1 s, not 4 s.
    out.clear();
    a.timer(4 * S, &mut uid, ArpTimer::CacheTick, &mut out);
    let dropped: Vec<u64> = out
        .iter()
        .filter_map(|o| match o {
            ArpOut::Drop(p) => Some(p.uid),
            _ => None,
        })
        .collect();
    assert_eq!(dropped, vec![0, 1]);
    assert_eq!(ticks(&out), 0, "nothing waits, so the timer stops");
    assert_eq!((a.counters.requests, a.counters.drops_retries), (6, 2));
}
