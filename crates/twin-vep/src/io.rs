//! Reading and writing the arrays of a patient folder (`.npy`, CSV, JSON),
//! with errors that name the file and the entry.

use std::path::Path;

use serde::{de::DeserializeOwned, Serialize};
use twin_brain::npy::{read_npy, write_npy_f64};

use crate::error::{io, VepError};

/// A 2-D array of `f64`, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Elements, row-major.
    pub data: Vec<f64>,
}

impl Matrix {
    /// Row `r`.
    pub fn row(&self, r: usize) -> &[f64] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }
}

/// Reads a 2-D `.npy` array (a 1-D one is one column), requires finite values.
pub fn read_matrix_npy(path: &Path, what: &'static str) -> Result<Matrix, VepError> {
    let a = read_npy(path)?;
    let file = path.display().to_string();
    let data = a.to_f64().ok_or_else(|| VepError::Shape {
        file: file.clone(),
        what,
        got: a.shape.clone(),
        expected: "a numeric array".into(),
    })?;
    let (rows, cols) = match a.shape.as_slice() {
        [r] => (*r, 1),
        [r, c] => (*r, *c),
        _ => {
            return Err(VepError::Shape {
                file,
                what,
                got: a.shape.clone(),
                expected: "a 2-D array".into(),
            })
        }
    };
    check_finite(&file, cols, &data)?;
    Ok(Matrix { rows, cols, data })
}

/// Reads a CSV of numbers (optional header line of names); rows = samples.
pub fn read_matrix_csv(path: &Path) -> Result<(Matrix, Option<Vec<String>>), VepError> {
    let text = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
    let file = path.display().to_string();
    let mut names = None;
    let mut data = Vec::new();
    let mut cols = 0;
    let mut rows = 0;
    for (ln, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split([',', ';', '\t']).map(str::trim).collect();
        if rows == 0 && names.is_none() && fields.iter().any(|f| f.parse::<f64>().is_err()) {
            names = Some(fields.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            cols = fields.len();
            continue;
        }
        if cols == 0 {
            cols = fields.len();
        }
        if fields.len() != cols {
            return Err(VepError::Csv {
                file,
                line: ln + 1,
                reason: format!("{} fields, expected {cols}", fields.len()),
            });
        }
        for (c, f) in fields.iter().enumerate() {
            let v: f64 = f.parse().map_err(|_| VepError::Csv {
                file: file.clone(),
                line: ln + 1,
                reason: format!("column {c}: cannot parse `{f}` as a number"),
            })?;
            if !v.is_finite() {
                return Err(VepError::NonFinite {
                    file,
                    row: rows,
                    col: c,
                    value: v,
                });
            }
            data.push(v);
        }
        rows += 1;
    }
    Ok((Matrix { rows, cols, data }, names))
}

/// Errors on the first non-finite element, naming its row and column.
pub fn check_finite(file: &str, cols: usize, data: &[f64]) -> Result<(), VepError> {
    if let Some(k) = data.iter().position(|v| !v.is_finite()) {
        return Err(VepError::NonFinite {
            file: file.to_string(),
            row: k / cols.max(1),
            col: k % cols.max(1),
            value: data[k],
        });
    }
    Ok(())
}

/// Writes a 2-D `f64` array as `.npy`.
pub fn write_matrix_npy(
    path: &Path,
    rows: usize,
    cols: usize,
    data: &[f64],
) -> Result<(), VepError> {
    Ok(write_npy_f64(path, &[rows, cols], data)?)
}

/// Writes pretty JSON.
pub fn write_json<T: Serialize>(path: &Path, v: &T) -> Result<(), VepError> {
    let s = serde_json::to_string_pretty(v).map_err(|e| VepError::Json {
        file: path.display().to_string(),
        reason: e.to_string(),
    })?;
    std::fs::write(path, s).map_err(|e| io(path, e))
}

/// Reads JSON into `T`.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, VepError> {
    let s = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
    serde_json::from_str(&s).map_err(|e| VepError::Json {
        file: path.display().to_string(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_header_reads_names_and_rejects_bad_entries_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rec.csv");
        std::fs::write(&p, "A1,A2,B1\n0.1,0.2,0.3\n0.4,0.5,0.6\n").unwrap();
        let (m, names) = read_matrix_csv(&p).unwrap();
        assert_eq!((m.rows, m.cols), (2, 3));
        assert_eq!(names.unwrap(), vec!["A1", "A2", "B1"]);
        let c = crate::sensors::contacts_from_names(&["A1".into(), "A2".into(), "B1".into()]);
        assert_eq!(c.shaft, vec![0, 0, 1]);
        assert_eq!(crate::sensors::bipolar_pairs(&c), vec![(0, 1)]);
        std::fs::write(&p, "A1,A2\n0.1,0.2\n0.3,nan\n").unwrap();
        let e = read_matrix_csv(&p).unwrap_err().to_string();
        assert!(e.contains("rec.csv") && e.contains("[1, 1]"), "{e}");
        std::fs::write(&p, "A1,A2\n0.1,0.2\n0.3\n").unwrap();
        let e = read_matrix_csv(&p).unwrap_err().to_string();
        assert!(e.contains("rec.csv: line 3"), "{e}");
    }
}
