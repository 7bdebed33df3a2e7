//! `predict`: virtual interventions under the posterior.
//!
//! An [`Intervention`] removes regions (all their connections cut and their
//! activity gone), cuts individual connections, and/or applies a stimulus
//! ([`Stimulus`]: amplitude, pulse frequency and width, target regions). For
//! each posterior draw the deterministic network is simulated over a horizon
//! and the recruitment recorded: which regions seize (`x > x_seizure`) and
//! when. Over the draws this gives `P(seizure-free)`, the expected number of
//! recruited regions and each region's `P(seize)` and median onset.
//!
//! Candidate resections are ranked by predicted seizure freedom, then by
//! tissue removed (number of regions, or their summed area when known).

use serde::{Deserialize, Serialize};

use crate::fit::FitResult;
use crate::model::{simulate, ModelParams, Network, Stimulus};

/// A virtual intervention.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Intervention {
    /// Name shown in reports.
    pub name: String,
    /// Regions removed.
    pub resect: Vec<usize>,
    /// Connections cut `(a, b)` (both directions).
    pub cut: Vec<(usize, usize)>,
    /// Stimulation protocol.
    pub stimulus: Option<Stimulus>,
}

/// Recruitment in one simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct Recruitment {
    /// Onset time \[s\] per region (`None`: never seizes; removed regions never do).
    pub onset_s: Vec<Option<f64>>,
}

impl Recruitment {
    /// Regions that seize.
    pub fn seized(&self) -> Vec<usize> {
        (0..self.onset_s.len())
            .filter(|&i| self.onset_s[i].is_some())
            .collect()
    }
}

/// Simulates one parameter set under an intervention for `steps` steps.
pub fn recruitment(
    model: &ModelParams,
    net: &Network,
    x0: &[f64],
    k: f64,
    steps: usize,
    iv: &Intervention,
) -> Recruitment {
    let net = net.without(&iv.resect).cut(&iv.cut);
    let mut x0 = x0.to_vec();
    for &r in &iv.resect {
        x0[r] = -5.0;
    }
    let tr = simulate(model, &net, &x0, k, steps, iv.stimulus.as_ref(), None);
    let mut onset_s = tr.onsets(model.x_seizure);
    for &r in &iv.resect {
        onset_s[r] = None;
    }
    Recruitment { onset_s }
}

/// Predicted outcome of one intervention over posterior draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The intervention.
    pub intervention: Intervention,
    /// Tissue removed (regions, or summed area).
    pub tissue_removed: f64,
    /// Fraction of draws in which no region seizes.
    pub p_seizure_free: f64,
    /// Mean number of regions that seize.
    pub mean_recruited: f64,
    /// Per region, fraction of draws in which it seizes.
    pub p_seize: Vec<f64>,
    /// Per region, median onset \[s\] over the draws in which it seizes.
    pub median_onset_s: Vec<Option<f64>>,
}

/// Evaluates interventions over `draws` (θ = x0…, ln K).
pub fn evaluate(
    model: &ModelParams,
    net: &Network,
    draws: &[Vec<f64>],
    horizon_s: f64,
    interventions: &[Intervention],
    areas: Option<&[f64]>,
) -> Vec<Outcome> {
    let n = net.n;
    let steps = (horizon_s / model.dt_s).round() as usize;
    interventions
        .iter()
        .map(|iv| {
            let mut onsets: Vec<Vec<f64>> = vec![vec![]; n];
            let mut free = 0usize;
            let mut total = 0usize;
            for th in draws {
                let r = recruitment(model, net, &th[..n], th[n].exp(), steps, iv);
                let s = r.seized();
                if s.is_empty() {
                    free += 1;
                }
                total += s.len();
                for i in s {
                    onsets[i].push(r.onset_s[i].unwrap_or(0.0));
                }
            }
            let m = draws.len().max(1) as f64;
            let tissue = match areas {
                Some(a) => iv.resect.iter().map(|&r| a[r]).sum(),
                None => iv.resect.len() as f64,
            };
            Outcome {
                intervention: iv.clone(),
                tissue_removed: tissue,
                p_seizure_free: free as f64 / m,
                mean_recruited: total as f64 / m,
                p_seize: onsets.iter().map(|o| o.len() as f64 / m).collect(),
                median_onset_s: onsets
                    .iter_mut()
                    .map(|o| {
                        o.sort_by(f64::total_cmp);
                        o.get(o.len() / 2).copied()
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Candidate resections from a fit: none, the posterior EZ, EZ ∪ PZ, each of
/// the `top` most likely epileptogenic regions alone, and their pairs.
pub fn candidates(fit: &FitResult, top: usize) -> Vec<Intervention> {
    let mut by_p: Vec<&crate::fit::RegionPosterior> = fit.regions.iter().collect();
    by_p.sort_by(|a, b| b.p_ez.total_cmp(&a.p_ez).then(b.mean.total_cmp(&a.mean)));
    let top: Vec<usize> = by_p.iter().take(top).map(|r| r.region).collect();
    let label = |r: usize| fit.regions[r].label.clone();
    let mut out = vec![Intervention {
        name: "no intervention".into(),
        ..Default::default()
    }];
    let ez = fit.ez();
    if !ez.is_empty() {
        out.push(Intervention {
            name: "resect posterior EZ".into(),
            resect: ez.clone(),
            ..Default::default()
        });
        let mut ezpz = ez.clone();
        ezpz.extend(fit.pz());
        if ezpz.len() > ez.len() {
            out.push(Intervention {
                name: "resect EZ + PZ".into(),
                resect: ezpz,
                ..Default::default()
            });
        }
    }
    for (a, &r) in top.iter().enumerate() {
        out.push(Intervention {
            name: format!("resect {}", label(r)),
            resect: vec![r],
            ..Default::default()
        });
        for &q in &top[a + 1..] {
            let mut v = vec![r, q];
            v.sort();
            if v != ez {
                out.push(Intervention {
                    name: format!("resect {} + {}", label(r), label(q)),
                    resect: v,
                    ..Default::default()
                });
            }
        }
    }
    out
}

/// Sorts outcomes: highest `P(seizure-free)` first, then least tissue.
pub fn rank(outcomes: &mut [Outcome]) {
    outcomes.sort_by(|a, b| {
        b.p_seizure_free
            .total_cmp(&a.p_seizure_free)
            .then(a.tissue_removed.total_cmp(&b.tissue_removed))
            .then(a.mean_recruited.total_cmp(&b.mean_recruited))
    });
}
