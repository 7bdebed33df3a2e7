//! The demo federation's members: simple, deterministic, and enough to
//! exercise every part of the runtime (stepped, event-driven and untimed
//! members, keyed transient-local data, recording).

pub mod logger;
pub mod points;
pub mod recorder;
pub mod ticker;

use serde::{Deserialize, Serialize};
use twin_bus::TopicType;

/// Topic of [`PointPosition`].
pub const POSITION_TOPIC: &str = "twin/demo/point/position";
/// Topic of [`Tick`].
pub const TICK_TOPIC: &str = "twin/demo/tick";

/// Position and velocity of one moving point in a local east-north-up frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointPosition {
    /// Point number (the instance key).
    pub id: u32,
    /// East [m].
    pub x_m: f64,
    /// North [m].
    pub y_m: f64,
    /// Up [m].
    pub z_m: f64,
    /// East velocity [m·s⁻¹].
    pub vx_mps: f64,
    /// North velocity [m·s⁻¹].
    pub vy_mps: f64,
}

impl TopicType for PointPosition {
    const TYPE_NAME: &'static str = "twin::demo::PointPosition";
    const KEY_FIELDS: &'static [&'static str] = &["id"];
    type Key = u32;
    fn key(&self) -> u32 {
        self.id
    }
}

/// An event of the ticker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tick {
    /// Event number, from 1.
    pub n: u64,
}

impl TopicType for Tick {
    const TYPE_NAME: &'static str = "twin::demo::Tick";
    type Key = ();
    fn key(&self) {}
}

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, seedable generator for
/// the demo members' reproducible randomness.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(seed: u64, stream: u64) -> Self {
        let mut s = SplitMix(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        s.next_u64();
        s
    }
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
