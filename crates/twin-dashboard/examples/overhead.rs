//! How much an attached dashboard slows a simulation: runs the same unpaced
//! federation (N moving points stepped at 10 Hz, and a ticker) for a fixed
//! simulated time as fast as it goes, in three arms, interleaved:
//!
//! * `off`: no dashboard;
//! * `1 client`: a dashboard with one WebSocket client;
//! * `C clients`: a dashboard with C clients,
//!
//! every client subscribed as the page is (positions at 20 Hz, federation
//! status and the ticker at 10 Hz) and reading every frame. Each repetition
//! runs the three arms once, in an order rotated from one repetition to the
//! next, so that a drift in the machine's load falls on every arm alike.
//!
//! ```text
//! points (N, stepped 100 ms) ─┐                      ┌─► C × /ws client
//! ticker (event) ─────────────┴─► bus ─► dashboard ──┤
//!                                                    └─► /api/* (idle)
//! ```
//!
//! The slowdown of an arm is the wall time of its run divided by the wall
//! time of the `off` run of the same repetition; the report gives the
//! geometric mean of these ratios with a 95 % confidence interval (Student's
//! t on the log ratios), and the medians of the wall times. On a machine
//! with fewer free cores than threads the wall time also counts the
//! dashboard's and the clients' own CPU use, so the CPU time of the thread
//! that runs the federation (all members run inline on it) is reported
//! the same way: what attaching costs the simulation itself, which depends
//! far less on the machine's load.
//!
//! `cargo run --release -p twin-dashboard --example overhead -- [points] [sim_seconds] [reps] [clients]`

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::{connect_async, tungstenite::Message};
use twin_bus::Bus;
use twin_dashboard::{DashboardConfig, Role};
use twin_federates::demo::{PointPosition, Tick, POSITION_TOPIC, TICK_TOPIC};

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

/// Subscriptions of one client, as the page makes them: (topic, rate).
const SUBSCRIPTIONS: [(&str, u32); 3] = [
    (POSITION_TOPIC, 20),
    ("twin/federation/status", 10),
    (TICK_TOPIC, 10),
];

/// A client on its own thread: subscribes, then reads every frame until the
/// server closes. Returns the bytes of data frames it received.
fn client(url: String, ready: std::sync::mpsc::Sender<()>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let (mut ws, _) = connect_async(url).await.expect("ws");
            for (topic, hz) in SUBSCRIPTIONS {
                let m = format!(r#"{{"op":"subscribe","topic":"{topic}","rate_hz":{hz}}}"#);
                ws.send(Message::Text(m.into())).await.expect("send");
            }
            let _ = ready.send(());
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

/// CPU time (user + system) of this thread (`thread-self`) or the whole
/// process (`self`) from `/proc/<which>/stat` [s], in the kernel's 10 ms
/// ticks (USER_HZ = 100); 0 where there is no procfs.
fn cpu_s(which: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{which}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    f.iter().sum::<u64>() as f64 / 100.0
}

/// What one run cost.
#[derive(Clone, Copy, Default)]
struct Cost {
    /// Wall time of the federation run [s].
    wall: f64,
    /// CPU time of the thread that runs the federation (every member runs
    /// inline on it; bus writes deliver to the dashboard's readers here) [s].
    sim_cpu: f64,
    /// CPU time of the whole process, clients and dashboard included [s].
    all_cpu: f64,
}

/// One run with `clients` WebSocket clients (`None`: no dashboard).
/// Returns its cost and the bytes the clients received.
fn run_once(points: u64, end_s: u64, clients: Option<u64>) -> (Cost, u64) {
    let bus = Bus::in_memory();
    let mut attached = None;
    if let Some(c) = clients {
        let mut cfg = DashboardConfig::new("127.0.0.1:0".parse().expect("addr"));
        cfg.registry
            .register_durable::<PointPosition>(Role::Positions)
            .register::<Tick>(Role::Data);
        let dash = twin_dashboard::serve_with(bus.clone(), cfg).expect("dashboard");
        // The members create their topics when they start; create them now
        // so that the clients can subscribe first.
        let p = bus.participant("pre");
        p.topic::<PointPosition>(POSITION_TOPIC).expect("topic");
        p.topic::<Tick>(TICK_TOPIC).expect("topic");
        let (tx, rx) = std::sync::mpsc::channel();
        let threads: Vec<_> = (0..c)
            .map(|_| client(format!("ws://{}/ws", dash.local_addr()), tx.clone()))
            .collect();
        for _ in 0..c {
            rx.recv_timeout(Duration::from_secs(10))
                .expect("client subscribed");
        }
        attached = Some((dash, threads));
    }
    let s = scenario(points, end_s);
    let mut fed = twin_federates::build(&s, bus, Default::default()).expect("build");
    // Let the subscriptions reach the hub before the clock starts.
    std::thread::sleep(Duration::from_millis(200));
    let (cpu0, all0) = (cpu_s("thread-self"), cpu_s("self"));
    let start = Instant::now();
    fed.run(&mut |_| {}).expect("run");
    let cost = Cost {
        wall: start.elapsed().as_secs_f64(),
        sim_cpu: cpu_s("thread-self") - cpu0,
        all_cpu: cpu_s("self") - all0,
    };
    let bytes = attached.map_or(0, |(dash, threads)| {
        dash.stop();
        threads.into_iter().map(|t| t.join().unwrap_or(0)).sum()
    });
    (cost, bytes)
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Two-sided 95 % quantile of Student's t with `df` degrees of freedom.
fn t95(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    T.get(df.wrapping_sub(1)).copied().unwrap_or(1.96)
}

/// Geometric mean of `ratios` and its 95 % confidence interval.
fn ratio_ci(ratios: &[f64]) -> (f64, f64, f64) {
    let n = ratios.len();
    let logs: Vec<f64> = ratios.iter().map(|r| r.ln()).collect();
    let mean = logs.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean.exp(), f64::NAN, f64::NAN);
    }
    let var = logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let half = t95(n - 1) * (var / n as f64).sqrt();
    (mean.exp(), (mean - half).exp(), (mean + half).exp())
}

fn main() {
    let points = arg(1, 1000);
    let end_s = arg(2, 2000);
    let reps = arg(3, 7) as usize;
    let clients = arg(4, 4);
    let arms: [(String, Option<u64>); 3] = [
        ("off".into(), None),
        ("1 client".into(), Some(1)),
        (format!("{clients} clients"), Some(clients)),
    ];
    let mut costs: Vec<Vec<Cost>> = vec![Vec::new(); arms.len()];
    let mut bytes = vec![0u64; arms.len()];
    // One unmeasured run of each arm first (page cache, allocator, threads).
    for (_, c) in &arms {
        run_once(points, end_s, *c);
    }
    for rep in 0..reps {
        let mut line = format!("rep {rep}:");
        for k in 0..arms.len() {
            let a = (k + rep) % arms.len();
            let (c, b) = run_once(points, end_s, arms[a].1);
            costs[a].push(c);
            bytes[a] = b;
            line += &format!(
                " {} {:.3} s (sim thread {:.2} s CPU, process {:.2} s CPU);",
                arms[a].0, c.wall, c.sim_cpu, c.all_cpu
            );
        }
        println!("{line}");
    }
    println!(
        "{points} points at 10 Hz, {end_s} s simulated, {reps} repetitions, arms interleaved \
         in rotating order"
    );
    println!(
        "| arm | median wall | wall slowdown | median sim-thread CPU | sim-thread CPU increase \
         | median process CPU | kB to the clients per run |"
    );
    println!("|---|---|---|---|---|---|---|");
    let pct = |r: f64| (r - 1.0) * 100.0;
    let slow = |a: usize, f: fn(&Cost) -> f64| {
        if a == 0 {
            return "–".to_string();
        }
        let ratios: Vec<f64> = costs[a]
            .iter()
            .zip(&costs[0])
            .map(|(x, o)| f(x) / f(o))
            .collect();
        let (g, lo, hi) = ratio_ci(&ratios);
        format!("{:+.1} % [{:+.1}, {:+.1}]", pct(g), pct(lo), pct(hi))
    };
    let med = |a: usize, f: fn(&Cost) -> f64| median(&costs[a].iter().map(f).collect::<Vec<_>>());
    for (a, (name, _)) in arms.iter().enumerate() {
        println!(
            "| {name} | {:.3} s | {} | {:.2} s | {} | {:.2} s | {} |",
            med(a, |c| c.wall),
            slow(a, |c| c.wall),
            med(a, |c| c.sim_cpu),
            slow(a, |c| c.sim_cpu),
            med(a, |c| c.all_cpu),
            bytes[a] / 1000
        );
    }
    println!("(slowdowns: geometric mean of the per-repetition ratios to `off`, 95 % CI)");
}
