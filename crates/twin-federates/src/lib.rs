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
//! | `brain` | stepped | `twin/brain/monitor/tavg` ([`brain::BrainSample`]), `twin/brain/regions`; reads `twin/brain/stimulus` |

pub mod brain;
pub mod demo;
mod params;

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

const KINDS: [&str; 5] = [
    "moving-points",
    "event-ticker",
    "recorder",
    "logger",
    "brain",
];

impl KindCatalog for Catalog {
    fn kinds(&self) -> Vec<&'static str> {
        KINDS.to_vec()
    }

    fn default_time(&self, kind: &str) -> Option<twin_scenario::TimeMode> {
        use twin_scenario::TimeMode as T;
        match kind {
            "moving-points" | "recorder" | "brain" => Some(T::Stepped),
            "event-ticker" => Some(T::Event),
            "logger" => Some(T::None),
            _ => None,
        }
    }

    fn check_params(&self, kind: &str, params: &toml::Table) -> Result<(), Vec<ParamIssue>> {
        match kind {
            "moving-points" => demo::points::Params::check(params),
            "event-ticker" => demo::ticker::Params::check(params),
            "recorder" => demo::recorder::Params::check(params),
            "logger" => demo::logger::Params::check(params),
            "brain" => brain::Params::check(params),
            _ => Err(vec![ParamIssue::table(format!("unknown kind `{kind}`"))]),
        }
    }
}

fn make_member(spec: &twin_scenario::MemberSpec) -> Result<Box<dyn Member>, Vec<ParamIssue>> {
    Ok(match spec.kind.as_str() {
        "moving-points" => Box::new(demo::points::MovingPoints::new(parse_params(&spec.params)?)),
        "event-ticker" => Box::new(demo::ticker::Ticker::new(parse_params(&spec.params)?)),
        "recorder" => Box::new(demo::recorder::Recorder::new(parse_params(&spec.params)?)),
        "logger" => Box::new(demo::logger::Logger::new(parse_params(&spec.params)?)),
        "brain" => Box::new(brain::Brain::new(parse_params(&spec.params)?)),
        other => return Err(vec![ParamIssue::table(format!("unknown kind `{other}`"))]),
    })
}

/// Builds the federation a checked scenario describes, on `bus`.
pub fn build(scenario: &Scenario, bus: Bus, opts: BuildOptions) -> Result<Federation, BuildError> {
    let f = &scenario.federation;
    let cfg = FederationConfig {
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
    };
    let mut members = Vec::new();
    for m in &scenario.members {
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
        members.push(MemberSpec {
            name: m.name.clone(),
            mode,
            member,
            threaded: opts.threaded,
        });
    }
    Ok(Federation::new(bus, cfg, members)?)
}
