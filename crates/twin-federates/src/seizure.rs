//! `seizure-controller`: responsive (closed-loop) brain stimulation, the
//! adaptive-DBS / responsive-neurostimulation idea, as a federation member.
//!
//! It reads the brain member's monitor (`twin/brain/monitor/<monitor>`,
//! [`BrainSample`]), takes the row of one variable of interest (default `x1`,
//! the Epileptor's fast variable) and calls a region *seizing* while that
//! value is above `threshold`. Depending on `mode` it publishes
//! [`BrainStimulus`] on `twin/brain/stimulus`, which the brain applies from its
//! next step:
//!
//! * `off`: never stimulates (it still measures seizures);
//! * `open`: a fixed schedule regardless of the state: `amplitude` on every
//!   target region for `open_on_ms` out of every `open_period_ms`;
//! * `closed`: `amplitude` on exactly the regions detected as seizing in the
//!   latest sample, zero elsewhere; a new stimulus is published only when that
//!   set changes.
//!
//! A negative amplitude on `x1` pulls a seizing Epileptor back to its
//! interictal branch. The controller keeps [`SeizureStats`] (seizure episodes
//! per region, their mean duration, regions recruited), readable through
//! [`SeizureController::stats`] and logged at the end.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use twin_bus::ReaderQos;
use twin_core::SimTime;
use twin_federation::{Ctx, Member, MemberError, Next, TimedReader, TimedWriter};
use twin_scenario::ParamIssue;

use crate::brain::{
    stimulus_writer_qos, BrainSample, BrainStimulus, MONITOR_PREFIX, STIMULUS_TOPIC,
};
use crate::params::{issues, parse_params};

/// Stimulation policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// No stimulation.
    Off,
    /// A fixed duty cycle.
    Open,
    /// Stimulate the regions detected as seizing.
    Closed,
}

fn default_monitor() -> String {
    "tavg".into()
}
fn default_variable() -> String {
    "x1".into()
}
fn default_threshold() -> f64 {
    -0.5
}
fn default_amplitude() -> f64 {
    -1.0
}
fn default_period() -> f64 {
    4000.0
}
fn default_on() -> f64 {
    1000.0
}

/// Parameters of `seizure-controller`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Stimulation policy.
    pub mode: Mode,
    /// Monitor to read (topic `twin/brain/monitor/<monitor>`).
    #[serde(default = "default_monitor")]
    pub monitor: String,
    /// Variable of interest compared with the threshold, and stimulated.
    #[serde(default = "default_variable")]
    pub variable: String,
    /// Onset threshold (model units).
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// Stimulus amplitude (model units per ms).
    #[serde(default = "default_amplitude")]
    pub amplitude: f64,
    /// Open loop: period of the duty cycle [ms].
    #[serde(default = "default_period")]
    pub open_period_ms: f64,
    /// Open loop: stimulation time per period [ms].
    #[serde(default = "default_on")]
    pub open_on_ms: f64,
}

impl Params {
    pub(crate) fn check(t: &toml::Table) -> Result<(), Vec<ParamIssue>> {
        let p: Params = parse_params(t)?;
        let mut v = Vec::new();
        for (k, x) in [("threshold", p.threshold), ("amplitude", p.amplitude)] {
            if !x.is_finite() {
                v.push(ParamIssue::at(k, format!("{k} must be a finite number")));
            }
        }
        if !(p.open_period_ms.is_finite() && p.open_period_ms > 0.0) {
            v.push(ParamIssue::at(
                "open_period_ms",
                "open_period_ms must be positive",
            ));
        }
        if !(0.0..=p.open_period_ms).contains(&p.open_on_ms) {
            v.push(ParamIssue::at(
                "open_on_ms",
                "open_on_ms must be between 0 and open_period_ms",
            ));
        }
        issues(v)
    }
}

/// Seizure measurements of one run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SeizureStats {
    /// Monitor samples seen.
    pub samples: u64,
    /// Completed or running seizure episodes (all regions).
    pub episodes: u64,
    /// Total region-time spent seizing [ms].
    pub seizing_ms: f64,
    /// Regions that seized at least once.
    pub regions_recruited: usize,
    /// Stimuli published.
    pub stimuli: u64,
}

impl SeizureStats {
    /// Mean episode duration [ms] (0 without episodes).
    pub fn mean_duration_ms(&self) -> f64 {
        if self.episodes == 0 {
            0.0
        } else {
            self.seizing_ms / self.episodes as f64
        }
    }
}

/// The `seizure-controller` member.
#[derive(Debug)]
pub struct SeizureController {
    p: Params,
    r: Option<TimedReader<BrainSample>>,
    w: Option<TimedWriter<BrainStimulus>>,
    seizing: Vec<bool>,
    ever: Vec<bool>,
    last_t: Option<SimTime>,
    applied: Option<Vec<bool>>,
    stats: Arc<Mutex<SeizureStats>>,
}

impl SeizureController {
    /// A controller with these parameters.
    pub fn new(p: Params) -> Self {
        SeizureController {
            p,
            r: None,
            w: None,
            seizing: vec![],
            ever: vec![],
            last_t: None,
            applied: None,
            stats: Arc::default(),
        }
    }

    /// A shared handle on the measurements (updated as the run goes).
    pub fn stats(&self) -> Arc<Mutex<SeizureStats>> {
        Arc::clone(&self.stats)
    }

    fn observe(&mut self, s: &BrainSample) {
        let n = s.regions as usize;
        let Some(row) = s.voi.iter().position(|v| *v == self.p.variable) else {
            return;
        };
        if s.values.len() < (row + 1) * n {
            return;
        }
        if self.seizing.len() != n {
            self.seizing = vec![false; n];
            self.ever = vec![false; n];
        }
        let dt_ms = self
            .last_t
            .map(|t| (s.t - t).as_nanos() as f64 / 1e6)
            .unwrap_or(0.0);
        self.last_t = Some(s.t);
        let mut st = self.stats.lock().expect("stats lock");
        st.samples += 1;
        for i in 0..n {
            let now = f64::from(s.values[row * n + i]) > self.p.threshold;
            if now {
                st.seizing_ms += dt_ms;
                if !self.seizing[i] {
                    st.episodes += 1;
                }
                self.ever[i] = true;
            }
            self.seizing[i] = now;
        }
        st.regions_recruited = self.ever.iter().filter(|e| **e).count();
    }

    fn target(&self, to: SimTime) -> Option<Vec<bool>> {
        let n = self.seizing.len();
        match self.p.mode {
            Mode::Off => None,
            Mode::Closed => Some(self.seizing.clone()),
            Mode::Open => {
                let t_ms = to.as_nanos() as f64 / 1e6;
                let on = t_ms % self.p.open_period_ms < self.p.open_on_ms;
                Some(vec![on; n])
            }
        }
    }
}

impl Member for SeizureController {
    fn init(&mut self, ctx: &mut Ctx) -> Result<(), MemberError> {
        let topic = format!("{MONITOR_PREFIX}{}", self.p.monitor);
        self.r = Some(ctx.reader(
            &topic,
            ReaderQos::default().reliable().keep_all().transient_local(),
        )?);
        self.w = Some(ctx.writer(STIMULUS_TOPIC, stimulus_writer_qos())?);
        Ok(())
    }

    fn advance(&mut self, ctx: &mut Ctx, to: SimTime) -> Result<Next, MemberError> {
        let samples = self.r.as_mut().expect("init").take(ctx);
        for s in samples.into_iter().filter_map(|s| s.value) {
            self.observe(&s);
        }
        if self.seizing.is_empty() {
            return Ok(Next::Default);
        }
        if let Some(on) = self.target(to) {
            if self.applied.as_ref() != Some(&on) {
                let amplitude = on
                    .iter()
                    .map(|&b| if b { self.p.amplitude } else { 0.0 })
                    .collect();
                self.w.as_ref().expect("init").write(
                    ctx,
                    BrainStimulus {
                        variable: self.p.variable.clone(),
                        amplitude,
                    },
                )?;
                self.stats.lock().expect("stats lock").stimuli += 1;
                self.applied = Some(on);
            }
        }
        Ok(Next::Default)
    }

    fn finish(&mut self, _ctx: &mut Ctx) -> Result<(), MemberError> {
        let st = self.stats.lock().expect("stats lock");
        tracing::info!(
            mode = ?self.p.mode,
            episodes = st.episodes,
            mean_duration_ms = st.mean_duration_ms(),
            regions_recruited = st.regions_recruited,
            stimuli = st.stimuli,
            "seizure controller summary"
        );
        Ok(())
    }
}
