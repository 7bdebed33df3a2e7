//! OLSR: the MPR heuristic on a hand-made neighbourhood, and the protocol
//! on a line of five nodes.

use super::*;
use crate::testutil::{flow, id, line, run_to};

fn node_with(links: &[u32], two_hop: &[(u32, u32)]) -> Olsr {
    let mut o = Olsr::new(
        NodeId(0),
        &OlsrParams::default(),
        twin_des::Rng::seed_from_u64(1),
    );
    let far = u64::MAX / 2;
    for &n in links {
        o.links.insert(
            n,
            Link {
                sym_until: far,
                asym_until: far,
                until: far,
            },
        );
    }
    for &(a, b) in two_hop {
        o.two_hop.insert((a, b), far);
    }
    o
}

#[test]
fn mpr_set_covers_two_hop_neighbourhood_minimally() {
    // 1 alone reaches 10; 12 is reached by 2 and 3, and 2 also reaches 11.
    let o = node_with(&[1, 2, 3], &[(1, 10), (1, 11), (2, 11), (2, 12), (3, 12)]);
    assert_eq!(o.select_mprs(0), BTreeSet::from([1, 2]));
}

#[test]
fn mpr_set_ignores_one_hop_neighbours_and_unwilling_nodes() {
    // 2 is also a one-hop neighbour, so it needs no cover; 3 never relays.
    let mut o = node_with(&[1, 2, 3], &[(1, 2), (3, 20), (1, 20)]);
    o.willingness.insert(3, WILL_NEVER);
    assert_eq!(o.select_mprs(0), BTreeSet::from([1]));
}

#[test]
fn mpr_sets_and_routes_on_line_of_five() {
    let sc = line("olsr", 5, 200.0, "20s", &flow(0, 4, 2.0, "12s", "20s"));
    let mut sim = run_to(&sc, 12.0);
    let mpr = |n| sim.olsr(id(n)).unwrap().mpr_set();
    assert_eq!(mpr(0), vec![id(1)]);
    assert_eq!(mpr(1), vec![id(2)]);
    assert_eq!(mpr(2), vec![id(1), id(3)]);
    assert_eq!(mpr(3), vec![id(2)]);
    assert_eq!(mpr(4), vec![id(3)]);
    let now = sim.now();
    assert_eq!(
        sim.olsr(id(1)).unwrap().mpr_selectors(now),
        vec![id(0), id(2)]
    );
    // TCs flooded by MPRs give n0 the whole line.
    let table = sim.olsr(id(0)).unwrap().table();
    assert!(table.contains(&(id(4), id(1), 4)), "{table:?}");
    assert_eq!(sim.routes()[0].hops, (0..5).map(id).collect::<Vec<_>>());
    sim.run().unwrap();
    assert!(
        sim.stats().totals.delivery_ratio > 0.9,
        "{:?}",
        sim.stats().totals
    );
}
