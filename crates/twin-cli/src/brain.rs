//! `twin brain …`: the region-level brain simulator from the command line.
//!
//! * `twin brain simulate [CONFIG] [flags]`: one simulation described by a TOML
//!   file ([`twin_brain::SimulationConfig`]) and/or flags (flags win), written to
//!   an output folder as `.npy` (+ CSV with `--csv`) with `metadata.json`, and
//!   a PNG per monitor with `--plot`.
//! * `twin brain sweep [CONFIG] --vary PATH=VALUES … [flags]`: a grid of runs
//!   over every core; one CSV row of summary statistics per run.
//!
//! The connectome is a TVB zip or folder, or `synthetic:N` (a generated N-region
//! network, no data files needed). Besides the simulation, a config file may
//! hold an `[output]` table (`dir`, relative to the config; `csv`; `plot`),
//! which the flags override.

mod plot;

use std::{io::IsTerminal, path::PathBuf, time::Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;
use twin_brain::{
    output::OutputWriter,
    sweep::{self, Axis},
    Connectome, SimulationConfig,
};

/// `twin brain` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum BrainCmd {
    /// Run one simulation (TOML config and/or flags) and write its monitors.
    Simulate(Box<SimulateOpts>),
    /// Run a parameter grid over every core and summarise each run.
    Sweep(Box<SweepOpts>),
    /// The virtual epileptic patient workflow (synthetic patients, fit, predictions, report).
    #[command(subcommand)]
    Vep(crate::vep::VepCmd),
}

/// The simulation: a config file and flags that override its fields.
#[derive(Args, Debug)]
pub(crate) struct SpecOpts {
    /// Simulation config (TOML; paths inside are relative to its folder).
    config: Option<PathBuf>,
    /// Connectome: TVB zip or folder, or `synthetic:N`.
    #[arg(long)]
    connectome: Option<String>,
    /// Model (TVB class name, e.g. `Epileptor`).
    #[arg(long)]
    model: Option<String>,
    /// Model parameter `NAME=V` or `NAME=V1,V2,…` (one per region); repeatable.
    #[arg(long = "param", value_name = "NAME=V")]
    params: Vec<String>,
    /// Coupling `KIND[:k=v,…]`, e.g. `linear:a=0.0154` or `difference:a=1`.
    #[arg(long)]
    coupling: Option<String>,
    /// Integrator: `euler`, `heun` or `rk4`.
    #[arg(long)]
    integrator: Option<String>,
    /// Integration step [ms].
    #[arg(long)]
    dt: Option<f64>,
    /// Conduction speed [mm/ms].
    #[arg(long)]
    speed: Option<f64>,
    /// Simulated time [ms].
    #[arg(long = "duration-ms", value_name = "MS")]
    duration_ms: Option<f64>,
    /// Additive noise `nsig` (one value, or one per state variable).
    #[arg(long, value_delimiter = ',')]
    nsig: Option<Vec<f64>>,
    /// Noise seed.
    #[arg(long)]
    seed: Option<u32>,
    /// Variables of interest passed to the monitors, e.g. `x2 - x1,z`.
    #[arg(long, value_delimiter = ',')]
    voi: Option<Vec<String>>,
    /// Monitor `KIND[:k=v,…]` (`raw`, `tavg:period=1`, `bold:period=2000`, …);
    /// repeatable, replaces the config's monitors.
    #[arg(long = "monitor", value_name = "KIND")]
    monitors: Vec<String>,
    /// Stimulus as an inline TOML table, e.g.
    /// `temporal={kind="PulseTrain",T=10,tau=1,amp=2,onset=50},regions=[3]`; repeatable.
    #[arg(long = "stimulus", value_name = "TOML")]
    stimuli: Vec<String>,
}

/// Options of `twin brain simulate`.
#[derive(Args, Debug)]
pub(crate) struct SimulateOpts {
    #[command(flatten)]
    spec: SpecOpts,
    /// Output folder (default: the config's `[output] dir`, else `brain-out`).
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Also write one CSV per monitor.
    #[arg(long)]
    csv: bool,
    /// Also write one PNG of the time series per monitor.
    #[arg(long)]
    plot: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// Options of `twin brain sweep`.
#[derive(Args, Debug)]
pub(crate) struct SweepOpts {
    #[command(flatten)]
    spec: SpecOpts,
    /// Swept field `PATH=V1,V2,…` or `PATH=START:STOP:COUNT` (e.g.
    /// `coupling.a=0:0.03:8`, `noise.nsig=1e-5,1e-4`); repeatable (a grid).
    #[arg(long, required = true, value_name = "PATH=VALUES")]
    vary: Vec<String>,
    /// Worker threads (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Output CSV.
    #[arg(long, short, default_value = "brain-sweep.csv")]
    out: PathBuf,
}

pub(crate) fn dispatch(cmd: BrainCmd) -> Result<()> {
    match cmd {
        BrainCmd::Simulate(o) => simulate(*o),
        BrainCmd::Sweep(o) => run_sweep(*o),
        BrainCmd::Vep(c) => crate::vep::dispatch(c),
    }
}

/// A parsed spec: the config, where its relative paths start, and its connectome.
struct Spec {
    cfg: SimulationConfig,
    base: PathBuf,
    connectome: Connectome,
    source: String,
    output: OutputSection,
}

/// The config file's `[output]` table (not part of the simulation itself).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutputSection {
    /// Output folder, relative to the config's folder.
    dir: Option<PathBuf>,
    /// Write CSV files.
    #[serde(default)]
    csv: bool,
    /// Write PNG plots.
    #[serde(default)]
    plot: bool,
}

/// `1.5` → float, `true` → bool, anything else → string.
fn scalar(s: &str) -> toml::Value {
    let s = s.trim();
    if let Ok(v) = s.parse::<f64>() {
        toml::Value::Float(v)
    } else if let Ok(b) = s.parse::<bool>() {
        toml::Value::Boolean(b)
    } else {
        toml::Value::String(s.to_string())
    }
}

/// `KIND[:k=v,…]` → `{kind = KIND, k = v, …}` with `KIND` mapped through `names`.
fn kind_table(flag: &str, spec: &str, names: &[(&str, &str)]) -> Result<toml::Value> {
    let (kind, rest) = spec.split_once(':').unwrap_or((spec, ""));
    let lower = kind.trim().to_ascii_lowercase();
    let Some((_, name)) = names.iter().find(|(alias, _)| *alias == lower) else {
        let known: Vec<&str> = names.iter().map(|(a, _)| *a).collect();
        bail!(
            "--{flag} {spec}: unknown kind `{kind}` (known: {})",
            known.join(", ")
        );
    };
    let mut t = toml::Table::new();
    t.insert("kind".into(), toml::Value::String(name.to_string()));
    for kv in rest.split(',').filter(|s| !s.trim().is_empty()) {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--{flag} {spec}: `{kv}` is not key=value"))?;
        t.insert(k.trim().to_string(), scalar(v));
    }
    Ok(toml::Value::Table(t))
}

const COUPLINGS: &[(&str, &str)] = &[
    ("linear", "Linear"),
    ("scaling", "Scaling"),
    ("difference", "Difference"),
    ("kuramoto", "Kuramoto"),
    ("hyperbolictangent", "HyperbolicTangent"),
    ("tanh", "HyperbolicTangent"),
    ("sigmoidal", "Sigmoidal"),
    ("sigmoidaljansenrit", "SigmoidalJansenRit"),
];

const MONITORS: &[(&str, &str)] = &[
    ("raw", "Raw"),
    ("subsample", "SubSample"),
    ("tavg", "TemporalAverage"),
    ("temporalaverage", "TemporalAverage"),
    ("spatialaverage", "SpatialAverage"),
    ("bold", "Bold"),
    ("projection", "Projection"),
];

/// The line of the first `key =` or `[key` in a TOML text, for error locations.
fn line_of(text: &str, key: &str) -> Option<usize> {
    text.lines().position(|l| {
        let l = l.trim_start();
        l.strip_prefix(key)
            .is_some_and(|r| r.trim_start().starts_with('='))
            || l.trim_start_matches('[').starts_with(key)
    })
}

impl SpecOpts {
    fn load(&self) -> Result<Spec> {
        let cwd = std::env::current_dir().context("current directory")?;
        let (mut t, text, base, source) = match &self.config {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read {}", p.display()))?;
                let t: toml::Table =
                    toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
                let base = p.parent().map_or_else(|| cwd.clone(), |d| cwd.join(d));
                (t, text, base, p.display().to_string())
            }
            None => (
                toml::Table::new(),
                String::new(),
                cwd.clone(),
                "command line".to_string(),
            ),
        };
        let output = match t.remove("output") {
            Some(v) => OutputSection::deserialize(v).map_err(|e| {
                let line = line_of(&text, "output").map(|l| format!(":{}", l + 1));
                anyhow::anyhow!("{source}{}: [output]: {e}", line.unwrap_or_default())
            })?,
            None => OutputSection::default(),
        };
        let mut set = |k: &str, v: toml::Value| {
            t.insert(k.to_string(), v);
        };
        if let Some(c) = &self.connectome {
            let v = if c.starts_with("synthetic:") {
                c.clone()
            } else {
                cwd.join(c).display().to_string()
            };
            set("connectome", toml::Value::String(v));
        }
        if let Some(x) = self.dt {
            set("dt", toml::Value::Float(x));
        }
        if let Some(x) = self.speed {
            set("speed", toml::Value::Float(x));
        }
        if let Some(x) = self.duration_ms {
            set("duration_ms", toml::Value::Float(x));
        }
        if let Some(i) = &self.integrator {
            let name = match i.to_ascii_lowercase().as_str() {
                "euler" => "Euler",
                "heun" => "Heun",
                "rk4" => "Rk4",
                _ => bail!("--integrator {i}: use euler, heun or rk4"),
            };
            set("integrator", toml::Value::String(name.into()));
        }
        if let Some(v) = &self.voi {
            let names = v
                .iter()
                .map(|x| toml::Value::String(x.trim().into()))
                .collect();
            set("voi", toml::Value::Array(names));
        }
        if let Some(c) = &self.coupling {
            set("coupling", kind_table("coupling", c, COUPLINGS)?);
        }
        if !self.monitors.is_empty() {
            let m = self
                .monitors
                .iter()
                .map(|m| kind_table("monitor", m, MONITORS))
                .collect::<Result<Vec<_>>>()?;
            set("monitors", toml::Value::Array(m));
        }
        if !self.stimuli.is_empty() {
            let mut all = Vec::new();
            for s in &self.stimuli {
                let wrapped: toml::Table = toml::from_str(&format!("s = {{{s}}}"))
                    .map_err(|e| anyhow::anyhow!("--stimulus {s}: {e}"))?;
                all.push(wrapped["s"].clone());
            }
            set("stimulus", toml::Value::Array(all));
        }
        if self.nsig.is_some() || self.seed.is_some() {
            let mut noise = match t.get("noise") {
                Some(toml::Value::Table(n)) => n.clone(),
                _ => toml::Table::new(),
            };
            if let Some(v) = &self.nsig {
                let a = v.iter().map(|&x| toml::Value::Float(x)).collect();
                noise.insert("nsig".into(), toml::Value::Array(a));
            }
            if let Some(s) = self.seed {
                noise.insert("seed".into(), toml::Value::Integer(s.into()));
            }
            t.insert("noise".into(), toml::Value::Table(noise));
        }
        if self.model.is_some() || !self.params.is_empty() {
            let mut model = match t.get("model") {
                Some(toml::Value::Table(m)) => m.clone(),
                _ => toml::Table::new(),
            };
            if let Some(m) = &self.model {
                model.insert("name".into(), toml::Value::String(m.clone()));
            }
            let mut params = match model.get("params") {
                Some(toml::Value::Table(p)) => p.clone(),
                _ => toml::Table::new(),
            };
            for p in &self.params {
                let (k, v) = p
                    .split_once('=')
                    .with_context(|| format!("--param {p}: expected NAME=V[,V…]"))?;
                let vals: Vec<f64> = v
                    .split(',')
                    .map(|x| x.trim().parse::<f64>())
                    .collect::<Result<_, _>>()
                    .with_context(|| format!("--param {p}: values must be numbers"))?;
                let value = match vals.as_slice() {
                    [one] => toml::Value::Float(*one),
                    _ => toml::Value::Array(vals.into_iter().map(toml::Value::Float).collect()),
                };
                params.insert(k.trim().to_string(), value);
            }
            model.insert("params".into(), toml::Value::Table(params));
            t.insert("model".into(), toml::Value::Table(model));
        }
        if !t.contains_key("duration_ms") {
            t.insert("duration_ms".into(), toml::Value::Float(1000.0));
        }
        for required in ["connectome", "model"] {
            if !t.contains_key(required) {
                bail!("{source}: no `{required}` (give it in the config or with --{required})");
            }
        }
        let cfg = SimulationConfig::deserialize(toml::Value::Table(t)).map_err(|e| {
            let msg = e.to_string();
            let key = msg
                .split('`')
                .nth(1)
                .and_then(|k| line_of(&text, k))
                .map(|l| format!(":{}", l + 1))
                .unwrap_or_default();
            anyhow::anyhow!("{source}{key}: {}", msg.trim().replace('\n', " "))
        })?;
        let c = cfg.connectome.to_string_lossy().to_string();
        let connectome = match c.strip_prefix("synthetic:") {
            Some(n) => {
                let n: usize = n
                    .parse()
                    .ok()
                    .filter(|n| (2..=5000).contains(n))
                    .with_context(|| format!("{source}: connectome `{c}`: N must be 2..=5000"))?;
                twin_federates::brain::synthetic_connectome(n, 1)
            }
            None => Connectome::from_path(base.join(&cfg.connectome))
                .with_context(|| format!("{source}: connectome"))?,
        };
        Ok(Spec {
            cfg,
            base,
            connectome,
            source,
            output,
        })
    }
}

fn progress(steps: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(steps);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} steps  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

fn simulate(o: SimulateOpts) -> Result<()> {
    let Spec {
        cfg,
        base,
        connectome,
        source,
        output,
    } = o.spec.load()?;
    let out_dir = match (&o.out, &output.dir) {
        (Some(d), _) => d.clone(),
        (None, Some(d)) => base.join(d),
        (None, None) => PathBuf::from("brain-out"),
    };
    let (csv, plot) = (o.csv || output.csv, o.plot || output.plot);
    let mut sim = cfg
        .build_with(connectome, &base)
        .with_context(|| format!("{source}: cannot build the simulation"))?;
    if sim.monitors().is_empty() {
        bail!("{source}: no monitors: nothing would be written (add [[monitors]] or --monitor)");
    }
    let run = serde_json::json!({"source": source, "config": cfg});
    let mut out = OutputWriter::create(&out_dir, &sim, csv, run)
        .with_context(|| format!("cannot create output in {}", out_dir.display()))?;
    let steps = cfg.n_steps();
    let mut traces: Vec<plot::Trace> = if plot {
        sim.monitors()
            .iter()
            .map(|m| {
                let expected = (cfg.duration_ms / m.period_ms().max(cfg.dt)).ceil() as u64;
                plot::Trace::new(m.name().to_string(), m.row_names(), m.shape().1, expected)
            })
            .collect()
    } else {
        Vec::new()
    };
    let bar = progress(steps, o.quiet);
    let chunk = (steps / 200).max(1);
    let t0 = Instant::now();
    let mut done = 0;
    let mut failure = None;
    while done < steps && failure.is_none() {
        let k = chunk.min(steps - done);
        sim.run(k, &mut |m, s| {
            if let Some(t) = traces.get_mut(m) {
                t.push(s.time_ms, s.data);
            }
            if failure.is_none() {
                failure = out.write(m, &s).err();
            }
        });
        done += k;
        bar.set_position(done);
    }
    bar.finish_and_clear();
    if let Some(e) = failure {
        return Err(e).context("writing monitor output");
    }
    let wall = t0.elapsed().as_secs_f64();
    let dir = out.finish().context("finishing output")?;
    let mut files = vec!["metadata.json".to_string()];
    for m in sim.monitors() {
        files.push(format!("{}.npy", m.name()));
        if csv {
            files.push(format!("{}.csv", m.name()));
        }
    }
    for t in &traces {
        let p = dir.join(format!("{}.png", t.name));
        let title = format!("{} · {} · {}", sim.model().name(), t.name, source);
        t.write_png(&p, &title)?;
        files.push(format!("{}.png", t.name));
    }
    println!(
        "{} regions, {} steps of {} ms ({} ms) in {:.2} s wall ({:.3} s per simulated s)",
        sim.n_regions(),
        steps,
        cfg.dt,
        cfg.duration_ms,
        wall,
        wall / (cfg.duration_ms / 1000.0).max(1e-12)
    );
    println!("wrote {}: {}", dir.display(), files.join(", "));
    Ok(())
}

fn run_sweep(o: SweepOpts) -> Result<()> {
    let Spec {
        cfg,
        base,
        connectome,
        source,
        ..
    } = o.spec.load()?;
    let axes = o
        .vary
        .iter()
        .map(|v| Axis::parse(v).with_context(|| format!("--vary {v}")))
        .collect::<Result<Vec<_>>>()?;
    // Fail early (and once) on a bad path or value, not in every run.
    let points = sweep::grid(&axes);
    for p in &points {
        sweep::apply(&cfg, &axes, p)?;
    }
    if cfg.monitors.is_empty() {
        bail!("{source}: no monitors: a sweep summarises monitor output (add --monitor)");
    }
    let threads = o.threads.unwrap_or_else(sweep::available_threads);
    let t0 = Instant::now();
    let results = sweep::run_sweep(&cfg, &axes, &connectome, &base, threads);
    let wall = t0.elapsed().as_secs_f64();
    let mut csv = String::from("run");
    for a in &axes {
        csv.push(',');
        csv.push_str(&a.path);
    }
    let first = results
        .iter()
        .find_map(|r| r.as_ref().ok())
        .context("every run failed")?;
    for m in &first.monitors {
        for r in &m.rows {
            csv.push_str(&format!(",{0}.{r}.mean,{0}.{r}.var", m.name));
        }
    }
    csv.push_str(",wall_s\n");
    let mut failed = 0;
    for (k, r) in results.iter().enumerate() {
        match r {
            Ok(s) => {
                csv.push_str(&k.to_string());
                for v in &s.point {
                    csv.push_str(&format!(",{v:?}"));
                }
                for m in &s.monitors {
                    for (mean, var) in m.mean.iter().zip(&m.var) {
                        csv.push_str(&format!(",{mean:?},{var:?}"));
                    }
                }
                csv.push_str(&format!(",{:.4}\n", s.wall_s));
            }
            Err(e) => {
                failed += 1;
                eprintln!("twin: run {k} ({:?}) failed: {e}", points[k]);
            }
        }
    }
    std::fs::write(&o.out, csv).with_context(|| format!("cannot write {}", o.out.display()))?;
    println!(
        "{} runs ({} failed) on {} threads in {:.2} s wall; wrote {}",
        results.len(),
        failed,
        threads,
        wall,
        o.out.display()
    );
    if failed > 0 {
        bail!("{failed} of {} runs failed", results.len());
    }
    Ok(())
}
