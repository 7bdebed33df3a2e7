use super::*;

#[test]
fn grid_query_finds_exactly_the_nodes_in_range() {
    let mut g = Grid::new(100.0);
    let pts: Vec<Vec3> = (0..200)
        .map(|i| Vec3::new(f64::from(i * 37 % 1000), f64::from(i * 91 % 300), 0.0))
        .collect();
    g.rebuild(0, pts.iter().copied());
    let mut out = Vec::new();
    let c = Vec3::new(500.0, 150.0, 0.0);
    g.query(c, 120.0, 0, &mut out);
    let expected: Vec<u32> = (0..200u32)
        .filter(|&i| pts[i as usize].distance(c) <= 120.0)
        .collect();
    assert_eq!(out, expected);
}

#[test]
fn grid_widens_queries_as_nodes_move() {
    let mut g = Grid::new(100.0);
    g.max_speed = 10.0;
    g.rebuild(
        0,
        [Vec3::new(0.0, 0.0, 0.0), Vec3::new(150.0, 0.0, 0.0)].into_iter(),
    );
    let mut out = Vec::new();
    g.query(Vec3::ZERO, 100.0, 0, &mut out);
    assert_eq!(out, vec![0]);
    // After 6 s node 1 may be 60 m closer: it must be a candidate.
    g.query(Vec3::ZERO, 100.0, 6_000_000_000, &mut out);
    assert_eq!(out, vec![0, 1]);
    assert!(g.stale(6_000_000_000));
    g.update(1, Vec3::new(500.0, 0.0, 0.0));
    g.rebuild(
        6_000_000_000,
        [Vec3::ZERO, Vec3::new(500.0, 0.0, 0.0)].into_iter(),
    );
    g.query(Vec3::ZERO, 100.0, 6_000_000_000, &mut out);
    assert_eq!(out, vec![0]);
}
