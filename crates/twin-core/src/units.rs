//! Unit newtypes for physical quantities that cross component boundaries.
//!
//! Each is a transparent `f64` wrapper: serialized as the bare number, the
//! unit fixed by the type name. Arithmetic beyond the basics is done on the
//! inner value deliberately, so that conversions are visible in the code.

use std::ops::{Add, Sub};

use serde::{Deserialize, Serialize};

macro_rules! unit {
    ($(#[$doc:meta])* $name:ident, $sym:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub f64);

        impl Add for $name {
            type Output = $name;
            fn add(self, rhs: $name) -> $name {
                $name(self.0 + rhs.0)
            }
        }
        impl Sub for $name {
            type Output = $name;
            fn sub(self, rhs: $name) -> $name {
                $name(self.0 - rhs.0)
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!("{} ", $sym), self.0)
            }
        }
    };
}

unit!(
    /// Length [m].
    Meters,
    "m"
);
unit!(
    /// Speed [m·s⁻¹].
    MetersPerSecond,
    "m/s"
);
unit!(
    /// Frequency [Hz].
    Hertz,
    "Hz"
);
unit!(
    /// Power level relative to 1 mW [dBm].
    Dbm,
    "dBm"
);
unit!(
    /// Angle [°].
    Degrees,
    "°"
);
unit!(
    /// A physical (not simulation-time) duration or period [s], e.g. a time constant.
    Seconds,
    "s"
);

impl Dbm {
    /// Power in milliwatts.
    pub fn to_milliwatts(self) -> f64 {
        10f64.powf(self.0 / 10.0)
    }
    /// Power level of `mw` milliwatts.
    pub fn from_milliwatts(mw: f64) -> Dbm {
        Dbm(10.0 * mw.log10())
    }
}

impl Degrees {
    /// The angle in radians.
    pub fn to_radians(self) -> f64 {
        self.0.to_radians()
    }
}
