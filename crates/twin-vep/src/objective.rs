//! The log posterior of the VEP model given SEEG log-power features, and its
//! exact gradient by a hand-derived adjoint of the Euler recursion.
//!
//! # Observation model
//!
//! Each region's fast activity has power `exp(β x_i)`; powers of independent
//! sources add through the squared bipolar gain `H_ci = Gb_ci²`, and the
//! measurement noise adds a floor `f_c`. The log-power feature of channel `c`
//! in window `k` (model steps `t ∈ W_k`) is predicted as
//!
//! ```text
//! m_ck = ln( (1/|W_k|) Σ_{t∈W_k} Σ_i H_ci e^{β x_i(t)} + f_c )
//! ```
//!
//! (the `log(gain · exp(x))` form of BVEP), and the data `y_ck = m_ck + ε`,
//! `ε ~ N(0, σ²)` ([`crate::onset::Likelihood::Power`]). With [`Problem::onset`] set, the
//! data are instead one onset time per channel, compared through the smooth
//! censored model of [`crate::onset`] ([`crate::onset::Likelihood::Onset`]); both enter the
//! adjoint below through `∂U_obs/∂m_ck`.
//!
//! # Parameters and priors
//!
//! `θ = (x0_1 … x0_N, ln K)`, with `x0_i ~ N(μ_i, s_i²)` (uninformed: the same
//! μ, s for all; a clinical hypothesis raises μ on suspected regions) and
//! `ln K ~ N(ln K̄, s_K²)`. The objective is `U(θ) = −ln p(θ | y)` up to a constant.
//!
//! # Adjoint
//!
//! With `a = dt·tt`, `b = a/τ0`, `g(t) = ∂U_obs/∂x(t)` and λ the adjoint
//! states (`λx(T) = g(T)`, `λz(T) = 0`), for `t = T−1 … 0`:
//!
//! ```text
//! λx(t) = g(t) + λx(t+1) ∘ (1 − a (3x² + 4x)) + b (4 λz + K d∘λz − K Cᵀλz)(t+1)
//! λz(t) = −a λx(t+1) + (1 − b) λz(t+1)
//! ∂U/∂x0_i += −4 b λz_i(t+1),   ∂U/∂K += −b Σ_i λz_i(t+1) (C x(t) − d∘x(t))_i
//! ```

use crate::model::{simulate, ModelParams, Network, Trajectory};
use crate::onset::Onsets;

/// The data and fixed quantities of one fit.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Model parameters (dt, τ0, …).
    pub model: ModelParams,
    /// The normalised structural network.
    pub net: Network,
    /// Number of model steps simulated.
    pub steps: usize,
    /// Squared bipolar gains `H`, `channels × N`.
    pub h: Vec<f64>,
    /// Noise floor per channel (power units).
    pub floor: Vec<f64>,
    /// Power exponent β.
    pub beta: f64,
    /// Windows as half-open model-step ranges.
    pub windows: Vec<(usize, usize)>,
    /// Observed log-power, `windows × channels`.
    pub y: Vec<f64>,
    /// Observation noise σ.
    pub sigma: f64,
    /// Prior mean of x0 per region.
    pub prior_mu: Vec<f64>,
    /// Prior standard deviation of x0 per region.
    pub prior_sd: Vec<f64>,
    /// Prior median of K.
    pub k_prior: f64,
    /// Prior standard deviation of ln K.
    pub k_log_sd: f64,
    /// Onset observation model; `None` compares every window of `y`.
    pub onset: Option<Onsets>,
}

impl Problem {
    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.floor.len()
    }

    /// Number of parameters (`N + 1`).
    pub fn dim(&self) -> usize {
        self.net.n + 1
    }

    /// Simulates the deterministic model at `θ`.
    pub fn trajectory(&self, theta: &[f64]) -> Trajectory {
        let n = self.net.n;
        simulate(
            &self.model,
            &self.net,
            &theta[..n],
            theta[n].exp(),
            self.steps,
            None,
            None,
        )
    }

    /// Predicted features `windows × channels` for a trajectory.
    pub fn predict(&self, tr: &Trajectory) -> Vec<f64> {
        let (n, nc) = (self.net.n, self.channels());
        let mut power = vec![0.0; tr.len() * nc];
        let mut e = vec![0.0; n];
        for t in 0..tr.len() {
            for (ei, &x) in e.iter_mut().zip(tr.x_at(t)) {
                *ei = (self.beta * x).exp();
            }
            for c in 0..nc {
                let h = &self.h[c * n..(c + 1) * n];
                power[t * nc + c] = h.iter().zip(&e).map(|(a, b)| a * b).sum();
            }
        }
        let mut m = vec![0.0; self.windows.len() * nc];
        for (k, &(s, e)) in self.windows.iter().enumerate() {
            for c in 0..nc {
                let mean: f64 =
                    (s..e).map(|t| power[t * nc + c]).sum::<f64>() / (e - s).max(1) as f64;
                m[k * nc + c] = (mean + self.floor[c]).ln();
            }
        }
        m
    }

    /// `U(θ)`, the negative log posterior (up to a constant).
    pub fn value(&self, theta: &[f64]) -> f64 {
        let tr = self.trajectory(theta);
        self.value_of(theta, &tr).0
    }

    fn value_of(&self, theta: &[f64], tr: &Trajectory) -> (f64, Vec<f64>) {
        let n = self.net.n;
        let m = self.predict(tr);
        let mut u = self.observation(&m).0;
        for i in 0..n {
            let d = (theta[i] - self.prior_mu[i]) / self.prior_sd[i];
            u += 0.5 * d * d;
        }
        let dk = (theta[n] - self.k_prior.ln()) / self.k_log_sd;
        u += 0.5 * dk * dk;
        (u, m)
    }

    /// `U_obs` and `∂U_obs/∂m` for predicted features `m`.
    pub fn observation(&self, m: &[f64]) -> (f64, Vec<f64>) {
        if let Some(o) = &self.onset {
            return o.value_grad(m);
        }
        let s2 = self.sigma * self.sigma;
        let mut u = 0.0;
        let mut g = vec![0.0; m.len()];
        for ((mi, yi), gi) in m.iter().zip(&self.y).zip(&mut g) {
            u += (mi - yi) * (mi - yi) / (2.0 * s2);
            *gi = (mi - yi) / s2;
        }
        (u, g)
    }

    /// `U(θ)` and its gradient (adjoint of the Euler recursion).
    pub fn value_grad(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let n = self.net.n;
        let nc = self.channels();
        let k = theta[n].exp();
        let tr = self.trajectory(theta);
        let (u, m) = self.value_of(theta, &tr);
        let (_, dm) = self.observation(&m);
        let tlen = tr.len();
        // a_c(t) = Σ_{k ∋ t} r_ck / ((mean power + floor) |W_k|), r = ∂U_obs/∂m_ck.
        let mut acc = vec![0.0; tlen * nc];
        for (w, &(s, e)) in self.windows.iter().enumerate() {
            for c in 0..nc {
                let r = dm[w * nc + c];
                let coef = r / m[w * nc + c].exp() / (e - s).max(1) as f64;
                for t in s..e {
                    acc[t * nc + c] += coef;
                }
            }
        }
        let g_x = |t: usize, out: &mut [f64]| {
            let a = &acc[t * nc..(t + 1) * nc];
            if a.iter().all(|v| *v == 0.0) {
                out.fill(0.0);
                return;
            }
            let x = tr.x_at(t);
            for i in 0..n {
                let mut s = 0.0;
                for c in 0..nc {
                    s += a[c] * self.h[c * n + i];
                }
                out[i] = s * self.beta * (self.beta * x[i]).exp();
            }
        };
        let p = &self.model;
        let (ca, cb) = (p.dt_s * p.tt_per_s, p.dt_s * p.tt_per_s / p.tau0);
        let mut grad = vec![0.0; n + 1];
        let mut lx = vec![0.0; n];
        let mut lz = vec![0.0; n];
        g_x(tlen - 1, &mut lx);
        let mut gx = vec![0.0; n];
        let mut ct_lz = vec![0.0; n];
        let mut cpl = vec![0.0; n];
        let mut dk = 0.0;
        for t in (0..tlen - 1).rev() {
            let x = tr.x_at(t);
            // Cᵀ λz
            ct_lz.fill(0.0);
            self.net.add_transpose_times(&lz, &mut ct_lz);
            self.net.coupling(x, &mut cpl);
            for i in 0..n {
                grad[i] += -4.0 * cb * lz[i];
                dk += -cb * lz[i] * cpl[i];
            }
            g_x(t, &mut gx);
            for i in 0..n {
                let xi = x[i];
                let new_lx = gx[i]
                    + lx[i] * (1.0 - ca * (3.0 * xi * xi + 4.0 * xi))
                    + cb * (4.0 * lz[i] + k * self.net.deg[i] * lz[i] - k * ct_lz[i]);
                let new_lz = -ca * lx[i] + (1.0 - cb) * lz[i];
                lx[i] = new_lx;
                lz[i] = new_lz;
            }
        }
        for i in 0..n {
            grad[i] += (theta[i] - self.prior_mu[i]) / (self.prior_sd[i] * self.prior_sd[i]);
        }
        grad[n] = dk * k + (theta[n] - self.k_prior.ln()) / (self.k_log_sd * self.k_log_sd);
        (u, grad)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A 3-region, 2-channel problem with data from a different θ.
    pub(crate) fn problem() -> (Problem, Vec<f64>) {
        let model = ModelParams::default();
        let net = Network::new(3, &[0.0, 1.0, 0.3, 1.0, 0.0, 0.6, 0.3, 0.6, 0.0]);
        let steps = 300;
        let windows: Vec<_> = (0..14).map(|k| (k * 20, k * 20 + 40)).collect();
        let mut p = Problem {
            model,
            net,
            steps,
            h: vec![1.0, 0.2, 0.05, 0.1, 0.4, 0.9],
            floor: vec![0.01, 0.02],
            beta: 3.0,
            windows,
            y: vec![0.0; 28],
            sigma: 0.3,
            prior_mu: vec![-2.5; 3],
            prior_sd: vec![1.0; 3],
            k_prior: 1.0,
            k_log_sd: 0.5,
            onset: None,
        };
        let truth = [-1.6, -2.15, -2.6, 0.8f64.ln()];
        p.y = p.predict(&p.trajectory(&truth));
        (p, vec![-1.9, -2.2, -2.4, 1.1f64.ln()])
    }

    #[test]
    fn adjoint_gradient_matches_central_finite_differences() {
        let (p, theta) = problem();
        check_gradient(&p, &theta);
    }

    #[test]
    fn adjoint_gradient_of_the_onset_likelihood_matches_finite_differences() {
        let (mut p, theta) = problem();
        let start_s: Vec<f64> = p.windows.iter().map(|w| w.0 as f64 * 0.05).collect();
        // Channel 0 saw an onset at 4 s, channel 1 none; θ seizes on both.
        p.onset = Some(Onsets {
            threshold: vec![-1.0, -1.5],
            noise: 0.5,
            start_s,
            observed_s: vec![Some(4.0), None],
            sd_s: 1.0,
        });
        let u = p.value(&theta);
        assert!(u > 1.0, "the silent channel should cost: {u}");
        check_gradient(&p, &theta);
    }

    fn check_gradient(p: &Problem, theta: &[f64]) {
        let theta = theta.to_vec();
        let (u, g) = p.value_grad(&theta);
        assert!((u - p.value(&theta)).abs() < 1e-12 * u.abs().max(1.0));
        for j in 0..theta.len() {
            let h = 1e-6;
            let mut tp = theta.clone();
            let mut tm = theta.clone();
            tp[j] += h;
            tm[j] -= h;
            let fd = (p.value(&tp) - p.value(&tm)) / (2.0 * h);
            let rel = (g[j] - fd).abs() / fd.abs().max(1e-8);
            assert!(
                rel <= 1e-5,
                "θ[{j}]: adjoint {} vs FD {fd} (rel {rel:e})",
                g[j]
            );
        }
    }
}
