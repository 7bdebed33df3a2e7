//! Two-dimensional Epileptor (Proix et al. 2014; TVB's `Epileptor2D`), the
//! model of the virtual epileptic patient (VEP) workflow.
//!
//! The fast variables of population 1 are reduced to `x1` and the slow
//! permittivity `z` is kept; population 2 is dropped.
//!
//! # Equations (t in ms)
//!
//! ```text
//! dx1/dt = tt · (c − z + Iext + Kvf·c1 − F(x1, z) · x1)
//!     F  = a x1² + (d − b) x1                   if x1 < 0
//!        = −slope − 0.6 (z − 4)² + d x1         otherwise
//! dz/dt  = tt · r · (h − z + Ks·c1)
//!     h  = 4 (x1 − x0) + [−0.1 z⁷ if z < 0]        (modification = false)
//!     h  = x0 + 3 / (1 + exp(−(x1 + 0.5) / 0.1))   (modification = true)
//! ```
//!
//! With the defaults and x1 < 0: `dx1/dt = 1 − x1³ − 2 x1² − z + Iext`. Coupling
//! variable `x1`; the VEP's diffusive coupling `−K Σ_j C_ij (x1_j − x1_i)` in the
//! `z` equation is Difference coupling with `Ks = −K`. The bifurcation value of
//! `x0` is about −2.05 (epileptogenic above).
//!
//! # Parameters (TVB defaults)
//!
//! | name | default | meaning |
//! |---|---|---|
//! | `a`, `b`, `c`, `d` | 1, 3, 1, 5 | polynomial coefficients |
//! | `r` | 0.00035 | time-scale separation of `z` \[1/ms\] |
//! | `x0` | −1.6 | excitability |
//! | `Iext` | 3.1 | external input |
//! | `slope` | 0 | linear coefficient |
//! | `Kvf`, `Ks` | 0, 0 | coupling gains on x1 and z |
//! | `tt` | 1 | overall time scaling |
//!
//! State ranges: x1 [−2, 1], z [2, 5].
//!
//! # References
//!
//! * Proix T., Bartolomei F., Chauvel P., Bernard C., Jirsa V. K. (2014).
//!   Permittivity coupling across brain regions determines seizure recruitment
//!   in partial epilepsy. *J Neurosci* 34: 15009–15021.
//! * Jirsa V. K. et al. (2017). The Virtual Epileptic Patient: individualized
//!   whole-brain models of epilepsy spread. *NeuroImage* 145: 377–388.

use super::{impl_params, ipow, NeuralMass};
use crate::param::params;

params! {
    /// Parameters of [`Epileptor2D`] (see the module table).
    pub struct Epileptor2DParams {
        /// Coefficient a.
        a = 1.0,
        /// Coefficient b.
        b = 3.0,
        /// Coefficient c.
        c = 1.0,
        /// Coefficient d.
        d = 5.0,
        /// Slow time scale r \[1/ms\].
        r = 0.00035,
        /// Excitability x0.
        x0 = -1.6,
        /// External input.
        Iext = 3.1,
        /// Linear coefficient.
        slope = 0.0,
        /// Fast coupling gain on x1.
        Kvf = 0.0,
        /// Slow (permittivity) coupling gain on z.
        Ks = 0.0,
        /// Time scaling.
        tt = 1.0,
    }
}

/// The 2D Epileptor; state `(x1, z)`, coupling variable `x1`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Epileptor2D {
    /// Parameters.
    pub p: Epileptor2DParams,
    /// Use the sigmoidal `h` of the modified Epileptor.
    pub modification: bool,
}

impl NeuralMass for Epileptor2D {
    fn name(&self) -> &'static str {
        "Epileptor2D"
    }
    fn state_variables(&self) -> &'static [&'static str] {
        &["x1", "z"]
    }
    fn cvar(&self) -> &'static [usize] {
        &[0]
    }
    fn state_variable_range(&self) -> &'static [(f64, f64)] {
        &[(-2.0, 1.0), (2.0, 5.0)]
    }
    fn default_voi(&self) -> &'static [&'static str] {
        &["x1"]
    }
    impl_params!();

    fn dfun(&self, x: &[f64], c: &[f64], n: usize, dx: &mut [f64]) {
        super::dispatch(self, x, c, n, dx)
    }
}

impl super::Rhs for Epileptor2D {
    #[inline(always)]
    fn rhs(&self, x: &[f64], c: &[f64], n: usize, dx: &mut [f64]) {
        let p = &self.p;
        let (a, b, cc, d, r, x0) = (p.a.s(), p.b.s(), p.c.s(), p.d.s(), p.r.s(), p.x0.s());
        let (iext, slope, kvf, ks, tt) = (p.Iext.s(), p.slope.s(), p.Kvf.s(), p.Ks.s(), p.tt.s());
        for i in 0..n {
            let (x1, z, c1) = (x[i], x[n + i], c[i]);
            let f = if x1 < 0.0 {
                a[i] * ipow(x1, 2) + (d[i] - b[i]) * x1
            } else {
                -slope[i] - 0.6 * ipow(z - 4.0, 2) + d[i] * x1
            };
            dx[i] = tt[i] * (cc[i] - z + iext[i] + kvf[i] * c1 - f * x1);
            let zz = if z < 0.0 { -0.1 * ipow(z, 7) } else { 0.0 };
            let h = if self.modification {
                x0[i] + 3.0 / (1.0 + (-(x1 + 0.5) / 0.1).exp())
            } else {
                4.0 * (x1 - x0[i]) + zz
            };
            dx[n + i] = tt[i] * (r[i] * (h - z + ks[i] * c1));
        }
    }
}
