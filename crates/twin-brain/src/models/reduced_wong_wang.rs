//! Reduced Wong–Wang model (Deco et al. 2013; TVB's `ReducedWongWang`).
//!
//! A one-variable mean-field reduction of a spiking network with NMDA synapses;
//! `S` is the fraction of open NMDA channels. Widely used for resting-state
//! fMRI modelling with the BOLD monitor.
//!
//! # Equations (t in ms)
//!
//! ```text
//! x     = w J_N S + I_o + J_N c
//! H(x)  = (a x − b) / (1 − exp(−d (a x − b)))
//! dS/dt = −S / τ_s + (1 − S) H(x) γ
//! ```
//!
//! `S` is bounded to [0, 1] after every integration stage (TVB's
//! `state_variable_boundaries`).
//!
//! # Parameters (TVB defaults)
//!
//! | name | default | unit | meaning |
//! |---|---|---|---|
//! | `a` | 0.27 | n/C | input–output slope |
//! | `b` | 0.108 | kHz | input–output threshold |
//! | `d` | 154 | ms | input–output curvature |
//! | `gamma` | 0.641 | | kinetic parameter |
//! | `tau_s` | 100 | ms | NMDA decay time |
//! | `w` | 0.6 | | recurrent excitation weight |
//! | `J_N` | 0.2609 | nA | excitatory recurrent coupling |
//! | `I_o` | 0.33 | nA | external input |
//! | `sigma_noise` | 1e−9 | nA | noise amplitude (documentation; noise is set on the integrator) |
//!
//! State range for initial conditions: S [0, 1].
//!
//! # References
//!
//! * Deco G., Ponce-Alvarez A., Mantini D., Romani G. L., Hagmann P., Corbetta M.
//!   (2013). Resting-state functional connectivity emerges from structurally and
//!   dynamically shaped slow linear fluctuations. *J Neurosci* 33: 11239–11252.
//! * Wong K.-F., Wang X.-J. (2006). A recurrent network mechanism of time
//!   integration in perceptual decisions. *J Neurosci* 26: 1314–1328.

use super::{impl_params, Bound, NeuralMass};
use crate::param::params;

params! {
    /// Parameters of [`ReducedWongWang`] (see the module table).
    pub struct ReducedWongWangParams {
        /// Input–output slope a.
        a = 0.27,
        /// Input–output threshold b.
        b = 0.108,
        /// Input–output curvature d.
        d = 154.0,
        /// Kinetic parameter γ.
        gamma = 0.641,
        /// NMDA decay time τ_s \[ms\].
        tau_s = 100.0,
        /// Recurrent excitation weight w.
        w = 0.6,
        /// Excitatory recurrent coupling J_N \[nA\].
        J_N = 0.2609,
        /// External input I_o \[nA\].
        I_o = 0.33,
        /// Noise amplitude (documentation only).
        sigma_noise = 1e-9,
    }
}

/// Reduced Wong–Wang; state `S` ∈ [0, 1], coupling variable `S`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReducedWongWang {
    /// Parameters.
    pub p: ReducedWongWangParams,
}

impl NeuralMass for ReducedWongWang {
    fn name(&self) -> &'static str {
        "ReducedWongWang"
    }
    fn state_variables(&self) -> &'static [&'static str] {
        &["S"]
    }
    fn cvar(&self) -> &'static [usize] {
        &[0]
    }
    fn state_variable_range(&self) -> &'static [(f64, f64)] {
        &[(0.0, 1.0)]
    }
    fn boundaries(&self) -> &'static [Bound] {
        &[Bound {
            sv: 0,
            lo: Some(0.0),
            hi: Some(1.0),
        }]
    }
    fn default_voi(&self) -> &'static [&'static str] {
        &["S"]
    }
    impl_params!();

    fn dfun(&self, x: &[f64], c: &[f64], n: usize, dx: &mut [f64]) {
        super::dispatch(self, x, c, n, dx)
    }
}

impl super::Rhs for ReducedWongWang {
    #[inline(always)]
    fn rhs(&self, x: &[f64], c: &[f64], n: usize, dx: &mut [f64]) {
        let p = &self.p;
        let (a, b, d, g, ts) = (p.a.s(), p.b.s(), p.d.s(), p.gamma.s(), p.tau_s.s());
        let (w, jn, io) = (p.w.s(), p.J_N.s(), p.I_o.s());
        for i in 0..n {
            let s = x[i];
            let xx = w[i] * jn[i] * s + io[i] + jn[i] * c[i];
            let h = (a[i] * xx - b[i]) / (1.0 - (-d[i] * (a[i] * xx - b[i])).exp());
            dx[i] = -(s / ts[i]) + (1.0 - s) * h * g[i];
        }
    }
}
