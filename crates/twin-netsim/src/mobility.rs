//! Mobility models, evaluated analytically at event time.
//!
//! Nothing moves in steps: a node's trajectory is a sequence of *legs*, each
//! a closed-form function of time, and the simulator asks for the position
//! at the instant it needs one (a transmission, a probe). Random models draw
//! the next leg from the node's own random stream only when time reaches the
//! end of the current one, so the trajectory is a function of
//! `(seed, run, node)` alone, whatever the query pattern.
//!
//! | model | legs | reference |
//! |---|---|---|
//! | constant / line | one infinite still leg | |
//! | waypoints | straight segments between timed points | ns-3 `WaypointMobilityModel` |
//! | random waypoint | move to a uniform point at U(v_min, v_max), pause | Johnson & Maltz 1996; ns-3 `RandomWaypointMobilityModel` |
//! | Gauss-Markov 3D | constant velocity for `time_step`, then `x ← α x + (1-α) x̄ + √(1-α²) N(0, σ)` for speed, heading, pitch; reflection at the box | Liang & Haas 1999; ns-3 `GaussMarkovMobilityModel` |
//! | flight plan | great-circle legs (spherical interpolation of the horizontal position) with altitude moving toward the next waypoint's at `climb_rate`, mapped to ECEF on WGS84 | |
//! | external | whatever `set_position` last said | OPNET + STK style coupling |

use serde::Serialize;
use twin_core::SimTime;
use twin_des::Rng;

use crate::{
    geo::{central_angle, slerp, Geodetic, Vec3, EARTH_MEAN_RADIUS},
    scenario::{AreaSpec, Frame, MobilitySpec},
};

/// A node's position in the simulation frame, plus its altitude.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Position {
    /// Cartesian position \[m\]: local east-north-up, or ECEF in the wgs84 frame.
    pub xyz: Vec3,
    /// Height above the ground / ellipsoid \[m\] (the local z, or geodetic height).
    pub alt: f64,
}

impl Position {
    /// A position in the local frame (altitude = z).
    pub fn local(x: f64, y: f64, z: f64) -> Self {
        Position {
            xyz: Vec3::new(x, y, z),
            alt: z,
        }
    }

    /// A position from geodetic coordinates (wgs84 frame).
    pub fn geodetic(g: Geodetic) -> Self {
        Position {
            xyz: g.to_ecef(),
            alt: g.alt,
        }
    }

    /// Interprets scenario coordinates in `frame`.
    pub fn in_frame(frame: Frame, p: [f64; 3]) -> Self {
        match frame {
            Frame::Local => Position::local(p[0], p[1], p[2]),
            Frame::Wgs84 => Position::geodetic(Geodetic::new(p[0], p[1], p[2])),
        }
    }
}

/// A straight constant-velocity piece of trajectory over `[t0, t1)` \[ns\].
#[derive(Debug, Clone, Copy, PartialEq)]
struct Leg {
    /// Start \[ns\].
    t0: u64,
    /// End \[ns\]; `u64::MAX` for a leg that never ends.
    t1: u64,
    /// Position at `t0`.
    p0: Vec3,
    /// Constant velocity \[m·s⁻¹\].
    v: Vec3,
}

impl Leg {
    /// A leg that stays at `p` forever from `t0`.
    fn still(t0: u64, p: Vec3) -> Leg {
        Leg {
            t0,
            t1: u64::MAX,
            p0: p,
            v: Vec3::ZERO,
        }
    }

    /// Position at `t` \[ns\].
    #[inline]
    fn at(&self, t: u64) -> Vec3 {
        let dt = t.saturating_sub(self.t0) as f64 * 1e-9;
        self.p0 + self.v * dt
    }

    /// A leg from `p0` to `p1` at `speed`, starting at `t0`; the end is the
    /// exact point `p1` (returned for the next leg).
    fn travel(t0: u64, p0: Vec3, p1: Vec3, speed: f64) -> Leg {
        let d = p0.distance(p1);
        if speed <= 0.0 || d == 0.0 {
            return Leg {
                t0,
                t1: if speed <= 0.0 { u64::MAX } else { t0 },
                p0,
                v: Vec3::ZERO,
            };
        }
        let dur = (d / speed * 1e9).round().max(1.0) as u64;
        Leg {
            t0,
            t1: t0.saturating_add(dur),
            p0,
            v: (p1 - p0) * (1e9 / dur as f64),
        }
    }
}

/// The source of the next leg of a [`Track`].
#[derive(Debug, Clone)]
enum LegSource {
    /// No more legs: the last leg is infinite.
    Done,
    /// Timed points (index of the next point to reach).
    Points {
        points: Vec<(u64, Vec3)>,
        next: usize,
    },
    /// Random waypoint.
    Rwp {
        area: AreaSpec,
        speed: [f64; 2],
        pause: u64,
        /// Whether the next leg is a pause.
        pausing: bool,
        rng: Rng,
    },
    /// Gauss-Markov 3D.
    Gm(Box<GaussMarkov>),
}

/// State of the Gauss-Markov process.
#[derive(Debug, Clone)]
struct GaussMarkov {
    /// Bounding box.
    area: AreaSpec,
    /// Memory α.
    alpha: f64,
    /// Update period \[ns\].
    step: u64,
    /// Current speed \[m·s⁻¹\].
    speed: f64,
    /// Current heading \[rad\], counter-clockwise from east.
    heading: f64,
    /// Current pitch \[rad\].
    pitch: f64,
    /// Asymptotic mean speed \[m·s⁻¹\].
    mean_speed: f64,
    /// Asymptotic mean heading \[rad\] (flipped at reflections).
    mean_heading: f64,
    /// Asymptotic mean pitch \[rad\] (flipped at reflections).
    mean_pitch: f64,
    /// Innovation standard deviations: speed, heading, pitch.
    sd: [f64; 3],
    /// Speed cap \[m·s⁻¹\].
    max_speed: f64,
    /// The node's mobility stream.
    rng: Rng,
}

/// A trajectory made of legs, generated lazily.
#[derive(Debug, Clone)]
pub(crate) struct Track {
    /// The leg before `cur`, for queries slightly in the past.
    prev: Leg,
    /// The leg containing the latest query.
    cur: Leg,
    /// Where the next leg comes from.
    src: LegSource,
    /// Whether `xyz` is ECEF (altitude computed geodetically).
    ecef: bool,
}

/// Great-circle flight plan on WGS84.
#[derive(Debug, Clone)]
pub(crate) struct Flight {
    /// Waypoints.
    wps: Vec<Geodetic>,
    /// Start time of each leg \[ns since departure\], plus the arrival time.
    times: Vec<f64>,
    /// Central angle of each leg \[rad\].
    angles: Vec<f64>,
    climb: f64,
    /// Simulation time of departure minus the along-track offset \[s\].
    t_dep: f64,
    max_speed: f64,
}

/// A node's mobility model (the process behind its position).
#[derive(Debug, Clone)]
pub(crate) enum Mobility {
    /// Never moves.
    Still(Position),
    /// Piecewise-linear legs.
    Track(Box<Track>),
    /// Great-circle legs.
    Flight(Box<Flight>),
    /// Driven from outside; moves linearly with the last given velocity.
    External {
        pos: Position,
        vel: Vec3,
        since: u64,
        ecef: bool,
    },
}

/// A uniform draw in `[lo, hi)`.
fn uniform(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.uniform_f64()
}

/// A uniform point in a box.
fn random_point(rng: &mut Rng, a: &AreaSpec) -> Vec3 {
    Vec3::new(
        uniform(rng, a.min[0], a.max[0]),
        uniform(rng, a.min[1], a.max[1]),
        uniform(rng, a.min[2], a.max[2]),
    )
}

impl Mobility {
    /// Builds node `index` (within its group) of a mobility spec.
    pub(crate) fn from_spec(
        spec: &MobilitySpec,
        index: u32,
        frame: Frame,
        mut rng: Rng,
    ) -> Mobility {
        let ecef = frame == Frame::Wgs84;
        match spec {
            MobilitySpec::Constant { position } => {
                Mobility::Still(Position::in_frame(frame, *position))
            }
            MobilitySpec::Line { start, spacing } => {
                let k = f64::from(index);
                Mobility::Still(Position::in_frame(
                    frame,
                    [
                        start[0] + k * spacing[0],
                        start[1] + k * spacing[1],
                        start[2] + k * spacing[2],
                    ],
                ))
            }
            MobilitySpec::External { position } => Mobility::External {
                pos: Position::in_frame(frame, *position),
                vel: Vec3::ZERO,
                since: 0,
                ecef,
            },
            MobilitySpec::Waypoints { .. } | MobilitySpec::Ns2Trace { .. } => {
                let pts: Vec<(u64, Vec3)> = match spec {
                    MobilitySpec::Waypoints { points } => points
                        .iter()
                        .map(|w| (w.at.as_nanos(), Position::in_frame(frame, w.position).xyz))
                        .collect(),
                    MobilitySpec::Ns2Trace { first, tracks, .. } => tracks
                        .get(&(first + index))
                        .map_or(vec![(0, Vec3::ZERO)], |t| {
                            t.iter().map(|&(at, p)| (at, Vec3::from(p))).collect()
                        }),
                    _ => unreachable!("matched above"),
                };
                let first = pts[0];
                let cur = Leg {
                    t0: 0,
                    t1: first.0,
                    p0: first.1,
                    v: Vec3::ZERO,
                };
                Mobility::track(
                    cur,
                    LegSource::Points {
                        points: pts,
                        next: 1,
                    },
                    ecef,
                )
            }
            MobilitySpec::RandomWaypoint { area, speed, pause } => {
                let p0 = random_point(&mut rng, area);
                let mut src = LegSource::Rwp {
                    area: *area,
                    speed: *speed,
                    pause: pause.as_nanos(),
                    pausing: false,
                    rng,
                };
                let first = src.next_leg(&Leg::still(0, p0), 0);
                Mobility::track(first, src, ecef)
            }
            MobilitySpec::GaussMarkov {
                area,
                alpha,
                time_step,
                mean_speed,
                mean_pitch,
                speed_sd,
                heading_sd,
                pitch_sd,
            } => {
                let p0 = random_point(&mut rng, area);
                let ms = uniform(&mut rng, mean_speed[0], mean_speed[1]);
                let mh = uniform(&mut rng, 0.0, std::f64::consts::TAU);
                let gm = GaussMarkov {
                    area: *area,
                    alpha: *alpha,
                    step: time_step.as_nanos(),
                    speed: ms,
                    heading: mh,
                    pitch: *mean_pitch,
                    mean_speed: ms,
                    mean_heading: mh,
                    mean_pitch: *mean_pitch,
                    sd: [*speed_sd, *heading_sd, *pitch_sd],
                    max_speed: mean_speed[1] + 2.0 * speed_sd,
                    rng,
                };
                let mut src = LegSource::Gm(Box::new(gm));
                let first = src.next_leg(&Leg::still(0, p0), 0);
                Mobility::track(first, src, ecef)
            }
            MobilitySpec::FlightPlan {
                route,
                speed,
                climb_rate,
                departure,
                spacing,
            } => {
                let wps: Vec<Geodetic> = route
                    .iter()
                    .map(|w| Geodetic::new(w[0], w[1], w[2]))
                    .collect();
                let mut times = vec![0.0];
                let mut angles = Vec::new();
                for w in wps.windows(2) {
                    let a = central_angle(w[0], w[1]);
                    angles.push(a);
                    let last = *times.last().expect("times starts non-empty");
                    times.push(last + a * EARTH_MEAN_RADIUS / speed);
                }
                let offset = spacing.as_secs_f64() * f64::from(index);
                Mobility::Flight(Box::new(Flight {
                    wps,
                    times,
                    angles,
                    climb: *climb_rate,
                    t_dep: departure.as_secs_f64() - offset,
                    max_speed: (speed * speed + climb_rate * climb_rate).sqrt() * 1.01,
                }))
            }
        }
    }

    /// A track starting with leg `cur`.
    fn track(cur: Leg, src: LegSource, ecef: bool) -> Mobility {
        Mobility::Track(Box::new(Track {
            prev: Leg::still(0, cur.p0),
            cur,
            src,
            ecef,
        }))
    }

    /// The position at `t`. Queries should not go back in time by more than
    /// one leg (the simulator only asks at event times).
    pub(crate) fn position(&mut self, t: SimTime) -> Position {
        let t = t.as_nanos();
        match self {
            Mobility::Still(p) => *p,
            Mobility::External {
                pos,
                vel,
                since,
                ecef,
            } => {
                if *vel == Vec3::ZERO {
                    return *pos;
                }
                let dt = t.saturating_sub(*since) as f64 * 1e-9;
                let xyz = pos.xyz + *vel * dt;
                let climb = if *ecef {
                    xyz.norm() - pos.xyz.norm()
                } else {
                    xyz.z - pos.xyz.z
                };
                Position {
                    xyz,
                    alt: pos.alt + climb,
                }
            }
            Mobility::Track(tr) => {
                let xyz = tr.at(t);
                let alt = if tr.ecef {
                    Geodetic::from_ecef(xyz).alt
                } else {
                    xyz.z
                };
                Position { xyz, alt }
            }
            Mobility::Flight(f) => Position::geodetic(f.at(t as f64 * 1e-9)),
        }
    }

    /// The velocity at `t` \[m·s⁻¹\] (finite difference for flight plans).
    pub(crate) fn velocity(&mut self, t: SimTime) -> Vec3 {
        match self {
            Mobility::Still(_) => Vec3::ZERO,
            Mobility::External { vel, .. } => *vel,
            Mobility::Track(tr) => {
                tr.at(t.as_nanos());
                tr.cur.v
            }
            Mobility::Flight(f) => {
                let s = t.as_secs_f64();
                Geodetic::to_ecef(f.at(s + 0.5)) - Geodetic::to_ecef(f.at(s - 0.5))
            }
        }
    }

    /// An upper bound of the speed \[m·s⁻¹\] (for the spatial index).
    pub(crate) fn max_speed(&self) -> f64 {
        match self {
            Mobility::Still(_) | Mobility::External { .. } => 0.0,
            Mobility::Flight(f) => f.max_speed,
            Mobility::Track(tr) => match &tr.src {
                LegSource::Done => tr.cur.v.norm(),
                LegSource::Points { points, .. } => points
                    .windows(2)
                    .map(|w| {
                        let dt = (w[1].0 - w[0].0) as f64 * 1e-9;
                        if dt > 0.0 {
                            w[0].1.distance(w[1].1) / dt
                        } else {
                            0.0
                        }
                    })
                    .fold(0.0, f64::max),
                LegSource::Rwp { speed, .. } => speed[1],
                LegSource::Gm(g) => g.max_speed,
            },
        }
    }

    /// Whether the position is set from outside.
    pub(crate) fn is_external(&self) -> bool {
        matches!(self, Mobility::External { .. })
    }

    /// Sets the position (and velocity for extrapolation) of an external node.
    pub(crate) fn set_external(&mut self, t: SimTime, p: Position, v: Vec3) -> bool {
        match self {
            Mobility::External {
                pos, vel, since, ..
            } => {
                *pos = p;
                *vel = v;
                *since = t.as_nanos();
                true
            }
            _ => false,
        }
    }

    /// Name of the model, for observers.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Mobility::Still(_) => "constant",
            Mobility::External { .. } => "external",
            Mobility::Flight(_) => "flight-plan",
            Mobility::Track(tr) => match tr.src {
                LegSource::Done | LegSource::Points { .. } => "waypoints",
                LegSource::Rwp { .. } => "random-waypoint",
                LegSource::Gm(_) => "gauss-markov",
            },
        }
    }
}

impl Track {
    /// Position at `t` \[ns\], generating legs up to `t` as needed.
    fn at(&mut self, t: u64) -> Vec3 {
        while t >= self.cur.t1 {
            let next = self.src.next_leg(&self.cur, self.cur.t1);
            self.prev = self.cur;
            self.cur = next;
        }
        if t < self.cur.t0 {
            return self.prev.at(t.min(self.prev.t1));
        }
        self.cur.at(t)
    }
}

impl LegSource {
    /// The leg that follows `last`, starting at `t0` (= `last.t1`).
    fn next_leg(&mut self, last: &Leg, t0: u64) -> Leg {
        let here = if last.t1 == u64::MAX || last.v == Vec3::ZERO {
            last.p0
        } else {
            last.at(t0)
        };
        match self {
            LegSource::Done => Leg::still(t0, here),
            LegSource::Points { points, next } => {
                let Some(&(t1, p1)) = points.get(*next) else {
                    let end = points.last().map_or(here, |p| p.1);
                    *self = LegSource::Done;
                    return Leg::still(t0, end);
                };
                *next += 1;
                let p0 = points[*next - 2].1;
                if t1 <= t0 {
                    return Leg {
                        t0,
                        t1: t0,
                        p0: p1,
                        v: Vec3::ZERO,
                    };
                }
                Leg {
                    t0,
                    t1,
                    p0,
                    v: (p1 - p0) * (1e9 / (t1 - t0) as f64),
                }
            }
            LegSource::Rwp {
                area,
                speed,
                pause,
                pausing,
                rng,
            } => {
                if *pausing && *pause > 0 {
                    *pausing = false;
                    return Leg {
                        t0,
                        t1: t0.saturating_add(*pause),
                        p0: here,
                        v: Vec3::ZERO,
                    };
                }
                *pausing = true;
                let dest = random_point(rng, area);
                let v = uniform(rng, speed[0], speed[1]);
                Leg::travel(t0, here, dest, v)
            }
            LegSource::Gm(g) => g.next_leg(t0, here),
        }
    }
}

impl GaussMarkov {
    /// Draws the next speed, heading and pitch and returns the leg they
    /// give from `here`, reflected at the box faces.
    fn next_leg(&mut self, t0: u64, here: Vec3) -> Leg {
        let a = self.alpha;
        let k = (1.0 - a * a).sqrt();
        let draw = |sd: f64, rng: &mut Rng| {
            if sd > 0.0 {
                rng.normal(0.0, sd).clamp(-2.0 * sd, 2.0 * sd)
            } else {
                0.0
            }
        };
        let [ss, sh, sp] = self.sd;
        self.speed = (a * self.speed + (1.0 - a) * self.mean_speed + k * draw(ss, &mut self.rng))
            .clamp(0.0, self.max_speed);
        self.heading =
            a * self.heading + (1.0 - a) * self.mean_heading + k * draw(sh, &mut self.rng);
        self.pitch = (a * self.pitch + (1.0 - a) * self.mean_pitch + k * draw(sp, &mut self.rng))
            .clamp(-1.4, 1.4);
        let dt = self.step as f64 * 1e-9;
        let mut v = self.velocity();
        let end = here + v * dt;
        let (lo, hi) = (self.area.min, self.area.max);
        // Reflect at the faces of the box, like a billiard ball.
        if end.x < lo[0] || end.x > hi[0] {
            self.heading = std::f64::consts::PI - self.heading;
            self.mean_heading = std::f64::consts::PI - self.mean_heading;
        }
        if end.y < lo[1] || end.y > hi[1] {
            self.heading = -self.heading;
            self.mean_heading = -self.mean_heading;
        }
        if end.z < lo[2] || end.z > hi[2] {
            self.pitch = -self.pitch;
            self.mean_pitch = -self.mean_pitch;
        }
        v = self.velocity();
        // A corner may still push outside: stop that component.
        let end = here + v * dt;
        if end.x < lo[0] || end.x > hi[0] {
            v.x = 0.0;
        }
        if end.y < lo[1] || end.y > hi[1] {
            v.y = 0.0;
        }
        if end.z < lo[2] || end.z > hi[2] {
            v.z = 0.0;
        }
        Leg {
            t0,
            t1: t0 + self.step,
            p0: here,
            v,
        }
    }

    /// Velocity vector of the current speed, heading and pitch.
    fn velocity(&self) -> Vec3 {
        let (sh, ch) = self.heading.sin_cos();
        let (sp, cp) = self.pitch.sin_cos();
        Vec3::new(self.speed * ch * cp, self.speed * sh * cp, self.speed * sp)
    }
}

impl Flight {
    /// Geodetic position at simulation time `t` \[s\].
    fn at(&self, t: f64) -> Geodetic {
        let s = (t - self.t_dep).max(0.0);
        let last = self.times.len() - 1;
        if s >= self.times[last] {
            return self.wps[last];
        }
        // Legs are few: a linear scan is fine.
        let i = (0..last).rfind(|&i| self.times[i] <= s).unwrap_or(0);
        let (a, b) = (self.wps[i], self.wps[i + 1]);
        let dur = self.times[i + 1] - self.times[i];
        let f = if dur > 0.0 {
            (s - self.times[i]) / dur
        } else {
            1.0
        };
        let u = slerp(a.unit_sphere(), b.unit_sphere(), self.angles[i], f);
        let dz = b.alt - a.alt;
        let climbed = (self.climb * (s - self.times[i])).min(dz.abs());
        Geodetic::from_unit_sphere(u, a.alt + climbed.copysign(dz))
    }
}

#[cfg(test)]
mod tests;

pub mod ns2;
