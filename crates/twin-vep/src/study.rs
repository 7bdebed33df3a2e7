//! Accuracy study: synthetic patients with known truth, fitted by MAP +
//! Laplace, EZ precision and recall per condition.
//!
//! Each case writes a patient folder and its truth folder under the work
//! directory, fits the patient from the folder (the same path a clinic's data
//! takes), reads the truth back ([`load_truth`], which fails clearly when it is
//! missing) and compares the posterior EZ with the true EZ. Precision and recall
//! are micro-averaged over the patients of a condition:
//! `precision = Σ|EZ_fit ∩ EZ_true| / Σ|EZ_fit|`, `recall = Σ|EZ_fit ∩ EZ_true| / Σ|EZ_true|`.
//!
//! # Identifiability
//!
//! A distance-based gain cannot tell apart regions that share a centre
//! ([`centre_groups`]); tvb-data's 192-region connectome puts 116 regions on
//! one placeholder centre. Besides the headline (every true EZ region), each
//! condition reports the share of true EZ regions with a centre of their own
//! ("observable"), the recall on those, and precision / recall at the level of
//! centre groups (a fitted region counts as right when it shares the centre of
//! a true EZ region, i.e. the EZ is found up to what the sensors can resolve).

use std::path::Path;

use serde::{Deserialize, Serialize};
use twin_brain::Connectome;

use crate::fit::{fit_laplace, FitSettings};
use crate::onset::Likelihood;
use crate::patient::{
    default_truth_dir, load_truth, synthesize, GivenSensors, Patient, SyntheticSpec,
};
use crate::sensors::{centre_groups, has_own_centre, read_sensor_file};
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
    /// Draw the EZ only among regions with a centre of their own.
    #[serde(default)]
    pub ez_own_centre: bool,
    /// Patient `p` gets seed `seed_base + p + 1` (the list position × 1000 in
    /// [`default_conditions`], so a subset reproduces the full run's patients).
    #[serde(default)]
    pub seed_base: u64,
    /// A sensor file of tvb-data (e.g. `seeg_588.txt`) used for every patient
    /// instead of generated shafts (then `shafts` and `ez_coverage` are unused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensors: Option<String>,
    /// With `sensors`: the EZ only among regions with a contact within this many mm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ez_within_mm: Option<f64>,
    /// Run only patients `first_patient..patients` (to extend an earlier run
    /// with more patients of the same seeds).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub first_patient: usize,
    /// Observation model of the MAP fits (window-by-window log power, or onsets).
    #[serde(default)]
    pub likelihood: Likelihood,
}

fn is_zero(v: &usize) -> bool {
    *v == 0
}

/// Where a study finds its data: connectomes by size, sensor files by name.
pub struct StudyData<'a> {
    /// Loads the n-region connectome.
    pub connectome: &'a dyn Fn(usize) -> Result<Connectome, VepError>,
    /// Loads a named sensor file.
    pub sensors: &'a dyn Fn(&str) -> Result<GivenSensors, VepError>,
}

impl std::fmt::Debug for StudyData<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StudyData")
    }
}

impl StudyData<'_> {
    /// Data from a folder holding tvb-data's files (`connectivity_N.zip`,
    /// `seeg_588.txt`, `seeg_39.txt.bz2`; `scripts/fetch-tvb-data`), handed to `f`.
    pub fn with_folder<T>(dir: &Path, f: impl FnOnce(&StudyData) -> T) -> T {
        let conn = |n: usize| -> Result<Connectome, VepError> {
            Ok(Connectome::from_path(
                dir.join(format!("connectivity_{n}.zip")),
            )?)
        };
        let sensors = |name: &str| -> Result<GivenSensors, VepError> {
            let path = dir.join(name);
            Ok(GivenSensors {
                file: path.display().to_string(),
                contacts: read_sensor_file(&path)?,
            })
        };
        f(&StudyData {
            connectome: &conn,
            sensors: &sensors,
        })
    }
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
    /// True EZ regions with a centre of their own (observable by SEEG).
    #[serde(default)]
    pub ez_observable: Vec<usize>,
    /// Centre groups of the true EZ (smallest member index, deduplicated).
    #[serde(default)]
    pub ez_true_groups: Vec<usize>,
    /// Centre groups of the fitted EZ.
    #[serde(default)]
    pub ez_fit_groups: Vec<usize>,
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
    /// Share of true EZ regions with a centre of their own.
    #[serde(default)]
    pub observable_fraction: f64,
    /// Recall on the observable true EZ regions.
    #[serde(default)]
    pub recall_observable: f64,
    /// Precision over centre groups.
    #[serde(default)]
    pub group_precision: f64,
    /// Recall over centre groups.
    #[serde(default)]
    pub group_recall: f64,
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
        ez_own_centre: false,
        seed_base: 0,
        sensors: None,
        ez_within_mm: None,
        first_patient: 0,
        likelihood: Likelihood::Power,
    };
    let mut v = vec![
        c("76, low noise", 76, 0.5, 8, 1.0, 6),
        c("76, moderate noise", 76, 1.0, 8, 1.0, 6),
        c("76, high noise", 76, 2.0, 8, 1.0, 6),
        c("76, very high noise", 76, 4.0, 8, 1.0, 6),
        c("76, sparse sensors", 76, 1.0, 4, 0.5, 6),
        c("192, moderate noise", 192, 1.0, 10, 1.0, 20),
        c("76, noise x8", 76, 8.0, 8, 1.0, 4),
        c("76, noise x16", 76, 16.0, 8, 1.0, 4),
        Condition {
            ez_own_centre: true,
            ..c("192, EZ at own centres", 192, 1.0, 10, 1.0, 20)
        },
        c("76, sparse sensors, high noise", 76, 2.0, 4, 0.5, 6),
        c("76, sparse sensors, very high noise", 76, 4.0, 4, 0.5, 6),
        Condition {
            sensors: Some("seeg_588.txt".into()),
            ..c("76, tvb-data seeg_588", 76, 1.0, 0, 0.0, 6)
        },
        Condition {
            sensors: Some("seeg_39.txt.bz2".into()),
            ..c("76, tvb-data seeg_39", 76, 1.0, 0, 0.0, 6)
        },
        Condition {
            sensors: Some("seeg_588.txt".into()),
            ez_within_mm: Some(5.0),
            ..c(
                "76, seeg_588, EZ within 5 mm of a contact",
                76,
                1.0,
                0,
                0.0,
                6,
            )
        },
    ];
    for (i, c) in v.iter_mut().enumerate() {
        c.seed_base = 1000 * i as u64;
    }
    v
}

/// The synthetic patient `p` (0-based) of a condition: seed `seed_base + p + 1`,
/// EZ of `1 + p % 3` regions, `2 + p % 3` PZ candidates, K = 1.5 + 0.3 (p % 4).
pub fn patient_spec(cond: &Condition, p: usize, sensors: Option<GivenSensors>) -> SyntheticSpec {
    SyntheticSpec {
        seed: cond.seed_base + p as u64 + 1,
        n_ez: 1 + p % 3,
        n_pz: 2 + p % 3,
        k: 1.5 + (p % 4) as f64 * 0.3,
        n_shafts: cond.shafts,
        ez_coverage: cond.ez_coverage,
        ez_own_centre: cond.ez_own_centre,
        sensors,
        ez_within_mm: cond.ez_within_mm,
        ..SyntheticSpec::default()
    }
    .noise_scaled(cond.noise)
}

/// Runs the study on `data`.
pub fn run(
    conditions: &[Condition],
    data: &StudyData,
    work: &Path,
    progress: &mut dyn FnMut(&CaseResult),
) -> Result<(Vec<ConditionSummary>, Vec<CaseResult>), VepError> {
    let mut cases = Vec::new();
    let mut summaries = Vec::new();
    for cond in conditions {
        let conn = (data.connectome)(cond.regions)?;
        let sensors = cond.sensors.as_deref().map(data.sensors).transpose()?;
        let groups = centre_groups(conn.centres());
        let (mut tp, mut npred, mut ntrue, mut exact, mut secs) = (0, 0, 0, 0, 0.0);
        let (mut n_obs, mut tp_obs) = (0, 0);
        let (mut g_tp_fit, mut g_fit, mut g_tp_true, mut g_true) = (0, 0, 0, 0);
        for p in cond.first_patient..cond.patients {
            let spec = patient_spec(cond, p, sensors.clone());
            let seed = spec.seed;
            let dir = work.join(format!("s{seed}"));
            let syn = synthesize(&conn, &spec)?;
            syn.write(&dir, &default_truth_dir(&dir))?;
            let patient = Patient::load(&dir)?;
            let settings = FitSettings {
                likelihood: cond.likelihood,
                ..FitSettings::default()
            };
            let (fit, _) = fit_laplace(&patient, &settings)?;
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
            let ez_observable: Vec<usize> = truth
                .ez
                .iter()
                .copied()
                .filter(|&r| has_own_centre(&groups, r))
                .collect();
            n_obs += ez_observable.len();
            tp_obs += ez_observable.iter().filter(|r| ez_fit.contains(r)).count();
            let group_set = |rs: &[usize]| {
                let mut g: Vec<usize> = rs.iter().map(|&r| groups[r]).collect();
                g.sort();
                g.dedup();
                g
            };
            let (ez_true_groups, ez_fit_groups) = (group_set(&truth.ez), group_set(&ez_fit));
            g_fit += ez_fit_groups.len();
            g_tp_fit += ez_fit_groups
                .iter()
                .filter(|g| ez_true_groups.contains(g))
                .count();
            g_true += ez_true_groups.len();
            g_tp_true += ez_true_groups
                .iter()
                .filter(|g| ez_fit_groups.contains(g))
                .count();
            let case = CaseResult {
                condition: cond.name.clone(),
                seed,
                ez_true: truth.ez,
                ez_fit,
                ez_observable,
                ez_true_groups,
                ez_fit_groups,
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
            mean_seconds: secs / cond.patients.saturating_sub(cond.first_patient).max(1) as f64,
            observable_fraction: ratio(n_obs, ntrue),
            recall_observable: ratio(tp_obs, n_obs),
            group_precision: ratio(g_tp_fit, g_fit),
            group_recall: ratio(g_tp_true, g_true),
        });
    }
    Ok((summaries, cases))
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// A Markdown table of the summaries.
pub fn markdown(s: &[ConditionSummary]) -> String {
    let mut out = String::from("| condition | regions | noise × | shafts (or sensor file) | EZ coverage | patients | precision | recall | exact | EZ observable | recall (observable) | group P / R | mean fit [s] |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for c in s {
        let k = &c.condition;
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {:.2} | {:.2} | {} | {:.2} | {:.2} | {:.2} / {:.2} | {:.1} |\n",
            k.name,
            k.regions,
            k.noise,
            match &k.sensors {
                Some(f) => format!("`{f}`"),
                None => k.shafts.to_string(),
            },
            match &k.sensors {
                Some(_) => "–".to_string(),
                None => k.ez_coverage.to_string(),
            },
            k.patients,
            c.precision,
            c.recall,
            c.exact,
            c.observable_fraction,
            c.recall_observable,
            c.group_precision,
            c.group_recall,
            c.mean_seconds
        ));
    }
    out
}
