//! Kuramoto phase oscillator (Kuramoto 1975; TVB's `Kuramoto`).
//!
//! Each region is a phase `θ` rotating at its natural frequency `ω`; the
//! network synchronises through [`Coupling::Kuramoto`](crate::Coupling),
//! `c_i = a/n_cvar · Σ_j w_ij sin(θ_j − θ_i)`.
//!
//! # Equations (t in ms)
//!
//! ```text
//! dθ/dt = ω + c
//! ```
//!
//! (TVB adds `sin(lc · θ)` for surface local coupling, zero in region simulations.)
//! Phases are not wrapped.
//!
//! # Parameters (TVB defaults)
//!
//! | name | default | unit | meaning |
//! |---|---|---|---|
//! | `omega` | 1 | rad/ms | natural frequency |
//!
//! State range: θ [0, 2π].
//!
//! # References
//!
//! * Kuramoto Y. (1975). Self-entrainment of a population of coupled non-linear
//!   oscillators. In *International Symposium on Mathematical Problems in
//!   Theoretical Physics*, Lecture Notes in Physics 39, p. 420.
//! * Strogatz S. H. (2000). From Kuramoto to Crawford: exploring the onset of
//!   synchronization in populations of coupled oscillators. *Physica D* 143: 1–20.

use super::{impl_params, NeuralMass};
use crate::param::params;

params! {
    /// Parameters of [`Kuramoto`].
    pub struct KuramotoParams {
        /// Natural frequency ω [rad/ms].
        omega = 1.0,
    }
}

/// Kuramoto oscillator; state `θ`, coupling variable `θ`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Kuramoto {
    /// Parameters.
    pub p: KuramotoParams,
}

impl NeuralMass for Kuramoto {
    fn name(&self) -> &'static str {
        "Kuramoto"
    }
    fn state_variables(&self) -> &'static [&'static str] {
        &["theta"]
    }
    fn cvar(&self) -> &'static [usize] {
        &[0]
    }
    fn state_variable_range(&self) -> &'static [(f64, f64)] {
        &[(0.0, std::f64::consts::TAU)]
    }
    fn default_voi(&self) -> &'static [&'static str] {
        &["theta"]
    }
    impl_params!();

    fn dfun(&self, x: &[f64], c: &[f64], n: usize, dx: &mut [f64]) {
        super::dispatch(self, x, c, n, dx)
    }
}

impl super::Rhs for Kuramoto {
    #[inline(always)]
    fn rhs(&self, _x: &[f64], c: &[f64], n: usize, dx: &mut [f64]) {
        let omega = self.p.omega.s();
        for i in 0..n {
            // TVB: omega + (c + sin(0 · θ)).
            dx[i] = omega[i] + (c[i] + 0.0);
        }
    }
}
