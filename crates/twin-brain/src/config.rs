//! A serialisable description of a whole simulation (what `twin brain simulate
//! CONFIG` reads), and its conversion into a [`Simulator`].
//!
//! The structure maps one-to-one onto TVB's simulator attributes. In TOML:
//!
//! ```toml
//! connectome = "connectivity_76.zip"   # zip archive or directory, relative to the config
//! speed = 4.0                           # mm/ms
//! dt = 0.05                             # ms
//! duration_ms = 1000.0
//! integrator = "Heun"                   # Euler | Heun | Rk4
//! voi = ["x2 - x1", "z"]
//!
//! [model]
//! name = "Epileptor"
//! params = { Ks = -0.2, r = 0.00015, x0 = -2.2 }   # scalars or one value per region
//!
//! [coupling]
//! kind = "Difference"
//! a = 1.0
//!
//! [noise]                               # optional: makes the integrator stochastic
//! nsig = [0.0, 0.0, 0.0, 0.0003, 0.0003, 0.0]
//! seed = 42
//! generator = "numpy"                   # TVB's stream (default) or "fast": not TVB's numbers
//!
//! [[monitors]]
//! kind = "TemporalAverage"
//! period = 1.0
//!
//! [[stimulus]]                          # optional, repeatable: they add up
//! temporal = { kind = "PulseTrain", T = 7.7, tau = 0.2, amp = 2.0, onset = 100.0 }
//! regions = [62]                        # or weights = [...] / labels = ["rHC"]
//! ```
//!
//! Parsing the text is left to the caller (any serde format); this module only
//! validates and assembles.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

use crate::{
    connectome::{parse_matrix_text, Connectome},
    coupling::Coupling,
    error::BrainError,
    integrator::Scheme,
    models::{model_by_name, set_param, MODEL_NAMES},
    monitors::{
        Bold, GainModel, Mask, Monitor, Projection, Raw, SpatialAverage, SubSample, TemporalAverage,
    },
    noise::Noise,
    npy::read_npy,
    param::Param,
    simulator::{InitialConditions, Simulator, SimulatorBuilder},
    stimulus::RegionStimulus,
};

/// The model: TVB class name and parameter overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// TVB class name (see [`MODEL_NAMES`]).
    pub name: String,
    /// Parameters that differ from TVB's defaults.
    #[serde(default)]
    pub params: BTreeMap<String, Param>,
}

/// Initial conditions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum InitialConfig {
    /// TVB's random initial history (see [`InitialConditions::Random`]).
    Random {
        /// Seed used when there is no noise.
        #[serde(default = "default_seed")]
        seed: u32,
    },
    /// One state (`nsv × N`) in every history slot.
    Constant {
        /// The state, state-variable-major.
        state: Vec<f64>,
    },
}

fn default_seed() -> u32 {
    42
}

impl Default for InitialConfig {
    fn default() -> Self {
        InitialConfig::Random { seed: 42 }
    }
}

/// A monitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum MonitorConfig {
    /// Every step.
    Raw,
    /// Every `period` ms.
    SubSample {
        /// Period \[ms\].
        period: f64,
    },
    /// Mean over each `period` ms.
    TemporalAverage {
        /// Period \[ms\].
        period: f64,
    },
    /// Mean over region groups: `"hemispheres"`, `"cortical"` or explicit indices.
    SpatialAverage {
        /// Period \[ms\].
        period: f64,
        /// `"hemispheres"` or `"cortical"`, unless `groups` is given.
        #[serde(default)]
        mask: Option<String>,
        /// Group index per region.
        #[serde(default)]
        groups: Option<Vec<usize>>,
    },
    /// BOLD through the Balloon–Windkessel Volterra kernel.
    Bold {
        /// Period \[ms\] (TVB default 2000).
        #[serde(default = "default_bold_period")]
        period: f64,
        /// Kernel length \[ms\] (TVB default 20 000).
        #[serde(default)]
        hrf_length: Option<f64>,
    },
    /// Sensor projection (EEG/MEG/SEEG): a gain matrix file (`.npy` or text,
    /// sensors × regions), or sensor positions (`label x y z` per line, TVB's
    /// sensors format) with a gain model `"inverse_square"` or `"dipole"`.
    Projection {
        /// Output name (`"seeg"`, `"eeg"`, …).
        name: String,
        /// Period \[ms\].
        period: f64,
        /// Gain matrix file.
        #[serde(default)]
        gain: Option<PathBuf>,
        /// Sensor positions file.
        #[serde(default)]
        sensors: Option<PathBuf>,
        /// Gain model for `sensors` (default `"inverse_square"`).
        #[serde(default)]
        gain_model: Option<String>,
    },
}

fn default_bold_period() -> f64 {
    2000.0
}

/// A whole simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationConfig {
    /// Connectome archive or directory (relative to the config's folder).
    pub connectome: PathBuf,
    /// The neural mass model.
    pub model: ModelConfig,
    /// Coupling function (TVB default Linear a = 2⁻⁸).
    #[serde(default = "default_coupling")]
    pub coupling: Coupling,
    /// Conduction speed \[mm/ms\] (TVB default 3).
    #[serde(default = "default_speed")]
    pub speed: f64,
    /// Integration step \[ms\] (TVB default 0.01220703125).
    #[serde(default = "default_dt")]
    pub dt: f64,
    /// Integration scheme (default Heun).
    #[serde(default = "default_scheme")]
    pub integrator: Scheme,
    /// Additive noise, if any.
    #[serde(default)]
    pub noise: Option<Noise>,
    /// Initial conditions (default TVB's random history, seed 42).
    #[serde(default)]
    pub initial: InitialConfig,
    /// Variables of interest (default: the model's).
    #[serde(default)]
    pub voi: Option<Vec<String>>,
    /// Monitors.
    #[serde(default)]
    pub monitors: Vec<MonitorConfig>,
    /// Region stimuli (`[[stimulus]]` tables in TOML); they add up.
    #[serde(default)]
    pub stimulus: Vec<RegionStimulus>,
    /// Simulated time \[ms\].
    pub duration_ms: f64,
}

fn default_coupling() -> Coupling {
    Coupling::Linear {
        a: 0.00390625,
        b: 0.0,
    }
}

fn default_speed() -> f64 {
    3.0
}

fn default_dt() -> f64 {
    0.01220703125
}

fn default_scheme() -> Scheme {
    Scheme::Heun
}

fn invalid(reason: String) -> BrainError {
    BrainError::Invalid {
        what: "simulation config",
        reason,
    }
}

/// Reads `label x y z` sensor positions (or `x y z`).
fn read_sensors(path: &Path) -> Result<Vec<[f64; 3]>, BrainError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| crate::error::ConnectomeError::io(path, e))?;
    let numeric: String = text
        .lines()
        .map(|l| {
            let toks: Vec<&str> = l.split_whitespace().collect();
            let start = usize::from(toks.len() > 3);
            toks.get(start..(start + 3).min(toks.len()))
                .unwrap_or(&[])
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let m = parse_matrix_text(&numeric, &path.display().to_string())?;
    Ok(m.values
        .chunks_exact(3)
        .map(|c| [c[0], c[1], c[2]])
        .collect())
}

impl MonitorConfig {
    fn build(&self, base: &Path) -> Result<Box<dyn Monitor>, BrainError> {
        Ok(match self {
            MonitorConfig::Raw => Box::new(Raw::new()),
            MonitorConfig::SubSample { period } => Box::new(SubSample::new(*period)),
            MonitorConfig::TemporalAverage { period } => Box::new(TemporalAverage::new(*period)),
            MonitorConfig::SpatialAverage {
                period,
                mask,
                groups,
            } => {
                let mask = match (groups, mask.as_deref()) {
                    (Some(g), _) => Mask::Explicit(g.clone()),
                    (None, Some("hemispheres") | None) => Mask::Hemispheres,
                    (None, Some("cortical")) => Mask::Cortical,
                    (None, Some(other)) => {
                        return Err(invalid(format!("unknown spatial mask `{other}`")))
                    }
                };
                Box::new(SpatialAverage::new(*period, mask))
            }
            MonitorConfig::Bold { period, hrf_length } => {
                let b = Bold::new(*period);
                Box::new(match hrf_length {
                    Some(l) => b.with_hrf_length(*l),
                    None => b,
                })
            }
            MonitorConfig::Projection {
                name,
                period,
                gain,
                sensors,
                gain_model,
            } => match (gain, sensors) {
                (Some(g), None) => {
                    let p = base.join(g);
                    let (rows, data) = if p.extension().is_some_and(|e| e == "npy") {
                        let a = read_npy(&p)?;
                        let rows = a.shape.first().copied().unwrap_or(0);
                        (
                            rows,
                            a.to_f64()
                                .ok_or_else(|| invalid("gain must be numeric".into()))?,
                        )
                    } else {
                        let text = std::fs::read_to_string(&p)
                            .map_err(|e| crate::error::ConnectomeError::io(&p, e))?;
                        let m = parse_matrix_text(&text, &p.display().to_string())?;
                        (m.rows, m.values)
                    };
                    Box::new(Projection::from_gain(name, *period, rows, data))
                }
                (None, Some(s)) => {
                    let model = match gain_model.as_deref() {
                        None | Some("inverse_square") => GainModel::InverseSquare,
                        Some("dipole") => GainModel::Dipole { sigma: 1.0 },
                        Some(other) => {
                            return Err(invalid(format!("unknown gain model `{other}`")))
                        }
                    };
                    Box::new(Projection::from_sensors(
                        name,
                        *period,
                        read_sensors(&base.join(s))?,
                        model,
                    ))
                }
                _ => {
                    return Err(invalid(format!(
                        "projection `{name}` needs exactly one of `gain`, `sensors`"
                    )))
                }
            },
        })
    }
}

impl SimulationConfig {
    /// Loads the connectome (paths relative to `base`) and builds the simulator.
    pub fn build(&self, base: &Path) -> Result<Simulator, BrainError> {
        let connectome = Connectome::from_path(base.join(&self.connectome))?;
        self.build_with(connectome, base)
    }

    /// Builds the simulator on an already loaded connectome.
    pub fn build_with(&self, connectome: Connectome, base: &Path) -> Result<Simulator, BrainError> {
        let mut model = model_by_name(&self.model.name).ok_or_else(|| {
            invalid(format!(
                "unknown model `{}`; known: {}",
                self.model.name,
                MODEL_NAMES.join(", ")
            ))
        })?;
        for (name, p) in &self.model.params {
            set_param(model.as_mut(), name, p.values().to_vec())?;
        }
        if !(self.duration_ms.is_finite() && self.duration_ms >= 0.0) {
            return Err(invalid(format!(
                "duration_ms = {} is not a non-negative number",
                self.duration_ms
            )));
        }
        let mut b = SimulatorBuilder::new(connectome, model)
            .coupling(self.coupling)
            .speed(self.speed)
            .dt(self.dt)
            .scheme(self.integrator)
            .initial(match &self.initial {
                InitialConfig::Random { seed } => InitialConditions::Random { seed: *seed },
                InitialConfig::Constant { state } => InitialConditions::Constant(state.clone()),
            });
        if let Some(nz) = &self.noise {
            b = b.noise(nz.clone());
        }
        if let Some(v) = &self.voi {
            b = b.voi(v.iter().cloned());
        }
        for m in &self.monitors {
            b = b.boxed_monitor(m.build(base)?);
        }
        for s in &self.stimulus {
            b = b.stimulus(s.clone());
        }
        b.build()
    }

    /// Number of steps for `duration_ms` (`ceil(duration / dt)`, as TVB).
    pub fn n_steps(&self) -> u64 {
        (self.duration_ms / self.dt).ceil().max(0.0) as u64
    }
}

#[cfg(test)]
mod tests;
