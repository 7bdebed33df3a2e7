//! Scenario diagnostics: what went wrong, where (file, line, column) and in
//! which field (dotted path such as `flows[2].dst`).
//!
//! Locations come from byte spans: serde errors carry the span `toml` gives
//! them; semantic problems found after parsing carry a field path, which is
//! looked up in a span-preserving `toml_edit` parse of the same text.

use std::{fmt, ops::Range, path::PathBuf};

use toml_edit::{Array, ArrayOfTables, ImDocument, InlineTable, Item, Table, Value};

/// What kind of problem a [`Diagnostic`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// The text is not valid TOML.
    Syntax,
    /// Wrong structure: unknown key or variant (e.g. an unknown protocol),
    /// missing field (e.g. a node without mobility), wrong type.
    Schema,
    /// A value outside its allowed range (e.g. a negative rate).
    Range,
    /// A name that refers to nothing (e.g. a flow to a missing node).
    Reference,
    /// A name defined twice.
    Duplicate,
    /// Settings that cannot be combined (e.g. random waypoint in the wgs84 frame).
    Incompatible,
}

/// One problem in a scenario, with its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The scenario file, when parsing from a file.
    pub file: Option<PathBuf>,
    /// 1-based line; 0 when there is no text (scenario built in code).
    pub line: usize,
    /// 1-based column in characters; 0 when unknown.
    pub column: usize,
    /// Dotted field path, e.g. `nodes[3].mobility` (empty for syntax errors).
    pub field: String,
    /// Problem category.
    pub kind: ProblemKind,
    /// Human-readable explanation.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self
            .file
            .as_ref()
            .map_or_else(|| "<scenario>".to_owned(), |p| p.display().to_string());
        write!(f, "{file}:{}:{}: ", self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// A scenario could not be loaded.
///
/// Not fatal for the caller: fix the file (or the fields) and load again.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario {}: {source}", path.display())]
    Io {
        /// The path that was given.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The scenario is malformed; every problem found is listed.
    #[error("{}", DisplayList(.0))]
    Invalid(Vec<Diagnostic>),
}

impl ScenarioError {
    /// The diagnostics of an [`Invalid`](Self::Invalid) error (empty for I/O).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ScenarioError::Invalid(d) => d,
            ScenarioError::Io { .. } => &[],
        }
    }
}

/// Formats diagnostics one per line.
struct DisplayList<'a>(&'a [Diagnostic]);

impl fmt::Display for DisplayList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// A problem found by semantic validation, before it is located.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    pub(crate) path: String,
    pub(crate) kind: ProblemKind,
    pub(crate) message: String,
}

impl Problem {
    pub(crate) fn new(
        path: impl Into<String>,
        kind: ProblemKind,
        message: impl Into<String>,
    ) -> Self {
        Problem {
            path: path.into(),
            kind,
            message: message.into(),
        }
    }
}

/// Turns a `toml` deserialisation error into a located diagnostic.
pub(super) fn from_toml_error(
    text: &str,
    file: Option<PathBuf>,
    e: &toml::de::Error,
) -> ScenarioError {
    let message = e.message().trim().to_owned();
    let offset = e.span().map_or(0, |s| s.start);
    let (line, column) = line_col(text, offset);
    let doc = ImDocument::parse(text).ok();
    let (kind, field) = match &doc {
        None => (ProblemKind::Syntax, String::new()),
        Some(doc) => {
            let mut path = Vec::new();
            find_path(Ref::Table(doc.as_table()), offset, &mut path);
            let mut field = join_path(&path);
            // "missing field `x`" points at the table: name the field.
            if let Some(name) = message
                .strip_prefix("missing field `")
                .and_then(|r| r.strip_suffix('`'))
            {
                if !field.is_empty() {
                    field.push('.');
                }
                field.push_str(name);
            }
            (ProblemKind::Schema, field)
        }
    };
    ScenarioError::Invalid(vec![Diagnostic {
        file,
        line,
        column,
        field,
        kind,
        message,
    }])
}

/// Locates each problem's field path in the text.
pub(super) fn locate_all(
    text: &str,
    file: Option<PathBuf>,
    problems: Vec<Problem>,
) -> ScenarioError {
    let doc = ImDocument::parse(text).ok();
    let diags = problems
        .into_iter()
        .map(|p| {
            let span = doc
                .as_ref()
                .and_then(|d| span_of(Ref::Table(d.as_table()), &p.path));
            let (line, column) = span.map_or((1, 1), |s| line_col(text, s.start));
            Diagnostic {
                file: file.clone(),
                line,
                column,
                field: p.path,
                kind: p.kind,
                message: p.message,
            }
        })
        .collect();
    ScenarioError::Invalid(diags)
}

/// Diagnostics without text: line and column 0.
pub(super) fn unlocated(problems: Vec<Problem>) -> ScenarioError {
    ScenarioError::Invalid(
        problems
            .into_iter()
            .map(|p| Diagnostic {
                file: None,
                line: 0,
                column: 0,
                field: p.path,
                kind: p.kind,
                message: p.message,
            })
            .collect(),
    )
}

/// 1-based line and character column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..offset].chars().count() + 1)
}

/// One step of a field path.
#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn join_path(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => {
                s.push_str(&format!("[{i}]"));
            }
        }
    }
    s
}

fn split_path(path: &str) -> Vec<Seg> {
    let mut segs = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(b) = rest.find('[') {
            if b > 0 {
                segs.push(Seg::Key(rest[..b].to_owned()));
            }
            rest = &rest[b..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let Some(e) = stripped.find(']') else { break };
                if let Ok(i) = stripped[..e].parse() {
                    segs.push(Seg::Index(i));
                }
                rest = &stripped[e + 1..];
            }
        } else if !rest.is_empty() {
            segs.push(Seg::Key(rest.to_owned()));
        }
    }
    segs
}

/// A borrowed node of the span-preserving document.
#[derive(Clone, Copy)]
enum Ref<'a> {
    Table(&'a Table),
    Inline(&'a InlineTable),
    Array(&'a Array),
    Aot(&'a ArrayOfTables),
    Value(&'a Value),
}

impl<'a> Ref<'a> {
    fn of_item(item: &'a Item) -> Option<Ref<'a>> {
        match item {
            Item::None => None,
            Item::Value(v) => Some(Ref::of_value(v)),
            Item::Table(t) => Some(Ref::Table(t)),
            Item::ArrayOfTables(a) => Some(Ref::Aot(a)),
        }
    }

    fn of_value(v: &'a Value) -> Ref<'a> {
        match v {
            Value::InlineTable(t) => Ref::Inline(t),
            Value::Array(a) => Ref::Array(a),
            other => Ref::Value(other),
        }
    }

    fn span(self) -> Option<Range<usize>> {
        match self {
            Ref::Table(t) => t.span(),
            Ref::Inline(t) => t.span(),
            Ref::Array(a) => a.span(),
            Ref::Aot(a) => a.span(),
            Ref::Value(v) => v.span(),
        }
    }

    /// Children with their segment and key span.
    fn children(self) -> Vec<(Seg, Option<Range<usize>>, Ref<'a>)> {
        match self {
            Ref::Table(t) => t
                .iter()
                .filter_map(|(k, item)| {
                    let ks = t.key(k).and_then(|key| key.span());
                    Ref::of_item(item).map(|r| (Seg::Key(k.to_owned()), ks, r))
                })
                .collect(),
            Ref::Inline(t) => t
                .iter()
                .map(|(k, v)| {
                    let ks = t.key(k).and_then(|key| key.span());
                    (Seg::Key(k.to_owned()), ks, Ref::of_value(v))
                })
                .collect(),
            Ref::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, v)| (Seg::Index(i), None, Ref::of_value(v)))
                .collect(),
            Ref::Aot(a) => a
                .iter()
                .enumerate()
                .map(|(i, t)| (Seg::Index(i), None, Ref::Table(t)))
                .collect(),
            Ref::Value(_) => Vec::new(),
        }
    }
}

fn contains(span: &Option<Range<usize>>, offset: usize) -> bool {
    span.as_ref()
        .is_some_and(|s| s.start <= offset && offset < s.end.max(s.start + 1))
}

/// Extends `path` with the deepest node whose span (or key span) contains
/// `offset`; returns whether anything matched below `r`.
fn find_path(r: Ref<'_>, offset: usize, path: &mut Vec<Seg>) -> bool {
    for (seg, key_span, child) in r.children() {
        let hit = contains(&key_span, offset) || contains(&child.span(), offset);
        let container = matches!(child, Ref::Table(_) | Ref::Aot(_));
        if hit || container {
            path.push(seg);
            if find_path(child, offset, path) || hit {
                return true;
            }
            path.pop();
        }
    }
    false
}

/// Span of the value at `path`, else of its key, else of the nearest ancestor.
fn span_of(root: Ref<'_>, path: &str) -> Option<Range<usize>> {
    let mut cur = root;
    let mut best = None;
    for seg in split_path(path) {
        let next = cur.children().into_iter().find(|(s, _, _)| *s == seg);
        match next {
            Some((_, key_span, child)) => {
                best = child.span().or(key_span).or(best);
                cur = child;
            }
            None => break,
        }
    }
    best
}

#[cfg(test)]
mod tests;
