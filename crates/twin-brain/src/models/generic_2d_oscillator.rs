//! Generic 2D oscillator (Stefanescu & Jirsa; TVB's `Generic2dOscillator`).
//!
//! A planar system with a cubic `V`-nullcline and a quadratic `W`-nullcline that,
//! depending on its parameters, is excitable, bistable or oscillatory.
//!
//! # Equations (t in ms)
//!
//! ```text
//! dV/dt = d · τ · (α W − f V³ + e V² + g V + γ I + γ c)
//! dW/dt = d · (a + b V + c_ V² − β W) / τ
//! ```
//!
//! `c` is the long-range coupling input on `V` (the only coupling variable).
//! `V³` is computed as `(V·V)·V`, as TVB's Numba kernel does.
//!
//! # Parameters (TVB defaults)
//!
//! | name | default | TVB domain | meaning |
//! |---|---|---|---|
//! | `tau` | 1 | [1, 5] | time-scale hierarchy between V and W |
//! | `I` | 0 | [−5, 5] | baseline shift of the V-nullcline |
//! | `a` | −2 | [−5, 5] | vertical shift of the W-nullcline |
//! | `b` | −10 | [−20, 15] | linear slope of the W-nullcline |
//! | `c` | 0 | [−10, 10] | parabolic term of the W-nullcline |
//! | `d` | 0.02 | [0.0001, 1] | temporal scale factor |
//! | `e` | 3 | [−5, 5] | quadratic term of the V-nullcline |
//! | `f` | 1 | [−5, 5] | cubic term of the V-nullcline |
//! | `g` | 0 | [−5, 5] | linear term of the V-nullcline |
//! | `alpha` | 1 | [−5, 5] | constant in the V equation |
//! | `beta` | 1 | [−5, 5] | constant in the W equation |
//! | `gamma` | 1 | [−1, 1] | gain of the inputs |
//!
//! State ranges for random initial conditions: `V ∈ [−2, 4]`, `W ∈ [−6, 6]`.
//!
//! # References
//!
//! * Stefanescu R. A., Jirsa V. K. (2008). A low dimensional description of
//!   globally coupled heterogeneous neural networks of excitatory and inhibitory
//!   neurons. *PLoS Comput Biol* 4(11): e1000219.
//! * FitzHugh R. (1961). Impulses and physiological states in theoretical
//!   models of nerve membrane. *Biophysical Journal* 1: 445.
//! * Sanz Leon P. et al. (2013). The Virtual Brain: a simulator of primate brain
//!   network dynamics. *Front Neuroinform* 7:10.

use super::{impl_params, NeuralMass};
use crate::param::params;

params! {
    /// Parameters of [`Generic2dOscillator`] (see the module table).
    pub struct Generic2dOscillatorParams {
        /// Time-scale hierarchy τ.
        tau = 1.0,
        /// Baseline shift I.
        I = 0.0,
        /// W-nullcline shift a.
        a = -2.0,
        /// W-nullcline slope b.
        b = -10.0,
        /// W-nullcline parabolic term c.
        c = 0.0,
        /// Temporal scale factor d.
        d = 0.02,
        /// V-nullcline quadratic term e.
        e = 3.0,
        /// V-nullcline cubic term f.
        f = 1.0,
        /// V-nullcline linear term g.
        g = 0.0,
        /// Constant α of the V equation.
        alpha = 1.0,
        /// Constant β of the W equation.
        beta = 1.0,
        /// Input gain γ.
        gamma = 1.0,
    }
}

/// Generic 2D oscillator; state `(V, W)`, coupling variable `V`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Generic2dOscillator {
    /// Parameters.
    pub p: Generic2dOscillatorParams,
}

impl Generic2dOscillatorParams {
    /// Excitable regime (TVB's defaults; Stefanescu & Jirsa 2008, Fig. 1).
    pub fn excitable() -> Self {
        Self::default()
    }

    /// Limit-cycle regime used in TVB's tutorials ("oscillatory": a = −0.5, b = −15, c = 0, d = 0.02).
    pub fn oscillatory() -> Self {
        Self {
            a: (-0.5).into(),
            b: (-15.0).into(),
            ..Self::default()
        }
    }
}

impl NeuralMass for Generic2dOscillator {
    fn name(&self) -> &'static str {
        "Generic2dOscillator"
    }
    fn state_variables(&self) -> &'static [&'static str] {
        &["V", "W"]
    }
    fn cvar(&self) -> &'static [usize] {
        &[0]
    }
    fn state_variable_range(&self) -> &'static [(f64, f64)] {
        &[(-2.0, 4.0), (-6.0, 6.0)]
    }
    fn default_voi(&self) -> &'static [&'static str] {
        &["V"]
    }
    impl_params!();

    fn dfun(&self, x: &[f64], c: &[f64], n: usize, dx: &mut [f64]) {
        super::dispatch(self, x, c, n, dx)
    }
}

impl super::Rhs for Generic2dOscillator {
    #[inline(always)]
    fn rhs(&self, x: &[f64], c: &[f64], n: usize, dx: &mut [f64]) {
        let p = &self.p;
        let (v, w) = (&x[..n], &x[n..2 * n]);
        let c0 = &c[..n];
        let (dv, dw) = dx[..2 * n].split_at_mut(n);
        let (tau, i_, a, b, cc, d) = (
            p.tau.slice(n),
            p.I.slice(n),
            p.a.slice(n),
            p.b.slice(n),
            p.c.slice(n),
            p.d.slice(n),
        );
        let (e, f, g, al, be, ga) = (
            p.e.slice(n),
            p.f.slice(n),
            p.g.slice(n),
            p.alpha.slice(n),
            p.beta.slice(n),
            p.gamma.slice(n),
        );
        for k in 0..n {
            let vk = v[k];
            let v2 = vk * vk;
            let wk = w[k];
            dv[k] = d[k]
                * tau[k]
                * (al[k] * wk - f[k] * v2 * vk
                    + e[k] * v2
                    + g[k] * vk
                    + ga[k] * i_[k]
                    + ga[k] * c0[k]);
            dw[k] = d[k] * (a[k] + b[k] * vk + cc[k] * v2 - be[k] * wk) / tau[k];
        }
    }
}
