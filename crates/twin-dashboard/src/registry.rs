//! Topic decoders: which bus types the dashboard can show, and in what role.
//!
//! The bus is typed, so the dashboard can read a topic only if it knows the
//! Rust type behind the topic's type name. A [`Registry`] maps type names
//! ([`TopicType::TYPE_NAME`]) to a factory that opens a reader of that type
//! and turns its samples into JSON. New topics plug in with one call:
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use twin_bus::TopicType;
//! use twin_dashboard::{Registry, Role};
//!
//! #[derive(Clone, Debug, Serialize, Deserialize)]
//! struct Beacon { id: u32, rssi_dbm: f64 }
//! impl TopicType for Beacon {
//!     const TYPE_NAME: &'static str = "doc::Beacon";
//!     type Key = u32;
//!     fn key(&self) -> u32 { self.id }
//! }
//!
//! let mut registry = Registry::with_protocol();
//! registry.register::<Beacon>(Role::Data);
//! assert_eq!(registry.role("doc::Beacon"), Some(Role::Data));
//! ```

use std::{
    collections::{HashMap, HashSet},
    fmt,
    sync::Arc,
    time::{Duration, Instant},
};

use serde::Serialize;
use twin_bus::{
    CreateError, InstanceState, Participant, Reader, ReaderQos, Sample, Topic, TopicType,
};
use twin_federation::{
    proto::{AssistantAnswer, AssistantQuestion},
    ControlState, FederationStatus,
};

/// Shortest interval between two snapshots of a transient-local topic.
pub const SNAPSHOT_EVERY: Duration = Duration::from_millis(30);

/// What the page does with a topic's samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Node positions: values shaped `{id, x_m, y_m, z_m, vx_mps, vy_mps}`
    /// (local east-north-up metres and metres per second), drawn in the
    /// network view.
    Positions,
    /// Routes: values shaped `{flow, hops: [node id, …]}`, drawn as
    /// polylines through the nodes' positions.
    Routes,
    /// Federation protocol (state, status), shown in the federation panel.
    Federation,
    /// Link quality: values shaped `{links: [{a, b, snr_db, pdr}, …]}` (node
    /// ids of the positions topic in the same group), drawn as lines
    /// coloured by delivery probability.
    Links,
    /// Transmissions: values shaped `{frames: [count per node id]}`
    /// (cumulative); a node flashes when its count grows.
    Transmissions,
    /// Brain region geometry: values shaped `{labels: [..], centres_mm:
    /// [[x, y, z], ..]}`, drawn as the brain view's regions.
    BrainRegions,
    /// Brain monitor output: values shaped `{monitor, t, voi: [names],
    /// regions: N, values: [voi × N, row-major]}`, colouring the regions
    /// and feeding the traces.
    BrainMonitor,
    /// Stimuli: values shaped `{variable, amplitude: [per region]}`;
    /// regions with a non-zero amplitude are marked in the brain view. A
    /// value may also carry `onsets: [sim ns, …]` (drawn as markers on the
    /// traces) and `targets: [region, …]` (marked while the stimulus is off).
    BrainStimulus,
    /// SEEG/EEG channels: values shaped `{t, labels: [..], values: [..]}`
    /// (one value per channel), drawn as channel traces.
    Channels,
    /// Assistant answers ([`AssistantAnswer`]), shown in the assistant panel.
    Assistant,
    /// Anything else: listed, subscribable, shown as raw values.
    Data,
}

/// One decoded update taken from the bus.
#[derive(Debug)]
pub(crate) struct Update {
    /// The instance key as JSON text.
    pub(crate) key: String,
    /// The writer's simulation-time stamp [ns], if any.
    pub(crate) sim_ns: Option<u64>,
    /// The value as JSON text; `None` when the instance was disposed or lost
    /// its writers.
    pub(crate) value: Option<String>,
}

/// An open reader of one topic that yields JSON.
pub(crate) trait Tap: Send {
    /// Appends everything that arrived since the last call to `out`.
    fn drain(&mut self, out: &mut Vec<Update>);
}

type Factory = dyn Fn(&Arc<Participant>, &str) -> Result<Box<dyn Tap>, CreateError> + Send + Sync;

#[derive(Clone)]
struct Entry {
    role: Role,
    factory: Arc<Factory>,
}

/// Type name → how to read and show topics of that type.
#[derive(Clone, Default)]
pub struct Registry {
    by_type: HashMap<&'static str, Entry>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<_> = self.by_type.keys().collect();
        names.sort();
        f.debug_struct("Registry").field("types", &names).finish()
    }
}

impl Registry {
    /// An empty registry: no topic can be shown.
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry with the federation protocol's observer topics
    /// (`twin/control/state`, `twin/federation/status`) and the assistant's
    /// questions and answers.
    pub fn with_protocol() -> Self {
        let mut r = Self::new();
        r.register_durable::<ControlState>(Role::Federation);
        r.register_durable::<FederationStatus>(Role::Federation);
        r.register::<AssistantQuestion>(Role::Data);
        r.register::<AssistantAnswer>(Role::Assistant);
        r
    }

    /// Registers `T`, sent to the page as `T` serialises. Readers are
    /// volatile: values appear with the next write.
    pub fn register<T: TopicType>(&mut self, role: Role) -> &mut Self {
        self.insert::<T, T, _>(role, false, |v: &T| v.clone())
    }

    /// Registers `T` as a transient-local topic: instead of receiving every
    /// sample, the dashboard takes a snapshot of the writers' last values
    /// when a client is due for a frame (at most every [`SNAPSHOT_EVERY`]),
    /// so writers pay nothing between snapshots. Use it only for types
    /// whose writers are transient-local: a volatile writer has nothing to
    /// replay.
    pub fn register_durable<T: TopicType>(&mut self, role: Role) -> &mut Self {
        self.insert::<T, T, _>(role, true, |v: &T| v.clone())
    }

    /// Registers `T` converted by `map` first, e.g. to the shape a [`Role`]
    /// expects; `durable` as in [`Registry::register_durable`].
    pub fn register_mapped<T, V, F>(&mut self, role: Role, durable: bool, map: F) -> &mut Self
    where
        T: TopicType,
        V: Serialize + 'static,
        F: Fn(&T) -> V + Send + Sync + Clone + 'static,
    {
        self.insert::<T, V, F>(role, durable, map)
    }

    fn insert<T, V, F>(&mut self, role: Role, durable: bool, map: F) -> &mut Self
    where
        T: TopicType,
        V: Serialize + 'static,
        F: Fn(&T) -> V + Send + Sync + Clone + 'static,
    {
        let factory =
            move |p: &Arc<Participant>, name: &str| -> Result<Box<dyn Tap>, CreateError> {
                let topic = p.topic::<T>(name)?;
                if durable {
                    return Ok(Box::new(SnapshotTap {
                        participant: Arc::clone(p),
                        topic,
                        map: map.clone(),
                        taken: None,
                        keys: HashSet::new(),
                        seen: HashSet::new(),
                    }));
                }
                // Best effort, last values per instance: the bus never waits for
                // the dashboard, and a slow page sees the newest data. Depth 2
                // so that an instance-state notification does not displace the
                // last value.
                let qos = ReaderQos::default().best_effort().keep_last(2);
                let reader = p.reader(&topic, qos)?;
                Ok(Box::new(StreamTap {
                    reader,
                    map: map.clone(),
                    buf: Vec::new(),
                }))
            };
        self.by_type.insert(
            T::TYPE_NAME,
            Entry {
                role,
                factory: Arc::new(factory),
            },
        );
        self
    }

    /// The role of type `type_name`, or `None` if it is not registered.
    pub fn role(&self, type_name: &str) -> Option<Role> {
        self.by_type.get(type_name).map(|e| e.role)
    }

    /// Opens a tap on topic `name` of type `type_name`.
    pub(crate) fn open(
        &self,
        p: &Arc<Participant>,
        type_name: &str,
        name: &str,
    ) -> Option<Result<Box<dyn Tap>, CreateError>> {
        self.by_type.get(type_name).map(|e| (e.factory)(p, name))
    }
}

/// JSON text of `v`; `None` (and a warning) if its Serialize impl fails,
/// which is a bug in that impl: the sample is skipped.
fn json<T: TopicType, V: Serialize + ?Sized>(v: &V) -> Option<String> {
    match serde_json::to_string(v) {
        Ok(j) => Some(j),
        Err(e) => {
            tracing::warn!("dashboard: cannot encode a {}: {e}", T::TYPE_NAME);
            None
        }
    }
}

/// A reader attached for as long as the topic is watched: sees every sample.
struct StreamTap<T: TopicType, F> {
    reader: Reader<T>,
    map: F,
    buf: Vec<Sample<T>>,
}

impl<T, V, F> Tap for StreamTap<T, F>
where
    T: TopicType,
    V: Serialize,
    F: Fn(&T) -> V + Send,
{
    fn drain(&mut self, out: &mut Vec<Update>) {
        self.buf.clear();
        self.reader.take_into(&mut self.buf, usize::MAX);
        for s in self.buf.drain(..) {
            let Some(key) = json::<T, _>(&s.key) else {
                continue;
            };
            let value = match (&s.value, s.info.state) {
                (Some(v), _) => match json::<T, _>(&(self.map)(v)) {
                    Some(j) => Some(j),
                    None => continue,
                },
                // Deleted: the page removes it.
                (None, InstanceState::NotAliveDisposed) => None,
                // Its writer left (e.g. the federation ended): keep showing
                // the last value.
                (None, _) => continue,
            };
            out.push(Update {
                key,
                sim_ns: s.info.sim_time.map(|t| t.as_nanos()),
                value,
            });
        }
    }
}

/// Snapshots of a transient-local topic: a reader is attached only for the
/// moment it takes to replay the writers' last values.
struct SnapshotTap<T: TopicType, F> {
    participant: Arc<Participant>,
    topic: Topic<T>,
    map: F,
    taken: Option<Instant>,
    /// Keys (JSON) present in the previous snapshot.
    keys: HashSet<String>,
    seen: HashSet<String>,
}

impl<T, V, F> Tap for SnapshotTap<T, F>
where
    T: TopicType,
    V: Serialize,
    F: Fn(&T) -> V + Send,
{
    fn drain(&mut self, out: &mut Vec<Update>) {
        if self.taken.is_some_and(|t| t.elapsed() < SNAPSHOT_EVERY) {
            return;
        }
        self.taken = Some(Instant::now());
        let qos = ReaderQos::default()
            .best_effort()
            .transient_local()
            .keep_last(1);
        let samples = match self.participant.reader(&self.topic, qos) {
            Ok(r) => r.take(),
            Err(e) => {
                tracing::warn!("dashboard: snapshot of {}: {e}", self.topic.name());
                return;
            }
        };
        self.seen.clear();
        for s in samples {
            let Some(v) = &s.value else { continue };
            let (Some(key), Some(value)) = (json::<T, _>(&s.key), json::<T, _>(&(self.map)(v)))
            else {
                continue;
            };
            self.seen.insert(key.clone());
            out.push(Update {
                key,
                sim_ns: s.info.sim_time.map(|t| t.as_nanos()),
                value: Some(value),
            });
        }
        // Instances gone since the last snapshot were disposed (or their
        // writers left without history to replay).
        for gone in self.keys.difference(&self.seen) {
            out.push(Update {
                key: gone.clone(),
                sim_ns: None,
                value: None,
            });
        }
        std::mem::swap(&mut self.keys, &mut self.seen);
    }
}
