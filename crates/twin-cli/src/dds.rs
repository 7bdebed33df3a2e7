//! Federations across processes and hosts over DDS: `twin member NAME
//! --scenario S` runs one member of a scenario in this process;
//! `twin run S --distributed` runs the controller here and launches every
//! member as a `twin member` process on this host. On several hosts, run
//! `twin member …` on each with the same scenario and `TWIN_DDS_DOMAIN`.
//! DDS settings come from `TWIN_DDS_DOMAIN`, `TWIN_DDS_INTERFACE`,
//! `TWIN_DDS_PEERS` or Cyclone's `CYCLONEDDS_URI`. Members with short steps
//! step on Cyclone's delivery thread (`MemberDriver::step_on_receive`);
//! `TWIN_DDS_STEP_ON_RECEIVE=0` makes every step wait for the member's thread.

use std::path::PathBuf;

use clap::Args;

/// Arguments of `twin member`.
#[derive(Args, Debug)]
pub(crate) struct MemberArgs {
    /// Name of the member in the scenario (`[[member]] name`).
    pub(crate) name: String,
    /// Scenario file (TOML), the same for every process of the federation.
    #[arg(long)]
    pub(crate) scenario: PathBuf,
}

#[cfg(feature = "dds")]
mod imp {
    use std::{
        path::Path,
        process::{Child, Command, Stdio},
        time::{Duration, Instant},
    };

    use anyhow::{anyhow, bail, Context, Result};
    use twin_bus::{Bus, DdsConfig};
    use twin_federates::{build_controller, build_member};
    use twin_federation::RunEvent;
    use twin_scenario::Scenario;

    use super::*;

    pub(crate) fn dds_bus() -> Result<Bus> {
        let cfg = DdsConfig::from_env().map_err(|e| anyhow!(e))?;
        Ok(Bus::dds(cfg)?)
    }

    pub(crate) fn member(args: &MemberArgs, scenario: &Scenario) -> Result<()> {
        let bus = dds_bus()?;
        let mut driver = build_member(scenario, &args.name, &bus)?.ok_or_else(|| {
            anyhow!(
                "{}: no member named `{}` (members: {})",
                args.scenario.display(),
                args.name,
                scenario
                    .members
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        driver
            .step_on_receive(std::env::var("TWIN_DDS_STEP_ON_RECEIVE").map_or(true, |v| v != "0"));
        let steps = driver
            .run_blocking()
            .with_context(|| format!("member `{}`", args.name))?;
        println!("member `{}`: {steps} grant(s)", args.name);
        Ok(())
    }

    pub(crate) fn run(scenario: &Scenario, path: &Path, quiet: bool) -> Result<()> {
        let bus = dds_bus()?;
        let mut fed = build_controller(scenario, bus)?;
        let exe = std::env::current_exe().context("locating the twin executable")?;
        let mut children: Vec<(String, Child)> = Vec::new();
        for m in &scenario.members {
            let child = Command::new(&exe)
                .arg("member")
                .arg(&m.name)
                .arg("--scenario")
                .arg(path)
                .stdin(Stdio::null())
                .stdout(if quiet {
                    Stdio::null()
                } else {
                    Stdio::inherit()
                })
                .spawn()
                .with_context(|| format!("starting member `{}`", m.name))?;
            eprintln!(
                "twin: member `{}` started as process {}",
                m.name,
                child.id()
            );
            children.push((m.name.clone(), child));
        }
        let name = scenario.federation.name.clone();
        eprintln!(
            "twin: federation `{name}` distributed over DDS: {} member process(es)",
            children.len()
        );
        let summary = fed.run(&mut |e| match e {
            RunEvent::Stall(r) => eprintln!("twin: warning: {r}"),
            RunEvent::MemberFailed { member, error } => {
                eprintln!("twin: member `{member}` failed: {error:#}")
            }
            RunEvent::Progress { .. } => {}
        });
        // Members end when the controller does; give them time to flush.
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut failed = Vec::new();
        for (m, mut c) in children {
            let status = loop {
                if let Some(s) = c.try_wait()? {
                    break Some(s);
                }
                if Instant::now() >= deadline {
                    let _ = c.kill();
                    let _ = c.wait();
                    break None;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            match status {
                Some(s) if s.success() => {}
                Some(s) => {
                    eprintln!("twin: member `{m}` process ended with {s}");
                    failed.push(m);
                }
                None => {
                    eprintln!("twin: member `{m}` process did not end; killed");
                    failed.push(m);
                }
            }
        }
        let summary = summary?;
        println!("federation `{name}` {} (distributed)", summary.state);
        println!("  sim time     {:.3} s", summary.time.as_secs_f64());
        println!("  wall time    {:.3} s", summary.wall.as_secs_f64());
        println!("  grant rounds {}", summary.rounds);
        if !failed.is_empty() {
            bail!("member process(es) failed: {}", failed.join(", "));
        }
        Ok(())
    }
}

#[cfg(not(feature = "dds"))]
mod imp {
    use std::path::Path;

    use anyhow::Result;
    use twin_scenario::Scenario;

    use super::*;

    fn missing() -> anyhow::Error {
        anyhow::anyhow!(
            "this twin was built without DDS support (cargo build -p twin-cli --features dds)"
        )
    }
    pub(crate) fn member(_: &MemberArgs, _: &Scenario) -> Result<()> {
        Err(missing())
    }
    pub(crate) fn run(_: &Scenario, _: &Path, _: bool) -> Result<()> {
        Err(missing())
    }
}

#[cfg(feature = "dds")]
pub(crate) use imp::dds_bus;
pub(crate) use imp::{member, run};
