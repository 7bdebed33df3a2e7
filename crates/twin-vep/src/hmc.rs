//! Hamiltonian Monte Carlo on the VEP posterior, preconditioned by the
//! Laplace approximation, with convergence diagnostics.
//!
//! Sampling happens in whitened coordinates `u` with `θ = θ_MAP + L u`
//! ([`Laplace::factor`]), so a unit mass matrix fits the posterior's scales
//! and correlations. Each iteration draws a momentum, runs
//! `⌈ℓ / ε⌉` leapfrog steps (trajectory length `ℓ` jittered uniformly in
//! `[0.5, 1.5]·ℓ`, at most `max_leapfrog`) and accepts by Metropolis. During
//! warm-up the step size `ε` is tuned by dual averaging to a target acceptance
//! (Hoffman & Gelman 2014, JMLR 15:1593, alg. 5), and a diagonal mass matrix
//! (in whitened units) is estimated from the draws of the 15–75 % window, as
//! Stan does; both are then frozen. This is static-length HMC; the default
//! sampler is NUTS ([`crate::nuts`], [`Sampler::Nuts`]) on the same coordinates
//! and adaptation.
//!
//! Diagnostics follow Gelman et al. (2013) and Vehtari et al. (2021): split
//! R-hat, and the effective sample size from the multi-chain autocorrelation
//! with Geyer's initial monotone positive sequence.

use serde::{Deserialize, Serialize};

use crate::fit::{Diagnostics, Laplace};
use crate::objective::Problem;
use crate::rng::Rng;

/// Which Hamiltonian sampler runs the chains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sampler {
    /// The No-U-Turn sampler ([`crate::nuts`]).
    #[default]
    Nuts,
    /// Static trajectory length `path_length` (jittered).
    Static,
}

/// How NUTS adapts its metric during warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Stan's doubling windows; at the end of each the coordinates are
    /// re-whitened by the window's (shrunk) covariance: a dense mass matrix
    /// on top of the Laplace factor ([`crate::nuts`]). More divergences than
    /// `Diagonal` on the study patients (validation/vep/nuts/README.md).
    Dense,
    /// One window (15–75 % of warm-up), diagonal mass in Laplace-whitened units.
    #[default]
    Diagonal,
}

/// Settings of a sampling run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HmcSettings {
    /// NUTS or static HMC.
    #[serde(default)]
    pub sampler: Sampler,
    /// Warm-up metric adaptation of NUTS.
    #[serde(default)]
    pub metric: Metric,
    /// Largest NUTS tree depth (at most `2^max_depth − 1` leapfrog steps).
    #[serde(default = "default_depth")]
    pub max_depth: u32,
    /// Chains (run on threads).
    pub chains: usize,
    /// Warm-up iterations per chain (step-size adaptation; discarded).
    pub warmup: usize,
    /// Kept draws per chain.
    pub draws: usize,
    /// Trajectory length ℓ in whitened units.
    pub path_length: f64,
    /// Cap on leapfrog steps per iteration.
    pub max_leapfrog: usize,
    /// Target acceptance probability.
    pub target_accept: f64,
    /// Seed.
    pub seed: u64,
}

fn default_depth() -> u32 {
    8
}

impl Default for HmcSettings {
    fn default() -> Self {
        HmcSettings {
            sampler: Sampler::Nuts,
            metric: Metric::Diagonal,
            max_depth: default_depth(),
            chains: 4,
            warmup: 200,
            draws: 200,
            path_length: 3.0,
            max_leapfrog: 64,
            target_accept: 0.95,
            seed: 11,
        }
    }
}

/// The kept draws and statistics of one chain.
pub(crate) struct Chain {
    pub(crate) draws: Vec<Vec<f64>>,
    pub(crate) accept: f64,
    pub(crate) step: f64,
    pub(crate) leapfrogs: usize,
    pub(crate) divergences: usize,
    pub(crate) sites: Vec<DivergenceSite>,
}

/// Where a NUTS transition diverged: its start and the first step whose
/// energy error passed the bound (or whose simulation overflowed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DivergenceSite {
    /// Chain index.
    pub chain: usize,
    /// Iteration (warm-up included).
    pub iteration: usize,
    /// During warm-up.
    pub warmup: bool,
    /// θ at the start of the transition.
    pub from: Vec<f64>,
    /// θ at the divergent step.
    pub at: Vec<f64>,
    /// Whitened start.
    pub from_whitened: Vec<f64>,
    /// Whitened divergent step.
    pub at_whitened: Vec<f64>,
    /// `H − H₀` at the divergent step (infinite when it overflowed).
    pub energy_error: f64,
    /// The potential and gradient were finite.
    pub finite: bool,
}

/// Regularised diagonal inverse mass from warm-up draws (Stan's shrinkage).
pub(crate) fn estimate_inverse_mass(window: &[Vec<f64>], minv: &mut [f64]) {
    let nw = window.len() as f64;
    for (k, m_k) in minv.iter_mut().enumerate() {
        let m = window.iter().map(|w| w[k]).sum::<f64>() / nw;
        let var = window.iter().map(|w| (w[k] - m).powi(2)).sum::<f64>() / (nw - 1.0);
        *m_k = (nw / (nw + 5.0)) * var + 1e-3 * 5.0 / (nw + 5.0);
    }
}

/// Potential `U` and its gradient in whitened coordinates.
pub(crate) fn potential(p: &Problem, lap: &Laplace, u: &[f64]) -> (f64, Vec<f64>) {
    let d = u.len();
    let th = lap.transform(u);
    let (v, g) = p.value_grad(&th);
    // ∇_u = Lᵀ ∇_θ
    let gu = (0..d)
        .map(|k| (0..d).map(|i| lap.factor[i * d + k] * g[i]).sum())
        .collect();
    (v, gu)
}

fn run_chain(p: &Problem, lap: &Laplace, s: &HmcSettings, chain: usize) -> Chain {
    let d = lap.mean.len();
    let mut rng = Rng::new(s.seed, 100 + chain as u64);
    let mut u: Vec<f64> = (0..d).map(|_| 0.5 * rng.normal()).collect();
    let (mut uv, mut ug) = potential(p, lap, &u);
    // Diagonal inverse mass in whitened units, re-estimated once mid-warm-up.
    let mut minv = vec![1.0f64; d];
    let (w_start, w_end) = (s.warmup * 15 / 100, s.warmup * 75 / 100);
    let mut window: Vec<Vec<f64>> = Vec::new();
    let mut eps: f64 = 0.3;
    let mut da = DualAveraging::new(eps, s.target_accept);
    let mut draws = Vec::with_capacity(s.draws);
    let (mut acc_sum, mut leapfrogs) = (0.0, 0usize);
    for it in 0..(s.warmup + s.draws) {
        let mut q = u.clone();
        let mut r: Vec<f64> = (0..d).map(|k| rng.normal() / minv[k].sqrt()).collect();
        let kinetic = |r: &[f64]| 0.5 * r.iter().zip(&minv).map(|(x, m)| x * x * m).sum::<f64>();
        let h0 = uv + kinetic(&r);
        let len = s.path_length * rng.range(0.5, 1.5);
        let steps = ((len / eps).ceil() as usize).clamp(1, s.max_leapfrog);
        let mut g = ug.clone();
        let mut v = uv;
        let mut ok = true;
        for _ in 0..steps {
            for k in 0..d {
                r[k] -= 0.5 * eps * g[k];
                q[k] += eps * minv[k] * r[k];
            }
            let (nv, ng) = potential(p, lap, &q);
            if !nv.is_finite() || ng.iter().any(|x| !x.is_finite()) {
                ok = false;
                break;
            }
            v = nv;
            g = ng;
            for k in 0..d {
                r[k] -= 0.5 * eps * g[k];
            }
        }
        let h1 = v + kinetic(&r);
        let a = if ok { (h0 - h1).exp().min(1.0) } else { 0.0 };
        let a = if a.is_finite() { a } else { 0.0 };
        if rng.uniform() < a {
            u = q;
            uv = v;
            ug = g;
        }
        if it < s.warmup {
            eps = da.update(a);
            if (w_start..w_end).contains(&it) {
                window.push(u.clone());
            }
            if it + 1 == w_end && window.len() > 10 {
                estimate_inverse_mass(&window, &mut minv);
                da = DualAveraging::new(eps, s.target_accept);
            }
            if it + 1 == s.warmup {
                eps = da.final_step();
            }
        } else {
            acc_sum += a;
            leapfrogs += steps;
            draws.push(lap.transform(&u));
        }
    }
    Chain {
        draws,
        accept: acc_sum / s.draws.max(1) as f64,
        step: eps,
        leapfrogs,
        divergences: 0,
        sites: vec![],
    }
}

/// Dual averaging of the log step size (Hoffman & Gelman 2014, alg. 5).
pub(crate) struct DualAveraging {
    mu: f64,
    target: f64,
    hbar: f64,
    log_bar: f64,
    m: f64,
}

impl DualAveraging {
    pub(crate) fn new(eps: f64, target: f64) -> Self {
        DualAveraging {
            mu: (10.0 * eps).ln(),
            target,
            hbar: 0.0,
            log_bar: eps.ln(),
            m: 0.0,
        }
    }

    pub(crate) fn update(&mut self, accept: f64) -> f64 {
        let (gamma, t0, kappa) = (0.05, 10.0, 0.75);
        self.m += 1.0;
        let m = self.m;
        self.hbar = (1.0 - 1.0 / (m + t0)) * self.hbar + (self.target - accept) / (m + t0);
        let log_eps = self.mu - m.sqrt() / gamma * self.hbar;
        let w = m.powf(-kappa);
        self.log_bar = w * log_eps + (1.0 - w) * self.log_bar;
        log_eps.exp().clamp(1e-4, 5.0)
    }

    pub(crate) fn final_step(&self) -> f64 {
        self.log_bar.exp().clamp(1e-4, 5.0)
    }
}

/// Runs the chains (one thread each); returns all kept draws (chain-major)
/// and the diagnostics.
pub fn sample(p: &Problem, lap: &Laplace, s: &HmcSettings) -> (Vec<Vec<f64>>, Diagnostics) {
    let chains: Vec<Chain> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..s.chains)
            .map(|c| {
                sc.spawn(move || match s.sampler {
                    Sampler::Nuts => crate::nuts::run_chain(p, lap, s, c),
                    Sampler::Static => run_chain(p, lap, s, c),
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| h.join().expect("a chain thread does not panic"))
            .collect()
    });
    let d = lap.mean.len();
    let per: Vec<Vec<Vec<f64>>> = (0..d)
        .map(|j| {
            chains
                .iter()
                .map(|c| c.draws.iter().map(|t| t[j]).collect())
                .collect()
        })
        .collect();
    let rhat: Vec<f64> = per.iter().map(|x| split_rhat(x)).collect();
    let ess: Vec<f64> = per.iter().map(|x| ess(x)).collect();
    let diag = Diagnostics {
        chains: s.chains,
        draws: s.draws,
        max_rhat: rhat.iter().cloned().fold(0.0, f64::max),
        min_ess: ess.iter().cloned().fold(f64::INFINITY, f64::min),
        rhat,
        ess,
        accept: chains.iter().map(|c| c.accept).sum::<f64>() / s.chains as f64,
        step_size: chains.iter().map(|c| c.step).sum::<f64>() / s.chains as f64,
        sampler: s.sampler,
        leapfrogs: chains.iter().map(|c| c.leapfrogs).sum(),
        divergences: chains.iter().map(|c| c.divergences).sum(),
        divergence_sites: chains.iter().flat_map(|c| c.sites.clone()).collect(),
    };
    (chains.into_iter().flat_map(|c| c.draws).collect(), diag)
}

fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    (
        m,
        x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0),
    )
}

/// Split R-hat of one parameter over chains.
pub fn split_rhat(chains: &[Vec<f64>]) -> f64 {
    let halves: Vec<&[f64]> = chains
        .iter()
        .flat_map(|c| {
            let h = c.len() / 2;
            [&c[..h], &c[h..2 * h]]
        })
        .collect();
    let n = halves[0].len() as f64;
    let mv: Vec<(f64, f64)> = halves.iter().map(|h| mean_var(h)).collect();
    let w = mv.iter().map(|x| x.1).sum::<f64>() / mv.len() as f64;
    let means: Vec<f64> = mv.iter().map(|x| x.0).collect();
    let b = n * mean_var(&means).1;
    let var = (n - 1.0) / n * w + b / n;
    if w <= 0.0 {
        return 1.0;
    }
    (var / w).sqrt()
}

/// Multi-chain effective sample size of one parameter.
pub fn ess(chains: &[Vec<f64>]) -> f64 {
    let m = chains.len();
    let n = chains.iter().map(|c| c.len()).min().unwrap_or(0);
    if n < 4 {
        return 0.0;
    }
    let mv: Vec<(f64, f64)> = chains.iter().map(|c| mean_var(&c[..n])).collect();
    let w = mv.iter().map(|x| x.1).sum::<f64>() / m as f64;
    let means: Vec<f64> = mv.iter().map(|x| x.0).collect();
    let b_n = if m > 1 { mean_var(&means).1 } else { 0.0 };
    let var = (n as f64 - 1.0) / n as f64 * w + b_n;
    if var <= 0.0 {
        return (m * n) as f64;
    }
    let acov = |lag: usize| -> f64 {
        chains
            .iter()
            .zip(&mv)
            .map(|(c, (mu, _))| {
                (0..n - lag)
                    .map(|t| (c[t] - mu) * (c[t + lag] - mu))
                    .sum::<f64>()
                    / n as f64
            })
            .sum::<f64>()
            / m as f64
    };
    let rho = |lag: usize| 1.0 - (w * (n as f64 - 1.0) / n as f64 - acov(lag)) / var;
    let mut tau = -1.0;
    let mut prev = f64::INFINITY;
    let mut k = 0;
    while 2 * k + 1 < n {
        let pk = rho(2 * k) + rho(2 * k + 1);
        if pk <= 0.0 {
            break;
        }
        let pk = pk.min(prev);
        tau += 2.0 * pk;
        prev = pk;
        k += 1;
    }
    (m * n) as f64 / tau.max(1.0 / ((m * n) as f64).ln().max(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rhat_and_ess_tell_mixed_from_stuck_chains() {
        let mut r = Rng::new(3, 4);
        let good: Vec<Vec<f64>> = (0..4)
            .map(|_| (0..200).map(|_| r.normal()).collect())
            .collect();
        assert!(split_rhat(&good) < 1.05);
        let e = ess(&good);
        assert!(e > 500.0 && e < 1200.0, "{e}");
        let bad: Vec<Vec<f64>> = (0..4)
            .map(|c| (0..200).map(|_| c as f64 * 3.0 + r.normal()).collect())
            .collect();
        assert!(split_rhat(&bad) > 1.5);
        assert!(ess(&bad) < 50.0);
    }
}
