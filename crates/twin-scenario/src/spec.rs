//! The typed scenario: what a successfully parsed file turns into.

use std::{collections::BTreeMap, fmt, path::Path};

use twin_core::{Epoch, SimDuration};

use crate::{
    catalog::KindCatalog,
    diag::{Diagnostics, Location, ScenarioError},
    parse,
};

/// A parsed, structurally valid federation scenario.
///
/// Obtained from [`Scenario::from_file`] or [`Scenario::parse`]; kind-specific
/// checks are a second step, [`Scenario::check`], because only the caller
/// knows which member kinds exist.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Where the scenario came from: the file path, or the `origin` given to
    /// [`Scenario::parse`] (by convention `"<string>"`).
    pub origin: String,
    /// The `[federation]` table.
    pub federation: FederationSpec,
    /// The `[[member]]` tables, in file order (never empty).
    pub members: Vec<MemberSpec>,
}

impl Scenario {
    /// Reads and parses a scenario file. The path, as displayed, becomes the
    /// [`origin`](Self::origin) of every diagnostic.
    pub fn from_file(path: &Path) -> Result<Scenario, ScenarioError> {
        let source = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&source, &path.display().to_string())
    }

    /// Parses scenario text. Syntax errors stop at the first one; structural
    /// errors are all collected into one [`ScenarioError::Invalid`].
    pub fn parse(source: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        parse::parse(source, origin).map_err(ScenarioError::Invalid)
    }

    /// Runs the kind-specific checks of `catalog` over every member and
    /// reports all problems found (see [`KindCatalog`]).
    pub fn check(&self, catalog: &dyn KindCatalog) -> Result<(), Diagnostics> {
        crate::catalog::check(self, catalog)
    }

    /// Looks a member up by name.
    pub fn member(&self, name: &str) -> Option<&MemberSpec> {
        self.members.iter().find(|m| m.name == name)
    }
}

/// The `[federation]` table: run-wide settings.
#[derive(Debug, Clone, PartialEq)]
pub struct FederationSpec {
    /// Name of the federation, non-empty; used in topic names and logs.
    pub name: String,
    /// Simulation time at which the run stops; always positive.
    pub end: SimDuration,
    /// Default step of time-stepped members; always positive.
    pub dt: SimDuration,
    /// Wall-clock pacing factor: 0 runs as fast as possible, 1.0 in real time.
    /// Always finite and non-negative.
    pub pacing: f64,
    /// Calendar instant of simulation time zero.
    pub epoch: Epoch,
    /// Root seed from which every member's random stream is derived.
    pub seed: u64,
    /// What happens to the federation when a member disappears.
    pub on_member_lost: MemberLostPolicy,
    /// How long a member may stay silent before it counts as lost; positive.
    pub liveliness_lease: SimDuration,
    /// Wall time without progress before a hang diagnosis is printed; positive.
    pub stall_warning: SimDuration,
    /// Whether the federation starts running or frozen (waiting for a resume).
    pub start: StartState,
}

impl FederationSpec {
    /// Default for [`dt`](Self::dt): 100 ms.
    pub const DEFAULT_DT: SimDuration = SimDuration::from_millis(100);
    /// Default for [`liveliness_lease`](Self::liveliness_lease): 2 s.
    pub const DEFAULT_LIVELINESS_LEASE: SimDuration = SimDuration::from_secs(2);
    /// Default for [`stall_warning`](Self::stall_warning): 5 s.
    pub const DEFAULT_STALL_WARNING: SimDuration = SimDuration::from_secs(5);

    /// A federation with the two required fields and every default.
    pub fn new(name: impl Into<String>, end: SimDuration) -> Self {
        FederationSpec {
            name: name.into(),
            end,
            dt: Self::DEFAULT_DT,
            pacing: 0.0,
            epoch: Epoch::UNIX,
            seed: 0,
            on_member_lost: MemberLostPolicy::Freeze,
            liveliness_lease: Self::DEFAULT_LIVELINESS_LEASE,
            stall_warning: Self::DEFAULT_STALL_WARNING,
            start: StartState::Running,
        }
    }
}

/// One `[[member]]` table: a federate to start and how it keeps time.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberSpec {
    /// Unique name, matching `[a-z0-9][a-z0-9_-]*`.
    pub name: String,
    /// The member kind, resolved by the caller's [`KindCatalog`].
    pub kind: String,
    /// Explicit time mode; `None` means the kind's default.
    pub time: Option<TimeMode>,
    /// Explicit step (time-stepped members only); `None` means `federation.dt`.
    pub dt: Option<SimDuration>,
    /// Lookahead of an event-driven member; zero unless given.
    pub lookahead: SimDuration,
    /// Kind-specific parameters, as written; checked by the catalog.
    pub params: toml::Table,
    /// Where the member is declared: its `[[member]]` header.
    pub location: Location,
    /// Where the individual fields were written, for later diagnostics.
    pub locations: MemberLocations,
}

impl MemberSpec {
    /// The step this member uses if it is time-stepped: its own `dt`, or
    /// else the federation default.
    pub fn effective_dt(&self, fed: &FederationSpec) -> SimDuration {
        self.dt.unwrap_or(fed.dt)
    }

    /// The time mode this member runs in: the explicit `time`, else the
    /// kind's default from `catalog`, else [`TimeMode::Stepped`] (a case
    /// that [`Scenario::check`] rejects, so it never applies after a check).
    pub fn time_mode(&self, catalog: &dyn KindCatalog) -> TimeMode {
        self.time
            .or_else(|| catalog.default_time(&self.kind))
            .unwrap_or(TimeMode::Stepped)
    }
}

/// Source positions of a member's fields, kept for diagnostics raised after
/// parsing (unknown kind, catalog parameter issues).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberLocations {
    /// The `kind` value.
    pub kind: Location,
    /// The `dt` value, if one was written.
    pub dt: Option<Location>,
    /// The `lookahead` value, if one was written.
    pub lookahead: Option<Location>,
    /// The `[member.params]` header (or inline table); the member header
    /// when there is no `params`.
    pub params: Location,
    /// Each key inside `params`, nested keys dotted (`"antenna.gain"`).
    pub param_keys: BTreeMap<String, Location>,
}

/// How a member advances simulation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeMode {
    /// Fixed steps of `dt`; the member requests `t + dt` each time.
    Stepped,
    /// Event-driven: the member requests its next event time, bounded by its
    /// lookahead.
    Event,
    /// Not time-regulated: the member only observes (loggers, dashboards).
    None,
}

/// What the federation does when a member stops renewing its liveliness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberLostPolicy {
    /// Stop granting time until an operator intervenes.
    Freeze,
    /// Remove the member and carry on without it.
    Drop,
}

/// The state the federation is in right after all members joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StartState {
    /// Time advances immediately.
    Running,
    /// Time stays at zero until resumed.
    Frozen,
}

/// Spelling of enum values in scenario files, shared by parse and display.
pub(crate) trait Keyword: Copy + 'static {
    const ALL: &'static [Self];
    fn as_str(self) -> &'static str;
}

macro_rules! keyword_enum {
    ($ty:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl Keyword for $ty {
            const ALL: &'static [Self] = &[$($ty::$variant),+];
            fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

keyword_enum!(TimeMode { Stepped => "stepped", Event => "event", None => "none" });
keyword_enum!(MemberLostPolicy { Freeze => "freeze", Drop => "drop" });
keyword_enum!(StartState { Running => "running", Frozen => "frozen" });
