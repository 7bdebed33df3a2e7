//! AODV on hand-built topologies: a line of five nodes 200 m apart, where
//! only neighbours hear each other.

use super::*;
use crate::testutil::{flow, id, line, run_to, secs};

/// Runs `f` on a lone AODV node n0 with parameters `p`, at t = 0, and
/// returns its result and what the node asked the world to do.
fn on_node0<R>(
    p: &AodvParams,
    f: impl FnOnce(&mut Aodv, &mut NetCx<'_>) -> R,
) -> (R, Vec<crate::routing::NetOut>) {
    on_node0_arp(p, true, f)
}

/// [`on_node0`] with n0's ARP cache answering `resolved` for every neighbour.
fn on_node0_arp<R>(
    p: &AodvParams,
    resolved: bool,
    f: impl FnOnce(&mut Aodv, &mut NetCx<'_>) -> R,
) -> (R, Vec<crate::routing::NetOut>) {
    let mut out = Vec::new();
    let mut sched = twin_des::Scheduler::with_capacity(8);
    let mut uid = 0;
    let mut pos = |_| crate::Position::local(0.0, 0.0, 0.0);
    let mut cx = NetCx {
        now: SimTime::ZERO,
        me: id(0),
        sched: &mut sched,
        out: &mut out,
        uid: &mut uid,
        positions: &mut pos,
        resolved: &|_| resolved,
    };
    let rng = twin_des::RngStreams::new(1, 1).stream(0, 3);
    let mut a = Aodv::new(id(0), p, rng);
    let r = f(&mut a, &mut cx);
    (r, out)
}

/// A packet from n5 to `a` carrying `msg`.
fn from_n5(a: &Aodv, cx: &mut NetCx<'_>, msg: AodvMsg) -> Packet {
    Packet {
        uid: cx.next_uid(),
        src: id(5),
        dst: a.me,
        ttl: 1,
        hops: 0,
        bytes: 30,
        created: SimTime::ZERO,
        body: Body::Aodv(msg),
    }
}

/// A new RREQ `id` of `origin` (sequence number `origin_seq`) for `dst`,
/// `hop_count` hops out, destination sequence number unknown.
fn rreq(origin: u32, id_: u32, origin_seq: u32, dst: u32, hop_count: u8) -> Rreq {
    Rreq {
        hop_count,
        id: id_,
        dst: id(dst),
        dst_seq: 0,
        unknown_seq: true,
        origin: id(origin),
        origin_seq,
        gratuitous: false,
        dest_only: false,
    }
}

#[test]
fn route_found_on_line_of_five_with_hop_count() {
    let sc = line("aodv", 5, 200.0, "6s", &flow(0, 4, 4.0, "1s", "6s"));
    let mut sim = run_to(&sc, 3.0);
    let route = &sim.routes()[0];
    assert!(route.complete, "{route:?}");
    assert_eq!(route.hops, (0..5).map(id).collect::<Vec<_>>());
    let a0 = sim.aodv(id(0)).unwrap();
    let r = &a0.routes()[&4];
    assert_eq!((r.next_hop, r.hops, r.state), (id(1), 4, RouteState::Valid));
    // The reverse route at the destination mirrors it.
    let r4 = &sim.aodv(id(4)).unwrap().routes()[&0];
    assert_eq!((r4.next_hop, r4.hops), (id(3), 4));
    // Found by the expanding ring: at most TTL 1, 3 and 5.
    let c = a0.counters();
    assert!((1..=3).contains(&c.rreq_originated), "{c:?}");
    sim.run().unwrap();
    assert!(
        sim.stats().totals.delivery_ratio > 0.95,
        "{:?}",
        sim.stats().totals
    );
}

#[test]
fn intermediate_nodes_record_precursors() {
    let sc = line("aodv", 5, 200.0, "3s", &flow(0, 4, 4.0, "1s", "3s"));
    let sim = run_to(&sc, 3.0);
    // n1 forwards for n0: n0 is a precursor of n1's route to n4.
    let r = &sim.aodv(id(1)).unwrap().routes()[&4];
    assert!(r.precursors.contains(&id(0)), "{r:?}");
}

#[test]
fn rerr_after_link_breaks() {
    let sc = line("aodv", 5, 200.0, "12s", &flow(0, 4, 4.0, "1s", "12s"));
    let mut sim = run_to(&sc, 5.0);
    assert!(sim.routes()[0].complete);
    // Take the middle node away: n1 -> n2 breaks.
    sim.set_position(id(2), [400.0, 5_000.0, 0.0], [0.0; 3])
        .unwrap();
    sim.step_until(secs(9.0)).unwrap();
    let n1 = sim.aodv(id(1)).unwrap();
    assert!(n1.counters().link_breaks >= 1, "{:?}", n1.counters());
    // n1 forwards 4 packets/s to n2: the MAC notices before n2's HELLOs expire.
    assert!(n1.counters().link_breaks_mac >= 1, "{:?}", n1.counters());
    assert!(n1.counters().rerr_sent >= 1, "{:?}", n1.counters());
    assert_ne!(
        n1.routes().get(&4).map(|r| r.state),
        Some(RouteState::Valid)
    );
    let n0 = sim.aodv(id(0)).unwrap();
    assert!(n0.counters().rerr_received >= 1, "{:?}", n0.counters());
    assert_ne!(
        n0.routes().get(&4).map(|r| r.state),
        Some(RouteState::Valid)
    );
    assert!(!sim.routes()[0].complete);
}

#[test]
fn expanding_ring_then_retries_then_gives_up() {
    // n3 is 10 km away from everyone: unreachable.
    let mut sc = line("aodv", 4, 200.0, "40s", &flow(0, 3, 1.0, "1s", "1.5s"));
    if let crate::scenario::MobilitySpec::External { position } = &mut sc.nodes[3].mobility {
        *position = [10_000.0, 0.0, 0.0];
    }
    let sim = run_to(&sc, 40.0);
    let c = sim.aodv(id(0)).unwrap().counters();
    // TTL 1, 3, 5, 7, then NET_DIAMETER three times (RREQ_RETRIES = 2).
    assert_eq!(c.rreq_originated, 7, "{c:?}");
    assert_eq!(c.discoveries_failed, 1, "{c:?}");
    assert_eq!(sim.stats().net_drops.get("DiscoveryFailed"), Some(&1));
    assert_eq!(sim.stats().net_drops.get("NoRoute"), None);
}

#[test]
fn hello_keeps_neighbour_routes_and_sequence_numbers() {
    let sc = line("aodv", 3, 200.0, "5s", "");
    let sim = run_to(&sc, 5.0);
    let a1 = sim.aodv(id(1)).unwrap();
    assert!(a1.counters().hello_sent >= 3, "{:?}", a1.counters());
    for n in [0, 2] {
        let r = &a1.routes()[&n];
        assert_eq!((r.hops, r.next_hop, r.state), (1, id(n), RouteState::Valid));
    }
    // Nodes two hops apart do not hear each other.
    assert!(!a1.routes().is_empty() && !sim.aodv(id(0)).unwrap().routes().contains_key(&2));
}

#[test]
fn link_break_keeps_sequence_number_when_configured_like_ns3() {
    let run = |increment: bool| {
        let extra = format!(
            "{}\n[routing.aodv]\nincrement_seq_on_break = {increment}\n",
            flow(0, 4, 4.0, "1s", "12s")
        );
        let sc = line("aodv", 5, 200.0, "12s", &extra);
        let mut sim = run_to(&sc, 5.0);
        let before = sim.aodv(id(1)).unwrap().routes()[&4].seq;
        sim.set_position(id(2), [400.0, 5_000.0, 0.0], [0.0; 3])
            .unwrap();
        sim.step_until(secs(5.5)).unwrap();
        let r = sim.aodv(id(1)).unwrap().routes()[&4].clone();
        assert_eq!(r.state, RouteState::Invalid, "{r:?}");
        r.seq.wrapping_sub(before)
    };
    assert_eq!(run(true), 1, "RFC 3561 §6.11 increments");
    assert_eq!(run(false), 0, "ns-3 keeps the number");
}

#[test]
fn jitter_step_quantises_broadcast_delays() {
    let mut rng = twin_des::RngStreams::new(1, 1).stream(0, 3);
    let pkt = |uid| Packet {
        uid,
        src: id(0),
        dst: BROADCAST,
        ttl: 1,
        hops: 0,
        bytes: 48,
        created: SimTime::ZERO,
        body: Body::Aodv(AodvMsg::Hello { seq: 0 }),
    };
    let ((), out) = on_node0(&AodvParams::default(), |_, cx| {
        for u in 0..200 {
            cx.broadcast_jittered(pkt(u), 10_000_000, 1_000_000, &mut rng);
        }
    });
    let mut seen = std::collections::BTreeSet::new();
    for o in &out {
        let crate::routing::NetOut::SendLater { delay, .. } = o else {
            panic!("{o:?}");
        };
        let ns = delay.as_nanos();
        assert_eq!(ns % 1_000_000, 0, "{ns}");
        seen.insert(ns / 1_000_000);
    }
    // Whole milliseconds 0..=10, all of them drawn.
    assert_eq!(seen, (0..=10).collect());
}

#[test]
fn rrep_ack_answers_an_intermediate_reply_for_a_neighbour() {
    // n3 knows n4 from its HELLOs, so it answers n0's RREQ for n4 itself
    // (hop count 1): with `rrep_ack` it sets the A flag and n2 acknowledges.
    let run = |ack: bool| {
        let extra = format!(
            "{}\n[routing.aodv]\nrrep_ack = {ack}\n",
            flow(0, 4, 4.0, "2s", "4s")
        );
        let mut sim = run_to(&line("aodv", 5, 200.0, "4s", &extra), 4.0);
        assert!(sim.routes()[0].complete);
        let acks: Vec<u64> = (0..5)
            .map(|n| sim.aodv(id(n)).unwrap().counters().rrep_ack_sent)
            .collect();
        (acks, sim.aodv(id(3)).unwrap().counters().rrep_generated)
    };
    let (acks, n3_replies) = run(true);
    assert!(n3_replies >= 1, "n3 did not answer for its neighbour");
    assert!(acks[2] >= 1, "{acks:?}");
    assert_eq!(acks.iter().sum::<u64>(), acks[2], "only n2 gets such RREPs");
    let (acks, _) = run(false);
    assert_eq!(acks, vec![0; 5]);
}

#[test]
fn rreq_rate_limit_defers_requests_to_the_next_second() {
    // n0 looks for 12 nodes it cannot hear, all at t = 1 s.
    let mut extra = String::new();
    for d in 1..13 {
        extra += &flow(0, d, 1.0, "1s", "1.5s");
    }
    let originated = |limit: u32| {
        let x = format!("{extra}\n[routing.aodv]\nrreq_rate_limit = {limit}\n");
        let sim = run_to(&line("aodv", 13, 10_000.0, "3s", &x), 1.99);
        sim.aodv(id(0)).unwrap().counters()
    };
    let c = originated(10);
    assert_eq!(c.rreq_originated, 10, "{c:?}");
    assert!(c.rreq_deferred >= 2, "{c:?}");
    let c = originated(0);
    assert!(c.rreq_originated > 12, "TTL 1 and TTL 3 rings: {c:?}");
    assert_eq!(c.rreq_deferred, 0);
}

#[test]
fn ns3_hello_timer_rearms_one_interval_after_an_rreq() {
    // HELLOs at t0 in [0, 100 ms], then every second; n0's RREQ at 1.5 s
    // (n1 answers from its HELLO route to n2) replaces the HELLO due at
    // t0 + 2 s, and the next one follows at 2.5 s.
    let extra = format!(
        "{}\n[routing.aodv]\nhello_start = \"100ms\"\nhello_after_last_rreq = true\nbroadcast_jitter_step = \"1ms\"\n",
        flow(0, 2, 4.0, "1.5s", "3s")
    );
    let sc = line("aodv", 3, 200.0, "3s", &extra);
    let hellos = |t: f64| {
        let sim = run_to(&sc, t);
        let c = sim.aodv(id(0)).unwrap().counters();
        assert_eq!(c.rreq_originated, 1, "{c:?}");
        c.hello_sent
    };
    assert_eq!(hellos(2.45), 2);
    assert_eq!(hellos(2.55), 3);
    // Without traffic: exactly one HELLO per second, no drift.
    let quiet = "\n[routing.aodv]\nhello_start = \"100ms\"\nhello_after_last_rreq = true\n";
    let sim = run_to(&line("aodv", 3, 200.0, "6s", quiet), 5.2);
    for n in 0..3 {
        assert_eq!(sim.aodv(id(n)).unwrap().counters().hello_sent, 6);
    }
}

#[test]
fn control_to_a_neighbour_without_route_waits_for_a_discovery_like_ns3() {
    let run = |needs_route: bool| {
        let p = AodvParams {
            control_needs_route: needs_route,
            ..AodvParams::default()
        };
        let ((c, buffered), out) = on_node0(&p, |a, cx| {
            let ack = a.control(cx, id(5), 1, AodvMsg::RrepAck);
            a.send_control(cx, ack, id(5));
            (a.counters(), a.buffered().count())
        });
        let sent_now = out.iter().any(
            |o| matches!(o, crate::routing::NetOut::Send { next_hop, .. } if *next_hop == id(5)),
        );
        (sent_now, c, buffered)
    };
    let (sent, c, buffered) = run(false);
    assert!(sent && c.rreq_originated == 0 && buffered == 0, "{c:?}");
    let (sent, c, buffered) = run(true);
    assert!(!sent, "no route to n5 yet");
    assert_eq!(
        (c.control_held, c.rreq_originated, buffered),
        (1, 1, 1),
        "{c:?}"
    );
}

#[test]
fn only_hello_new_rreq_or_ack_revalidate_a_broken_neighbour_entry_like_ns3() {
    // n5's HELLO route at n0 breaks; then n5 sends an RERR, an RREP-ACK,
    // a duplicate of an RREQ n0 has seen or a new RREQ.
    let run = |ns3: bool| {
        let p = AodvParams {
            only_hello_revalidates_neighbors: ns3,
            ..AodvParams::default()
        };
        let (states, _) = on_node0(&p, |a, cx| {
            let mut states = Vec::new();
            let first = from_n5(a, cx, AodvMsg::Rreq(rreq(5, 1, 9, 7, 0)));
            a.receive(cx, first, id(5));
            for msg in [
                AodvMsg::Rerr(vec![(id(7), 1)].into()),
                AodvMsg::RrepAck,
                AodvMsg::Rreq(rreq(5, 1, 9, 7, 0)),
                AodvMsg::Rreq(rreq(5, 2, 9, 7, 0)),
            ] {
                let hello = from_n5(a, cx, AodvMsg::Hello { seq: 3 });
                a.receive(cx, hello, id(5));
                a.link_break(cx, id(5));
                assert_eq!(a.routes()[&5].state, RouteState::Invalid);
                let pkt = from_n5(a, cx, msg);
                a.receive(cx, pkt, id(5));
                let r = &a.routes()[&5];
                states.push((r.state, r.valid_seq));
            }
            states
        });
        states
    };
    use RouteState::{Invalid, Valid};
    // RFC 3561 §6.2: every message from a neighbour refreshes its route.
    assert!(run(false).iter().all(|s| s.0 == Valid), "{:?}", run(false));
    // ns-3: the RERR and the duplicate RREQ leave it broken, the RREP-ACK
    // marks it valid, the new RREQ makes it a route without sequence number.
    assert_eq!(
        run(true),
        vec![
            (Invalid, true),
            (Valid, true),
            (Invalid, true),
            (Valid, false)
        ]
    );
}

#[test]
fn new_rreqs_keep_a_neighbour_when_configured_like_ns3() {
    // n5 sends one HELLO, then only new RREQs every 1.5 s: with
    // `rreq_refreshes_neighbors` n0 keeps it as a neighbour past the 2 s
    // HELLO lifetime, without it n0 declares the link lost.
    let run = |refresh: bool| {
        let p = AodvParams {
            rreq_refreshes_neighbors: refresh,
            ..AodvParams::default()
        };
        let (c, _) = on_node0(&p, |a, cx| {
            let hello = from_n5(a, cx, AodvMsg::Hello { seq: 3 });
            a.receive(cx, hello, id(5));
            for k in 1..=4u32 {
                cx.now = SimTime::from_nanos(u64::from(k) * 1_500_000_000);
                let pkt = from_n5(a, cx, AodvMsg::Rreq(rreq(5, k, 9 + k, 7, 0)));
                a.receive(cx, pkt, id(5));
                a.housekeeping(cx);
            }
            a.counters().link_breaks
        });
        c
    };
    assert_eq!(run(true), 0);
    assert_eq!(run(false), 1);
}

#[test]
fn a_forwarded_rrep_loses_one_ttl_per_hop_and_dies_at_one() {
    // n0 routes to the RREP's originator n9 through n6; n5 hands it an
    // RREP for n7 with IP TTL `ttl`.
    let forward = |ttl: u8| {
        let (c, out) = on_node0(&AodvParams::default(), |a, cx| {
            a.routes.insert(
                9,
                Route {
                    next_hop: id(6),
                    hops: 3,
                    seq: 1,
                    valid_seq: true,
                    state: RouteState::Valid,
                    expires: 10_000_000_000,
                    precursors: Vec::new(),
                },
            );
            let rrep = Rrep {
                hop_count: 2,
                dst: id(7),
                dst_seq: 4,
                origin: id(9),
                lifetime_ms: 3000,
                ack_required: false,
            };
            let mut pkt = from_n5(a, cx, AodvMsg::Rrep(rrep));
            pkt.ttl = ttl;
            a.receive(cx, pkt, id(5));
            a.counters()
        });
        let sent: Vec<(u8, NodeId)> = out
            .iter()
            .filter_map(|o| match o {
                crate::routing::NetOut::Send { pkt, next_hop } => Some((pkt.ttl, *next_hop)),
                _ => None,
            })
            .collect();
        (sent, c.rrep_forwarded, c.rrep_ttl_expired)
    };
    assert_eq!(forward(3), (vec![(2, id(6))], 1, 0));
    assert_eq!(forward(1), (vec![], 0, 1));
}

#[test]
fn rrep_ttl_starts_at_the_hop_count_to_the_originator_when_configured_like_ns3() {
    // n4 answers n0's RREQ on the line as the destination, 4 hops away.
    let ttl_from_n4 = |ns3: bool| {
        let p = AodvParams {
            rrep_ttl_from_hops: ns3,
            ..AodvParams::default()
        };
        let (_, out) = on_node0(&p, |a, cx| {
            a.me = id(4);
            cx.me = id(4);
            let mut pkt = from_n5(a, cx, AodvMsg::Rreq(rreq(0, 1, 1, 4, 3)));
            pkt.ttl = 30;
            a.receive(cx, pkt, id(3));
        });
        out.iter()
            .find_map(|o| match o {
                crate::routing::NetOut::Send { pkt, .. } => Some(pkt.ttl),
                _ => None,
            })
            .expect("n4 answers")
    };
    assert_eq!(ttl_from_n4(true), 4);
    assert_eq!(ttl_from_n4(false), AodvParams::default().net_diameter);
}

#[test]
fn mac_failures_break_only_links_to_neighbours_with_a_known_mac_when_configured_like_ns3() {
    // n0 holds a one-hop route to n5 learnt from n5's RREQ (not in the
    // neighbour table), then, optionally, a HELLO from n5; then the MAC
    // gives up on two data frames to n5.
    let run = |ns3: bool, hello: bool, resolved: bool| {
        let p = AodvParams {
            tx_error_needs_neighbor: ns3,
            ..AodvParams::default()
        };
        let (r, _) = on_node0_arp(&p, resolved, |a, cx| {
            let req = from_n5(a, cx, AodvMsg::Rreq(rreq(5, 1, 9, 7, 0)));
            a.receive(cx, req, id(5));
            if hello {
                let h = from_n5(a, cx, AodvMsg::Hello { seq: 9 });
                a.receive(cx, h, id(5));
            }
            assert_eq!(a.routes()[&5].state, RouteState::Valid);
            let mut states = Vec::new();
            for seq in 0..2 {
                let pkt = Packet {
                    uid: cx.next_uid(),
                    src: id(0),
                    dst: id(5),
                    ttl: 64,
                    hops: 0,
                    bytes: 540,
                    created: SimTime::ZERO,
                    body: Body::Data { flow: 0, seq },
                };
                a.link_failed(cx, pkt, id(5), 0);
                states.push(a.routes()[&5].state);
            }
            (states, a.counters())
        });
        r
    };
    use RouteState::{Invalid, Valid};
    // RFC 3561 §6.11: any failure breaks the link.
    let (s, c) = run(false, false, true);
    assert_eq!(s, vec![Invalid, Invalid]);
    assert_eq!((c.link_breaks_mac, c.tx.tx_errors_ignored), (2, 0));
    // ns-3: n5 is not in the neighbour table, so the route stays and the
    // next frame goes the same way (a black hole).
    let (s, c) = run(true, false, true);
    assert_eq!(s, vec![Valid, Valid]);
    assert_eq!((c.link_breaks_mac, c.tx.tx_errors_ignored), (0, 2));
    assert_eq!((c.tx.tx_errors, c.tx.tx_error_episodes), (2, 1));
    assert_eq!(c.tx.tx_error_follow_later_data, 1);
    // A HELLO put n5 in the table while ARP knew its address: broken.
    let (s, c) = run(true, true, true);
    assert_eq!(s, vec![Invalid, Invalid]);
    assert_eq!(c.tx.tx_errors_ignored, 1, "the second finds no entry");
    // ... but not if its address was never resolved.
    let (s, _) = run(true, true, false);
    assert_eq!(s, vec![Valid, Valid]);
}

#[test]
fn new_rreqs_leave_a_broken_reverse_route_broken_and_rreps_still_take_it_like_ns3() {
    // n0 learns a reverse route to n7 from n7's RREQ via n5, loses n5,
    // perhaps hears n7's next RREQ via n6, then gets an RREP for n7 from n4.
    let run = |ns3: bool, second_rreq: bool| {
        let p = AodvParams {
            rreq_keeps_reverse_state: ns3,
            ..AodvParams::default()
        };
        let (r, _) = on_node0(&p, |a, cx| {
            let q = from_n5(a, cx, AodvMsg::Rreq(rreq(7, 1, 9, 8, 2)));
            a.receive(cx, q, id(5));
            a.link_break(cx, id(5));
            if second_rreq {
                let q = from_n5(a, cx, AodvMsg::Rreq(rreq(7, 2, 10, 8, 1)));
                a.receive(cx, q, id(6));
            }
            let rrep = Rrep {
                hop_count: 1,
                dst: id(8),
                dst_seq: 4,
                origin: id(7),
                lifetime_ms: 3000,
                ack_required: false,
            };
            let mut pkt = from_n5(a, cx, AodvMsg::Rrep(rrep));
            pkt.ttl = 5;
            a.receive(cx, pkt, id(4));
            let r = &a.routes()[&7];
            (r.state, r.next_hop, r.seq, a.counters().rrep_forwarded)
        });
        r
    };
    use RouteState::{Invalid, Valid};
    // (The break raised the number 9 to 10, RFC 3561 §6.11.) RFC 3561
    // §6.5: the new RREQ revalidates the route; an RREP needs a valid one.
    assert_eq!(run(false, true), (Valid, id(6), 10, 1));
    assert_eq!(run(false, false), (Invalid, id(5), 10, 0));
    // ns-3: the RREQ moves the next hop but the route stays broken; the
    // RREP goes along it all the same.
    assert_eq!(run(true, true), (Invalid, id(6), 10, 1));
    assert_eq!(run(true, false), (Invalid, id(5), 10, 1));
}
