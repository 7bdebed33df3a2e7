//! One shared bus reader per watched topic, conflated to the last value per
//! instance, from which every client builds its own frames at its own rate.
//!
//! The bus side never waits: taps are best-effort, keep-last-1 readers, and
//! are drained only when some client is due for a frame. A client that is
//! slow to receive misses intermediate values of an instance, never the
//! newest one, and its backlog is bounded by the number of instances.

use std::{
    collections::HashMap,
    fmt::Write as _,
    sync::{Arc, Mutex, MutexGuard},
};

use twin_bus::{Bus, Participant};

use crate::{
    registry::{Tap, Update},
    FeedError, Registry, Role,
};

/// The newest value of one instance.
struct Latest {
    seq: u64,
    sim_ns: Option<u64>,
    value: Option<Arc<str>>,
}

/// What a channel holds behind its lock.
struct ChannelState {
    /// The topic's reader (or snapshot taker).
    tap: Box<dyn Tap>,
    /// Sequence of the newest update; every update gets the next number.
    seq: u64,
    /// Samples taken from the bus since the channel opened.
    received: u64,
    /// Per instance key (JSON text); disposed instances stay as tombstones
    /// (`value: None`), bounded by the number of instances ever seen.
    latest: HashMap<String, Latest>,
    scratch: Vec<Update>,
}

/// A watched topic.
pub(crate) struct Channel {
    pub(crate) topic: String,
    pub(crate) role: Role,
    state: Mutex<ChannelState>,
}

/// Locks `m`, recovering the data if a panicking thread poisoned it (the
/// protected state stays consistent: every update is a single insert).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Channel {
    /// Takes what arrived from the bus, then appends to `out` a data frame
    /// with every instance updated after `*last_seq`, and advances
    /// `*last_seq`. Returns the number of samples in the frame (0: nothing
    /// appended).
    pub(crate) fn frame_since(&self, last_seq: &mut u64, out: &mut String) -> usize {
        let mut st = lock(&self.state);
        let st = &mut *st;
        st.scratch.clear();
        st.tap.drain(&mut st.scratch);
        for u in st.scratch.drain(..) {
            st.received += 1;
            if st
                .latest
                .get(&u.key)
                .is_some_and(|l| l.value.as_deref() == u.value.as_deref() && l.sim_ns == u.sim_ns)
            {
                continue; // unchanged (snapshots repeat static values)
            }
            st.seq += 1;
            st.latest.insert(
                u.key,
                Latest {
                    seq: st.seq,
                    sim_ns: u.sim_ns,
                    value: u.value.map(Arc::from),
                },
            );
        }
        if st.seq <= *last_seq {
            return 0;
        }
        let topic = serde_json::to_string(&self.topic).unwrap_or_else(|_| "\"?\"".into());
        let _ = write!(
            out,
            r#"{{"type":"data","topic":{topic},"seq":{},"received":{},"samples":["#,
            st.seq, st.received
        );
        let mut n = 0;
        for (key, l) in &st.latest {
            if l.seq <= *last_seq {
                continue;
            }
            if n > 0 {
                out.push(',');
            }
            n += 1;
            let _ = write!(out, "[{key},");
            match l.sim_ns {
                Some(t) => {
                    let _ = write!(out, "{t},");
                }
                None => out.push_str("null,"),
            }
            out.push_str(l.value.as_deref().unwrap_or("null"));
            out.push(']');
        }
        out.push_str("]}");
        *last_seq = st.seq;
        n
    }
}

/// Shared readers of the watched topics, with subscriber counts.
pub(crate) struct Hub {
    /// Topic lookups (name → type name) for new subscriptions.
    bus: Bus,
    participant: Arc<Participant>,
    registry: Registry,
    /// Open channels with their subscriber counts; a channel (and its bus
    /// reader) exists only while someone watches its topic.
    channels: Mutex<HashMap<String, (Arc<Channel>, usize)>>,
}

impl Hub {
    /// A hub with its own participant, `dashboard-feed`, for every tap.
    pub(crate) fn new(bus: Bus, registry: Registry) -> Self {
        let participant = Arc::new(bus.participant("dashboard-feed"));
        Hub {
            bus,
            participant,
            registry,
            channels: Mutex::new(HashMap::new()),
        }
    }

    /// The decoders in use.
    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Opens (or shares) the channel of `topic`.
    pub(crate) fn subscribe(&self, topic: &str) -> Result<Arc<Channel>, FeedError> {
        let mut map = lock(&self.channels);
        if let Some((ch, n)) = map.get_mut(topic) {
            *n += 1;
            return Ok(Arc::clone(ch));
        }
        let info = self
            .bus
            .topics()
            .into_iter()
            .find(|t| t.descriptor.name == topic)
            .ok_or_else(|| FeedError::UnknownTopic {
                topic: topic.to_owned(),
            })?;
        let type_name = info.descriptor.type_name;
        let no_decoder = || FeedError::NoDecoder {
            topic: topic.to_owned(),
            type_name: type_name.to_owned(),
        };
        let role = self.registry.role(type_name).ok_or_else(no_decoder)?;
        let tap = self
            .registry
            .open(&self.participant, type_name, topic)
            .ok_or_else(no_decoder)?
            .map_err(|e| FeedError::Bus {
                topic: topic.to_owned(),
                reason: e.to_string(),
            })?;
        let ch = Arc::new(Channel {
            topic: topic.to_owned(),
            role,
            state: Mutex::new(ChannelState {
                tap,
                seq: 0,
                received: 0,
                latest: HashMap::new(),
                scratch: Vec::new(),
            }),
        });
        map.insert(topic.to_owned(), (Arc::clone(&ch), 1));
        Ok(ch)
    }

    /// Releases one subscription of `topic`; the last one closes the reader.
    pub(crate) fn unsubscribe(&self, topic: &str) {
        let mut map = lock(&self.channels);
        if let Some((_, n)) = map.get_mut(topic) {
            *n -= 1;
            if *n == 0 {
                map.remove(topic);
            }
        }
    }

    /// Subscriber counts per watched topic.
    pub(crate) fn watched(&self) -> HashMap<String, usize> {
        lock(&self.channels)
            .iter()
            .map(|(k, (_, n))| (k.clone(), *n))
            .collect()
    }
}
