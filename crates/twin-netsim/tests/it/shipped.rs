//! The scenarios shipped in `scenarios/net/` parse, build and run.

use twin_core::SimDuration;
use twin_netsim::{scenario::Protocol, Scenario, Simulation};

use crate::{scenario_path, secs};

#[test]
fn manet_ns3_runs_with_each_protocol() {
    for p in [Protocol::Aodv, Protocol::Olsr, Protocol::Greedy] {
        let mut sc = Scenario::from_file(scenario_path("manet-ns3.toml")).unwrap();
        assert_eq!(sc.nodes[0].count, Some(50));
        sc.routing.protocol = p;
        let mut sim = Simulation::from_scenario(&sc).unwrap();
        sim.step_until(secs(30)).unwrap();
        let st = sim.stats();
        assert!(st.totals.tx_packets > 300, "{p:?}: {:?}", st.totals);
        assert!(st.totals.rx_packets > 0, "{p:?}: {:?}", st.totals);
    }
}

#[test]
fn manet_ns3_node_count_can_be_varied() {
    for n in [20, 100] {
        let sc = Scenario::from_file(scenario_path("manet-ns3.toml"))
            .unwrap()
            .with_group_count(0, n);
        let mut sim = Simulation::from_scenario(&sc).unwrap();
        assert_eq!(sim.node_count(), n as usize);
        sim.step_until(secs(22)).unwrap();
        for p in sim.positions() {
            assert!((0.0..=1500.0).contains(&p.xyz[0]) && (0.0..=300.0).contains(&p.xyz[1]));
        }
    }
}

#[test]
fn aanet_aircraft_reach_the_gateways() {
    let mut sc = Scenario::from_file(scenario_path("aanet-small.toml")).unwrap();
    sc.simulation.duration = SimDuration::from_secs(300);
    let mut sim = Simulation::from_scenario(&sc).unwrap();
    sim.step_until(secs(300)).unwrap();
    // Aircraft fly at cruise altitude over the ocean, in geodetic coordinates.
    let pos = sim.positions();
    let ac = pos.iter().find(|p| p.name == "east3").unwrap();
    let g = ac.geodetic.unwrap();
    assert!((9_000.0..=12_500.0).contains(&g.alt), "{g:?}");
    assert!(
        (-60.0..=-5.0).contains(&g.lon) && (45.0..=60.0).contains(&g.lat),
        "{g:?}"
    );
    let st = sim.stats();
    assert!(st.totals.rx_packets > 0, "{:?}", st.totals);
    assert!(
        sim.routes().iter().any(|r| r.complete && r.hops.len() >= 3),
        "{:?}",
        sim.routes()
    );
}

#[test]
fn aanet_atlantic_has_200_aircraft_on_tdma_reaching_both_gateways() {
    let mut sc = Scenario::from_file(scenario_path("aanet-atlantic.toml")).unwrap();
    assert_eq!(sc.simulation.duration, SimDuration::from_secs(3600));
    sc.simulation.duration = SimDuration::from_secs(240);
    let mut sim = Simulation::from_scenario(&sc).unwrap();
    assert_eq!(sim.node_count(), 202);
    sim.step_until(secs(240)).unwrap();
    let pos = sim.positions();
    let aircraft: Vec<_> = pos
        .iter()
        .filter(|p| p.name != "gander" && p.name != "shannon")
        .collect();
    assert_eq!(aircraft.len(), 200);
    // Cruise at 9-12 km (the last aircraft of some tracks already descend).
    let cruising = aircraft
        .iter()
        .filter(|p| (9_000.0..=12_000.0).contains(&p.geodetic.unwrap().alt))
        .count();
    assert!(cruising >= 180, "{cruising} of 200 at cruise altitude");
    // About 800 km/h.
    let v = aircraft[0].velocity;
    let speed = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    assert!((215.0..=230.0).contains(&speed), "{speed} m/s");
    // Multi-hop routes exist toward both coasts, over links of hundreds of km.
    let st = sim.stats();
    for gw in ["gander", "shannon"] {
        let id = sim.node_id(gw).unwrap();
        let got: u64 = st
            .flows
            .iter()
            .filter(|f| f.dst == id)
            .map(|f| f.rx_packets)
            .sum();
        assert!(got > 0, "nothing reached {gw}: {:?}", st.totals);
    }
    assert!(st
        .flows
        .iter()
        .any(|f| f.rx_packets > 0 && f.hops_mean >= 3.0));
    assert_eq!((st.mac.acks, st.mac.retries), (0, 0), "TDMA has no ACKs");
}
