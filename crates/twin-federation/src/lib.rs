//! The control module and time management of a Twin federation.
//!
//! A federation is a set of members that share a [`twin_bus::Bus`]. One
//! [`Controller`] owns the control state (*initialise → running ⇄ frozen →
//! ended*) and global time; members implement [`Member`] and are driven by a
//! [`MemberDriver`]. Time-stepped members are granted steps of Δt, the next
//! grant waiting for the slowest; event-driven members request the time of
//! their next event; untimed members just react to data. Everything goes
//! through bus topics ([`proto`]), so the same members run inline in one
//! process ([`Federation`]), on threads, or as processes over DDS.
//!
//! ```
//! use twin_bus::Bus;
//! use twin_core::{Epoch, SimDuration, SimTime};
//! use twin_federation::*;
//!
//! struct Counter(u64);
//! impl Member for Counter {
//!     fn init(&mut self, _: &mut Ctx) -> Result<(), MemberError> { Ok(()) }
//!     fn advance(&mut self, _: &mut Ctx, _: SimTime) -> Result<Next, MemberError> {
//!         self.0 += 1;
//!         Ok(Next::Default)
//!     }
//! }
//!
//! let cfg = FederationConfig {
//!     controller: ControllerConfig {
//!         name: "doc".into(), end: SimTime::from_nanos(1_000_000_000), pacing: 0.0,
//!         expected: vec![], on_member_lost: LostPolicy::Drop, start_frozen: false,
//!         status_every: std::time::Duration::from_secs(1), record_grants: false,
//!     },
//!     epoch: Epoch::UNIX, seed: 1,
//!     stall_warning: std::time::Duration::from_secs(5),
//!     progress_every: std::time::Duration::from_secs(1),
//!     liveliness_lease: std::time::Duration::from_secs(2),
//! };
//! let member = MemberSpec {
//!     name: "counter".into(), threaded: false, member: Box::new(Counter(0)),
//!     mode: TimeMode::Stepped { dt: SimDuration::from_millis(100) },
//! };
//! let mut fed = Federation::new(Bus::in_memory(), cfg, vec![member]).unwrap();
//! let summary = fed.run(&mut |_| {}).unwrap();
//! assert_eq!(summary.state, FedState::Ended);
//! assert_eq!(summary.steps, vec![("counter".to_string(), 10)]);
//! ```

mod controller;
mod driver;
mod member;
pub mod proto;
mod runtime;
#[cfg(feature = "dds")]
mod sync;

pub use controller::{
    Controller, ControllerConfig, ControllerPoll, GrantRecord, LostPolicy, StallReport,
};
pub use driver::{DriverPoll, MemberDriver};
pub use member::{Ctx, Member, MemberError, Next, TimedReader, TimedWriter};
pub use proto::{
    Command, ControlState, FedState, FederationStatus, MemberStatus, TimeMode, Written,
};
pub use runtime::{CommandSender, Federation, FederationConfig, MemberSpec, RunEvent, RunSummary};

/// Errors of the federation runtime.
#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// A bus entity could not be created.
    #[error("bus: {0}")]
    Bus(#[from] twin_bus::CreateError),
    /// A grant could not be delivered (member not draining its grants).
    #[error("grant to `{member}` failed: {reason}")]
    Grant {
        /// Member.
        member: String,
        /// Why.
        reason: String,
    },
    /// A report or command could not be sent.
    #[error("report from `{member}` failed: {reason}")]
    Report {
        /// Member.
        member: String,
        /// Why.
        reason: String,
    },
    /// A member returned an error; it left the federation.
    #[error("member `{member}` failed: {source}")]
    Member {
        /// Member.
        member: String,
        /// The member's error.
        #[source]
        source: MemberError,
    },
    /// A member panicked; it is treated as crashed.
    #[error("member `{member}` panicked")]
    Panicked {
        /// Member.
        member: String,
    },
    /// On DDS, members were not all matched by discovery in time (the
    /// message names who and what).
    #[error("discovery barrier: {0}")]
    Discovery(String),
    /// Data that another member reported as written did not reach this
    /// member's reader in time (DDS).
    #[error(
        "member `{member}`: sample {expected} of `{from}` on `{topic}` not received after {waited:?} (have {seen})"
    )]
    DataMissing {
        /// The waiting member.
        member: String,
        /// The writing member.
        from: String,
        /// Topic.
        topic: String,
        /// The watermark: the writer's count of samples.
        expected: u64,
        /// The highest sequence number received from it.
        seen: u64,
        /// How long the member waited.
        waited: std::time::Duration,
    },
    /// A member thread could not be started.
    #[error("cannot start member thread: {0}")]
    Thread(String),
}
