//! Quality-of-service policies, after OMG DDS 1.4 §2.2.3.
//!
//! Writers *offer* and readers *request*; a writer and a reader are matched
//! only if every request-versus-offered (RxO) policy is compatible
//! ([`check_compatible`]) and their partitions intersect. Policies that the
//! in-memory backend enforces: reliability (with writer back-pressure),
//! durability (volatile / transient-local), history, resource limits,
//! deadline, liveliness, lifespan, ownership with strength, partitions.

use std::time::Duration;

/// How hard the bus tries to deliver (DDS §2.2.3.14).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reliability {
    /// Samples may be dropped when a reader's resources are full.
    BestEffort,
    /// No sample is lost: a writer blocks up to `max_blocking_time` when a
    /// keep-all reader is full, then fails with the sample given back.
    Reliable {
        /// How long `write` may block on a full reader.
        max_blocking_time: Duration,
    },
}

/// Whether late-joining readers get data written before they existed (§2.2.3.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Durability {
    /// Only samples written after a reader matched reach it.
    Volatile,
    /// The writer keeps its history per live instance; a matching late joiner
    /// receives it. Disposed and unregistered instances are not replayed.
    TransientLocal,
}

/// How many samples are kept per instance (§2.2.3.18).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum History {
    /// The newest `depth` samples of each instance; older ones are replaced.
    KeepLast(u32),
    /// Every sample until taken, bounded by [`ResourceLimits`].
    KeepAll,
}

/// How a writer's liveliness is established (§2.2.3.11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Liveliness {
    /// Alive while its participant is alive (not killed), lease as given.
    Automatic {
        /// A writer silent for longer than this is declared not alive.
        lease: Duration,
    },
    /// Alive while the writer writes or asserts at least once per lease.
    ManualByTopic {
        /// A writer silent for longer than this is declared not alive.
        lease: Duration,
    },
}

/// Who may update an instance (§2.2.3.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ownership {
    /// Every matched writer's samples reach readers.
    Shared,
    /// Per instance, only the strongest live writer's samples reach readers.
    /// Ties go to the writer with the lower id. When the owner unregisters,
    /// loses liveliness or misses the reader's deadline, the next writer to
    /// write the instance takes it over.
    Exclusive,
}

/// Bounds on a reader's queue (§2.2.3.19).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResourceLimits {
    /// Samples a reader may hold before a reliable writer blocks
    /// (or a best-effort sample is dropped and counted as lost).
    pub max_samples: usize,
    /// Samples per instance a keep-all transient-local writer retains for
    /// late joiners.
    pub max_samples_per_instance: usize,
}

impl Default for ResourceLimits {
    fn default() -> Self {
        ResourceLimits {
            max_samples: 1 << 16,
            max_samples_per_instance: 1024,
        }
    }
}

/// The policy a compatibility check failed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QosPolicy {
    /// Reader requests reliable, writer offers best effort.
    Reliability,
    /// Reader requests transient-local, writer offers volatile.
    Durability,
    /// Writer's deadline period is longer than the reader's.
    Deadline,
    /// Writer's lease is longer than the reader's, or a weaker kind.
    Liveliness,
    /// Ownership kinds differ.
    Ownership,
}

/// What a writer offers.
#[derive(Clone, Debug, PartialEq)]
pub struct WriterQos {
    /// Delivery guarantee.
    pub reliability: Reliability,
    /// Replay to late joiners.
    pub durability: Durability,
    /// Per-instance history kept for late joiners.
    pub history: History,
    /// Retention bounds for the transient-local history.
    pub resource_limits: ResourceLimits,
    /// Period within which the writer promises to update each instance.
    pub deadline: Option<Duration>,
    /// How the writer's liveliness is established.
    pub liveliness: Liveliness,
    /// Samples older than this are discarded before delivery.
    pub lifespan: Option<Duration>,
    /// Ownership kind; must equal the reader's.
    pub ownership: Ownership,
    /// Strength used under exclusive ownership; higher wins.
    pub ownership_strength: i32,
    /// Partitions this writer publishes in; empty means the default partition.
    pub partitions: Vec<String>,
    /// Whether unregistering an instance (including on writer deletion) also
    /// disposes it. DDS defaults this to true; Twin defaults to false so that
    /// an owner leaving hands over without readers seeing a disposal.
    pub autodispose_unregistered: bool,
    /// Batch samples into fewer network messages until the packet is full
    /// or [`crate::Writer::flush`] is called (DDS: Cyclone's writer
    /// batching). Raises throughput, delays single samples; off by default.
    /// The in-memory bus delivers at once either way.
    pub batching: bool,
}

/// What a reader requests.
#[derive(Clone, Debug, PartialEq)]
pub struct ReaderQos {
    /// Required delivery guarantee.
    pub reliability: Reliability,
    /// Whether to receive history written before the reader existed.
    pub durability: Durability,
    /// Samples kept per instance until taken.
    pub history: History,
    /// Queue bounds.
    pub resource_limits: ResourceLimits,
    /// Expected update period per instance; a miss is reported as a status.
    pub deadline: Option<Duration>,
    /// Longest lease the reader accepts from writers.
    pub liveliness: Liveliness,
    /// Ownership kind; must equal the writer's.
    pub ownership: Ownership,
    /// Partitions this reader subscribes to; empty means the default partition.
    /// A `*` in a name matches any sequence of characters.
    pub partitions: Vec<String>,
}

const DEFAULT_BLOCKING: Duration = Duration::from_millis(100);
const INFINITE_LEASE: Duration = Duration::MAX;

impl Default for WriterQos {
    fn default() -> Self {
        WriterQos {
            reliability: Reliability::Reliable {
                max_blocking_time: DEFAULT_BLOCKING,
            },
            durability: Durability::Volatile,
            history: History::KeepLast(1),
            resource_limits: ResourceLimits::default(),
            deadline: None,
            liveliness: Liveliness::Automatic {
                lease: INFINITE_LEASE,
            },
            lifespan: None,
            ownership: Ownership::Shared,
            ownership_strength: 0,
            partitions: Vec::new(),
            autodispose_unregistered: false,
            batching: false,
        }
    }
}

impl Default for ReaderQos {
    fn default() -> Self {
        ReaderQos {
            reliability: Reliability::BestEffort,
            durability: Durability::Volatile,
            history: History::KeepLast(1),
            resource_limits: ResourceLimits::default(),
            deadline: None,
            liveliness: Liveliness::Automatic {
                lease: INFINITE_LEASE,
            },
            ownership: Ownership::Shared,
            partitions: Vec::new(),
        }
    }
}

macro_rules! builder_methods {
    () => {
        /// Reliable delivery with the default 100 ms maximum blocking time.
        pub fn reliable(mut self) -> Self {
            self.reliability = Reliability::Reliable {
                max_blocking_time: DEFAULT_BLOCKING,
            };
            self
        }
        /// Reliable delivery, blocking a writer at most `max` on a full reader.
        pub fn reliable_blocking(mut self, max: Duration) -> Self {
            self.reliability = Reliability::Reliable {
                max_blocking_time: max,
            };
            self
        }
        /// Best-effort delivery.
        pub fn best_effort(mut self) -> Self {
            self.reliability = Reliability::BestEffort;
            self
        }
        /// Transient-local durability.
        pub fn transient_local(mut self) -> Self {
            self.durability = Durability::TransientLocal;
            self
        }
        /// Keep the last `depth` samples per instance (`depth` ≥ 1).
        pub fn keep_last(mut self, depth: u32) -> Self {
            self.history = History::KeepLast(depth.max(1));
            self
        }
        /// Keep every sample until taken.
        pub fn keep_all(mut self) -> Self {
            self.history = History::KeepAll;
            self
        }
        /// Deadline period per instance.
        pub fn deadline(mut self, period: Duration) -> Self {
            self.deadline = Some(period);
            self
        }
        /// Automatic liveliness with the given lease.
        pub fn liveliness_lease(mut self, lease: Duration) -> Self {
            self.liveliness = Liveliness::Automatic { lease };
            self
        }
        /// Exclusive ownership.
        pub fn exclusive(mut self) -> Self {
            self.ownership = Ownership::Exclusive;
            self
        }
        /// Publish or subscribe in these partitions.
        pub fn partitions<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
            self.partitions = names.into_iter().map(Into::into).collect();
            self
        }
        /// Queue and retention bounds.
        pub fn resource_limits(mut self, limits: ResourceLimits) -> Self {
            self.resource_limits = limits;
            self
        }
    };
}

impl WriterQos {
    builder_methods!();
    /// Exclusive ownership with the given strength.
    pub fn exclusive_strength(mut self, strength: i32) -> Self {
        self.ownership = Ownership::Exclusive;
        self.ownership_strength = strength;
        self
    }
    /// Manual liveliness: the writer must write or assert within every lease.
    pub fn manual_liveliness(mut self, lease: Duration) -> Self {
        self.liveliness = Liveliness::ManualByTopic { lease };
        self
    }
    /// Discard samples older than `span` before delivery.
    pub fn lifespan(mut self, span: Duration) -> Self {
        self.lifespan = Some(span);
        self
    }
    /// Batch samples until the packet is full or the writer is flushed.
    pub fn batching(mut self, on: bool) -> Self {
        self.batching = on;
        self
    }
    /// Dispose instances when they are unregistered (the DDS default).
    pub fn autodispose(mut self, on: bool) -> Self {
        self.autodispose_unregistered = on;
        self
    }
}

impl ReaderQos {
    builder_methods!();
}

impl Liveliness {
    /// The lease duration.
    pub fn lease(self) -> Duration {
        match self {
            Liveliness::Automatic { lease } | Liveliness::ManualByTopic { lease } => lease,
        }
    }
    fn rank(self) -> u8 {
        match self {
            Liveliness::Automatic { .. } => 0,
            Liveliness::ManualByTopic { .. } => 1,
        }
    }
}

/// Checks the request-versus-offered rules of DDS §2.2.3: the writer must
/// offer at least what the reader requests.
pub fn check_compatible(w: &WriterQos, r: &ReaderQos) -> Result<(), QosPolicy> {
    if matches!(r.reliability, Reliability::Reliable { .. })
        && w.reliability == Reliability::BestEffort
    {
        return Err(QosPolicy::Reliability);
    }
    if r.durability > w.durability {
        return Err(QosPolicy::Durability);
    }
    match (w.deadline, r.deadline) {
        (None, Some(_)) => return Err(QosPolicy::Deadline),
        (Some(wd), Some(rd)) if wd > rd => return Err(QosPolicy::Deadline),
        _ => {}
    }
    if w.liveliness.rank() < r.liveliness.rank() || w.liveliness.lease() > r.liveliness.lease() {
        return Err(QosPolicy::Liveliness);
    }
    if w.ownership != r.ownership {
        return Err(QosPolicy::Ownership);
    }
    Ok(())
}

/// True if the two partition lists share a partition (`*` globs allowed on
/// either side; an empty list is the default partition `""`).
pub fn partitions_match(a: &[String], b: &[String]) -> bool {
    let default = [String::new()];
    let a = if a.is_empty() { &default[..] } else { a };
    let b = if b.is_empty() { &default[..] } else { b };
    a.iter().any(|x| b.iter().any(|y| glob(x, y) || glob(y, x)))
}

/// Matches `text` against `pattern`, where `*` matches any run of characters.
fn glob(pattern: &str, text: &str) -> bool {
    let Some((head, rest)) = pattern.split_once('*') else {
        return pattern == text;
    };
    let Some(mut text) = text.strip_prefix(head) else {
        return false;
    };
    let parts: Vec<&str> = rest.split('*').collect();
    for (i, part) in parts.iter().enumerate() {
        if i == parts.len() - 1 {
            return text.ends_with(part);
        }
        match text.find(part) {
            Some(pos) => text = &text[pos + part.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rxo_rules() {
        let w = WriterQos::default().best_effort();
        let r = ReaderQos::default().reliable();
        assert_eq!(check_compatible(&w, &r), Err(QosPolicy::Reliability));
        let w = WriterQos::default();
        assert_eq!(
            check_compatible(&w, &ReaderQos::default().transient_local()),
            Err(QosPolicy::Durability)
        );
        let r = ReaderQos::default().deadline(Duration::from_millis(10));
        assert_eq!(check_compatible(&w, &r), Err(QosPolicy::Deadline));
        let w = w.deadline(Duration::from_millis(5));
        assert_eq!(check_compatible(&w, &r), Ok(()));
        assert_eq!(
            check_compatible(&w, &r.exclusive()),
            Err(QosPolicy::Ownership)
        );
        let r = ReaderQos::default().liveliness_lease(Duration::from_secs(1));
        assert_eq!(
            check_compatible(&WriterQos::default(), &r),
            Err(QosPolicy::Liveliness)
        );
    }

    #[test]
    fn partition_globs() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(partitions_match(&[], &[]));
        assert!(!partitions_match(&s(&["a"]), &[]));
        assert!(partitions_match(&s(&["site/*"]), &s(&["site/north"])));
        assert!(partitions_match(&s(&["x", "b*c"]), &s(&["bxxc"])));
        assert!(!partitions_match(&s(&["b*c"]), &s(&["bxxd"])));
        assert!(glob("*", "anything"));
        assert!(glob("a*b*c", "a-b-c"));
        assert!(!glob("a*b*c", "a-c-b"));
    }
}
