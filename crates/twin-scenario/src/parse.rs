//! From TOML text to a [`Scenario`], collecting every structural error.
//!
//! The text is parsed with `toml_edit`, which keeps byte spans for keys,
//! values and table headers; each reader below turns one field into its typed
//! value or records a [`Diagnostic`] located at the offending key or value.

use std::collections::{BTreeMap, HashMap};

use toml_edit::{ImDocument, Item, Key, TableLike, Value};
use twin_core::{Epoch, ParseDurationError, SimDuration};

use crate::{
    diag::{Diagnostic, Diagnostics, LineIndex, Location},
    spec::{
        FederationSpec, Keyword, MemberLocations, MemberLostPolicy, MemberSpec, Scenario,
        StartState, TimeMode,
    },
    suggest::closest,
};

const ROOT_KEYS: &[&str] = &["federation", "member"];
const FEDERATION_KEYS: &[&str] = &[
    "name",
    "end",
    "dt",
    "pacing",
    "epoch",
    "seed",
    "on_member_lost",
    "liveliness_lease",
    "stall_warning",
    "start",
];
const MEMBER_KEYS: &[&str] = &["name", "kind", "time", "dt", "lookahead", "params"];

/// Parses `source`; `Err` holds every problem found.
pub(crate) fn parse(source: &str, origin: &str) -> Result<Scenario, Diagnostics> {
    let mut cx = Ctx {
        origin,
        lines: LineIndex::new(source),
        diags: Vec::new(),
    };
    let doc = match ImDocument::parse(source) {
        Ok(doc) => doc,
        Err(e) => {
            let at = cx.lines.span(e.span()).unwrap_or(Location::START);
            let message = e.message().trim().replace('\n', "; ");
            return Err(Diagnostics::single(Diagnostic {
                origin: origin.to_owned(),
                line: at.line,
                column: at.column,
                field: String::new(),
                message: format!("TOML syntax error: {message}"),
            }));
        }
    };
    let root = Section {
        table: doc.as_table(),
        path: String::new(),
        at: Location::START,
    };
    root.reject_unknown(&mut cx, ROOT_KEYS);

    let federation = match root.entry(&cx, "federation") {
        Some(e) => e
            .section(&mut cx, "federation")
            .and_then(|s| read_federation(&mut cx, &s)),
        None => {
            cx.error(
                Location::START,
                "federation",
                "missing required table `[federation]`",
            );
            None
        }
    };
    let members = read_members(&mut cx, &root);

    match (federation, cx.finish()) {
        (_, Some(diags)) => Err(diags),
        (Some(federation), None) => Ok(Scenario {
            origin: origin.to_owned(),
            federation,
            members,
        }),
        (None, None) => Err(internal(Diagnostic {
            origin: origin.to_owned(),
            line: 1,
            column: 1,
            field: "federation".to_owned(),
            message: "the federation table was not read, yet no error was recorded".to_owned(),
        })),
    }
}

/// Wraps a diagnostic that reports a bug in this crate.
fn internal(mut d: Diagnostic) -> Diagnostics {
    d.message = format!("internal error (a bug in twin-scenario): {}", d.message);
    Diagnostics::single(d)
}

/// Reads `[federation]`; `None` if a required field is missing or invalid
/// (the reason is in `cx`).
fn read_federation(cx: &mut Ctx<'_>, s: &Section<'_>) -> Option<FederationSpec> {
    s.reject_unknown(cx, FEDERATION_KEYS);
    let name = s.require(cx, "name").and_then(|e| e.name(cx));
    let end = s
        .require(cx, "end")
        .and_then(|e| e.duration(cx, Sign::Positive));
    let complete = name.is_some() && end.is_some();
    let mut fed = FederationSpec::new(name.unwrap_or_default(), end.unwrap_or_default());
    // Optional fields: a bad value is reported and the default kept, so that
    // the other fields are still checked.
    if let Some(v) = s.optional(cx, "dt", |e, cx| e.duration(cx, Sign::Positive)) {
        fed.dt = v;
    }
    if let Some(v) = s.optional(cx, "pacing", |e, cx| e.pacing(cx)) {
        fed.pacing = v;
    }
    if let Some(v) = s.optional(cx, "epoch", |e, cx| e.epoch(cx)) {
        fed.epoch = v;
    }
    if let Some(v) = s.optional(cx, "seed", |e, cx| e.seed(cx)) {
        fed.seed = v;
    }
    if let Some(v) = s.optional(cx, "on_member_lost", |e, cx| {
        e.keyword::<MemberLostPolicy>(cx)
    }) {
        fed.on_member_lost = v;
    }
    if let Some(v) = s.optional(cx, "liveliness_lease", |e, cx| {
        e.duration(cx, Sign::Positive)
    }) {
        fed.liveliness_lease = v;
    }
    if let Some(v) = s.optional(cx, "stall_warning", |e, cx| e.duration(cx, Sign::Positive)) {
        fed.stall_warning = v;
    }
    if let Some(v) = s.optional(cx, "start", |e, cx| e.keyword::<StartState>(cx)) {
        fed.start = v;
    }
    complete.then_some(fed)
}

/// Reads every `[[member]]` table and checks that names are unique.
/// Members with errors are left out (the errors are in `cx`).
fn read_members(cx: &mut Ctx<'_>, root: &Section<'_>) -> Vec<MemberSpec> {
    let Some(entry) = root.entry(cx, "member") else {
        cx.error(
            Location::START,
            "member",
            "a scenario needs at least one `[[member]]` table",
        );
        return Vec::new();
    };
    // `[[member]]` tables, or `member = [{ … }, …]` written inline.
    let tables: Vec<(&dyn TableLike, Option<std::ops::Range<usize>>)> = match entry.item {
        Item::ArrayOfTables(a) => a.iter().map(|t| (t as &dyn TableLike, t.span())).collect(),
        Item::Value(Value::Array(a)) if a.iter().all(|v| v.is_inline_table()) => a
            .iter()
            .filter_map(|v| v.as_inline_table().map(|t| (t as &dyn TableLike, t.span())))
            .collect(),
        other => {
            let got = other.type_name();
            cx.error(
                entry.at,
                "member",
                format!("expected an array of tables `[[member]]`, got {got}"),
            );
            return Vec::new();
        }
    };
    let mut members = Vec::new();
    let mut first_use: HashMap<String, (usize, Location)> = HashMap::new();
    for (index, (table, span)) in tables.into_iter().enumerate() {
        let s = Section {
            table,
            path: format!("member[{index}]"),
            at: cx.lines.span(span).unwrap_or(entry.at),
        };
        members.extend(read_member(cx, &s));
        // Uniqueness is checked even for members with other errors.
        let Some(name) = s.entry(cx, "name") else {
            continue;
        };
        let Some(text) = name.item.as_str().filter(|t| is_member_name(t)) else {
            continue;
        };
        if let Some(&(first, first_at)) = first_use.get(text) {
            cx.error(
                name.at,
                name.field,
                format!(
                    "duplicate member name {text:?} (first used by member[{first}] at line {})",
                    first_at.line
                ),
            );
        } else {
            first_use.insert(text.to_owned(), (index, name.at));
        }
    }
    members
}

/// Reads one member table; `None` if `name` or `kind` is unusable.
fn read_member(cx: &mut Ctx<'_>, s: &Section<'_>) -> Option<MemberSpec> {
    s.reject_unknown(cx, MEMBER_KEYS);
    let name = s.require(cx, "name").and_then(|e| e.member_name(cx));
    let kind_entry = s.require(cx, "kind");
    let kind = kind_entry.as_ref().and_then(|e| e.name(cx));
    let time = s.optional(cx, "time", |e, cx| e.keyword::<TimeMode>(cx));
    let dt_entry = s.entry(cx, "dt");
    let dt = dt_entry
        .as_ref()
        .and_then(|e| e.duration(cx, Sign::Positive));
    let la_entry = s.entry(cx, "lookahead");
    let lookahead = la_entry
        .as_ref()
        .and_then(|e| e.duration(cx, Sign::NonNegative));
    if let (Some(e), Some(mode @ (TimeMode::Event | TimeMode::None))) = (&dt_entry, time) {
        cx.error(
            e.at,
            e.field.clone(),
            format!("`dt` applies only to time-stepped members, but time = \"{mode}\""),
        );
    }
    if let (Some(e), Some(mode @ (TimeMode::Stepped | TimeMode::None))) = (&la_entry, time) {
        cx.error(
            e.at,
            e.field.clone(),
            format!("`lookahead` applies only to event-driven members, but time = \"{mode}\""),
        );
    }
    let mut locations = MemberLocations {
        kind: kind_entry.as_ref().map_or(s.at, |e| e.at),
        dt: dt_entry.as_ref().map(|e| e.at),
        lookahead: la_entry.as_ref().map(|e| e.at),
        params: s.at,
        param_keys: BTreeMap::new(),
    };
    let mut params = toml::Table::new();
    if let Some(e) = s.entry(cx, "params") {
        if let Some(p) = e.section(cx, "member.params") {
            locations.params = p.at;
            collect_key_locations(cx, p.table, "", &mut locations.param_keys);
            params = table_to_toml(p.table);
        }
    }
    Some(MemberSpec {
        name: name?,
        kind: kind?,
        time,
        dt,
        lookahead: lookahead.unwrap_or_default(),
        params,
        location: s.at,
        locations,
    })
}

/// Whether `s` matches `[a-z0-9][a-z0-9_-]*`.
fn is_member_name(s: &str) -> bool {
    let lower_or_digit = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut chars = s.chars();
    chars.next().is_some_and(lower_or_digit)
        && chars.all(|c| lower_or_digit(c) || c == '_' || c == '-')
}

/// Records where every key of `table` (recursively, dotted) was written.
fn collect_key_locations(
    cx: &Ctx<'_>,
    table: &dyn TableLike,
    prefix: &str,
    out: &mut BTreeMap<String, Location>,
) {
    for (key, item) in table.iter() {
        let path = format!("{prefix}{key}");
        let at = table.key(key).and_then(|k| cx.lines.span(k.span()));
        if let Some(at) = at {
            out.insert(path.clone(), at);
        }
        if let Some(sub) = item.as_table_like() {
            collect_key_locations(cx, sub, &format!("{path}."), out);
        }
    }
}

/// Converts a `toml_edit` table (spans and formatting dropped) into the plain
/// `toml` value tree handed to the catalog.
fn table_to_toml(table: &dyn TableLike) -> toml::Table {
    table
        .iter()
        .filter_map(|(k, item)| item_to_toml(item).map(|v| (k.to_owned(), v)))
        .collect()
}

fn item_to_toml(item: &Item) -> Option<toml::Value> {
    match item {
        Item::None => None,
        Item::Value(v) => Some(value_to_toml(v)),
        Item::Table(t) => Some(toml::Value::Table(table_to_toml(t))),
        Item::ArrayOfTables(a) => Some(toml::Value::Array(
            a.iter()
                .map(|t| toml::Value::Table(table_to_toml(t)))
                .collect(),
        )),
    }
}

fn value_to_toml(v: &Value) -> toml::Value {
    match v {
        Value::String(s) => toml::Value::String(s.value().clone()),
        Value::Integer(i) => toml::Value::Integer(*i.value()),
        Value::Float(f) => toml::Value::Float(*f.value()),
        Value::Boolean(b) => toml::Value::Boolean(*b.value()),
        Value::Datetime(d) => toml::Value::Datetime(*d.value()),
        Value::Array(a) => toml::Value::Array(a.iter().map(value_to_toml).collect()),
        Value::InlineTable(t) => toml::Value::Table(table_to_toml(t)),
    }
}

/// Parser state: where diagnostics go and how to locate spans.
struct Ctx<'a> {
    origin: &'a str,
    lines: LineIndex<'a>,
    diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn error(&mut self, at: Location, field: impl Into<String>, message: impl Into<String>) {
        self.diags.push(Diagnostic {
            origin: self.origin.to_owned(),
            line: at.line,
            column: at.column,
            field: field.into(),
            message: message.into(),
        });
    }

    fn finish(&mut self) -> Option<Diagnostics> {
        Diagnostics::new(std::mem::take(&mut self.diags))
    }
}

/// A table being read: its contents, dotted path and header location.
struct Section<'t> {
    table: &'t dyn TableLike,
    path: String,
    at: Location,
}

impl<'t> Section<'t> {
    fn field(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Reports every key not in `allowed`, with a spelling suggestion.
    fn reject_unknown(&self, cx: &mut Ctx<'_>, allowed: &[&str]) {
        for (key, _) in self.table.iter() {
            if allowed.contains(&key) {
                continue;
            }
            let at = self.table.key(key).and_then(|k| cx.lines.span(k.span()));
            let message = match closest(key, allowed) {
                Some(s) => format!("unknown key `{key}` (did you mean `{s}`?)"),
                None => format!(
                    "unknown key `{key}`; expected one of: {}",
                    allowed.join(", ")
                ),
            };
            cx.error(at.unwrap_or(self.at), self.field(key), message);
        }
    }

    fn entry(&self, cx: &Ctx<'_>, key: &str) -> Option<Entry<'t>> {
        let (k, item): (&Key, &Item) = self.table.get_key_value(key)?;
        if item.is_none() {
            return None;
        }
        let at = cx
            .lines
            .span(item.span())
            .or_else(|| cx.lines.span(k.span()))
            .unwrap_or(self.at);
        Some(Entry {
            item,
            at,
            field: self.field(key),
        })
    }

    /// Like [`entry`](Self::entry), reporting a missing key at the header.
    fn require(&self, cx: &mut Ctx<'_>, key: &str) -> Option<Entry<'t>> {
        let entry = self.entry(cx, key);
        if entry.is_none() {
            let table = if self.path.is_empty() {
                "the document".to_owned()
            } else {
                format!("`{}`", self.path)
            };
            cx.error(
                self.at,
                self.field(key),
                format!("missing required field `{key}` in {table}"),
            );
        }
        entry
    }

    fn optional<T>(
        &self,
        cx: &mut Ctx<'_>,
        key: &str,
        read: impl FnOnce(&Entry<'t>, &mut Ctx<'_>) -> Option<T>,
    ) -> Option<T> {
        let entry = self.entry(cx, key)?;
        read(&entry, cx)
    }
}

/// Whether zero is an acceptable duration.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sign {
    Positive,
    NonNegative,
}

/// One present field: its item, where its value starts, its dotted path.
struct Entry<'t> {
    item: &'t Item,
    at: Location,
    field: String,
}

impl<'t> Entry<'t> {
    fn bad(&self, cx: &mut Ctx<'_>, message: impl Into<String>) {
        cx.error(self.at, self.field.clone(), message);
    }

    fn wrong_type<T>(&self, cx: &mut Ctx<'_>, expected: &str) -> Option<T> {
        let got = self.item.type_name();
        self.bad(cx, format!("expected {expected}, got {got}"));
        None
    }

    /// The item as a table: a `[header]` table, a dotted-key table or an
    /// inline `{ … }` table.
    fn section(&self, cx: &mut Ctx<'_>, what: &str) -> Option<Section<'t>> {
        match self.item.as_table_like() {
            Some(table) => Some(Section {
                table,
                path: self.field.clone(),
                at: self.at,
            }),
            None => self.wrong_type(cx, &format!("a table `[{what}]`")),
        }
    }

    /// Any string, possibly empty.
    fn string(&self, cx: &mut Ctx<'_>) -> Option<&'t str> {
        match self.item.as_str() {
            Some(s) => Some(s),
            None => self.wrong_type(cx, "a string"),
        }
    }

    /// A non-empty string.
    fn name(&self, cx: &mut Ctx<'_>) -> Option<String> {
        let s = self.string(cx)?;
        if s.trim().is_empty() {
            self.bad(cx, "must not be empty");
            return None;
        }
        Some(s.to_owned())
    }

    /// A member name: `[a-z0-9][a-z0-9_-]*`.
    fn member_name(&self, cx: &mut Ctx<'_>) -> Option<String> {
        let s = self.string(cx)?;
        if is_member_name(s) {
            return Some(s.to_owned());
        }
        self.bad(
            cx,
            format!(
                "invalid member name {s:?}: use lowercase letters, digits, `_` and `-`, \
                 starting with a letter or digit"
            ),
        );
        None
    }

    /// A duration string with unit, or integer nanoseconds; zero allowed
    /// only with [`Sign::NonNegative`].
    fn duration(&self, cx: &mut Ctx<'_>, sign: Sign) -> Option<SimDuration> {
        let (parsed, got) =
            match self.item.as_value() {
                Some(Value::String(s)) => {
                    (s.value().parse::<SimDuration>(), format!("{:?}", s.value()))
                }
                Some(Value::Integer(i)) => {
                    let n = *i.value();
                    let parsed = u64::try_from(n)
                        .map(SimDuration::from_nanos)
                        .map_err(|_| ParseDurationError::Negative(n.to_string()));
                    (parsed, n.to_string())
                }
                _ => return self.wrong_type(
                    cx,
                    "a duration with a unit such as \"100ms\", or an integer number of nanoseconds",
                ),
            };
        let message = match (parsed, sign) {
            (Ok(d), Sign::Positive) if d.is_zero() => {
                format!("duration must be positive (got {got})")
            }
            (Ok(d), _) => return Some(d),
            (Err(ParseDurationError::Negative(_)), Sign::Positive) => {
                format!("duration must be positive (got {got})")
            }
            (Err(ParseDurationError::Negative(_)), Sign::NonNegative) => {
                format!("duration must not be negative (got {got})")
            }
            (Err(e), _) => e.to_string(),
        };
        self.bad(cx, message);
        None
    }

    /// A finite, non-negative float (integers accepted).
    fn pacing(&self, cx: &mut Ctx<'_>) -> Option<f64> {
        let v = match self.item.as_value() {
            Some(Value::Float(f)) => *f.value(),
            Some(Value::Integer(i)) => *i.value() as f64,
            _ => return self.wrong_type(cx, "a number (0 = as fast as possible, 1.0 = real time)"),
        };
        if v.is_finite() && v >= 0.0 {
            return Some(v);
        }
        self.bad(cx, format!("pacing must be finite and >= 0 (got {v})"));
        None
    }

    /// A non-negative integer.
    fn seed(&self, cx: &mut Ctx<'_>) -> Option<u64> {
        let Some(n) = self.item.as_integer() else {
            return self.wrong_type(cx, "a non-negative integer");
        };
        if let Ok(n) = u64::try_from(n) {
            return Some(n);
        }
        self.bad(cx, format!("seed must not be negative (got {n})"));
        None
    }

    /// An ISO 8601 / `YYYYDDD.HHMMSS` string, or a native TOML datetime.
    fn epoch(&self, cx: &mut Ctx<'_>) -> Option<Epoch> {
        let text = match self.item.as_value() {
            Some(Value::String(s)) => s.value().clone(),
            Some(Value::Datetime(d)) => d.value().to_string(),
            _ => return self.wrong_type(cx, "an epoch such as \"2026-01-01T00:00:00Z\""),
        };
        match text.parse::<Epoch>() {
            Ok(e) => Some(e),
            Err(e) => {
                self.bad(cx, e.to_string());
                None
            }
        }
    }

    /// One of the spellings of `K`, with a hint for near misses.
    fn keyword<K: Keyword>(&self, cx: &mut Ctx<'_>) -> Option<K> {
        let s = self.string(cx)?;
        if let Some(k) = K::ALL.iter().copied().find(|k| k.as_str() == s) {
            return Some(k);
        }
        let names: Vec<&str> = K::ALL.iter().map(|k| k.as_str()).collect();
        let hint = closest(s, &names).map_or(String::new(), |c| format!("; did you mean {c:?}?"));
        let list = names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>();
        self.bad(
            cx,
            format!("expected one of {} (got {s:?}){hint}", list.join(", ")),
        );
        None
    }
}

#[cfg(test)]
mod tests;
