//! The brain member's own scheduled stimuli, published for displays.
//!
//! Stimuli from the scenario (`[[member.params.stimulus]]`) act inside the
//! simulator and never cross the bus, so a display cannot see them the way
//! it sees a [`crate::brain::BrainStimulus`]. The `brain` member therefore
//! tracks them step by step with a [`ScheduleTracker`] and publishes
//! [`ScheduledStimulus`] on [`SCHEDULED_TOPIC`] whenever a stimulus switches
//! on or off.
//!
//! Stimulus `k` drives region `i` with `w_ki · f_k(t)`, `t = (s − 1) · dt`
//! for step `s` of the run ([`twin_brain::stimulus`]). It is *on* in step `s`
//! when `f_k(t) ≠ 0`; an *onset* is a step in which some stimulus is on that
//! was off in the step before (the first step counts when a stimulus starts
//! on). The onset's time is the start of that step, `(s − 1) · dt`, i.e. the
//! simulation time at which the drive begins.

use serde::{Deserialize, Serialize};
use twin_brain::{stimulus::Temporal, Connectome, RegionStimulus};
use twin_bus::TopicType;
use twin_core::SimTime;

/// Topic of [`ScheduledStimulus`].
pub const SCHEDULED_TOPIC: &str = "twin/brain/stimulus/scheduled";
/// Onsets kept in a [`ScheduledStimulus`]: those of the last
/// [`ONSET_WINDOW_MS`], at most this many (the newest).
pub const MAX_ONSETS: usize = 128;
/// How far back a [`ScheduledStimulus`] lists onsets [ms of simulation time].
pub const ONSET_WINDOW_MS: f64 = 10_000.0;

/// The state of the scheduled stimuli at time `t`, with their recent onsets.
///
/// Shaped like [`crate::brain::BrainStimulus`] (`variable`, `amplitude`) so
/// that a display marks the stimulated regions the same way, plus the onset
/// times for markers on time axes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScheduledStimulus {
    /// Instance key: always `scheduled`.
    pub source: String,
    /// Simulation time of this state (the end of the last step scanned).
    pub t: SimTime,
    /// The stimulated state variables, comma-separated.
    pub variable: String,
    /// Per region: the summed weight of the stimuli on at `t` (0: not
    /// stimulated now). Multiply by `f(t)` for the drive.
    pub amplitude: Vec<f64>,
    /// Regions any scheduled stimulus can drive (non-zero weight).
    pub targets: Vec<u32>,
    /// Onset times, oldest first: those within [`ONSET_WINDOW_MS`] of `t`,
    /// at most [`MAX_ONSETS`].
    pub onsets: Vec<SimTime>,
    /// Onsets since the start of the run.
    pub onset_count: u64,
}

impl TopicType for ScheduledStimulus {
    const TYPE_NAME: &'static str = "twin::brain::ScheduledStimulus";
    const KEY_FIELDS: &'static [&'static str] = &["source"];
    type Key = String;
    fn key(&self) -> String {
        self.source.clone()
    }
}

/// One stimulus resolved to a weight per region.
#[derive(Debug)]
struct Resolved {
    temporal: Temporal,
    weights: Vec<f64>,
}

/// Follows the scheduled stimuli step by step and records onsets.
#[derive(Debug)]
pub struct ScheduleTracker {
    stimuli: Vec<Resolved>,
    variable: String,
    targets: Vec<u32>,
    dt_ms: f64,
    /// Which stimuli were on in the last step scanned.
    on: Vec<bool>,
    /// The last step scanned.
    step: u64,
    onsets: std::collections::VecDeque<SimTime>,
    onset_count: u64,
    changed: bool,
}

/// Weights of `s` per region; `None` if the stimulus names no known region
/// (the simulator builder has already refused such a stimulus).
fn weights(s: &RegionStimulus, conn: &Connectome) -> Option<Vec<f64>> {
    let n = conn.n_regions();
    if let Some(w) = &s.weights {
        return (w.len() == n).then(|| w.clone());
    }
    let mut w = vec![0.0; n];
    let common = s.weight.unwrap_or(1.0);
    for &r in s.regions.iter().flatten() {
        *w.get_mut(r)? = common;
    }
    for l in s.labels.iter().flatten() {
        let r = conn.labels().iter().position(|x| x == l)?;
        w[r] = common;
    }
    Some(w)
}

impl ScheduleTracker {
    /// A tracker of `stimuli` on `conn`, integrated with step `dt_ms`;
    /// `coupling_variables` names the variables driven when a stimulus names
    /// none. `None` when there are no scheduled stimuli.
    pub fn new(
        stimuli: &[RegionStimulus],
        conn: &Connectome,
        dt_ms: f64,
        coupling_variables: &[&str],
    ) -> Option<Self> {
        let resolved: Vec<Resolved> = stimuli
            .iter()
            .filter_map(|s| {
                Some(Resolved {
                    temporal: s.temporal.clone(),
                    weights: weights(s, conn)?,
                })
            })
            .collect();
        if resolved.is_empty() {
            return None;
        }
        let mut vars: Vec<String> = Vec::new();
        for s in stimuli {
            let names = match &s.variables {
                Some(v) => v.clone(),
                None => coupling_variables.iter().map(|v| v.to_string()).collect(),
            };
            for v in names {
                if !vars.contains(&v) {
                    vars.push(v);
                }
            }
        }
        let targets = (0..conn.n_regions())
            .filter(|&i| resolved.iter().any(|r| r.weights[i] != 0.0))
            .map(|i| i as u32)
            .collect();
        Some(ScheduleTracker {
            on: vec![false; resolved.len()],
            stimuli: resolved,
            variable: vars.join(","),
            targets,
            dt_ms,
            step: 0,
            onsets: Default::default(),
            onset_count: 0,
            changed: true,
        })
    }

    fn time(&self, step: u64) -> SimTime {
        SimTime::from_nanos((step as f64 * self.dt_ms * 1e6).round() as u64)
    }

    /// Scans the steps after the last one scanned up to `step` (the
    /// simulator's current step).
    pub fn scan_to(&mut self, step: u64) {
        while self.step < step {
            let s = self.step + 1;
            let t_ms = (s - 1) as f64 * self.dt_ms;
            let mut onset = false;
            for (k, r) in self.stimuli.iter().enumerate() {
                let on = r.temporal.eval(t_ms) != 0.0;
                if on != self.on[k] {
                    self.changed = true;
                    onset |= on;
                    self.on[k] = on;
                }
            }
            if onset {
                self.onset_count += 1;
                self.onsets.push_back(self.time(s - 1));
                if self.onsets.len() > MAX_ONSETS {
                    self.onsets.pop_front();
                }
            }
            self.step = s;
        }
    }

    /// The state after the last step scanned, if anything switched on or off
    /// since the last call (or it was never taken).
    pub fn take_changed(&mut self) -> Option<ScheduledStimulus> {
        if !std::mem::take(&mut self.changed) {
            return None;
        }
        let t = self.time(self.step);
        let window = (ONSET_WINDOW_MS * 1e6) as u64;
        while self
            .onsets
            .front()
            .is_some_and(|o| o.as_nanos() + window < t.as_nanos())
        {
            self.onsets.pop_front();
        }
        let n = self.stimuli[0].weights.len();
        let mut amplitude = vec![0.0; n];
        for (r, _) in self.stimuli.iter().zip(&self.on).filter(|(_, &on)| on) {
            for (a, w) in amplitude.iter_mut().zip(&r.weights) {
                *a += w;
            }
        }
        Some(ScheduledStimulus {
            source: "scheduled".into(),
            t,
            variable: self.variable.clone(),
            amplitude,
            targets: self.targets.clone(),
            onsets: self.onsets.iter().copied().collect(),
            onset_count: self.onset_count,
        })
    }
}

#[cfg(test)]
mod tests {
    use twin_brain::{models::model_by_name, SimulatorBuilder};

    use super::*;

    /// The tracker's on/off state agrees with the stimulus the simulator
    /// itself applies in every step, and onsets fall on the steps where the
    /// simulator's stimulus becomes non-zero.
    #[test]
    fn onsets_match_the_simulators_own_stimulus() {
        let conn = crate::brain::synthetic_connectome(6, 3);
        let model = model_by_name("Epileptor2D").unwrap();
        let cvar: Vec<&str> = model
            .cvar()
            .iter()
            .map(|&k| model.state_variables()[k])
            .collect();
        let dt = 0.1;
        let st =
            RegionStimulus::at_regions(Temporal::pulse_train(5.0, 1.5, 2.0, 2.0), vec![1, 4], 0.5);
        let mut tr = ScheduleTracker::new(std::slice::from_ref(&st), &conn, dt, &cvar).unwrap();
        assert_eq!(tr.targets, [1, 4]);
        let sim = SimulatorBuilder::new(conn, model_by_name("Epileptor2D").unwrap())
            .dt(dt)
            .stimulus(st)
            .build()
            .unwrap();
        let mut expected = Vec::new();
        let mut was_on = false;
        for s in 1..=300u64 {
            let drive = sim.stimulus_at(s).unwrap();
            let on = drive.iter().any(|&x| x != 0.0);
            if on && !was_on {
                expected.push(SimTime::from_nanos(
                    ((s - 1) as f64 * dt * 1e6).round() as u64
                ));
            }
            was_on = on;
            tr.scan_to(s);
            let state = tr.take_changed();
            if let Some(state) = &state {
                assert_eq!(state.amplitude[1] != 0.0, on, "step {s}");
                assert_eq!(state.amplitude[0], 0.0);
            }
        }
        // 30 ms of 5 ms pulses from 2 ms: onsets at 2, 7, …, 27 ms.
        assert_eq!(expected.len(), 6, "{expected:?}");
        let last = {
            tr.changed = true;
            tr.take_changed().unwrap()
        };
        assert_eq!(last.onsets, expected);
        assert_eq!(last.onset_count, 6);
        assert_eq!(last.variable, cvar.join(","));
    }

    #[test]
    fn no_tracker_without_stimuli_and_onsets_are_bounded() {
        let conn = crate::brain::synthetic_connectome(4, 1);
        assert!(ScheduleTracker::new(&[], &conn, 0.1, &["x1"]).is_none());
        let st =
            RegionStimulus::at_regions(Temporal::pulse_train(1.0, 0.5, 1.0, 0.0), vec![0], 1.0);
        let mut tr = ScheduleTracker::new(&[st], &conn, 0.1, &["x1"]).unwrap();
        tr.scan_to(10 * (MAX_ONSETS as u64 + 20));
        let s = tr.take_changed().unwrap();
        assert_eq!(s.onsets.len(), MAX_ONSETS);
        assert_eq!(s.onset_count, MAX_ONSETS as u64 + 20);
        assert!(tr.take_changed().is_none(), "nothing changed since");
    }
}
