//! Communication statuses (DDS §2.2.4.1), readable at any time and
//! reported to listeners and wait-sets as they change.

use crate::{InstanceHandle, QosPolicy, WriterId};

/// Bit set selecting statuses for a status condition.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct StatusMask(pub u32);

impl StatusMask {
    /// Matched count changed.
    pub const MATCHED: StatusMask = StatusMask(1);
    /// A deadline was missed.
    pub const DEADLINE_MISSED: StatusMask = StatusMask(2);
    /// A writer's liveliness changed (reader) or was lost (writer).
    pub const LIVELINESS: StatusMask = StatusMask(4);
    /// An instance changed owner.
    pub const OWNERSHIP_CHANGED: StatusMask = StatusMask(8);
    /// A sample was lost or rejected.
    pub const SAMPLE_LOST: StatusMask = StatusMask(16);
    /// An endpoint with incompatible QoS was found.
    pub const INCOMPATIBLE_QOS: StatusMask = StatusMask(32);
    /// Every status.
    pub const ALL: StatusMask = StatusMask(63);

    /// True if the masks share a bit.
    pub fn intersects(self, other: StatusMask) -> bool {
        self.0 & other.0 != 0
    }
}

impl std::ops::BitOr for StatusMask {
    type Output = StatusMask;
    fn bitor(self, rhs: StatusMask) -> StatusMask {
        StatusMask(self.0 | rhs.0)
    }
}

/// A status change, as delivered to listeners.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatusEvent {
    /// The number of matched remote endpoints changed.
    Matched {
        /// Currently matched endpoints.
        current: u32,
    },
    /// An instance was not updated within the deadline period.
    DeadlineMissed {
        /// The instance.
        instance: InstanceHandle,
    },
    /// A matched writer became alive or not alive (reader side).
    LivelinessChanged {
        /// The writer.
        writer: WriterId,
        /// Its new state.
        alive: bool,
    },
    /// This writer failed to assert liveliness within its lease (writer side).
    LivelinessLost,
    /// An instance has a new owner (exclusive ownership).
    OwnershipChanged {
        /// The instance.
        instance: InstanceHandle,
        /// The new owner, or `None` when the old owner was released.
        owner: Option<WriterId>,
    },
    /// A sample could not be kept (best-effort reader full).
    SampleLost,
    /// A writer/reader pair did not match because of this policy.
    IncompatibleQos {
        /// The offending policy.
        policy: QosPolicy,
    },
}

impl StatusEvent {
    /// The mask bit this event belongs to.
    pub fn mask(&self) -> StatusMask {
        match self {
            StatusEvent::Matched { .. } => StatusMask::MATCHED,
            StatusEvent::DeadlineMissed { .. } => StatusMask::DEADLINE_MISSED,
            StatusEvent::LivelinessChanged { .. } | StatusEvent::LivelinessLost => {
                StatusMask::LIVELINESS
            }
            StatusEvent::OwnershipChanged { .. } => StatusMask::OWNERSHIP_CHANGED,
            StatusEvent::SampleLost => StatusMask::SAMPLE_LOST,
            StatusEvent::IncompatibleQos { .. } => StatusMask::INCOMPATIBLE_QOS,
        }
    }
}

/// A cumulative count and its change since the status was last read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counter {
    /// Total since creation.
    pub total: u64,
    /// Increase since the last read of the status.
    pub change: u64,
}

impl Counter {
    pub(crate) fn bump(&mut self) {
        self.total += 1;
        self.change += 1;
    }
}

/// Statuses of a reader.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReaderStatus {
    /// Currently matched writers.
    pub matched_current: u32,
    /// Writers ever matched.
    pub matched: Counter,
    /// Instances that missed the requested deadline.
    pub deadline_missed: Counter,
    /// The last instance that missed its deadline.
    pub last_deadline_instance: Option<InstanceHandle>,
    /// Matched writers currently alive.
    pub alive_writers: u32,
    /// Matched writers currently not alive.
    pub not_alive_writers: u32,
    /// Liveliness transitions of matched writers.
    pub liveliness_changed: Counter,
    /// Ownership changes over all instances.
    pub ownership_changed: Counter,
    /// The most recent new owner.
    pub last_owner: Option<WriterId>,
    /// Samples lost (best-effort reader full).
    pub sample_lost: Counter,
    /// Writers that did not match because of QoS.
    pub incompatible_qos: Counter,
    /// The policy of the last incompatibility.
    pub last_incompatible_policy: Option<QosPolicy>,
}

/// Statuses of a writer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriterStatus {
    /// Currently matched readers.
    pub matched_current: u32,
    /// Readers ever matched.
    pub matched: Counter,
    /// Instances this writer failed to update within its offered deadline.
    pub deadline_missed: Counter,
    /// Times this writer was declared not alive.
    pub liveliness_lost: Counter,
    /// Readers that did not match because of QoS.
    pub incompatible_qos: Counter,
    /// The policy of the last incompatibility.
    pub last_incompatible_policy: Option<QosPolicy>,
}
