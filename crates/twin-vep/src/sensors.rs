//! SEEG contacts: generated depth electrodes ("shafts") through chosen
//! regions, the inverse-square gain matrix, the bipolar montage and the
//! head check.
//!
//! A shaft enters from outside, pointing at a target region centre: its
//! contacts lie every `spacing` mm on the line from 10 mm beyond the target
//! outwards, named `A1, A2, …` (A = first shaft), deepest first. The gain is
//! `G_si = 1 / max(|r_s − r_i|², d_min²)` (the VEP's distance model), computed
//! with twin-brain's [`compute_gain`] and normalised to a maximum of 1.
//! The head is the ellipsoid around the region centres whose semi-axes are the
//! largest centre offsets plus [`HEAD_MARGIN_MM`].

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use twin_brain::monitors::{compute_gain, GainModel};

use crate::error::VepError;
use crate::rng::Rng;

/// Margin added to the centres' extent to form the head ellipsoid \[mm\].
pub const HEAD_MARGIN_MM: f64 = 25.0;
/// Smallest contact–centre distance used in the gain \[mm\].
pub const D_MIN_MM: f64 = 2.0;

/// SEEG contacts: positions \[mm\], names and shaft of each contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contacts {
    /// Names (`A1`, …).
    pub names: Vec<String>,
    /// Shaft index per contact.
    pub shaft: Vec<usize>,
    /// Positions \[mm\].
    pub positions: Vec<[f64; 3]>,
}

/// Head ellipsoid: centre and semi-axes \[mm\].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Head {
    /// Centre.
    pub centre: [f64; 3],
    /// Semi-axes.
    pub axes: [f64; 3],
}

impl Head {
    /// The ellipsoid around `centres` (see the module docs).
    pub fn around(centres: &[[f64; 3]]) -> Self {
        let n = centres.len().max(1) as f64;
        let mut c = [0.0; 3];
        for p in centres {
            for k in 0..3 {
                c[k] += p[k] / n;
            }
        }
        let mut axes = [0.0f64; 3];
        for p in centres {
            for k in 0..3 {
                axes[k] = axes[k].max((p[k] - c[k]).abs());
            }
        }
        Head {
            centre: c,
            axes: axes.map(|a| a + HEAD_MARGIN_MM),
        }
    }

    /// Whether `p` is inside.
    pub fn contains(&self, p: &[f64; 3]) -> bool {
        (0..3)
            .map(|k| ((p[k] - self.centre[k]) / self.axes[k]).powi(2))
            .sum::<f64>()
            <= 1.0
    }
}

/// Generates one shaft per target region (`contacts` per shaft, `spacing` mm).
pub fn shafts_through(
    centres: &[[f64; 3]],
    targets: &[usize],
    contacts: usize,
    spacing_mm: f64,
    rng: &mut Rng,
) -> Contacts {
    let head = Head::around(centres);
    let mut out = Contacts {
        names: vec![],
        shaft: vec![],
        positions: vec![],
    };
    for (s, &t) in targets.iter().enumerate() {
        let tc = centres[t];
        let mut dir = [0.0; 3];
        for k in 0..3 {
            dir[k] = tc[k] - head.centre[k] + 15.0 * rng.normal();
        }
        let norm = dir.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-9);
        dir.iter_mut().for_each(|v| *v /= norm);
        let letter = shaft_name(s);
        let mut k = 0;
        for c in 0..contacts {
            let off = -10.0 + 0.7 + c as f64 * spacing_mm;
            let p = [0, 1, 2].map(|j| tc[j] + off * dir[j]);
            if !head.contains(&p) {
                break;
            }
            k += 1;
            out.names.push(format!("{letter}{k}"));
            out.shaft.push(s);
            out.positions.push(p);
        }
    }
    out
}

fn shaft_name(s: usize) -> String {
    let a = (b'A' + (s % 26) as u8) as char;
    if s < 26 {
        a.to_string()
    } else {
        format!("{a}{}", s / 26)
    }
}

/// Errors if a contact lies outside the head; `file` names the sensor file.
pub fn check_inside(file: &str, c: &Contacts, centres: &[[f64; 3]]) -> Result<(), VepError> {
    let head = Head::around(centres);
    for (i, p) in c.positions.iter().enumerate() {
        if !p.iter().all(|v| v.is_finite()) || !head.contains(p) {
            return Err(VepError::SensorOutsideHead {
                file: file.to_string(),
                index: i,
                name: c.names.get(i).cloned().unwrap_or_default(),
                position: *p,
            });
        }
    }
    Ok(())
}

/// Inverse-square gain, `contacts × regions`, normalised to a maximum of 1.
pub fn inverse_square_gain(c: &Contacts, centres: &[[f64; 3]]) -> Vec<f64> {
    let mut g = compute_gain(&c.positions, centres, None, &GainModel::InverseSquare)
        .expect("the inverse-square model needs no orientations");
    let cap = 1.0 / (D_MIN_MM * D_MIN_MM);
    for v in g.iter_mut() {
        if *v == 0.0 || *v > cap {
            *v = cap;
        }
    }
    let max = g.iter().cloned().fold(0.0, f64::max);
    g.iter_mut().for_each(|v| *v /= max);
    g
}

/// Groups of regions that share a centre: per region, the smallest index of
/// the regions at the same position (within 1 µm); a region alone maps to itself.
///
/// A distance-based gain gives such regions identical columns, so no sensor
/// can tell them apart: tvb-data's `connectivity_192` puts 116 of its 192
/// regions (subcortical nuclei of both hemispheres) on one placeholder centre.
pub fn centre_groups(centres: &[[f64; 3]]) -> Vec<usize> {
    let same = |a: &[f64; 3], b: &[f64; 3]| (0..3).all(|k| (a[k] - b[k]).abs() < 1e-3);
    (0..centres.len())
        .map(|i| {
            (0..=i)
                .find(|&j| same(&centres[i], &centres[j]))
                .unwrap_or(i)
        })
        .collect()
}

/// Whether region `r` has a centre of its own (see [`centre_groups`]).
pub fn has_own_centre(groups: &[usize], r: usize) -> bool {
    groups.iter().filter(|&&g| g == groups[r]).count() == 1
}

/// Bipolar pairs: consecutive contacts on the same shaft, `(deeper, next)`.
pub fn bipolar_pairs(c: &Contacts) -> Vec<(usize, usize)> {
    (1..c.names.len())
        .filter(|&i| c.shaft[i] == c.shaft[i - 1])
        .map(|i| (i - 1, i))
        .collect()
}

/// Name of a bipolar pair, e.g. `A1-A2`.
pub fn pair_name(c: &Contacts, p: (usize, usize)) -> String {
    format!("{}-{}", c.names[p.0], c.names[p.1])
}

/// Reads SEEG contacts from a TVB sensor file (`name x y z` per line, positions
/// in mm in the connectome's frame, e.g. tvb-data's `seeg_588.txt`), plain or
/// `.bz2`-compressed. Shafts come from the names as in [`contacts_from_names`].
/// Errors name the file and the 1-based line.
pub fn read_sensor_file(path: &Path) -> Result<Contacts, VepError> {
    let file = path.display().to_string();
    let mut bytes = std::fs::read(path).map_err(|e| crate::error::io(path, e))?;
    if file.ends_with(".bz2") {
        let mut out = Vec::new();
        bzip2::read::BzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| bad_file(&file, format!("bzip2 decompression failed: {e}")))?;
        bytes = out;
    }
    let text =
        String::from_utf8(bytes).map_err(|e| bad_file(&file, format!("not UTF-8 text: {e}")))?;
    let (mut names, mut positions) = (Vec::new(), Vec::new());
    for (k, line) in text.lines().enumerate() {
        let toks: Vec<&str> = line.split_whitespace().collect();
        if toks.is_empty() {
            continue;
        }
        if toks.len() < 4 {
            return Err(bad_line(
                &file,
                k + 1,
                format!("expected `name x y z`, found {} fields", toks.len()),
            ));
        }
        let mut p = [0.0; 3];
        for (j, t) in toks[1..4].iter().enumerate() {
            p[j] = t
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    bad_line(
                        &file,
                        k + 1,
                        format!("coordinate `{t}` is not a finite number"),
                    )
                })?;
        }
        if names.contains(&toks[0].to_string()) {
            return Err(bad_line(
                &file,
                k + 1,
                format!("contact `{}` appears twice", toks[0]),
            ));
        }
        names.push(toks[0].to_string());
        positions.push(p);
    }
    if names.is_empty() {
        return Err(bad_file(&file, "no contacts".into()));
    }
    Ok(Contacts {
        positions,
        ..contacts_from_names(&names)
    })
}

fn bad_file(file: &str, reason: String) -> VepError {
    VepError::Invalid {
        what: file.to_string(),
        reason,
    }
}

fn bad_line(file: &str, line: usize, reason: String) -> VepError {
    VepError::Csv {
        file: file.to_string(),
        line,
        reason,
    }
}

/// Contacts from names alone (`A1, A2, B1, …`): the shaft is the name without
/// its trailing digits, in order of first appearance; positions unknown (zero).
pub fn contacts_from_names(names: &[String]) -> Contacts {
    let mut shafts: Vec<String> = Vec::new();
    let shaft = names
        .iter()
        .map(|n| {
            let stem = n.trim_end_matches(|c: char| c.is_ascii_digit()).to_string();
            match shafts.iter().position(|s| *s == stem) {
                Some(k) => k,
                None => {
                    shafts.push(stem);
                    shafts.len() - 1
                }
            }
        })
        .collect();
    Contacts {
        names: names.to_vec(),
        shaft,
        positions: vec![[0.0; 3]; names.len()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centre_groups_join_only_coincident_centres() {
        let c = [
            [0.0, 0.0, 0.0],
            [1.0, 0.0, 0.0],
            [0.0, 0.0, 0.0],
            [1.0, 0.0, 2e-4],
        ];
        assert_eq!(centre_groups(&c), vec![0, 1, 0, 1]);
        let c = [[0.0, 0.0, 0.0], [0.0, 0.0, 0.01]];
        assert_eq!(centre_groups(&c), vec![0, 1]);
    }
}
