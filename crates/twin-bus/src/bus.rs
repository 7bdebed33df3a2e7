//! The data space handle ([`Bus`]) and participants.

use std::sync::Arc;

use crate::{
    memory::{self, PartState},
    reader::ReaderInner,
    writer::WriterInner,
    CreateError, ParticipantId, QosPolicy, Reader, ReaderId, ReaderListener, ReaderQos,
    TopicDescriptor, TopicType, Writer, WriterId, WriterQos,
};

/// A data space: the set of topics that participants share.
///
/// Cloning is cheap and yields a handle to the same data space. The
/// in-memory backend ([`Bus::in_memory`]) connects participants of one
/// process; other backends plug in behind the same API.
#[derive(Clone, Debug)]
pub struct Bus {
    inner: BusInner,
}

#[derive(Clone, Debug)]
enum BusInner {
    Memory(Arc<memory::Domain>),
    #[cfg(feature = "dds")]
    Dds(Arc<crate::dds::Domain>),
}

/// A topic as seen by discovery tools.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicInfo {
    /// Name and type.
    pub descriptor: TopicDescriptor,
    /// Writers on the topic now.
    pub writers: usize,
    /// Readers on the topic now.
    pub readers: usize,
    /// Samples written since the topic was created.
    pub samples_written: u64,
}

/// A participant as seen by discovery tools.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParticipantInfo {
    /// Its id.
    pub id: ParticipantId,
    /// The name it was created with.
    pub name: String,
    /// Whether it was killed.
    pub killed: bool,
}

impl Bus {
    /// A new, empty in-memory data space.
    pub fn in_memory() -> Bus {
        Bus {
            inner: BusInner::Memory(memory::Domain::new()),
        }
    }

    /// A data space on DDS (Cyclone DDS): members in other processes and on
    /// other hosts in the same domain, and any DDS program, share it.
    #[cfg(feature = "dds")]
    pub fn dds(config: crate::DdsConfig) -> Result<Bus, crate::dds::DdsError> {
        Ok(Bus {
            inner: BusInner::Dds(crate::dds::Domain::new(config).map_err(crate::dds::DdsError)?),
        })
    }

    /// A counter that changes whenever data arrives from the network (DDS:
    /// data-available callbacks of every reader in this process); always 0
    /// on the in-memory bus. Cheap (one atomic load): what an idle-spinning
    /// thread watches ([`crate::IdleSpin`]).
    pub fn activity(&self) -> u64 {
        match &self.inner {
            BusInner::Memory(_) => 0,
            #[cfg(feature = "dds")]
            BusInner::Dds(_) => crate::dds::ARRIVALS.load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// How long a thread waiting for the federation's next message should
    /// busy-poll after the last arrival before it blocks
    /// ([`crate::WaitSet::wait_spinning`]); zero on the in-memory bus, where
    /// a wake-up does not cross processes. DDS: [`DdsConfig::spin_us`].
    ///
    /// [`DdsConfig::spin_us`]: crate::DdsConfig::spin_us
    pub fn idle_spin(&self) -> std::time::Duration {
        match &self.inner {
            BusInner::Memory(_) => std::time::Duration::ZERO,
            #[cfg(feature = "dds")]
            BusInner::Dds(d) => std::time::Duration::from_micros(u64::from(
                d.config.spin_us.unwrap_or(crate::dds::DEFAULT_SPIN_US),
            )),
        }
    }

    /// True for a DDS data space.
    pub fn is_dds(&self) -> bool {
        !matches!(self.inner, BusInner::Memory(_))
    }

    /// Joins the data space as a new participant named `name`.
    ///
    /// On DDS, a participant the library refuses to create is returned
    /// already killed (every endpoint creation then fails) and the reason
    /// is logged.
    pub fn participant(&self, name: &str) -> Participant {
        match &self.inner {
            BusInner::Memory(d) => Participant {
                bus: self.clone(),
                state: d.add_participant(name),
                #[cfg(feature = "dds")]
                dds: None,
            },
            #[cfg(feature = "dds")]
            BusInner::Dds(d) => match d.add_participant(name) {
                Ok((state, dds)) => Participant {
                    bus: self.clone(),
                    state,
                    dds: Some(dds),
                },
                Err(e) => {
                    crate::dds::log(&format!("participant `{name}`: {e}"));
                    let state = Arc::new(memory::PartState::new(ParticipantId(0), name));
                    state.kill();
                    Participant {
                        bus: self.clone(),
                        state,
                        dds: None,
                    }
                }
            },
        }
    }

    /// Every topic with its endpoint counts, sorted by name (on DDS: the
    /// topics this process created, with their local endpoints unknown).
    pub fn topics(&self) -> Vec<TopicInfo> {
        match &self.inner {
            BusInner::Memory(d) => d.topic_infos(),
            #[cfg(feature = "dds")]
            BusInner::Dds(_) => Vec::new(),
        }
    }

    /// Every participant that ever joined.
    pub fn participants(&self) -> Vec<ParticipantInfo> {
        match &self.inner {
            BusInner::Memory(d) => d
                .participants()
                .into_iter()
                .map(|(id, name, killed)| ParticipantInfo { id, name, killed })
                .collect(),
            #[cfg(feature = "dds")]
            BusInner::Dds(d) => d
                .participants()
                .into_iter()
                .map(|(id, name, killed)| ParticipantInfo { id, name, killed })
                .collect(),
        }
    }

    /// The name of participant `id`.
    pub fn participant_name(&self, id: ParticipantId) -> Option<String> {
        match &self.inner {
            BusInner::Memory(d) => d.participant_name(id),
            #[cfg(feature = "dds")]
            BusInner::Dds(d) => d.participant_name(id),
        }
    }

    fn next_id(&self) -> u64 {
        match &self.inner {
            BusInner::Memory(d) => d.next_entity_id(),
            #[cfg(feature = "dds")]
            BusInner::Dds(d) => d.next_entity_id(),
        }
    }
}

/// A typed topic handle.
#[derive(Debug)]
pub struct Topic<T: TopicType> {
    pub(crate) inner: TopicInner<T>,
}

impl<T: TopicType> Clone for Topic<T> {
    fn clone(&self) -> Self {
        Topic {
            inner: self.inner.clone(),
        }
    }
}

pub(crate) enum TopicInner<T: TopicType> {
    Memory(Arc<memory::topic::TopicCore<T>>),
    #[cfg(feature = "dds")]
    Dds(Arc<crate::dds::DdsTopic<T>>),
}

impl<T: TopicType> Clone for TopicInner<T> {
    fn clone(&self) -> Self {
        match self {
            TopicInner::Memory(c) => TopicInner::Memory(Arc::clone(c)),
            #[cfg(feature = "dds")]
            TopicInner::Dds(c) => TopicInner::Dds(Arc::clone(c)),
        }
    }
}

impl<T: TopicType> std::fmt::Debug for TopicInner<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TopicInner::Memory(c) => write!(f, "Topic({}: {})", c.name, T::TYPE_NAME),
            #[cfg(feature = "dds")]
            TopicInner::Dds(c) => write!(f, "DdsTopic({}: {})", c.name, T::TYPE_NAME),
        }
    }
}

impl<T: TopicType> Topic<T> {
    /// The topic's name.
    pub fn name(&self) -> &str {
        match &self.inner {
            TopicInner::Memory(c) => &c.name,
            #[cfg(feature = "dds")]
            TopicInner::Dds(c) => &c.name,
        }
    }

    /// Keys of the instances that are alive now (written or registered, not
    /// disposed, with a writer). Not known on DDS (empty).
    pub fn live_keys(&self) -> Vec<T::Key> {
        match &self.inner {
            TopicInner::Memory(c) => c.live_keys(),
            #[cfg(feature = "dds")]
            TopicInner::Dds(_) => Vec::new(),
        }
    }
}

/// A member's presence on the bus: it owns that member's writers and readers.
///
/// Dropping a participant's writers ends them gracefully (their instances
/// are unregistered). [`Participant::kill`] instead simulates a crash: no
/// goodbye is said, and other members notice only when liveliness leases
/// and deadlines expire.
#[derive(Debug)]
pub struct Participant {
    bus: Bus,
    state: Arc<PartState>,
    #[cfg(feature = "dds")]
    dds: Option<Arc<crate::dds::DdsParticipant>>,
}

fn check_qos(
    topic: &str,
    deadline: Option<std::time::Duration>,
    lease: std::time::Duration,
    max: usize,
) -> Result<(), CreateError> {
    let bad = |policy, reason| CreateError::InvalidQos {
        topic: topic.to_owned(),
        policy,
        reason,
    };
    if deadline.is_some_and(|d| d.is_zero()) {
        return Err(bad(QosPolicy::Deadline, "deadline period must be positive"));
    }
    if lease.is_zero() {
        return Err(bad(
            QosPolicy::Liveliness,
            "liveliness lease must be positive",
        ));
    }
    if max == 0 {
        return Err(bad(
            QosPolicy::Reliability,
            "resource limit max_samples must be positive",
        ));
    }
    Ok(())
}

impl Participant {
    /// The participant's name.
    pub fn name(&self) -> &str {
        &self.state.name
    }

    /// The participant's id.
    pub fn id(&self) -> ParticipantId {
        self.state.id
    }

    /// The data space this participant belongs to.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Watches DDS discovery (the builtin DCPSParticipant, DCPSPublication
    /// and DCPSSubscription topics) from this participant: every reader,
    /// writer and participant in the domain, Twin's or not. DDS only.
    #[cfg(feature = "dds")]
    pub fn observe_domain(&self) -> Result<crate::dds::DomainObserver, CreateError> {
        match &self.dds {
            Some(d) => crate::dds::DomainObserver::new(std::sync::Arc::clone(d)),
            None => Err(CreateError::Unsupported {
                topic: "DCPSParticipant".into(),
                reason: "discovery needs a DDS bus".into(),
            }),
        }
    }

    /// Finds or creates topic `name` with type `T`.
    pub fn topic<T: TopicType>(&self, name: &str) -> Result<Topic<T>, CreateError> {
        match &self.bus.inner {
            BusInner::Memory(d) => Ok(Topic {
                inner: TopicInner::Memory(d.topic::<T>(name)?),
            }),
            #[cfg(feature = "dds")]
            BusInner::Dds(_) => {
                self.alive()?;
                if let Err(reason) = crate::topic::validate_topic_name(name) {
                    return Err(CreateError::InvalidTopicName {
                        topic: name.to_owned(),
                        reason,
                    });
                }
                let part = self
                    .dds
                    .clone()
                    .ok_or_else(|| CreateError::ParticipantKilled(self.state.name.clone()))?;
                Ok(Topic {
                    inner: TopicInner::Dds(crate::dds::DdsTopic::new(part, name)?),
                })
            }
        }
    }

    fn alive(&self) -> Result<(), CreateError> {
        if self.state.is_killed() {
            return Err(CreateError::ParticipantKilled(self.state.name.clone()));
        }
        Ok(())
    }

    /// Creates a writer on `topic`.
    pub fn writer<T: TopicType>(
        &self,
        topic: &Topic<T>,
        qos: WriterQos,
    ) -> Result<Writer<T>, CreateError> {
        self.alive()?;
        check_qos(
            topic.name(),
            qos.deadline,
            qos.liveliness.lease(),
            qos.resource_limits.max_samples,
        )?;
        let id = WriterId(self.bus.next_id());
        match &topic.inner {
            TopicInner::Memory(core) => {
                let slot = core.add_writer(id, Arc::clone(&self.state), qos);
                Ok(Writer {
                    inner: WriterInner::Memory {
                        core: Arc::clone(core),
                        slot,
                    },
                    id,
                })
            }
            #[cfg(feature = "dds")]
            TopicInner::Dds(t) => Ok(Writer {
                inner: WriterInner::Dds(crate::dds::DdsWriter::new(t, &qos)?),
                id,
            }),
        }
    }

    /// Creates a reader on `topic` to be polled, awaited or waited on.
    pub fn reader<T: TopicType>(
        &self,
        topic: &Topic<T>,
        qos: ReaderQos,
    ) -> Result<Reader<T>, CreateError> {
        self.make_reader(topic, qos, None)
    }

    /// Creates a reader whose samples and status changes go to `listener`.
    ///
    /// The listener runs on the thread whose action produced the data (a
    /// writer, or the bus monitor for timed statuses), never under a bus
    /// lock, one call at a time and in delivery order.
    pub fn reader_with_listener<T: TopicType, L: ReaderListener<T>>(
        &self,
        topic: &Topic<T>,
        qos: ReaderQos,
        listener: L,
    ) -> Result<Reader<T>, CreateError> {
        self.make_reader(topic, qos, Some(Box::new(listener)))
    }

    fn make_reader<T: TopicType>(
        &self,
        topic: &Topic<T>,
        qos: ReaderQos,
        listener: Option<Box<dyn ReaderListener<T>>>,
    ) -> Result<Reader<T>, CreateError> {
        self.alive()?;
        check_qos(
            topic.name(),
            qos.deadline,
            qos.liveliness.lease(),
            qos.resource_limits.max_samples,
        )?;
        let id = ReaderId(self.bus.next_id());
        match &topic.inner {
            TopicInner::Memory(core) => {
                let (slot, cv) = core.add_reader(id, Arc::clone(&self.state), qos, listener);
                Ok(Reader {
                    inner: ReaderInner::Memory {
                        core: Arc::clone(core),
                        slot,
                        cv,
                    },
                    id,
                })
            }
            #[cfg(feature = "dds")]
            TopicInner::Dds(t) => Ok(Reader {
                inner: ReaderInner::Dds(crate::dds::DdsReader::new(t, &qos, listener)?),
                id,
            }),
        }
    }

    /// Simulates a crash: the participant stops asserting liveliness, its
    /// writers fail with `Closed`, and nothing is unregistered.
    pub fn kill(&self) {
        self.state.kill();
        #[cfg(feature = "dds")]
        if let Some(d) = &self.dds {
            d.kill();
        }
    }

    /// Whether [`Participant::kill`] was called.
    pub fn is_killed(&self) -> bool {
        self.state.is_killed()
    }
}
