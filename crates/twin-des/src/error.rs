//! Error types of the kernel, one per operation family.

use twin_core::{SimDuration, SimTime};

/// An event could not be scheduled.
///
/// None of these is fatal: the scheduler is unchanged and stays usable. The
/// event passed in is dropped; callers that must keep it can compare the
/// target time with [`Scheduler::now`](crate::Scheduler::now) beforehand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The requested time is earlier than the current time. Causality would
    /// break, so this is usually a model bug (or, at a federation boundary, a
    /// message that arrived after its timestamp was granted).
    #[error("cannot schedule at {requested}: the scheduler is already at {now}")]
    InPast {
        /// Current simulation time.
        now: SimTime,
        /// The time that was asked for.
        requested: SimTime,
    },
    /// `now + delay` does not fit in [`SimTime`] (about 584 years).
    #[error("cannot schedule {delay} after {now}: simulation time overflow")]
    Overflow {
        /// Current simulation time.
        now: SimTime,
        /// The delay that was asked for.
        delay: SimDuration,
    },
    /// Every one of the 2^32 - 1 event slots is in use.
    #[error("cannot schedule: {pending} events are already pending (the limit)")]
    Full {
        /// Number of events pending.
        pending: u64,
    },
}

/// The scheduler could not advance to the requested time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// The requested time is earlier than the current time; time never goes
    /// back. Nothing was executed and the scheduler is unchanged.
    #[error("cannot advance to {requested}: the scheduler is already at {now}")]
    InPast {
        /// Current simulation time.
        now: SimTime,
        /// The time that was asked for.
        requested: SimTime,
    },
}
