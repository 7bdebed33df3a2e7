//! How much an attached dashboard slows a simulation: runs the same unpaced
//! federation (moving points and a ticker) alternately without and with a
//! dashboard that has one WebSocket client subscribed to positions and
//! status at 10 Hz, and prints the median wall times.
//!
//! ```text
//! points (N, stepped 100 ms) ─┐                      ┌─► /ws client (10 Hz)
//! ticker (event) ─────────────┴─► bus ─► dashboard ──┤
//!                                                    └─► /api/* (idle)
//! ```
//!
//! `cargo run --release -p twin-dashboard --example overhead -- [points] [sim_seconds] [reps]`

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::{connect_async, tungstenite::Message};
use twin_bus::Bus;
use twin_dashboard::{DashboardConfig, Role};
use twin_federates::demo::{PointPosition, Tick};

fn arg(i: usize, default: u64) -> u64 {
    std::env::args()
        .nth(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn scenario(points: u64, end_s: u64) -> twin_scenario::Scenario {
    let toml = format!(
        r#"
[federation]
name = "overhead"
end = "{end_s}s"
dt = "100ms"
pacing = 0.0
seed = 1

[[member]]
name = "points"
kind = "moving-points"
[member.params]
count = {points}
radius_m = 500.0
speed_mps = 60.0

[[member]]
name = "ticker"
kind = "event-ticker"
time = "event"
[member.params]
mean_interval = "750ms"
"#
    );
    let s = twin_scenario::Scenario::parse(&toml, "overhead.toml").expect("valid scenario");
    s.check(&twin_federates::Catalog).expect("valid members");
    s
}

/// A client subscribed to positions and status at 10 Hz, on its own thread.
fn client(url: String) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let (mut ws, _) = connect_async(url).await.expect("ws");
            for topic in ["twin/demo/point/position", "twin/federation/status"] {
                let m = format!(r#"{{"op":"subscribe","topic":"{topic}","rate_hz":10}}"#);
                ws.send(Message::Text(m.into())).await.expect("send");
            }
            let mut bytes = 0u64;
            while let Some(Ok(m)) = ws.next().await {
                match m {
                    Message::Text(t) => bytes += t.len() as u64,
                    Message::Close(_) => break,
                    _ => {}
                }
            }
            bytes
        })
    })
}

fn run_once(points: u64, end_s: u64, attached: bool) -> (Duration, u64) {
    let bus = Bus::in_memory();
    let mut dash_client = None;
    if attached {
        let mut cfg = DashboardConfig::new("127.0.0.1:0".parse().expect("addr"));
        cfg.registry
            .register_durable::<PointPosition>(Role::Positions)
            .register::<Tick>(Role::Data);
        let dash = twin_dashboard::serve_with(bus.clone(), cfg).expect("dashboard");
        // The members create their topics when they start; create the
        // position topic now so that the client can subscribe first.
        let p = bus.participant("pre");
        p.topic::<PointPosition>(twin_federates::demo::POSITION_TOPIC)
            .expect("topic");
        let c = client(format!("ws://{}/ws", dash.local_addr()));
        dash_client = Some((dash, c));
    }
    let s = scenario(points, end_s);
    let mut fed = twin_federates::build(&s, bus, Default::default()).expect("build");
    // Give the client a moment to subscribe.
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    fed.run(&mut |_| {}).expect("run");
    let wall = start.elapsed();
    let bytes = dash_client.map_or(0, |(dash, c)| {
        dash.stop();
        c.join().unwrap_or(0)
    });
    (wall, bytes)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let points = arg(1, 100);
    let end_s = arg(2, 2000);
    let reps = arg(3, 5);
    let (mut off, mut on) = (Vec::new(), Vec::new());
    let mut received = 0;
    for rep in 0..reps {
        let (a, _) = run_once(points, end_s, false);
        let (b, bytes) = run_once(points, end_s, true);
        received = bytes;
        println!(
            "rep {rep}: without {:.3} s, with dashboard {:.3} s ({} kB to the client)",
            a.as_secs_f64(),
            b.as_secs_f64(),
            bytes / 1000
        );
        off.push(a.as_secs_f64());
        on.push(b.as_secs_f64());
    }
    let (m0, m1) = (median(&mut off), median(&mut on));
    println!(
        "{points} points, {end_s} s simulated, {reps} reps: median without {m0:.3} s, with {m1:.3} s, \
         slowdown {:+.1} % (client received {} kB in the last run)",
        (m1 / m0 - 1.0) * 100.0,
        received / 1000
    );
}
