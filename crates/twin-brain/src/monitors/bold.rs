//! BOLD signal through the first-order Volterra kernel of the Balloon–Windkessel
//! model (TVB's `Bold` monitor with its default `FirstOrderVolterra` HRF).
//!
//! # Algorithm (as TVB)
//!
//! 1. Every step, the variables of interest go into an *interim stock* of
//!    `round(4 ms / dt)` slots; every 4 ms (0.25 kHz) its mean is written to the
//!    *stock*, a ring of `S = ceil(0.25 · hrf_length)` samples (5000 for 20 s).
//! 2. The kernel, sampled at `t_k = k · hrf_length / S` seconds, is
//!
//!    ```text
//!    G(t) = 1/3 · exp(−t / (2 τs)) · sin(ω t) / ω,   ω = sqrt(1/τf − 1/(4 τs²))
//!    ```
//!
//!    with τs = 0.8 s, τf = 0.4 s, and is stored reversed.
//! 3. Every period (default 2000 ms) the output is
//!    `(Σ_j hrf[(j − p) mod S] · stock[j] − 1) · k1 · V0`, where `p` is the
//!    newest stock slot, k1 = 5.6 and V0 = 0.02; time stamp `step · dt`.
//!
//! Memory is bounded by the stock (`S × n_voi × N` doubles, about 3 MB for 76
//! regions and one variable), whatever the length of the run.
//!
//! # References
//!
//! * Friston K. J., Mechelli A., Turner R., Price C. J. (2000). Nonlinear
//!   responses in fMRI: the Balloon model, Volterra kernels, and other
//!   hemodynamics. *NeuroImage* 12: 466–477.
//! * Buxton R. B., Frank L. R. (1997). A model for the coupling between cerebral
//!   blood flow and oxygen metabolism during neural stimulation. *J Cereb Blood
//!   Flow Metab* 17: 64–72.

use super::{istep, Monitor, MonitorContext, Sample};
use crate::error::BrainError;

/// Parameters of the first-order Volterra HRF kernel (TVB defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VolterraKernel {
    /// Exponential decay τs \[s\] (0.8).
    pub tau_s: f64,
    /// Oscillation parameter τf \[s\] (0.4).
    pub tau_f: f64,
    /// First Volterra kernel coefficient k1 (5.6).
    pub k_1: f64,
    /// Resting blood volume fraction V0 (0.02).
    pub v_0: f64,
}

impl Default for VolterraKernel {
    fn default() -> Self {
        VolterraKernel {
            tau_s: 0.8,
            tau_f: 0.4,
            k_1: 5.6,
            v_0: 0.02,
        }
    }
}

impl VolterraKernel {
    /// The kernel at time `t` \[s\].
    pub fn evaluate(&self, t: f64) -> f64 {
        let w = (1.0 / self.tau_f - 1.0 / (4.0 * self.tau_s * self.tau_s)).sqrt();
        1.0 / 3.0 * (-0.5 * (t / self.tau_s)).exp() * (w * t).sin() / w
    }
}

/// The BOLD monitor (see the module docs).
#[derive(Debug, Clone)]
pub struct Bold {
    period: f64,
    hrf_length: f64,
    kernel: VolterraKernel,
    voi: Option<Vec<usize>>,
    sel: Vec<usize>,
    names: Vec<String>,
    dt: f64,
    n: usize,
    istep: u64,
    interim_istep: u64,
    stock_steps: usize,
    /// Reversed kernel.
    hrf: Vec<f64>,
    interim: Vec<f64>,
    /// `stock[j * row + r]`, ring of `stock_steps` slots.
    stock: Vec<f64>,
    buf: Vec<f64>,
}

impl Bold {
    /// A BOLD monitor sampling every `period_ms` (TVB default 2000 ms, 20 s kernel).
    pub fn new(period_ms: f64) -> Self {
        Bold {
            period: period_ms,
            hrf_length: 20_000.0,
            kernel: VolterraKernel::default(),
            voi: None,
            sel: vec![],
            names: vec![],
            dt: 0.0,
            n: 0,
            istep: 1,
            interim_istep: 1,
            stock_steps: 0,
            hrf: vec![],
            interim: vec![],
            stock: vec![],
            buf: vec![],
        }
    }

    /// Sets the kernel length \[ms\] (TVB default 20 000).
    pub fn with_hrf_length(mut self, ms: f64) -> Self {
        self.hrf_length = ms;
        self
    }

    /// Sets the kernel parameters.
    pub fn with_kernel(mut self, k: VolterraKernel) -> Self {
        self.kernel = k;
        self
    }

    /// Restricts to some variables of interest.
    pub fn with_voi(mut self, voi: Vec<usize>) -> Self {
        self.voi = Some(voi);
        self
    }
}

impl Monitor for Bold {
    fn name(&self) -> &str {
        "bold"
    }

    fn configure(&mut self, ctx: &MonitorContext<'_>) -> Result<(), BrainError> {
        self.sel = super::select(&self.voi, ctx)?;
        self.names = super::names(&self.sel, ctx.voi);
        self.dt = ctx.dt;
        self.n = ctx.n_nodes;
        self.istep = istep(self.period, ctx.dt)?;
        let rate = 0.25; // samples per ms
        self.stock_steps = (rate * self.hrf_length).ceil() as usize;
        if self.stock_steps == 0 {
            return Err(BrainError::Invalid {
                what: "BOLD hrf_length",
                reason: format!("{} ms is too short", self.hrf_length),
            });
        }
        let t_max = self.hrf_length / 1000.0;
        let t_step = t_max / self.stock_steps as f64;
        // numpy.arange(0, t_max, t_step): k * t_step for k < ceil(t_max / t_step).
        let mut g: Vec<f64> = (0..self.stock_steps)
            .map(|k| self.kernel.evaluate(k as f64 * t_step))
            .collect();
        g.reverse();
        self.hrf = g;
        self.interim_istep = ((1.0 / rate) / ctx.dt).round_ties_even().max(1.0) as u64;
        let row = self.sel.len() * self.n;
        self.interim = vec![0.0; self.interim_istep as usize * row];
        self.stock = vec![0.0; self.stock_steps * row];
        self.buf = vec![0.0; row];
        Ok(())
    }

    fn record(&mut self, step: u64, observed: &[f64]) -> Option<Sample<'_>> {
        let n = self.n;
        let row = self.sel.len() * n;
        let ii = self.interim_istep as usize;
        let slot = ((step % self.interim_istep) as usize + ii - 1) % ii;
        for (r, &v) in self.sel.iter().enumerate() {
            self.interim[slot * row + r * n..slot * row + (r + 1) * n]
                .copy_from_slice(&observed[v * n..(v + 1) * n]);
        }
        let s = self.stock_steps;
        let newest = (((step / self.interim_istep) as usize % s) + s - 1) % s;
        if step.is_multiple_of(self.interim_istep) {
            let dst = newest * row;
            self.stock[dst..dst + row].copy_from_slice(&self.interim[..row]);
            for k in 1..ii {
                for q in 0..row {
                    self.stock[dst + q] += self.interim[k * row + q];
                }
            }
            for q in 0..row {
                self.stock[dst + q] /= ii as f64;
            }
        }
        if !step.is_multiple_of(self.istep) {
            return None;
        }
        let k1v0 = self.kernel.k_1 * self.kernel.v_0;
        self.buf.fill(0.0);
        for j in 0..s {
            let h = self.hrf[(j + s - newest) % s];
            let src = &self.stock[j * row..(j + 1) * row];
            for (b, &x) in self.buf.iter_mut().zip(src) {
                *b += h * x;
            }
        }
        for b in &mut self.buf {
            *b = (*b - 1.0) * k1v0;
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
