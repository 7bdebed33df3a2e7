//! `twin brain vep …`: the virtual epileptic patient workflow.
//!
//! * `patient`: a synthetic patient folder (and its truth folder, kept apart).
//! * `features`: bipolar log-power envelopes and onsets of any SEEG array.
//! * `fit`: MAP + Laplace (default) or HMC posterior over x0 and K.
//! * `predict`: virtual resections and stimulation under the posterior.
//! * `report`: an HTML page with inline SVG figures.
//! * `study`: the accuracy study on synthetic patients.
//! * `scenario`: a federation scenario (`twin run`) of the fitted patient under
//!   closed-loop, open-loop or no stimulation.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use twin_brain::Connectome;
use twin_vep::{
    features::{compute, FeatureParams, Features},
    fit::{fit_hmc, fit_laplace, problem, FitResult, FitSettings},
    hmc::{HmcSettings, Metric, Sampler},
    io::{read_json, read_matrix_csv, read_matrix_npy, write_json, write_matrix_npy},
    model::Stimulus,
    onset::Likelihood,
    patient::{
        default_truth_dir, load_truth, synthesize, toy_connectome, GivenSensors, Patient,
        SyntheticSpec,
    },
    predict::{candidates, evaluate, rank, Intervention, Outcome},
    report::{render, ReportInput},
    sensors::{contacts_from_names, read_sensor_file},
    study,
};

/// `twin brain vep` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum VepCmd {
    /// Build a synthetic patient (connectome, contacts, gain, SEEG; truth apart).
    Patient(PatientArgs),
    /// Compute SEEG features (bipolar log-power envelope, onsets) of a recording.
    Features(FeaturesArgs),
    /// Fit the posterior over regional excitability x0 and coupling K.
    Fit(FitArgs),
    /// Predict seizure recruitment under virtual resections and stimulation.
    Predict(PredictArgs),
    /// Write an HTML report with figures.
    Report(ReportArgs),
    /// Run the EZ-recovery accuracy study on synthetic patients.
    Study(StudyArgs),
    /// Write a `twin run` scenario of the fitted patient with its stimulation controller.
    Scenario(ScenarioArgs),
}

/// Arguments of `scenario`.
#[derive(Args, Debug)]
pub(crate) struct ScenarioArgs {
    /// Patient folder.
    #[arg(long)]
    patient: PathBuf,
    /// Fit folder with posterior.json (default `<patient>/fit`).
    #[arg(long)]
    fit: Option<PathBuf>,
    /// Scenario file to write; the patient's connectome goes to `<out stem>-connectome/`.
    #[arg(long)]
    out: PathBuf,
    /// Controller mode: closed, open or off.
    #[arg(long, default_value = "closed")]
    mode: String,
    /// Simulated time [s].
    #[arg(long, default_value_t = 60.0)]
    duration_s: f64,
    /// Stimulus current on x1 while stimulating (model units, as `u` of the fit's model).
    #[arg(long, default_value_t = -1.0)]
    amplitude: f64,
}

/// Arguments of `patient`.
#[derive(Args, Debug)]
pub(crate) struct PatientArgs {
    /// TVB connectivity zip or folder, or `toy:N` for a generated N-region connectome.
    #[arg(long)]
    connectome: String,
    /// Output patient folder.
    #[arg(long)]
    out: PathBuf,
    /// Truth folder (default: `<out>-truth`).
    #[arg(long)]
    truth_out: Option<PathBuf>,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of EZ regions.
    #[arg(long, default_value_t = 2)]
    n_ez: usize,
    /// Number of PZ candidates.
    #[arg(long, default_value_t = 3)]
    n_pz: usize,
    /// Global coupling K.
    #[arg(long, default_value_t = 2.0)]
    k: f64,
    /// SEEG shafts.
    #[arg(long, default_value_t = 8)]
    shafts: usize,
    /// Contacts per shaft.
    #[arg(long, default_value_t = 10)]
    contacts: usize,
    /// Fraction of the EZ that shafts target (sparse coverage below 1).
    #[arg(long, default_value_t = 1.0)]
    ez_coverage: f64,
    /// SEEG contacts from a TVB sensor file (`name x y z` in mm, plain or
    /// `.bz2`, e.g. tvb-data's `seeg_588.txt`) instead of generated shafts.
    #[arg(long, conflicts_with_all = ["shafts", "contacts", "ez_coverage"])]
    sensors: Option<PathBuf>,
    /// Recording length [s].
    #[arg(long, default_value_t = 30.0)]
    duration_s: f64,
    /// Noise multiplier on the default measurement and process noise.
    #[arg(long, default_value_t = 1.0)]
    noise: f64,
}

/// Arguments of `features`.
#[derive(Args, Debug)]
pub(crate) struct FeaturesArgs {
    /// A patient folder (uses its seeg.npy and contacts) …
    #[arg(long, conflicts_with = "seeg")]
    patient: Option<PathBuf>,
    /// … or a recording `.npy` (samples × contacts) or `.csv` (header = contact names).
    #[arg(long)]
    seeg: Option<PathBuf>,
    /// Sampling rate of `--seeg` [Hz].
    #[arg(long)]
    fs_hz: Option<f64>,
    /// Contact names of a `.npy` recording, comma-separated (`A1,A2,…`).
    #[arg(long, value_delimiter = ',')]
    names: Vec<String>,
    /// Output JSON.
    #[arg(long)]
    out: PathBuf,
}

/// Arguments of `fit`.
#[derive(Args, Debug)]
pub(crate) struct FitArgs {
    /// Patient folder.
    #[arg(long)]
    patient: PathBuf,
    /// Output folder (default `<patient>/fit`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Sample the posterior with HMC after MAP + Laplace.
    #[arg(long)]
    sample: bool,
    /// HMC chains.
    #[arg(long, default_value_t = 4)]
    chains: usize,
    /// HMC warm-up iterations per chain.
    #[arg(long, default_value_t = 200)]
    warmup: usize,
    /// HMC draws per chain.
    #[arg(long, default_value_t = 200)]
    draws: usize,
    /// Sampler: `nuts` (No-U-Turn) or `static` (fixed trajectory length).
    #[arg(long, default_value = "nuts")]
    sampler: String,
    /// NUTS warm-up metric: `dense` (Stan's doubling windows, re-whitened by
    /// each window's covariance) or `diag` (one window, diagonal).
    #[arg(long, default_value = "diag")]
    metric: String,
    /// Target acceptance probability of the step-size adaptation.
    #[arg(long, default_value_t = 0.95)]
    target_accept: f64,
    /// Clinical hypothesis: region indices with a raised prior mean.
    #[arg(long, value_delimiter = ',')]
    hypothesis: Vec<usize>,
    /// Observation noise of the log-power features.
    #[arg(long, default_value_t = 0.5)]
    sigma: f64,
    /// Observation model, the same for MAP and sampling: `power` (every
    /// log-power window) or `onset` (one censored onset time per channel,
    /// smooth enough for NUTS to converge; validation/vep/nuts/onset).
    #[arg(long, default_value = "power")]
    likelihood: String,
    /// Onset-time uncertainty σ_T of `--likelihood onset` [s].
    #[arg(long, default_value_t = 1.0)]
    onset_sd: f64,
    /// Seed.
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

/// Arguments of `predict`.
#[derive(Args, Debug)]
pub(crate) struct PredictArgs {
    /// Patient folder.
    #[arg(long)]
    patient: PathBuf,
    /// Fit folder (default `<patient>/fit`).
    #[arg(long)]
    fit: Option<PathBuf>,
    /// Extra resection to evaluate: region indices, comma-separated.
    #[arg(long, value_delimiter = ',')]
    resect: Vec<usize>,
    /// Stimulation targets (region indices).
    #[arg(long, value_delimiter = ',')]
    stim_targets: Vec<usize>,
    /// Stimulation amplitude (negative hyperpolarises).
    #[arg(long, default_value_t = -1.0, allow_hyphen_values = true)]
    stim_amplitude: f64,
    /// Stimulation pulse frequency [Hz] (0 = constant).
    #[arg(long, default_value_t = 0.0)]
    stim_frequency_hz: f64,
    /// Pulse width [s].
    #[arg(long, default_value_t = 0.05)]
    stim_width_s: f64,
    /// Stimulation start and stop [s].
    #[arg(long, value_delimiter = ',', default_values_t = [0.0, 1e9])]
    stim_window_s: Vec<f64>,
    /// Simulated horizon [s].
    #[arg(long, default_value_t = 60.0)]
    horizon_s: f64,
    /// Posterior draws used.
    #[arg(long, default_value_t = 100)]
    draws: usize,
    /// Regions considered for single and paired resections.
    #[arg(long, default_value_t = 4)]
    top: usize,
    /// Output JSON (default `<fit>/predict.json`).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Arguments of `report`.
#[derive(Args, Debug)]
pub(crate) struct ReportArgs {
    /// Patient folder.
    #[arg(long)]
    patient: PathBuf,
    /// Fit folder (default `<patient>/fit`; its predict.json is used when present).
    #[arg(long)]
    fit: Option<PathBuf>,
    /// Truth folder to overlay (synthetic patients).
    #[arg(long)]
    truth: Option<PathBuf>,
    /// Output HTML.
    #[arg(long)]
    out: PathBuf,
}

/// Arguments of `study`.
#[derive(Args, Debug)]
pub(crate) struct StudyArgs {
    /// Folder of tvb-data connectivity zips (connectivity_76.zip, connectivity_192.zip).
    #[arg(long, default_value = "crates/twin-brain/tests/data/tvb-data")]
    tvb_data: PathBuf,
    /// Results folder (results.json, results.md).
    #[arg(long)]
    out: PathBuf,
    /// Work folder for patient folders (default: a temporary folder).
    #[arg(long)]
    work: Option<PathBuf>,
    /// Multiplies the number of patients per condition.
    #[arg(long, default_value_t = 1)]
    scale: usize,
    /// Run only the conditions whose name contains one of these (comma-separated).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Observation model of the MAP fits: `power` or `onset` (as `fit`).
    #[arg(long, default_value = "power")]
    likelihood: String,
}

/// Runs a `twin brain vep` subcommand.
pub(crate) fn dispatch(cmd: VepCmd) -> Result<()> {
    match cmd {
        VepCmd::Patient(a) => patient(a),
        VepCmd::Features(a) => features(a),
        VepCmd::Fit(a) => fit(a),
        VepCmd::Predict(a) => predict(a),
        VepCmd::Report(a) => report(a),
        VepCmd::Study(a) => run_study(a),
        VepCmd::Scenario(a) => scenario(a),
    }
}

fn load_connectome(spec: &str) -> Result<Connectome> {
    if let Some(n) = spec.strip_prefix("toy:") {
        let n: usize = n
            .parse()
            .with_context(|| format!("`{spec}`: toy:N needs a number"))?;
        if !(4..=1000).contains(&n) {
            bail!("`{spec}`: toy:N needs 4 ≤ N ≤ 1000");
        }
        return Ok(toy_connectome(n, 3));
    }
    Ok(Connectome::from_path(spec)?)
}

fn patient(a: PatientArgs) -> Result<()> {
    let conn = load_connectome(&a.connectome)?;
    let spec = SyntheticSpec {
        seed: a.seed,
        n_ez: a.n_ez,
        n_pz: a.n_pz,
        k: a.k,
        n_shafts: a.shafts,
        contacts_per_shaft: a.contacts,
        ez_coverage: a.ez_coverage,
        duration_s: a.duration_s,
        sensors: match &a.sensors {
            Some(f) => Some(GivenSensors {
                file: f.display().to_string(),
                contacts: read_sensor_file(f)?,
            }),
            None => None,
        },
        ..SyntheticSpec::default()
    }
    .noise_scaled(a.noise);
    let syn = synthesize(&conn, &spec)?;
    let truth = a.truth_out.unwrap_or_else(|| default_truth_dir(&a.out));
    syn.write(&a.out, &truth)?;
    println!(
        "patient {}: {} regions, {} contacts, {} samples at {} Hz; truth in {} (EZ {:?}, PZ {:?})",
        a.out.display(),
        syn.meta.labels.len(),
        syn.contacts.names.len(),
        syn.seeg.rows,
        syn.meta.sampling_rate_hz,
        truth.display(),
        syn.truth.ez,
        syn.truth.pz
    );
    Ok(())
}

fn features(a: FeaturesArgs) -> Result<()> {
    let fp = FeatureParams::default();
    let f: Features = if let Some(dir) = &a.patient {
        let p = Patient::load(dir)?;
        let file = dir.join("seeg.npy").display().to_string();
        compute(&file, &p.seeg, p.meta.sampling_rate_hz, &p.contacts, &fp)?
    } else if let Some(path) = &a.seeg {
        let fs = a.fs_hz.context("--seeg needs --fs-hz")?;
        let (m, header) = if path.extension().is_some_and(|e| e == "csv") {
            read_matrix_csv(path)?
        } else {
            (read_matrix_npy(path, "SEEG recording")?, None)
        };
        let names = if !a.names.is_empty() {
            a.names.clone()
        } else {
            header.with_context(|| {
                format!(
                    "{}: contact names needed (--names or a CSV header)",
                    path.display()
                )
            })?
        };
        compute(
            &path.display().to_string(),
            &m,
            fs,
            &contacts_from_names(&names),
            &fp,
        )?
    } else {
        bail!("give --patient DIR or --seeg FILE");
    };
    write_json(&a.out, &f)?;
    let with = f.onset_s.iter().flatten().count();
    println!(
        "{} bipolar channels, {} windows, {} with an onset → {}",
        f.channels.len(),
        f.window_start_s.len(),
        with,
        a.out.display()
    );
    Ok(())
}

fn parse_likelihood(name: &str) -> Result<Likelihood> {
    Ok(match name {
        "power" => Likelihood::Power,
        "onset" => Likelihood::Onset,
        o => bail!("--likelihood `{o}`: expected power or onset"),
    })
}

fn fit(a: FitArgs) -> Result<()> {
    let p = Patient::load(&a.patient)?;
    let likelihood = parse_likelihood(&a.likelihood)?;
    let s = FitSettings {
        sigma: a.sigma,
        hypothesis: a.hypothesis.clone(),
        seed: a.seed,
        likelihood,
        onset_sd_s: a.onset_sd,
        ..Default::default()
    };
    let (r, draws) = if a.sample {
        let sampler = match a.sampler.as_str() {
            "nuts" => Sampler::Nuts,
            "static" => Sampler::Static,
            o => bail!("--sampler `{o}`: expected nuts or static"),
        };
        let metric = match a.metric.as_str() {
            "dense" => Metric::Dense,
            "diag" => Metric::Diagonal,
            o => bail!("--metric `{o}`: expected dense or diag"),
        };
        if !(a.target_accept > 0.0 && a.target_accept < 1.0) {
            bail!(
                "--target-accept {}: expected a probability in (0, 1)",
                a.target_accept
            );
        }
        let hs = HmcSettings {
            sampler,
            metric,
            target_accept: a.target_accept,
            chains: a.chains,
            warmup: a.warmup,
            draws: a.draws,
            seed: a.seed,
            ..Default::default()
        };
        fit_hmc(&p, &s, &hs)?
    } else {
        fit_laplace(&p, &s)?
    };
    let out = a.out.unwrap_or_else(|| a.patient.join("fit"));
    std::fs::create_dir_all(&out).with_context(|| out.display().to_string())?;
    write_json(&out.join("posterior.json"), &r)?;
    let d = draws.first().map_or(0, |t| t.len());
    let flat: Vec<f64> = draws.iter().flatten().copied().collect();
    write_matrix_npy(&out.join("samples.npy"), draws.len(), d, &flat)?;
    let label = |v: Vec<usize>| {
        v.iter()
            .map(|&i| r.regions[i].label.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "{} fit in {:.1} s: EZ [{}], PZ [{}], K {:.2}",
        r.method,
        r.seconds,
        label(r.ez()),
        label(r.pz()),
        r.k_mean
    );
    if let Some(d) = &r.diagnostics {
        println!(
            "max R-hat {:.3}, min ESS {:.0}, acceptance {:.2}",
            d.max_rhat, d.min_ess, d.accept
        );
    }
    println!("→ {}", out.display());
    Ok(())
}

fn load_fit(dir: &Path) -> Result<(FitResult, Vec<Vec<f64>>)> {
    let r: FitResult = read_json(&dir.join("posterior.json"))?;
    let m = read_matrix_npy(&dir.join("samples.npy"), "posterior samples")?;
    if m.cols != r.regions.len() + 1 {
        bail!(
            "{}: {} columns, expected {} (x0 per region and ln K)",
            dir.join("samples.npy").display(),
            m.cols,
            r.regions.len() + 1
        );
    }
    Ok((r, (0..m.rows).map(|i| m.row(i).to_vec()).collect()))
}

fn predict(a: PredictArgs) -> Result<()> {
    let p = Patient::load(&a.patient)?;
    let fit_dir = a.fit.unwrap_or_else(|| a.patient.join("fit"));
    let (r, draws) = load_fit(&fit_dir)?;
    let n = p.n_regions();
    if r.regions.len() != n {
        bail!(
            "{}: fit has {} regions, patient has {n}",
            fit_dir.display(),
            r.regions.len()
        );
    }
    for &i in a.resect.iter().chain(&a.stim_targets) {
        if i >= n {
            bail!("region {i} does not exist ({n} regions)");
        }
    }
    let mut ivs = candidates(&r, a.top);
    if !a.resect.is_empty() {
        ivs.push(Intervention {
            name: format!("resect {:?}", a.resect),
            resect: a.resect.clone(),
            ..Default::default()
        });
    }
    if !a.stim_targets.is_empty() {
        let w = &a.stim_window_s;
        if w.len() != 2 {
            bail!("--stim-window-s needs START,STOP");
        }
        ivs.push(Intervention {
            name: format!(
                "stimulate {:?} ({} @ {} Hz)",
                a.stim_targets, a.stim_amplitude, a.stim_frequency_hz
            ),
            stimulus: Some(Stimulus {
                targets: a.stim_targets.clone(),
                amplitude: a.stim_amplitude,
                frequency_hz: a.stim_frequency_hz,
                pulse_width_s: a.stim_width_s,
                start_s: w[0],
                stop_s: w[1],
            }),
            ..Default::default()
        });
    }
    let step = (draws.len() / a.draws.max(1)).max(1);
    let used: Vec<Vec<f64>> = draws.into_iter().step_by(step).collect();
    let mut out: Vec<Outcome> =
        evaluate(&p.meta.model, &p.network(), &used, a.horizon_s, &ivs, None);
    rank(&mut out);
    let path = a.out.unwrap_or_else(|| fit_dir.join("predict.json"));
    write_json(&path, &out)?;
    println!(
        "{:<40} {:>8} {:>16} {:>14}",
        "strategy", "removed", "P(seizure-free)", "mean recruited"
    );
    for o in &out {
        println!(
            "{:<40} {:>8.0} {:>16.2} {:>14.1}",
            o.intervention.name, o.tissue_removed, o.p_seizure_free, o.mean_recruited
        );
    }
    println!(
        "({} posterior draws, horizon {} s) → {}",
        used.len(),
        a.horizon_s,
        path.display()
    );
    Ok(())
}

fn report(a: ReportArgs) -> Result<()> {
    let p = Patient::load(&a.patient)?;
    let fit_dir = a.fit.unwrap_or_else(|| a.patient.join("fit"));
    let (r, _) = load_fit(&fit_dir)?;
    let (_, feats) = problem(&p, &FitSettings::default())?;
    let pred = fit_dir.join("predict.json");
    let outcomes: Option<Vec<Outcome>> = if pred.exists() {
        Some(read_json(&pred)?)
    } else {
        None
    };
    let truth = match &a.truth {
        Some(t) => Some(load_truth(t, &a.patient)?),
        None => None,
    };
    let html = render(&ReportInput {
        patient: &p,
        features: &feats,
        fit: &r,
        outcomes: outcomes.as_deref(),
        truth: truth.as_ref(),
    });
    std::fs::write(&a.out, html).with_context(|| a.out.display().to_string())?;
    println!("report → {}", a.out.display());
    Ok(())
}

fn run_study(a: StudyArgs) -> Result<()> {
    let work = match &a.work {
        Some(w) => w.clone(),
        None => std::env::temp_dir().join(format!("twin-vep-study-{}", std::process::id())),
    };
    let mut conds = study::default_conditions(a.scale);
    let likelihood = parse_likelihood(&a.likelihood)?;
    for c in &mut conds {
        c.likelihood = likelihood;
    }
    if !a.only.is_empty() {
        conds.retain(|c| a.only.iter().any(|o| c.name.contains(o.as_str())));
        if conds.is_empty() {
            bail!("--only {:?} matches no condition", a.only);
        }
    }
    let t0 = std::time::Instant::now();
    let (sum, cases) = study::StudyData::with_folder(&a.tvb_data, |data| {
        study::run(&conds, data, &work, &mut |c| {
            println!(
                "{:<24} seed {:>5}: true EZ {:?}, fitted EZ {:?} ({:.1} s)",
                c.condition, c.seed, c.ez_true, c.ez_fit, c.seconds
            );
        })
    })?;
    std::fs::create_dir_all(&a.out)?;
    write_json(
        &a.out.join("results.json"),
        &serde_json::json!({ "summary": sum, "cases": cases, "seconds": t0.elapsed().as_secs_f64() }),
    )?;
    let md = study::markdown(&sum);
    std::fs::write(a.out.join("results.md"), &md)?;
    print!("{md}");
    if a.work.is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
    Ok(())
}

/// Writes the fitted patient as a federation scenario: the `brain` member runs
/// TVB's Epileptor2D with the posterior-mean x0 of every region, `Ks = −K`
/// (posterior mean), `r = 1/τ0`, `tt` converted to ms⁻¹, difference coupling on
/// the row-normalised connectome without delays, the interictal initial state
/// and the patient's SEEG gain; the `seizure-controller` stimulates on onset.
fn scenario(a: ScenarioArgs) -> Result<()> {
    if !matches!(a.mode.as_str(), "closed" | "open" | "off") {
        bail!("--mode `{}`: expected closed, open or off", a.mode);
    }
    if !(a.duration_s.is_finite() && a.duration_s > 0.0) {
        bail!("--duration-s must be a positive number");
    }
    let p = Patient::load(&a.patient)?;
    let fit_dir = a.fit.clone().unwrap_or_else(|| a.patient.join("fit"));
    let post: FitResult = read_json(&fit_dir.join("posterior.json"))?;
    let n = p.n_regions();
    if post.regions.len() != n {
        bail!(
            "{}: {} regions, the patient has {n}",
            fit_dir.join("posterior.json").display(),
            post.regions.len()
        );
    }
    let x0: Vec<f64> = post.regions.iter().map(|r| r.mean).collect();
    let stem = a.out.with_extension("");
    let conn_dir = PathBuf::from(format!("{}-connectome", stem.display()));
    std::fs::create_dir_all(&conn_dir).with_context(|| conn_dir.display().to_string())?;
    let net = p.network();
    let rows = |v: &[f64]| -> String {
        v.chunks(n)
            .map(|r| {
                r.iter()
                    .map(|x| format!("{x:e}"))
                    .collect::<Vec<_>>()
                    .join(" ")
                    + "\n"
            })
            .collect()
    };
    std::fs::write(conn_dir.join("weights.txt"), rows(&net.c))?;
    std::fs::write(conn_dir.join("tract_lengths.txt"), rows(&vec![0.0; n * n]))?;
    let centres: String = (0..n)
        .map(|i| {
            let c = p.centres[i];
            format!(
                "{} {} {} {}\n",
                p.meta.labels[i].replace(' ', "_"),
                c[0],
                c[1],
                c[2]
            )
        })
        .collect();
    std::fs::write(conn_dir.join("centres.txt"), centres)?;
    let abs = |q: &Path| -> Result<String> {
        Ok(std::fs::canonicalize(q)
            .with_context(|| q.display().to_string())?
            .display()
            .to_string())
    };
    let m = &p.meta.model;
    let tt_per_ms = m.tt_per_s / 1000.0;
    let list = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.6}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let labels = p
        .meta
        .contact_names
        .iter()
        .map(|l| format!("{l:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let toml = format!(
        r#"# The fitted virtual epileptic patient {patient} (posterior of {fit})
# under {mode}-loop stimulation, written by `twin brain vep scenario`.
# brain: Epileptor2D with the posterior-mean x0 per region, Ks = -K (K = {k:.4}),
# r = 1/tau0, tt = {tt_per_ms:e} per ms (the fit's time scale), difference
# coupling on the row-normalised connectome (no delays), SEEG through the
# patient's gain. controller: detects x1 > {thr} and stimulates x1.

[federation]
name = "vep-patient"
end = "{dur}s"
dt = "100ms"
pacing = 0.0
epoch = "2026-01-01T00:00:00Z"
seed = 1

[[member]]
name = "brain"
kind = "brain"
[member.params]
connectome = {conn:?}
model = "Epileptor2D"
coupling = 1.0
coupling_function = "difference"
speed_mm_per_ms = 1000.0
dt_ms = 10.0
monitor_period_ms = 100.0
initial_state = [{xi}, {zi}]
seeg_gain = {gain:?}
seeg_positions = {sensors:?}
seeg_labels = [{labels}]
[member.params.model_params]
x0 = [{x0}]
Ks = [{ks}]
r = [{r}]
tt = [{tt_per_ms:e}]
Iext = [{i1}]

[[member]]
name = "controller"
kind = "seizure-controller"
[member.params]
mode = "{mode}"
threshold = {thr}
amplitude = {amp:e}
"#,
        patient = a.patient.display(),
        fit = fit_dir.display(),
        mode = a.mode,
        k = post.k_mean,
        thr = m.x_seizure,
        dur = a.duration_s,
        conn = abs(&conn_dir)?,
        xi = m.x_init,
        zi = m.z_init,
        gain = abs(&a.patient.join("gain.npy"))?,
        sensors = abs(&a.patient.join("sensors.npy"))?,
        x0 = list(&x0),
        ks = -post.k_mean,
        r = 1.0 / m.tau0,
        i1 = m.i1,
        amp = a.amplitude * tt_per_ms,
    );
    std::fs::write(&a.out, toml).with_context(|| a.out.display().to_string())?;
    println!(
        "scenario → {} (connectome in {}); run it with `twin run {}`",
        a.out.display(),
        conn_dir.display(),
        a.out.display()
    );
    Ok(())
}
