//! Structural connectivity: weights, tract lengths and region geometry.
//!
//! A [`Connectome`] holds the `N × N` weight matrix (`weights[i][j]` is the
//! connection **from region j to region i**: rows are targets, columns sources,
//! TVB's convention), the `N × N` tract lengths in mm, and per-region centres,
//! labels and optional orientations, areas, cortical and hemisphere flags.
//!
//! It reads TVB connectivity archives as they occur in the wild (see
//! [`Connectome::from_zip`]) and plain matrix files
//! ([`Connectome::from_matrix_files`]), and writes them back
//! ([`Connectome::write_zip`], [`Connectome::write_dir`]). Every constructor
//! validates: matrices square, finite and non-negative, every part sized `N`;
//! errors name the file and the entry.

mod read;
mod write;

use crate::error::ConnectomeError;

pub use read::{parse_matrix_text, MatrixText};

/// A validated structural connectome of `N` regions.
#[derive(Debug, Clone, PartialEq)]
pub struct Connectome {
    n: usize,
    weights: Vec<f64>,
    tract_lengths: Vec<f64>,
    centres: Vec<[f64; 3]>,
    labels: Vec<String>,
    orientations: Option<Vec<[f64; 3]>>,
    areas: Option<Vec<f64>>,
    cortical: Option<Vec<bool>>,
    hemispheres: Option<Vec<bool>>,
}

/// Checks that `m` (row-major, `n × n`) is finite and non-negative.
pub(crate) fn check_matrix(file: &str, n: usize, m: &[f64]) -> Result<(), ConnectomeError> {
    for (k, &v) in m.iter().enumerate() {
        let (row, col) = (k / n, k % n);
        if !v.is_finite() {
            return Err(ConnectomeError::NonFinite {
                file: file.to_string(),
                row,
                col,
                value: v,
            });
        }
        if v < 0.0 {
            return Err(ConnectomeError::Negative {
                file: file.to_string(),
                row,
                col,
                value: v,
            });
        }
    }
    Ok(())
}

fn check_len(file: &str, what: &'static str, got: usize, n: usize) -> Result<(), ConnectomeError> {
    if got != n {
        return Err(ConnectomeError::SizeMismatch {
            file: file.to_string(),
            what,
            expected: n,
            got,
            reference: "weights".to_string(),
        });
    }
    Ok(())
}

impl Connectome {
    /// Builds a connectome from row-major `n × n` weights and tract lengths \[mm\].
    ///
    /// Centres default to the origin and labels to `"0"`, `"1"`, ….
    pub fn new(
        n: usize,
        weights: Vec<f64>,
        tract_lengths: Vec<f64>,
    ) -> Result<Self, ConnectomeError> {
        if n == 0 {
            return Err(ConnectomeError::Empty {
                file: "weights".into(),
            });
        }
        check_len("weights", "entries", weights.len(), n * n)?;
        check_len("tract_lengths", "entries", tract_lengths.len(), n * n)?;
        check_matrix("weights", n, &weights)?;
        check_matrix("tract_lengths", n, &tract_lengths)?;
        Ok(Connectome {
            n,
            weights,
            tract_lengths,
            centres: vec![[0.0; 3]; n],
            labels: (0..n).map(|i| i.to_string()).collect(),
            orientations: None,
            areas: None,
            cortical: None,
            hemispheres: None,
        })
    }

    /// Number of regions `N`.
    pub fn n_regions(&self) -> usize {
        self.n
    }

    /// Weights, row-major `N × N`; entry `i * N + j` is the connection from `j` to `i`.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Tract lengths \[mm\], row-major `N × N`.
    pub fn tract_lengths(&self) -> &[f64] {
        &self.tract_lengths
    }

    /// Weight of the connection from region `from` to region `to`.
    pub fn weight(&self, to: usize, from: usize) -> f64 {
        self.weights[to * self.n + from]
    }

    /// Region centres \[mm\].
    pub fn centres(&self) -> &[[f64; 3]] {
        &self.centres
    }

    /// Region labels.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Average orientations (unit vectors), if the source had them.
    pub fn orientations(&self) -> Option<&[[f64; 3]]> {
        self.orientations.as_deref()
    }

    /// Region areas \[mm²\], if the source had them.
    pub fn areas(&self) -> Option<&[f64]> {
        self.areas.as_deref()
    }

    /// Cortical flags, if the source had them.
    pub fn cortical(&self) -> Option<&[bool]> {
        self.cortical.as_deref()
    }

    /// Hemisphere flags (`true` = right), if the source had them.
    pub fn hemispheres(&self) -> Option<&[bool]> {
        self.hemispheres.as_deref()
    }

    /// Number of non-zero weights.
    pub fn n_connections(&self) -> usize {
        self.weights.iter().filter(|&&w| w != 0.0).count()
    }

    /// Sets the region centres \[mm\].
    pub fn with_centres(mut self, centres: Vec<[f64; 3]>) -> Result<Self, ConnectomeError> {
        check_len("centres", "regions", centres.len(), self.n)?;
        for (row, c) in centres.iter().enumerate() {
            if let Some(col) = c.iter().position(|v| !v.is_finite()) {
                return Err(ConnectomeError::NonFinite {
                    file: "centres".into(),
                    row,
                    col,
                    value: c[col],
                });
            }
        }
        self.centres = centres;
        Ok(self)
    }

    /// Sets the region labels.
    pub fn with_labels(mut self, labels: Vec<String>) -> Result<Self, ConnectomeError> {
        check_len("centres", "labels", labels.len(), self.n)?;
        self.labels = labels;
        Ok(self)
    }

    /// Sets the average orientations.
    pub fn with_orientations(mut self, o: Vec<[f64; 3]>) -> Result<Self, ConnectomeError> {
        check_len("average_orientations", "regions", o.len(), self.n)?;
        self.orientations = Some(o);
        Ok(self)
    }

    /// Sets the region areas \[mm²\].
    pub fn with_areas(mut self, a: Vec<f64>) -> Result<Self, ConnectomeError> {
        check_len("areas", "regions", a.len(), self.n)?;
        check_matrix("areas", 1, &a)?;
        self.areas = Some(a);
        Ok(self)
    }

    /// Sets the cortical flags.
    pub fn with_cortical(mut self, c: Vec<bool>) -> Result<Self, ConnectomeError> {
        check_len("cortical", "regions", c.len(), self.n)?;
        self.cortical = Some(c);
        Ok(self)
    }

    /// Sets the hemisphere flags (`true` = right).
    pub fn with_hemispheres(mut self, h: Vec<bool>) -> Result<Self, ConnectomeError> {
        check_len("hemispheres", "regions", h.len(), self.n)?;
        self.hemispheres = Some(h);
        Ok(self)
    }

    /// Conduction delays \[ms\] for a speed \[mm/ms\]: `tract_length / speed`.
    pub fn delays_ms(&self, speed: f64) -> Vec<f64> {
        self.tract_lengths.iter().map(|&l| l / speed).collect()
    }

    /// Integer delays in steps as TVB computes them:
    /// `rint(tract_length / speed / dt)` (round half to even).
    pub fn idelays(&self, speed: f64, dt: f64) -> Vec<usize> {
        self.tract_lengths
            .iter()
            .map(|&l| {
                let steps = (l / speed / dt).round_ties_even();
                if steps.is_finite() && steps > 0.0 {
                    steps as usize
                } else {
                    0
                }
            })
            .collect()
    }

    /// Removes the connections of the given regions (virtual resection keeps
    /// the region but zeroes every weight to and from it).
    pub fn disconnect(&mut self, regions: &[usize]) {
        let n = self.n;
        for &r in regions.iter().filter(|&&r| r < n) {
            for k in 0..n {
                self.weights[r * n + k] = 0.0;
                self.weights[k * n + r] = 0.0;
            }
        }
    }

    /// Sets the weight from `from` to `to` (must be finite and non-negative).
    pub fn set_weight(&mut self, to: usize, from: usize, w: f64) -> Result<(), ConnectomeError> {
        check_matrix("weights", self.n, &[w]).map_err(|e| match e {
            ConnectomeError::NonFinite { file, value, .. } => ConnectomeError::NonFinite {
                file,
                row: to,
                col: from,
                value,
            },
            ConnectomeError::Negative { file, value, .. } => ConnectomeError::Negative {
                file,
                row: to,
                col: from,
                value,
            },
            other => other,
        })?;
        self.weights[to * self.n + from] = w;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
