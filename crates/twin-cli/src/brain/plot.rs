//! `--plot`: a PNG of monitor time series (one panel per variable, one trace
//! per region), kept small by decimating the samples while the run goes.
//!
//! Text (title, axis labels) needs a TrueType font; the first of a few usual
//! system fonts that exists is used, and without one the plot is drawn with
//! its traces and axes only.

use std::{
    path::Path,
    sync::{Once, OnceLock},
};

use anyhow::{anyhow, Result};
use plotters::prelude::*;

/// Fonts tried, in order.
const FONTS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
];

/// Most samples kept per trace.
const MAX_POINTS: usize = 2000;
/// Most panels (variables) drawn.
const MAX_PANELS: usize = 4;
/// Most traces drawn per panel.
const MAX_TRACES: usize = 128;

/// Registers a system font once; true if one is available.
fn font_available() -> bool {
    static ONCE: Once = Once::new();
    static OK: OnceLock<bool> = OnceLock::new();
    ONCE.call_once(|| {
        let ok = FONTS.iter().any(|p| {
            std::fs::read(p).ok().is_some_and(|bytes| {
                let leaked: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                plotters::style::register_font("sans-serif", FontStyle::Normal, leaked).is_ok()
            })
        });
        let _ = OK.set(ok);
    });
    OK.get().copied().unwrap_or(false)
}

/// Decimated samples of one monitor.
#[derive(Debug)]
pub(crate) struct Trace {
    pub(crate) name: String,
    rows: Vec<String>,
    cols: usize,
    stride: u64,
    seen: u64,
    times: Vec<f64>,
    data: Vec<f64>,
}

impl Trace {
    /// A trace for a monitor expected to give about `expected` samples.
    pub(crate) fn new(name: String, rows: Vec<String>, cols: usize, expected: u64) -> Self {
        Trace {
            name,
            rows,
            cols,
            stride: expected.div_ceil(MAX_POINTS as u64).max(1),
            seen: 0,
            times: Vec::new(),
            data: Vec::new(),
        }
    }

    /// Offers one sample; keeps every `stride`-th.
    pub(crate) fn push(&mut self, time_ms: f64, data: &[f64]) {
        if self.seen % self.stride == 0 {
            self.times.push(time_ms);
            self.data.extend_from_slice(data);
        }
        self.seen += 1;
    }

    /// Writes the PNG (`width × height` pixels).
    pub(crate) fn write_png(&self, path: &Path, title: &str) -> Result<()> {
        let text = font_available();
        let panels = self.rows.len().clamp(1, MAX_PANELS);
        let root = BitMapBackend::new(path, (1200, 260 * panels as u32 + 40)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let root = if text {
            root.titled(title, ("sans-serif", 22)).map_err(plot_err)?
        } else {
            root.margin(20, 0, 0, 0)
        };
        let areas = root.split_evenly((panels, 1));
        let (t0, t1) = match (self.times.first(), self.times.last()) {
            (Some(&a), Some(&b)) if b > a => (a, b),
            (Some(&a), _) => (a, a + 1.0),
            _ => (0.0, 1.0),
        };
        let per_sample = self.rows.len() * self.cols;
        let traces = self.cols.min(MAX_TRACES);
        for (r, area) in areas.iter().enumerate() {
            let value = |k: usize, c: usize| self.data[k * per_sample + r * self.cols + c];
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for k in 0..self.times.len() {
                for c in 0..traces {
                    let v = value(k, c);
                    if v.is_finite() {
                        lo = lo.min(v);
                        hi = hi.max(v);
                    }
                }
            }
            if lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less) {
                let mid = if lo.is_finite() { lo } else { 0.0 };
                (lo, hi) = (mid - 1.0, mid + 1.0);
            }
            let pad = 0.05 * (hi - lo);
            let mut b = ChartBuilder::on(area);
            b.margin(8);
            if text {
                b.x_label_area_size(30).y_label_area_size(60);
            }
            let mut chart = b
                .build_cartesian_2d(t0..t1, (lo - pad)..(hi + pad))
                .map_err(plot_err)?;
            let mut mesh = chart.configure_mesh();
            mesh.light_line_style(WHITE.mix(0.0));
            if text {
                mesh.x_desc("time [ms]")
                    .y_desc(self.rows.get(r).map(String::as_str).unwrap_or(""))
                    .label_style(("sans-serif", 14));
            } else {
                mesh.x_labels(0).y_labels(0);
            }
            mesh.draw().map_err(plot_err)?;
            for c in 0..traces {
                let colour = Palette99::pick(c).mix(0.8);
                let points = (0..self.times.len()).map(|k| (self.times[k], value(k, c)));
                chart
                    .draw_series(LineSeries::new(points, colour.stroke_width(1)))
                    .map_err(plot_err)?;
            }
        }
        root.present().map_err(plot_err)?;
        Ok(())
    }
}

fn plot_err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("plot: {e:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimates_to_at_most_max_points_and_writes_a_png() {
        let mut t = Trace::new("tavg".into(), vec!["V".into(), "W".into()], 3, 10_000);
        for k in 0..10_000 {
            let x = k as f64 * 0.1;
            t.push(x, &[x.sin(), x.cos(), 0.5, 1.0, 2.0, 3.0]);
        }
        assert!(t.times.len() <= MAX_POINTS, "{}", t.times.len());
        assert!(t.times.len() >= MAX_POINTS / 2);
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.png");
        t.write_png(&p, "test").unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
    }
}
