//! Federation scenario files: parse, check, and report every error precisely.
//!
//! A scenario is a TOML file with one `[federation]` table (run-wide
//! settings) and one `[[member]]` table per federate. Loading happens in two
//! steps:
//!
//! 1. [`Scenario::from_file`] / [`Scenario::parse`] check the syntax and the
//!    structure (required fields, types, ranges, unknown keys, unique names)
//!    and build the typed [`Scenario`].
//! 2. [`Scenario::check`] asks the caller's [`KindCatalog`] about each
//!    member's `kind` and `params`, which this crate knows nothing about.
//!
//! Both steps collect *every* problem they find (a TOML syntax error stops
//! parsing, so it comes alone) and report each as a [`Diagnostic`] with file,
//! 1-based line and column, and the dotted field path:
//!
//! ```text
//! scenarios/x.toml:12:7: member[1].dt: duration must be positive (got "-5ms")
//! ```
//!
//! # File format
//!
//! ```toml
//! [federation]
//! name = "demo"                   # required, non-empty
//! end = "30s"                     # required, > 0 (string with unit, or integer nanoseconds)
//! dt = "100ms"                    # default 100ms, > 0: default step of time-stepped members
//! pacing = 0.0                    # default 0, finite and >= 0; 0 = as fast as possible, 1.0 = real time
//! epoch = "2026-01-01T00:00:00Z"  # default UNIX epoch; ISO 8601 UTC or YYYYDDD.HHMMSS
//! seed = 42                       # default 0, >= 0
//! on_member_lost = "freeze"       # "freeze" (default) | "drop"
//! liveliness_lease = "2s"         # default 2s, > 0
//! stall_warning = "5s"            # default 5s, > 0: wall time without progress before a hang report
//! start = "running"               # "running" (default) | "frozen"
//!
//! [[member]]
//! name = "points"                 # required, unique, [a-z0-9][a-z0-9_-]*
//! kind = "moving-points"          # required, must be known to the KindCatalog
//! time = "stepped"                # "stepped" | "event" | "none"; default: the kind's default
//! dt = "100ms"                    # stepped only, > 0; default federation.dt
//! lookahead = "0s"                # event only, >= 0; default 0
//! [member.params]                 # optional, kind-specific, checked by the KindCatalog
//! count = 16
//! ```
//!
//! Durations are strings with a unit (`ns`, `us`, `ms`, `s`, `min`, `h`,
//! `d`; decimals are exact, e.g. `"1.5s"`) or integers counting nanoseconds.
//! Unknown keys are errors everywhere except inside `params`, with a
//! "did you mean" hint for likely typos. At least one member is required.
//! `member = [{ name = "a", kind = "k" }]` is accepted as well as `[[member]]`.
//!
//! # Example
//!
//! ```
//! use twin_scenario::{KindCatalog, ParamIssue, Scenario, TimeMode};
//!
//! struct Kinds;
//! impl KindCatalog for Kinds {
//!     fn kinds(&self) -> Vec<&'static str> {
//!         vec!["moving-points"]
//!     }
//!     fn default_time(&self, _kind: &str) -> Option<TimeMode> {
//!         Some(TimeMode::Stepped)
//!     }
//!     fn check_params(&self, _kind: &str, p: &toml::Table) -> Result<(), Vec<ParamIssue>> {
//!         match p.get("count").and_then(|v| v.as_integer()) {
//!             Some(n) if n > 0 => Ok(()),
//!             _ => Err(vec![ParamIssue::at("count", "must be a positive integer")]),
//!         }
//!     }
//! }
//!
//! let text = r#"
//! [federation]
//! name = "demo"
//! end = "30s"
//!
//! [[member]]
//! name = "points"
//! kind = "moving-points"
//! [member.params]
//! count = 0
//! "#;
//! let scenario = Scenario::parse(text, "<string>").unwrap();
//! assert_eq!(scenario.federation.end.as_nanos(), 30_000_000_000);
//! assert_eq!(scenario.members[0].time_mode(&Kinds), TimeMode::Stepped);
//!
//! let diags = scenario.check(&Kinds).unwrap_err();
//! assert_eq!(
//!     diags.to_string(),
//!     "<string>:10:1: member[0].params.count: must be a positive integer"
//! );
//! ```

mod catalog;
mod diag;
mod parse;
mod spec;
mod suggest;

pub use catalog::{KindCatalog, ParamIssue};
pub use diag::{Diagnostic, Diagnostics, Location, ScenarioError};
pub use spec::{
    FederationSpec, MemberLocations, MemberLostPolicy, MemberSpec, Scenario, StartState, TimeMode,
};
/// The `toml` crate whose [`toml::Table`] appears in this API (for `params`).
pub use toml;
