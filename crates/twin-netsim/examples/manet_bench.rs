//! Scenario-scale benchmark: the ns-3 `manet-routing-compare`-like MANET.
//!
//! ```text
//!   scenarios/net/manet-ns3.toml ──► Scenario ──(--nodes, --protocol, --seed)──► Simulation::run
//!                                                                                    │
//!               RESULT {json: events, CPU s, wall s, peak RSS, PDR, delay} ◄────────┘
//! ```
//!
//! Run (release build; CPU time is read from `/proc/self/stat`):
//!
//! ```sh
//! cargo run --release -p twin-netsim --example manet_bench -- --nodes 50 --protocol aodv
//! ```
//!
//! Options: `--scenario PATH` (default `scenarios/net/manet-ns3.toml`),
//! `--nodes N`, `--protocol aodv|olsr|greedy`, `--seed S`, `--run R`,
//! `--time SECONDS`, `--stats` (print the full statistics JSON), `--nbsample`
//! (count one-hop AODV routes by state once a second), `--trace
//! FILE` (replay an ns-2 movement file instead of random waypoint).

use std::time::Instant;

use twin_core::SimDuration;
use twin_netsim::{scenario::Protocol, Scenario, Simulation};

/// CPU time of this process \[s\] (user + system), Linux only.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields overall, in clock ticks (100 per second).
    let Some(rest) = stat.rsplit(')').next() else {
        return f64::NAN;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        f.get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Peak resident set size \[MB\], Linux only.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut path = String::from("scenarios/net/manet-ns3.toml");
    let (mut nodes, mut protocol, mut seed, mut run, mut time) = (None, None, None, None, None);
    let mut full = false;
    let mut trace: Option<String> = None;
    let mut nbsample = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--scenario" => path = val()?,
            "--nodes" => nodes = Some(val()?.parse::<u32>()?),
            "--protocol" => {
                protocol = Some(match val()?.as_str() {
                    "aodv" => Protocol::Aodv,
                    "olsr" => Protocol::Olsr,
                    "greedy" => Protocol::Greedy,
                    other => return Err(format!("unknown protocol {other}").into()),
                })
            }
            "--seed" => seed = Some(val()?.parse::<u64>()?),
            "--run" => run = Some(val()?.parse::<u64>()?),
            "--time" => time = Some(val()?.parse::<u64>()?),
            "--stats" => full = true,
            "--trace" => trace = Some(val()?),
            "--nbsample" => nbsample = true,
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    let mut sc = Scenario::from_file(&path)?;
    if let Some(n) = nodes {
        sc = sc.with_group_count(0, n);
    }
    if let Some(p) = protocol {
        sc.routing.protocol = p;
    }
    if let Some(s) = seed {
        sc.simulation.seed = s;
    }
    if let Some(r) = run {
        sc.simulation.run = r;
    }
    if let Some(t) = time {
        sc.simulation.duration = SimDuration::from_secs(t);
        for f in &mut sc.flows {
            f.stop = Some(SimDuration::from_secs(t.saturating_sub(5)));
        }
    }
    if let Some(path) = &trace {
        // Replay an ns-2 movement file instead of random waypoint (paired
        // runs with ns-3, which replays the same file).
        let text = std::fs::read_to_string(path)?;
        let tracks = twin_netsim::mobility::ns2::parse(&text)
            .map_err(|e| format!("{path}:{}: {}", e.line, e.message))?;
        sc.nodes[0].mobility = twin_netsim::scenario::MobilitySpec::Ns2Trace {
            file: path.into(),
            first: 0,
            tracks: std::sync::Arc::new(tracks),
        };
    }
    let c0 = cpu_seconds();
    let w0 = Instant::now();
    let mut sim = Simulation::from_scenario(&sc)?;
    // With --nbsample, once a second: every node's one-hop AODV routes by
    // state (as ns3_manet --nbsample), [samples, valid, invalid].
    let mut nb = [0u64; 3];
    let mut events = 0;
    if nbsample {
        let end = sc.simulation.duration.as_nanos() / 1_000_000_000;
        for t in 1..end {
            events += sim.step_until(twin_core::SimTime::from_nanos(t * 1_000_000_000))?;
            let now = sim.now().as_nanos();
            for i in 0..sim.node_count() {
                if let Some(a) = sim.aodv(twin_core::NodeId(i as u32)) {
                    nb[0] += 1;
                    for r in a.routes().values().filter(|r| r.hops == 1) {
                        let up = r.state == twin_netsim::routing::aodv::RouteState::Valid
                            && r.expires > now;
                        nb[if up { 1 } else { 2 }] += 1;
                    }
                }
            }
        }
    }
    events += sim.run()?;
    let wall = w0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - c0;
    let st = sim.stats();
    let mut aodv = serde_json::Map::new();
    for i in 0..sim.node_count() {
        if let Some(a) = sim.aodv(twin_core::NodeId(i as u32)) {
            if let serde_json::Value::Object(m) = serde_json::to_value(a.counters())? {
                for (k, v) in m {
                    let e = aodv.entry(k).or_insert(serde_json::json!(0));
                    *e = serde_json::json!(e.as_u64().unwrap_or(0) + v.as_u64().unwrap_or(0));
                }
            }
        }
    }
    let mut arp = serde_json::Map::new();
    for i in 0..sim.node_count() {
        if let serde_json::Value::Object(m) =
            serde_json::to_value(sim.arp_counters(twin_core::NodeId(i as u32)))?
        {
            for (k, v) in m {
                let e = arp.entry(k).or_insert(serde_json::json!(0));
                *e = serde_json::json!(e.as_u64().unwrap_or(0) + v.as_u64().unwrap_or(0));
            }
        }
    }
    let mut olsr = serde_json::Map::new();
    for i in 0..sim.node_count() {
        if let Some(o) = sim.olsr(twin_core::NodeId(i as u32)) {
            if let serde_json::Value::Object(m) = serde_json::to_value(o.counters())? {
                for (k, v) in m {
                    let e = olsr.entry(k).or_insert(serde_json::json!(0));
                    *e = serde_json::json!(e.as_u64().unwrap_or(0) + v.as_u64().unwrap_or(0));
                }
            }
        }
    }
    let result = serde_json::json!({
        "sim": "twin-netsim",
        "scenario": sc.simulation.name,
        "protocol": format!("{:?}", sc.routing.protocol),
        "nodes": sim.node_count(),
        "seed": sc.simulation.seed,
        "run": sc.simulation.run,
        "events": events,
        "cpu_s": cpu,
        "wall_s": wall,
        "events_per_cpu_s": events as f64 / cpu,
        "peak_rss_mb": peak_rss_mb(),
        "tx_pkts": st.totals.tx_packets,
        "entered_pkts": st.totals.entered_packets,
        "rx_pkts": st.totals.rx_packets,
        "pdr": st.totals.delivery_ratio,
        "pdr_entered": st.totals.delivery_ratio_entered,
        "pdr_nominal": st.totals.delivery_ratio_nominal,
        "mean_delay_ms": st.totals.mean_delay_ms,
        "control_pkts": st.routing.control_packets,
        "control_bytes": st.routing.control_bytes,
        "delay_p50_ms": st.totals.delay_p50_ms,
        "delay_p90_ms": st.totals.delay_p90_ms,
        // [packets, delay sum ms] per bin: <10, <100, <300, <1000, <3000, ≥3000 ms.
        "delay_bins": st.totals.delay_bins.iter().map(|b| (b.packets, b.delay_sum_ms)).collect::<Vec<_>>(),
        "hops_mean": st.totals.hops_mean,
        "net_drops": st.net_drops,
        "mac": st.mac,
        "aodv": aodv,
        "olsr": olsr,
        "arp": arp,
        "trace_digest": format!("{:016x}", sim.trace_digest()),
        "trace": trace,
        "nb_samples": nb[0],
        "nb_up": nb[1],
        "nb_down": nb[2],
    });
    println!("RESULT {result}");
    if full {
        println!("{}", st.to_json());
    }
    Ok(())
}
