use twin_core::SimDuration;
use twin_des::RngStreams;

use super::*;
use crate::scenario::WaypointSpec;

fn at(s: f64) -> SimTime {
    SimTime::from_nanos((s * 1e9) as u64)
}

fn area(x: f64, y: f64, z: f64) -> AreaSpec {
    AreaSpec {
        min: [0.0; 3],
        max: [x, y, z],
    }
}

fn inside(p: Vec3, a: &AreaSpec) -> bool {
    let eps = 1e-6;
    (a.min[0] - eps..=a.max[0] + eps).contains(&p.x)
        && (a.min[1] - eps..=a.max[1] + eps).contains(&p.y)
        && (a.min[2] - eps..=a.max[2] + eps).contains(&p.z)
}

#[test]
fn random_waypoint_stays_in_area_and_is_continuous() {
    let a = area(1500.0, 300.0, 0.0);
    let spec = MobilitySpec::RandomWaypoint {
        area: a,
        speed: [0.0, 20.0],
        pause: SimDuration::ZERO,
    };
    let mut m = Mobility::from_spec(&spec, 0, Frame::Local, RngStreams::new(1, 1).stream(3, 1));
    let mut last = m.position(at(0.0)).xyz;
    for k in 1..20_000 {
        let p = m.position(at(k as f64 * 0.01)).xyz;
        assert!(inside(p, &a), "{p:?}");
        assert!(p.distance(last) <= 20.0 * 0.01 + 1e-6, "jump at step {k}");
        last = p;
    }
}

#[test]
fn random_waypoint_depends_only_on_its_stream() {
    let spec = MobilitySpec::RandomWaypoint {
        area: area(100.0, 100.0, 50.0),
        speed: [1.0, 5.0],
        pause: SimDuration::from_secs(1),
    };
    let rng = RngStreams::new(9, 0).stream(1, 1);
    let mut a = Mobility::from_spec(&spec, 0, Frame::Local, rng);
    let mut b = Mobility::from_spec(&spec, 0, Frame::Local, rng);
    // Different query patterns, same trajectory.
    for k in 0..100 {
        a.position(at(k as f64 * 0.37));
    }
    assert_eq!(a.position(at(40.0)), b.position(at(40.0)));
}

#[test]
fn gauss_markov_stays_in_box() {
    let a = area(1500.0, 1500.0, 300.0);
    let spec = MobilitySpec::GaussMarkov {
        area: a,
        alpha: 0.85,
        time_step: SimDuration::from_millis(500),
        mean_speed: [0.0, 30.0],
        mean_pitch: 0.05,
        speed_sd: 0.0,
        heading_sd: 0.2f64.sqrt(),
        pitch_sd: 0.02f64.sqrt(),
    };
    let mut m = Mobility::from_spec(&spec, 0, Frame::Local, RngStreams::new(2, 0).stream(0, 1));
    for k in 0..4000 {
        let p = m.position(at(k as f64 * 0.1)).xyz;
        assert!(inside(p, &a), "step {k}: {p:?}");
    }
    assert!(m.max_speed() >= 30.0);
}

#[test]
fn waypoints_interpolate_linearly() {
    let spec = MobilitySpec::Waypoints {
        points: vec![
            WaypointSpec {
                at: SimDuration::from_secs(10),
                position: [0.0, 0.0, 0.0],
            },
            WaypointSpec {
                at: SimDuration::from_secs(20),
                position: [100.0, 0.0, 50.0],
            },
        ],
    };
    let mut m = Mobility::from_spec(&spec, 0, Frame::Local, RngStreams::new(0, 0).stream(0, 0));
    // Speed bound from now on: 111.8 m in 10 s.
    assert!((m.max_speed() - 125f64.sqrt()).abs() < 1e-6);
    assert_eq!(m.position(at(5.0)).xyz, Vec3::ZERO);
    let mid = m.position(at(15.0));
    assert!((mid.xyz.x - 50.0).abs() < 1e-6 && (mid.alt - 25.0).abs() < 1e-6);
    assert_eq!(m.position(at(100.0)).xyz, Vec3::new(100.0, 0.0, 50.0));
    assert_eq!(m.max_speed(), 0.0, "nothing left to travel");
}

#[test]
fn flight_plan_follows_great_circle_and_climbs() {
    // 10 degrees of longitude along the equator at 250 m/s, climbing to 10 km.
    let spec = MobilitySpec::FlightPlan {
        route: vec![[0.0, 0.0, 0.0], [0.0, 10.0, 10_000.0]],
        speed: 250.0,
        climb_rate: 10.0,
        departure: SimDuration::from_secs(60),
        spacing: SimDuration::from_secs(600),
    };
    let rng = RngStreams::new(0, 0).stream(0, 0);
    let mut m = Mobility::from_spec(&spec, 0, Frame::Wgs84, rng);
    let g0 = Geodetic::from_ecef(m.position(at(30.0)).xyz);
    assert!(
        g0.lon.abs() < 1e-9 && g0.alt.abs() < 1e-3,
        "waits at the origin: {g0:?}"
    );
    let p = m.position(at(60.0 + 500.0));
    assert!((p.alt - 5000.0).abs() < 1e-3, "climbing: {}", p.alt);
    let g = Geodetic::from_ecef(p.xyz);
    let expected_lon = (250.0 * 500.0 / EARTH_MEAN_RADIUS).to_degrees();
    assert!(
        (g.lon - expected_lon).abs() < 1e-6 && g.lat.abs() < 1e-9,
        "{g:?}"
    );
    assert!(
        (m.position(at(3000.0)).alt - 10_000.0).abs() < 1e-3,
        "cruise"
    );
    // Node 1 of the group is 600 s further along.
    let mut m1 = Mobility::from_spec(&spec, 1, Frame::Wgs84, rng);
    let g1 = Geodetic::from_ecef(m1.position(at(60.0)).xyz);
    assert!((g1.lon - (250.0 * 600.0 / EARTH_MEAN_RADIUS).to_degrees()).abs() < 1e-6);
    let v = m.velocity(at(2000.0)).norm();
    assert!((v - 250.0).abs() < 2.0, "ground speed {v}");
}

#[test]
fn external_node_extrapolates_its_velocity() {
    let mut m = Mobility::from_spec(
        &MobilitySpec::External {
            position: [0.0, 0.0, 100.0],
        },
        0,
        Frame::Local,
        RngStreams::new(0, 0).stream(0, 0),
    );
    assert_eq!(m.position(at(5.0)).xyz, Vec3::new(0.0, 0.0, 100.0));
    assert!(m.set_external(
        at(10.0),
        Position::local(10.0, 0.0, 100.0),
        Vec3::new(1.0, 0.0, 2.0)
    ));
    let p = m.position(at(12.0));
    assert_eq!(p.xyz, Vec3::new(12.0, 0.0, 104.0));
    assert!((p.alt - 104.0).abs() < 1e-9);
}
