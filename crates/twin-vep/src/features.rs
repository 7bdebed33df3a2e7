//! SEEG features: bipolar montage, high-pass filter, log-power envelope over
//! sliding windows, and onset/offset detection per bipolar channel.
//!
//! * Bipolar: `b_p(t) = s_next(t) − s_deeper(t)` for consecutive contacts of a
//!   shaft (removes the common reference and most of the slow field).
//! * High-pass: a second-order Butterworth section (bilinear transform,
//!   cut-off `fc`), run forwards.
//! * Envelope: `y_pk = ln( mean_{t∈window k} b̃_p(t)² )`, windows of `window_s`
//!   every `hop_s`.
//! * Onset: the first window from which `y` stays above `baseline + threshold`
//!   for `min_windows` windows, the baseline being the median of the windows
//!   in the first `baseline_s`; offset: the last window of that run.

use serde::{Deserialize, Serialize};

use crate::error::VepError;
use crate::io::Matrix;
use crate::sensors::{bipolar_pairs, pair_name, Contacts};

/// Settings of the feature pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureParams {
    /// High-pass cut-off \[Hz\].
    pub highpass_hz: f64,
    /// Window length \[s\].
    pub window_s: f64,
    /// Hop between windows \[s\].
    pub hop_s: f64,
    /// Baseline duration at the start of the recording \[s\].
    pub baseline_s: f64,
    /// Onset threshold above the baseline (natural-log power units).
    pub threshold: f64,
    /// Windows a crossing must last.
    pub min_windows: usize,
}

impl Default for FeatureParams {
    fn default() -> Self {
        FeatureParams {
            highpass_hz: 5.0,
            window_s: 1.0,
            hop_s: 0.5,
            baseline_s: 4.0,
            threshold: 2.0,
            min_windows: 3,
        }
    }
}

/// Features of one recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Features {
    /// Bipolar channel names (`A1-A2`).
    pub channels: Vec<String>,
    /// Contact pairs `(deeper, next)`.
    pub pairs: Vec<(usize, usize)>,
    /// Window start times \[s\].
    pub window_start_s: Vec<f64>,
    /// Window length \[s\].
    pub window_s: f64,
    /// Log power, `windows × channels` row-major.
    pub log_power: Vec<f64>,
    /// Onset time \[s\] per channel (window start), if any.
    pub onset_s: Vec<Option<f64>>,
    /// Offset time \[s\] per channel (window end), if any.
    pub offset_s: Vec<Option<f64>>,
}

/// Second-order Butterworth high-pass, applied forwards in place.
pub fn highpass(x: &mut [f64], fs_hz: f64, fc_hz: f64) {
    let k = (std::f64::consts::PI * fc_hz / fs_hz).tan();
    let s2 = std::f64::consts::SQRT_2;
    let norm = 1.0 / (1.0 + s2 * k + k * k);
    let (b0, b1, b2) = (norm, -2.0 * norm, norm);
    let (a1, a2) = (2.0 * (k * k - 1.0) * norm, (1.0 - s2 * k + k * k) * norm);
    let (mut x1, mut x2, mut y1, mut y2) = (x[0], x[0], 0.0, 0.0);
    for v in x.iter_mut() {
        let x0 = *v;
        let y = b0 * x0 + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
        (x2, x1, y2, y1) = (x1, x0, y1, y);
        *v = y;
    }
}

/// Computes the features of `seeg` (`samples × contacts`, sampled at `fs_hz`).
pub fn compute(
    file: &str,
    seeg: &Matrix,
    fs_hz: f64,
    contacts: &Contacts,
    p: &FeatureParams,
) -> Result<Features, VepError> {
    if seeg.cols != contacts.names.len() {
        return Err(VepError::Shape {
            file: file.to_string(),
            what: "SEEG recording",
            got: vec![seeg.rows, seeg.cols],
            expected: format!("samples × {} contacts", contacts.names.len()),
        });
    }
    crate::io::check_finite(file, seeg.cols, &seeg.data)?;
    if !(p.highpass_hz > 0.0 && p.highpass_hz < fs_hz / 2.0) {
        return Err(VepError::Invalid {
            what: "high-pass cut-off".into(),
            reason: format!(
                "{} Hz is not inside (0, fs/2 = {} Hz)",
                p.highpass_hz,
                fs_hz / 2.0
            ),
        });
    }
    let pairs = bipolar_pairs(contacts);
    let wlen = (p.window_s * fs_hz).round().max(1.0) as usize;
    let hop = (p.hop_s * fs_hz).round().max(1.0) as usize;
    if seeg.rows < wlen {
        return Err(VepError::Invalid {
            what: file.to_string(),
            reason: format!("{} samples is shorter than one window ({wlen})", seeg.rows),
        });
    }
    let starts: Vec<usize> = (0..=seeg.rows - wlen).step_by(hop).collect();
    let nw = starts.len();
    let nc = pairs.len();
    let mut lp = vec![0.0; nw * nc];
    let mut b = vec![0.0; seeg.rows];
    for (c, &(i, j)) in pairs.iter().enumerate() {
        for t in 0..seeg.rows {
            b[t] = seeg.data[t * seeg.cols + j] - seeg.data[t * seeg.cols + i];
        }
        highpass(&mut b, fs_hz, p.highpass_hz);
        // prefix sums of squares for O(1) windows
        let mut cum = vec![0.0; seeg.rows + 1];
        for t in 0..seeg.rows {
            cum[t + 1] = cum[t] + b[t] * b[t];
        }
        for (k, &s) in starts.iter().enumerate() {
            let pw = (cum[s + wlen] - cum[s]) / wlen as f64;
            lp[k * nc + c] = pw.max(1e-300).ln();
        }
    }
    let window_start_s: Vec<f64> = starts.iter().map(|&s| s as f64 / fs_hz).collect();
    let (onset_s, offset_s) = onsets(&lp, nc, &window_start_s, p);
    Ok(Features {
        channels: pairs.iter().map(|&q| pair_name(contacts, q)).collect(),
        pairs,
        window_start_s,
        window_s: p.window_s,
        log_power: lp,
        onset_s,
        offset_s,
    })
}

type Times = Vec<Option<f64>>;

/// Onset and offset per channel of a `windows × channels` log-power array.
pub fn onsets(lp: &[f64], nc: usize, starts: &[f64], p: &FeatureParams) -> (Times, Times) {
    let nw = starts.len();
    let nb = starts
        .iter()
        .filter(|&&t| t + p.window_s <= p.baseline_s)
        .count()
        .max(1);
    let mut on = vec![None; nc];
    let mut off = vec![None; nc];
    for c in 0..nc {
        let mut base: Vec<f64> = (0..nb.min(nw)).map(|k| lp[k * nc + c]).collect();
        base.sort_by(f64::total_cmp);
        let thr = base[base.len() / 2] + p.threshold;
        let above: Vec<bool> = (0..nw).map(|k| lp[k * nc + c] > thr).collect();
        let m = p.min_windows.max(1);
        if let Some(k0) =
            (0..nw.saturating_sub(m - 1)).find(|&k| above[k..k + m].iter().all(|a| *a))
        {
            on[c] = Some(starts[k0]);
            let k1 = (k0..nw).take_while(|&k| above[k]).last().unwrap_or(k0);
            off[c] = Some(starts[k1] + p.window_s);
        }
    }
    (on, off)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highpass_removes_a_constant_and_keeps_a_fast_sine() {
        let fs = 200.0;
        let mut dc = vec![3.0; 2000];
        highpass(&mut dc, fs, 5.0);
        assert!(dc[1000..].iter().all(|v| v.abs() < 1e-6));
        let mut s: Vec<f64> = (0..2000)
            .map(|t| (std::f64::consts::TAU * 40.0 * t as f64 / fs).sin())
            .collect();
        highpass(&mut s, fs, 5.0);
        let p: f64 = s[1000..].iter().map(|v| v * v).sum::<f64>() / 1000.0;
        assert!((p - 0.5).abs() < 0.02, "{p}");
    }

    #[test]
    fn burst_onset_and_offset_are_found_on_the_right_channel() {
        let fs = 100.0;
        let contacts = Contacts {
            names: vec!["A1".into(), "A2".into(), "A3".into()],
            shaft: vec![0, 0, 0],
            positions: vec![[0.0; 3]; 3],
        };
        let n = 3000;
        let mut data = vec![0.0; n * 3];
        let mut r = crate::rng::Rng::new(1, 2);
        for t in 0..n {
            let burst = if (1000..2000).contains(&t) { 20.0 } else { 1.0 };
            data[t * 3] = r.normal();
            data[t * 3 + 1] = r.normal() * burst; // A2 bursts: both pairs see it
            data[t * 3 + 2] = data[t * 3 + 1] + 0.1 * r.normal(); // A2-A3 nearly cancels
        }
        let m = Matrix {
            rows: n,
            cols: 3,
            data,
        };
        let f = compute("x.npy", &m, fs, &contacts, &FeatureParams::default()).unwrap();
        assert_eq!(f.channels, vec!["A1-A2", "A2-A3"]);
        let on = f.onset_s[0].unwrap();
        assert!((9.0..=10.5).contains(&on), "{on}");
        let off = f.offset_s[0].unwrap();
        assert!((19.5..=21.0).contains(&off), "{off}");
        assert!(f.onset_s[1].is_none());
    }

    #[test]
    fn nan_in_recording_names_file_and_entry() {
        let contacts = Contacts {
            names: vec!["A1".into(), "A2".into()],
            shaft: vec![0, 0],
            positions: vec![[0.0; 3]; 2],
        };
        let mut data = vec![0.0; 400];
        data[2 * 57 + 1] = f64::NAN;
        let m = Matrix {
            rows: 200,
            cols: 2,
            data,
        };
        let e = compute("rec.npy", &m, 100.0, &contacts, &FeatureParams::default()).unwrap_err();
        let s = e.to_string();
        assert!(s.contains("rec.npy") && s.contains("[57, 1]"), "{s}");
    }
}
