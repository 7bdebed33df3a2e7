//! A synthetic network for the dashboard: `N` nodes moving on circles at
//! different altitudes, published at `R` Hz, and `F` flows whose routes
//! change every two seconds. Used by the browser tests (routes, 1,000-node
//! frame rate) and to try the page without a simulator.
//!
//! ```text
//! fixture ── twin/net/node/position (NodePosition, keyed by id) ──┐
//!         └─ twin/net/route (Route, keyed by flow) ───────────────┴─► dashboard ─► page
//! ```
//!
//! `cargo run -p twin-dashboard --example fixture -- [nodes] [rate_hz] [flows] [seconds] [assistant] [brain]`
//! prints `dashboard: http://127.0.0.1:PORT/` and runs for `seconds` (default 60).
//! With `assistant`, a fake assistant member answers questions on
//! `twin/assistant/ask`: it streams its answer in three growing updates
//! under the question's id (250 ms apart), the last with citations of
//! position samples it read from the bus. With `brain`, it also publishes
//! a 12-region brain (the brain member's topic types): regions on a ring,
//! a travelling sine wave on `twin/brain/monitor/tavg` at 50 Hz, and every
//! 2 s a stimulus on two regions (alternating 2, 3 and 8, 9).

use std::{
    f64::consts::TAU,
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};
use twin_bus::{Bus, TopicType, WriterQos};
use twin_dashboard::{DashboardConfig, Role};

/// A node's position in local east-north-up metres.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct NodePosition {
    id: u32,
    x_m: f64,
    y_m: f64,
    z_m: f64,
    vx_mps: f64,
    vy_mps: f64,
}

impl TopicType for NodePosition {
    const TYPE_NAME: &'static str = "fixture::NodePosition";
    type Key = u32;
    fn key(&self) -> u32 {
        self.id
    }
}

/// The current route of one flow: the nodes its packets pass, in order.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Route {
    flow: u32,
    hops: Vec<u32>,
}

impl TopicType for Route {
    const TYPE_NAME: &'static str = "fixture::Route";
    type Key = u32;
    fn key(&self) -> u32 {
        self.flow
    }
}

fn arg(i: usize, default: f64) -> f64 {
    std::env::args()
        .nth(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

/// Hops of `flow` in route epoch `epoch`: a deterministic walk.
fn hops(flow: u32, epoch: u32, nodes: u32) -> Vec<u32> {
    let len = 3 + (flow + epoch) % 4;
    (0..len)
        .map(|k| (flow * 7 + k * (epoch * 13 + 5)) % nodes)
        .collect()
}

/// The fake assistant: answers "how many nodes" style questions from the
/// position topic, in three growing updates.
fn fake_assistant(bus: &Bus) -> Result<(), Box<dyn std::error::Error>> {
    use std::sync::Arc;
    use twin_bus::ReaderQos;
    use twin_core::SimTime;
    use twin_federation::proto::{
        AssistantAnswer, AssistantQuestion, Citation, ANSWER_TOPIC, ASK_TOPIC,
    };
    let p = bus.participant("assistant");
    let asks = p.reader(
        &p.topic::<AssistantQuestion>(ASK_TOPIC)?,
        ReaderQos::default().reliable().keep_all(),
    )?;
    let answers = p.writer(
        &p.topic::<AssistantAnswer>(ANSWER_TOPIC)?,
        WriterQos::default().reliable(),
    )?;
    let positions = p.topic::<NodePosition>("twin/net/node/position")?;
    std::thread::spawn(move || loop {
        for q in asks.take().into_iter().filter_map(|s| s.value) {
            let snap = p
                .reader(
                    &positions,
                    ReaderQos::default().transient_local().keep_last(1),
                )
                .map(|r| r.take())
                .unwrap_or_default();
            let n = snap.len();
            let first = snap
                .iter()
                .filter_map(|s| s.value.as_ref())
                .min_by_key(|v| v.id);
            let t = snap
                .iter()
                .filter_map(|s| s.info.sim_time)
                .max()
                .unwrap_or(SimTime::ZERO);
            let parts = [
                format!("You asked: \"{}\".", q.text),
                format!(" The network has {n} nodes."),
                " (fake assistant)".to_owned(),
            ];
            let mut text = String::new();
            for (i, part) in parts.iter().enumerate() {
                text.push_str(part);
                let last = i + 1 == parts.len();
                let citations = match (last, first) {
                    (true, Some(v)) => vec![Citation {
                        topic: "twin/net/node/position".into(),
                        sim_time: t,
                        excerpt: format!("node {} at ({:.0} m, {:.0} m)", v.id, v.x_m, v.y_m),
                    }],
                    _ => Vec::new(),
                };
                let a = AssistantAnswer {
                    id: Arc::clone(&q.id),
                    text: text.clone(),
                    citations,
                    model: "fake-assistant".into(),
                    sim_time: t,
                    error: false,
                    done: last,
                };
                if answers.write(a).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    });
    Ok(())
}

/// A synthetic brain on the brain member's topics (see the module docs).
fn fake_brain(bus: &Bus, seconds: f64) -> Result<(), Box<dyn std::error::Error>> {
    use twin_core::SimTime;
    use twin_federates::brain::{
        stimulus_writer_qos, BrainRegions, BrainSample, BrainStimulus, MONITOR_PREFIX,
        REGIONS_TOPIC, STIMULUS_TOPIC,
    };
    const N: usize = 12;
    let p = bus.participant("brain");
    let tl = WriterQos::default().transient_local().keep_last(1);
    let regions = p.writer(&p.topic::<BrainRegions>(REGIONS_TOPIC)?, tl.clone())?;
    let tavg = p.writer(
        &p.topic::<BrainSample>(&format!("{MONITOR_PREFIX}tavg"))?,
        tl,
    )?;
    let stim = p.writer(
        &p.topic::<BrainStimulus>(STIMULUS_TOPIC)?,
        stimulus_writer_qos(),
    )?;
    regions
        .write(BrainRegions {
            labels: (0..N).map(|i| format!("r{i}")).collect(),
            centres_mm: (0..N)
                .map(|i| {
                    let a = TAU * i as f64 / N as f64;
                    [60.0 * a.cos(), 50.0 * a.sin(), 10.0 * (i % 3) as f64]
                })
                .collect(),
        })
        .map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        // The regions' last value stays readable while its writer lives.
        let (_p, _regions) = (p, regions);
        let start = Instant::now();
        let mut last_stim = u32::MAX;
        while start.elapsed().as_secs_f64() < seconds {
            let t = start.elapsed().as_secs_f64();
            let values = (0..N)
                .map(|i| (TAU * (0.5 * t - i as f64 / N as f64)).sin() as f32)
                .collect();
            let sample = BrainSample {
                monitor: "tavg".into(),
                t: SimTime::from_nanos((t * 1e9) as u64),
                voi: vec!["x".into()],
                regions: N as u32,
                values,
            };
            if tavg.write(sample).is_err() {
                return;
            }
            let k = (t / 2.0) as u32;
            if k != last_stim {
                last_stim = k;
                let on = if k % 2 == 0 { [2, 3] } else { [8, 9] };
                let amplitude = (0..N)
                    .map(|i| if on.contains(&i) { 0.5 } else { 0.0 })
                    .collect();
                let s = BrainStimulus {
                    variable: "x".into(),
                    amplitude,
                };
                if stim.write(s).is_err() {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let nodes = arg(1, 50.0).max(1.0) as u32;
    let rate = arg(2, 10.0).clamp(0.1, 100.0);
    let flows = arg(3, 5.0) as u32;
    let seconds = arg(4, 60.0);
    let bus = Bus::in_memory();
    let mut cfg = DashboardConfig::new("127.0.0.1:0".parse()?);
    cfg.registry
        .register_durable::<NodePosition>(Role::Positions)
        .register_durable::<Route>(Role::Routes)
        .register_durable::<twin_federates::brain::BrainRegions>(Role::BrainRegions)
        .register_durable::<twin_federates::brain::BrainSample>(Role::BrainMonitor)
        .register_durable::<twin_federates::brain::BrainStimulus>(Role::BrainStimulus);
    let dash = twin_dashboard::serve_with(bus.clone(), cfg)?;
    println!("dashboard: {}", dash.url());
    let extra: Vec<String> = std::env::args().skip(5).collect();
    if extra.iter().any(|a| a == "assistant") {
        fake_assistant(&bus)?;
    }
    if extra.iter().any(|a| a == "brain") {
        fake_brain(&bus, seconds)?;
    }
    let p = bus.participant("fixture");
    let qos = WriterQos::default().transient_local().keep_last(1);
    let pos = p.writer(
        &p.topic::<NodePosition>("twin/net/node/position")?,
        qos.clone(),
    )?;
    let routes = p.writer(&p.topic::<Route>("twin/net/route")?, qos)?;
    let start = Instant::now();
    let period = Duration::from_secs_f64(1.0 / rate);
    let mut epoch = u32::MAX;
    let mut next = start;
    while start.elapsed().as_secs_f64() < seconds {
        let t = start.elapsed().as_secs_f64();
        for id in 0..nodes {
            let ring = 1.0 + (id % 10) as f64;
            let r = 300.0 * ring;
            let w = 0.2 / ring.sqrt() * if id % 2 == 0 { 1.0 } else { -1.0 };
            let a = w * t + TAU * id as f64 / nodes as f64;
            pos.write(NodePosition {
                id,
                x_m: r * a.cos(),
                y_m: r * a.sin(),
                z_m: 200.0 + 150.0 * (id % 7) as f64,
                vx_mps: -r * w * a.sin(),
                vy_mps: r * w * a.cos(),
            })
            .map_err(|e| e.to_string())?;
        }
        let e = (t / 2.0) as u32;
        if e != epoch {
            epoch = e;
            for flow in 0..flows {
                routes
                    .write(Route {
                        flow,
                        hops: hops(flow, e, nodes),
                    })
                    .map_err(|e| e.to_string())?;
            }
        }
        next += period;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    Ok(())
}
