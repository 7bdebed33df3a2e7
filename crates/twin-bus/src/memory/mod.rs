//! The in-memory backend: one process, samples moved between threads under
//! one lock per topic.
//!
//! Layout: a [`Domain`] owns the topic registry, the participants and a
//! monitor thread that enforces the timed policies (deadline, liveliness
//! leases). Each topic's whole state (instances, writers, readers and their
//! queues) sits behind one mutex in [`topic::TopicCore`]; a write takes the
//! lock once, delivers to every matched reader, and runs wake-ups, wait-set
//! notifications and listeners after releasing it, so a listener may write
//! to any topic, including its own.

mod access;
mod endpoint;
mod timed;
pub(crate) mod topic;

use std::{
    any::Any,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Weak,
    },
    thread,
    time::{Duration, Instant},
};

use parking_lot::{Condvar, Mutex};
use rustc_hash::FxHashMap;

use crate::{
    error::CreateError, topic::validate_topic_name, ParticipantId, TopicDescriptor, TopicType,
};

/// A participant's shared state: its identity and whether it was killed.
#[derive(Debug)]
pub(crate) struct PartState {
    pub(crate) id: ParticipantId,
    pub(crate) name: String,
    killed: AtomicBool,
    killed_at: Mutex<Option<Instant>>,
}

impl PartState {
    #[cfg_attr(not(feature = "dds"), allow(dead_code))]
    pub(crate) fn new(id: ParticipantId, name: &str) -> PartState {
        PartState {
            id,
            name: name.to_owned(),
            killed: AtomicBool::new(false),
            killed_at: Mutex::new(None),
        }
    }
    pub(crate) fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }
    /// When the participant stopped asserting liveliness, if it did.
    pub(crate) fn killed_at(&self) -> Option<Instant> {
        *self.killed_at.lock()
    }
    pub(crate) fn kill(&self) {
        *self.killed_at.lock() = Some(Instant::now());
        self.killed.store(true, Ordering::Release);
    }
}

/// Something with timed policies the monitor must check.
pub(crate) trait Timed: Send + Sync {
    /// Applies everything due at `now`; returns when to look again.
    fn check(&self, now: Instant) -> Option<Instant>;
}

#[derive(Default)]
struct MonitorState {
    topics: Vec<Weak<dyn Timed>>,
    started: bool,
    shutdown: bool,
    kicked: bool,
}

/// The single thread that owns timed-policy enforcement for a domain.
#[derive(Default)]
pub(crate) struct Monitor {
    state: Mutex<MonitorState>,
    cv: Condvar,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Monitor")
    }
}

/// Longest the monitor sleeps when nothing is due (it is also kicked).
const IDLE_CHECK: Duration = Duration::from_millis(250);

impl Monitor {
    pub(crate) fn watch(self: &Arc<Self>, topic: Weak<dyn Timed>) {
        let mut st = self.state.lock();
        st.topics.push(topic);
        st.kicked = true;
        if !st.started {
            st.started = true;
            let me = Arc::clone(self);
            thread::Builder::new()
                .name("twin-bus-monitor".into())
                .spawn(move || me.run())
                .expect("spawning the bus monitor thread failed: out of threads?");
        }
        self.cv.notify_one();
    }

    /// Wakes the monitor so it recomputes its next deadline.
    pub(crate) fn kick(&self) {
        let mut st = self.state.lock();
        st.kicked = true;
        self.cv.notify_one();
    }

    fn run(&self) {
        loop {
            let topics: Vec<Arc<dyn Timed>> = {
                let mut st = self.state.lock();
                if st.shutdown {
                    return;
                }
                st.kicked = false;
                st.topics.retain(|w| w.strong_count() > 0);
                st.topics.iter().filter_map(Weak::upgrade).collect()
            };
            let now = Instant::now();
            let next = topics.iter().filter_map(|t| t.check(now)).min();
            drop(topics);
            let mut st = self.state.lock();
            if st.shutdown {
                return;
            }
            if !st.kicked {
                let until = next
                    .unwrap_or(now + IDLE_CHECK)
                    .min(Instant::now() + IDLE_CHECK);
                self.cv.wait_until(&mut st, until);
            }
        }
    }

    fn shutdown(&self) {
        self.state.lock().shutdown = true;
        self.cv.notify_one();
    }
}

/// Type-erased counters of a topic, for discovery tools.
pub(crate) trait TopicStats: Send + Sync {
    /// (writers, readers, samples written).
    fn counts(&self) -> (usize, usize, u64);
}

impl<T: TopicType> TopicStats for topic::TopicCore<T> {
    fn counts(&self) -> (usize, usize, u64) {
        let (w, r) = self.endpoint_counts();
        (w, r, self.written.load(Ordering::Relaxed))
    }
}

struct TopicEntry {
    descriptor: TopicDescriptor,
    core: Arc<dyn Any + Send + Sync>,
    stats: Arc<dyn TopicStats>,
}

/// An in-memory data space.
pub(crate) struct Domain {
    topics: Mutex<FxHashMap<String, TopicEntry>>,
    participants: Mutex<Vec<Arc<PartState>>>,
    next_entity: AtomicU64,
    pub(crate) monitor: Arc<Monitor>,
}

impl std::fmt::Debug for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Domain")
            .field("topics", &self.topics.lock().len())
            .finish()
    }
}

impl Drop for Domain {
    fn drop(&mut self) {
        self.monitor.shutdown();
    }
}

impl Domain {
    pub(crate) fn new() -> Arc<Domain> {
        Arc::new(Domain {
            topics: Mutex::default(),
            participants: Mutex::default(),
            next_entity: AtomicU64::new(1),
            monitor: Arc::default(),
        })
    }

    pub(crate) fn next_entity_id(&self) -> u64 {
        self.next_entity.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn add_participant(&self, name: &str) -> Arc<PartState> {
        let mut parts = self.participants.lock();
        let p = Arc::new(PartState {
            id: ParticipantId(parts.len() as u32 + 1),
            name: name.to_owned(),
            killed: AtomicBool::new(false),
            killed_at: Mutex::new(None),
        });
        parts.push(Arc::clone(&p));
        p
    }

    pub(crate) fn participants(&self) -> Vec<(ParticipantId, String, bool)> {
        self.participants
            .lock()
            .iter()
            .map(|p| (p.id, p.name.clone(), p.is_killed()))
            .collect()
    }

    pub(crate) fn participant_name(&self, id: ParticipantId) -> Option<String> {
        let parts = self.participants.lock();
        parts
            .get((id.0 as usize).checked_sub(1)?)
            .map(|p| p.name.clone())
    }

    /// Finds or creates the topic `name` for type `T`.
    pub(crate) fn topic<T: TopicType>(
        self: &Arc<Self>,
        name: &str,
    ) -> Result<Arc<topic::TopicCore<T>>, CreateError> {
        validate_topic_name(name).map_err(|reason| CreateError::InvalidTopicName {
            topic: name.to_owned(),
            reason,
        })?;
        let mut topics = self.topics.lock();
        if let Some(e) = topics.get(name) {
            return Arc::clone(&e.core)
                .downcast::<topic::TopicCore<T>>()
                .map_err(|_| CreateError::TypeMismatch {
                    topic: name.to_owned(),
                    existing: format!("{}@{}", e.descriptor.type_name, e.descriptor.version),
                    requested: format!("{}@{}", T::TYPE_NAME, T::VERSION),
                });
        }
        let core = Arc::new(topic::TopicCore::<T>::new(
            name,
            Arc::downgrade(&self.monitor),
        ));
        let descriptor = TopicDescriptor {
            name: name.to_owned(),
            type_name: T::TYPE_NAME,
            version: T::VERSION,
        };
        let any: Arc<dyn Any + Send + Sync> = Arc::clone(&core) as _;
        let stats: Arc<dyn TopicStats> = Arc::clone(&core) as _;
        topics.insert(
            name.to_owned(),
            TopicEntry {
                descriptor,
                core: any,
                stats,
            },
        );
        Ok(core)
    }

    pub(crate) fn topic_infos(&self) -> Vec<crate::TopicInfo> {
        let mut v: Vec<_> = self
            .topics
            .lock()
            .values()
            .map(|e| {
                let (writers, readers, samples_written) = e.stats.counts();
                crate::TopicInfo {
                    descriptor: e.descriptor.clone(),
                    writers,
                    readers,
                    samples_written,
                }
            })
            .collect();
        v.sort_by(|a, b| a.descriptor.name.cmp(&b.descriptor.name));
        v
    }
}
