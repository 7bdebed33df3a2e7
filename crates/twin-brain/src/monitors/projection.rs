//! Projection of region activity to sensors through a gain (lead-field) matrix:
//! EEG, MEG or SEEG (TVB's `Projection` monitors, region simulations).
//!
//! Every step `acc += G · x` for each variable of interest; every
//! `int(period / dt)` steps the sample is `acc / steps`, stamped at the middle of
//! the window, `(step − steps/2) · dt`, and the accumulator is reset.
//!
//! The gain `G` (sensors × regions) is given, or computed from sensor positions:
//!
//! * [`GainModel::Dipole`]: TVB's analytic iEEG gain, a point dipole in a
//!   homogeneous medium (Sarvas 1987, eq. 12),
//!   `V = Q · (r − r0) / |r − r0|³ / (4π σ)`, with the region centre `r0` and
//!   orientation `Q` (unit vector) and conductivity σ.
//! * [`GainModel::InverseSquare`]: `1 / |r − r0|²`, the distance model used by the
//!   virtual epileptic patient workflow for SEEG contacts.
//!
//! Observation noise is not added (TVB adds `sqrt(dt)·N(0,1)` by default; add
//! it downstream if wanted).

use super::{Monitor, MonitorContext, Sample};
use crate::error::BrainError;

/// How to compute a gain matrix from sensor positions.
#[derive(Debug, Clone, PartialEq)]
pub enum GainModel {
    /// Point dipole at each region centre along its orientation, conductivity σ.
    Dipole {
        /// Conductivity σ (TVB default 1).
        sigma: f64,
    },
    /// Inverse square distance between sensor and region centre.
    InverseSquare,
}

/// Where the gain comes from.
#[derive(Debug, Clone, PartialEq)]
enum GainSource {
    Given {
        rows: usize,
        data: Vec<f64>,
    },
    Sensors {
        positions: Vec<[f64; 3]>,
        model: GainModel,
    },
}

/// A sensor projection monitor (see the module docs).
#[derive(Debug, Clone)]
pub struct Projection {
    name: String,
    period: f64,
    source: GainSource,
    voi: Option<Vec<usize>>,
    sel: Vec<usize>,
    names: Vec<String>,
    gain: Vec<f64>,
    n_sensors: usize,
    n: usize,
    dt: f64,
    steps: u64,
    acc: Vec<f64>,
    buf: Vec<f64>,
}

impl Projection {
    fn with_source(name: &str, period_ms: f64, source: GainSource) -> Self {
        Projection {
            name: name.to_string(),
            period: period_ms,
            source,
            voi: None,
            sel: vec![],
            names: vec![],
            gain: vec![],
            n_sensors: 0,
            n: 0,
            dt: 0.0,
            steps: 1,
            acc: vec![],
            buf: vec![],
        }
    }

    /// A projection through a given gain, `n_sensors × N` row-major.
    pub fn from_gain(name: &str, period_ms: f64, n_sensors: usize, gain: Vec<f64>) -> Self {
        Self::with_source(
            name,
            period_ms,
            GainSource::Given {
                rows: n_sensors,
                data: gain,
            },
        )
    }

    /// A projection whose gain is computed from sensor positions \[mm\] and the
    /// connectome's centres (and orientations, for the dipole model).
    pub fn from_sensors(
        name: &str,
        period_ms: f64,
        positions: Vec<[f64; 3]>,
        model: GainModel,
    ) -> Self {
        Self::with_source(name, period_ms, GainSource::Sensors { positions, model })
    }

    /// Restricts to some variables of interest.
    pub fn with_voi(mut self, voi: Vec<usize>) -> Self {
        self.voi = Some(voi);
        self
    }

    /// The gain matrix in use (`n_sensors × N`), after configuration.
    pub fn gain(&self) -> &[f64] {
        &self.gain
    }
}

/// Computes a gain matrix (`sensors × regions`) from positions and centres.
pub fn compute_gain(
    positions: &[[f64; 3]],
    centres: &[[f64; 3]],
    orientations: Option<&[[f64; 3]]>,
    model: &GainModel,
) -> Result<Vec<f64>, BrainError> {
    let n = centres.len();
    let mut g = vec![0.0; positions.len() * n];
    for (s, p) in positions.iter().enumerate() {
        for (i, c) in centres.iter().enumerate() {
            let a = [p[0] - c[0], p[1] - c[1], p[2] - c[2]];
            let d2 = a[0] * a[0] + a[1] * a[1] + a[2] * a[2];
            let v = match model {
                GainModel::InverseSquare => 1.0 / d2,
                GainModel::Dipole { sigma } => {
                    let q = orientations.ok_or(BrainError::Invalid {
                        what: "dipole gain",
                        reason: "the connectome has no orientations".into(),
                    })?[i];
                    let na3 = d2.sqrt().powf(3.0);
                    (q[0] * (a[0] / na3) + q[1] * (a[1] / na3) + q[2] * (a[2] / na3))
                        / (4.0 * std::f64::consts::PI * sigma)
                }
            };
            // TVB zeroes non-finite gain entries (sensor on a centre).
            g[s * n + i] = if v.is_finite() { v } else { 0.0 };
        }
    }
    Ok(g)
}

impl Monitor for Projection {
    fn name(&self) -> &str {
        &self.name
    }

    fn configure(&mut self, ctx: &MonitorContext<'_>) -> Result<(), BrainError> {
        let n = ctx.n_nodes;
        let (rows, gain) = match &self.source {
            GainSource::Given { rows, data } => {
                if data.len() != rows * n {
                    return Err(BrainError::Shape {
                        what: "gain matrix",
                        expected: vec![*rows, n],
                        got: vec![*rows, data.len() / (*rows).max(1)],
                    });
                }
                (
                    *rows,
                    data.iter()
                        .map(|v| if v.is_finite() { *v } else { 0.0 })
                        .collect(),
                )
            }
            GainSource::Sensors { positions, model } => {
                let c = ctx.connectome;
                (
                    positions.len(),
                    compute_gain(positions, c.centres(), c.orientations(), model)?,
                )
            }
        };
        self.sel = super::select(&self.voi, ctx)?;
        self.names = super::names(&self.sel, ctx.voi);
        self.gain = gain;
        self.n_sensors = rows;
        self.n = n;
        self.dt = ctx.dt;
        let steps = (self.period / ctx.dt).trunc();
        if steps < 1.0 {
            return Err(BrainError::Invalid {
                what: "projection period",
                reason: format!("{} ms is shorter than one step", self.period),
            });
        }
        self.steps = steps as u64;
        self.acc = vec![0.0; rows * self.sel.len()];
        self.buf = vec![0.0; rows * self.sel.len()];
        Ok(())
    }

    fn record(&mut self, step: u64, observed: &[f64]) -> Option<Sample<'_>> {
        let (n, ns, nv) = (self.n, self.n_sensors, self.sel.len());
        // acc is (sensor, voi) like TVB's _state.
        for s in 0..ns {
            let g = &self.gain[s * n..(s + 1) * n];
            for (r, &v) in self.sel.iter().enumerate() {
                let x = &observed[v * n..(v + 1) * n];
                let dot: f64 = g.iter().zip(x).map(|(a, b)| a * b).sum();
                self.acc[s * nv + r] += dot;
            }
        }
        if !step.is_multiple_of(self.steps) {
            return None;
        }
        for s in 0..ns {
            for r in 0..nv {
                self.buf[r * ns + s] = self.acc[s * nv + r] / self.steps as f64;
            }
        }
        self.acc.fill(0.0);
        Some(Sample {
            step,
            time_ms: (step as f64 - self.steps as f64 / 2.0) * self.dt,
            data: &self.buf,
        })
    }

    fn shape(&self) -> (usize, usize) {
        (self.sel.len(), self.n_sensors)
    }

    fn period_ms(&self) -> f64 {
        self.steps as f64 * self.dt
    }

    fn row_names(&self) -> Vec<String> {
        self.names.clone()
    }
}
