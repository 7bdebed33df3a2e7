use super::*;

#[test]
fn ecef_round_trip_at_cruise_altitude() {
    for &(lat, lon, alt) in &[
        (0.0, 0.0, 0.0),
        (51.47, -0.45, 11_000.0),
        (-33.9, 151.2, 9_500.0),
        (89.9, 10.0, 100.0),
    ] {
        let g = Geodetic::new(lat, lon, alt);
        let back = Geodetic::from_ecef(g.to_ecef());
        assert!((back.lat - lat).abs() < 1e-9, "{back:?}");
        assert!((back.lon - lon).abs() < 1e-9, "{back:?}");
        assert!((back.alt - alt).abs() < 1e-3, "{back:?}");
    }
}

#[test]
fn equator_point_lies_on_semi_major_axis() {
    let p = Geodetic::new(0.0, 0.0, 0.0).to_ecef();
    assert!((p.x - WGS84_A).abs() < 1e-6);
    assert!(p.y.abs() < 1e-6 && p.z.abs() < 1e-6);
}

#[test]
fn one_degree_of_arc_is_about_111_km() {
    let d = great_circle_distance(Geodetic::new(0.0, 0.0, 0.0), Geodetic::new(0.0, 1.0, 0.0));
    assert!((d - 111_195.0).abs() < 10.0, "{d}");
}

#[test]
fn slerp_midpoint_is_halfway() {
    let a = Geodetic::new(0.0, 0.0, 0.0);
    let b = Geodetic::new(0.0, 90.0, 0.0);
    let ang = central_angle(a, b);
    let m = Geodetic::from_unit_sphere(slerp(a.unit_sphere(), b.unit_sphere(), ang, 0.5), 0.0);
    assert!((m.lon - 45.0).abs() < 1e-9 && m.lat.abs() < 1e-9, "{m:?}");
}
