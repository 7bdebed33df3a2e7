//! A typed data space with DDS semantics.
//!
//! Members of a federation meet on a [`Bus`]. Each joins as a
//! [`Participant`], finds typed [`Topic`]s by name and creates [`Writer`]s
//! and [`Reader`]s with quality-of-service policies ([`WriterQos`],
//! [`ReaderQos`]) that follow OMG DDS 1.4:
//!
//! * **keyed instances**: every sample belongs to the instance of its key;
//!   writers register, write, dispose and unregister instances;
//! * **reliability** with writer back-pressure (no silent loss),
//!   **durability** (a transient-local late joiner gets the last value of
//!   every live instance), **history**, **deadline**, **liveliness**,
//!   **lifespan**, **partitions**;
//! * **exclusive ownership**: per instance only the strongest live writer's
//!   samples reach readers; when the owner leaves, crashes or misses the
//!   deadline, the next writer takes over;
//! * readers by polling, blocking, `async`, wait-set or listener, with
//!   statuses (matched, deadline missed, liveliness changed, ownership changed).
//!
//! The in-memory backend connects the members of one process; the API is
//! backend-neutral so that a network backend plugs in without changing callers.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use twin_bus::{Bus, ReaderQos, TopicType, WriterQos};
//!
//! #[derive(Clone, Debug, Serialize, Deserialize)]
//! struct Altitude { aircraft: u32, metres: f64 }
//! impl TopicType for Altitude {
//!     const TYPE_NAME: &'static str = "doc::Altitude";
//!     type Key = u32;
//!     fn key(&self) -> u32 { self.aircraft }
//! }
//!
//! let bus = Bus::in_memory();
//! let sim = bus.participant("flight-sim");
//! let topic = sim.topic::<Altitude>("twin/doc/aircraft/altitude").unwrap();
//! let writer = sim.writer(&topic, WriterQos::default().transient_local()).unwrap();
//! writer.write(Altitude { aircraft: 7, metres: 10_500.0 }).unwrap();
//!
//! // A late joiner with transient-local durability still gets the value.
//! let view = bus.participant("display");
//! let reader = view.reader(&topic, ReaderQos::default().reliable().transient_local()).unwrap();
//! let got = reader.take_data();
//! assert_eq!(got.len(), 1);
//! assert_eq!(got[0].metres, 10_500.0);
//! ```

mod bus;
mod bytes;
#[cfg(feature = "dds")]
pub mod dds;
mod error;
mod memory;
mod qos;
mod reader;
mod sample;
mod status;
mod topic;
mod waitset;
mod writer;

pub use bus::{Bus, Participant, ParticipantInfo, Topic, TopicInfo};
pub use bytes::{Bytes, F64s};
#[cfg(feature = "dds")]
pub use dds::DdsConfig;
pub use error::{CreateError, PublishError, TakeError};
pub use qos::{
    check_compatible, partitions_match, Durability, History, Liveliness, Ownership, QosPolicy,
    ReaderQos, Reliability, ResourceLimits, WriterQos,
};
pub use reader::{Reader, ReaderListener, Recv};
pub use sample::{
    InstanceHandle, InstanceState, ParticipantId, ReaderId, Sample, SampleInfo, WallTime, WriterId,
};
pub use status::{Counter, ReaderStatus, StatusEvent, StatusMask, WriterStatus};
pub use topic::{TopicDescriptor, TopicType};
pub use waitset::{Condition, GuardCondition, IdleSpin, WaitSet};
pub use writer::Writer;
