//! A packet-level discrete-event network simulator (ns-3 / OPNET class),
//! built on [`twin_des`].
//!
//! OPNET's three levels of modelling are explicit here:
//!
//! * **network**: a [`Scenario`] (TOML) lists nodes with their mobility and
//!   radio, the protocol stack and the traffic flows;
//! * **node**: every node is a stack of layer modules — application,
//!   routing ([`routing`]), MAC ([`mac`]), PHY ([`phy`]) — wired once when
//!   the simulation is built (see [`node`]);
//! * **process**: every module is an explicit state machine with enum
//!   states ([`PhyState`], [`DcfState`], AODV [`RouteState`](routing::aodv::RouteState),
//!   ...) whose current state can be read at any time ([`NodeState`]).
//!
//! The simulator knows nothing of the data bus, tokio or HTTP. It exposes
//! "advance to time t" ([`Simulation::step_until`]), observations
//! (positions, per-flow routes, statistics, process states) and one input
//! (positions of externally driven nodes), which is all a federation member
//! needs.
//!
//! # Running a scenario
//!
//! ```
//! use twin_core::{SimDuration, SimTime};
//! use twin_netsim::{Scenario, Simulation};
//!
//! // Five nodes 200 m apart on a line, 802.11b at 7.5 dBm (range ≈ 300 m),
//! // AODV, one CBR flow from one end to the other.
//! let text = r#"
//! [simulation]
//! name = "line"
//! duration = "10s"
//! seed = 1
//!
//! [radios.wifi]
//! standard = "802.11b"
//! rate_mbps = 11.0
//! tx_power_dbm = 7.5
//!
//! [routing]
//! protocol = "aodv"
//!
//! [[nodes]]
//! name = "n"
//! count = 5
//! mobility = { model = "line", start = [0, 0, 0], spacing = [200, 0, 0] }
//!
//! [[flows]]
//! src = "n0"
//! dst = "n4"
//! rate = 4.0
//! size = 512
//! start = "1s"
//! "#;
//! let scenario = Scenario::parse(text, None)?;
//! let mut sim = Simulation::from_scenario(&scenario)?;
//!
//! // Advance in steps, as a federation would grant them.
//! sim.step_until(SimTime::ZERO + SimDuration::from_secs(5))?;
//! let route = &sim.routes()[0];
//! assert!(route.complete);
//! assert_eq!(route.hops.len(), 5); // n0 n1 n2 n3 n4
//!
//! sim.run()?;
//! let stats = sim.stats();
//! assert!(stats.totals.delivery_ratio > 0.9);
//! println!("{}", stats.to_json());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Modules
//!
//! | module | what |
//! |---|---|
//! | [`scenario`] | the TOML format, validation and located diagnostics |
//! | [`mobility`] | analytic trajectories: constant, waypoints, random waypoint, Gauss-Markov 3D, great-circle flight plans, ns-2 trace replay, external |
//! | [`propagation`] | Friis, two-ray ground, log-distance; radio horizon; delay at c |
//! | [`phy`] | frame timing, SINR with accumulated interference, error rates, carrier sense |
//! | [`mac`] | 802.11 DCF with ACKs, retries, back-off, NAV, EIFS, RTS/CTS and long-link timing; slotted TDMA |
//! | [`arp`] | address resolution with ns-3's cache timers (optional) |
//! | [`routing`] | AODV (RFC 3561), OLSR (RFC 3626), greedy geographic |
//! | [`stats`] | FlowMonitor-class statistics as JSON or CSV; packet accounting (every packet delivered, dropped with a layer/reason, or in flight) |
//! | [`probe`] | declarative probes: per-flow and per-node series, link durations, route lifetimes (CSV) |
//! | [`pcap`] | per-node radiotap/802.11 pcap traces for Wireshark and tshark |
//!
//! # Determinism
//!
//! A run is a function of the scenario (including its seed and run
//! number): every random draw comes from a per-(entity, purpose) stream of
//! [`twin_des::RngStreams`], events are ordered by (time, insertion), and
//! no hash map is iterated where order matters. [`Simulation::trace_digest`]
//! hashes the executed event trace so tests can assert two runs are equal.
//!
//! # Performance
//!
//! Transmissions schedule events only at receivers whose power clears the
//! preamble-detection / CCA floor (found through a uniform grid); every
//! other node still sees the frame as interference, computed on demand from
//! the list of transmissions on the air. This removes most of ns-3's
//! per-receiver events. See `examples/manet_bench.rs` for the benchmark.

pub mod arp;
pub mod geo;
pub mod mac;
pub mod mobility;
pub mod node;
pub mod packet;
pub mod pcap;
pub mod phy;
pub mod probe;
pub mod propagation;
pub mod routing;
pub mod scenario;
pub mod stats;

mod channel;
mod links;
mod sim;
mod traffic;
mod world;

#[cfg(test)]
mod testutil;

pub use links::{LinkQuality, LINK_FRAME_BYTES};
pub use mac::{DcfState, MacCounters};
pub use mobility::Position;
pub use node::NodeState;
pub use phy::PhyState;
pub use probe::{ProbeError, ProbeKind, ProbeSpec, ProbeSummary, Probes};
pub use routing::RoutingState;
pub use scenario::{Diagnostic, ProblemKind, Scenario, ScenarioError};
pub use sim::{BuildError, FlowRoute, NodePosition, SimError, Simulation};
pub use stats::{FlowReport, StatsSnapshot};
