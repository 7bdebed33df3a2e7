//! Parameter sweeps: many independent simulations spread over the cores.
//!
//! A sweep is a base [`SimulationConfig`] and a grid of [`Axis`] values, each
//! axis naming a field by its dotted path in the configuration
//! (`coupling.a`, `noise.nsig`, `model.params.x0`, `speed`, …). Every grid
//! point is an independent run; [`run_sweep`] hands them to worker threads
//! (one per core by default) through a shared counter, so the cores stay busy
//! however uneven the runs are, and each run is summarised as it goes
//! ([`MonitorSummary`]: mean and variance per variable of interest) so memory
//! does not grow with the run length.
//!
//! Results come back in grid order and do not depend on the number of threads:
//! each run is deterministic given its configuration (and its noise seed).

use std::{
    path::Path,
    sync::atomic::{AtomicUsize, Ordering},
    time::Instant,
};

use serde::Serialize;
use serde_json::Value;

use crate::{config::SimulationConfig, connectome::Connectome, error::BrainError};

/// One swept field and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Dotted path of the field in the configuration, e.g. `coupling.a`.
    pub path: String,
    /// The values it takes.
    pub values: Vec<f64>,
}

fn invalid(reason: String) -> BrainError {
    BrainError::Invalid {
        what: "sweep",
        reason,
    }
}

impl Axis {
    /// Parses `path=v1,v2,…` or `path=start:stop:count` (count evenly spaced
    /// values, both ends included).
    pub fn parse(spec: &str) -> Result<Axis, BrainError> {
        let (path, vals) = spec
            .split_once('=')
            .ok_or_else(|| invalid(format!("`{spec}`: expected PATH=VALUES")))?;
        let num = |t: &str| {
            t.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| invalid(format!("`{spec}`: `{t}` is not a finite number")))
        };
        let parts: Vec<&str> = vals.split(':').collect();
        let values = match parts.as_slice() {
            [a, b, n] => {
                let (a, b) = (num(a)?, num(b)?);
                let n: usize = n
                    .trim()
                    .parse()
                    .ok()
                    .filter(|&n| n >= 1)
                    .ok_or_else(|| invalid(format!("`{spec}`: count `{n}` is not ≥ 1")))?;
                if n == 1 {
                    vec![a]
                } else {
                    (0..n)
                        .map(|k| a + (b - a) * k as f64 / (n - 1) as f64)
                        .collect()
                }
            }
            [list] => list.split(',').map(num).collect::<Result<_, _>>()?,
            _ => {
                return Err(invalid(format!(
                    "`{spec}`: use v1,v2,… or start:stop:count"
                )))
            }
        };
        let path = path.trim();
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(invalid(format!("`{spec}`: empty field path")));
        }
        Ok(Axis {
            path: path.to_string(),
            values,
        })
    }
}

/// All grid points of `axes` (the last axis varies fastest).
pub fn grid(axes: &[Axis]) -> Vec<Vec<f64>> {
    let mut points = vec![Vec::new()];
    for a in axes {
        points = points
            .into_iter()
            .flat_map(|p| {
                a.values.iter().map(move |&v| {
                    let mut q = p.clone();
                    q.push(v);
                    q
                })
            })
            .collect();
    }
    points
}

/// `base` with each axis' field set to the point's value. A field that holds a
/// list (such as `noise.nsig`) gets a one-element list.
pub fn apply(
    base: &SimulationConfig,
    axes: &[Axis],
    point: &[f64],
) -> Result<SimulationConfig, BrainError> {
    let mut v = serde_json::to_value(base).map_err(|e| invalid(e.to_string()))?;
    for (a, &x) in axes.iter().zip(point) {
        let keys: Vec<&str> = a.path.split('.').collect();
        let mut cur = &mut v;
        for k in &keys[..keys.len() - 1] {
            if cur.get(*k).is_none_or(Value::is_null) {
                cur[*k] = Value::Object(Default::default());
            }
            cur = cur
                .get_mut(*k)
                .filter(|c| c.is_object())
                .ok_or_else(|| invalid(format!("`{}`: `{k}` is not a table", a.path)))?;
        }
        let last = keys[keys.len() - 1];
        let list = cur.get(last).is_some_and(Value::is_array) || a.path == "noise.nsig";
        cur[last] = if list {
            serde_json::json!([x])
        } else {
            serde_json::json!(x)
        };
    }
    serde_json::from_value(v).map_err(|e| {
        let paths: Vec<&str> = axes.iter().map(|a| a.path.as_str()).collect();
        invalid(format!("after setting {}: {e}", paths.join(", ")))
    })
}

/// Runs `f(0) … f(n_jobs − 1)` on `threads` worker threads (at least one);
/// results in index order.
pub fn parallel_map<T: Send>(
    n_jobs: usize,
    threads: usize,
    f: impl Fn(usize) -> T + Sync,
) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let threads = threads.clamp(1, n_jobs.max(1));
    let mut out: Vec<(usize, T)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        if k >= n_jobs {
                            break mine;
                        }
                        mine.push((k, f(k)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    out.sort_by_key(|(k, _)| *k);
    out.into_iter().map(|(_, t)| t).collect()
}

/// Number of cores available to this process.
pub fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Running statistics of one monitor's output over a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonitorSummary {
    /// Monitor name.
    pub name: String,
    /// Row names (variables of interest, or sensors).
    pub rows: Vec<String>,
    /// Number of samples.
    pub samples: u64,
    /// Mean over time and columns, per row.
    pub mean: Vec<f64>,
    /// Variance over time and columns, per row.
    pub var: Vec<f64>,
    #[serde(skip)]
    m2: Vec<f64>,
    #[serde(skip)]
    cols: usize,
}

impl MonitorSummary {
    fn new(name: String, rows: Vec<String>, cols: usize) -> Self {
        let r = rows.len();
        MonitorSummary {
            name,
            rows,
            samples: 0,
            mean: vec![0.0; r],
            var: vec![0.0; r],
            m2: vec![0.0; r],
            cols,
        }
    }

    /// Welford update with one sample (`rows × cols`).
    fn add(&mut self, data: &[f64]) {
        self.samples += 1;
        for (r, row) in data.chunks_exact(self.cols.max(1)).enumerate() {
            let seen = (self.samples - 1) as f64 * self.cols as f64;
            for (k, &x) in row.iter().enumerate() {
                let count = seen + k as f64 + 1.0;
                let d = x - self.mean[r];
                self.mean[r] += d / count;
                self.m2[r] += d * (x - self.mean[r]);
            }
        }
    }

    fn finish(&mut self) {
        let count = self.samples as f64 * self.cols as f64;
        for (v, m2) in self.var.iter_mut().zip(&self.m2) {
            *v = if count > 0.0 { m2 / count } else { f64::NAN };
        }
    }
}

/// The outcome of one run of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    /// The grid point (one value per axis).
    pub point: Vec<f64>,
    /// One summary per monitor.
    pub monitors: Vec<MonitorSummary>,
    /// Steps integrated.
    pub steps: u64,
    /// Wall-clock time of the run \[s\].
    pub wall_s: f64,
}

/// Builds and runs one configuration on `conn`, summarising every monitor.
pub fn run_one(
    cfg: &SimulationConfig,
    conn: Connectome,
    base: &Path,
    point: Vec<f64>,
) -> Result<RunSummary, BrainError> {
    let t0 = Instant::now();
    let mut sim = cfg.build_with(conn, base)?;
    let mut sums: Vec<MonitorSummary> = sim
        .monitors()
        .iter()
        .map(|m| {
            let rows = m.row_names();
            MonitorSummary::new(m.name().to_string(), rows, m.shape().1)
        })
        .collect();
    let steps = cfg.n_steps();
    sim.run(steps, &mut |k, s| sums[k].add(s.data));
    for s in &mut sums {
        s.finish();
    }
    Ok(RunSummary {
        point,
        monitors: sums,
        steps,
        wall_s: t0.elapsed().as_secs_f64(),
    })
}

/// Runs every grid point of `axes` over `base` on `threads` threads.
pub fn run_sweep(
    base: &SimulationConfig,
    axes: &[Axis],
    conn: &Connectome,
    dir: &Path,
    threads: usize,
) -> Vec<Result<RunSummary, BrainError>> {
    let points = grid(axes);
    parallel_map(points.len(), threads, |k| {
        let cfg = apply(base, axes, &points[k])?;
        run_one(&cfg, conn.clone(), dir, points[k].clone())
    })
}

#[cfg(test)]
mod tests;
