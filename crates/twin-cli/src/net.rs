//! `twin net run SCENARIO`: the packet-level network simulator standalone.
//!
//! Builds a `twin-netsim` scenario, advances it in steps with a progress
//! bar (or paced against the wall clock with `--pacing`), prints a summary
//! table and writes `stats.json`, `flows.csv` and the probe CSVs the
//! scenario declares into the output folder; `--pcap DIR` also captures
//! every node's frames as radiotap/802.11 pcap files.

use std::{
    io::IsTerminal,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use twin_core::{SimDuration, SimTime};
use twin_netsim::{Scenario, ScenarioError, Simulation, StatsSnapshot};

use crate::Reported;

/// `twin net` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum NetCmd {
    /// Run a network scenario (scenarios/net/*.toml) standalone.
    Run(NetRunOpts),
}

/// Options of `twin net run`.
#[derive(Args, Debug)]
pub(crate) struct NetRunOpts {
    /// Network scenario file (TOML).
    scenario: PathBuf,
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Override the scenario's run number (independent replication).
    #[arg(long)]
    run: Option<u64>,
    /// Override the simulated duration (e.g. `30s`).
    #[arg(long, value_parser = crate::parse_duration)]
    end: Option<SimDuration>,
    /// Output folder for stats.json, flows.csv and probes (default out/net/NAME).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write one pcap file per node into this folder.
    #[arg(long)]
    pcap: Option<PathBuf>,
    /// Pace simulated time against the wall clock (1 = real time, 0 = as fast as possible).
    #[arg(long, default_value_t = 0.0)]
    pacing: f64,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

pub(crate) fn dispatch(cmd: NetCmd) -> Result<()> {
    match cmd {
        NetCmd::Run(o) => run(&o),
    }
}

/// Reads and validates the scenario; problems are printed with their location.
fn load(path: &Path) -> Result<Scenario> {
    match Scenario::from_file(path) {
        Ok(s) => Ok(s),
        Err(ScenarioError::Invalid(d)) => {
            for x in &d {
                eprintln!("{x}");
            }
            eprintln!("error: scenario has {} error(s)", d.len());
            Err(Reported(2).into())
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(Reported(2).into())
        }
    }
}

fn run(o: &NetRunOpts) -> Result<()> {
    let mut sc = load(&o.scenario)?;
    if let Some(s) = o.seed {
        sc.simulation.seed = s;
    }
    if let Some(r) = o.run {
        sc.simulation.run = r;
    }
    if let Some(d) = o.end {
        sc.simulation.duration = d;
    }
    if !(o.pacing.is_finite() && o.pacing >= 0.0) {
        eprintln!(
            "error: --pacing must be a finite number >= 0 (got {})",
            o.pacing
        );
        return Err(Reported(2).into());
    }
    let out = o
        .out
        .clone()
        .unwrap_or_else(|| Path::new("out/net").join(&sc.simulation.name));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let mut sim = match Simulation::from_scenario(&sc) {
        Ok(s) => s,
        Err(twin_netsim::BuildError::Invalid(e)) => {
            for x in e.diagnostics() {
                eprintln!("{x}");
            }
            eprintln!("error: {e}");
            return Err(Reported(2).into());
        }
    };
    if let Some(dir) = &o.pcap {
        sim.enable_pcap(dir)
            .with_context(|| format!("creating pcap files in {}", dir.display()))?;
    }
    let mut probes = sim
        .probes(&out)
        .with_context(|| format!("creating probe files in {}", out.display()))?;

    let end = sim.end_time();
    let total_ns = end.as_nanos().max(1);
    let show = !o.quiet && std::io::stderr().is_terminal();
    let bar = if show {
        let b = ProgressBar::new(1000);
        b.set_style(
            ProgressStyle::with_template("{bar:40} {percent:>3}% sim {msg} eta {eta}")
                .expect("valid template"),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let wall0 = Instant::now();
    // Steps of 1/1000 of the run, and never longer than 100 ms of sim time
    // when paced, so probes and pacing stay smooth.
    let mut step = (total_ns / 1000).max(1);
    if o.pacing > 0.0 {
        step = step.min(100_000_000);
    }
    let mut t = 0u64;
    while t < total_ns {
        t = (t + step).min(total_ns);
        let target = SimTime::from_nanos(t);
        probes.advance(&mut sim, target)?;
        if o.pacing > 0.0 {
            let due = Duration::from_secs_f64(t as f64 * 1e-9 / o.pacing);
            if let Some(wait) = due.checked_sub(wall0.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        bar.set_position(t * 1000 / total_ns);
        bar.set_message(format!("{:.1} s", t as f64 * 1e-9));
    }
    bar.finish_and_clear();
    let wall = wall0.elapsed().as_secs_f64();
    probes.finish(&mut sim)?;
    sim.finish_pcap().context("writing pcap files")?;

    let st = sim.stats();
    std::fs::write(out.join("stats.json"), st.to_json())
        .with_context(|| format!("writing {}", out.join("stats.json").display()))?;
    std::fs::write(out.join("flows.csv"), st.flows_csv())
        .with_context(|| format!("writing {}", out.join("flows.csv").display()))?;
    print_summary(&sim, &st, wall);
    println!("results in {}", out.display());
    if let Some(dir) = &o.pcap {
        println!("pcap files in {}", dir.display());
    }
    Ok(())
}

/// The summary table: one line per flow, then totals and overhead.
fn print_summary(sim: &Simulation, st: &StatsSnapshot, wall_s: f64) {
    println!(
        "scenario `{}`: {} nodes, {:.1} s simulated, {} events in {:.2} s wall",
        sim.name(),
        sim.node_count(),
        st.time_s,
        st.events,
        wall_s
    );
    println!(
        "{:>4}  {:<12} {:<12} {:>7} {:>7} {:>6} {:>10} {:>10} {:>6}",
        "flow", "src", "dst", "tx", "rx", "pdr", "delay ms", "p95 ms", "hops"
    );
    let name = |n| sim.node_name(n).unwrap_or("?").to_owned();
    for f in &st.flows {
        println!(
            "{:>4}  {:<12} {:<12} {:>7} {:>7} {:>6.3} {:>10.2} {:>10.2} {:>6.2}",
            f.flow,
            name(f.src),
            name(f.dst),
            f.tx_packets,
            f.rx_packets,
            f.delivery_ratio,
            f.delay_mean_ms,
            f.delay_p95_ms,
            f.hops_mean
        );
    }
    let t = &st.totals;
    println!(
        "total: tx {} rx {} delivery {:.3} (of entered {:.3}), mean delay {:.2} ms",
        t.tx_packets, t.rx_packets, t.delivery_ratio, t.delivery_ratio_entered, t.mean_delay_ms
    );
    println!(
        "routing overhead: {} control packets, {} bytes, {:.2} per delivered packet",
        st.routing.control_packets, st.routing.control_bytes, st.routing.normalized_routing_load
    );
    let a = &st.accounting;
    let reasons: Vec<String> = a.dropped.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!(
        "packets: sent {} = delivered {} + dropped {} ({}) + in flight {}{}",
        a.sent,
        a.delivered,
        a.dropped_total,
        if reasons.is_empty() {
            "none".into()
        } else {
            reasons.join(", ")
        },
        a.in_flight,
        if a.balanced {
            ""
        } else {
            "  [NOT BALANCED: see stats.json accounting]"
        }
    );
}
