//! Declarative probes (`[[probes]]` in a scenario): what to record and how
//! often, written as CSV, in the manner of OPNET's statistic probes and
//! OMNeT++'s `@statistic` vectors.
//!
//! | `kind` | one row per | columns |
//! |---|---|---|
//! | `flows` | sample × flow | `time_s,flow,tx,entered,rx,delivery_ratio,delay_mean_ms,throughput_kbps` |
//! | `nodes` | sample × node | `time_s,node,name,mac_queue,routes,neighbors,buffered,mac_state,phy_state` |
//! | `links` | ended link | `a,b,up_s,down_s,duration_s,censored` |
//! | `routes` | ended route | `flow,up_s,down_s,duration_s,hops,path,censored` |
//!
//! A *link* between nodes a < b is up while each receives the other above
//! its preamble-detection threshold (propagation model, line of sight);
//! sampled every `every`, so durations are exact to one period. A *route*
//! is one complete hop list of a flow (following next hops as
//! [`crate::Simulation::routes`] does); its lifetime ends when the list
//! changes or breaks. Links and routes still up at the end are written with
//! `censored = true`. [`Probes::finish`] returns mean and median durations.

use std::{
    collections::BTreeMap,
    fs::File,
    io::{self, BufWriter, Write},
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use twin_core::{SimDuration, SimTime};

use crate::{sim::SimError, Simulation};

/// What a probe records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeKind {
    /// Per-flow counters over time.
    Flows,
    /// Per-node process state over time.
    Nodes,
    /// Link durations.
    Links,
    /// Route lifetimes.
    Routes,
}

impl ProbeKind {
    fn default_file(self) -> &'static str {
        match self {
            ProbeKind::Flows => "probe-flows.csv",
            ProbeKind::Nodes => "probe-nodes.csv",
            ProbeKind::Links => "link-durations.csv",
            ProbeKind::Routes => "route-lifetimes.csv",
        }
    }
}

/// `[[probes]]`: one probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeSpec {
    /// What to record.
    pub kind: ProbeKind,
    /// Sampling period.
    pub every: SimDuration,
    /// CSV file name in the output folder (default per kind).
    #[serde(default)]
    pub file: Option<String>,
}

impl ProbeSpec {
    /// The file this probe writes.
    pub fn file_name(&self) -> &str {
        self.file
            .as_deref()
            .unwrap_or_else(|| self.kind.default_file())
    }
}

/// A probe failed.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// A CSV file could not be created or written.
    #[error("probe file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The simulation refused to advance.
    #[error(transparent)]
    Sim(#[from] SimError),
}

/// Mean and median of recorded durations \[s\] (censored ones included).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DurationSummary {
    /// Number of durations.
    pub count: usize,
    /// Mean \[s\].
    pub mean_s: f64,
    /// Median \[s\].
    pub median_s: f64,
}

impl DurationSummary {
    fn of(mut v: Vec<f64>) -> DurationSummary {
        v.sort_by(f64::total_cmp);
        let count = v.len();
        DurationSummary {
            count,
            mean_s: if count > 0 {
                v.iter().sum::<f64>() / count as f64
            } else {
                0.0
            },
            median_s: v.get(count / 2).copied().unwrap_or(0.0),
        }
    }
}

/// What the probes measured, returned by [`Probes::finish`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProbeSummary {
    /// Link durations, if a `links` probe ran.
    pub links: Option<DurationSummary>,
    /// Route lifetimes, if a `routes` probe ran.
    pub routes: Option<DurationSummary>,
}

struct Active {
    spec: ProbeSpec,
    path: PathBuf,
    out: BufWriter<File>,
    next: u64,
    /// Links or routes up: key → (since ns, hops, path text).
    open: BTreeMap<(u32, u32), (u64, usize, String)>,
    durations: Vec<f64>,
}

impl std::fmt::Debug for Active {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Active")
            .field("spec", &self.spec)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The running probes of one simulation.
#[derive(Debug)]
pub struct Probes {
    active: Vec<Active>,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ProbeError + '_ {
    move |source| ProbeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Probes {
    /// Opens one CSV per probe in `dir`.
    ///
    /// # Errors
    /// [`ProbeError::Io`] if a file cannot be created.
    pub fn new(specs: &[ProbeSpec], dir: &Path) -> Result<Probes, ProbeError> {
        let mut active = Vec::new();
        for s in specs {
            let path = dir.join(s.file_name());
            let mut out = BufWriter::new(File::create(&path).map_err(io_err(&path))?);
            let header = match s.kind {
                ProbeKind::Flows => {
                    "time_s,flow,tx,entered,rx,delivery_ratio,delay_mean_ms,throughput_kbps"
                }
                ProbeKind::Nodes => {
                    "time_s,node,name,mac_queue,routes,neighbors,buffered,mac_state,phy_state"
                }
                ProbeKind::Links => "a,b,up_s,down_s,duration_s,censored",
                ProbeKind::Routes => "flow,up_s,down_s,duration_s,hops,path,censored",
            };
            writeln!(out, "{header}").map_err(io_err(&path))?;
            active.push(Active {
                spec: s.clone(),
                path,
                out,
                next: 0,
                open: BTreeMap::new(),
                durations: Vec::new(),
            });
        }
        Ok(Probes { active })
    }

    /// Advances `sim` to `t`, stopping at every sample time on the way.
    ///
    /// # Errors
    /// A probe file cannot be written, or `t` is in the past.
    pub fn advance(&mut self, sim: &mut Simulation, t: SimTime) -> Result<(), ProbeError> {
        loop {
            let next = self.active.iter().map(|a| a.next).min();
            match next {
                Some(n) if n <= t.as_nanos() => {
                    let at = SimTime::from_nanos(n);
                    if at > sim.now() {
                        sim.step_until(at)?;
                    }
                    for a in self.active.iter_mut().filter(|a| a.next == n) {
                        a.sample(sim)?;
                        a.next = n + a.spec.every.as_nanos().max(1);
                    }
                }
                _ => break,
            }
        }
        if t > sim.now() {
            sim.step_until(t)?;
        }
        Ok(())
    }

    /// Closes links and routes still up (censored), flushes the files and
    /// summarises durations.
    ///
    /// # Errors
    /// A probe file cannot be written.
    pub fn finish(&mut self, sim: &mut Simulation) -> Result<ProbeSummary, ProbeError> {
        let now = sim.now().as_nanos();
        let mut summary = ProbeSummary::default();
        for a in &mut self.active {
            let open = std::mem::take(&mut a.open);
            for (k, v) in open {
                a.close(k, v, now, true)?;
            }
            a.out.flush().map_err(io_err(&a.path))?;
            let d = DurationSummary::of(a.durations.clone());
            match a.spec.kind {
                ProbeKind::Links => summary.links = Some(d),
                ProbeKind::Routes => summary.routes = Some(d),
                _ => {}
            }
        }
        Ok(summary)
    }
}

impl Active {
    fn sample(&mut self, sim: &mut Simulation) -> Result<(), ProbeError> {
        let now = sim.now().as_nanos();
        let ts = now as f64 * 1e-9;
        let path = self.path.clone();
        let e = io_err(&path);
        match self.spec.kind {
            ProbeKind::Flows => {
                let st = sim.stats();
                let mut s = String::new();
                for f in &st.flows {
                    s.push_str(&format!(
                        "{ts:.6},{},{},{},{},{:.6},{:.4},{:.3}\n",
                        f.flow,
                        f.tx_packets,
                        f.entered_packets,
                        f.rx_packets,
                        f.delivery_ratio,
                        f.delay_mean_ms,
                        f.throughput_kbps
                    ));
                }
                self.out.write_all(s.as_bytes()).map_err(e)?;
            }
            ProbeKind::Nodes => {
                let mut s = String::new();
                for i in 0..sim.node_count() {
                    let Some(n) = sim.node_state(twin_core::NodeId(i as u32)) else {
                        continue;
                    };
                    s.push_str(&format!(
                        "{ts:.6},{i},{},{},{},{},{},{:?},{:?}\n",
                        n.name,
                        n.mac_queue,
                        n.routing.routes,
                        n.routing.neighbors.len(),
                        n.routing.buffered,
                        n.mac,
                        n.phy
                    ));
                }
                self.out.write_all(s.as_bytes()).map_err(e)?;
            }
            ProbeKind::Links => {
                let up = sim.links_up();
                let gone: Vec<(u32, u32)> = self
                    .open
                    .keys()
                    .filter(|k| up.binary_search(k).is_err())
                    .copied()
                    .collect();
                for k in gone {
                    let v = self.open.remove(&k).expect("key listed");
                    self.close(k, v, now, false)?;
                }
                for k in up {
                    self.open.entry(k).or_insert((now, 1, String::new()));
                }
            }
            ProbeKind::Routes => {
                let routes = sim.routes();
                for r in routes {
                    let key = (r.flow, 0);
                    let text = if r.complete {
                        r.hops
                            .iter()
                            .map(|n| sim.node_name(*n).unwrap_or("?"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    } else {
                        String::new()
                    };
                    let same = self.open.get(&key).is_some_and(|v| v.2 == text);
                    if !same {
                        if let Some(v) = self.open.remove(&key) {
                            self.close(key, v, now, false)?;
                        }
                        if r.complete {
                            self.open.insert(key, (now, r.hops.len() - 1, text));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn close(
        &mut self,
        k: (u32, u32),
        (since, hops, text): (u64, usize, String),
        now: u64,
        censored: bool,
    ) -> Result<(), ProbeError> {
        let (up, down) = (since as f64 * 1e-9, now as f64 * 1e-9);
        let d = down - up;
        self.durations.push(d);
        let line = match self.spec.kind {
            ProbeKind::Links => format!("{},{},{up:.6},{down:.6},{d:.6},{censored}\n", k.0, k.1),
            _ => format!(
                "{},{up:.6},{down:.6},{d:.6},{hops},{text},{censored}\n",
                k.0
            ),
        };
        self.out
            .write_all(line.as_bytes())
            .map_err(io_err(&self.path))
    }
}

#[cfg(test)]
mod tests;
