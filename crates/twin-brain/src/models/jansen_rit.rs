//! Jansen–Rit neural mass (Jansen & Rit 1995; TVB's `JansenRit`).
//!
//! A cortical column of pyramidal cells with excitatory and inhibitory
//! interneurons; the EEG-like output is the pyramidal membrane potential
//! `y1 − y2`.
//!
//! # Equations (t in ms)
//!
//! ```text
//! S(v)   = 2 ν_max / (1 + exp(r (v0 − v)))
//! dy0/dt = y3                dy3/dt = A a S(y1 − y2) − 2 a y3 − a² y0
//! dy1/dt = y4                dy4/dt = A a (μ + a2 J S(a1 J y0) + c) − 2 a y4 − a² y1
//! dy2/dt = y5                dy5/dt = B b a4 J S(a3 J y0) − 2 b y5 − b² y2
//! ```
//!
//! Coupling variables `y1`, `y2`; the model reads only the first coupling term
//! `c`, normally produced by [`Coupling::SigmoidalJansenRit`](crate::Coupling),
//! which applies the sigmoid to the delayed `y1 − y2`.
//!
//! # Parameters (TVB defaults)
//!
//! | name | default | unit | meaning |
//! |---|---|---|---|
//! | `A` | 3.25 | mV | maximum excitatory PSP |
//! | `B` | 22 | mV | maximum inhibitory PSP |
//! | `a` | 0.1 | 1/ms | excitatory time constant reciprocal |
//! | `b` | 0.05 | 1/ms | inhibitory time constant reciprocal |
//! | `v0` | 5.52 | mV | firing threshold |
//! | `nu_max` | 0.0025 | 1/ms | maximum firing rate |
//! | `r` | 0.56 | 1/mV | sigmoid steepness |
//! | `J` | 135 | | average number of synapses |
//! | `a_1`…`a_4` | 1, 0.8, 0.25, 0.25 | | connectivity fractions |
//! | `p_min`, `p_max` | 0.12, 0.32 | 1/ms | input range (documentation only) |
//! | `mu` | 0.22 | 1/ms | mean input |
//!
//! State ranges: y0 [−1, 1], y1 [−500, 500], y2 [−50, 50], y3 [−6, 6],
//! y4 [−20, 20], y5 [−500, 500].
//!
//! # References
//!
//! * Jansen B. H., Rit V. G. (1995). Electroencephalogram and visual evoked
//!   potential generation in a mathematical model of coupled cortical columns.
//!   *Biological Cybernetics* 73: 357–366.
//! * David O., Friston K. J. (2003). A neural mass model for MEG/EEG. *NeuroImage* 20: 1743–1755.

use super::{impl_params, ipow, NeuralMass};
use crate::param::params;

params! {
    /// Parameters of [`JansenRit`] (see the module table).
    pub struct JansenRitParams {
        /// Maximum excitatory PSP \[mV\].
        A = 3.25,
        /// Maximum inhibitory PSP \[mV\].
        B = 22.0,
        /// Excitatory rate constant \[1/ms\].
        a = 0.1,
        /// Inhibitory rate constant \[1/ms\].
        b = 0.05,
        /// Firing threshold \[mV\].
        v0 = 5.52,
        /// Maximum firing rate \[1/ms\].
        nu_max = 0.0025,
        /// Sigmoid steepness \[1/mV\].
        r = 0.56,
        /// Average number of synapses.
        J = 135.0,
        /// Pyramidal → excitatory interneuron fraction.
        a_1 = 1.0,
        /// Excitatory interneuron → pyramidal fraction.
        a_2 = 0.8,
        /// Pyramidal → inhibitory interneuron fraction.
        a_3 = 0.25,
        /// Inhibitory interneuron → pyramidal fraction.
        a_4 = 0.25,
        /// Minimum input \[1/ms\] (documentation).
        p_min = 0.12,
        /// Maximum input \[1/ms\] (documentation).
        p_max = 0.32,
        /// Mean input \[1/ms\].
        mu = 0.22,
    }
}

/// Jansen–Rit; state `y0…y5`, coupling variables `y1`, `y2`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JansenRit {
    /// Parameters.
    pub p: JansenRitParams,
}

impl NeuralMass for JansenRit {
    fn name(&self) -> &'static str {
        "JansenRit"
    }
    fn state_variables(&self) -> &'static [&'static str] {
        &["y0", "y1", "y2", "y3", "y4", "y5"]
    }
    fn cvar(&self) -> &'static [usize] {
        &[1, 2]
    }
    fn state_variable_range(&self) -> &'static [(f64, f64)] {
        &[
            (-1.0, 1.0),
            (-500.0, 500.0),
            (-50.0, 50.0),
            (-6.0, 6.0),
            (-20.0, 20.0),
            (-500.0, 500.0),
        ]
    }
    fn default_voi(&self) -> &'static [&'static str] {
        &["y0", "y1", "y2", "y3"]
    }
    impl_params!();

    fn dfun(&self, x: &[f64], c: &[f64], n: usize, dx: &mut [f64]) {
        super::dispatch(self, x, c, n, dx)
    }
}

impl super::Rhs for JansenRit {
    #[inline(always)]
    fn rhs(&self, x: &[f64], c: &[f64], n: usize, dx: &mut [f64]) {
        let p = &self.p;
        let (nu, r, v0, a, a1, a2) = (
            p.nu_max.s(),
            p.r.s(),
            p.v0.s(),
            p.a.s(),
            p.a_1.s(),
            p.a_2.s(),
        );
        let (a3, a4, aa, b, bb, j, mu) = (
            p.a_3.s(),
            p.a_4.s(),
            p.A.s(),
            p.b.s(),
            p.B.s(),
            p.J.s(),
            p.mu.s(),
        );
        for i in 0..n {
            let y = |k: usize| x[k * n + i];
            let s12 = 2.0 * nu[i] / (1.0 + (r[i] * (v0[i] - (y(1) - y(2)))).exp());
            let s01 = 2.0 * nu[i] / (1.0 + (r[i] * (v0[i] - (a1[i] * j[i] * y(0)))).exp());
            let s03 = 2.0 * nu[i] / (1.0 + (r[i] * (v0[i] - (a3[i] * j[i] * y(0)))).exp());
            dx[i] = y(3);
            dx[n + i] = y(4);
            dx[2 * n + i] = y(5);
            dx[3 * n + i] = aa[i] * a[i] * s12 - 2.0 * a[i] * y(3) - ipow(a[i], 2) * y(0);
            dx[4 * n + i] = aa[i] * a[i] * (mu[i] + a2[i] * j[i] * s01 + c[i])
                - 2.0 * a[i] * y(4)
                - ipow(a[i], 2) * y(1);
            dx[5 * n + i] =
                bb[i] * b[i] * (a4[i] * j[i] * s03) - 2.0 * b[i] * y(5) - ipow(b[i], 2) * y(2);
        }
    }
}
