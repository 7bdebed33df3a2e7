//! `brain`: the whole-brain simulator (`twin-brain`) as a federation member.
//!
//! A stepped member: at each grant it integrates the region network up to
//! the granted time and publishes every monitor sample on
//! `twin/brain/monitor/<monitor>` ([`BrainSample`], stamped with the
//! sample's simulation time). Stimuli published on `twin/brain/stimulus`
//! ([`BrainStimulus`]) by any member are applied from the next step on.
//! The region geometry is published once on `twin/brain/regions`
//! (transient-local) for displays. With `seeg_shafts > 0`, virtual SEEG
//! electrodes (shafts of [`CONTACTS_PER_SHAFT`] contacts 3.5 mm apart, each
//! entering laterally through one region) record through a projection
//! monitor with the inverse-square gain `G[s][i] = 1 / |r_s − r_i|²`, and
//! every sample of the first variable of interest is published on
//! `twin/brain/seeg` ([`BrainChannels`]). With `eeg = true`, 19 scalp
//! electrodes of the 10–20 system record through a radial-dipole lead field
//! ([`crate::eeg`]) on `twin/brain/eeg`.
//!
//! A fitted patient (e.g. from `twin brain vep scenario`) sets per-region
//! model parameters (`[member.params.model_params]`, e.g. the posterior-mean
//! `x0` of every region), `coupling_function = "difference"` (the VEP's
//! `Σ_j C_ij (x_j − x_i)`), an initial state per state variable
//! (`initial_state`), and its own SEEG gain (`seeg_gain`, a contacts × regions
//! `.npy`, with `seeg_labels` / `seeg_positions`) instead of generated shafts.
//!
//! Scheduled stimuli (pulse trains, sinusoids, tables × region weights; see
//! [`twin_brain::stimulus`]) come from the scenario as `[[member.params.stimulus]]`
//! tables; their time origin is the start of the run. A stimulus received on
//! the bus is added on top of them. Their onsets and the regions they drive
//! are published on `twin/brain/stimulus/scheduled` ([`crate::brain_stim`]).

use serde::{Deserialize, Serialize};
use twin_brain::{
    models::{model_by_name, set_param},
    monitors::{GainModel, Projection, TemporalAverage},
    npy::read_npy,
    Connectome, Coupling, InitialConditions, RegionStimulus, Scheme, Simulator, SimulatorBuilder,
};
use twin_bus::{ReaderQos, TopicType, WriterQos};
use twin_core::SimTime;
use twin_federation::{Ctx, Member, MemberError, Next, TimedReader, TimedWriter};
use twin_scenario::ParamIssue;

use crate::{
    brain_stim::{ScheduleTracker, ScheduledStimulus, SCHEDULED_TOPIC},
    demo::SplitMix,
    params::{issues, parse_params},
};

/// Topic of [`BrainRegions`].
pub const REGIONS_TOPIC: &str = "twin/brain/regions";
/// Topic of [`BrainStimulus`].
pub const STIMULUS_TOPIC: &str = "twin/brain/stimulus";

/// QoS of [`BrainStimulus`] writers: reliable, and transient-local with the
/// last value kept, so that a reader joining later (the dashboard opened
/// after a stimulus was sent) still learns which stimulus is in force. The
/// topic is keyless and a stimulus replaces the previous one, so the last
/// value is the whole state.
pub fn stimulus_writer_qos() -> WriterQos {
    WriterQos::default()
        .reliable()
        .transient_local()
        .keep_last(1)
}
/// Prefix of monitor topics; the monitor name follows.
pub const MONITOR_PREFIX: &str = "twin/brain/monitor/";
/// Topic of [`BrainChannels`] from the virtual SEEG electrodes.
pub const SEEG_TOPIC: &str = "twin/brain/seeg";
/// Contacts on one virtual SEEG shaft.
pub const CONTACTS_PER_SHAFT: usize = 6;
/// Distance between neighbouring contacts of a shaft [mm].
const CONTACT_SPACING_MM: f64 = 3.5;

/// One sample of sensor channels (SEEG contacts or EEG electrodes) for one variable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BrainChannels {
    /// Monitor name (the instance key): `seeg` or `eeg`.
    pub monitor: String,
    /// Simulation time of the sample.
    pub t: SimTime,
    /// The projected variable (the first variable of interest).
    pub variable: String,
    /// Channel labels: SEEG shaft letter and contact number (`A1` deepest),
    /// or the EEG electrode's 10–20 name.
    pub labels: Vec<String>,
    /// Contact positions [mm], `[x, y, z]` per channel.
    pub positions_mm: Vec<[f64; 3]>,
    /// One value per channel (model units × mm⁻², the gain's units).
    pub values: Vec<f32>,
}

impl TopicType for BrainChannels {
    const TYPE_NAME: &'static str = "twin::brain::Channels";
    const KEY_FIELDS: &'static [&'static str] = &["monitor"];
    type Key = String;
    fn key(&self) -> String {
        self.monitor.clone()
    }
}

/// Contacts of `shafts` virtual SEEG shafts: shaft `k` targets the centre
/// of region `k·N/shafts` and enters from the lateral side along x, so its
/// third contact sits on the centre. Returns labels and positions [mm].
pub fn seeg_contacts(centres: &[[f64; 3]], shafts: usize) -> (Vec<String>, Vec<[f64; 3]>) {
    let (mut labels, mut pos) = (Vec::new(), Vec::new());
    let n = centres.len();
    for k in 0..shafts.min(n).min(26) {
        let c = centres[k * n / shafts.min(n)];
        let side = if c[0] < 0.0 { -1.0 } else { 1.0 };
        let letter = char::from(b'A' + k as u8);
        for j in 0..CONTACTS_PER_SHAFT {
            let offset = (j as f64 - 2.0) * CONTACT_SPACING_MM;
            labels.push(format!("{letter}{}", j + 1));
            pos.push([c[0] + side * offset, c[1], c[2]]);
        }
    }
    (labels, pos)
}

/// One monitor output for all regions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BrainSample {
    /// Monitor name (the instance key), e.g. `tavg`.
    pub monitor: String,
    /// Simulation time of the sample.
    pub t: SimTime,
    /// Names of the variables of interest, in row order.
    pub voi: Vec<String>,
    /// Number of regions (columns).
    pub regions: u32,
    /// Values, `voi × regions`, row-major (model units, e.g. Epileptor x1 − x2).
    pub values: Vec<f32>,
}

impl TopicType for BrainSample {
    const TYPE_NAME: &'static str = "twin::brain::MonitorSample";
    const KEY_FIELDS: &'static [&'static str] = &["monitor"];
    type Key = String;
    fn key(&self) -> String {
        self.monitor.clone()
    }
}

/// Region labels and centres, published once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BrainRegions {
    /// Region labels.
    pub labels: Vec<String>,
    /// Region centres [mm], `[x, y, z]` per region.
    pub centres_mm: Vec<[f64; 3]>,
}

impl TopicType for BrainRegions {
    const TYPE_NAME: &'static str = "twin::brain::Regions";
    type Key = ();
    fn key(&self) {}
}

/// A stimulus to add to the brain's state derivatives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BrainStimulus {
    /// State variable it drives (by name, e.g. `x1`).
    pub variable: String,
    /// Per-region amplitude (model units per ms); empty clears the stimulus.
    pub amplitude: Vec<f64>,
}

impl TopicType for BrainStimulus {
    const TYPE_NAME: &'static str = "twin::brain::Stimulus";
    type Key = ();
    fn key(&self) {}
}

fn default_speed() -> f64 {
    4.0
}
fn default_dt() -> f64 {
    0.1
}
fn default_period() -> f64 {
    10.0
}

/// Parameters of `brain`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// A TVB connectivity zip or folder, or `synthetic:N` for a generated
    /// N-region connectome (no data files needed).
    pub connectome: String,
    /// TVB model name (`Epileptor`, `Generic2dOscillator`, …).
    pub model: String,
    /// Linear coupling strength.
    pub coupling: f64,
    /// Conduction speed [mm·ms⁻¹].
    #[serde(default = "default_speed")]
    pub speed_mm_per_ms: f64,
    /// Integration step [ms].
    #[serde(default = "default_dt")]
    pub dt_ms: f64,
    /// Temporal-average monitor period [ms] (the publication period).
    #[serde(default = "default_period")]
    pub monitor_period_ms: f64,
    /// Scheduled region stimuli (`[[member.params.stimulus]]`), added up.
    #[serde(default)]
    pub stimulus: Vec<RegionStimulus>,
    /// Virtual SEEG shafts (0: none, at most 26), recorded with the
    /// monitor period.
    #[serde(default)]
    pub seeg_shafts: u32,
    /// Scalp EEG (19 electrodes, [`crate::eeg`]), recorded with the
    /// monitor period.
    #[serde(default)]
    pub eeg: bool,
    /// Model parameters by name: one value, or one per region (e.g. `x0`).
    #[serde(default)]
    pub model_params: std::collections::BTreeMap<String, Vec<f64>>,
    /// `linear` (default, `a Σ_j w_ij x_j`) or `difference` (`a Σ_j w_ij (x_j − x_i)`).
    #[serde(default)]
    pub coupling_function: Option<String>,
    /// Initial value of each state variable, in the model's order (default:
    /// TVB's random draw from the state ranges).
    #[serde(default)]
    pub initial_state: Vec<f64>,
    /// SEEG gain `.npy` (contacts × regions); replaces `seeg_shafts`.
    #[serde(default)]
    pub seeg_gain: Option<String>,
    /// Contact labels of `seeg_gain` (default `C1`, `C2`, …).
    #[serde(default)]
    pub seeg_labels: Vec<String>,
    /// Contact positions `.npy` (contacts × 3, mm) of `seeg_gain` (default zeros).
    #[serde(default)]
    pub seeg_positions: Option<String>,
}

impl Params {
    pub(crate) fn check(t: &toml::Table) -> Result<(), Vec<ParamIssue>> {
        let p: Params = parse_params(t)?;
        let mut v = Vec::new();
        if model_by_name(&p.model).is_none() {
            v.push(ParamIssue::at(
                "model",
                format!("unknown model `{}`", p.model),
            ));
        }
        if let Some(n) = p.connectome.strip_prefix("synthetic:") {
            if !n.parse::<usize>().is_ok_and(|n| (2..=2000).contains(&n)) {
                v.push(ParamIssue::at(
                    "connectome",
                    "synthetic:N needs 2 ≤ N ≤ 2000",
                ));
            }
        }
        for (k, x, pos) in [
            ("speed_mm_per_ms", p.speed_mm_per_ms, true),
            ("dt_ms", p.dt_ms, true),
            ("monitor_period_ms", p.monitor_period_ms, true),
            ("coupling", p.coupling, false),
        ] {
            if !x.is_finite() || (pos && x <= 0.0) {
                v.push(ParamIssue::at(
                    k,
                    format!(
                        "{k} must be a finite{} number",
                        if pos { " positive" } else { "" }
                    ),
                ));
            }
        }
        let synthetic_n = p
            .connectome
            .strip_prefix("synthetic:")
            .and_then(|n| n.parse::<usize>().ok());
        for (k, st) in p.stimulus.iter().enumerate() {
            if let Err(e) = st.temporal.validate() {
                v.push(ParamIssue::at(
                    "stimulus",
                    format!("stimulus {k}: temporal: {e}"),
                ));
            }
            if let (Some(n), Some(rs)) = (synthetic_n, &st.regions) {
                if let Some(r) = rs.iter().find(|&&r| r >= n) {
                    v.push(ParamIssue::at(
                        "stimulus",
                        format!("stimulus {k}: region {r} is out of range (synthetic:{n})"),
                    ));
                }
            }
        }
        if let Some(f) = p.coupling_function.as_deref() {
            if !matches!(f, "linear" | "difference") {
                v.push(ParamIssue::at(
                    "coupling_function",
                    format!("unknown coupling function `{f}` (linear, difference)"),
                ));
            }
        }
        if let Some(mut m) = model_by_name(&p.model) {
            for (name, values) in &p.model_params {
                if let Err(e) = set_param(m.as_mut(), name, values.clone()) {
                    v.push(ParamIssue::at("model_params", e.to_string()));
                }
            }
            let nsv = m.state_variables().len();
            if !p.initial_state.is_empty() && p.initial_state.len() != nsv {
                v.push(ParamIssue::at(
                    "initial_state",
                    format!(
                        "{} values; {} has {nsv} state variables",
                        p.initial_state.len(),
                        p.model
                    ),
                ));
            }
        }
        if p.seeg_shafts > 26 {
            v.push(ParamIssue::at(
                "seeg_shafts",
                "seeg_shafts must be ≤ 26 (shafts A–Z)",
            ));
        }
        if p.monitor_period_ms < p.dt_ms {
            v.push(ParamIssue::at(
                "monitor_period_ms",
                "monitor_period_ms must be ≥ dt_ms",
            ));
        }
        issues(v)
    }
}

/// A reproducible N-region connectome: centres on an ellipsoid of brain
/// size, weights decaying with distance, tract lengths 1.2 × the Euclidean
/// distance [mm].
pub fn synthetic_connectome(n: usize, seed: u64) -> Connectome {
    let mut rng = SplitMix::new(seed, 0xB4A1);
    let centres: Vec<[f64; 3]> = (0..n)
        .map(|_| {
            let (u, v) = (
                rng.uniform() * std::f64::consts::TAU,
                rng.uniform() * 2.0 - 1.0,
            );
            let r = (1.0 - v * v).sqrt();
            [70.0 * r * u.cos(), 60.0 * r * u.sin(), 50.0 * v]
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
            let weight = if rng.uniform() < 0.3 {
                (-d / 40.0).exp() * 3.0
            } else {
                0.0
            };
            w[i * n + j] = weight;
            w[j * n + i] = weight;
            l[i * n + j] = 1.2 * d;
            l[j * n + i] = 1.2 * d;
        }
    }
    Connectome::new(n, w, l)
        .and_then(|c| c.with_centres(centres))
        .expect("generated matrices and centres are valid")
}

/// The SEEG writer with the contacts' labels and positions [mm].
type Seeg = (TimedWriter<BrainChannels>, Vec<String>, Vec<[f64; 3]>);

/// The `brain` member.
pub struct Brain {
    p: Params,
    sim: Option<Simulator>,
    regions: Option<TimedWriter<BrainRegions>>,
    out: Option<TimedWriter<BrainSample>>,
    seeg: Option<Seeg>,
    eeg: Option<Seeg>,
    stim: Option<TimedReader<BrainStimulus>>,
    schedule: Option<(ScheduleTracker, TimedWriter<ScheduledStimulus>)>,
    samples: u64,
}

impl std::fmt::Debug for Brain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Brain")
            .field("model", &self.p.model)
            .field("samples", &self.samples)
            .finish()
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> MemberError {
    MemberError::Failed(format!("{what}: {e}"))
}

impl Brain {
    /// A member with these parameters.
    pub fn new(p: Params) -> Self {
        Brain {
            p,
            sim: None,
            regions: None,
            out: None,
            seeg: None,
            eeg: None,
            stim: None,
            schedule: None,
            samples: 0,
        }
    }

    /// The given SEEG gain (labels, positions, `contacts × n` gain), if any.
    #[allow(clippy::type_complexity)]
    fn given_gain(
        &self,
        n: usize,
    ) -> Result<Option<(Vec<String>, Vec<[f64; 3]>, Vec<f64>)>, MemberError> {
        let Some(path) = &self.p.seeg_gain else {
            return Ok(None);
        };
        let a = read_npy(path).map_err(|e| failed("seeg_gain", e))?;
        let gain = a
            .to_f64()
            .ok_or_else(|| failed("seeg_gain", format!("{path}: not a numeric array")))?;
        if a.shape.len() != 2 || a.shape[1] != n {
            return Err(failed(
                "seeg_gain",
                format!("{path}: shape {:?}, expected [contacts, {n}]", a.shape),
            ));
        }
        let m = a.shape[0];
        let labels = if self.p.seeg_labels.is_empty() {
            (1..=m).map(|i| format!("C{i}")).collect()
        } else if self.p.seeg_labels.len() == m {
            self.p.seeg_labels.clone()
        } else {
            return Err(failed(
                "seeg_labels",
                format!(
                    "{} labels for {m} contacts of {path}",
                    self.p.seeg_labels.len()
                ),
            ));
        };
        let positions = match &self.p.seeg_positions {
            None => vec![[0.0; 3]; m],
            Some(pp) => {
                let p = read_npy(pp).map_err(|e| failed("seeg_positions", e))?;
                match p.to_f64() {
                    Some(v) if p.shape == [m, 3] => {
                        v.chunks(3).map(|c| [c[0], c[1], c[2]]).collect()
                    }
                    _ => {
                        return Err(failed(
                            "seeg_positions",
                            format!("{pp}: shape {:?}, expected [{m}, 3]", p.shape),
                        ))
                    }
                }
            }
        };
        Ok(Some((labels, positions, gain)))
    }

    fn apply(&mut self, s: BrainStimulus) -> Result<(), MemberError> {
        let sim = self.sim.as_mut().expect("init builds the simulator");
        let names = sim.model().state_variables();
        let n = sim.n_regions();
        if s.amplitude.is_empty() {
            return sim.set_stimulus(None).map_err(|e| failed("stimulus", e));
        }
        let Some(k) = names.iter().position(|v| *v == s.variable) else {
            tracing::warn!(variable = %s.variable, "stimulus for an unknown state variable ignored");
            return Ok(());
        };
        if s.amplitude.len() != n {
            tracing::warn!(
                got = s.amplitude.len(),
                regions = n,
                "stimulus with the wrong size ignored"
            );
            return Ok(());
        }
        let mut v = vec![0.0; names.len() * n];
        v[k * n..(k + 1) * n].copy_from_slice(&s.amplitude);
        sim.set_stimulus(Some(v)).map_err(|e| failed("stimulus", e))
    }
}

impl Member for Brain {
    fn init(&mut self, ctx: &mut Ctx) -> Result<(), MemberError> {
        let conn = match self.p.connectome.strip_prefix("synthetic:") {
            Some(n) => synthetic_connectome(n.parse().unwrap_or(76), ctx.seed()),
            None => {
                Connectome::from_path(&self.p.connectome).map_err(|e| failed("connectome", e))?
            }
        };
        let mut model = model_by_name(&self.p.model)
            .ok_or_else(|| MemberError::Failed(format!("unknown model `{}`", self.p.model)))?;
        for (name, values) in &self.p.model_params {
            set_param(model.as_mut(), name, values.clone())
                .map_err(|e| failed("model_params", e))?;
        }
        let n = conn.n_regions();
        let initial = if self.p.initial_state.is_empty() {
            InitialConditions::Random {
                seed: ctx.seed() as u32,
            }
        } else {
            let v = self
                .p
                .initial_state
                .iter()
                .flat_map(|&x| std::iter::repeat_n(x, n));
            InitialConditions::Constant(v.collect())
        };
        let coupling = match self.p.coupling_function.as_deref() {
            Some("difference") => Coupling::difference(self.p.coupling),
            _ => Coupling::linear(self.p.coupling),
        };
        let regions = BrainRegions {
            labels: conn.labels().to_vec(),
            centres_mm: conn.centres().to_vec(),
        };
        let given = self.given_gain(n)?;
        let (seeg_labels, seeg_pos) = match &given {
            Some((labels, pos, _)) => (labels.clone(), pos.clone()),
            None => seeg_contacts(conn.centres(), self.p.seeg_shafts as usize),
        };
        let conn_centres = &regions.centres_mm;
        let mut builder = SimulatorBuilder::new(conn, model)
            .coupling(coupling)
            .speed(self.p.speed_mm_per_ms)
            .dt(self.p.dt_ms)
            .scheme(Scheme::Heun)
            .initial(initial)
            .monitor(TemporalAverage::new(self.p.monitor_period_ms));
        for st in &self.p.stimulus {
            builder = builder.stimulus(st.clone());
        }
        if let Some((labels, _, gain)) = given {
            let period = self.p.monitor_period_ms;
            builder = builder.monitor(Projection::from_gain("seeg", period, labels.len(), gain));
        } else if !seeg_pos.is_empty() {
            builder = builder.monitor(Projection::from_sensors(
                "seeg",
                self.p.monitor_period_ms,
                seeg_pos.clone(),
                GainModel::InverseSquare,
            ));
        }
        let eeg = self.p.eeg.then(|| crate::eeg::eeg_sensors(conn_centres));
        if let Some((_, pos)) = &eeg {
            let gain = crate::eeg::eeg_gain(conn_centres, pos);
            builder = builder.monitor(Projection::from_gain(
                "eeg",
                self.p.monitor_period_ms,
                pos.len(),
                gain,
            ));
        }
        let sim = builder.build().map_err(|e| failed("brain simulator", e))?;
        let tl = WriterQos::default()
            .reliable()
            .keep_last(1)
            .transient_local();
        let cvar: Vec<&str> = {
            let m = sim.model();
            m.cvar().iter().map(|&k| m.state_variables()[k]).collect()
        };
        if let Some(tr) = ScheduleTracker::new(&self.p.stimulus, sim.connectome(), sim.dt(), &cvar)
        {
            self.schedule = Some((tr, ctx.writer(SCHEDULED_TOPIC, tl.clone())?));
        }
        self.sim = Some(sim);
        let w = ctx.writer(REGIONS_TOPIC, tl.clone())?;
        w.write(ctx, regions)?;
        self.regions = Some(w);
        self.out = Some(ctx.writer(&format!("{MONITOR_PREFIX}tavg"), tl.clone())?);
        if !seeg_pos.is_empty() {
            self.seeg = Some((ctx.writer(SEEG_TOPIC, tl.clone())?, seeg_labels, seeg_pos));
        }
        if let Some((labels, pos)) = eeg {
            self.eeg = Some((ctx.writer(crate::eeg::EEG_TOPIC, tl)?, labels, pos));
        }
        self.stim = Some(ctx.reader(STIMULUS_TOPIC, ReaderQos::default().reliable().keep_all())?);
        Ok(())
    }

    fn advance(&mut self, ctx: &mut Ctx, to: SimTime) -> Result<Next, MemberError> {
        let stimuli: Vec<_> = self.stim.as_mut().expect("init").take(ctx);
        for s in stimuli.into_iter().filter_map(|s| s.value) {
            self.apply(s)?;
        }
        let sim = self.sim.as_mut().expect("init");
        let voi: Vec<String> = sim.voi().to_vec();
        let n = sim.n_regions() as u32;
        let mut batch: Vec<BrainSample> = Vec::new();
        // Sensor monitors follow tavg (index 0): SEEG, then EEG.
        let mut sensors: [Vec<(SimTime, Vec<f32>)>; 2] = [Vec::new(), Vec::new()];
        let widths = [&self.seeg, &self.eeg].map(|s| s.as_ref().map_or(0, |s| s.1.len()));
        let eeg_index = if self.seeg.is_some() { 2 } else { 1 };
        sim.run_until(to, &mut |monitor, s| {
            let t = SimTime::from_nanos((s.time_ms * 1e6).round().max(0.0) as u64);
            if monitor > 0 {
                // The first variable's row: one value per channel.
                let k = usize::from(monitor == eeg_index && widths[1] > 0);
                let row = s.data.iter().take(widths[k]).map(|&x| x as f32).collect();
                sensors[k].push((t, row));
                return;
            }
            batch.push(BrainSample {
                monitor: "tavg".into(),
                t,
                voi: voi.clone(),
                regions: n,
                values: s.data.iter().map(|&x| x as f32).collect(),
            });
        });
        if let Some((tr, w)) = &mut self.schedule {
            tr.scan_to(sim.current_step());
            if let Some(s) = tr.take_changed() {
                let t = s.t;
                w.write_at(s, t)?;
            }
        }
        let w = self.out.as_ref().expect("init");
        for s in batch {
            let t = s.t;
            w.write_at(s, t)?;
            self.samples += 1;
        }
        let variable = voi.first().cloned().unwrap_or_default();
        for ((name, out), samples) in [("seeg", &self.seeg), ("eeg", &self.eeg)]
            .into_iter()
            .zip(sensors)
        {
            let Some((w, labels, positions)) = out else {
                continue;
            };
            for (t, values) in samples {
                let c = BrainChannels {
                    monitor: name.into(),
                    t,
                    variable: variable.clone(),
                    labels: labels.clone(),
                    positions_mm: positions.clone(),
                    values,
                };
                w.write_at(c, t)?;
            }
        }
        Ok(Next::Default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(gain: &std::path::Path) -> Params {
        let t: toml::Table = toml::from_str(&format!(
            "connectome = \"synthetic:6\"\nmodel = \"Epileptor2D\"\ncoupling = 0.0\nseeg_gain = {:?}\n",
            gain.display().to_string()
        ))
        .unwrap();
        parse_params(&t).unwrap()
    }

    #[test]
    fn a_given_seeg_gain_is_read_and_a_wrong_shape_is_refused_naming_the_file() {
        let d = tempfile::tempdir().unwrap();
        let good = d.path().join("gain.npy");
        twin_brain::npy::write_npy_f64(&good, &[2, 6], &[0.5; 12]).unwrap();
        let (labels, pos, g) = Brain::new(params(&good)).given_gain(6).unwrap().unwrap();
        assert_eq!(labels, ["C1", "C2"]);
        assert_eq!((pos.len(), g.len()), (2, 12));
        let bad = d.path().join("bad.npy");
        twin_brain::npy::write_npy_f64(&bad, &[2, 5], &[0.5; 10]).unwrap();
        let e = Brain::new(params(&bad))
            .given_gain(6)
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.npy") && e.contains("[2, 5]"), "{e}");
    }

    #[test]
    fn model_params_and_coupling_function_are_checked() {
        let t: toml::Table = toml::from_str(
            "connectome = \"synthetic:6\"\nmodel = \"Epileptor2D\"\ncoupling = 1.0\n\
             coupling_function = \"cubic\"\ninitial_state = [1.0]\n\
             [model_params]\nx1 = [1.0]\nx0 = [-1.6, -2.6]\n",
        )
        .unwrap();
        let e = format!("{:?}", Params::check(&t).unwrap_err());
        assert!(
            e.contains("cubic") && e.contains("x1") && e.contains("initial_state"),
            "{e}"
        );
    }
}
