//! Samples as readers receive them.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use twin_core::SimTime;

use crate::TopicType;

/// Identifies a participant (one per federation member) within a bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ParticipantId(pub u32);

/// Identifies a writer within a bus. Lower ids win ownership ties.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct WriterId(pub u64);

/// Identifies a reader within a bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReaderId(pub u64);

/// A topic-local handle of an instance (one key value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct InstanceHandle(pub u32);

/// The lifecycle state of an instance as this sample reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InstanceState {
    /// A writer has written or registered the instance.
    Alive,
    /// A writer disposed the instance (deleted the data item).
    NotAliveDisposed,
    /// No live writer has the instance registered any more.
    NotAliveNoWriters,
}

/// Wall-clock time of writing [ns since 1970-01-01T00:00:00Z].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct WallTime(pub u64);

impl WallTime {
    /// Now, from the system clock.
    pub fn now() -> WallTime {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        WallTime(d.as_nanos() as u64)
    }
}

/// Metadata delivered with every sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleInfo {
    /// Instance state at the time of this sample.
    pub state: InstanceState,
    /// The instance this sample belongs to.
    pub instance: InstanceHandle,
    /// The writer that wrote it.
    pub writer: WriterId,
    /// The writer's participant.
    pub participant: ParticipantId,
    /// The writer's sequence number for this sample, from 1.
    pub sequence: u64,
    /// When it was written.
    pub source_time: WallTime,
    /// The simulation time the writer stamped it with, if any.
    pub sim_time: Option<SimTime>,
}

/// A received sample: data, or an instance-state change without data.
#[derive(Clone, Debug)]
pub struct Sample<T: TopicType> {
    /// The instance key (also present for state changes without data).
    pub key: T::Key,
    /// The data; `None` for a dispose or no-writers notification.
    pub value: Option<T>,
    /// Metadata.
    pub info: SampleInfo,
}

impl<T: TopicType> Sample<T> {
    /// True if this sample carries data.
    pub fn is_valid(&self) -> bool {
        self.value.is_some()
    }
}
