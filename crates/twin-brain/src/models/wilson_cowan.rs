//! Wilson–Cowan excitatory/inhibitory population model (Wilson & Cowan 1972;
//! TVB's `WilsonCowan`).
//!
//! # Equations (t in ms)
//!
//! ```text
//! x_e    = α_e (c_ee E − c_ei I + P − θ_e + c)
//! x_i    = α_i (c_ie E − c_ii I + Q − θ_i)
//! S_e    = c_e (1/(1 + exp(−a_e (x_e − b_e))) − 1/(1 + exp(a_e b_e)))   (shifted sigmoid)
//! S_i    = c_i (1/(1 + exp(−a_i (x_i − b_i))) − 1/(1 + exp(a_i b_i)))
//! τ_e dE/dt = −E + (k_e − r_e E) S_e
//! τ_i dI/dt = −I + (k_i − r_i I) S_i
//! ```
//!
//! With `shift_sigmoid = false` the sigmoids are `c / (1 + exp(−a (x − b)))`.
//! Coupling variables `E`, `I`; only the first coupling term (on `E`) enters.
//!
//! # Parameters (TVB defaults, from Wilson & Cowan 1972, Fig. 4)
//!
//! | name | default | meaning |
//! |---|---|---|
//! | `c_ee`, `c_ei`, `c_ie`, `c_ii` | 12, 4, 13, 11 | coupling coefficients |
//! | `tau_e`, `tau_i` | 10, 10 | membrane time constants \[ms\] |
//! | `a_e`, `b_e`, `c_e`, `theta_e` | 1.2, 2.8, 1, 0 | excitatory sigmoid |
//! | `a_i`, `b_i`, `c_i`, `theta_i` | 1, 4, 1, 0 | inhibitory sigmoid |
//! | `r_e`, `r_i` | 1, 1 | refractory periods |
//! | `k_e`, `k_i` | 1, 1 | maximum response |
//! | `P`, `Q` | 0, 0 | external inputs |
//! | `alpha_e`, `alpha_i` | 1, 1 | input scaling |
//!
//! State ranges: E [0, 1], I [0, 1].
//!
//! # References
//!
//! * Wilson H. R., Cowan J. D. (1972). Excitatory and inhibitory interactions in
//!   localized populations of model neurons. *Biophysical Journal* 12: 1–24.
//! * Daffertshofer A., van Wijk B. (2011). On the influence of amplitude on the
//!   connectivity between phases. *Front Neuroinform* 5: 6.

use super::{impl_params, NeuralMass};
use crate::param::params;

params! {
    /// Parameters of [`WilsonCowan`] (see the module table).
    pub struct WilsonCowanParams {
        /// E→E coupling.
        c_ee = 12.0,
        /// I→E coupling.
        c_ei = 4.0,
        /// E→I coupling.
        c_ie = 13.0,
        /// I→I coupling.
        c_ii = 11.0,
        /// Excitatory time constant \[ms\].
        tau_e = 10.0,
        /// Inhibitory time constant \[ms\].
        tau_i = 10.0,
        /// Excitatory sigmoid slope.
        a_e = 1.2,
        /// Excitatory sigmoid threshold.
        b_e = 2.8,
        /// Excitatory sigmoid amplitude.
        c_e = 1.0,
        /// Excitatory threshold θ_e.
        theta_e = 0.0,
        /// Inhibitory sigmoid slope.
        a_i = 1.0,
        /// Inhibitory sigmoid threshold.
        b_i = 4.0,
        /// Inhibitory threshold θ_i.
        theta_i = 0.0,
        /// Inhibitory sigmoid amplitude.
        c_i = 1.0,
        /// Excitatory refractory period.
        r_e = 1.0,
        /// Inhibitory refractory period.
        r_i = 1.0,
        /// Excitatory maximum response.
        k_e = 1.0,
        /// Inhibitory maximum response.
        k_i = 1.0,
        /// External input to E.
        P = 0.0,
        /// External input to I.
        Q = 0.0,
        /// Excitatory input scaling.
        alpha_e = 1.0,
        /// Inhibitory input scaling.
        alpha_i = 1.0,
    }
}

/// Wilson–Cowan; state `(E, I)`, coupling variables `E`, `I`.
#[derive(Debug, Clone, PartialEq)]
pub struct WilsonCowan {
    /// Parameters.
    pub p: WilsonCowanParams,
    /// Shift the sigmoids so that E = I = 0 is a rest state (TVB default: true).
    pub shift_sigmoid: bool,
}

impl Default for WilsonCowan {
    fn default() -> Self {
        WilsonCowan {
            p: WilsonCowanParams::default(),
            shift_sigmoid: true,
        }
    }
}

impl NeuralMass for WilsonCowan {
    fn name(&self) -> &'static str {
        "WilsonCowan"
    }
    fn state_variables(&self) -> &'static [&'static str] {
        &["E", "I"]
    }
    fn cvar(&self) -> &'static [usize] {
        &[0, 1]
    }
    fn state_variable_range(&self) -> &'static [(f64, f64)] {
        &[(0.0, 1.0), (0.0, 1.0)]
    }
    fn default_voi(&self) -> &'static [&'static str] {
        &["E"]
    }
    impl_params!();

    fn dfun(&self, x: &[f64], c: &[f64], n: usize, dx: &mut [f64]) {
        super::dispatch(self, x, c, n, dx)
    }
}

impl super::Rhs for WilsonCowan {
    #[inline(always)]
    fn rhs(&self, x: &[f64], c: &[f64], n: usize, dx: &mut [f64]) {
        let p = &self.p;
        for k in 0..n {
            let g = |q: &crate::param::Param| q.s()[k];
            let (e, i) = (x[k], x[n + k]);
            let x_e =
                g(&p.alpha_e) * (g(&p.c_ee) * e - g(&p.c_ei) * i + g(&p.P) - g(&p.theta_e) + c[k]);
            let x_i = g(&p.alpha_i) * (g(&p.c_ie) * e - g(&p.c_ii) * i + g(&p.Q) - g(&p.theta_i));
            let (a_e, b_e, a_i, b_i) = (g(&p.a_e), g(&p.b_e), g(&p.a_i), g(&p.b_i));
            let (s_e, s_i) = if self.shift_sigmoid {
                (
                    g(&p.c_e)
                        * (1.0 / (1.0 + (-a_e * (x_e - b_e)).exp())
                            - 1.0 / (1.0 + (-a_e * -b_e).exp())),
                    g(&p.c_i)
                        * (1.0 / (1.0 + (-a_i * (x_i - b_i)).exp())
                            - 1.0 / (1.0 + (-a_i * -b_i).exp())),
                )
            } else {
                (
                    g(&p.c_e) / (1.0 + (-a_e * (x_e - b_e)).exp()),
                    g(&p.c_i) / (1.0 + (-a_i * (x_i - b_i)).exp()),
                )
            };
            dx[k] = (-e + (g(&p.k_e) - g(&p.r_e) * e) * s_e) / g(&p.tau_e);
            dx[n + k] = (-i + (g(&p.k_i) - g(&p.r_i) * i) * s_i) / g(&p.tau_i);
        }
    }
}
