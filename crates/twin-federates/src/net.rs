//! `network`: the packet-level network simulator (`twin-netsim`) as a
//! federation member.
//!
//! A stepped member. At each grant it runs the network to the granted time,
//! publishing on the way, at every multiple of `position_period`:
//! node positions on `twin/net/node/position` ([`NetNodePosition`], keyed by
//! node), and the current hop list of every flow on `twin/net/route`
//! ([`NetRoute`], keyed by flow, only when it changed); every `stats_period`
//! a summary on `twin/net/stats` ([`NetStats`]) and the quality of every
//! usable link on `twin/net/links` ([`NetLinks`]: SNR and delivery
//! probability on a quiet channel, see `twin_netsim::LinkQuality`). With
//! positions, the frames each node has sent so far go on `twin/net/tx`
//! ([`NetTransmissions`], when they changed), for transmission flashes.
//! Nodes with `external`
//! mobility follow positions published by another member on
//! `twin/net/node/external` ([`NetExternalPosition`]), as OPNET follows STK.
//!
//! As `twin net run` does, the member writes the scenario's `[[probes]]`
//! CSVs (and `stats.json`, `flows.csv` at the end) to `out` when set, and
//! with `pacing` > 0 paces its own steps against the wall clock (1 = real
//! time), so positions come out smoothly inside each grant for
//! hardware-in-the-loop use (the federation's `pacing` paces the grants).

use std::{collections::BTreeMap, path::PathBuf};

use serde::{Deserialize, Serialize};
use twin_bus::{ReaderQos, TopicType, WriterQos};
use twin_core::{SimDuration, SimTime};
use twin_federation::{Ctx, Member, MemberError, Next, TimedReader, TimedWriter};
use twin_netsim::{Scenario as NetScenario, Simulation};
use twin_scenario::ParamIssue;

use crate::params::{issues, parse_params};

/// Topic of [`NetNodePosition`].
pub const POSITION_TOPIC: &str = "twin/net/node/position";
/// Topic of [`NetRoute`].
pub const ROUTE_TOPIC: &str = "twin/net/route";
/// Topic of [`NetStats`].
pub const STATS_TOPIC: &str = "twin/net/stats";
/// Topic of [`NetLinks`].
pub const LINKS_TOPIC: &str = "twin/net/links";
/// Topic of [`NetTransmissions`].
pub const TX_TOPIC: &str = "twin/net/tx";
/// Links whose delivery probability is below this are not published.
pub const MIN_LINK_PDR: f64 = 0.01;

/// One usable link between two nodes (the weaker of its two directions).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetLink {
    /// The node with the smaller id.
    pub a: u32,
    /// The other node.
    pub b: u32,
    /// Distance [m].
    pub distance_m: f64,
    /// Signal-to-noise ratio [dB].
    pub snr_db: f64,
    /// Delivery probability of a 1000-byte data frame on a quiet channel.
    pub pdr: f64,
}

/// Every usable link at one time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetLinks {
    /// Links with a delivery probability of at least [`MIN_LINK_PDR`] both ways.
    pub links: Vec<NetLink>,
}

impl TopicType for NetLinks {
    const TYPE_NAME: &'static str = "twin::net::Links";
    type Key = ();
    fn key(&self) {}
}

/// Frames each node has put on the air so far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetTransmissions {
    /// Cumulative frame counts, indexed by node id.
    pub frames: Vec<u64>,
}

impl TopicType for NetTransmissions {
    const TYPE_NAME: &'static str = "twin::net::Transmissions";
    type Key = ();
    fn key(&self) {}
}

/// Topic of [`NetExternalPosition`].
pub const EXTERNAL_TOPIC: &str = "twin/net/node/external";

/// Where a node is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetNodePosition {
    /// Node id (the instance key).
    pub node: u32,
    /// Node name.
    pub name: String,
    /// Position in the scenario frame [m] (local ENU, or ECEF for WGS84 scenarios).
    pub xyz_m: [f64; 3],
    /// Altitude [m].
    pub altitude_m: f64,
    /// Latitude and longitude [°] (WGS84 scenarios only).
    pub lat_lon_deg: Option<[f64; 2]>,
    /// Velocity in the scenario frame [m·s⁻¹].
    pub velocity_mps: [f64; 3],
}

impl TopicType for NetNodePosition {
    const TYPE_NAME: &'static str = "twin::net::NodePosition";
    const KEY_FIELDS: &'static [&'static str] = &["node"];
    type Key = u32;
    fn key(&self) -> u32 {
        self.node
    }
}

/// The current path of one flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetRoute {
    /// Flow index (the instance key).
    pub flow: u32,
    /// Source node.
    pub src: u32,
    /// Destination node.
    pub dst: u32,
    /// Nodes from the source on, as far as next hops are known.
    pub hops: Vec<u32>,
    /// Whether `hops` reaches the destination.
    pub complete: bool,
}

impl TopicType for NetRoute {
    const TYPE_NAME: &'static str = "twin::net::Route";
    const KEY_FIELDS: &'static [&'static str] = &["flow"];
    type Key = u32;
    fn key(&self) -> u32 {
        self.flow
    }
}

/// Network-wide statistics so far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetStats {
    /// Data packets sent by sources.
    pub tx_packets: u64,
    /// Data packets delivered to destinations.
    pub rx_packets: u64,
    /// Delivered / sent.
    pub delivery_ratio: f64,
    /// Mean end-to-end delay of delivered packets [ms].
    pub mean_delay_ms: f64,
    /// Routing control packets sent.
    pub control_packets: u64,
    /// Simulator events executed.
    pub events: u64,
}

impl TopicType for NetStats {
    const TYPE_NAME: &'static str = "twin::net::Stats";
    type Key = ();
    fn key(&self) {}
}

/// A position for an externally driven node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetExternalPosition {
    /// Node name (the instance key).
    pub name: String,
    /// Position in the scenario frame: `[x, y, z]` [m] or `[lat °, lon °, alt m]`.
    pub position: [f64; 3],
    /// Velocity east, north, up [m·s⁻¹], used until the next update.
    pub velocity_enu_mps: [f64; 3],
}

impl TopicType for NetExternalPosition {
    const TYPE_NAME: &'static str = "twin::net::ExternalPosition";
    const KEY_FIELDS: &'static [&'static str] = &["name"];
    type Key = String;
    fn key(&self) -> String {
        self.name.clone()
    }
}

fn default_position_period() -> SimDuration {
    SimDuration::from_millis(100)
}
fn default_stats_period() -> SimDuration {
    SimDuration::from_secs(1)
}

/// Parameters of `network`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The network scenario file (see `scenarios/net/`), relative to the
    /// working directory, or `builtin:aanet-small` for the scenario built
    /// into `twin`.
    pub scenario: PathBuf,
    /// Period of position and route publication (default 100 ms = 10 Hz).
    #[serde(default = "default_position_period")]
    pub position_period: SimDuration,
    /// Period of statistics publication (default 1 s).
    #[serde(default = "default_stats_period")]
    pub stats_period: SimDuration,
    /// Folder for the scenario's probe CSVs, `stats.json` and `flows.csv`
    /// (none: no files).
    #[serde(default)]
    pub out: Option<PathBuf>,
    /// Simulated seconds per wall-clock second (1 = real time; 0, the
    /// default: as fast as the grants allow).
    #[serde(default)]
    pub pacing: f64,
}

impl Params {
    pub(crate) fn check(t: &toml::Table) -> Result<(), Vec<ParamIssue>> {
        let p: Params = parse_params(t)?;
        let mut v = Vec::new();
        if p.position_period.is_zero() {
            v.push(ParamIssue::at(
                "position_period",
                "position_period must be > 0",
            ));
        }
        if p.stats_period.is_zero() {
            v.push(ParamIssue::at("stats_period", "stats_period must be > 0"));
        }
        if !(p.pacing >= 0.0 && p.pacing.is_finite()) {
            v.push(ParamIssue::at(
                "pacing",
                "pacing must be a finite number >= 0 (simulated s per wall s)",
            ));
        }
        if let Err(e) = load(&p.scenario) {
            v.push(ParamIssue::at("scenario", e));
        }
        issues(v)
    }
}

/// Scenarios built into the binary, so the demo needs no files.
const BUILTIN: [(&str, &str); 1] = [(
    "builtin:aanet-small",
    include_str!("../../../scenarios/net/aanet-small.toml"),
)];

fn load(path: &std::path::Path) -> Result<NetScenario, String> {
    let name = path.to_string_lossy();
    let sc = match BUILTIN.iter().find(|(n, _)| *n == name) {
        Some((n, text)) => NetScenario::parse(text, Some(std::path::Path::new(n))),
        None => NetScenario::from_file(path),
    };
    let sc = sc.map_err(|e| e.to_string())?;
    sc.validate().map_err(|e| e.to_string())?;
    Ok(sc)
}

/// The `network` member.
pub struct Network {
    p: Params,
    sim: Option<Simulation>,
    positions: Option<TimedWriter<NetNodePosition>>,
    routes: Option<TimedWriter<NetRoute>>,
    stats: Option<TimedWriter<NetStats>>,
    links: Option<TimedWriter<NetLinks>>,
    tx: Option<TimedWriter<NetTransmissions>>,
    last_frames: Vec<u64>,
    external: Option<TimedReader<NetExternalPosition>>,
    last_routes: BTreeMap<u32, NetRoute>,
    next_publish: SimTime,
    next_stats: SimTime,
    /// Probe writers, when `out` is set (taken when the run ends).
    probes: Option<twin_netsim::Probes>,
    /// Wall-clock start, for pacing.
    wall0: std::time::Instant,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("scenario", &self.p.scenario)
            .finish()
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> MemberError {
    MemberError::Failed(format!("{what}: {e}"))
}

impl Network {
    /// A member with these parameters.
    pub fn new(p: Params) -> Self {
        Network {
            p,
            sim: None,
            positions: None,
            routes: None,
            stats: None,
            links: None,
            tx: None,
            last_frames: Vec::new(),
            external: None,
            last_routes: BTreeMap::new(),
            next_publish: SimTime::ZERO,
            next_stats: SimTime::ZERO,
            probes: None,
            wall0: std::time::Instant::now(),
        }
    }

    /// Runs the network to `t` (through the probes, if any), then waits
    /// for the wall clock if paced.
    fn step(&mut self, t: SimTime) -> Result<(), MemberError> {
        let sim = self.sim.as_mut().expect("init");
        if t > sim.now() {
            match self.probes.as_mut() {
                Some(p) => p.advance(sim, t).map_err(|e| failed("network probes", e))?,
                None => {
                    sim.step_until(t).map_err(|e| failed("network", e))?;
                }
            }
        }
        if self.p.pacing > 0.0 {
            let due =
                std::time::Duration::from_secs_f64(t.as_nanos() as f64 * 1e-9 / self.p.pacing);
            if let Some(wait) = due.checked_sub(self.wall0.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        Ok(())
    }

    fn publish(&mut self, t: SimTime) -> Result<(), MemberError> {
        let sim = self.sim.as_mut().expect("init");
        let w = self.positions.as_ref().expect("init");
        for n in sim.positions() {
            let p = NetNodePosition {
                node: n.node.0,
                name: n.name,
                xyz_m: n.xyz,
                altitude_m: n.altitude,
                lat_lon_deg: n.geodetic.map(|g| [g.lat, g.lon]),
                velocity_mps: n.velocity,
            };
            w.write_at(p, t)?;
        }
        let w = self.routes.as_ref().expect("init");
        for r in sim.routes() {
            let r = NetRoute {
                flow: r.flow,
                src: r.src.0,
                dst: r.dst.0,
                hops: r.hops.iter().map(|h| h.0).collect(),
                complete: r.complete,
            };
            if self.last_routes.get(&r.flow) != Some(&r) {
                self.last_routes.insert(r.flow, r.clone());
                w.write_at(r, t)?;
            }
        }
        let frames = sim.frames_sent();
        if frames != self.last_frames.as_slice() {
            self.last_frames = frames.to_vec();
            let tx = NetTransmissions {
                frames: self.last_frames.clone(),
            };
            self.tx.as_ref().expect("init").write_at(tx, t)?;
        }
        Ok(())
    }

    fn publish_stats(&mut self, t: SimTime) -> Result<(), MemberError> {
        let s = self.sim.as_ref().expect("init").stats();
        let st = NetStats {
            tx_packets: s.totals.tx_packets,
            rx_packets: s.totals.rx_packets,
            delivery_ratio: s.totals.delivery_ratio,
            mean_delay_ms: s.totals.mean_delay_ms,
            control_packets: s.routing.control_packets,
            events: s.events,
        };
        self.stats.as_ref().expect("init").write_at(st, t)?;
        let links = undirected(&self.sim.as_mut().expect("init").links(MIN_LINK_PDR));
        self.links
            .as_ref()
            .expect("init")
            .write_at(NetLinks { links }, t)?;
        Ok(())
    }
}

impl Member for Network {
    fn init(&mut self, ctx: &mut Ctx) -> Result<(), MemberError> {
        let sc = load(&self.p.scenario).map_err(|e| failed("network scenario", e))?;
        let sim = Simulation::from_scenario(&sc).map_err(|e| failed("network scenario", e))?;
        if let Some(dir) = &self.p.out {
            std::fs::create_dir_all(dir)
                .map_err(|e| failed(&format!("creating {}", dir.display()), e))?;
            self.probes = Some(sim.probes(dir).map_err(|e| failed("network probes", e))?);
        }
        self.sim = Some(sim);
        self.wall0 = std::time::Instant::now();
        let keyed = WriterQos::default()
            .reliable()
            .keep_last(1)
            .transient_local();
        self.positions = Some(ctx.writer(POSITION_TOPIC, keyed.clone())?);
        self.routes = Some(ctx.writer(ROUTE_TOPIC, keyed.clone())?);
        self.stats = Some(ctx.writer(STATS_TOPIC, keyed.clone())?);
        self.links = Some(ctx.writer(LINKS_TOPIC, keyed.clone())?);
        self.tx = Some(ctx.writer(TX_TOPIC, keyed)?);
        self.external =
            Some(ctx.reader(EXTERNAL_TOPIC, ReaderQos::default().reliable().keep_all())?);
        self.publish(SimTime::ZERO)?;
        self.next_publish = SimTime::ZERO + self.p.position_period;
        self.next_stats = SimTime::ZERO + self.p.stats_period;
        Ok(())
    }

    fn advance(&mut self, ctx: &mut Ctx, to: SimTime) -> Result<Next, MemberError> {
        for s in self.external.as_mut().expect("init").take(ctx) {
            let Some(x) = s.value else { continue };
            let sim = self.sim.as_mut().expect("init");
            let Some(id) = sim.node_id(&x.name) else {
                tracing::warn!(node = %x.name, "position for an unknown node ignored");
                continue;
            };
            if let Err(e) = sim.set_position(id, x.position, x.velocity_enu_mps) {
                tracing::warn!(node = %x.name, "external position ignored: {e}");
            }
        }
        let end = self.sim.as_ref().expect("init").end_time();
        let to = to.min(end);
        while self.next_publish <= to || self.next_stats <= to {
            let t = self.next_publish.min(self.next_stats);
            self.step(t)?;
            if t == self.next_publish {
                self.publish(t)?;
                self.next_publish = t + self.p.position_period;
            }
            if t == self.next_stats {
                self.publish_stats(t)?;
                self.next_stats = t + self.p.stats_period;
            }
        }
        self.step(to)?;
        Ok(Next::Default)
    }

    /// Closes the probes (open link and route intervals end now) and
    /// writes `stats.json` and `flows.csv` next to them.
    fn finish(&mut self, _ctx: &mut Ctx) -> Result<(), MemberError> {
        let (Some(mut p), Some(dir), Some(sim)) =
            (self.probes.take(), self.p.out.as_ref(), self.sim.as_mut())
        else {
            return Ok(());
        };
        p.finish(sim).map_err(|e| failed("network probes", e))?;
        let st = sim.stats();
        for (name, text) in [("stats.json", st.to_json()), ("flows.csv", st.flows_csv())] {
            let path = dir.join(name);
            std::fs::write(&path, text)
                .map_err(|e| failed(&format!("writing {}", path.display()), e))?;
        }
        Ok(())
    }
}

/// Pairs the directed links: a link is usable when both directions are;
/// its figures are the weaker direction's.
fn undirected(directed: &[twin_netsim::LinkQuality]) -> Vec<NetLink> {
    let mut by_pair: BTreeMap<(u32, u32), Vec<&twin_netsim::LinkQuality>> = BTreeMap::new();
    for l in directed {
        let (a, b) = (l.from.0.min(l.to.0), l.from.0.max(l.to.0));
        by_pair.entry((a, b)).or_default().push(l);
    }
    by_pair
        .into_iter()
        .filter(|(_, v)| v.len() == 2)
        .map(|((a, b), v)| {
            let weak = if v[0].pdr <= v[1].pdr { v[0] } else { v[1] };
            NetLink {
                a,
                b,
                distance_m: weak.distance_m,
                snr_db: v[0].snr_db.min(v[1].snr_db),
                pdr: weak.pdr,
            }
        })
        .collect()
}
