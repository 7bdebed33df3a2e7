//! The same scenario and seed give the same event trace, however the run is
//! stepped; another seed gives another trace.

use twin_core::{SimDuration, SimTime};
use twin_netsim::{Scenario, Simulation};

use crate::{scenario_path, secs};

/// The manet benchmark shortened to 40 s with 20 nodes.
fn short_manet(seed: u64, protocol: &str) -> Scenario {
    let mut sc = Scenario::from_file(scenario_path("manet-ns3.toml"))
        .expect("shipped scenario parses")
        .with_group_count(0, 20);
    sc.simulation.duration = SimDuration::from_secs(40);
    sc.simulation.seed = seed;
    sc.routing.protocol = match protocol {
        "aodv" => twin_netsim::scenario::Protocol::Aodv,
        _ => twin_netsim::scenario::Protocol::Olsr,
    };
    for f in &mut sc.flows {
        f.stop = Some(SimDuration::from_secs(38));
    }
    sc
}

fn digest_of(sc: &Scenario, step: Option<SimDuration>) -> (u64, u64, String) {
    let mut sim = Simulation::from_scenario(sc).unwrap();
    match step {
        None => {
            sim.run().unwrap();
        }
        Some(dt) => {
            let mut t = SimTime::ZERO;
            while t < sim.end_time() {
                t = t.saturating_add(dt).min(sim.end_time());
                sim.step_until(t).unwrap();
            }
        }
    }
    (
        sim.trace_digest(),
        sim.events_executed(),
        sim.stats().to_json(),
    )
}

#[test]
fn same_seed_same_trace_hash_aodv() {
    let sc = short_manet(1, "aodv");
    let a = digest_of(&sc, None);
    let b = digest_of(&sc, None);
    assert_eq!(a, b);
    assert!(a.1 > 10_000, "a real run: {} events", a.1);
}

#[test]
fn same_seed_same_trace_hash_olsr() {
    let sc = short_manet(1, "olsr");
    assert_eq!(digest_of(&sc, None), digest_of(&sc, None));
}

#[test]
fn stepping_like_a_federation_does_not_change_the_trace() {
    let sc = short_manet(3, "aodv");
    let whole = digest_of(&sc, None);
    let stepped = digest_of(&sc, Some(SimDuration::from_millis(100)));
    assert_eq!(whole, stepped);
}

#[test]
fn another_seed_gives_another_trace() {
    let a = digest_of(&short_manet(1, "aodv"), None);
    let b = digest_of(&short_manet(2, "aodv"), None);
    assert_ne!(a.0, b.0);
}

#[test]
fn observing_does_not_perturb_the_run() {
    let sc = short_manet(5, "aodv");
    let quiet = digest_of(&sc, None);
    let mut sim = Simulation::from_scenario(&sc).unwrap();
    for s in 1..=40 {
        sim.step_until(secs(s)).unwrap();
        let _ = sim.positions();
        let _ = sim.routes();
        let _ = sim.stats();
        let _ = sim.node_state(twin_core::NodeId(3));
    }
    assert_eq!(sim.trace_digest(), quiet.0);
}
