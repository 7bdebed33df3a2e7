//! Packet accounting: every application packet is delivered, dropped with
//! a reason, or still present in the network, and the packets the
//! accounting calls "in flight" are exactly those found in the queues,
//! buffers and on the air.

use twin_core::SimDuration;
use twin_netsim::{scenario::Protocol, Scenario, Simulation, StatsSnapshot};

use crate::{scenario_path, secs};

/// The balance, the census and the per-flow counters agree.
fn assert_balanced(sim: &Simulation, what: &str) -> StatsSnapshot {
    let st = sim.stats();
    let a = &st.accounting;
    assert_eq!(a.unaccounted, 0, "{what}: {a:?}");
    assert!(a.balanced, "{what}: {a:?}");
    assert_eq!(a.sent, st.totals.tx_packets, "{what}");
    assert_eq!(a.delivered, st.totals.rx_packets, "{what}");
    assert_eq!(
        a.sent,
        a.delivered + a.dropped.values().sum::<u64>() + a.in_flight,
        "{what}: {a:?}"
    );
    let census = sim.census();
    assert_eq!(census, sim.in_flight(), "{what}: census vs accounting");
    assert_eq!(census.len() as u64, a.in_flight, "{what}");
    st
}

#[test]
fn manet_packets_balance_with_aodv_arp_and_olsr() {
    for p in [Protocol::Aodv, Protocol::Olsr] {
        let sc = Scenario::from_file(scenario_path("manet-ns3.toml"))
            .unwrap()
            .with_group_count(0, 30);
        let mut sc = sc;
        sc.routing.protocol = p;
        let mut sim = Simulation::from_scenario(&sc).unwrap();
        // Stop mid-run: packets are in MAC queues, ARP and AODV buffers.
        sim.step_until(secs(45)).unwrap();
        let st = assert_balanced(&sim, &format!("{p:?}"));
        let a = &st.accounting;
        assert!(a.sent > 500 && a.delivered > 0, "{p:?}: {a:?}");
        assert!(a.dropped_total > 0, "{p:?}: {a:?}");
        assert!(
            a.dropped
                .keys()
                .all(|k| k.starts_with("net/") || k.starts_with("mac/")),
            "802.11 retransmits, so no air losses: {a:?}"
        );
    }
}

#[test]
fn aanet_small_balances_with_dcf_aodv_and_with_tdma_greedy() {
    let text = std::fs::read_to_string(scenario_path("aanet-small.toml")).unwrap();
    let tdma = text
        .replace(
            "kind = \"dcf\"",
            "kind = \"tdma\"\nmax_range_m = 500000.0\ntdma = { slot = \"8ms\" }",
        )
        .replace("protocol = \"aodv\"", "protocol = \"greedy\"")
        .replace(
            "[routing.aodv]\nhello_interval = \"2s\"\nnode_traversal_time = \"60ms\"",
            "[routing.greedy]\nbeacon_interval = \"5s\"\nneighbor_timeout = \"11s\"\nmax_hop_m = 400000.0",
        );
    assert_ne!(tdma, text);
    for (what, t) in [("dcf+aodv", &text), ("tdma+greedy", &tdma)] {
        let mut sc = Scenario::parse(t, None).unwrap();
        sc.simulation.duration = SimDuration::from_secs(900);
        let mut sim = Simulation::from_scenario(&sc).unwrap();
        for t in [300, 600, 900] {
            sim.step_until(secs(t)).unwrap();
            assert_balanced(&sim, &format!("{what} at {t} s"));
        }
        let st = sim.stats();
        assert!(st.accounting.delivered > 0, "{what}: {:?}", st.accounting);
        if what == "tdma+greedy" {
            // Frames are not retransmitted: some are lost on the air, and
            // each loss is counted with its physical reason.
            assert!(!st.air_losses.is_empty(), "{:?}", st.accounting);
        }
    }
}
