//! Greedy forwarding on a line, and its local-maximum failure.

use crate::testutil::{flow, id, line, run_to};

#[test]
fn greedy_forwards_along_the_line() {
    let sc = line("greedy", 5, 200.0, "10s", &flow(0, 4, 4.0, "3s", "10s"));
    let mut sim = run_to(&sc, 4.0);
    assert_eq!(sim.routes()[0].hops, (0..5).map(id).collect::<Vec<_>>());
    let st = sim.node_state(id(2)).unwrap();
    assert_eq!(st.routing.neighbors, vec![id(1), id(3)]);
    sim.run().unwrap();
    let t = sim.stats().totals;
    assert!(t.delivery_ratio > 0.95, "{t:?}");
}

#[test]
fn greedy_drops_at_a_local_maximum() {
    // n2 sits 400 m beyond n1, out of range: n1 has no closer neighbour.
    let mut sc = line("greedy", 3, 200.0, "6s", &flow(0, 2, 4.0, "3s", "6s"));
    if let crate::scenario::MobilitySpec::External { position } = &mut sc.nodes[2].mobility {
        *position = [600.0, 0.0, 0.0];
    }
    let mut sim = run_to(&sc, 6.0);
    assert!(!sim.routes()[0].complete);
    let st = sim.stats();
    assert_eq!(st.totals.rx_packets, 0);
    assert_eq!(
        st.net_drops.get("NoRoute").copied(),
        Some(st.totals.tx_packets)
    );
}
