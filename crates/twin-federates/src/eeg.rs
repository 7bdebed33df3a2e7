//! Scalp EEG for the `brain` member: electrode positions and a lead field.
//!
//! **Sensors.** The 19 electrodes of the international 10–20 system
//! (Jasper 1958), placed by their approximate spherical angles (polar angle θ
//! from the vertex Cz, azimuth φ from the right ear towards the nose) on an
//! ellipsoid around the region centres: centred on their centroid `m`, with
//! semi-axes `a_k = max_i |c_ik − m_k| + 12 mm` (the skull and scalp), so
//! electrode `s` sits at `r_s = m + a ⊙ (sin θ cos φ, sin θ sin φ, cos θ)`.
//! Coordinates are RAS (x right, y anterior, z superior), as in TVB's
//! connectivity centres.
//!
//! **Lead field.** No EEG projection matrix exists for a region-level
//! connectome without a cortical surface (tvb-data's EEG projections are for
//! its 16k-vertex surface), so the gain is the documented simple model: one
//! current dipole per region at its centre `c_i`, oriented radially
//! (`q_i = (c_i − m) / |c_i − m|`, the mean orientation of cortical
//! pyramidal cells is normal to the surface), in an infinite homogeneous
//! conductor of unit conductivity (Sarvas 1987, eq. 12, without the
//! boundary terms):
//!
//! ```text
//! G_si = q_i · (r_s − c_i) / (4π |r_s − c_i|³)          [mm⁻²]
//! ```
//!
//! re-referenced to the common average (`G_si − mean_s G_si`), as EEG
//! amplifiers record potential differences. A channel's value is
//! `Σ_i G_si x_i` for the monitored variable `x` (model units × mm⁻²). This
//! ignores the skull's smearing (a spherical head model or a BEM would
//! need a head geometry the member does not have), so the maps are sharper
//! than real EEG; the channel traces still mix every region by distance and
//! orientation, which is what a display and a closed-loop test need.
//!
//! Reference: J. Sarvas, "Basic mathematical and electromagnetic concepts of
//! the biomagnetic inverse problem", Phys. Med. Biol. 32 (1987) 11–22.

/// Topic of the EEG channels ([`crate::brain::BrainChannels`], key `eeg`).
pub const EEG_TOPIC: &str = "twin/brain/eeg";

/// Scalp clearance added to the brain's extent on every axis [mm].
const SCALP_MARGIN_MM: f64 = 12.0;

/// The 10–20 electrodes: label, polar angle θ from the vertex [deg],
/// azimuth φ from the right ear towards the nose [deg].
const TEN_TWENTY: [(&str, f64, f64); 19] = [
    ("Fp1", 90.0, 108.0),
    ("Fp2", 90.0, 72.0),
    ("F7", 90.0, 144.0),
    ("F3", 60.0, 129.0),
    ("Fz", 45.0, 90.0),
    ("F4", 60.0, 51.0),
    ("F8", 90.0, 36.0),
    ("T3", 90.0, 180.0),
    ("C3", 45.0, 180.0),
    ("Cz", 0.0, 0.0),
    ("C4", 45.0, 0.0),
    ("T4", 90.0, 0.0),
    ("T5", 90.0, 216.0),
    ("P3", 60.0, 231.0),
    ("Pz", 45.0, 270.0),
    ("P4", 60.0, 309.0),
    ("T6", 90.0, 324.0),
    ("O1", 90.0, 252.0),
    ("O2", 90.0, 288.0),
];

fn centroid(centres: &[[f64; 3]]) -> [f64; 3] {
    let n = centres.len().max(1) as f64;
    let mut m = [0.0; 3];
    for c in centres {
        for k in 0..3 {
            m[k] += c[k] / n;
        }
    }
    m
}

/// The 19 electrodes' labels and positions [mm] on the scalp ellipsoid
/// around `centres` (see the module docs).
pub fn eeg_sensors(centres: &[[f64; 3]]) -> (Vec<String>, Vec<[f64; 3]>) {
    let m = centroid(centres);
    let mut a = [0.0f64; 3];
    for c in centres {
        for k in 0..3 {
            a[k] = a[k].max((c[k] - m[k]).abs());
        }
    }
    let a = a.map(|x| x + SCALP_MARGIN_MM);
    TEN_TWENTY
        .iter()
        .map(|&(label, theta, phi)| {
            let (t, p) = (theta.to_radians(), phi.to_radians());
            let u = [t.sin() * p.cos(), t.sin() * p.sin(), t.cos()];
            let r = [m[0] + a[0] * u[0], m[1] + a[1] * u[1], m[2] + a[2] * u[2]];
            (label.to_owned(), r)
        })
        .unzip()
}

/// The average-referenced radial-dipole gain, `sensors × regions`
/// row-major [mm⁻²] (see the module docs).
pub fn eeg_gain(centres: &[[f64; 3]], sensors: &[[f64; 3]]) -> Vec<f64> {
    let n = centres.len();
    let m = centroid(centres);
    let mut g = vec![0.0; sensors.len() * n];
    for (i, c) in centres.iter().enumerate() {
        let q = [c[0] - m[0], c[1] - m[1], c[2] - m[2]];
        let qn = (q[0] * q[0] + q[1] * q[1] + q[2] * q[2]).sqrt();
        if qn == 0.0 {
            continue; // a region at the centroid has no radial direction
        }
        for (s, r) in sensors.iter().enumerate() {
            let d = [r[0] - c[0], r[1] - c[1], r[2] - c[2]];
            let d2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            let v = (q[0] * d[0] + q[1] * d[1] + q[2] * d[2])
                / qn
                / (4.0 * std::f64::consts::PI * d2 * d2.sqrt());
            g[s * n + i] = if v.is_finite() { v } else { 0.0 };
        }
        let mean = (0..sensors.len()).map(|s| g[s * n + i]).sum::<f64>() / sensors.len() as f64;
        for s in 0..sensors.len() {
            g[s * n + i] -= mean;
        }
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell() -> Vec<[f64; 3]> {
        crate::brain::synthetic_connectome(76, 3).centres().to_vec()
    }

    #[test]
    fn electrodes_sit_outside_every_region_with_cz_on_top() {
        let c = shell();
        let (labels, pos) = eeg_sensors(&c);
        assert_eq!(labels.len(), 19);
        let cz = &pos[labels.iter().position(|l| l == "Cz").unwrap()];
        let top = c.iter().map(|c| c[2]).fold(f64::MIN, f64::max);
        assert!(
            cz[2] > top + 5.0,
            "Cz {cz:?} above the highest centre {top}"
        );
        // Fp1/Fp2 in front, O1/O2 behind, T3 left, T4 right.
        let at = |l: &str| pos[labels.iter().position(|x| x == l).unwrap()];
        assert!(at("Fp1")[1] > 0.0 && at("O1")[1] < 0.0);
        assert!(at("T3")[0] < 0.0 && at("T4")[0] > 0.0);
        assert!(at("Fp1")[0] < 0.0 && at("Fp2")[0] > 0.0);
        for p in &pos {
            let nearest = c
                .iter()
                .map(|c| {
                    ((p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2) + (p[2] - c[2]).powi(2)).sqrt()
                })
                .fold(f64::MAX, f64::min);
            assert!(
                nearest > 5.0,
                "electrode {p:?} is {nearest} mm from a centre"
            );
        }
    }

    #[test]
    fn gain_is_average_referenced_and_largest_over_the_nearest_region() {
        let c = shell();
        let (labels, pos) = eeg_sensors(&c);
        let g = eeg_gain(&c, &pos);
        let n = c.len();
        assert_eq!(g.len(), 19 * n);
        for i in 0..n {
            let col: f64 = (0..19).map(|s| g[s * n + i]).sum();
            assert!(col.abs() < 1e-12, "column {i} sums to {col}");
        }
        // A radial dipole right under an electrode drives it hardest.
        let cz = labels.iter().position(|l| l == "Cz").unwrap();
        let top = (0..n).max_by(|&a, &b| c[a][2].total_cmp(&c[b][2])).unwrap();
        let best = (0..19)
            .max_by(|&a, &b| g[a * n + top].total_cmp(&g[b * n + top]))
            .unwrap();
        let near = (0..19)
            .min_by(|&a, &b| {
                let d = |s: usize| (0..3).map(|k| (pos[s][k] - c[top][k]).powi(2)).sum::<f64>();
                d(a).total_cmp(&d(b))
            })
            .unwrap();
        assert_eq!(best, near, "region {top} under {}", labels[near]);
        assert!(g[cz * n + top] > 0.0);
    }
}
