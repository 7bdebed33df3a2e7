//! `event-ticker`: an event-driven member with Poisson events.
//!
//! Inter-event times are exponential with mean `mean_interval`, drawn
//! from the scenario seed; each event publishes a [`super::Tick`].

use serde::Deserialize;
use twin_bus::WriterQos;
use twin_core::{SimDuration, SimTime};
use twin_federation::{Ctx, Member, MemberError, Next, TimedWriter};
use twin_scenario::ParamIssue;

use super::{SplitMix, Tick, TICK_TOPIC};
use crate::params::{issues, parse_params};

/// Parameters of `event-ticker`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Mean time between events, > 0.
    pub mean_interval: SimDuration,
}

impl Params {
    pub(crate) fn check(t: &toml::Table) -> Result<(), Vec<ParamIssue>> {
        let p: Params = parse_params(t)?;
        let mut v = Vec::new();
        if p.mean_interval.is_zero() {
            v.push(ParamIssue::at("mean_interval", "mean_interval must be > 0"));
        }
        issues(v)
    }
}

/// The `event-ticker` member.
#[derive(Debug)]
pub struct Ticker {
    p: Params,
    rng: SplitMix,
    n: u64,
    next: SimTime,
    writer: Option<TimedWriter<Tick>>,
}

impl Ticker {
    /// A member with these parameters.
    pub fn new(p: Params) -> Self {
        Ticker {
            p,
            rng: SplitMix::new(0, 0),
            n: 0,
            next: SimTime::ZERO,
            writer: None,
        }
    }

    fn draw(&mut self, from: SimTime) -> SimTime {
        let u = self.rng.uniform();
        let gap = -(1.0 - u).ln() * self.p.mean_interval.as_secs_f64();
        let gap = SimDuration::from_secs_f64(gap)
            .unwrap_or(self.p.mean_interval)
            .max(SimDuration::from_nanos(1));
        from.saturating_add(gap)
    }
}

impl Member for Ticker {
    fn init(&mut self, ctx: &mut Ctx) -> Result<(), MemberError> {
        self.rng = SplitMix::new(ctx.seed(), 0x7469_636b);
        // Transient-local so a late-joining recorder still matches (it asks for history).
        let qos = WriterQos::default()
            .reliable()
            .keep_last(1)
            .transient_local();
        self.writer = Some(ctx.writer(TICK_TOPIC, qos)?);
        self.next = self.draw(SimTime::ZERO);
        Ok(())
    }

    fn advance(&mut self, ctx: &mut Ctx, to: SimTime) -> Result<Next, MemberError> {
        if to >= self.next {
            self.n += 1;
            let w = self.writer.as_ref().expect("init creates the writer");
            w.write(ctx, Tick { n: self.n })?;
            self.next = self.draw(to);
        }
        Ok(Next::At(self.next))
    }
}
