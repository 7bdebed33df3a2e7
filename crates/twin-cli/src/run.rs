//! `twin run` / `twin demo`: build, run with a progress bar, summarise.

use std::{
    io::IsTerminal,
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use twin_bus::Bus;
use twin_core::SimDuration;
use twin_federates::{build, BuildOptions};
use twin_federation::{Command, RunEvent};
use twin_scenario::Scenario;

/// Options shared by `run` and `demo`.
#[derive(Args, Debug)]
pub(crate) struct RunOpts {
    /// Override the scenario's end time (e.g. `10s`).
    #[arg(long, value_parser = crate::parse_duration)]
    end: Option<SimDuration>,
    /// Override the wall-clock pacing ratio (1 = real time, 0 = as fast as possible).
    #[arg(long)]
    pacing: Option<f64>,
    /// Run each member on its own thread.
    #[arg(long)]
    threads: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub(crate) quiet: bool,
    /// Port of the dashboard on 127.0.0.1 (0 = pick a free one).
    #[arg(long, default_value_t = twin_dashboard::DEFAULT_PORT)]
    dashboard_port: u16,
    /// Do not start the dashboard.
    #[arg(long)]
    no_dashboard: bool,
    /// Run each member as its own process over DDS (controller here).
    #[arg(long)]
    pub(crate) distributed: bool,
}

impl RunOpts {
    /// Whether `--pacing` was given.
    pub(crate) fn pacing_given(&self) -> bool {
        self.pacing.is_some()
    }
}

/// Starts the dashboard on 127.0.0.1 and prints its URL; a failure to start
/// is a warning, not an error (the run does not need it).
fn start_dashboard(bus: &Bus, opts: &RunOpts) -> Option<twin_dashboard::DashboardHandle> {
    use twin_dashboard::{DashboardConfig, Projector, Role};
    use twin_federates::{brain, demo, net};
    if opts.no_dashboard {
        return None;
    }
    let mut cfg = DashboardConfig::new((std::net::Ipv4Addr::LOCALHOST, opts.dashboard_port).into());
    // A local model on a busy machine may take minutes (the assistant's own limit is 300 s).
    cfg.assistant_timeout = Duration::from_secs(300);
    let proj = Projector::new();
    let node = move |p: &net::NetNodePosition| {
        let name = Some(p.name.clone());
        proj.node(
            p.node,
            name,
            p.lat_lon_deg,
            p.altitude_m,
            p.xyz_m,
            p.velocity_mps,
        )
    };
    cfg.registry
        .register_durable::<demo::PointPosition>(Role::Positions)
        .register::<demo::Tick>(Role::Data)
        .register_mapped(Role::Positions, true, node)
        .register_durable::<net::NetRoute>(Role::Routes)
        .register_durable::<net::NetStats>(Role::Data)
        .register_durable::<net::NetLinks>(Role::Links)
        .register_durable::<net::NetTransmissions>(Role::Transmissions)
        .register_durable::<brain::BrainRegions>(Role::BrainRegions)
        .register_durable::<brain::BrainSample>(Role::BrainMonitor)
        .register_durable::<brain::BrainChannels>(Role::Channels)
        .register_durable::<brain::BrainStimulus>(Role::BrainStimulus)
        .register_durable::<twin_federates::brain_stim::ScheduledStimulus>(Role::BrainStimulus);
    match twin_dashboard::serve_with(bus.clone(), cfg) {
        Ok(d) => {
            println!("dashboard: {}", d.url());
            Some(d)
        }
        Err(e) => {
            eprintln!("twin: warning: dashboard not started: {e:#} (try --dashboard-port 0)");
            None
        }
    }
}

static INTERRUPTS: AtomicUsize = AtomicUsize::new(0);

/// Applies `--end` and `--pacing` to the scenario.
pub(crate) fn apply_overrides(mut scenario: Scenario, opts: &RunOpts) -> Result<Scenario> {
    if let Some(end) = opts.end {
        if end.is_zero() {
            bail!("--end must be positive");
        }
        scenario.federation.end = end;
    }
    if let Some(p) = opts.pacing {
        if !(p.is_finite() && p >= 0.0) {
            bail!("--pacing must be a finite number ≥ 0 (got {p})");
        }
        scenario.federation.pacing = p;
    }
    Ok(scenario)
}

pub(crate) fn run(scenario: Scenario, opts: &RunOpts) -> Result<()> {
    if opts.distributed {
        bail!("--distributed needs a scenario file: twin run FILE --distributed");
    }
    let scenario = apply_overrides(scenario, opts)?;
    let f = &scenario.federation;
    let (name, end, epoch) = (f.name.clone(), f.end, f.epoch);
    let bus = Bus::in_memory();
    let _dashboard = start_dashboard(&bus, opts);
    let mut fed = build(
        &scenario,
        bus,
        BuildOptions {
            threaded: opts.threads,
        },
    )?;
    let commands = fed
        .commands("twin-cli")
        .context("creating the command channel")?;
    ctrlc::set_handler(move || {
        // First Ctrl-C: freeze, then end cleanly (members flush what they
        // recorded). A second one aborts.
        if INTERRUPTS.fetch_add(1, Ordering::SeqCst) == 0 {
            eprintln!("\ninterrupted: freezing and ending the federation (Ctrl-C again to abort)");
            let _ = commands.send(Command::Freeze);
            let _ = commands.send(Command::End);
        } else {
            std::process::exit(130);
        }
    })
    .context("installing the Ctrl-C handler")?;

    let show = !opts.quiet && std::io::stderr().is_terminal();
    let bar = if show {
        ProgressBar::new(end.as_nanos() / 1_000_000)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix} [{bar:30}] {msg}")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_prefix(name.clone());
    eprintln!(
        "twin: federation `{name}`: {} member(s), end {end}, epoch {epoch}",
        scenario.members.len()
    );
    let started = std::time::Instant::now();
    let mut last_line = std::time::Instant::now();
    let summary = fed.run(&mut |e| match e {
        RunEvent::Progress {
            state,
            time,
            end,
            rounds,
        } => {
            let wall = started.elapsed().as_secs_f64();
            let speed = if wall > 0.0 {
                time.as_secs_f64() / wall
            } else {
                0.0
            };
            bar.set_position(time.as_nanos() / 1_000_000);
            bar.set_message(format!(
                "{state} t={:.1}/{:.0} s  wall {wall:.1} s  {speed:.0}x  rounds {rounds}",
                time.as_secs_f64(),
                end.as_secs_f64()
            ));
            if !show && !opts.quiet && last_line.elapsed() >= Duration::from_secs(5) {
                last_line = std::time::Instant::now();
                eprintln!(
                    "  {state} t = {:.1} s of {:.0} s, wall {wall:.1} s",
                    time.as_secs_f64(),
                    end.as_secs_f64()
                );
            }
        }
        RunEvent::Stall(report) => {
            bar.suspend(|| eprintln!("twin: warning: {report}"));
        }
        RunEvent::MemberFailed { member, error } => {
            bar.suspend(|| eprintln!("twin: member `{member}` failed: {error:#}"));
        }
    })?;
    bar.finish_and_clear();
    let wall = summary.wall.as_secs_f64();
    let t = summary.time.as_secs_f64();
    println!("federation `{name}` {}", summary.state);
    println!("  sim time     {t:.3} s  ({})", epoch.iso8601(summary.time));
    println!(
        "  wall time    {wall:.3} s  (speed {:.1}x real time)",
        if wall > 0.0 { t / wall } else { 0.0 }
    );
    println!("  grant rounds {}", summary.rounds);
    if summary.max_lag > Duration::ZERO {
        println!(
            "  max lag      {:.1} ms behind the paced clock",
            summary.max_lag.as_secs_f64() * 1e3
        );
    }
    println!("  members:");
    for (m, steps) in &summary.steps {
        println!("    {m:<16} {steps} grant(s)");
    }
    if !summary.failures.is_empty() {
        for (m, e) in &summary.failures {
            eprintln!("  failed: {m}: {e}");
        }
        bail!("{} member(s) failed", summary.failures.len());
    }
    if INTERRUPTS.load(Ordering::SeqCst) > 0 {
        println!("  (ended early by Ctrl-C)");
    }
    Ok(())
}
