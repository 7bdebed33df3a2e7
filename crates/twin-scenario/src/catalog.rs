//! Kind-specific checks: the caller's [`KindCatalog`] and [`Scenario::check`].

use crate::{
    diag::{Diagnostic, Diagnostics, Location},
    spec::{MemberSpec, Scenario, TimeMode},
    suggest::closest,
};

/// The member kinds a program can start, and how to check their parameters.
///
/// Implemented by whoever assembles a federation (the CLI, a test harness);
/// this crate knows no kinds itself. [`Scenario::check`] calls it once per
/// member.
pub trait KindCatalog {
    /// Every kind name this catalog knows, e.g. `"moving-points"`.
    fn kinds(&self) -> Vec<&'static str>;

    /// The time mode a member of `kind` runs in when the scenario does not
    /// say; `None` if the kind has no default (the scenario must then set
    /// `time`) or is unknown.
    fn default_time(&self, kind: &str) -> Option<TimeMode>;

    /// Checks `params` for a member of `kind`, returning every issue found.
    /// Only called for kinds listed by [`kinds`](Self::kinds).
    fn check_params(&self, kind: &str, params: &toml::Table) -> Result<(), Vec<ParamIssue>>;
}

/// One problem with a member's `params`, as reported by a [`KindCatalog`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamIssue {
    /// The offending key inside `params` (dotted for nested tables, e.g.
    /// `"antenna.gain"`), or `None` when the table as a whole is at fault,
    /// for example when a required key is missing.
    pub key: Option<String>,
    /// What is wrong, e.g. `"must be a positive integer (got -3)"`.
    pub message: String,
}

impl ParamIssue {
    /// An issue with one key.
    pub fn at(key: impl Into<String>, message: impl Into<String>) -> Self {
        ParamIssue {
            key: Some(key.into()),
            message: message.into(),
        }
    }

    /// An issue with the table as a whole.
    pub fn table(message: impl Into<String>) -> Self {
        ParamIssue {
            key: None,
            message: message.into(),
        }
    }
}

pub(crate) fn check(scenario: &Scenario, catalog: &dyn KindCatalog) -> Result<(), Diagnostics> {
    let mut known = catalog.kinds();
    known.sort_unstable();
    let mut diags = Vec::new();
    let mut error = |at: Location, field: String, message: String| {
        diags.push(Diagnostic {
            origin: scenario.origin.clone(),
            line: at.line,
            column: at.column,
            field,
            message,
        });
    };
    for (index, m) in scenario.members.iter().enumerate() {
        let path = format!("member[{index}]");
        if !known.contains(&m.kind.as_str()) {
            let list = known.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>();
            let hint =
                closest(&m.kind, &known).map_or(String::new(), |c| format!("did you mean {c:?}? "));
            error(
                m.locations.kind,
                format!("{path}.kind"),
                format!(
                    "unknown member kind {:?} ({hint}known kinds: {})",
                    m.kind,
                    list.join(", ")
                ),
            );
            continue;
        }
        check_time(m, &path, catalog, &mut error);
        if let Err(issues) = catalog.check_params(&m.kind, &m.params) {
            for issue in issues {
                let (field, at) = match &issue.key {
                    Some(key) => (format!("{path}.params.{key}"), param_location(m, key)),
                    None => (format!("{path}.params"), m.locations.params),
                };
                error(at, field, issue.message);
            }
        }
    }
    match Diagnostics::new(diags) {
        Some(d) => Err(d),
        None => Ok(()),
    }
}

/// Time-mode rules that need the kind's default: a mode must be known, and
/// `dt`/`lookahead` must fit it.
fn check_time(
    m: &MemberSpec,
    path: &str,
    catalog: &dyn KindCatalog,
    error: &mut impl FnMut(Location, String, String),
) {
    if m.time.is_some() {
        return; // explicit modes were already checked against dt/lookahead
    }
    let Some(mode) = catalog.default_time(&m.kind) else {
        error(
            m.location,
            format!("{path}.time"),
            format!(
                "kind {:?} has no default time mode; set time = \"stepped\", \"event\" or \"none\"",
                m.kind
            ),
        );
        return;
    };
    if let (Some(at), TimeMode::Event | TimeMode::None) = (m.locations.dt, mode) {
        error(
            at,
            format!("{path}.dt"),
            format!(
                "`dt` applies only to time-stepped members, but kind {:?} runs with time = \"{mode}\"",
                m.kind
            ),
        );
    }
    if let (Some(at), TimeMode::Stepped | TimeMode::None) = (m.locations.lookahead, mode) {
        error(
            at,
            format!("{path}.lookahead"),
            format!(
                "`lookahead` applies only to event-driven members, but kind {:?} runs with time = \"{mode}\"",
                m.kind
            ),
        );
    }
}

/// Where `key` (possibly dotted) was written inside `params`: the key itself,
/// else its nearest written parent, else the params header.
fn param_location(m: &MemberSpec, key: &str) -> Location {
    let keys = &m.locations.param_keys;
    let mut k = key;
    loop {
        if let Some(at) = keys.get(k) {
            return *at;
        }
        match k.rsplit_once('.') {
            Some((parent, _)) => k = parent,
            None => return m.locations.params,
        }
    }
}

#[cfg(test)]
mod tests;
