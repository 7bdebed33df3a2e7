//! Typed errors of the brain simulator.
//!
//! Two enums: [`ConnectomeError`] for everything that reads, validates or writes
//! structural data (each variant names the file and, where it applies, the entry),
//! and [`BrainError`] for configuring and running a simulation. None of them is
//! fatal to the process: a failed read or configuration leaves nothing half-built.

use std::path::PathBuf;

/// An error while reading, validating or writing a connectome or an array file.
///
/// `file` fields name the file as the user would look for it: a path on disk, or
/// `archive.zip:member` for a member of a zip archive.
#[derive(Debug, thiserror::Error)]
pub enum ConnectomeError {
    /// The file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// Path of the file.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The archive is not a readable zip file.
    #[error("{file}: not a readable zip archive: {reason}")]
    Zip {
        /// The archive.
        file: String,
        /// What the zip reader reported.
        reason: String,
    },
    /// A `.bz2` member or file could not be decompressed.
    #[error("{file}: bzip2 decompression failed: {reason}")]
    Decompress {
        /// The compressed file.
        file: String,
        /// What the decompressor reported.
        reason: String,
    },
    /// A required member (weights, tract lengths, centres) is not in the archive.
    #[error("{archive}: no member named like `{name}` (members: {members})")]
    MissingMember {
        /// The archive.
        archive: String,
        /// The member that was looked for (e.g. `weights`).
        name: String,
        /// The members that the archive does have, comma-separated.
        members: String,
    },
    /// The archive layout is not one TVB writes: members matching the same name
    /// sit in several folders, or the required members are spread over folders.
    #[error("{archive}: unsupported layout: {reason}")]
    Layout {
        /// The archive.
        archive: String,
        /// What is wrong with the layout.
        reason: String,
    },
    /// A token is not a number (or, for boolean files, not 0/1/true/false).
    #[error("{file}: line {line}, column {column}: cannot parse `{token}` as a number")]
    Parse {
        /// The file.
        file: String,
        /// 1-based line number.
        line: usize,
        /// 1-based column (token index within the line).
        column: usize,
        /// The offending token.
        token: String,
    },
    /// A line has a different number of values than the first data line.
    #[error("{file}: line {line} has {got} values, expected {expected}")]
    Ragged {
        /// The file.
        file: String,
        /// 1-based line number.
        line: usize,
        /// Values expected (those of the first line).
        expected: usize,
        /// Values found.
        got: usize,
    },
    /// A file holds no data.
    #[error("{file}: no data")]
    Empty {
        /// The file.
        file: String,
    },
    /// A matrix that must be square is not.
    #[error("{file}: matrix is {rows} x {cols}, expected a square matrix")]
    NotSquare {
        /// The file.
        file: String,
        /// Number of rows.
        rows: usize,
        /// Number of columns.
        cols: usize,
    },
    /// An entry is NaN or infinite.
    #[error("{file}: entry (row {row}, column {col}) is not finite ({value})")]
    NonFinite {
        /// The file.
        file: String,
        /// 0-based row.
        row: usize,
        /// 0-based column.
        col: usize,
        /// The value.
        value: f64,
    },
    /// An entry that must be non-negative is negative.
    #[error("{file}: entry (row {row}, column {col}) is negative ({value})")]
    Negative {
        /// The file.
        file: String,
        /// 0-based row.
        row: usize,
        /// 0-based column.
        col: usize,
        /// The value.
        value: f64,
    },
    /// The sizes of two parts of the connectome disagree.
    #[error("{file}: has {got} {what}, expected {expected} (from {reference})")]
    SizeMismatch {
        /// The file whose size is wrong.
        file: String,
        /// What is counted (`rows`, `regions`, `columns`).
        what: &'static str,
        /// Expected count.
        expected: usize,
        /// Count found.
        got: usize,
        /// Where the expected count comes from (usually the weights file).
        reference: String,
    },
    /// A `.npy` file is malformed or holds an unsupported dtype.
    #[error("{file}: {reason}")]
    Npy {
        /// The file (or `archive.npz:member`).
        file: String,
        /// What is wrong.
        reason: String,
    },
}

/// An error while configuring or running a simulation.
#[derive(Debug, thiserror::Error)]
pub enum BrainError {
    /// Reading or writing structural or array data failed.
    #[error(transparent)]
    Connectome(#[from] ConnectomeError),
    /// A model, coupling or noise parameter has the wrong number of values.
    #[error("parameter `{name}` has {got} values; expected 1 or {expected} (one per region)")]
    ParamLength {
        /// Parameter name.
        name: String,
        /// Number of regions.
        expected: usize,
        /// Number of values given.
        got: usize,
    },
    /// A parameter name is not known to the model or coupling.
    #[error("unknown parameter `{name}` for {owner}; known: {known}")]
    UnknownParam {
        /// The name given.
        name: String,
        /// Model or coupling name.
        owner: &'static str,
        /// Known names, comma-separated.
        known: String,
    },
    /// A configuration value is out of its domain (non-positive dt or speed, ...).
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was configured.
        what: &'static str,
        /// Why it is rejected.
        reason: String,
    },
    /// Array shapes do not fit together (initial history, gain matrix, ...).
    #[error("{what}: shape {got:?}, expected {expected:?}")]
    Shape {
        /// What was given.
        what: &'static str,
        /// Expected shape.
        expected: Vec<usize>,
        /// Shape found.
        got: Vec<usize>,
    },
    /// Writing monitor output failed.
    #[error("{}: {source}", path.display())]
    Output {
        /// The output file.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
}

impl ConnectomeError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ConnectomeError::Io {
            path: path.into(),
            source,
        }
    }
}
