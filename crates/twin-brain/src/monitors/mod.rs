//! Monitors: what a simulation records, and when.
//!
//! A monitor receives the variables of interest (`n_voi × N`, VOI-major) after
//! every step and now and then returns a [`Sample`]. Times follow TVB:
//! Raw, SubSample, SpatialAverage and BOLD stamp a sample with `step · dt`;
//! averaging monitors (TemporalAverage, projections) with the middle of their
//! window, `(step − istep/2) · dt`.
//!
//! | monitor | TVB class | output per sample |
//! |---|---|---|
//! | [`Raw`] | `Raw` | every VOI, every region, every step |
//! | [`SubSample`] | `SubSample` | every `period/dt`-th step |
//! | [`TemporalAverage`] | `TemporalAverage` | mean over each period |
//! | [`SpatialAverage`] | `SpatialAverage` | mean over groups of regions |
//! | [`Bold`] | `Bold` | HRF-convolved BOLD (Balloon–Windkessel Volterra kernel) |
//! | [`Projection`] | `EEG`/`MEG`/`iEEG` | `gain · state`, averaged over each period |

mod bold;
mod projection;

pub use bold::{Bold, VolterraKernel};
pub use projection::{compute_gain, GainModel, Projection};

use crate::{connectome::Connectome, error::BrainError};

/// What a monitor learns about the simulation when it is configured.
#[derive(Debug, Clone, Copy)]
pub struct MonitorContext<'a> {
    /// Integration step \[ms\].
    pub dt: f64,
    /// Number of regions.
    pub n_nodes: usize,
    /// Names of the variables of interest, in the order they are passed.
    pub voi: &'a [String],
    /// The connectome (centres, hemispheres, … for spatial monitors).
    pub connectome: &'a Connectome,
}

/// One monitor output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample<'a> {
    /// Step at which it was produced.
    pub step: u64,
    /// Time stamp \[ms\] (TVB's convention for this monitor).
    pub time_ms: f64,
    /// Values, `rows × cols` row-major (see [`Monitor::shape`]).
    pub data: &'a [f64],
}

/// A monitor; see the module docs.
pub trait Monitor: std::fmt::Debug + Send {
    /// A name for outputs and topics (`"raw"`, `"tavg"`, …).
    fn name(&self) -> &str;

    /// Checks and sizes the monitor for a simulation.
    fn configure(&mut self, ctx: &MonitorContext<'_>) -> Result<(), BrainError>;

    /// Records the observed variables of step `step`; returns a sample when due.
    fn record(&mut self, step: u64, observed: &[f64]) -> Option<Sample<'_>>;

    /// Shape of each sample, `(rows, cols)`: usually (variables, regions or sensors).
    fn shape(&self) -> (usize, usize);

    /// Sampling period \[ms\].
    fn period_ms(&self) -> f64;

    /// Names of the sample rows (variables).
    fn row_names(&self) -> Vec<String>;
}

/// Rounds `period / dt` to whole steps (TVB's `iround`); at least 1.
pub(crate) fn istep(period: f64, dt: f64) -> Result<u64, BrainError> {
    let k = (period / dt).round_ties_even();
    if !(k.is_finite() && k >= 1.0) {
        return Err(BrainError::Invalid {
            what: "monitor period",
            reason: format!("{period} ms is shorter than one step of {dt} ms"),
        });
    }
    Ok(k as u64)
}

/// Resolves a monitor's VOI selection (indices into the simulator's VOI list).
fn select(voi: &Option<Vec<usize>>, ctx: &MonitorContext<'_>) -> Result<Vec<usize>, BrainError> {
    let all = ctx.voi.len();
    let sel = voi.clone().unwrap_or_else(|| (0..all).collect());
    if let Some(&bad) = sel.iter().find(|&&k| k >= all) {
        return Err(BrainError::Invalid {
            what: "monitor variables of interest",
            reason: format!("index {bad} but the simulation observes only {all} variables"),
        });
    }
    Ok(sel)
}

fn names(sel: &[usize], voi: &[String]) -> Vec<String> {
    sel.iter().map(|&k| voi[k].clone()).collect()
}

/// Every variable of interest at every step (TVB `Raw`).
#[derive(Debug, Clone, Default)]
pub struct Raw {
    dt: f64,
    n: usize,
    names: Vec<String>,
    buf: Vec<f64>,
}

impl Raw {
    /// A raw monitor.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Monitor for Raw {
    fn name(&self) -> &str {
        "raw"
    }
    fn configure(&mut self, ctx: &MonitorContext<'_>) -> Result<(), BrainError> {
        self.dt = ctx.dt;
        self.n = ctx.n_nodes;
        self.names = ctx.voi.to_vec();
        Ok(())
    }
    fn record(&mut self, step: u64, observed: &[f64]) -> Option<Sample<'_>> {
        self.buf.clear();
        self.buf.extend_from_slice(observed);
        Some(Sample {
            step,
            time_ms: step as f64 * self.dt,
            data: &self.buf,
        })
    }
    fn shape(&self) -> (usize, usize) {
        (self.names.len(), self.n)
    }
    fn period_ms(&self) -> f64 {
        self.dt
    }
    fn row_names(&self) -> Vec<String> {
        self.names.clone()
    }
}

/// Every `period/dt`-th step (TVB `SubSample`; default period 0.9765625 ms = 1024 Hz).
#[derive(Debug, Clone)]
pub struct SubSample {
    period: f64,
    voi: Option<Vec<usize>>,
    sel: Vec<usize>,
    names: Vec<String>,
    istep: u64,
    dt: f64,
    n: usize,
    buf: Vec<f64>,
}

impl SubSample {
    /// Samples every `period` ms, all variables of interest.
    pub fn new(period_ms: f64) -> Self {
        SubSample {
            period: period_ms,
            voi: None,
            sel: vec![],
            names: vec![],
            istep: 1,
            dt: 0.0,
            n: 0,
            buf: vec![],
        }
    }

    /// Restricts to some variables of interest (indices into the simulator's VOI).
    pub fn with_voi(mut self, voi: Vec<usize>) -> Self {
        self.voi = Some(voi);
        self
    }
}

impl Monitor for SubSample {
    fn name(&self) -> &str {
        "subsample"
    }
    fn configure(&mut self, ctx: &MonitorContext<'_>) -> Result<(), BrainError> {
        self.sel = select(&self.voi, ctx)?;
        self.names = names(&self.sel, ctx.voi);
        self.istep = istep(self.period, ctx.dt)?;
        self.dt = ctx.dt;
        self.n = ctx.n_nodes;
        self.buf = vec![0.0; self.sel.len() * self.n];
        Ok(())
    }
    fn record(&mut self, step: u64, observed: &[f64]) -> Option<Sample<'_>> {
        if !step.is_multiple_of(self.istep) {
            return None;
        }
        let n = self.n;
        for (r, &k) in self.sel.iter().enumerate() {
            self.buf[r * n..(r + 1) * n].copy_from_slice(&observed[k * n..(k + 1) * n]);
        }
        Some(Sample {
            step,
            time_ms: step as f64 * self.dt,
            data: &self.buf,
        })
    }
    fn shape(&self) -> (usize, usize) {
        (self.sel.len(), self.n)
    }
    fn period_ms(&self) -> f64 {
        self.istep as f64 * self.dt
    }
    fn row_names(&self) -> Vec<String> {
        self.names.clone()
    }
}

/// Mean over each period (TVB `TemporalAverage`).
///
/// Like TVB it keeps `istep` slots and writes step `s` to slot `(s % istep) − 1`
/// (the last slot when `s % istep == 0`); the mean sums slots in order and
/// divides by `istep`. Slots not yet written at the first output hold zeros,
/// exactly as in TVB.
#[derive(Debug, Clone)]
pub struct TemporalAverage {
    period: f64,
    voi: Option<Vec<usize>>,
    sel: Vec<usize>,
    names: Vec<String>,
    istep: u64,
    dt: f64,
    n: usize,
    stock: Vec<f64>,
    buf: Vec<f64>,
}

impl TemporalAverage {
    /// Averages over `period` ms (TVB default 0.9765625 ms), all variables of interest.
    pub fn new(period_ms: f64) -> Self {
        TemporalAverage {
            period: period_ms,
            voi: None,
            sel: vec![],
            names: vec![],
            istep: 1,
            dt: 0.0,
            n: 0,
            stock: vec![],
            buf: vec![],
        }
    }

    /// Restricts to some variables of interest.
    pub fn with_voi(mut self, voi: Vec<usize>) -> Self {
        self.voi = Some(voi);
        self
    }
}

impl Monitor for TemporalAverage {
    fn name(&self) -> &str {
        "tavg"
    }
    fn configure(&mut self, ctx: &MonitorContext<'_>) -> Result<(), BrainError> {
        self.sel = select(&self.voi, ctx)?;
        self.names = names(&self.sel, ctx.voi);
        self.istep = istep(self.period, ctx.dt)?;
        self.dt = ctx.dt;
        self.n = ctx.n_nodes;
        let row = self.sel.len() * self.n;
        self.stock = vec![0.0; self.istep as usize * row];
        self.buf = vec![0.0; row];
        Ok(())
    }
    fn record(&mut self, step: u64, observed: &[f64]) -> Option<Sample<'_>> {
        let (n, k) = (self.n, self.istep as usize);
        let row = self.sel.len() * n;
        let slot = ((step % self.istep) as usize + k - 1) % k;
        for (r, &v) in self.sel.iter().enumerate() {
            self.stock[slot * row + r * n..slot * row + (r + 1) * n]
                .copy_from_slice(&observed[v * n..(v + 1) * n]);
        }
        if !step.is_multiple_of(self.istep) {
            return None;
        }
        self.buf.copy_from_slice(&self.stock[..row]);
        for s in 1..k {
            for (b, &x) in self.buf.iter_mut().zip(&self.stock[s * row..(s + 1) * row]) {
                *b += x;
            }
        }
        for b in &mut self.buf {
            *b /= k as f64;
        }
        Some(Sample {
            step,
            time_ms: (step as f64 - self.istep as f64 / 2.0) * self.dt,
            data: &self.buf,
        })
    }
    fn shape(&self) -> (usize, usize) {
        (self.sel.len(), self.n)
    }
    fn period_ms(&self) -> f64 {
        self.istep as f64 * self.dt
    }
    fn row_names(&self) -> Vec<String> {
        self.names.clone()
    }
}

/// Mean over groups of regions every period (TVB `SpatialAverage`).
#[derive(Debug, Clone)]
pub struct SpatialAverage {
    period: f64,
    mask: Mask,
    groups: Vec<usize>,
    counts: Vec<f64>,
    n_groups: usize,
    istep: u64,
    dt: f64,
    n: usize,
    n_voi: usize,
    names: Vec<String>,
    buf: Vec<f64>,
}

/// How regions are grouped by a [`SpatialAverage`].
#[derive(Debug, Clone, PartialEq)]
pub enum Mask {
    /// Group index per region; groups must be `0..k` without gaps.
    Explicit(Vec<usize>),
    /// Two groups from the connectome's hemisphere flags (left = 0, right = 1).
    Hemispheres,
    /// Two groups from the connectome's cortical flags (subcortical = 0, cortical = 1;
    /// one group when every region is cortical).
    Cortical,
}

impl SpatialAverage {
    /// Averages regions grouped by `mask`, sampled every `period` ms.
    pub fn new(period_ms: f64, mask: Mask) -> Self {
        SpatialAverage {
            period: period_ms,
            mask,
            groups: vec![],
            counts: vec![],
            n_groups: 0,
            istep: 1,
            dt: 0.0,
            n: 0,
            n_voi: 0,
            names: vec![],
            buf: vec![],
        }
    }
}

impl Monitor for SpatialAverage {
    fn name(&self) -> &str {
        "spatial_average"
    }
    fn configure(&mut self, ctx: &MonitorContext<'_>) -> Result<(), BrainError> {
        let n = ctx.n_nodes;
        // Flags become groups 0 (false) and 1 (true), or a single group 0 when all agree.
        let flags = |f: Option<&[bool]>, what: &'static str| {
            f.map(|v| {
                let both = v.contains(&true) && v.contains(&false);
                v.iter()
                    .map(|&b| usize::from(b && both))
                    .collect::<Vec<_>>()
            })
            .ok_or(BrainError::Invalid {
                what: "spatial average mask",
                reason: format!("the connectome has no {what} flags"),
            })
        };
        let groups = match &self.mask {
            Mask::Explicit(g) => g.clone(),
            Mask::Hemispheres => flags(ctx.connectome.hemispheres(), "hemisphere")?,
            Mask::Cortical => flags(ctx.connectome.cortical(), "cortical")?,
        };
        if groups.len() != n {
            return Err(BrainError::Shape {
                what: "spatial mask",
                expected: vec![n],
                got: vec![groups.len()],
            });
        }
        let k = groups.iter().copied().max().map_or(0, |m| m + 1);
        let mut counts = vec![0.0; k];
        for &g in &groups {
            counts[g] += 1.0;
        }
        if counts.contains(&0.0) {
            return Err(BrainError::Invalid {
                what: "spatial mask",
                reason: "groups must be numbered 0..k without gaps".into(),
            });
        }
        self.groups = groups;
        self.counts = counts;
        self.n_groups = k;
        self.istep = istep(self.period, ctx.dt)?;
        self.dt = ctx.dt;
        self.n = n;
        self.n_voi = ctx.voi.len();
        self.names = ctx.voi.to_vec();
        self.buf = vec![0.0; self.n_voi * k];
        Ok(())
    }
    fn record(&mut self, step: u64, observed: &[f64]) -> Option<Sample<'_>> {
        if !step.is_multiple_of(self.istep) {
            return None;
        }
        let (n, k) = (self.n, self.n_groups);
        self.buf.fill(0.0);
        for v in 0..self.n_voi {
            for i in 0..n {
                let g = self.groups[i];
                self.buf[v * k + g] += observed[v * n + i] / self.counts[g];
            }
        }
        Some(Sample {
            step,
            time_ms: step as f64 * self.dt,
            data: &self.buf,
        })
    }
    fn shape(&self) -> (usize, usize) {
        (self.n_voi, self.n_groups)
    }
    fn period_ms(&self) -> f64 {
        self.istep as f64 * self.dt
    }
    fn row_names(&self) -> Vec<String> {
        self.names.clone()
    }
}

#[cfg(test)]
mod tests;
