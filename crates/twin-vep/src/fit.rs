//! `fit`: the posterior over each region's excitability x0 and the coupling K.
//!
//! * **MAP** by L-BFGS on `U(θ) = −ln p(θ | y)` ([`crate::objective`]), from
//!   several starts (the prior mean, and the regions the onset pattern points
//!   at raised towards the EZ), keeping the best.
//! * **Laplace**: the Hessian of `U` at the MAP by central differences of the
//!   exact gradient, eigen-decomposed; eigenvalues are floored at the prior
//!   precision `1/s²` (the curvature the prior alone contributes), so the
//!   covariance `V Λ⁻¹ Vᵀ` is positive definite and no wider than the prior;
//!   its draws are screened by the exact posterior ([`screened_draws`]).
//! * **HMC** ([`crate::hmc`]) preconditioned with the Laplace factor, several
//!   chains, split R-hat and effective sample size.
//!
//! Per region the summary gives the posterior mean, sd, 90 % credible interval,
//! `P(x0 > x0_crit)` and `P(region seizes)` (from simulations of the draws),
//! and the class: EZ if `P(x0 > x0_crit) > ½`, else PZ if `P(seizes) > ½`,
//! else healthy.

use serde::{Deserialize, Serialize};

use crate::features::{compute, FeatureParams, Features};
use crate::model::{simulate, X0_CRITICAL};
use crate::objective::Problem;
use crate::onset::{Likelihood, Onsets};
use crate::optim::{lbfgs, sym_eigen, Minimum};
use crate::patient::Patient;
use crate::rng::Rng;
use crate::VepError;

/// Settings of a fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitSettings {
    /// Feature pipeline.
    pub features: FeatureParams,
    /// Observation noise σ of the log-power features.
    pub sigma: f64,
    /// Prior mean of x0 (uninformed).
    pub prior_mean: f64,
    /// Prior sd of x0.
    pub prior_sd: f64,
    /// Clinical hypothesis: regions whose prior mean is raised to `hypothesis_mean`.
    pub hypothesis: Vec<usize>,
    /// Prior mean of x0 for hypothesis regions.
    pub hypothesis_mean: f64,
    /// Prior median of K.
    pub k_prior: f64,
    /// Prior sd of ln K.
    pub k_log_sd: f64,
    /// L-BFGS iterations per start.
    pub max_iter: usize,
    /// Draws simulated for the classification.
    pub class_draws: usize,
    /// Seed.
    pub seed: u64,
    /// Observation model: every log-power window, or one onset per channel.
    #[serde(default)]
    pub likelihood: Likelihood,
    /// Onset-time uncertainty σ_T of [`Likelihood::Onset`] \[s\].
    #[serde(default = "default_onset_sd")]
    pub onset_sd_s: f64,
}

fn default_onset_sd() -> f64 {
    1.0
}

impl Default for FitSettings {
    fn default() -> Self {
        FitSettings {
            features: FeatureParams::default(),
            sigma: 0.5,
            prior_mean: -2.5,
            prior_sd: 0.3,
            hypothesis: vec![],
            hypothesis_mean: -1.8,
            k_prior: 2.0,
            k_log_sd: 0.5,
            max_iter: 200,
            class_draws: 60,
            seed: 7,
            likelihood: Likelihood::Power,
            onset_sd_s: default_onset_sd(),
        }
    }
}

/// Builds the inference problem of a patient from its recording.
pub fn problem(patient: &Patient, s: &FitSettings) -> Result<(Problem, Features), VepError> {
    let file = patient.dir.join("seeg.npy").display().to_string();
    let fs = patient.meta.sampling_rate_hz;
    let feats = compute(&file, &patient.seeg, fs, &patient.contacts, &s.features)?;
    let n = patient.n_regions();
    let model = patient.meta.model.clone();
    let duration = patient.seeg.rows as f64 / fs;
    let steps = (duration / model.dt_s).ceil() as usize;
    // Fraction of white-noise power above the cut-off (one-sided band).
    let hp = (1.0 - s.features.highpass_hz / (fs / 2.0)).max(0.05);
    let nc = feats.pairs.len();
    let mut h = vec![0.0; nc * n];
    for (c, &(i, j)) in feats.pairs.iter().enumerate() {
        for r in 0..n {
            let d = patient.gain[j * n + r] - patient.gain[i * n + r];
            h[c * n + r] = hp * d * d;
        }
    }
    let sm = patient.meta.measurement_noise;
    let floor = vec![hp * 2.0 * sm * sm; nc];
    let windows = feats
        .window_start_s
        .iter()
        .map(|&t| {
            let a = ((t / model.dt_s).round() as usize).min(steps);
            let b = (((t + feats.window_s) / model.dt_s).round() as usize).min(steps + 1);
            (a, b.max(a + 1).min(steps + 1))
        })
        .collect();
    let mut prior_mu = vec![s.prior_mean; n];
    for &r in &s.hypothesis {
        if r >= n {
            return Err(VepError::Invalid {
                what: "clinical hypothesis".into(),
                reason: format!("region {r} does not exist ({n} regions)"),
            });
        }
        prior_mu[r] = s.hypothesis_mean;
    }
    let p = Problem {
        model,
        net: patient.network(),
        steps,
        h,
        floor,
        beta: patient.meta.beta,
        windows,
        y: feats.log_power.clone(),
        sigma: s.sigma,
        prior_mu,
        prior_sd: vec![s.prior_sd; n],
        k_prior: s.k_prior,
        k_log_sd: s.k_log_sd,
        onset: match s.likelihood {
            Likelihood::Power => None,
            Likelihood::Onset => Some(onset_data(&feats, s)?),
        },
    };
    Ok((p, feats))
}

/// The onset data of [`Likelihood::Onset`]: the detector's per-channel
/// threshold (median of the baseline windows + threshold, as
/// [`crate::features::onsets`] uses) and the detected onsets.
fn onset_data(feats: &Features, s: &FitSettings) -> Result<Onsets, VepError> {
    if s.onset_sd_s.is_nan() || s.onset_sd_s <= 0.0 {
        return Err(VepError::Invalid {
            what: "onset-time uncertainty".into(),
            reason: format!("{} s: expected a positive number", s.onset_sd_s),
        });
    }
    if feats.window_start_s.is_empty() {
        return Err(VepError::Invalid {
            what: "onset likelihood".into(),
            reason: "the recording has no feature window".into(),
        });
    }
    let nc = feats.pairs.len();
    let fp = &s.features;
    let nb = feats
        .window_start_s
        .iter()
        .filter(|&&t| t + fp.window_s <= fp.baseline_s)
        .count()
        .clamp(1, feats.window_start_s.len());
    let threshold = (0..nc)
        .map(|c| {
            let mut b: Vec<f64> = (0..nb).map(|k| feats.log_power[k * nc + c]).collect();
            b.sort_by(f64::total_cmp);
            b[b.len() / 2] + fp.threshold
        })
        .collect();
    Ok(Onsets {
        threshold,
        noise: s.sigma,
        start_s: feats.window_start_s.clone(),
        observed_s: feats.onset_s.clone(),
        sd_s: s.onset_sd_s,
    })
}

/// Regions ranked by how strongly the channels with early onsets see them.
pub fn onset_scores(p: &Problem, feats: &Features) -> Vec<f64> {
    let n = p.net.n;
    let first = feats
        .onset_s
        .iter()
        .flatten()
        .cloned()
        .fold(f64::INFINITY, f64::min);
    let score: Vec<f64> = feats
        .onset_s
        .iter()
        .map(|o| o.map(|t| (-(t - first) / 3.0).exp()).unwrap_or(0.0))
        .collect();
    let hmax = p.h.iter().cloned().fold(0.0, f64::max);
    (0..n)
        .map(|r| {
            let (mut a, mut b) = (0.0, 0.0);
            for (c, sc) in score.iter().enumerate() {
                a += p.h[c * n + r] * sc;
                b += p.h[c * n + r];
            }
            a / (b + 0.05 * hmax)
        })
        .collect()
}

/// The MAP estimate from several starts; returns the best.
pub fn map(p: &Problem, feats: &Features, s: &FitSettings) -> Minimum {
    let n = p.net.n;
    let scores = onset_scores(p, feats);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]));
    let base: Vec<f64> = p.prior_mu.iter().cloned().chain([p.k_prior.ln()]).collect();
    let mut starts = vec![base.clone()];
    for top in [1usize, 3] {
        let mut t = base.clone();
        for &r in order.iter().take(top) {
            if scores[r] > 0.0 {
                t[r] = -1.8;
            }
        }
        starts.push(t);
    }
    let mut best: Option<Minimum> = None;
    for st in starts {
        let mut f = |th: &[f64]| p.value_grad(th);
        let m = lbfgs(&mut f, &st, 10, s.max_iter, 1e-4);
        if best.as_ref().is_none_or(|b| m.value < b.value) {
            best = Some(m);
        }
    }
    best.expect("at least one start")
}

/// A Gaussian approximation at the MAP.
#[derive(Debug, Clone, PartialEq)]
pub struct Laplace {
    /// Mean (the MAP).
    pub mean: Vec<f64>,
    /// Factor `L = V Λ^{-1/2}` (row-major), `Σ = L Lᵀ`.
    pub factor: Vec<f64>,
    /// Marginal standard deviations.
    pub sd: Vec<f64>,
}

/// The Laplace approximation at `theta` (see the module docs).
pub fn laplace(p: &Problem, theta: &[f64]) -> Laplace {
    let d = theta.len();
    let mut hess = vec![0.0; d * d];
    let h = 1e-4;
    for j in 0..d {
        let mut tp = theta.to_vec();
        let mut tm = theta.to_vec();
        tp[j] += h;
        tm[j] -= h;
        let (_, gp) = p.value_grad(&tp);
        let (_, gm) = p.value_grad(&tm);
        for i in 0..d {
            hess[i * d + j] = (gp[i] - gm[i]) / (2.0 * h);
        }
    }
    for i in 0..d {
        for j in 0..i {
            let v = 0.5 * (hess[i * d + j] + hess[j * d + i]);
            hess[i * d + j] = v;
            hess[j * d + i] = v;
        }
    }
    let (lam, v) = sym_eigen(&hess, d);
    let min_curv = p
        .prior_sd
        .iter()
        .map(|s| 1.0 / (s * s))
        .chain([1.0 / (p.k_log_sd * p.k_log_sd)])
        .fold(f64::INFINITY, f64::min);
    let mut factor = vec![0.0; d * d];
    for i in 0..d {
        for k in 0..d {
            factor[i * d + k] = v[i * d + k] / lam[k].max(min_curv).sqrt();
        }
    }
    let sd = (0..d)
        .map(|i| {
            (0..d)
                .map(|k| factor[i * d + k].powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    Laplace {
        mean: theta.to_vec(),
        factor,
        sd,
    }
}

impl Laplace {
    /// `mean + L u`.
    pub fn transform(&self, u: &[f64]) -> Vec<f64> {
        let d = self.mean.len();
        (0..d)
            .map(|i| self.mean[i] + (0..d).map(|k| self.factor[i * d + k] * u[k]).sum::<f64>())
            .collect()
    }

    /// `count` independent draws.
    pub fn draws(&self, count: usize, rng: &mut Rng) -> Vec<Vec<f64>> {
        let d = self.mean.len();
        (0..count)
            .map(|_| {
                let u: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
                self.transform(&u)
            })
            .collect()
    }
}

/// Posterior summary of one region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionPosterior {
    /// Region index.
    pub region: usize,
    /// Label.
    pub label: String,
    /// MAP x0.
    pub map: f64,
    /// Posterior mean.
    pub mean: f64,
    /// Posterior sd.
    pub sd: f64,
    /// 5 % quantile.
    pub q05: f64,
    /// 95 % quantile.
    pub q95: f64,
    /// P(x0 > critical).
    pub p_ez: f64,
    /// P(the region seizes).
    pub p_seize: f64,
    /// `EZ`, `PZ` or `healthy`.
    pub class: String,
}

/// Convergence diagnostics of a sampling run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// Chains.
    pub chains: usize,
    /// Draws per chain kept.
    pub draws: usize,
    /// Split R-hat per parameter (x0…, ln K).
    pub rhat: Vec<f64>,
    /// Effective sample size per parameter.
    pub ess: Vec<f64>,
    /// Largest R-hat.
    pub max_rhat: f64,
    /// Smallest ESS.
    pub min_ess: f64,
    /// Mean acceptance probability.
    pub accept: f64,
    /// Adapted step size (whitened units).
    pub step_size: f64,
    /// The sampler.
    #[serde(default)]
    pub sampler: crate::hmc::Sampler,
    /// Leapfrog steps (gradient evaluations) of the kept draws, all chains.
    #[serde(default)]
    pub leapfrogs: usize,
    /// Divergent transitions among the kept draws (NUTS).
    #[serde(default)]
    pub divergences: usize,
    /// Divergent transitions (warm-up included), for locating their cause.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub divergence_sites: Vec<crate::hmc::DivergenceSite>,
}

/// The result of `fit` (written as `posterior.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitResult {
    /// `laplace` or `hmc`.
    pub method: String,
    /// Negative log posterior at the MAP.
    pub map_value: f64,
    /// L-BFGS iterations of the best start.
    pub map_iterations: usize,
    /// MAP of K.
    pub k_map: f64,
    /// Posterior mean of K.
    pub k_mean: f64,
    /// 90 % interval of K.
    pub k_interval: [f64; 2],
    /// Per region.
    pub regions: Vec<RegionPosterior>,
    /// Sampling diagnostics (HMC only).
    pub diagnostics: Option<Diagnostics>,
    /// Wall time \[s\].
    pub seconds: f64,
}

impl FitResult {
    /// Regions classified as EZ.
    pub fn ez(&self) -> Vec<usize> {
        self.regions
            .iter()
            .filter(|r| r.class == "EZ")
            .map(|r| r.region)
            .collect()
    }

    /// Regions classified as PZ.
    pub fn pz(&self) -> Vec<usize> {
        self.regions
            .iter()
            .filter(|r| r.class == "PZ")
            .map(|r| r.region)
            .collect()
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let k = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[k]
}

/// Summarises draws (`θ` vectors) into a [`FitResult`].
pub fn summarize(
    p: &Problem,
    labels: &[String],
    map: &Minimum,
    draws: &[Vec<f64>],
    s: &FitSettings,
    method: &str,
) -> FitResult {
    let n = p.net.n;
    let mut seize = vec![0usize; n];
    let step = (draws.len() / s.class_draws.max(1)).max(1);
    let sim: Vec<&Vec<f64>> = draws.iter().step_by(step).collect();
    for th in &sim {
        let tr = simulate(&p.model, &p.net, &th[..n], th[n].exp(), p.steps, None, None);
        for (i, o) in tr.onsets(p.model.x_seizure).iter().enumerate() {
            if o.is_some() {
                seize[i] += 1;
            }
        }
    }
    let regions = (0..n)
        .map(|i| {
            let mut v: Vec<f64> = draws.iter().map(|d| d[i]).collect();
            v.sort_by(f64::total_cmp);
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
            let p_ez = v.iter().filter(|&&x| x > X0_CRITICAL).count() as f64 / v.len() as f64;
            let p_seize = seize[i] as f64 / sim.len() as f64;
            let class = if p_ez > 0.5 {
                "EZ"
            } else if p_seize > 0.5 {
                "PZ"
            } else {
                "healthy"
            };
            RegionPosterior {
                region: i,
                label: labels.get(i).cloned().unwrap_or_else(|| i.to_string()),
                map: map.x[i],
                mean,
                sd,
                q05: quantile(&v, 0.05),
                q95: quantile(&v, 0.95),
                p_ez,
                p_seize,
                class: class.into(),
            }
        })
        .collect();
    let mut k: Vec<f64> = draws.iter().map(|d| d[n].exp()).collect();
    k.sort_by(f64::total_cmp);
    FitResult {
        method: method.into(),
        map_value: map.value,
        map_iterations: map.iterations,
        k_map: map.x[n].exp(),
        k_mean: k.iter().sum::<f64>() / k.len() as f64,
        k_interval: [quantile(&k, 0.05), quantile(&k, 0.95)],
        regions,
        diagnostics: None,
        seconds: 0.0,
    }
}

/// Laplace draws screened by the exact posterior: a draw is kept when
/// `U(θ) − U(θ_MAP)` stays below the 4-σ bound of its Gaussian value,
/// `d/2 + 4 √(d/2)` (χ²_d / 2). The Laplace approximation is local: it cannot
/// see that raising a healthy region's x0 past the bifurcation would start a
/// seizure the recordings do not show; the screen drops such draws. Draws in
/// batches until `count` are kept or `10 · count` were tried (the MAP is
/// always kept).
pub fn screened_draws(
    p: &Problem,
    lap: &Laplace,
    u_map: f64,
    count: usize,
    rng: &mut Rng,
) -> (Vec<Vec<f64>>, usize) {
    let d = lap.mean.len() as f64;
    let bound = d / 2.0 + 4.0 * (d / 2.0).sqrt();
    let mut kept = vec![lap.mean.clone()];
    let mut tried = 0;
    while kept.len() < count && tried < 10 * count {
        let th = lap.draws(1, rng).pop().expect("one draw");
        tried += 1;
        let u = p.value(&th);
        if u.is_finite() && u - u_map <= bound {
            kept.push(th);
        }
    }
    (kept, tried)
}

/// MAP + Laplace (screened draws): the fast path. Returns the result and the draws used.
pub fn fit_laplace(
    patient: &Patient,
    s: &FitSettings,
) -> Result<(FitResult, Vec<Vec<f64>>), VepError> {
    let t0 = std::time::Instant::now();
    let (p, feats) = problem(patient, s)?;
    let m = map(&p, &feats, s);
    let lap = laplace(&p, &m.x);
    let mut rng = Rng::new(s.seed, 0x1A9);
    let (draws, _tried) = screened_draws(&p, &lap, m.value, 300, &mut rng);
    let mut r = summarize(&p, &patient.meta.labels, &m, &draws, s, "laplace");
    r.seconds = t0.elapsed().as_secs_f64();
    Ok((r, draws))
}

/// MAP + Laplace, then HMC preconditioned by the Laplace factor.
pub fn fit_hmc(
    patient: &Patient,
    s: &FitSettings,
    hs: &crate::hmc::HmcSettings,
) -> Result<(FitResult, Vec<Vec<f64>>), VepError> {
    let t0 = std::time::Instant::now();
    let (p, feats) = problem(patient, s)?;
    let m = map(&p, &feats, s);
    let lap = laplace(&p, &m.x);
    let (draws, diag) = crate::hmc::sample(&p, &lap, hs);
    let mut r = summarize(&p, &patient.meta.labels, &m, &draws, s, "hmc");
    r.diagnostics = Some(diag);
    r.seconds = t0.elapsed().as_secs_f64();
    Ok((r, draws))
}
