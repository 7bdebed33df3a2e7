//! Patients: the documented folder layout, loading with validation, and
//! synthetic patients with a hidden truth.
//!
//! # Folder layout
//!
//! ```text
//! <patient>/
//!   patient.json          PatientMeta: labels, contacts, sampling rate, model
//!                         and observation settings (never the truth)
//!   weights.npy           N × N structural weights (row = target)
//!   centres.npy           N × 3 region centres [mm]
//!   sensors.npy           M × 3 contact positions [mm]
//!   gain.npy              M × N gain (contact × region)
//!   seeg.npy              samples × M recording (or seeg.csv)
//! <truth>/                kept apart (default `<patient>-truth/`)
//!   truth.json            Truth: x0, K, EZ, PZ, seed, noise levels
//!   source_x.npy          (steps + 1) × N simulated fast variable
//! ```
//!
//! # Synthetic SEEG
//!
//! The network ([`crate::model`]) is integrated with Euler–Maruyama. The
//! 2D Epileptor has no fast discharges, so each region's fast activity is a
//! white carrier `η_i(t)` whose amplitude follows the seizure state,
//! `s_i(t) = x_i(t) + e^{β x_i(t)/2} η_i(t)` (`x` linearly interpolated to the
//! sampling rate); contacts record `G s + σ_m ξ`. The log-power observation
//! model of [`crate::objective`] is exactly the expected power of this signal.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use twin_brain::Connectome;

use crate::error::{io, VepError};
use crate::io::{
    read_json, read_matrix_csv, read_matrix_npy, write_json, write_matrix_npy, Matrix,
};
use crate::model::{simulate, ModelParams, Network, ProcessNoise, X0_CRITICAL};
use crate::rng::Rng;
use crate::sensors::{
    centre_groups, check_inside, has_own_centre, inverse_square_gain, shafts_through, Contacts,
};

/// Metadata of a patient folder (`patient.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatientMeta {
    /// Layout version (1).
    pub format: u32,
    /// Region labels.
    pub labels: Vec<String>,
    /// Contacts (names, shafts; positions are in `sensors.npy`).
    pub contact_names: Vec<String>,
    /// Shaft index per contact.
    pub contact_shaft: Vec<usize>,
    /// Sampling rate of `seeg.npy` \[Hz\].
    pub sampling_rate_hz: f64,
    /// Model settings used to fit this patient.
    pub model: ModelParams,
    /// Power exponent β of the observation model.
    pub beta: f64,
    /// Measurement-noise standard deviation of the recording system (gain units).
    pub measurement_noise: f64,
}

/// The hidden truth of a synthetic patient (`truth.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// Excitability per region.
    pub x0: Vec<f64>,
    /// Global coupling.
    pub k: f64,
    /// Epileptogenic zone (x0 above the critical value).
    pub ez: Vec<usize>,
    /// Propagation zone (recruited in the noise-free simulation).
    pub pz: Vec<usize>,
    /// Seed of the generator.
    pub seed: u64,
    /// Process noise.
    pub process_noise: ProcessNoise,
}

/// A loaded patient.
#[derive(Debug, Clone)]
pub struct Patient {
    /// Folder.
    pub dir: PathBuf,
    /// Metadata.
    pub meta: PatientMeta,
    /// Weights `N × N`.
    pub weights: Vec<f64>,
    /// Region centres \[mm\].
    pub centres: Vec<[f64; 3]>,
    /// Contacts.
    pub contacts: Contacts,
    /// Gain `M × N`.
    pub gain: Vec<f64>,
    /// Recording `samples × M`.
    pub seeg: Matrix,
}

impl Patient {
    /// Number of regions.
    pub fn n_regions(&self) -> usize {
        self.meta.labels.len()
    }

    /// The normalised network.
    pub fn network(&self) -> Network {
        Network::new(self.n_regions(), &self.weights)
    }

    /// Loads and validates a patient folder (see the module docs).
    pub fn load(dir: &Path) -> Result<Self, VepError> {
        let meta: PatientMeta = read_json(&dir.join("patient.json"))?;
        let n = meta.labels.len();
        let m = meta.contact_names.len();
        let wpath = dir.join("weights.npy");
        let w = read_matrix_npy(&wpath, "weights")?;
        shape(&wpath, "weights", &w, n, n)?;
        let cpath = dir.join("centres.npy");
        let c = read_matrix_npy(&cpath, "centres")?;
        shape(&cpath, "centres", &c, n, 3)?;
        let centres: Vec<[f64; 3]> = (0..n)
            .map(|i| [c.data[3 * i], c.data[3 * i + 1], c.data[3 * i + 2]])
            .collect();
        let spath = dir.join("sensors.npy");
        let s = read_matrix_npy(&spath, "sensors")?;
        shape(&spath, "sensors", &s, m, 3)?;
        let contacts = Contacts {
            names: meta.contact_names.clone(),
            shaft: meta.contact_shaft.clone(),
            positions: (0..m)
                .map(|i| [s.data[3 * i], s.data[3 * i + 1], s.data[3 * i + 2]])
                .collect(),
        };
        check_inside(&spath.display().to_string(), &contacts, &centres)?;
        let gpath = dir.join("gain.npy");
        let g = read_matrix_npy(&gpath, "gain")?;
        shape(&gpath, "gain", &g, m, n)?;
        let seeg = read_recording(dir, m)?;
        Ok(Patient {
            dir: dir.to_path_buf(),
            meta,
            weights: w.data,
            centres,
            contacts,
            gain: g.data,
            seeg,
        })
    }
}

fn shape(
    path: &Path,
    what: &'static str,
    a: &Matrix,
    rows: usize,
    cols: usize,
) -> Result<(), VepError> {
    if a.rows != rows || a.cols != cols {
        return Err(VepError::Shape {
            file: path.display().to_string(),
            what,
            got: vec![a.rows, a.cols],
            expected: format!("[{rows}, {cols}]"),
        });
    }
    Ok(())
}

/// Reads `seeg.npy` (or `seeg.csv`) of a patient folder with `m` contacts.
pub fn read_recording(dir: &Path, m: usize) -> Result<Matrix, VepError> {
    let npy = dir.join("seeg.npy");
    let (path, a) = if npy.exists() {
        let a = read_matrix_npy(&npy, "SEEG recording")?;
        (npy, a)
    } else {
        let csv = dir.join("seeg.csv");
        let (a, _) = read_matrix_csv(&csv)?;
        (csv, a)
    };
    if a.cols != m {
        return Err(VepError::Shape {
            file: path.display().to_string(),
            what: "SEEG recording",
            got: vec![a.rows, a.cols],
            expected: format!("samples × {m} contacts"),
        });
    }
    Ok(a)
}

/// Reads the truth of a patient from `truth_dir`.
pub fn load_truth(truth_dir: &Path, patient: &Path) -> Result<Truth, VepError> {
    let path = truth_dir.join("truth.json");
    if !path.exists() {
        return Err(VepError::MissingTruth {
            path,
            patient: patient.display().to_string(),
        });
    }
    read_json(&path)
}

/// The default truth folder of a patient folder: `<patient>-truth`.
pub fn default_truth_dir(patient: &Path) -> PathBuf {
    let mut s = patient.as_os_str().to_owned();
    s.push("-truth");
    PathBuf::from(s)
}

/// How to build a synthetic patient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyntheticSpec {
    /// Seed.
    pub seed: u64,
    /// Number of EZ regions.
    pub n_ez: usize,
    /// Number of PZ candidates (strongly connected to the EZ).
    pub n_pz: usize,
    /// Global coupling K.
    pub k: f64,
    /// Number of shafts.
    pub n_shafts: usize,
    /// Contacts per shaft.
    pub contacts_per_shaft: usize,
    /// Fraction of EZ regions a shaft is aimed at (1 = all; sparse coverage below).
    pub ez_coverage: f64,
    /// Recording duration \[s\].
    pub duration_s: f64,
    /// Sampling rate \[Hz\].
    pub sampling_rate_hz: f64,
    /// Measurement noise standard deviation (gain units).
    pub measurement_noise: f64,
    /// Process noise.
    pub process_noise: ProcessNoise,
    /// Power exponent β.
    pub beta: f64,
    /// Model settings.
    pub model: ModelParams,
    /// Draw the EZ only among regions with a centre of their own
    /// ([`crate::sensors::centre_groups`]), i.e. regions SEEG can localise.
    #[serde(default)]
    pub ez_own_centre: bool,
    /// Given SEEG contacts (e.g. tvb-data's `seeg_588.txt`, read with
    /// [`crate::sensors::read_sensor_file`]) instead of generated shafts; then
    /// `n_shafts`, `contacts_per_shaft` and `ez_coverage` are unused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensors: Option<GivenSensors>,
    /// With given sensors: draw the EZ only among regions whose centre has a
    /// contact within this distance \[mm\] (as a clinical implantation targets
    /// the hypothesised EZ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ez_within_mm: Option<f64>,
}

/// SEEG contacts given from a file, with the file's name for error messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GivenSensors {
    /// The sensor file.
    pub file: String,
    /// The contacts it holds.
    pub contacts: Contacts,
}

impl Default for SyntheticSpec {
    fn default() -> Self {
        SyntheticSpec {
            seed: 1,
            n_ez: 2,
            n_pz: 3,
            k: 2.0,
            n_shafts: 8,
            contacts_per_shaft: 10,
            ez_coverage: 1.0,
            duration_s: 30.0,
            sampling_rate_hz: 100.0,
            measurement_noise: 0.02,
            process_noise: ProcessNoise {
                sigma_x: 0.01,
                sigma_z: 0.003,
            },
            beta: 3.0,
            model: ModelParams::default(),
            ez_own_centre: false,
            sensors: None,
            ez_within_mm: None,
        }
    }
}

impl SyntheticSpec {
    /// The spec with its measurement and process noise multiplied by `factor`.
    pub fn noise_scaled(mut self, factor: f64) -> Self {
        self.measurement_noise *= factor;
        self.process_noise.sigma_x *= factor;
        self.process_noise.sigma_z *= factor;
        self
    }
}

/// A synthetic patient in memory (write it with [`Synthetic::write`]).
#[derive(Debug, Clone)]
pub struct Synthetic {
    /// Metadata.
    pub meta: PatientMeta,
    /// Weights.
    pub weights: Vec<f64>,
    /// Centres.
    pub centres: Vec<[f64; 3]>,
    /// Contacts.
    pub contacts: Contacts,
    /// Gain.
    pub gain: Vec<f64>,
    /// Recording.
    pub seeg: Matrix,
    /// Truth.
    pub truth: Truth,
    /// Simulated fast variable, `(steps + 1) × N`.
    pub source_x: Vec<f64>,
}

/// Builds a synthetic patient on `conn` (see the module docs).
pub fn synthesize(conn: &Connectome, spec: &SyntheticSpec) -> Result<Synthetic, VepError> {
    let n = conn.n_regions();
    if spec.n_ez == 0 || spec.n_ez + spec.n_pz >= n {
        return Err(VepError::Invalid {
            what: "synthetic patient".into(),
            reason: format!(
                "{} EZ + {} PZ regions do not fit {n} regions (need ≥ 1 EZ)",
                spec.n_ez, spec.n_pz
            ),
        });
    }
    if let Some(g) = &spec.sensors {
        check_inside(&g.file, &g.contacts, conn.centres())?;
    }
    let mut rng = Rng::new(spec.seed, 0x7E9);
    let net = Network::new(n, conn.weights());
    // EZ: random regions with at least one connection (and, if asked, a centre of their own).
    let groups = centre_groups(conn.centres());
    let near = |r: usize| match (&spec.sensors, spec.ez_within_mm) {
        (Some(g), Some(mm)) => g.contacts.positions.iter().any(|p| {
            let c = conn.centres()[r];
            (0..3).map(|k| (p[k] - c[k]).powi(2)).sum::<f64>() <= mm * mm
        }),
        _ => true,
    };
    let eligible = |r: usize| {
        net.deg[r] > 0.0 && (!spec.ez_own_centre || has_own_centre(&groups, r)) && near(r)
    };
    if (0..n).filter(|&r| eligible(r)).count() < spec.n_ez {
        return Err(VepError::Invalid {
            what: "synthetic patient".into(),
            reason: format!("fewer than {} regions are eligible for the EZ", spec.n_ez),
        });
    }
    let mut ez = Vec::new();
    while ez.len() < spec.n_ez {
        let r = rng.below(n);
        if !ez.contains(&r) && eligible(r) {
            ez.push(r);
        }
    }
    // PZ candidates: the strongest connections into the EZ.
    let mut cand: Vec<(f64, usize)> = (0..n)
        .filter(|i| !ez.contains(i))
        .map(|i| (ez.iter().map(|&e| net.c[i * n + e]).sum::<f64>(), i))
        .filter(|c| c.0 > 0.0)
        .collect();
    cand.sort_by(|a, b| b.0.total_cmp(&a.0));
    let pz_cand: Vec<usize> = cand.iter().take(spec.n_pz).map(|c| c.1).collect();
    let mut x0: Vec<f64> = (0..n).map(|_| rng.range(-3.0, -2.4)).collect();
    for &e in &ez {
        x0[e] = rng.range(-1.8, -1.5);
    }
    for &p in &pz_cand {
        x0[p] = rng.range(-2.2, -2.08);
    }
    let steps = (spec.duration_s / spec.model.dt_s).round() as usize;
    let clean = simulate(&spec.model, &net, &x0, spec.k, steps, None, None);
    let on = clean.onsets(spec.model.x_seizure);
    let pz: Vec<usize> = (0..n)
        .filter(|&i| x0[i] <= X0_CRITICAL && on[i].is_some())
        .collect();
    let mut ez_sorted: Vec<usize> = (0..n).filter(|&i| x0[i] > X0_CRITICAL).collect();
    ez_sorted.sort();
    let contacts = match &spec.sensors {
        Some(g) => g.contacts.clone(),
        None => generated_shafts(conn, spec, &ez, &pz_cand, &mut rng),
    };
    let gain = inverse_square_gain(&contacts, conn.centres());
    let noisy = simulate(
        &spec.model,
        &net,
        &x0,
        spec.k,
        steps,
        None,
        Some((spec.process_noise, &mut rng)),
    );
    let seeg = record(&noisy.x, n, spec, &gain, contacts.names.len(), &mut rng);
    let meta = PatientMeta {
        format: 1,
        labels: conn.labels().to_vec(),
        contact_names: contacts.names.clone(),
        contact_shaft: contacts.shaft.clone(),
        sampling_rate_hz: spec.sampling_rate_hz,
        model: spec.model.clone(),
        beta: spec.beta,
        measurement_noise: spec.measurement_noise,
    };
    Ok(Synthetic {
        meta,
        weights: conn.weights().to_vec(),
        centres: conn.centres().to_vec(),
        contacts,
        gain,
        seeg,
        truth: Truth {
            x0,
            k: spec.k,
            ez: ez_sorted,
            pz,
            seed: spec.seed,
            process_noise: spec.process_noise,
        },
        source_x: noisy.x,
    })
}

/// Shafts aimed at a share of the EZ, the PZ candidates and random other regions.
fn generated_shafts(
    conn: &Connectome,
    spec: &SyntheticSpec,
    ez: &[usize],
    pz_cand: &[usize],
    rng: &mut Rng,
) -> Contacts {
    let n = conn.n_regions();
    let mut targets: Vec<usize> = Vec::new();
    let n_cov = ((spec.ez_coverage * ez.len() as f64).round() as usize).min(spec.n_shafts);
    targets.extend(ez.iter().take(n_cov));
    for &p in pz_cand {
        if targets.len() < spec.n_shafts.min(n_cov + spec.n_shafts / 3) {
            targets.push(p);
        }
    }
    let mut guard = 0;
    while targets.len() < spec.n_shafts && guard < 10 * n {
        guard += 1;
        let r = rng.below(n);
        let skip = targets.contains(&r) || (ez.contains(&r) && !targets.contains(&r));
        if !skip {
            targets.push(r);
        }
    }
    shafts_through(conn.centres(), &targets, spec.contacts_per_shaft, 3.5, rng)
}

/// Samples the SEEG from the simulated `x` (see the module docs).
fn record(
    x: &[f64],
    n: usize,
    spec: &SyntheticSpec,
    gain: &[f64],
    m: usize,
    rng: &mut Rng,
) -> Matrix {
    let dt = spec.model.dt_s;
    let steps = x.len() / n - 1;
    let samples = (steps as f64 * dt * spec.sampling_rate_hz).floor() as usize;
    let mut data = vec![0.0; samples * m];
    let mut src = vec![0.0; n];
    for t in 0..samples {
        let tm = t as f64 / spec.sampling_rate_hz / dt;
        let k = (tm.floor() as usize).min(steps - 1);
        let f = tm - k as f64;
        for i in 0..n {
            let xi = (1.0 - f) * x[k * n + i] + f * x[(k + 1) * n + i];
            src[i] = xi + (0.5 * spec.beta * xi).exp() * rng.normal();
        }
        for c in 0..m {
            let g = &gain[c * n..(c + 1) * n];
            let v: f64 = g.iter().zip(&src).map(|(a, b)| a * b).sum();
            data[t * m + c] = v + spec.measurement_noise * rng.normal();
        }
    }
    Matrix {
        rows: samples,
        cols: m,
        data,
    }
}

impl Synthetic {
    /// Writes the patient folder and, apart, the truth folder.
    pub fn write(&self, dir: &Path, truth_dir: &Path) -> Result<(), VepError> {
        let n = self.meta.labels.len();
        let m = self.contacts.names.len();
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        std::fs::create_dir_all(truth_dir).map_err(|e| io(truth_dir, e))?;
        write_json(&dir.join("patient.json"), &self.meta)?;
        write_matrix_npy(&dir.join("weights.npy"), n, n, &self.weights)?;
        let c: Vec<f64> = self.centres.iter().flatten().copied().collect();
        write_matrix_npy(&dir.join("centres.npy"), n, 3, &c)?;
        let s: Vec<f64> = self.contacts.positions.iter().flatten().copied().collect();
        write_matrix_npy(&dir.join("sensors.npy"), m, 3, &s)?;
        write_matrix_npy(&dir.join("gain.npy"), m, n, &self.gain)?;
        write_matrix_npy(&dir.join("seeg.npy"), self.seeg.rows, m, &self.seeg.data)?;
        write_json(&truth_dir.join("truth.json"), &self.truth)?;
        write_matrix_npy(
            &truth_dir.join("source_x.npy"),
            self.source_x.len() / n,
            n,
            &self.source_x,
        )?;
        Ok(())
    }
}

/// A reproducible toy connectome of `n` regions for tests and demos: centres
/// on an ellipsoid of brain size, symmetric weights decaying with distance
/// (each pair connected with probability ½), tract lengths = distance \[mm\].
pub fn toy_connectome(n: usize, seed: u64) -> Connectome {
    let mut rng = Rng::new(seed, 0xC0);
    let centres: Vec<[f64; 3]> = (0..n)
        .map(|_| {
            let u = rng.range(0.0, std::f64::consts::TAU);
            let v: f64 = rng.range(-1.0, 1.0);
            let r = (1.0 - v * v).sqrt();
            [60.0 * r * u.cos(), 50.0 * r * u.sin(), 40.0 * v]
        })
        .collect();
    let mut w = vec![0.0; n * n];
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in (i + 1)..n {
            let d = (0..3)
                .map(|k| (centres[i][k] - centres[j][k]).powi(2))
                .sum::<f64>()
                .sqrt();
            let wij = if rng.uniform() < 0.5 || j == i + 1 {
                (-d / 40.0).exp()
            } else {
                0.0
            };
            w[i * n + j] = wij;
            w[j * n + i] = wij;
            l[i * n + j] = d;
            l[j * n + i] = d;
        }
    }
    Connectome::new(n, w, l)
        .and_then(|c| c.with_centres(centres))
        .expect("generated matrices are valid")
}
