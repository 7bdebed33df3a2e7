//! Member kinds and the wiring from a scenario to a running federation.
//!
//! This crate is the only one that knows both the bus and the simulators:
//! each member kind turns its scenario parameters into a
//! [`twin_federation::Member`]. [`Catalog`] lists the kinds for
//! `twin validate`, and [`build`] turns a checked [`Scenario`] into a
//! [`twin_federation::Federation`].
//!
//! Kinds today (the demo federation):
//!
//! | kind | time | publishes / consumes |
//! |---|---|---|
//! | `moving-points` | stepped | `twin/demo/point/position` ([`demo::PointPosition`], keyed by point) |
//! | `event-ticker` | event | `twin/demo/tick` ([`demo::Tick`]) at Poisson event times |
//! | `recorder` | stepped | records listed topics to JSON lines, in deterministic order |
//! | `logger` | none | logs progress as data arrives |
//! | `network` | stepped | `twin/net/node/position`, `twin/net/route`, `twin/net/stats`, `twin/net/links`, `twin/net/tx`; reads `twin/net/node/external` |
//! | `brain` | stepped | `twin/brain/monitor/tavg` ([`brain::BrainSample`]), `twin/brain/regions`, `twin/brain/seeg` (with `seeg_shafts`), `twin/brain/eeg` (with `eeg`), `twin/brain/stimulus/scheduled` ([`brain_stim::ScheduledStimulus`], with `stimulus`); reads `twin/brain/stimulus` |
//! | `seizure-controller` | stepped | `twin/brain/stimulus` ([`brain::BrainStimulus`]); reads `twin/brain/monitor/<monitor>` |
//! | `assistant` | none | reads listed topics and `twin/assistant/ask`; answers on `twin/assistant/answer` (and `POST /ask`) with the local model |

pub mod assistant;
pub mod brain;
pub mod brain_stim;
pub mod demo;
pub mod eeg;
pub mod net;
mod params;
pub mod seizure;

use std::time::Duration;

use twin_bus::Bus;
use twin_federation::{
    ControllerConfig, Federation, FederationConfig, FederationError, LostPolicy, Member,
    MemberSpec, TimeMode,
};
use twin_scenario::{KindCatalog, MemberLostPolicy, ParamIssue, Scenario, StartState};

pub use params::parse_params;

/// How to place members when building a federation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// Run every member on its own thread (default: inline, deterministic and fastest).
    pub threaded: bool,
}

/// Building a federation from a scenario failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A member's parameters are invalid (run `twin validate` for locations).
    #[error("member `{member}` ({kind}): {message}")]
    Params {
        /// Member name.
        member: String,
        /// Its kind.
        kind: String,
        /// What is wrong.
        message: String,
    },
    /// The runtime could not be created.
    #[error(transparent)]
    Federation(#[from] FederationError),
}

/// The member kinds this build knows.
#[derive(Clone, Copy, Debug, Default)]
pub struct Catalog;

type Check = fn(&toml::Table) -> Result<(), Vec<ParamIssue>>;
type Make = fn(&toml::Table) -> Result<Box<dyn Member>, Vec<ParamIssue>>;

/// One member kind: its name, default time mode, parameter check and constructor.
struct Kind {
    name: &'static str,
    time: twin_scenario::TimeMode,
    check: Check,
    make: Make,
}

fn boxed<M: Member + 'static, P: serde::de::DeserializeOwned>(
    t: &toml::Table,
    new: fn(P) -> M,
) -> Result<Box<dyn Member>, Vec<ParamIssue>> {
    Ok(Box::new(new(parse_params(t)?)))
}

const KINDS: &[Kind] = {
    use twin_scenario::TimeMode::{Event, None as Untimed, Stepped};
    &[
        Kind {
            name: "moving-points",
            time: Stepped,
            check: demo::points::Params::check,
            make: |t| boxed(t, demo::points::MovingPoints::new),
        },
        Kind {
            name: "event-ticker",
            time: Event,
            check: demo::ticker::Params::check,
            make: |t| boxed(t, demo::ticker::Ticker::new),
        },
        Kind {
            name: "recorder",
            time: Stepped,
            check: demo::recorder::Params::check,
            make: |t| boxed(t, demo::recorder::Recorder::new),
        },
        Kind {
            name: "logger",
            time: Untimed,
            check: demo::logger::Params::check,
            make: |t| boxed(t, demo::logger::Logger::new),
        },
        Kind {
            name: "network",
            time: Stepped,
            check: net::Params::check,
            make: |t| boxed(t, net::Network::new),
        },
        Kind {
            name: "brain",
            time: Stepped,
            check: brain::Params::check,
            make: |t| boxed(t, brain::Brain::new),
        },
        Kind {
            name: "seizure-controller",
            time: Stepped,
            check: seizure::Params::check,
            make: |t| boxed(t, seizure::SeizureController::new),
        },
        Kind {
            name: "assistant",
            time: Untimed,
            check: assistant::Params::check,
            make: |t| boxed(t, assistant::Assistant::new),
        },
    ]
};

fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

impl KindCatalog for Catalog {
    fn kinds(&self) -> Vec<&'static str> {
        KINDS.iter().map(|k| k.name).collect()
    }

    fn default_time(&self, name: &str) -> Option<twin_scenario::TimeMode> {
        kind(name).map(|k| k.time)
    }

    fn check_params(&self, name: &str, params: &toml::Table) -> Result<(), Vec<ParamIssue>> {
        match kind(name) {
            Some(k) => (k.check)(params),
            None => Err(vec![ParamIssue::table(format!("unknown kind `{name}`"))]),
        }
    }
}

fn make_member(spec: &twin_scenario::MemberSpec) -> Result<Box<dyn Member>, Vec<ParamIssue>> {
    match kind(&spec.kind) {
        Some(k) => (k.make)(&spec.params),
        None => Err(vec![ParamIssue::table(format!(
            "unknown kind `{}`",
            spec.kind
        ))]),
    }
}

/// Builds the federation a checked scenario describes, on `bus`.
pub fn build(scenario: &Scenario, bus: Bus, opts: BuildOptions) -> Result<Federation, BuildError> {
    let cfg = federation_config(scenario);
    let mut members = Vec::new();
    for m in &scenario.members {
        let (mode, member) = member_of(scenario, m)?;
        members.push(MemberSpec {
            name: m.name.clone(),
            mode,
            member,
            threaded: opts.threaded,
        });
    }
    Ok(Federation::new(bus, cfg, members)?)
}

/// The controller of a scenario's federation whose members run elsewhere
/// (`twin run --distributed`, or `twin member` on other hosts).
pub fn build_controller(scenario: &Scenario, bus: Bus) -> Result<Federation, BuildError> {
    let expected = scenario.members.iter().map(|m| m.name.clone()).collect();
    Ok(Federation::controller_only(
        bus,
        federation_config(scenario),
        expected,
    )?)
}

/// The driver of one member of a scenario (`twin member NAME`), on `bus`.
/// `None` if the scenario has no member of that name.
pub fn build_member(
    scenario: &Scenario,
    name: &str,
    bus: &Bus,
) -> Result<Option<twin_federation::MemberDriver>, BuildError> {
    let Some(m) = scenario.members.iter().find(|m| m.name == name) else {
        return Ok(None);
    };
    let cfg = federation_config(scenario);
    let (mode, member) = member_of(scenario, m)?;
    Ok(Some(twin_federation::MemberDriver::new(
        bus.participant(name),
        mode,
        member,
        cfg.epoch,
        cfg.seed,
        cfg.liveliness_lease,
    )?))
}

fn member_of(
    scenario: &Scenario,
    m: &twin_scenario::MemberSpec,
) -> Result<(TimeMode, Box<dyn twin_federation::Member>), BuildError> {
    let f = &scenario.federation;
    let member = make_member(m).map_err(|issues| BuildError::Params {
        member: m.name.clone(),
        kind: m.kind.clone(),
        message: issues
            .into_iter()
            .map(|i| i.message)
            .collect::<Vec<_>>()
            .join("; "),
    })?;
    let mode = match m.time_mode(&Catalog) {
        twin_scenario::TimeMode::Stepped => TimeMode::Stepped {
            dt: m.effective_dt(f),
        },
        twin_scenario::TimeMode::Event => TimeMode::Event {
            lookahead: m.lookahead,
        },
        twin_scenario::TimeMode::None => TimeMode::Untimed,
    };
    Ok((mode, member))
}

fn federation_config(scenario: &Scenario) -> FederationConfig {
    let f = &scenario.federation;
    FederationConfig {
        controller: ControllerConfig {
            name: f.name.clone(),
            end: twin_core::SimTime::ZERO + f.end,
            pacing: f.pacing,
            expected: Vec::new(),
            on_member_lost: match f.on_member_lost {
                MemberLostPolicy::Freeze => LostPolicy::Freeze,
                MemberLostPolicy::Drop => LostPolicy::Drop,
            },
            start_frozen: f.start == StartState::Frozen,
            status_every: Duration::from_millis(250),
            record_grants: false,
        },
        epoch: f.epoch,
        seed: f.seed,
        stall_warning: f.stall_warning.to_std(),
        progress_every: Duration::from_millis(100),
        liveliness_lease: f.liveliness_lease.to_std(),
    }
}
