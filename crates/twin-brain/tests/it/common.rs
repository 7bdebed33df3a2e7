//! Shared helpers: test data paths and reference loading.

use std::path::PathBuf;

use twin_brain::npy::{read_npz, NpyArray};

/// `tests/data/<rel>` of this crate.
pub(crate) fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

/// `validation/brain/<rel>` of the workspace.
pub(crate) fn validation(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../validation/brain")
        .join(rel)
}

/// A reference archive as (name, array) pairs with a lookup helper.
pub(crate) struct Npz(pub(crate) Vec<(String, NpyArray)>);

impl Npz {
    pub(crate) fn load(path: &std::path::Path) -> Self {
        Npz(read_npz(path).unwrap_or_else(|e| panic!("{e}")))
    }
    pub(crate) fn get(&self, key: &str) -> &NpyArray {
        &self
            .0
            .iter()
            .find(|(k, _)| k == key)
            .unwrap_or_else(|| panic!("no `{key}`"))
            .1
    }
    pub(crate) fn f64(&self, key: &str) -> Vec<f64> {
        self.get(key).to_f64().unwrap()
    }
    pub(crate) fn scalar(&self, key: &str) -> f64 {
        self.f64(key)[0]
    }
}

/// Largest absolute difference.
pub(crate) fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}
