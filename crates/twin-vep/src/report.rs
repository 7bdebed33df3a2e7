//! `report`: one self-contained HTML page with inline SVG figures.
//!
//! 1. Epileptogenicity map: region centres in axial (x–y) and sagittal (y–z)
//!    projection, coloured by posterior mean x0, EZ ringed, contacts dotted.
//! 2. Posterior intervals (90 %) of x0 for the most excitable regions, with the
//!    critical value and, for synthetic patients, the truth.
//! 3. SEEG log-power envelopes of the channels with onsets, onsets marked.
//! 4. Predicted recruitment per intervention: P(seizure-free) and the mean
//!    number of regions that seize.

use std::fmt::Write;

use crate::features::Features;
use crate::fit::FitResult;
use crate::model::X0_CRITICAL;
use crate::patient::{Patient, Truth};
use crate::predict::Outcome;

/// Everything a report can show; the fit is required, the rest optional.
#[derive(Debug)]
pub struct ReportInput<'a> {
    /// The patient.
    pub patient: &'a Patient,
    /// Its features.
    pub features: &'a Features,
    /// The fit.
    pub fit: &'a FitResult,
    /// Predicted outcomes, ranked.
    pub outcomes: Option<&'a [Outcome]>,
    /// The truth (synthetic patients only).
    pub truth: Option<&'a Truth>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Colour of an excitability value: blue (−3.5) → grey → red (−1.4).
fn colour(x0: f64) -> String {
    let t = ((x0 + 3.5) / 2.1).clamp(0.0, 1.0);
    let (r, g, b) = if t < 0.5 {
        let u = t * 2.0;
        (60.0 + 140.0 * u, 90.0 + 110.0 * u, 200.0)
    } else {
        let u = (t - 0.5) * 2.0;
        (200.0 + 40.0 * u, 200.0 - 160.0 * u, 200.0 - 170.0 * u)
    };
    format!("rgb({r:.0},{g:.0},{b:.0})")
}

fn brain_map(inp: &ReportInput<'_>) -> String {
    let c = &inp.patient.centres;
    let ez = inp.fit.ez();
    let mut s = String::new();
    let views = [("axial (x–y)", 0usize, 1usize), ("sagittal (y–z)", 1, 2)];
    let _ = write!(
        s,
        r#"<svg width="820" height="380" xmlns="http://www.w3.org/2000/svg">"#
    );
    for (v, (name, a, b)) in views.iter().enumerate() {
        let ox = 20.0 + v as f64 * 400.0;
        let all: Vec<[f64; 3]> = c
            .iter()
            .chain(&inp.patient.contacts.positions)
            .copied()
            .collect();
        let (mina, maxa) = all.iter().fold((f64::MAX, f64::MIN), |m, p| {
            (m.0.min(p[*a]), m.1.max(p[*a]))
        });
        let (minb, maxb) = all.iter().fold((f64::MAX, f64::MIN), |m, p| {
            (m.0.min(p[*b]), m.1.max(p[*b]))
        });
        let sc = 320.0 / (maxa - mina).max(maxb - minb).max(1.0);
        let px = |p: &[f64; 3]| (ox + 20.0 + (p[*a] - mina) * sc, 350.0 - (p[*b] - minb) * sc);
        let _ = write!(
            s,
            r#"<text x="{}" y="16" font-size="13">{name}</text>"#,
            ox + 20.0
        );
        for p in &inp.patient.contacts.positions {
            let (x, y) = px(p);
            let _ = write!(
                s,
                r#"<circle cx="{x:.1}" cy="{y:.1}" r="1.5" fill="black"/>"#
            );
        }
        for (i, p) in c.iter().enumerate() {
            let (x, y) = px(p);
            let r = &inp.fit.regions[i];
            let ring = if ez.contains(&i) {
                r#" stroke="black" stroke-width="2""#
            } else {
                ""
            };
            let _ = write!(
                s,
                r#"<circle cx="{x:.1}" cy="{y:.1}" r="6" fill="{}"{ring}><title>{}: x0 {:.2} [{:.2}, {:.2}] {}</title></circle>"#,
                colour(r.mean),
                esc(&r.label),
                r.mean,
                r.q05,
                r.q95,
                r.class
            );
        }
    }
    s.push_str("</svg>");
    s
}

fn intervals(inp: &ReportInput<'_>) -> String {
    let mut regs: Vec<_> = inp.fit.regions.iter().collect();
    regs.sort_by(|a, b| b.mean.total_cmp(&a.mean));
    regs.truncate(25);
    let h = 24.0 + 16.0 * regs.len() as f64;
    let (lo, hi) = (-3.6, -1.2);
    let xs = |v: f64| 160.0 + (v.clamp(lo, hi) - lo) / (hi - lo) * 560.0;
    let mut s = format!(r#"<svg width="760" height="{h:.0}" xmlns="http://www.w3.org/2000/svg">"#);
    let xc = xs(X0_CRITICAL);
    let _ = write!(
        s,
        r#"<line x1="{xc:.1}" y1="0" x2="{xc:.1}" y2="{h:.0}" stroke="red" stroke-dasharray="4"/>"#
    );
    for v in [-3.5, -3.0, -2.5, -2.0, -1.5] {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.0}" font-size="10">{v}</text>"#,
            xs(v) - 8.0,
            h - 2.0
        );
    }
    for (k, r) in regs.iter().enumerate() {
        let y = 12.0 + 16.0 * k as f64;
        let _ = write!(
            s,
            r#"<text x="150" y="{:.1}" font-size="11" text-anchor="end">{} ({})</text><line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{}" stroke-width="3"/><circle cx="{:.1}" cy="{y:.1}" r="3.5" fill="black"/>"#,
            y + 4.0,
            esc(&r.label),
            r.class,
            xs(r.q05),
            xs(r.q95),
            colour(r.mean),
            xs(r.mean)
        );
        if let Some(t) = inp.truth {
            let _ = write!(
                s,
                r#"<path d="M{:.1} {:.1} l4 7 l-8 0 z" fill="green"><title>truth {:.2}</title></path>"#,
                xs(t.x0[r.region]),
                y - 3.0,
                t.x0[r.region]
            );
        }
    }
    s.push_str("</svg>");
    s
}

fn seeg(inp: &ReportInput<'_>) -> String {
    let f = inp.features;
    let nc = f.channels.len();
    let mut chans: Vec<usize> = (0..nc).filter(|&c| f.onset_s[c].is_some()).collect();
    chans.sort_by(|a, b| {
        f.onset_s[*a]
            .partial_cmp(&f.onset_s[*b])
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    chans.truncate(14);
    if chans.is_empty() {
        chans = (0..nc.min(8)).collect();
    }
    let nw = f.window_start_s.len();
    let tmax = f.window_start_s.last().copied().unwrap_or(1.0) + f.window_s;
    let row = 34.0;
    let h = 20.0 + row * chans.len() as f64;
    let xs = |t: f64| 90.0 + t / tmax * 650.0;
    let mut s = format!(r#"<svg width="760" height="{h:.0}" xmlns="http://www.w3.org/2000/svg">"#);
    for (k, &c) in chans.iter().enumerate() {
        let y0 = 10.0 + row * (k as f64 + 1.0);
        let vals: Vec<f64> = (0..nw).map(|w| f.log_power[w * nc + c]).collect();
        let (mn, mx) = vals
            .iter()
            .fold((f64::MAX, f64::MIN), |m, v| (m.0.min(*v), m.1.max(*v)));
        let span = (mx - mn).max(1e-9);
        let mut d = String::new();
        for (w, v) in vals.iter().enumerate() {
            let x = xs(f.window_start_s[w] + f.window_s / 2.0);
            let y = y0 - (v - mn) / span * (row - 6.0);
            let _ = write!(d, "{}{x:.1} {y:.1} ", if w == 0 { "M" } else { "L" });
        }
        let _ = write!(
            s,
            r#"<text x="84" y="{:.1}" font-size="11" text-anchor="end">{}</text><path d="{d}" fill="none" stroke="steelblue"/>"#,
            y0 - 4.0,
            esc(&f.channels[c])
        );
        if let Some(t) = f.onset_s[c] {
            let x = xs(t);
            let _ = write!(
                s,
                r#"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{y0:.1}" stroke="red" stroke-width="2"><title>onset {t:.1} s</title></line>"#,
                y0 - row + 4.0
            );
        }
        if let Some(t) = f.offset_s[c] {
            let x = xs(t);
            let _ = write!(
                s,
                r#"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{y0:.1}" stroke="gray" stroke-dasharray="3"/>"#,
                y0 - row + 4.0
            );
        }
    }
    let _ = write!(
        s,
        r#"<text x="90" y="{:.0}" font-size="10">0 s</text><text x="700" y="{:.0}" font-size="10">{tmax:.0} s</text></svg>"#,
        h - 2.0,
        h - 2.0
    );
    s
}

fn recruitment(out: &[Outcome]) -> String {
    let row = 22.0;
    let h = 30.0 + row * out.len() as f64;
    let mut s = format!(
        r#"<svg width="760" height="{h:.0}" xmlns="http://www.w3.org/2000/svg"><text x="260" y="14" font-size="11">P(seizure-free)</text><text x="520" y="14" font-size="11">mean regions recruited</text>"#
    );
    let maxr = out.iter().map(|o| o.mean_recruited).fold(1.0, f64::max);
    for (k, o) in out.iter().enumerate() {
        let y = 22.0 + row * k as f64;
        let _ = write!(
            s,
            r#"<text x="250" y="{:.1}" font-size="11" text-anchor="end">{}</text><rect x="260" y="{y:.1}" width="{:.1}" height="14" fill="seagreen"/><text x="{:.1}" y="{:.1}" font-size="10">{:.2}</text><rect x="520" y="{y:.1}" width="{:.1}" height="14" fill="indianred"/><text x="{:.1}" y="{:.1}" font-size="10">{:.1}</text>"#,
            y + 11.0,
            esc(&o.intervention.name),
            o.p_seizure_free * 200.0,
            264.0 + o.p_seizure_free * 200.0,
            y + 11.0,
            o.p_seizure_free,
            o.mean_recruited / maxr * 180.0,
            524.0 + o.mean_recruited / maxr * 180.0,
            y + 11.0,
            o.mean_recruited
        );
    }
    s.push_str("</svg>");
    s
}

/// Renders the HTML page.
pub fn render(inp: &ReportInput<'_>) -> String {
    let fit = inp.fit;
    let mut h = String::from("<!doctype html><html><head><meta charset=\"utf-8\"><title>Virtual epileptic patient report</title><style>body{font-family:sans-serif;max-width:900px;margin:2em auto;color:#222}table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;font-size:13px}h2{margin-top:1.6em}</style></head><body>");
    let _ = write!(h, "<h1>Virtual epileptic patient</h1><p>Patient folder <code>{}</code>: {} regions, {} contacts, {} bipolar channels. Fit: <b>{}</b> in {:.1} s; K = {:.2} (90 % interval {:.2}–{:.2}).</p>",
        esc(&inp.patient.dir.display().to_string()), inp.patient.n_regions(), inp.patient.contacts.names.len(), inp.features.channels.len(), fit.method, fit.seconds, fit.k_mean, fit.k_interval[0], fit.k_interval[1]);
    if let Some(d) = &fit.diagnostics {
        let _ = write!(h, "<p>Sampling: {} chains × {} draws, max split R-hat {:.3}, min ESS {:.0}, acceptance {:.2}.</p>", d.chains, d.draws, d.max_rhat, d.min_ess, d.accept);
    }
    let names = |v: Vec<usize>| {
        v.iter()
            .map(|&r| esc(&fit.regions[r].label))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = write!(
        h,
        "<p><b>EZ</b>: {}<br><b>PZ</b>: {}</p>",
        names(fit.ez()),
        names(fit.pz())
    );
    if let Some(t) = inp.truth {
        let lab = |v: &[usize]| {
            v.iter()
                .map(|&r| esc(&fit.regions[r].label))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = write!(
            h,
            "<p>Truth (synthetic patient): EZ {}; PZ {}; K {:.2}.</p>",
            lab(&t.ez),
            lab(&t.pz),
            t.k
        );
    }
    let _ = write!(h, "<h2>Epileptogenicity map</h2><p>Posterior mean x0 (blue healthy → red epileptogenic), EZ ringed, SEEG contacts as dots.</p>{}", brain_map(inp));
    let _ = write!(h, "<h2>Posterior intervals</h2><p>90 % credible intervals of x0 for the 25 most excitable regions; dashed line: critical value {X0_CRITICAL}{}.</p>{}", if inp.truth.is_some() { "; green: truth" } else { "" }, intervals(inp));
    let _ = write!(h, "<h2>SEEG envelopes and onsets</h2><p>Log-power envelope per bipolar channel (earliest onsets first); red: onset, grey: offset.</p>{}", seeg(inp));
    if let Some(out) = inp.outcomes {
        let _ = write!(h, "<h2>Predicted recruitment per strategy</h2><p>Over posterior draws, ranked by P(seizure-free) then tissue removed.</p>{}<table><tr><th>strategy</th><th>regions removed</th><th>P(seizure-free)</th><th>mean recruited</th></tr>", recruitment(out));
        for o in out {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{:.0}</td><td>{:.2}</td><td>{:.1}</td></tr>",
                esc(&o.intervention.name),
                o.tissue_removed,
                o.p_seizure_free,
                o.mean_recruited
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<h2>Regions</h2><table><tr><th>region</th><th>mean x0</th><th>90 % interval</th><th>P(EZ)</th><th>P(seizes)</th><th>class</th></tr>");
    let mut regs: Vec<_> = fit.regions.iter().collect();
    regs.sort_by(|a, b| b.mean.total_cmp(&a.mean));
    for r in regs {
        let _ = write!(h, "<tr><td>{}</td><td>{:.2}</td><td>{:.2} – {:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{}</td></tr>", esc(&r.label), r.mean, r.q05, r.q95, r.p_ez, r.p_seize, r.class);
    }
    h.push_str("</table></body></html>\n");
    h
}
