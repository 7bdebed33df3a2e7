//! Shapes the page draws, and helpers to map simulator types onto them.
//!
//! A topic registered with [`Role::Positions`](crate::Role::Positions)
//! must serialise like [`NodeView`]; types that do not can be mapped with
//! [`Registry::register_mapped`](crate::Registry::register_mapped). For
//! WGS84 scenarios, [`Projector`] turns latitude, longitude and altitude
//! into the flat east-north-up frame of the network view.

use std::sync::{Arc, OnceLock};

use serde::Serialize;

/// Mean Earth radius [m] (IUGG).
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A node as the network view draws it: local east-north-up metres.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeView {
    /// Node id, unique within its topic.
    pub id: u32,
    /// Label, if the node has a name.
    pub name: Option<String>,
    /// East [m].
    pub x_m: f64,
    /// North [m].
    pub y_m: f64,
    /// Up: altitude [m].
    pub z_m: f64,
    /// East velocity [m·s⁻¹].
    pub vx_mps: f64,
    /// North velocity [m·s⁻¹].
    pub vy_mps: f64,
    /// WGS84 latitude [°], for the globe view; absent in local frames.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lat_deg: Option<f64>,
    /// WGS84 longitude [°], for the globe view; absent in local frames.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lon_deg: Option<f64>,
}

/// Maps node positions to [`NodeView`]: local ENU frames pass through;
/// WGS84 positions are projected equirectangularly around the first
/// position seen (good to a few per cent over an ocean crossing, which is
/// what a display needs), with Earth-centred velocities turned east-north.
/// Clones share the origin.
#[derive(Clone, Debug, Default)]
pub struct Projector {
    origin: Arc<OnceLock<[f64; 2]>>,
}

impl Projector {
    /// A projector whose origin is fixed by the first WGS84 node.
    pub fn new() -> Self {
        Self::default()
    }

    /// The view of one node. `xyz_m` and `velocity_mps` are in the
    /// scenario frame: local ENU when `lat_lon_deg` is `None`, else
    /// Earth-centred, Earth-fixed.
    pub fn node(
        &self,
        id: u32,
        name: Option<String>,
        lat_lon_deg: Option<[f64; 2]>,
        altitude_m: f64,
        xyz_m: [f64; 3],
        velocity_mps: [f64; 3],
    ) -> NodeView {
        let Some([lat, lon]) = lat_lon_deg else {
            return NodeView {
                id,
                name,
                x_m: xyz_m[0],
                y_m: xyz_m[1],
                z_m: xyz_m[2],
                vx_mps: velocity_mps[0],
                vy_mps: velocity_mps[1],
                lat_deg: None,
                lon_deg: None,
            };
        };
        let [lat0, lon0] = *self.origin.get_or_init(|| [lat, lon]);
        let (phi, lam) = (lat.to_radians(), lon.to_radians());
        let dlon = (lon - lon0 + 540.0).rem_euclid(360.0) - 180.0;
        let [vx, vy, vz] = velocity_mps;
        NodeView {
            id,
            name,
            x_m: EARTH_RADIUS_M * dlon.to_radians() * lat0.to_radians().cos(),
            y_m: EARTH_RADIUS_M * (lat - lat0).to_radians(),
            z_m: altitude_m,
            vx_mps: -lam.sin() * vx + lam.cos() * vy,
            vy_mps: -phi.sin() * lam.cos() * vx - phi.sin() * lam.sin() * vy + phi.cos() * vz,
            lat_deg: Some(lat),
            lon_deg: Some(lon),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wgs84_nodes_are_placed_around_the_first_one() {
        let p = Projector::new();
        let a = p.node(0, None, Some([50.0, -30.0]), 10_000.0, [0.0; 3], [0.0; 3]);
        assert_eq!((a.x_m, a.y_m, a.z_m), (0.0, 0.0, 10_000.0));
        assert_eq!((a.lat_deg, a.lon_deg), (Some(50.0), Some(-30.0)));
        // One degree north is ~111.2 km; one degree east at 50° N ~71.5 km.
        let shared = p.clone();
        let b = shared.node(1, None, Some([51.0, -29.0]), 0.0, [0.0; 3], [0.0; 3]);
        assert!((b.y_m - 111_195.0).abs() < 10.0, "{b:?}");
        assert!((b.x_m - 71_474.0).abs() < 10.0, "{b:?}");
        // Flying east at the equator, prime meridian: ECEF +y is east.
        let c = p.node(2, None, Some([0.0, 0.0]), 0.0, [0.0; 3], [0.0, 250.0, 0.0]);
        assert!(
            (c.vx_mps - 250.0).abs() < 1e-9 && c.vy_mps.abs() < 1e-9,
            "{c:?}"
        );
        // North at the equator: ECEF +z.
        let d = p.node(3, None, Some([0.0, 90.0]), 0.0, [0.0; 3], [0.0, 0.0, 10.0]);
        assert!(
            (d.vy_mps - 10.0).abs() < 1e-9 && d.vx_mps.abs() < 1e-9,
            "{d:?}"
        );
    }

    #[test]
    fn local_frames_pass_through() {
        let v = Projector::new().node(
            4,
            Some("n4".into()),
            None,
            5.0,
            [1.0, 2.0, 5.0],
            [3.0, 4.0, 0.0],
        );
        assert_eq!(
            (v.x_m, v.y_m, v.z_m, v.vx_mps, v.vy_mps),
            (1.0, 2.0, 5.0, 3.0, 4.0)
        );
        assert_eq!(v.name.as_deref(), Some("n4"));
        assert_eq!((v.lat_deg, v.lon_deg), (None, None));
        let json = serde_json::to_string(&v).unwrap();
        assert!(!json.contains("lat_deg"), "{json}");
    }
}
