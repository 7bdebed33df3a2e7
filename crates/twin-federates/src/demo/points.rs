//! `moving-points`: N points on circles, published every step.
//!
//! Point `i` moves on a circle of radius `radius_m` around a centre drawn
//! from the scenario seed, at constant speed `speed_mps`, with a phase and
//! altitude of its own: position at time t is
//! `c + r (cos(φ + ω t), sin(φ + ω t))`, `ω = v / r`, evaluated exactly at
//! each granted time (no accumulated integration error).

use serde::Deserialize;
use twin_bus::WriterQos;
use twin_core::SimTime;
use twin_federation::{Ctx, Member, MemberError, Next, TimedWriter};
use twin_scenario::ParamIssue;

use super::{PointPosition, SplitMix, POSITION_TOPIC};
use crate::params::{issues, parse_params};

/// Parameters of `moving-points`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Number of points (1 ..= 100,000).
    pub count: u32,
    /// Circle radius [m], > 0.
    pub radius_m: f64,
    /// Speed along the circle [m·s⁻¹], ≥ 0.
    pub speed_mps: f64,
}

impl Params {
    pub(crate) fn check(t: &toml::Table) -> Result<(), Vec<ParamIssue>> {
        let p: Params = parse_params(t)?;
        let mut v = Vec::new();
        if p.count == 0 || p.count > 100_000 {
            v.push(ParamIssue::at(
                "count",
                format!("count must be 1..=100000 (got {})", p.count),
            ));
        }
        if !(p.radius_m.is_finite() && p.radius_m > 0.0) {
            v.push(ParamIssue::at(
                "radius_m",
                format!("radius_m must be > 0 (got {})", p.radius_m),
            ));
        }
        if !(p.speed_mps.is_finite() && p.speed_mps >= 0.0) {
            v.push(ParamIssue::at(
                "speed_mps",
                format!("speed_mps must be ≥ 0 (got {})", p.speed_mps),
            ));
        }
        issues(v)
    }
}

struct Orbit {
    cx: f64,
    cy: f64,
    z: f64,
    phase: f64,
}

/// The `moving-points` member.
pub struct MovingPoints {
    p: Params,
    orbits: Vec<Orbit>,
    writer: Option<TimedWriter<PointPosition>>,
}

impl std::fmt::Debug for MovingPoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MovingPoints")
            .field("count", &self.p.count)
            .finish()
    }
}

impl MovingPoints {
    /// A member with these parameters.
    pub fn new(p: Params) -> Self {
        MovingPoints {
            p,
            orbits: Vec::new(),
            writer: None,
        }
    }

    fn position(&self, i: usize, t: SimTime) -> PointPosition {
        let o = &self.orbits[i];
        let (r, v) = (self.p.radius_m, self.p.speed_mps);
        let w = v / r;
        let a = o.phase + w * t.as_secs_f64();
        PointPosition {
            id: i as u32,
            x_m: o.cx + r * a.cos(),
            y_m: o.cy + r * a.sin(),
            z_m: o.z,
            vx_mps: -v * a.sin(),
            vy_mps: v * a.cos(),
        }
    }
}

impl Member for MovingPoints {
    fn init(&mut self, ctx: &mut Ctx) -> Result<(), MemberError> {
        let extent = self.p.radius_m * 4.0;
        self.orbits = (0..self.p.count as u64)
            .map(|i| {
                let mut rng = SplitMix::new(ctx.seed(), i);
                Orbit {
                    cx: (rng.uniform() - 0.5) * extent,
                    cy: (rng.uniform() - 0.5) * extent,
                    z: 100.0 + 900.0 * rng.uniform(),
                    phase: std::f64::consts::TAU * rng.uniform(),
                }
            })
            .collect();
        let qos = WriterQos::default()
            .reliable()
            .keep_last(1)
            .transient_local();
        self.writer = Some(ctx.writer(POSITION_TOPIC, qos)?);
        // Initial positions, so late joiners and the first step see them.
        self.advance(ctx, SimTime::ZERO).map(|_| ())
    }

    fn advance(&mut self, ctx: &mut Ctx, to: SimTime) -> Result<Next, MemberError> {
        let w = self.writer.as_ref().expect("init creates the writer");
        for i in 0..self.orbits.len() {
            w.write_at(self.position(i, to), to)?;
        }
        let _ = ctx;
        Ok(Next::Default)
    }
}
