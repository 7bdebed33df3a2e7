//! `twin`: run a federation from a scenario file, run the bundled demo, or
//! check a scenario.
//!
//! Exit codes: 0 success, 2 invalid input (scenario errors are printed as
//! `file:line:column: field: message`), 1 a run that failed.

mod brain;
mod bus;
mod dds;
mod demo;
mod llm;
mod net;
mod run;
mod vep;

use std::{path::PathBuf, process::ExitCode};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use twin_core::SimDuration;
use twin_federates::Catalog;
use twin_scenario::{Scenario, ScenarioError};

#[derive(Parser, Debug)]
#[command(name = "twin", version, about = "Twin: federated digital twins")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
    /// Log level filter (e.g. `info`, `twin_federation=debug`); also RUST_LOG.
    #[arg(long, global = true, default_value = "warn")]
    log: String,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run the federation a scenario file describes.
    Run {
        /// Scenario file (TOML).
        scenario: PathBuf,
        #[command(flatten)]
        opts: run::RunOpts,
    },
    /// Run the bundled demo federation.
    Demo {
        #[command(flatten)]
        opts: run::RunOpts,
        #[command(flatten)]
        demo: demo::DemoOpts,
    },
    /// Check a scenario file and report every error with its location.
    Validate {
        /// Scenario file (TOML).
        scenario: PathBuf,
    },
    /// The local model service (OpenAI- and Ollama-compatible HTTP APIs).
    #[command(subcommand)]
    Llm(llm::LlmCmd),
    /// The whole-brain simulator: single runs, parameter sweeps and the virtual epileptic patient.
    #[command(subcommand)]
    Brain(brain::BrainCmd),
    /// The packet-level network simulator standalone.
    #[command(subcommand)]
    Net(net::NetCmd),
    /// Run one member of a scenario in this process, over DDS.
    Member(dds::MemberArgs),
    /// Inspect, record and replay a DDS data space; write the IDL of bus types.
    #[command(subcommand)]
    Bus(bus::BusCmd),
}

/// An error that has already been printed in full; exit with this code.
#[derive(Debug)]
struct Reported(u8);

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}", self.0)
    }
}
impl std::error::Error for Reported {}

fn load(path: Option<&std::path::Path>) -> Result<Scenario> {
    load_from(path, demo::DEMO)
}

/// Loads a scenario file, or with `None` the demo scenario given as text.
fn load_from(path: Option<&std::path::Path>, demo_text: &str) -> Result<Scenario> {
    let parsed = match path {
        Some(p) => Scenario::from_file(p),
        None => Scenario::parse(demo_text, "scenarios/demo.toml"),
    };
    let scenario = match parsed {
        Ok(s) => s,
        Err(ScenarioError::Invalid(d)) => {
            eprintln!("{d}");
            eprintln!("error: scenario has {} error(s)", d.len());
            return Err(Reported(2).into());
        }
        Err(e @ ScenarioError::Io { .. }) => {
            eprintln!(
                "error: {e:#}: {}",
                std::error::Error::source(&e)
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            );
            return Err(Reported(2).into());
        }
    };
    if let Err(d) = scenario.check(&Catalog) {
        eprintln!("{d}");
        eprintln!("error: scenario has {} error(s)", d.len());
        return Err(Reported(2).into());
    }
    Ok(scenario)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| cli.log.clone());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .init();
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => match e.downcast_ref::<Reported>() {
            Some(Reported(code)) => ExitCode::from(*code),
            None => {
                eprintln!("error: {e:#}");
                ExitCode::from(1)
            }
        },
    }
}

fn dispatch(cmd: Cmd) -> Result<()> {
    match cmd {
        Cmd::Validate { scenario } => {
            let s = load(Some(&scenario))?;
            println!(
                "{}: ok: federation `{}`, {} member(s), end {}",
                scenario.display(),
                s.federation.name,
                s.members.len(),
                s.federation.end
            );
            Ok(())
        }
        Cmd::Run { scenario, opts } => {
            let s = load(Some(&scenario))?;
            if opts.distributed {
                let s = run::apply_overrides(s, &opts)?;
                return dds::run(&s, &scenario, opts.quiet).context("distributed run failed");
            }
            run::run(s, &opts).context("federation run failed")
        }
        Cmd::Bus(cmd) => bus::dispatch(cmd),
        Cmd::Member(args) => {
            let s = load(Some(&args.scenario))?;
            dds::member(&args, &s)
        }
        Cmd::Llm(cmd) => llm::dispatch(cmd),
        Cmd::Brain(cmd) => brain::dispatch(cmd),
        Cmd::Net(cmd) => net::dispatch(cmd),
        Cmd::Demo { opts, demo } => {
            let s = load_from(None, &demo::scenario_text(&demo)?)?;
            let s = demo::adjust(s, &demo, opts.pacing_given());
            run::run(s, &opts).context("demo run failed")
        }
    }
}

/// Parses a duration argument such as `10s`.
fn parse_duration(s: &str) -> Result<SimDuration, String> {
    s.parse::<SimDuration>().map_err(|e| e.to_string())
}
