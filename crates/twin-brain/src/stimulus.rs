//! Region stimuli: a temporal pattern times a spatial weight per region.
//!
//! A stimulus adds `s_i(t) = w_i · f(t)` to the derivative of the stimulated
//! state variables of region `i`; the integrators add it as `dt · s` (TVB's
//! `StimuliRegion` with a `TemporalApplicableEquation`, see
//! `tvb/datatypes/patterns.py` and `tvb/datatypes/equations.py`). This is the
//! basis of DBS- or TMS-like interventions: a pulse train at one or a few
//! sites, or a recorded waveform replayed through a [`Temporal::Table`].
//!
//! # Time origin
//!
//! As in TVB, `t` is measured from the first step of the run: the first step
//! the simulator takes after it is built sees `f(0)`, step `k` of the run sees
//! `f(k · dt)` \[ms\]. (TVB evaluates the pattern on `numpy.r_[0:length:dt]`
//! and indexes it with `step − (current_step + 1)`.)
//!
//! # Temporal patterns (TVB's equations, same parameter names, time in ms)
//!
//! | kind | `f(t)` | TVB defaults |
//! |---|---|---|
//! | `PulseTrain` | `amp` if `t > onset` and `((t − onset) mod T) < tau`, else 0 | T 42, tau 13, amp 1, onset 30 |
//! | `Sinusoid` | `amp · sin(2π · frequency · t)` (frequency in kHz = 1/ms) | amp 1, frequency 0.01 |
//! | `Cosine` | `amp · cos(2π · frequency · t)` | amp 1, frequency 0.01 |
//! | `Linear` | `a · t + b` | a 1, b 0 |
//! | `Gaussian` | `amp · exp(−(t − midpoint)² / (2 σ²)) + offset` | amp 1, sigma 1, midpoint 0, offset 0 |
//! | `Alpha` | `αβ/(β − α) · (e^{−α(t−onset)} − e^{−β(t−onset)})` for `t > onset`, else 0 | onset 0.5, alpha 13, beta 42 |
//! | `Table` | samples `(times_ms, values)`, linear or step interpolation, 0 outside | – |
//!
//! `mod` is numexpr's `x − floor(x / T) · T`, and every expression is evaluated
//! in numexpr's order, so that patterns match TVB's to the last bit.
//!
//! # Spatial weights
//!
//! Exactly one of: `weights` (one value per region), `regions` (indices) or
//! `labels` (region labels), the latter two with a common `weight` (default 1).
//! The stimulated state variables default to the model's coupling variables
//! (TVB's `stvar`); `variables` names others. Several stimuli add up (TVB
//! takes one).

use serde::{Deserialize, Serialize};

use crate::{connectome::Connectome, error::BrainError};

/// Interpolation between the samples of a [`Temporal::Table`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interpolation {
    /// Straight lines between samples.
    #[default]
    Linear,
    /// Each sample holds until the next one (zero-order hold).
    Step,
}

/// A temporal pattern `f(t)`, `t` in ms from the start of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum Temporal {
    /// Rectangular pulses of width `tau` every `T` ms from `onset`.
    PulseTrain {
        /// Repetition period \[ms\].
        #[serde(rename = "T", default = "d42")]
        period: f64,
        /// Pulse width \[ms\].
        #[serde(rename = "tau", default = "d13")]
        width: f64,
        /// Amplitude (model units per ms).
        #[serde(default = "d1")]
        amp: f64,
        /// Time of the first pulse \[ms\].
        #[serde(default = "d30")]
        onset: f64,
    },
    /// `amp · sin(2π f t)`.
    Sinusoid {
        /// Amplitude.
        #[serde(default = "d1")]
        amp: f64,
        /// Frequency \[kHz\] (cycles per ms).
        #[serde(default = "d001")]
        frequency: f64,
    },
    /// `amp · cos(2π f t)`.
    Cosine {
        /// Amplitude.
        #[serde(default = "d1")]
        amp: f64,
        /// Frequency \[kHz\] (cycles per ms).
        #[serde(default = "d001")]
        frequency: f64,
    },
    /// `a · t + b`.
    Linear {
        /// Slope \[1/ms\].
        #[serde(default = "d1")]
        a: f64,
        /// Offset.
        #[serde(default)]
        b: f64,
    },
    /// `amp · exp(−(t − midpoint)² / (2σ²)) + offset`.
    Gaussian {
        /// Amplitude.
        #[serde(default = "d1")]
        amp: f64,
        /// Width σ \[ms\].
        #[serde(default = "d1")]
        sigma: f64,
        /// Centre \[ms\].
        #[serde(default)]
        midpoint: f64,
        /// Offset.
        #[serde(default)]
        offset: f64,
    },
    /// Difference of exponentials starting at `onset`.
    Alpha {
        /// Start \[ms\].
        #[serde(default = "d05")]
        onset: f64,
        /// Rate α \[1/ms\].
        #[serde(default = "d13")]
        alpha: f64,
        /// Rate β \[1/ms\].
        #[serde(default = "d42")]
        beta: f64,
    },
    /// An arbitrary waveform given by samples; zero before the first and after
    /// the last sample time.
    Table {
        /// Sample times \[ms\], strictly increasing.
        times_ms: Vec<f64>,
        /// Values at those times.
        values: Vec<f64>,
        /// Interpolation between samples.
        #[serde(default)]
        interpolation: Interpolation,
    },
}

fn d1() -> f64 {
    1.0
}
fn d13() -> f64 {
    13.0
}
fn d30() -> f64 {
    30.0
}
fn d42() -> f64 {
    42.0
}
fn d001() -> f64 {
    0.01
}
fn d05() -> f64 {
    0.5
}

/// TVB writes `6.283185307179586`, the same double.
const TWO_PI: f64 = std::f64::consts::TAU;

impl Temporal {
    /// TVB's `PulseTrain` with its defaults changed as given.
    pub fn pulse_train(period_ms: f64, width_ms: f64, amp: f64, onset_ms: f64) -> Self {
        Temporal::PulseTrain {
            period: period_ms,
            width: width_ms,
            amp,
            onset: onset_ms,
        }
    }

    /// `amp · sin(2π f t)` with `f` in Hz (converted to TVB's kHz).
    pub fn sinusoid_hz(amp: f64, hz: f64) -> Self {
        Temporal::Sinusoid {
            amp,
            frequency: hz / 1000.0,
        }
    }

    /// `f(t)`, `t` in ms from the start of the run.
    pub fn eval(&self, t: f64) -> f64 {
        match *self {
            Temporal::PulseTrain {
                period,
                width,
                amp,
                onset,
            } => {
                let x = t - onset;
                let m = x - (x / period).floor() * period;
                if t > onset && m < width {
                    amp
                } else {
                    0.0
                }
            }
            Temporal::Sinusoid { amp, frequency } => amp * (TWO_PI * frequency * t).sin(),
            Temporal::Cosine { amp, frequency } => amp * (TWO_PI * frequency * t).cos(),
            Temporal::Linear { a, b } => a * t + b,
            Temporal::Gaussian {
                amp,
                sigma,
                midpoint,
                offset,
            } => {
                let d = t - midpoint;
                amp * (-(d * d / (2.0 * (sigma * sigma)))).exp() + offset
            }
            Temporal::Alpha { onset, alpha, beta } => {
                let x = t - onset;
                if x > 0.0 {
                    alpha * beta / (beta - alpha) * ((-alpha * x).exp() - (-beta * x).exp())
                } else {
                    0.0 * t
                }
            }
            Temporal::Table {
                ref times_ms,
                ref values,
                interpolation,
            } => table_eval(times_ms, values, interpolation, t),
        }
    }

    /// Checks parameters (finite, positive periods, a well-formed table).
    pub fn validate(&self) -> Result<(), String> {
        let finite = |name: &str, v: f64| {
            if v.is_finite() {
                Ok(())
            } else {
                Err(format!("`{name}` = {v} is not finite"))
            }
        };
        match self {
            Temporal::PulseTrain {
                period,
                width,
                amp,
                onset,
            } => {
                finite("T", *period)?;
                finite("tau", *width)?;
                finite("amp", *amp)?;
                finite("onset", *onset)?;
                if *period <= 0.0 {
                    return Err(format!("`T` = {period} ms must be positive"));
                }
                if *width < 0.0 {
                    return Err(format!("`tau` = {width} ms must not be negative"));
                }
            }
            Temporal::Sinusoid { amp, frequency } | Temporal::Cosine { amp, frequency } => {
                finite("amp", *amp)?;
                finite("frequency", *frequency)?;
            }
            Temporal::Linear { a, b } => {
                finite("a", *a)?;
                finite("b", *b)?;
            }
            Temporal::Gaussian {
                amp,
                sigma,
                midpoint,
                offset,
            } => {
                for (k, v) in [
                    ("amp", amp),
                    ("sigma", sigma),
                    ("midpoint", midpoint),
                    ("offset", offset),
                ] {
                    finite(k, *v)?;
                }
                if *sigma == 0.0 {
                    return Err("`sigma` must not be zero".into());
                }
            }
            Temporal::Alpha { onset, alpha, beta } => {
                for (k, v) in [("onset", onset), ("alpha", alpha), ("beta", beta)] {
                    finite(k, *v)?;
                }
                if alpha == beta {
                    return Err("`alpha` and `beta` must differ".into());
                }
            }
            Temporal::Table {
                times_ms, values, ..
            } => {
                if times_ms.is_empty() || times_ms.len() != values.len() {
                    return Err(format!(
                        "table needs as many `values` as `times_ms` (at least one); got {} and {}",
                        values.len(),
                        times_ms.len()
                    ));
                }
                for (k, (&t, &v)) in times_ms.iter().zip(values).enumerate() {
                    if !(t.is_finite() && v.is_finite()) {
                        return Err(format!("table entry {k} is not finite ({t} ms, {v})"));
                    }
                    if k > 0 && t <= times_ms[k - 1] {
                        return Err(format!(
                            "table times must increase strictly: entry {k} ({t} ms) follows {} ms",
                            times_ms[k - 1]
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

fn table_eval(times: &[f64], values: &[f64], interp: Interpolation, t: f64) -> f64 {
    let (Some(&first), Some(&last)) = (times.first(), times.last()) else {
        return 0.0;
    };
    if !(t >= first && t <= last) {
        return 0.0;
    }
    // Index of the last sample at or before t.
    let k = times.partition_point(|&x| x <= t) - 1;
    match interp {
        Interpolation::Step => values[k],
        Interpolation::Linear if k + 1 == times.len() => values[k],
        Interpolation::Linear => {
            let (t0, t1) = (times[k], times[k + 1]);
            values[k] + (values[k + 1] - values[k]) * ((t - t0) / (t1 - t0))
        }
    }
}

/// One region stimulus: a temporal pattern and where (and on what) it acts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionStimulus {
    /// The temporal pattern.
    pub temporal: Temporal,
    /// One weight per region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<Vec<f64>>,
    /// Stimulated regions, by index (with `weight`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regions: Option<Vec<usize>>,
    /// Stimulated regions, by label (with `weight`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    /// The weight of each region in `regions` or `labels` (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// Stimulated state variables (default: the model's coupling variables).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables: Option<Vec<String>>,
}

impl RegionStimulus {
    /// A stimulus with one weight per region.
    pub fn with_weights(temporal: Temporal, weights: Vec<f64>) -> Self {
        RegionStimulus {
            temporal,
            weights: Some(weights),
            regions: None,
            labels: None,
            weight: None,
            variables: None,
        }
    }

    /// A stimulus of `weight` at the given regions.
    pub fn at_regions(temporal: Temporal, regions: Vec<usize>, weight: f64) -> Self {
        RegionStimulus {
            temporal,
            weights: None,
            regions: Some(regions),
            labels: None,
            weight: Some(weight),
            variables: None,
        }
    }

    /// Drives the named state variables instead of the coupling variables.
    pub fn on_variables<S: Into<String>>(mut self, v: impl IntoIterator<Item = S>) -> Self {
        self.variables = Some(v.into_iter().map(Into::into).collect());
        self
    }

    /// Resolves weights and variables against a connectome and a model
    /// (`index` names the stimulus in errors).
    pub(crate) fn compile(
        &self,
        index: usize,
        conn: &Connectome,
        state_variables: &[&str],
        cvar: &[usize],
    ) -> Result<CompiledStimulus, BrainError> {
        let bad = |reason: String| BrainError::Invalid {
            what: "stimulus",
            reason: format!("stimulus {index}: {reason}"),
        };
        self.temporal.validate().map_err(bad)?;
        let n = conn.n_regions();
        let given = [
            self.weights.is_some(),
            self.regions.is_some(),
            self.labels.is_some(),
        ];
        if given.iter().filter(|&&g| g).count() != 1 {
            return Err(bad(
                "give exactly one of `weights`, `regions`, `labels`".into()
            ));
        }
        let common = self.weight.unwrap_or(1.0);
        if !common.is_finite() {
            return Err(bad(format!("`weight` = {common} is not finite")));
        }
        let weights = if let Some(w) = &self.weights {
            if self.weight.is_some() {
                return Err(bad(
                    "`weight` goes with `regions` or `labels`, not `weights`".into(),
                ));
            }
            if w.len() != n {
                return Err(bad(format!(
                    "`weights` has {} values, expected one per region ({n})",
                    w.len()
                )));
            }
            if let Some(k) = w.iter().position(|v| !v.is_finite()) {
                return Err(bad(format!("`weights` entry {k} is {}", w[k])));
            }
            w.clone()
        } else {
            let mut w = vec![0.0; n];
            if let Some(rs) = &self.regions {
                for &r in rs {
                    if r >= n {
                        return Err(bad(format!(
                            "region {r} is out of range (the connectome has {n} regions)"
                        )));
                    }
                    w[r] = common;
                }
            }
            if let Some(ls) = &self.labels {
                for l in ls {
                    let r = conn.labels().iter().position(|x| x == l).ok_or_else(|| {
                        bad(format!("no region labelled `{l}` in the connectome"))
                    })?;
                    w[r] = common;
                }
            }
            w
        };
        let svs = match &self.variables {
            None => cvar.to_vec(),
            Some(names) => names
                .iter()
                .map(|v| {
                    state_variables.iter().position(|s| s == v).ok_or_else(|| {
                        bad(format!(
                            "`{v}` is not a state variable ({})",
                            state_variables.join(", ")
                        ))
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(CompiledStimulus {
            temporal: self.temporal.clone(),
            weights,
            svs,
        })
    }
}

/// A stimulus resolved for one simulation.
#[derive(Debug, Clone)]
pub(crate) struct CompiledStimulus {
    temporal: Temporal,
    weights: Vec<f64>,
    svs: Vec<usize>,
}

impl CompiledStimulus {
    /// Adds this stimulus at time `t` \[ms\] to `out` (`nsv × n`).
    #[inline]
    pub(crate) fn add(&self, t: f64, out: &mut [f64], n: usize) {
        let f = self.temporal.eval(t);
        for &sv in &self.svs {
            for (o, &w) in out[sv * n..(sv + 1) * n].iter_mut().zip(&self.weights) {
                *o += w * f;
            }
        }
    }
}

#[cfg(test)]
mod tests;
