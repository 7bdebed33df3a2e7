//! `logger`: an untimed member that reacts to data as it arrives and logs
//! a progress line every `every` of simulation time (by sample stamps).

use serde::Deserialize;
use twin_bus::ReaderQos;
use twin_core::{SimDuration, SimTime};
use twin_federation::{Ctx, Member, MemberError, TimedReader};
use twin_scenario::ParamIssue;

use super::{PointPosition, Tick, POSITION_TOPIC, TICK_TOPIC};
use crate::params::{issues, parse_params};

/// Parameters of `logger`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Simulation time between log lines, > 0.
    pub every: SimDuration,
}

impl Params {
    pub(crate) fn check(t: &toml::Table) -> Result<(), Vec<ParamIssue>> {
        let p: Params = parse_params(t)?;
        issues(if p.every.is_zero() {
            vec![ParamIssue::at("every", "every must be > 0")]
        } else {
            vec![]
        })
    }
}

/// The `logger` member.
#[derive(Debug)]
pub struct Logger {
    p: Params,
    positions: Option<TimedReader<PointPosition>>,
    ticks: Option<TimedReader<Tick>>,
    counts: (u64, u64),
    next_line: SimTime,
}

impl Logger {
    /// A member with these parameters.
    pub fn new(p: Params) -> Self {
        Logger {
            next_line: SimTime::ZERO + p.every,
            p,
            positions: None,
            ticks: None,
            counts: (0, 0),
        }
    }
}

impl Member for Logger {
    fn init(&mut self, ctx: &mut Ctx) -> Result<(), MemberError> {
        let qos = ReaderQos::default().keep_all();
        self.positions = Some(ctx.reader(POSITION_TOPIC, qos.clone())?);
        self.ticks = Some(ctx.reader(TICK_TOPIC, qos)?);
        Ok(())
    }

    fn react(&mut self, ctx: &mut Ctx) -> Result<(), MemberError> {
        let mut latest = SimTime::ZERO;
        for s in self.positions.as_mut().expect("init").take(ctx) {
            self.counts.0 += 1;
            latest = latest.max(s.info.sim_time.unwrap_or_default());
        }
        for s in self.ticks.as_mut().expect("init").take(ctx) {
            self.counts.1 += 1;
            latest = latest.max(s.info.sim_time.unwrap_or_default());
        }
        if latest >= self.next_line {
            tracing::info!(
                t = %ctx.epoch().iso8601(latest),
                positions = self.counts.0,
                ticks = self.counts.1,
                "logger"
            );
            while self.next_line <= latest {
                self.next_line = self.next_line.saturating_add(self.p.every);
            }
        }
        Ok(())
    }
}
