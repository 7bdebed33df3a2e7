//! Montbrió–Pazó–Roxin mean field of quadratic integrate-and-fire neurons
//! (Montbrió, Pazó & Roxin 2015; TVB's `MontbrioPazoRoxin`).
//!
//! The exact (Ott–Antonsen) reduction of an infinite all-to-all network of QIF
//! neurons with Lorentzian-distributed excitabilities: `r` is the population
//! firing rate and `V` the mean membrane potential.
//!
//! # Equations (t in ms)
//!
//! ```text
//! dr/dt = (Δ / (π τ) + 2 V r) / τ
//! dV/dt = (V² − π² τ² r² + η + J τ r + I + cr·c_r + cv·c_V) / τ
//! ```
//!
//! Coupling variables `r` (→ `c_r`) and `V` (→ `c_V`); `r` is bounded below by 0.
//! With `cv = 0` in every region (the default) and a Linear, Scaling or
//! Difference coupling, `V` is neither kept in the delay history nor coupled
//! (`NeuralMass::unused_coupling_terms`): `c_V` is passed as 0.
//!
//! # Parameters (TVB defaults)
//!
//! | name | default | meaning |
//! |---|---|---|
//! | `tau` | 1 | characteristic time |
//! | `I` | 0 | external current |
//! | `Delta` | 1 | half-width of the excitability distribution |
//! | `J` | 15 | mean synaptic weight |
//! | `eta` | −5 | mean excitability |
//! | `Gamma` | 0 | half-width of synaptic weight distribution (unused, as in TVB) |
//! | `cr` | 1 | gain of the rate coupling |
//! | `cv` | 0 | gain of the voltage coupling |
//!
//! State ranges: r [0, 2], V [−2, 1.5].
//!
//! # References
//!
//! * Montbrió E., Pazó D., Roxin A. (2015). Macroscopic description for networks
//!   of spiking neurons. *Phys Rev X* 5: 021028.
//! * Rabuffo G., Fousek J., Bernard C., Jirsa V. (2021). Neuronal cascades shape
//!   whole-brain functional dynamics at rest. *eNeuro* 8(5).

use std::f64::consts::PI;

use super::{impl_params, Bound, NeuralMass};
use crate::param::params;

params! {
    /// Parameters of [`MontbrioPazoRoxin`] (see the module table).
    pub struct MontbrioPazoRoxinParams {
        /// Characteristic time τ.
        tau = 1.0,
        /// External current I.
        I = 0.0,
        /// Excitability half-width Δ.
        Delta = 1.0,
        /// Mean synaptic weight J.
        J = 15.0,
        /// Mean excitability η.
        eta = -5.0,
        /// Synaptic weight half-width Γ (unused).
        Gamma = 0.0,
        /// Rate coupling gain.
        cr = 1.0,
        /// Voltage coupling gain.
        cv = 0.0,
    }
}

/// Montbrió–Pazó–Roxin; state `(r, V)`, coupling variables `r`, `V`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MontbrioPazoRoxin {
    /// Parameters.
    pub p: MontbrioPazoRoxinParams,
}

impl NeuralMass for MontbrioPazoRoxin {
    fn name(&self) -> &'static str {
        "MontbrioPazoRoxin"
    }
    fn state_variables(&self) -> &'static [&'static str] {
        &["r", "V"]
    }
    fn cvar(&self) -> &'static [usize] {
        &[0, 1]
    }
    fn state_variable_range(&self) -> &'static [(f64, f64)] {
        &[(0.0, 2.0), (-2.0, 1.5)]
    }
    fn boundaries(&self) -> &'static [Bound] {
        &[Bound {
            sv: 0,
            lo: Some(0.0),
            hi: None,
        }]
    }
    fn default_voi(&self) -> &'static [&'static str] {
        &["r", "V"]
    }
    impl_params!();

    fn dfun(&self, x: &[f64], c: &[f64], n: usize, dx: &mut [f64]) {
        super::dispatch(self, x, c, n, dx)
    }

    /// `c_V` (the last term) when `cv` is zero everywhere (its default).
    fn unused_coupling_terms(&self) -> usize {
        usize::from(self.p.cv.values().iter().all(|&g| g == 0.0))
    }
}

impl super::Rhs for MontbrioPazoRoxin {
    #[inline(always)]
    fn rhs(&self, x: &[f64], c: &[f64], n: usize, dx: &mut [f64]) {
        let p = &self.p;
        let (tau, i_, delta, j, eta) = (p.tau.s(), p.I.s(), p.Delta.s(), p.J.s(), p.eta.s());
        let (cr, cv) = (p.cr.s(), p.cv.s());
        let pi2 = PI * PI;
        for k in 0..n {
            let (r, v) = (x[k], x[n + k]);
            let t = tau[k];
            dx[k] = 1.0 / t * (delta[k] / (PI * t) + 2.0 * v * r);
            dx[n + k] = 1.0 / t
                * (v * v - pi2 * (t * t) * (r * r)
                    + eta[k]
                    + j[k] * t * r
                    + i_[k]
                    + cr[k] * c[k]
                    + cv[k] * c[n + k]);
        }
    }
}
