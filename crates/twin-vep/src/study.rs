//! Accuracy study: synthetic patients with known truth, fitted by MAP +
//! Laplace, EZ precision and recall per condition.
//!
//! Each case writes a patient folder and its truth folder under the work
//! directory, fits the patient from the folder (the same path a clinic's data
//! takes), reads the truth back ([`load_truth`], which fails clearly when it is
//! missing) and compares the posterior EZ with the true EZ. Precision and recall
//! are micro-averaged over the patients of a condition:
//! `precision = Σ|EZ_fit ∩ EZ_true| / Σ|EZ_fit|`, `recall = Σ|EZ_fit ∩ EZ_true| / Σ|EZ_true|`.

use std::path::Path;

use serde::{Deserialize, Serialize};
use twin_brain::Connectome;

use crate::fit::{fit_laplace, FitSettings};
use crate::model::ProcessNoise;
use crate::patient::{default_truth_dir, load_truth, synthesize, Patient, SyntheticSpec};
use crate::VepError;

/// One study condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// Name.
    pub name: String,
    /// Connectome size (76 or 192).
    pub regions: usize,
    /// Noise multiplier on the default measurement and process noise.
    pub noise: f64,
    /// Shafts implanted.
    pub shafts: usize,
    /// Fraction of the EZ that shafts are aimed at.
    pub ez_coverage: f64,
    /// Patients (seeds).
    pub patients: usize,
}

/// Result of one patient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    /// Condition name.
    pub condition: String,
    /// Seed.
    pub seed: u64,
    /// True EZ.
    pub ez_true: Vec<usize>,
    /// Fitted EZ.
    pub ez_fit: Vec<usize>,
    /// Fit wall time \[s\].
    pub seconds: f64,
}

/// Summary of one condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionSummary {
    /// The condition.
    pub condition: Condition,
    /// Micro-averaged precision.
    pub precision: f64,
    /// Micro-averaged recall.
    pub recall: f64,
    /// Patients whose EZ was recovered exactly.
    pub exact: usize,
    /// Mean fit time \[s\].
    pub mean_seconds: f64,
}

/// The default conditions (≥ 20 patients; 76 and 192 regions; noise; sparse sensors).
pub fn default_conditions(scale: usize) -> Vec<Condition> {
    let c = |name: &str, regions, noise, shafts, ez_coverage, patients: usize| Condition {
        name: name.into(),
        regions,
        noise,
        shafts,
        ez_coverage,
        patients: (patients * scale).max(1),
    };
    vec![
        c("76, low noise", 76, 0.5, 8, 1.0, 6),
        c("76, moderate noise", 76, 1.0, 8, 1.0, 6),
        c("76, high noise", 76, 2.0, 8, 1.0, 6),
        c("76, very high noise", 76, 4.0, 8, 1.0, 6),
        c("76, sparse sensors", 76, 1.0, 4, 0.5, 6),
        c("192, moderate noise", 192, 1.0, 10, 1.0, 4),
        c("76, noise x8", 76, 8.0, 8, 1.0, 4),
        c("76, noise x16", 76, 16.0, 8, 1.0, 4),
    ]
}

/// Runs the study; `connectome(n)` loads the n-region connectome.
pub fn run(
    conditions: &[Condition],
    connectome: &dyn Fn(usize) -> Result<Connectome, VepError>,
    work: &Path,
    progress: &mut dyn FnMut(&CaseResult),
) -> Result<(Vec<ConditionSummary>, Vec<CaseResult>), VepError> {
    let mut cases = Vec::new();
    let mut summaries = Vec::new();
    for (ci, cond) in conditions.iter().enumerate() {
        let conn = connectome(cond.regions)?;
        let (mut tp, mut npred, mut ntrue, mut exact, mut secs) = (0, 0, 0, 0, 0.0);
        for p in 0..cond.patients {
            let seed = 1000 * ci as u64 + p as u64 + 1;
            let d = SyntheticSpec::default();
            let spec = SyntheticSpec {
                seed,
                n_ez: 1 + p % 3,
                n_pz: 2 + p % 3,
                k: 1.5 + (p % 4) as f64 * 0.3,
                n_shafts: cond.shafts,
                ez_coverage: cond.ez_coverage,
                measurement_noise: d.measurement_noise * cond.noise,
                process_noise: ProcessNoise {
                    sigma_x: d.process_noise.sigma_x * cond.noise,
                    sigma_z: d.process_noise.sigma_z * cond.noise,
                },
                ..d
            };
            let dir = work.join(format!("c{ci}-p{p}"));
            let syn = synthesize(&conn, &spec)?;
            syn.write(&dir, &default_truth_dir(&dir))?;
            let patient = Patient::load(&dir)?;
            let (fit, _) = fit_laplace(&patient, &FitSettings::default())?;
            let truth = load_truth(&default_truth_dir(&dir), &dir)?;
            let ez_fit = fit.ez();
            let hit = ez_fit.iter().filter(|r| truth.ez.contains(r)).count();
            tp += hit;
            npred += ez_fit.len();
            ntrue += truth.ez.len();
            if hit == truth.ez.len() && ez_fit.len() == hit {
                exact += 1;
            }
            secs += fit.seconds;
            let case = CaseResult {
                condition: cond.name.clone(),
                seed,
                ez_true: truth.ez,
                ez_fit,
                seconds: fit.seconds,
            };
            progress(&case);
            cases.push(case);
        }
        summaries.push(ConditionSummary {
            condition: cond.clone(),
            precision: if npred == 0 {
                0.0
            } else {
                tp as f64 / npred as f64
            },
            recall: if ntrue == 0 {
                0.0
            } else {
                tp as f64 / ntrue as f64
            },
            exact,
            mean_seconds: secs / cond.patients as f64,
        });
    }
    Ok((summaries, cases))
}

/// A Markdown table of the summaries.
pub fn markdown(s: &[ConditionSummary]) -> String {
    let mut out = String::from("| condition | regions | noise × | shafts | EZ coverage | patients | precision | recall | exact | mean fit [s] |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for c in s {
        let k = &c.condition;
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {:.2} | {:.2} | {} | {:.1} |\n",
            k.name,
            k.regions,
            k.noise,
            k.shafts,
            k.ez_coverage,
            k.patients,
            c.precision,
            c.recall,
            c.exact,
            c.mean_seconds
        ));
    }
    out
}
