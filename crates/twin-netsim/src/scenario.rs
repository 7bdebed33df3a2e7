//! The *network* level: a scenario file describes nodes, their mobility and
//! radios, the protocol stack and the traffic.
//!
//! Scenarios are TOML. [`Scenario::from_file`] and [`Scenario::parse`] check
//! the structure with serde (unknown keys, unknown protocol or model names,
//! missing fields, wrong types) and then the meaning (ranges, references
//! between sections, frame compatibility). Every problem is reported as a
//! [`Diagnostic`] with file, line, column and the dotted field path, e.g.
//!
//! ```text
//! scenarios/net/x.toml:41:8: flows[2].rate: must be a finite number > 0 (got -4)
//! ```
//!
//! # Format
//!
//! ```toml
//! [simulation]
//! name = "line"            # required
//! duration = "30s"         # required, > 0
//! seed = 1                 # master seed (default 0)
//! run = 1                  # replication number (default 0)
//! frame = "local"          # "local" (x, y, z metres; z = altitude) or "wgs84"
//!
//! [propagation]
//! model = "friis"          # "friis" | "two-ray" | "log-distance"
//! earth_curvature = false  # radio horizon with k = 4/3
//!
//! [radios.wifi]            # named radio profiles
//! standard = "802.11b"     # "802.11b" | "generic"
//! rate_mbps = 11.0
//! tx_power_dbm = 7.5
//!
//! [mac]
//! kind = "dcf"
//!
//! [routing]
//! protocol = "aodv"        # "aodv" | "olsr" | "greedy"
//!
//! [[nodes]]
//! name = "n"               # with count: n0, n1, ... n4
//! count = 5
//! mobility = { model = "line", start = [0, 0, 0], spacing = [200, 0, 0] }
//!
//! [[flows]]
//! src = "n0"
//! dst = "n4"
//! rate = 4.0               # packets per second
//! size = 512               # payload bytes
//! start = "1s"
//! ```
//!
//! The sections are documented field by field on the types below
//! ([`SimulationSpec`], [`PropagationSpec`], [`RadioSpec`], [`MacSpec`],
//! [`RoutingSpec`], [`NodeGroupSpec`] with [`MobilitySpec`], [`FlowSpec`]).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use twin_core::SimDuration;

pub use self::diag::{Diagnostic, ProblemKind, ScenarioError};
use crate::routing::{AodvParams, GreedyParams, OlsrParams};

pub(crate) mod diag;
mod validate;

/// A parsed and checked scenario. Fields are public so that tools can
/// derive variants (node count, seed, protocol) before building.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Run-wide settings.
    pub simulation: SimulationSpec,
    /// Path loss, delay and line of sight.
    #[serde(default)]
    pub propagation: PropagationSpec,
    /// Named radio profiles; nodes pick one by name.
    pub radios: BTreeMap<String, RadioSpec>,
    /// Medium access control.
    #[serde(default)]
    pub mac: MacSpec,
    /// Routing protocol and its parameters.
    pub routing: RoutingSpec,
    /// Node groups (`[[nodes]]`), expanded in order into node ids 0, 1, ...
    pub nodes: Vec<NodeGroupSpec>,
    /// Traffic flows (`[[flows]]`), numbered from 0 in file order.
    #[serde(default)]
    pub flows: Vec<FlowSpec>,
    /// Declarative probes (`[[probes]]`): what to record, how often.
    #[serde(default)]
    pub probes: Vec<crate::probe::ProbeSpec>,
}

/// `[simulation]`: name, length, seeds and coordinate frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationSpec {
    /// Scenario name, used in reports.
    pub name: String,
    /// Simulated time to run \[duration string, e.g. "200s"\].
    pub duration: SimDuration,
    /// Master seed of the random streams.
    #[serde(default)]
    pub seed: u64,
    /// Replication number (independent streams for the same seed).
    #[serde(default)]
    pub run: u64,
    /// Coordinate frame of positions.
    #[serde(default)]
    pub frame: Frame,
}

/// Coordinate frame of a scenario.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Frame {
    /// Flat local coordinates `[x, y, z]` in metres, z being the altitude.
    #[default]
    Local,
    /// Geodetic `[lat °, lon °, alt m]` on WGS84; simulated in ECEF.
    Wgs84,
}

/// Path-loss model family.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossModel {
    /// Free space: `20 log10(4 π d / λ) + system_loss`.
    #[default]
    Friis,
    /// Friis up to the crossover distance, then `40 log10 d - 20 log10(h_t h_r)`.
    TwoRay,
    /// `reference_loss + 10 n log10(d / reference_distance)`.
    LogDistance,
}

/// `[propagation]`: one model shared by all links.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PropagationSpec {
    /// Path-loss model.
    pub model: LossModel,
    /// Extra loss of Friis and two-ray \[dB\] (ns-3 `SystemLoss`, as a dB value).
    pub system_loss_db: f64,
    /// Log-distance exponent `n`.
    pub exponent: f64,
    /// Log-distance reference distance \[m\].
    pub reference_distance_m: f64,
    /// Log-distance loss at the reference distance \[dB\].
    pub reference_loss_db: f64,
    /// Antenna height above the node's altitude, used by two-ray and the
    /// radio horizon \[m\].
    pub antenna_height_m: f64,
    /// Block links beyond the radio horizon (spherical Earth, effective
    /// radius `k_factor` × 6371 km).
    pub earth_curvature: bool,
    /// Effective Earth radius factor (4/3 for standard refraction).
    pub k_factor: f64,
    /// Frequency the path-loss model assumes \[Hz\]; default: each radio's
    /// own. ns-3's `FriisPropagationLossModel` assumes 5.15 GHz unless set,
    /// whatever the Wi-Fi channel, which matters when reproducing its results.
    pub frequency_hz: Option<f64>,
    /// Margin below the preamble-detection RSSI down to which receivers are
    /// considered at all \[dB\]. Weaker signals still count as interference.
    pub filter_margin_db: f64,
}

impl Default for PropagationSpec {
    fn default() -> Self {
        PropagationSpec {
            model: LossModel::Friis,
            system_loss_db: 0.0,
            exponent: 3.0,
            reference_distance_m: 1.0,
            reference_loss_db: 46.6777,
            antenna_height_m: 0.0,
            earth_curvature: false,
            k_factor: 4.0 / 3.0,
            frequency_hz: None,
            filter_margin_db: 0.0,
        }
    }
}

/// PHY family of a radio: frame timing and error model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Standard {
    /// IEEE 802.11b DSSS/CCK, long preamble (1, 2, 5.5, 11 Mb/s).
    #[default]
    #[serde(rename = "802.11b")]
    Dot11b,
    /// A generic single-carrier radio with an uncoded AWGN error model
    /// (BPSK, QPSK, 16-QAM), e.g. a long-range aeronautical data link.
    #[serde(rename = "generic")]
    Generic,
}

/// Modulation of a generic radio.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Modulation {
    /// Binary phase-shift keying.
    #[default]
    Bpsk,
    /// Quadrature phase-shift keying (Gray coded).
    Qpsk,
    /// 16-ary quadrature amplitude modulation (Gray coded).
    Qam16,
}

/// `[radios.<name>]`: a radio profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RadioSpec {
    /// PHY family.
    pub standard: Standard,
    /// Data rate of unicast frames \[Mb/s\].
    pub rate_mbps: f64,
    /// Rate of broadcast frames and ACKs \[Mb/s\]; default: `rate_mbps`.
    pub basic_rate_mbps: Option<f64>,
    /// Transmit power \[dBm\].
    pub tx_power_dbm: f64,
    /// Antenna gain, applied at both ends \[dBi\].
    pub antenna_gain_dbi: f64,
    /// Carrier frequency \[Hz\].
    pub frequency_hz: f64,
    /// Noise bandwidth \[Hz\]; default 22 MHz for 802.11b, 1 MHz generic.
    pub bandwidth_hz: Option<f64>,
    /// Receiver noise figure \[dB\].
    pub noise_figure_db: f64,
    /// Minimum RSSI for preamble detection \[dBm\].
    pub preamble_min_rssi_dbm: f64,
    /// Minimum SNR for preamble detection \[dB\].
    pub preamble_snr_db: f64,
    /// Energy-detection threshold of clear-channel assessment \[dBm\].
    pub cca_threshold_dbm: f64,
    /// Modulation (generic radios only).
    pub modulation: Modulation,
    /// Preamble plus header duration (generic radios only).
    pub preamble: SimDuration,
}

impl Default for RadioSpec {
    fn default() -> Self {
        RadioSpec {
            standard: Standard::Dot11b,
            rate_mbps: 11.0,
            basic_rate_mbps: None,
            tx_power_dbm: 16.0206,
            antenna_gain_dbi: 0.0,
            frequency_hz: 2.412e9,
            bandwidth_hz: None,
            noise_figure_db: 7.0,
            preamble_min_rssi_dbm: -82.0,
            preamble_snr_db: 4.0,
            cca_threshold_dbm: -62.0,
            modulation: Modulation::Bpsk,
            preamble: SimDuration::from_micros(100),
        }
    }
}

/// MAC protocol family.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MacKind {
    /// IEEE 802.11 distributed coordination function (CSMA/CA).
    #[default]
    Dcf,
    /// Slotted TDMA with one slot per node (`[mac.tdma]`).
    Tdma,
}

/// `[mac]`: medium access parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MacSpec {
    /// MAC family.
    pub kind: MacKind,
    /// Interface queue capacity \[packets\].
    pub queue_limit: u32,
    /// Packets waiting longer than this are dropped when dequeued.
    pub queue_max_delay: SimDuration,
    /// Transmission attempts of a unicast frame before it is dropped.
    pub retry_limit: u32,
    /// Minimum contention window \[slots\].
    pub cw_min: u32,
    /// Maximum contention window \[slots\].
    pub cw_max: u32,
    /// Slot time; default from the standard (20 µs for 802.11b).
    pub slot: Option<SimDuration>,
    /// SIFS; default from the standard (10 µs for 802.11b).
    pub sifs: Option<SimDuration>,
    /// Longest link the MAC must serve \[m\] (802.11 coverage class): the ACK
    /// timeout grows by the round-trip delay and the slot by the one-way
    /// delay beyond 300 m. Default: the radio's detection range.
    pub max_range_m: Option<f64>,
    /// Unicast frames longer than this \[bytes, MAC frame\] are preceded by
    /// an RTS/CTS exchange; default 65535 (never, as ns-3's
    /// `RtsCtsThreshold`).
    pub rts_threshold: u32,
    /// Slot structure when `kind = "tdma"` (`[mac.tdma]`).
    pub tdma: crate::mac::TdmaSpec,
    /// Address resolution below the network layer (`[mac.arp]`).
    pub arp: crate::arp::ArpSpec,
}

impl Default for MacSpec {
    fn default() -> Self {
        MacSpec {
            kind: MacKind::Dcf,
            queue_limit: 500,
            queue_max_delay: SimDuration::from_millis(500),
            retry_limit: 7,
            cw_min: 31,
            cw_max: 1023,
            slot: None,
            sifs: None,
            max_range_m: None,
            rts_threshold: 65_535,
            tdma: crate::mac::TdmaSpec::default(),
            arp: crate::arp::ArpSpec::default(),
        }
    }
}

/// Routing protocol selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// Ad hoc on-demand distance vector (RFC 3561).
    Aodv,
    /// Optimized link state routing (RFC 3626).
    Olsr,
    /// Greedy geographic forwarding with position beacons.
    Greedy,
}

/// `[routing]`: protocol and per-protocol parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingSpec {
    /// The protocol every node runs.
    pub protocol: Protocol,
    /// `[routing.aodv]` parameters.
    #[serde(default)]
    pub aodv: AodvParams,
    /// `[routing.olsr]` parameters.
    #[serde(default)]
    pub olsr: OlsrParams,
    /// `[routing.greedy]` parameters.
    #[serde(default)]
    pub greedy: GreedyParams,
}

/// `[[nodes]]`: one node, or `count` identical nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeGroupSpec {
    /// Node name, or the prefix of `name0 .. name{count-1}` when `count` is set.
    pub name: String,
    /// Number of nodes in the group.
    #[serde(default)]
    pub count: Option<u32>,
    /// Radio profile; may be omitted when only one profile exists.
    #[serde(default)]
    pub radio: Option<String>,
    /// How the nodes move (required).
    pub mobility: MobilitySpec,
}

/// An axis-aligned box in the local frame \[m\].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaSpec {
    /// Lower corner `[x, y, z]`.
    pub min: [f64; 3],
    /// Upper corner `[x, y, z]`; equal z bounds make a 2D area.
    pub max: [f64; 3],
}

/// One point of a timed waypoint list.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaypointSpec {
    /// When the node is at `position`.
    pub at: SimDuration,
    /// Position in the scenario frame.
    pub position: [f64; 3],
}

/// `mobility = { model = ..., ... }`: a node's trajectory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "kebab-case", deny_unknown_fields)]
pub enum MobilitySpec {
    /// Fixed position (in the scenario frame).
    Constant {
        /// `[x, y, z]` or `[lat, lon, alt]`.
        position: [f64; 3],
    },
    /// Fixed positions on a line: node `i` at `start + i · spacing` (local).
    Line {
        /// Position of the first node.
        start: [f64; 3],
        /// Offset between consecutive nodes.
        spacing: [f64; 3],
    },
    /// Piecewise-linear motion through timed waypoints.
    Waypoints {
        /// At least one point, in increasing time.
        points: Vec<WaypointSpec>,
    },
    /// Random waypoint in a box (2D when z bounds are equal), local frame.
    RandomWaypoint {
        /// Box of start positions and destinations.
        area: AreaSpec,
        /// Speed range `[min, max]` \[m·s⁻¹\].
        speed: [f64; 2],
        /// Pause at each destination.
        #[serde(default)]
        pause: SimDuration,
    },
    /// Gauss-Markov 3D (speed, heading and pitch with memory), local frame.
    GaussMarkov {
        /// Bounding box; the node reflects at its faces.
        area: AreaSpec,
        /// Memory `α` in `[0, 1]` (1 = straight line, 0 = random walk).
        #[serde(default = "default_alpha")]
        alpha: f64,
        /// Update period of speed, heading and pitch.
        #[serde(default = "default_gm_step")]
        time_step: SimDuration,
        /// Range `[min, max]` of each node's mean speed \[m·s⁻¹\].
        mean_speed: [f64; 2],
        /// Mean pitch \[rad\].
        #[serde(default = "default_mean_pitch")]
        mean_pitch: f64,
        /// Standard deviation of the speed innovation \[m·s⁻¹\].
        #[serde(default)]
        speed_sd: f64,
        /// Standard deviation of the heading innovation \[rad\].
        #[serde(default = "default_heading_sd")]
        heading_sd: f64,
        /// Standard deviation of the pitch innovation \[rad\].
        #[serde(default = "default_pitch_sd")]
        pitch_sd: f64,
    },
    /// Great-circle legs on WGS84 between `[lat, lon, alt]` waypoints, with
    /// climb and descent at `climb_rate` (wgs84 frame).
    FlightPlan {
        /// Route, at least two waypoints.
        route: Vec<[f64; 3]>,
        /// Ground speed \[m·s⁻¹\].
        speed: f64,
        /// Vertical speed while changing altitude \[m·s⁻¹\].
        #[serde(default = "default_climb")]
        climb_rate: f64,
        /// Departure time of the group's first node.
        #[serde(default)]
        departure: SimDuration,
        /// Node `i` of a group is `i × spacing` further along the route at
        /// any given time (a stream of aircraft on one track).
        #[serde(default)]
        spacing: SimDuration,
    },
    /// Replay of an ns-2 movement file (local frame): node `i` of the group
    /// follows `$node_(first + i)` (see [`crate::mobility::ns2`]).
    Ns2Trace {
        /// The movement file, relative to the scenario file.
        file: PathBuf,
        /// Index in the file of the group's first node.
        #[serde(default)]
        first: u32,
        /// Tracks read from `file` when the scenario is parsed.
        #[serde(skip)]
        tracks: std::sync::Arc<BTreeMap<u32, crate::mobility::ns2::Track>>,
    },
    /// Position set from outside (`Simulation::set_position`); starts here.
    External {
        /// Initial position in the scenario frame.
        position: [f64; 3],
    },
}

fn default_alpha() -> f64 {
    0.85
}
fn default_gm_step() -> SimDuration {
    SimDuration::from_millis(500)
}
fn default_mean_pitch() -> f64 {
    0.05
}
fn default_heading_sd() -> f64 {
    0.2f64.sqrt()
}
fn default_pitch_sd() -> f64 {
    0.02f64.sqrt()
}
fn default_climb() -> f64 {
    10.0
}

/// Arrival process of a flow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrafficKind {
    /// Constant bit rate: one packet every `1 / rate` seconds.
    #[default]
    Cbr,
    /// Poisson arrivals with mean rate `rate`.
    Poisson,
}

/// `[[flows]]`: a UDP flow between two named nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowSpec {
    /// Source node name.
    pub src: String,
    /// Destination node name.
    pub dst: String,
    /// Arrival process.
    #[serde(default)]
    pub kind: TrafficKind,
    /// Packets per second (mean for Poisson).
    pub rate: f64,
    /// UDP payload \[bytes\].
    pub size: u32,
    /// First packet time.
    #[serde(default)]
    pub start: SimDuration,
    /// The start is drawn uniformly from `[start, start + start_jitter)`.
    #[serde(default)]
    pub start_jitter: SimDuration,
    /// No packet is sent at or after this time; default: end of the run.
    #[serde(default)]
    pub stop: Option<SimDuration>,
}

impl Scenario {
    /// Reads and checks a scenario file.
    ///
    /// # Errors
    /// [`ScenarioError::Io`] if the file cannot be read, otherwise
    /// [`ScenarioError::Invalid`] with every problem found.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Scenario, ScenarioError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, Some(path))
    }

    /// Reads the movement files of `ns2-trace` groups (relative to the
    /// scenario's folder): unreadable files are problems at the `file`
    /// field, malformed lines diagnostics located in the trace file.
    fn read_traces(&mut self, file: Option<&Path>) -> (Vec<diag::Problem>, Vec<Diagnostic>) {
        let dir = file.and_then(Path::parent).unwrap_or(Path::new(""));
        let (mut problems, mut errors) = (Vec::new(), Vec::new());
        for (i, g) in self.nodes.iter_mut().enumerate() {
            let MobilitySpec::Ns2Trace { file, tracks, .. } = &mut g.mobility else {
                continue;
            };
            let path = dir.join(&*file);
            let field = format!("nodes[{i}].mobility.file");
            match std::fs::read_to_string(&path) {
                Err(e) => problems.push(diag::Problem::new(
                    field,
                    ProblemKind::Reference,
                    format!("cannot read movement file {}: {e}", path.display()),
                )),
                Ok(text) => match crate::mobility::ns2::parse(&text) {
                    Ok(t) => *tracks = std::sync::Arc::new(t),
                    Err(e) => errors.push(Diagnostic {
                        file: Some(path),
                        line: e.line,
                        column: 1,
                        field,
                        kind: ProblemKind::Syntax,
                        message: e.message,
                    }),
                },
            }
        }
        (problems, errors)
    }

    /// Parses and checks scenario text; `file` only labels diagnostics.
    ///
    /// # Errors
    /// [`ScenarioError::Invalid`] with every problem found (a syntax or
    /// structure error stops parsing, so it comes alone).
    pub fn parse(text: &str, file: Option<&Path>) -> Result<Scenario, ScenarioError> {
        let file: Option<PathBuf> = file.map(Path::to_path_buf);
        let mut scenario: Scenario = match toml::from_str(text) {
            Ok(s) => s,
            Err(e) => return Err(diag::from_toml_error(text, file, &e)),
        };
        let (mut problems, trace_errors) = scenario.read_traces(file.as_deref());
        problems.extend(validate::check(&scenario));
        if problems.is_empty() && trace_errors.is_empty() {
            return Ok(scenario);
        }
        let mut all = match diag::locate_all(text, file, problems) {
            ScenarioError::Invalid(d) => d,
            ScenarioError::Io { .. } => Vec::new(),
        };
        all.extend(trace_errors);
        Err(ScenarioError::Invalid(all))
    }

    /// Checks a scenario built or edited in code. Diagnostics carry the field
    /// path but no line (0) since there is no text.
    ///
    /// # Errors
    /// [`ScenarioError::Invalid`] with every problem found.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let problems = validate::check(self);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(diag::unlocated(problems))
        }
    }

    /// Names of all nodes, in id order (groups expanded).
    pub fn node_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for g in &self.nodes {
            match g.count {
                None => names.push(g.name.clone()),
                Some(n) => names.extend((0..n).map(|i| format!("{}{i}", g.name))),
            }
        }
        names
    }

    /// Sets the node count of group `group` (for N sweeps), keeping flows.
    pub fn with_group_count(mut self, group: usize, count: u32) -> Scenario {
        if let Some(g) = self.nodes.get_mut(group) {
            g.count = Some(count);
        }
        self
    }
}

#[cfg(test)]
mod tests;
