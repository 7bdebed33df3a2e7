//! Reading connectomes: TVB zip archives, directories and plain matrix files.
//!
//! Archive members are matched by name the way TVB's `ZipReader` does, but
//! stricter: a member matches `weights` when its file name without extensions
//! (`.bz2`, then `.txt`/`.csv`/`.dat`/`.npy`) is `weights`; only when no member
//! matches exactly is a member whose name *contains* the key accepted, and then
//! only if it is the only one. All members must sit in one folder (the top
//! level or a single sub-folder); `__MACOSX/` and dot-files are ignored.

use std::{
    io::Read,
    path::{Path, PathBuf},
};

use super::{check_matrix, Connectome};
use crate::{error::ConnectomeError, npy};

/// Numbers parsed from a whitespace- or comma-separated text table.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixText {
    /// Number of data lines.
    pub rows: usize,
    /// Values per line.
    pub cols: usize,
    /// Values, row-major.
    pub values: Vec<f64>,
}

/// Splits a line into tokens on whitespace and commas.
fn tokens(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
}

/// Data lines: non-blank, not starting with `#`; yields (1-based line number, line).
fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

fn parse_num(tok: &str, file: &str, line: usize, column: usize) -> Result<f64, ConnectomeError> {
    // NumPy's loadtxt accepts `nan`, `inf`; so do we (validation rejects them later
    // with the entry named).
    tok.parse::<f64>().map_err(|_| ConnectomeError::Parse {
        file: file.to_string(),
        line,
        column,
        token: tok.to_string(),
    })
}

/// Parses a rectangular numeric table (whitespace or commas; `#` comments).
pub fn parse_matrix_text(text: &str, file: &str) -> Result<MatrixText, ConnectomeError> {
    let mut values = Vec::new();
    let mut cols = None;
    let mut rows = 0;
    for (line, l) in data_lines(text) {
        let before = values.len();
        for (k, tok) in tokens(l).enumerate() {
            values.push(parse_num(tok, file, line, k + 1)?);
        }
        let got = values.len() - before;
        match cols {
            None => cols = Some(got),
            Some(expected) if expected != got => {
                return Err(ConnectomeError::Ragged {
                    file: file.to_string(),
                    line,
                    expected,
                    got,
                })
            }
            _ => {}
        }
        rows += 1;
    }
    match cols {
        Some(cols) if cols > 0 => Ok(MatrixText { rows, cols, values }),
        _ => Err(ConnectomeError::Empty {
            file: file.to_string(),
        }),
    }
}

/// Parses a square matrix and validates it (finite, non-negative).
pub(crate) fn parse_square(text: &str, file: &str) -> Result<(usize, Vec<f64>), ConnectomeError> {
    let m = parse_matrix_text(text, file)?;
    square_from(m.rows, m.cols, m.values, file)
}

/// Checks a parsed table is square, finite and non-negative; returns `(n, values)`.
fn square_from(
    rows: usize,
    cols: usize,
    values: Vec<f64>,
    file: &str,
) -> Result<(usize, Vec<f64>), ConnectomeError> {
    if rows != cols {
        return Err(ConnectomeError::NotSquare {
            file: file.to_string(),
            rows,
            cols,
        });
    }
    check_matrix(file, rows, &values)?;
    Ok((rows, values))
}

/// Parses `centres.txt`: `label x y z [ignored…]` per line (TVB reads columns
/// 1–3), or `x y z` without labels (labels become `"0"`, `"1"`, …).
fn parse_centres(text: &str, file: &str) -> Result<(Vec<String>, Vec<[f64; 3]>), ConnectomeError> {
    let mut labels = Vec::new();
    let mut centres = Vec::new();
    let mut labelled_file = None;
    for (line, l) in data_lines(text) {
        let toks: Vec<&str> = l.split_whitespace().collect();
        let labelled = toks.len() != 3;
        if toks.len() < 3 || *labelled_file.get_or_insert(labelled) != labelled {
            return Err(ConnectomeError::Ragged {
                file: file.to_string(),
                line,
                expected: if labelled_file == Some(false) { 3 } else { 4 },
                got: toks.len(),
            });
        }
        let off = usize::from(labelled);
        let mut c = [0.0; 3];
        for k in 0..3 {
            c[k] = parse_num(toks[k + off], file, line, k + 1 + off)?;
            if !c[k].is_finite() {
                return Err(ConnectomeError::NonFinite {
                    file: file.to_string(),
                    row: centres.len(),
                    col: k,
                    value: c[k],
                });
            }
        }
        labels.push(if labelled {
            toks[0].to_string()
        } else {
            centres.len().to_string()
        });
        centres.push(c);
    }
    if centres.is_empty() {
        return Err(ConnectomeError::Empty {
            file: file.to_string(),
        });
    }
    Ok((labels, centres))
}

/// Parses a column of 0/1 (or true/false) flags.
fn parse_bools(text: &str, file: &str) -> Result<Vec<bool>, ConnectomeError> {
    let mut out = Vec::new();
    for (line, l) in data_lines(text) {
        for (k, tok) in tokens(l).enumerate() {
            let v = match tok.to_ascii_lowercase().as_str() {
                "1" | "1.0" | "true" => true,
                "0" | "0.0" | "false" => false,
                _ => {
                    return Err(ConnectomeError::Parse {
                        file: file.to_string(),
                        line,
                        column: k + 1,
                        token: tok.to_string(),
                    })
                }
            };
            out.push(v);
        }
    }
    Ok(out)
}

/// Parses an `N × 3` table (orientations) into vectors.
fn parse_vec3(text: &str, file: &str) -> Result<Vec<[f64; 3]>, ConnectomeError> {
    let m = parse_matrix_text(text, file)?;
    if m.cols != 3 {
        return Err(ConnectomeError::SizeMismatch {
            file: file.to_string(),
            what: "columns",
            expected: 3,
            got: m.cols,
            reference: "x y z".to_string(),
        });
    }
    Ok(m.values
        .chunks_exact(3)
        .map(|c| [c[0], c[1], c[2]])
        .collect())
}

/// Decompresses `.bz2` content; other content is returned unchanged.
fn maybe_bunzip(name: &str, bytes: Vec<u8>, file: &str) -> Result<Vec<u8>, ConnectomeError> {
    if !name.ends_with(".bz2") {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    bzip2::read::BzDecoder::new(&bytes[..])
        .read_to_end(&mut out)
        .map_err(|e| ConnectomeError::Decompress {
            file: file.to_string(),
            reason: e.to_string(),
        })?;
    Ok(out)
}

/// Decodes UTF-8 text; invalid bytes are reported as a parse error at their offset.
fn to_text(bytes: Vec<u8>, file: &str) -> Result<String, ConnectomeError> {
    String::from_utf8(bytes).map_err(|e| ConnectomeError::Parse {
        file: file.to_string(),
        line: 0,
        column: 0,
        token: format!("<invalid UTF-8 at byte {}>", e.utf8_error().valid_up_to()),
    })
}

/// The name of a member without folder and extensions (`a/weights.txt.bz2` → `weights`).
fn stem(name: &str) -> &str {
    let base = name.rsplit('/').next().unwrap_or(name);
    let base = base.strip_suffix(".bz2").unwrap_or(base);
    for ext in [".txt", ".csv", ".dat", ".npy"] {
        if let Some(s) = base.strip_suffix(ext) {
            return s;
        }
    }
    base
}

/// The folder part of a member name (`""` at the top level).
fn folder(name: &str) -> &str {
    name.rfind('/').map_or("", |k| &name[..k])
}

/// A source of named members: a zip archive or a directory.
trait Members {
    /// The archive or directory, for messages.
    fn source(&self) -> String;
    /// Every member name (`folder/file` for members in a sub-folder).
    fn names(&self) -> Vec<String>;
    /// The raw bytes of one member.
    fn read(&mut self, name: &str) -> Result<Vec<u8>, ConnectomeError>;
}

/// Members of a zip archive.
struct ZipMembers {
    path: PathBuf,
    zip: zip::ZipArchive<std::fs::File>,
}

impl Members for ZipMembers {
    fn source(&self) -> String {
        self.path.display().to_string()
    }
    fn names(&self) -> Vec<String> {
        self.zip.file_names().map(str::to_string).collect()
    }
    fn read(&mut self, name: &str) -> Result<Vec<u8>, ConnectomeError> {
        let src = self.source();
        let mut m = self.zip.by_name(name).map_err(|e| ConnectomeError::Zip {
            file: format!("{src}:{name}"),
            reason: e.to_string(),
        })?;
        let mut out = Vec::with_capacity(m.size() as usize);
        m.read_to_end(&mut out).map_err(|e| ConnectomeError::Zip {
            file: format!("{src}:{name}"),
            reason: e.to_string(),
        })?;
        Ok(out)
    }
}

/// Files of a directory and of its immediate sub-folders.
struct DirMembers {
    path: PathBuf,
}

impl Members for DirMembers {
    fn source(&self) -> String {
        self.path.display().to_string()
    }
    fn names(&self) -> Vec<String> {
        let mut out = Vec::new();
        let Ok(rd) = std::fs::read_dir(&self.path) else {
            return out;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if e.path().is_dir() {
                if let Ok(sub) = std::fs::read_dir(e.path()) {
                    for s in sub.flatten().filter(|s| s.path().is_file()) {
                        out.push(format!("{name}/{}", s.file_name().to_string_lossy()));
                    }
                }
            } else {
                out.push(name);
            }
        }
        out.sort();
        out
    }
    fn read(&mut self, name: &str) -> Result<Vec<u8>, ConnectomeError> {
        let p = self.path.join(name);
        std::fs::read(&p).map_err(|e| ConnectomeError::io(p, e))
    }
}

/// Picks the member for `keys` (alternatives such as `centres`/`centers`).
fn find_member(
    names: &[String],
    keys: &[&str],
    source: &str,
) -> Result<Option<String>, ConnectomeError> {
    let exact: Vec<&String> = names.iter().filter(|n| keys.contains(&stem(n))).collect();
    let chosen: Vec<&String> = if exact.is_empty() {
        names
            .iter()
            .filter(|n| keys.iter().any(|k| stem(n).contains(k)))
            .collect()
    } else {
        exact
    };
    match chosen.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some((*one).clone())),
        many => Err(ConnectomeError::Layout {
            archive: source.to_string(),
            reason: format!(
                "several members match `{}`: {}",
                keys[0],
                many.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// Reads a connectome from any member source: locate the members, check they
/// share one folder, parse and validate each, and assemble.
fn read_from(m: &mut dyn Members) -> Result<Connectome, ConnectomeError> {
    let source = m.source();
    let names: Vec<String> = m
        .names()
        .into_iter()
        .filter(|n| !n.ends_with('/') && !n.starts_with("__MACOSX"))
        .filter(|n| !n.rsplit('/').next().unwrap_or(n).starts_with('.'))
        .collect();
    let listing = names.join(", ");
    let missing = |name: &str| ConnectomeError::MissingMember {
        archive: source.clone(),
        name: name.to_string(),
        members: listing.clone(),
    };
    let weights = find_member(&names, &["weights"], &source)?.ok_or_else(|| missing("weights"))?;
    let tracts = find_member(&names, &["tract_lengths", "tract"], &source)?
        .ok_or_else(|| missing("tract_lengths"))?;
    let centres = find_member(&names, &["centres", "centers"], &source)?;
    let orient = find_member(&names, &["average_orientations", "orientations"], &source)?;
    let areas = find_member(&names, &["areas"], &source)?;
    let cortical = find_member(&names, &["cortical"], &source)?;
    let hemis = find_member(&names, &["hemispheres"], &source)?;
    let dir = folder(&weights).to_string();
    let found = [
        Some(&tracts),
        centres.as_ref(),
        orient.as_ref(),
        areas.as_ref(),
    ];
    let found = found.into_iter().chain([cortical.as_ref(), hemis.as_ref()]);
    for f in found.flatten() {
        if folder(f) != dir {
            return Err(ConnectomeError::Layout {
                archive: source.clone(),
                reason: format!("`{weights}` and `{f}` are in different folders"),
            });
        }
    }
    let mut text = |name: &str| -> Result<(String, String), ConnectomeError> {
        let label = format!("{source}:{name}");
        let raw = m.read(name)?;
        let bytes = maybe_bunzip(name, raw, &label)?;
        Ok((to_text(bytes, &label)?, label))
    };
    let (wt, wl) = text(&weights)?;
    let (n, w) = parse_square(&wt, &wl)?;
    let (tt, tl) = text(&tracts)?;
    let (nt, t) = parse_square(&tt, &tl)?;
    if nt != n {
        return Err(ConnectomeError::SizeMismatch {
            file: tl,
            what: "rows",
            expected: n,
            got: nt,
            reference: wl,
        });
    }
    let relabel = |e: ConnectomeError, file: &str| match e {
        ConnectomeError::SizeMismatch {
            what,
            expected,
            got,
            reference,
            ..
        } => ConnectomeError::SizeMismatch {
            file: file.to_string(),
            what,
            expected,
            got,
            reference: if reference == "weights" {
                wl.clone()
            } else {
                reference
            },
        },
        other => other,
    };
    let mut c = Connectome::new(n, w, t).map_err(|e| relabel(e, &wl))?;
    if let Some(name) = centres {
        let (txt, label) = text(&name)?;
        let (labels, xyz) = parse_centres(&txt, &label)?;
        c = c.with_centres(xyz).map_err(|e| relabel(e, &label))?;
        c = c.with_labels(labels).map_err(|e| relabel(e, &label))?;
    }
    if let Some(name) = orient {
        let (txt, label) = text(&name)?;
        c = c
            .with_orientations(parse_vec3(&txt, &label)?)
            .map_err(|e| relabel(e, &label))?;
    }
    if let Some(name) = areas {
        let (txt, label) = text(&name)?;
        let v = parse_matrix_text(&txt, &label)?.values;
        c = c.with_areas(v).map_err(|e| relabel(e, &label))?;
    }
    if let Some(name) = cortical {
        let (txt, label) = text(&name)?;
        c = c
            .with_cortical(parse_bools(&txt, &label)?)
            .map_err(|e| relabel(e, &label))?;
    }
    if let Some(name) = hemis {
        let (txt, label) = text(&name)?;
        c = c
            .with_hemispheres(parse_bools(&txt, &label)?)
            .map_err(|e| relabel(e, &label))?;
    }
    Ok(c)
}

/// Reads a square matrix from a text (`.txt`, `.csv`, optionally `.bz2`) or `.npy` file.
pub(crate) fn read_matrix_file(path: &Path) -> Result<(usize, Vec<f64>), ConnectomeError> {
    let label = path.display().to_string();
    let raw = std::fs::read(path).map_err(|e| ConnectomeError::io(path, e))?;
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let bytes = maybe_bunzip(&name, raw, &label)?;
    if name.trim_end_matches(".bz2").ends_with(".npy") {
        let a = npy::parse_npy(&bytes, &label)?;
        let values = a.to_f64().ok_or_else(|| ConnectomeError::Npy {
            file: label.clone(),
            reason: "expected a numeric array".into(),
        })?;
        return match a.shape.as_slice() {
            [r, c] => square_from(*r, *c, values, &label),
            s => Err(ConnectomeError::Npy {
                file: label,
                reason: format!("expected a 2-D array, got shape {s:?}"),
            }),
        };
    }
    parse_square(&to_text(bytes, &label)?, &label)
}

impl Connectome {
    /// Reads a TVB connectivity zip: `weights`, `tract_lengths` (required),
    /// `centres`/`centers` with or without labels, and optional
    /// `average_orientations`, `areas`, `cortical`, `hemispheres`; members may
    /// be `.bz2`-compressed and may sit at the top level or in one sub-folder.
    pub fn from_zip(path: impl AsRef<Path>) -> Result<Self, ConnectomeError> {
        let path = path.as_ref().to_path_buf();
        let file = std::fs::File::open(&path).map_err(|e| ConnectomeError::io(&path, e))?;
        let zip = zip::ZipArchive::new(file).map_err(|e| ConnectomeError::Zip {
            file: path.display().to_string(),
            reason: e.to_string(),
        })?;
        read_from(&mut ZipMembers { path, zip })
    }

    /// Reads the same layout as [`from_zip`](Self::from_zip) from an unpacked directory.
    pub fn from_dir(path: impl AsRef<Path>) -> Result<Self, ConnectomeError> {
        let path = path.as_ref().to_path_buf();
        if !path.is_dir() {
            return Err(ConnectomeError::io(
                &path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
            ));
        }
        read_from(&mut DirMembers { path })
    }

    /// Reads a zip archive or a directory, whichever `path` is.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, ConnectomeError> {
        let path = path.as_ref();
        if path.is_dir() {
            Self::from_dir(path)
        } else {
            Self::from_zip(path)
        }
    }

    /// Reads weights and tract lengths from two plain matrix files
    /// (`.txt`/`.csv` text, `.npy`, each optionally `.bz2`).
    pub fn from_matrix_files(
        weights: impl AsRef<Path>,
        tract_lengths: impl AsRef<Path>,
    ) -> Result<Self, ConnectomeError> {
        let (n, w) = read_matrix_file(weights.as_ref())?;
        let (nt, t) = read_matrix_file(tract_lengths.as_ref())?;
        if nt != n {
            return Err(ConnectomeError::SizeMismatch {
                file: tract_lengths.as_ref().display().to_string(),
                what: "rows",
                expected: n,
                got: nt,
                reference: weights.as_ref().display().to_string(),
            });
        }
        Connectome::new(n, w, t)
    }
}
