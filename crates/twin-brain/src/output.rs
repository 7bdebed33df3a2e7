//! Writing monitor output incrementally: `.npy` per monitor plus JSON metadata.
//!
//! For a monitor named `tavg` the writer creates `tavg.npy` (shape
//! `(samples, rows, cols)`), `tavg_time.npy` (time stamps \[ms\]) and, optionally,
//! `tavg.csv` (`time_ms, <row>_<col>…`). Rows are buffered and flushed every
//! `flush_every` samples; after each flush the `.npy` headers are rewritten, so
//! a crash loses at most the last chunk. `metadata.json` describes the run and
//! each monitor; it is written at creation and rewritten by [`OutputWriter::finish`]
//! with the final sample counts.

use std::{
    fs::File,
    io::{BufWriter, Write},
    path::{Path, PathBuf},
};

use serde_json::json;

use crate::{error::BrainError, monitors::Sample, npy::NpyWriter, simulator::Simulator};

#[derive(Debug)]
struct MonitorFiles {
    name: String,
    shape: (usize, usize),
    data: NpyWriter,
    time: NpyWriter,
    csv: Option<BufWriter<File>>,
    pending: usize,
}

/// Streams monitor samples of one simulation to a directory.
#[derive(Debug)]
pub struct OutputWriter {
    dir: PathBuf,
    files: Vec<MonitorFiles>,
    flush_every: usize,
    metadata: serde_json::Value,
}

fn out_err(path: &Path) -> impl Fn(std::io::Error) -> BrainError + '_ {
    move |e| BrainError::Output {
        path: path.to_path_buf(),
        source: e,
    }
}

impl OutputWriter {
    /// Creates the directory and one set of files per monitor of `sim`.
    /// `extra` is merged into the metadata under `"run"` (seed, config path, …).
    pub fn create(
        dir: impl AsRef<Path>,
        sim: &Simulator,
        csv: bool,
        extra: serde_json::Value,
    ) -> Result<Self, BrainError> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(out_err(&dir))?;
        let mut files = Vec::new();
        let mut monitors = Vec::new();
        for m in sim.monitors() {
            let name = m.name().to_string();
            let (rows, cols) = m.shape();
            let data = NpyWriter::create(dir.join(format!("{name}.npy")), &[rows, cols])?;
            let time = NpyWriter::create(dir.join(format!("{name}_time.npy")), &[])?;
            let csv = if csv {
                let p = dir.join(format!("{name}.csv"));
                let mut w = BufWriter::new(File::create(&p).map_err(out_err(&p))?);
                let mut header = String::from("time_ms");
                for r in m.row_names() {
                    for c in 0..cols {
                        header.push_str(&format!(",{r}_{c}"));
                    }
                }
                writeln!(w, "{header}").map_err(out_err(&p))?;
                Some(w)
            } else {
                None
            };
            monitors.push(json!({
                "name": name,
                "period_ms": m.period_ms(),
                "rows": m.row_names(),
                "shape_per_sample": [rows, cols],
                "data": format!("{name}.npy"),
                "time": format!("{name}_time.npy"),
            }));
            files.push(MonitorFiles {
                name,
                shape: (rows, cols),
                data,
                time,
                csv,
                pending: 0,
            });
        }
        let model = sim.model();
        let params: serde_json::Map<String, serde_json::Value> = model
            .params()
            .into_iter()
            .map(|(k, p)| (k.to_string(), json!(p.values())))
            .collect();
        let metadata = json!({
            "generator": format!("twin-brain {}", env!("CARGO_PKG_VERSION")),
            "model": model.name(),
            "state_variables": model.state_variables(),
            "parameters": params,
            "dt_ms": sim.dt(),
            "speed_mm_per_ms": sim.speed(),
            "n_regions": sim.n_regions(),
            "horizon": sim.horizon(),
            "region_labels": sim.connectome().labels(),
            "voi": sim.voi(),
            "monitors": monitors,
            "run": extra,
        });
        let w = OutputWriter {
            dir,
            files,
            flush_every: 256,
            metadata,
        };
        w.write_metadata(None)?;
        Ok(w)
    }

    /// Sets how many samples are buffered per monitor between flushes.
    pub fn flush_every(mut self, samples: usize) -> Self {
        self.flush_every = samples.max(1);
        self
    }

    /// Appends one sample of monitor `monitor`.
    pub fn write(&mut self, monitor: usize, sample: &Sample<'_>) -> Result<(), BrainError> {
        let every = self.flush_every;
        let f = &mut self.files[monitor];
        debug_assert_eq!(sample.data.len(), f.shape.0 * f.shape.1);
        f.data.push_row(sample.data);
        f.time.push_row(&[sample.time_ms]);
        if let Some(csv) = &mut f.csv {
            let mut line = format!("{:?}", sample.time_ms);
            for v in sample.data {
                line.push_str(&format!(",{v:?}"));
            }
            writeln!(csv, "{line}").map_err(out_err(&self.dir))?;
        }
        f.pending += 1;
        if f.pending >= every {
            Self::flush_one(f, &self.dir)?;
        }
        Ok(())
    }

    fn flush_one(f: &mut MonitorFiles, dir: &Path) -> Result<(), BrainError> {
        f.data.flush()?;
        f.time.flush()?;
        if let Some(csv) = &mut f.csv {
            csv.flush().map_err(out_err(dir))?;
        }
        f.pending = 0;
        Ok(())
    }

    /// Flushes every monitor's buffered samples.
    pub fn flush(&mut self) -> Result<(), BrainError> {
        for f in &mut self.files {
            Self::flush_one(f, &self.dir)?;
        }
        Ok(())
    }

    fn write_metadata(&self, counts: Option<Vec<(String, usize)>>) -> Result<(), BrainError> {
        let mut meta = self.metadata.clone();
        if let Some(counts) = counts {
            meta["samples"] =
                serde_json::Value::Object(counts.into_iter().map(|(k, v)| (k, json!(v))).collect());
        }
        let p = self.dir.join("metadata.json");
        let text = serde_json::to_string_pretty(&meta).expect("metadata is plain JSON");
        std::fs::write(&p, text).map_err(out_err(&p))
    }

    /// Flushes everything and rewrites the metadata with sample counts.
    pub fn finish(mut self) -> Result<PathBuf, BrainError> {
        self.flush()?;
        let counts = self
            .files
            .iter()
            .map(|f| (f.name.clone(), f.data.rows()))
            .collect();
        self.write_metadata(Some(counts))?;
        Ok(self.dir)
    }
}
