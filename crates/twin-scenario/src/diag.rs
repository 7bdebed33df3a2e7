//! Errors and diagnostics: where in which file, which field, what is wrong.

use std::{fmt, ops::Range, path::PathBuf};

/// A 1-based line and column (the column counts characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// Line number, starting at 1.
    pub line: usize,
    /// Column in characters, starting at 1.
    pub column: usize,
}

impl Location {
    /// The first character of a file; used where nothing more precise exists.
    pub const START: Location = Location { line: 1, column: 1 };
}

impl Default for Location {
    fn default() -> Self {
        Location::START
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One problem in a scenario, located in its source.
///
/// Displays as `origin:line:column: field: message`, the form compilers use,
/// so editors can jump to it. The field part is left out when empty (syntax
/// errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}:{line}:{column}: {}{message}", field_prefix(.field))]
pub struct Diagnostic {
    /// File path, or the origin given to [`Scenario::parse`](crate::Scenario::parse).
    pub origin: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Dotted field path such as `federation.end`, `member[2].dt` or
    /// `member[0].params.count`; empty for TOML syntax errors.
    pub field: String,
    /// What is wrong, including the offending value where there is one.
    pub message: String,
}

fn field_prefix(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("{field}: ")
    }
}

impl Diagnostic {
    /// The diagnostic's position as a [`Location`].
    pub fn location(&self) -> Location {
        Location {
            line: self.line,
            column: self.column,
        }
    }
}

/// A non-empty list of [`Diagnostic`]s, sorted by position in the file.
///
/// Displays one diagnostic per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    /// Wraps a list, sorted by (line, column) with ties kept in order;
    /// `None` if it is empty.
    pub fn new(mut list: Vec<Diagnostic>) -> Option<Self> {
        if list.is_empty() {
            return None;
        }
        list.sort_by_key(|d| (d.line, d.column));
        Some(Diagnostics(list))
    }

    /// A list of one.
    pub(crate) fn single(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }

    /// The diagnostics, in file order.
    pub fn as_slice(&self) -> &[Diagnostic] {
        &self.0
    }

    /// Iterates over the diagnostics in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// How many there are (at least one).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always `false`; present for API symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Unwraps the list.
    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.0
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Loading a scenario failed.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read. Recoverable only by fixing the path or
    /// permissions; nothing was parsed.
    #[error("cannot read scenario file `{}`", path.display())]
    Io {
        /// The path that was given.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// The scenario is invalid: every problem found, one per line. The
    /// caller should print them all and stop; nothing is partially usable.
    #[error(transparent)]
    Invalid(Diagnostics),
}

impl From<Diagnostics> for ScenarioError {
    fn from(d: Diagnostics) -> Self {
        ScenarioError::Invalid(d)
    }
}

impl ScenarioError {
    /// The diagnostics, if this is [`ScenarioError::Invalid`].
    pub fn diagnostics(&self) -> Option<&Diagnostics> {
        match self {
            ScenarioError::Invalid(d) => Some(d),
            ScenarioError::Io { .. } => None,
        }
    }
}

/// Maps byte offsets of one source text to [`Location`]s.
#[derive(Debug)]
pub(crate) struct LineIndex<'s> {
    source: &'s str,
    /// Byte offset at which each line starts.
    starts: Vec<usize>,
}

impl<'s> LineIndex<'s> {
    pub(crate) fn new(source: &'s str) -> Self {
        let starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { source, starts }
    }

    /// The location of byte `offset` (clamped to the end of the text).
    pub(crate) fn locate(&self, offset: usize) -> Location {
        let offset = offset.min(self.source.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let column = match self.source.get(start..offset) {
            Some(text) => text.chars().count(),
            None => offset - start, // not on a char boundary: fall back to bytes
        };
        Location {
            line: line + 1,
            column: column + 1,
        }
    }

    /// The location where `span` starts, if there is a span.
    pub(crate) fn span(&self, span: Option<Range<usize>>) -> Option<Location> {
        span.map(|r| self.locate(r.start))
    }
}

#[cfg(test)]
mod tests;
