//! Geometry: a small `f64` 3-vector and the WGS84 ellipsoid.
//!
//! Positions inside the simulator are Cartesian metres. A scenario in the
//! `local` frame uses an east-north-up plane (z = altitude); a scenario in
//! the `wgs84` frame uses Earth-centred, Earth-fixed (ECEF) coordinates, so
//! that distances of hundreds of kilometres are exact chords through the
//! Earth rather than flat-Earth approximations.
//!
//! Conversions follow the standard closed forms (geodetic → ECEF) and
//! Bowring's single-iteration inverse (ECEF → geodetic, sub-millimetre at
//! aircraft altitudes).

use std::ops::{Add, Mul, Sub};

use serde::{Deserialize, Serialize};

/// Semi-major axis of WGS84 \[m\].
pub const WGS84_A: f64 = 6_378_137.0;
/// Flattening of WGS84.
pub const WGS84_F: f64 = 1.0 / 298.257_223_563;
/// Mean Earth radius used for great-circle distances \[m\].
pub const EARTH_MEAN_RADIUS: f64 = 6_371_008.8;
/// Speed of light in vacuum \[m·s⁻¹\].
pub const SPEED_OF_LIGHT: f64 = 299_792_458.0;

/// First eccentricity squared of WGS84.
const E2: f64 = WGS84_F * (2.0 - WGS84_F);
/// Semi-minor axis of WGS84 \[m\].
const WGS84_B: f64 = WGS84_A * (1.0 - WGS84_F);

/// A Cartesian vector \[m\] (or \[m·s⁻¹\] for velocities).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Vec3 {
    /// East (local) or ECEF x.
    pub x: f64,
    /// North (local) or ECEF y.
    pub y: f64,
    /// Up (local) or ECEF z.
    pub z: f64,
}

impl Vec3 {
    /// The zero vector.
    pub const ZERO: Vec3 = Vec3::new(0.0, 0.0, 0.0);

    /// A vector from its components.
    pub const fn new(x: f64, y: f64, z: f64) -> Self {
        Vec3 { x, y, z }
    }

    /// Dot product.
    #[inline]
    pub fn dot(self, o: Vec3) -> f64 {
        self.x * o.x + self.y * o.y + self.z * o.z
    }

    /// Squared Euclidean length.
    #[inline]
    pub fn norm2(self) -> f64 {
        self.dot(self)
    }

    /// Euclidean length.
    #[inline]
    pub fn norm(self) -> f64 {
        self.norm2().sqrt()
    }

    /// Distance to `o`.
    #[inline]
    pub fn distance(self, o: Vec3) -> f64 {
        (self - o).norm()
    }

    /// This vector scaled to unit length (the zero vector stays zero).
    pub fn unit(self) -> Vec3 {
        let n = self.norm();
        if n > 0.0 {
            self * (1.0 / n)
        } else {
            self
        }
    }

    /// Cross product.
    pub fn cross(self, o: Vec3) -> Vec3 {
        Vec3::new(
            self.y * o.z - self.z * o.y,
            self.z * o.x - self.x * o.z,
            self.x * o.y - self.y * o.x,
        )
    }

    /// The components as an array.
    pub fn to_array(self) -> [f64; 3] {
        [self.x, self.y, self.z]
    }
}

impl From<[f64; 3]> for Vec3 {
    fn from(a: [f64; 3]) -> Self {
        Vec3::new(a[0], a[1], a[2])
    }
}

impl Add for Vec3 {
    type Output = Vec3;
    #[inline]
    fn add(self, o: Vec3) -> Vec3 {
        Vec3::new(self.x + o.x, self.y + o.y, self.z + o.z)
    }
}

impl Sub for Vec3 {
    type Output = Vec3;
    #[inline]
    fn sub(self, o: Vec3) -> Vec3 {
        Vec3::new(self.x - o.x, self.y - o.y, self.z - o.z)
    }
}

impl Mul<f64> for Vec3 {
    type Output = Vec3;
    #[inline]
    fn mul(self, k: f64) -> Vec3 {
        Vec3::new(self.x * k, self.y * k, self.z * k)
    }
}

/// A geodetic position on WGS84.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Geodetic {
    /// Latitude \[°\], positive north.
    pub lat: f64,
    /// Longitude \[°\], positive east.
    pub lon: f64,
    /// Height above the ellipsoid \[m\].
    pub alt: f64,
}

impl Geodetic {
    /// A geodetic position from latitude \[°\], longitude \[°\] and height \[m\].
    pub const fn new(lat: f64, lon: f64, alt: f64) -> Self {
        Geodetic { lat, lon, alt }
    }

    /// ECEF coordinates of this position.
    pub fn to_ecef(self) -> Vec3 {
        let (sl, cl) = self.lat.to_radians().sin_cos();
        let (so, co) = self.lon.to_radians().sin_cos();
        let n = WGS84_A / (1.0 - E2 * sl * sl).sqrt();
        Vec3::new(
            (n + self.alt) * cl * co,
            (n + self.alt) * cl * so,
            (n * (1.0 - E2) + self.alt) * sl,
        )
    }

    /// The geodetic position of an ECEF point (Bowring's method).
    pub fn from_ecef(p: Vec3) -> Geodetic {
        let ep2 = (WGS84_A * WGS84_A - WGS84_B * WGS84_B) / (WGS84_B * WGS84_B);
        let r = (p.x * p.x + p.y * p.y).sqrt();
        if r < 1e-9 {
            // On the polar axis.
            let lat = if p.z >= 0.0 { 90.0 } else { -90.0 };
            return Geodetic::new(lat, 0.0, p.z.abs() - WGS84_B);
        }
        let theta = (p.z * WGS84_A).atan2(r * WGS84_B);
        let (st, ct) = theta.sin_cos();
        let lat = (p.z + ep2 * WGS84_B * st * st * st).atan2(r - E2 * WGS84_A * ct * ct * ct);
        let lon = p.y.atan2(p.x);
        let sl = lat.sin();
        let n = WGS84_A / (1.0 - E2 * sl * sl).sqrt();
        let alt = r / lat.cos() - n;
        Geodetic::new(lat.to_degrees(), lon.to_degrees(), alt)
    }

    /// Unit vector from the Earth's centre through this latitude/longitude
    /// on a sphere (used for great-circle interpolation).
    pub fn unit_sphere(self) -> Vec3 {
        let (sl, cl) = self.lat.to_radians().sin_cos();
        let (so, co) = self.lon.to_radians().sin_cos();
        Vec3::new(cl * co, cl * so, sl)
    }

    /// Latitude and longitude \[°\] of a unit vector on the sphere.
    pub fn from_unit_sphere(u: Vec3, alt: f64) -> Geodetic {
        let lat = u.z.clamp(-1.0, 1.0).asin().to_degrees();
        let lon = u.y.atan2(u.x).to_degrees();
        Geodetic::new(lat, lon, alt)
    }
}

/// Central angle between two points on the sphere \[rad\].
pub fn central_angle(a: Geodetic, b: Geodetic) -> f64 {
    let (ua, ub) = (a.unit_sphere(), b.unit_sphere());
    ua.cross(ub).norm().atan2(ua.dot(ub))
}

/// Great-circle (surface) distance between two points \[m\].
pub fn great_circle_distance(a: Geodetic, b: Geodetic) -> f64 {
    central_angle(a, b) * EARTH_MEAN_RADIUS
}

/// Spherical linear interpolation between two unit vectors separated by
/// `angle` \[rad\]; `f` in `[0, 1]`.
pub fn slerp(ua: Vec3, ub: Vec3, angle: f64, f: f64) -> Vec3 {
    if angle < 1e-12 {
        return ua;
    }
    let s = angle.sin();
    let wa = ((1.0 - f) * angle).sin() / s;
    let wb = (f * angle).sin() / s;
    (ua * wa + ub * wb).unit()
}

#[cfg(test)]
mod tests;
