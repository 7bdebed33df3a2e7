//! Typed errors of the bus.

use std::time::Duration;

use crate::QosPolicy;

/// A write, dispose or unregister failed. The sample is given back.
#[derive(Debug, thiserror::Error)]
pub enum PublishError<T> {
    /// A reliable keep-all reader stayed full for the writer's whole
    /// `max_blocking_time`. Recoverable: retry, or slow down.
    #[error("reliable reader full for {waited:?} on topic `{topic}`; sample returned")]
    Timeout {
        /// The sample that was not written.
        sample: T,
        /// Topic name.
        topic: String,
        /// How long the writer blocked.
        waited: Duration,
    },
    /// The writer's participant was killed or the bus shut down. Fatal for
    /// this writer: every later call fails the same way.
    #[error("writer on topic `{topic}` is closed (participant killed or bus gone)")]
    Closed {
        /// The sample that was not written.
        sample: T,
        /// Topic name.
        topic: String,
    },
}

impl<T> PublishError<T> {
    /// Takes the sample back out of the error.
    pub fn into_sample(self) -> T {
        match self {
            PublishError::Timeout { sample, .. } | PublishError::Closed { sample, .. } => sample,
        }
    }
}

/// Creating a participant, topic, reader or writer failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateError {
    /// The topic exists with another type or version. Fix one side's type.
    #[error("topic `{topic}` has type {existing} but {requested} was requested")]
    TypeMismatch {
        /// Topic name.
        topic: String,
        /// `type_name@version` already registered.
        existing: String,
        /// `type_name@version` requested.
        requested: String,
    },
    /// The topic name is not acceptable.
    #[error("invalid topic name `{topic}`: {reason}")]
    InvalidTopicName {
        /// The name given.
        topic: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A QoS value is invalid on its own (e.g. zero deadline).
    #[error("invalid QoS on topic `{topic}`: {policy:?}: {reason}")]
    InvalidQos {
        /// Topic name.
        topic: String,
        /// The policy concerned.
        policy: QosPolicy,
        /// What is wrong.
        reason: &'static str,
    },
    /// The backend cannot carry this topic or endpoint (a type without a
    /// DDS mapping, or the DDS library refused it); `reason` says why.
    #[error("topic `{topic}`: {reason}")]
    Unsupported {
        /// Topic name.
        topic: String,
        /// What the backend reported.
        reason: String,
    },
    /// The participant was killed; it can create nothing more.
    #[error("participant `{0}` was killed")]
    ParticipantKilled(String),
}

/// A blocking take failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TakeError {
    /// Nothing arrived within the timeout. Recoverable.
    #[error("no sample within {0:?}")]
    Timeout(Duration),
}
