//! The public face of the simulator: build from a scenario, advance, observe.

use std::collections::BTreeMap;

use serde::Serialize;
use twin_core::{NodeId, SimTime};
use twin_des::{RngStreams, Scheduler};

use crate::{
    channel::Channel,
    geo::{Geodetic, Vec3},
    mac::{tdma::Tdma, Dcf, Mac, MacCounters, Timing},
    mobility::{Mobility, Position},
    node::{Node, NodeState},
    phy::{Phy, Radio},
    propagation::Propagation,
    routing::{aodv::Aodv, greedy::Greedy, olsr::Olsr, Routing},
    scenario::{Frame, MacKind, Protocol, Scenario, ScenarioError, Standard},
    stats::{Stats, StatsSnapshot},
    traffic::Flow,
    world::{Event, World},
};

/// Random-stream purposes (the second key of [`RngStreams::stream`]).
mod purpose {
    pub(super) const MOBILITY: u64 = 1;
    pub(super) const MAC: u64 = 2;
    pub(super) const ROUTING: u64 = 3;
    pub(super) const PHY: u64 = 4;
    pub(super) const FLOW: u64 = 5;
    pub(super) const ARP: u64 = 6;
}

/// Interference below noise minus this margin is ignored \[dB\].
const INTERFERENCE_MARGIN_DB: f64 = 20.0;

/// A scenario could not be turned into a simulation.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The scenario is invalid; fix it and build again.
    #[error(transparent)]
    Invalid(#[from] ScenarioError),
}

/// A call on a running simulation was refused. None of these is fatal: the
/// simulation is unchanged and stays usable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// Time never goes back.
    #[error("cannot advance to {requested}: the simulation is already at {now}")]
    InPast {
        /// Current simulation time.
        now: SimTime,
        /// The time asked for.
        requested: SimTime,
    },
    /// No node has this id.
    #[error("no node {node}")]
    UnknownNode {
        /// The id given.
        node: NodeId,
    },
    /// The node's mobility is not `external`, so it cannot be positioned.
    #[error("{node} has mobility model \"{model}\"; only \"external\" nodes accept positions")]
    NotExternal {
        /// The node.
        node: NodeId,
        /// Its mobility model.
        model: &'static str,
    },
    /// Coordinates must be finite (and within range for WGS84).
    #[error("invalid position {position:?}")]
    InvalidPosition {
        /// The coordinates given.
        position: [f64; 3],
    },
}

/// Where a node is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodePosition {
    /// Node id.
    pub node: NodeId,
    /// Node name.
    pub name: String,
    /// Position in the simulation frame \[m\] (local ENU, or ECEF for wgs84).
    pub xyz: [f64; 3],
    /// Altitude \[m\].
    pub altitude: f64,
    /// Latitude, longitude and height (wgs84 scenarios only).
    pub geodetic: Option<Geodetic>,
    /// Velocity in the simulation frame \[m·s⁻¹\].
    pub velocity: [f64; 3],
}

/// The current path of a flow, following each node's next hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowRoute {
    /// Flow index.
    pub flow: u32,
    /// Source.
    pub src: NodeId,
    /// Destination.
    pub dst: NodeId,
    /// Nodes from the source on, as far as next hops are known.
    pub hops: Vec<NodeId>,
    /// Whether `hops` reaches the destination.
    pub complete: bool,
}

/// A packet-level network simulation built from a [`Scenario`].
///
/// Drive it with [`step_until`](Self::step_until) (federation time grants)
/// or [`run`](Self::run); observe it between steps.
#[derive(Debug)]
pub struct Simulation {
    sched: Scheduler<Event>,
    pub(crate) world: World,
    frame: Frame,
    end: SimTime,
    name: String,
    ids: BTreeMap<String, NodeId>,
    probes: Vec<crate::probe::ProbeSpec>,
}

impl Simulation {
    /// Builds a simulation: every node's stack, mobility, radio and flows.
    /// Routing processes start at time zero.
    ///
    /// # Errors
    /// [`BuildError::Invalid`] if the scenario fails validation.
    pub fn from_scenario(sc: &Scenario) -> Result<Simulation, BuildError> {
        sc.validate()?;
        let streams = RngStreams::new(sc.simulation.seed, sc.simulation.run);
        let frame = sc.simulation.frame;
        let names = sc.node_names();
        let ids: BTreeMap<String, NodeId> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), NodeId(i as u32)))
            .collect();
        let radio_names: Vec<&String> = sc.radios.keys().collect();
        let radios: Vec<Radio> = sc.radios.values().map(Radio::new).collect();
        let prop = Propagation::new(&sc.propagation);
        let margin = sc.propagation.filter_margin_db;
        let floor_dbm: Vec<f64> = radios
            .iter()
            .map(|r| r.detect_floor_dbm() - margin)
            .collect();
        let max_gain = radios.iter().map(|r| r.rx_gain_db).fold(f64::MIN, f64::max);
        let min_floor = floor_dbm.iter().copied().fold(f64::MAX, f64::min);
        let reach: Vec<f64> = radios
            .iter()
            .map(|r| prop.range_for_loss(r.tx_dbm + max_gain - min_floor, r.lambda))
            .collect();
        let interference_range = radios
            .iter()
            .map(|r| {
                let noise_dbm = 10.0 * r.noise_mw.log10();
                prop.range_for_loss(
                    r.tx_dbm + max_gain - (noise_dbm - INTERFERENCE_MARGIN_DB),
                    r.lambda,
                )
            })
            .fold(0.0, f64::max);
        let cell = reach.iter().copied().fold(1.0, f64::max);

        let node_total = names.len() as u32;
        let mut mob = Vec::new();
        let mut nodes = Vec::new();
        for g in &sc.nodes {
            let ri = match &g.radio {
                Some(name) => radio_names.iter().position(|n| *n == name).unwrap_or(0),
                None => 0,
            };
            let radio = &radios[ri];
            let max_range = sc.mac.max_range_m.unwrap_or(reach[ri]);
            let timing = Timing::new(&sc.mac, radio, max_range);
            for k in 0..g.count.unwrap_or(1) {
                let id = NodeId(nodes.len() as u32);
                let e = u64::from(id.0);
                mob.push(Mobility::from_spec(
                    &g.mobility,
                    k,
                    frame,
                    streams.stream(e, purpose::MOBILITY),
                ));
                let rng = streams.stream(e, purpose::ROUTING);
                let net = match sc.routing.protocol {
                    Protocol::Aodv => Routing::Aodv(Box::new(Aodv::new(id, &sc.routing.aodv, rng))),
                    Protocol::Olsr => Routing::Olsr(Box::new(Olsr::new(id, &sc.routing.olsr, rng))),
                    Protocol::Greedy => {
                        Routing::Greedy(Box::new(Greedy::new(id, &sc.routing.greedy, rng)))
                    }
                };
                let proto = match sc.routing.protocol {
                    Protocol::Aodv => "aodv",
                    Protocol::Olsr => "olsr",
                    Protocol::Greedy => "greedy",
                };
                let phy_name = match radio.standard {
                    Standard::Dot11b => "802.11b",
                    Standard::Generic => "generic",
                };
                nodes.push(Node {
                    phy: Phy::new(ri),
                    mac: match sc.mac.kind {
                        MacKind::Dcf => Mac::Dcf(Dcf::new(
                            id,
                            &sc.mac,
                            radio,
                            timing,
                            streams.stream(e, purpose::MAC),
                        )),
                        MacKind::Tdma => Mac::Tdma(Box::new(Tdma::new(
                            id,
                            &sc.mac,
                            radio,
                            (max_range / crate::geo::SPEED_OF_LIGHT * 1e9).ceil() as u64,
                            id.0,
                            node_total,
                        ))),
                    },
                    net,
                    arp: sc.mac.arp.enabled.then(|| {
                        crate::arp::Arp::new(id, &sc.mac.arp, streams.stream(e, purpose::ARP))
                    }),
                    deferred: Vec::new(),
                    rng: streams.stream(e, purpose::PHY),
                    stack: ["udp", proto, "dcf", phy_name],
                });
            }
        }
        let duration = sc.simulation.duration.as_nanos();
        let flows: Vec<Flow> = sc
            .flows
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let stop = f.stop.map_or(duration, |s| s.as_nanos().min(duration));
                Flow::new(
                    i as u32,
                    ids[&f.src],
                    ids[&f.dst],
                    f.kind,
                    f.rate,
                    f.size,
                    f.start.as_nanos(),
                    f.start_jitter.as_nanos(),
                    stop,
                    streams.stream(1 << 32 | i as u64, purpose::FLOW),
                )
            })
            .collect();
        let stats = Stats::new(flows.iter().map(|f| (f.src, f.dst, f.offered())));
        let mut channel = Channel::new(interference_range.max(cell), cell);
        channel.grid.max_speed = mob.iter().map(Mobility::max_speed).fold(0.0, f64::max);
        let mut world = World::new(
            names, radios, reach, floor_dbm, prop, mob, nodes, flows, channel, stats,
        );
        let mut sched = Scheduler::with_capacity(1024);
        world.start(&mut sched);
        Ok(Simulation {
            sched,
            world,
            frame,
            end: SimTime::ZERO + sc.simulation.duration,
            name: sc.simulation.name.clone(),
            ids,
            probes: sc.probes.clone(),
        })
    }

    /// Runs every event up to and including `t`; afterwards [`now`](Self::now)
    /// is `t`. Returns the number of events executed.
    ///
    /// # Errors
    /// [`SimError::InPast`] if `t` is before `now`.
    pub fn step_until(&mut self, t: SimTime) -> Result<u64, SimError> {
        let world = &mut self.world;
        self.sched
            .step_until(t, |s, now, ev| world.handle(s, now, ev))
            .map_err(
                |twin_des::StepError::InPast { now, requested }| SimError::InPast {
                    now,
                    requested,
                },
            )
    }

    /// Runs to the scenario's end time.
    ///
    /// # Errors
    /// [`SimError::InPast`] if the simulation is already past its end.
    pub fn run(&mut self) -> Result<u64, SimError> {
        self.step_until(self.end)
    }

    /// Current simulation time.
    pub fn now(&self) -> SimTime {
        self.sched.now()
    }

    /// The scenario's end time.
    pub fn end_time(&self) -> SimTime {
        self.end
    }

    /// When the next event is due, if any (for event-driven federation).
    pub fn next_event_time(&self) -> Option<SimTime> {
        self.sched.next_time()
    }

    /// The scenario name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.world.nodes.len()
    }

    /// The id of the node called `name`.
    pub fn node_id(&self, name: &str) -> Option<NodeId> {
        self.ids.get(name).copied()
    }

    /// The name of node `id`.
    pub fn node_name(&self, id: NodeId) -> Option<&str> {
        self.world.names.get(id.0 as usize).map(String::as_str)
    }

    /// Events executed so far.
    pub fn events_executed(&self) -> u64 {
        self.sched.stats().executed
    }

    /// Digest of the event trace so far (same scenario and seed → same digest).
    pub fn trace_digest(&self) -> u64 {
        self.world.trace.digest()
    }

    /// Positions and velocities of every node now (evaluated analytically).
    pub fn positions(&mut self) -> Vec<NodePosition> {
        let now = self.now();
        (0..self.node_count())
            .map(|i| {
                let p = self.world.position(i, now);
                let v = self.world.mob[i].velocity(now);
                NodePosition {
                    node: NodeId(i as u32),
                    name: self.world.names[i].clone(),
                    xyz: p.xyz.to_array(),
                    altitude: p.alt,
                    geodetic: (self.frame == Frame::Wgs84).then(|| Geodetic::from_ecef(p.xyz)),
                    velocity: v.to_array(),
                }
            })
            .collect()
    }

    /// Sets the position of an `external` node, in the scenario frame
    /// (`[x, y, z]` or `[lat, lon, alt]`), and its velocity as east, north,
    /// up \[m·s⁻¹\], used to extrapolate until the next update.
    ///
    /// # Errors
    /// [`SimError::UnknownNode`], [`SimError::NotExternal`] or
    /// [`SimError::InvalidPosition`]; nothing changes then.
    pub fn set_position(
        &mut self,
        node: NodeId,
        position: [f64; 3],
        velocity_enu: [f64; 3],
    ) -> Result<(), SimError> {
        let i = node.0 as usize;
        let m = self
            .world
            .mob
            .get(i)
            .ok_or(SimError::UnknownNode { node })?;
        if !m.is_external() {
            return Err(SimError::NotExternal {
                node,
                model: m.name(),
            });
        }
        let bad = position.iter().chain(&velocity_enu).any(|v| !v.is_finite())
            || (self.frame == Frame::Wgs84
                && (position[0].abs() > 90.0 || position[1].abs() > 180.0));
        if bad {
            return Err(SimError::InvalidPosition { position });
        }
        let p = Position::in_frame(self.frame, position);
        let v = match self.frame {
            Frame::Local => Vec3::from(velocity_enu),
            Frame::Wgs84 => enu_to_ecef(position[0], position[1], velocity_enu),
        };
        let now = self.now();
        self.world.mob[i].set_external(now, p, v);
        self.world.invalidate(i);
        let grid = &mut self.world.channel.grid;
        grid.update(node.0, p.xyz);
        grid.max_speed = grid.max_speed.max(v.norm());
        Ok(())
    }

    /// The current hop list of every flow, following next hops from the
    /// source (stops at a missing route or a loop).
    pub fn routes(&mut self) -> Vec<FlowRoute> {
        let now = self.now();
        let positions: Vec<Position> = (0..self.node_count())
            .map(|i| self.world.position(i, now))
            .collect();
        self.world
            .flows
            .iter()
            .map(|f| {
                let mut hops = vec![f.src];
                let mut cur = f.src;
                while cur != f.dst && hops.len() <= self.world.nodes.len() {
                    let net = &self.world.nodes[cur.0 as usize].net;
                    match net.next_hop(f.dst, now, &positions) {
                        Some(n) if !hops.contains(&n) => {
                            hops.push(n);
                            cur = n;
                        }
                        _ => break,
                    }
                }
                FlowRoute {
                    flow: f.id,
                    src: f.src,
                    dst: f.dst,
                    complete: cur == f.dst,
                    hops,
                }
            })
            .collect()
    }

    /// Observable state of node `id`'s processes.
    pub fn node_state(&self, id: NodeId) -> Option<NodeState> {
        let i = id.0 as usize;
        let n = self.world.nodes.get(i)?;
        let r = &self.world.radios[n.phy.radio];
        let now = self.now();
        Some(NodeState {
            node: id,
            name: self.world.names[i].clone(),
            stack: n.stack.to_vec(),
            mobility: self.world.mob[i].name(),
            phy: n.phy.state(r, now.as_nanos()),
            mac: n.mac.state(),
            mac_queue: n.mac.queue_len(),
            routing: n.net.state(now),
        })
    }

    /// Data packets (`(flow, seq)`) present in the network now, found by
    /// walking every queue, buffer and the air; with
    /// [`Simulation::in_flight`] it checks the packet accounting.
    pub fn census(&self) -> Vec<(u32, u32)> {
        self.world.census()
    }

    /// Data packets (`(flow, seq)`) the accounting counts as in flight.
    pub fn in_flight(&self) -> Vec<(u32, u32)> {
        self.world.stats.in_flight_ids()
    }

    /// Statistics so far.
    pub fn stats(&self) -> StatsSnapshot {
        let mut mac = MacCounters::default();
        for n in &self.world.nodes {
            let c = n.mac.counters();
            mac.tx_frames += c.tx_frames;
            mac.retries += c.retries;
            mac.acks += c.acks;
            mac.duplicates += c.duplicates;
            mac.rts += c.rts;
            mac.cts += c.cts;
            mac.drop_queue_full += c.drop_queue_full;
            mac.drop_expired += c.drop_expired;
            mac.drop_retry += c.drop_retry;
        }
        self.world
            .stats
            .snapshot(self.now(), self.events_executed(), mac)
    }

    /// Captures every frame each node sends or receives from now on, in
    /// `dir/<node name>.pcap` (radiotap + 802.11, see [`crate::pcap`]).
    ///
    /// # Errors
    /// The directory or a file cannot be created.
    pub fn enable_pcap(&mut self, dir: &std::path::Path) -> std::io::Result<()> {
        self.world.pcap = Some(crate::pcap::PcapSink::create(dir, &self.world.names)?);
        Ok(())
    }

    /// Flushes the capture files; reports the first write error, if any.
    ///
    /// # Errors
    /// A capture file could not be written.
    pub fn finish_pcap(&mut self) -> std::io::Result<()> {
        if let Some(e) = self.world.pcap_error.take() {
            return Err(e);
        }
        match self.world.pcap.as_mut() {
            Some(p) => p.flush(),
            None => Ok(()),
        }
    }

    /// Opens the scenario's `[[probes]]` as CSV files in `dir`; drive them
    /// with [`Probes::advance`](crate::Probes::advance) instead of
    /// [`step_until`](Self::step_until).
    ///
    /// # Errors
    /// A probe file cannot be created.
    pub fn probes(&self, dir: &std::path::Path) -> Result<crate::Probes, crate::ProbeError> {
        crate::Probes::new(&self.probes, dir)
    }

    /// Pairs of nodes (a < b, sorted) that hear each other now above both
    /// receivers' preamble-detection thresholds.
    pub fn links_up(&mut self) -> Vec<(u32, u32)> {
        let now = self.now();
        let n = self.node_count();
        let pos: Vec<Position> = (0..n).map(|i| self.world.position(i, now)).collect();
        let w = &self.world;
        let hears = |a: usize, b: usize| {
            let (ra, rb) = (
                &w.radios[w.nodes[a].phy.radio],
                &w.radios[w.nodes[b].phy.radio],
            );
            ra.frequency == rb.frequency
                && w.prop
                    .rx_power_dbm(ra.tx_dbm + rb.rx_gain_db, ra.lambda, &pos[a], &pos[b])
                    .is_some_and(|(p, _)| p >= rb.pd_rssi_dbm)
        };
        let mut up = Vec::new();
        for a in 0..n {
            for b in a + 1..n {
                if hears(a, b) && hears(b, a) {
                    up.push((a as u32, b as u32));
                }
            }
        }
        up
    }

    /// ARP counters of a node (all zero when ARP is off).
    pub fn arp_counters(&self, id: NodeId) -> crate::arp::ArpCounters {
        self.world
            .nodes
            .get(id.0 as usize)
            .and_then(|n| n.arp.as_ref())
            .map(|a| a.counters)
            .unwrap_or_default()
    }

    /// The AODV process of a node, if the scenario runs AODV.
    pub fn aodv(&self, id: NodeId) -> Option<&Aodv> {
        match &self.world.nodes.get(id.0 as usize)?.net {
            Routing::Aodv(a) => Some(a),
            _ => None,
        }
    }

    /// The OLSR process of a node, if the scenario runs OLSR.
    pub fn olsr(&self, id: NodeId) -> Option<&Olsr> {
        match &self.world.nodes.get(id.0 as usize)?.net {
            Routing::Olsr(o) => Some(o),
            _ => None,
        }
    }
}

/// Converts an east-north-up vector at (lat, lon) to ECEF.
fn enu_to_ecef(lat: f64, lon: f64, v: [f64; 3]) -> Vec3 {
    let (sl, cl) = lat.to_radians().sin_cos();
    let (so, co) = lon.to_radians().sin_cos();
    let e = Vec3::new(-so, co, 0.0);
    let n = Vec3::new(-sl * co, -sl * so, cl);
    let u = Vec3::new(cl * co, cl * so, sl);
    e * v[0] + n * v[1] + u * v[2]
}
