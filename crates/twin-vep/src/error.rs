//! Typed errors of the VEP workflow. Every variant that comes from a file
//! names the file and, where it applies, the entry (row, column, sensor).

use std::path::PathBuf;

/// An error of the VEP workflow.
#[derive(Debug, thiserror::Error)]
pub enum VepError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// An array or connectome file could not be parsed.
    #[error(transparent)]
    Array(#[from] twin_brain::ConnectomeError),
    /// An array has the wrong shape.
    #[error("{file}: {what} has shape {got:?}, expected {expected}")]
    Shape {
        /// The file.
        file: String,
        /// What the array is.
        what: &'static str,
        /// The shape found.
        got: Vec<usize>,
        /// The shape wanted, in words.
        expected: String,
    },
    /// A value is NaN or infinite.
    #[error("{file}: entry [{row}, {col}] is {value}, expected a finite number")]
    NonFinite {
        /// The file.
        file: String,
        /// Row (time sample, or sensor).
        row: usize,
        /// Column (contact, or region).
        col: usize,
        /// The value.
        value: f64,
    },
    /// A sensor lies outside the head (the ellipsoid around the region centres).
    #[error("{file}: sensor {index} (`{name}`) at [{:.1}, {:.1}, {:.1}] mm is outside the head", position[0], position[1], position[2])]
    SensorOutsideHead {
        /// The file.
        file: String,
        /// Sensor index.
        index: usize,
        /// Sensor name.
        name: String,
        /// Position \[mm\].
        position: [f64; 3],
    },
    /// An accuracy run needs the hidden truth of a patient and it is absent.
    #[error("{}: no ground truth for patient `{patient}` (an accuracy run needs truth.json; synthetic patients write it with `twin brain vep patient`)", path.display())]
    MissingTruth {
        /// Where the truth was looked for.
        path: PathBuf,
        /// The patient folder.
        patient: String,
    },
    /// A JSON file is malformed.
    #[error("{file}: {reason}")]
    Json {
        /// The file.
        file: String,
        /// What the parser reported.
        reason: String,
    },
    /// A CSV or sensor text file is malformed.
    #[error("{file}: line {line}: {reason}")]
    Csv {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// An argument or combination is invalid.
    #[error("{what}: {reason}")]
    Invalid {
        /// What is invalid.
        what: String,
        /// Why.
        reason: String,
    },
}

pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> VepError {
    VepError::Io {
        path: path.to_path_buf(),
        source,
    }
}
