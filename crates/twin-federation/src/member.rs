//! What a member implements ([`Member`]) and what it sees ([`Ctx`]).
//!
//! A member never touches the federation protocol: the driver delivers
//! grants as calls to [`Member::advance`], and the [`TimedReader`]s and
//! [`TimedWriter`]s it creates through [`Ctx`] stamp and filter data by
//! simulation time. The visibility rule that makes runs deterministic:
//! data stamped `t` becomes visible to a timed member once it is granted a
//! time strictly after `t`, and visible samples are returned in
//! (stamp, writer participant, sequence) order. Untimed members see data
//! as soon as it arrives.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Weak,
    },
};

use parking_lot::Mutex;
use twin_bus::{
    Condition, CreateError, Ownership, Participant, ParticipantId, PublishError, Reader, ReaderQos,
    Reliability, Sample, TopicType, Writer, WriterQos,
};
use twin_core::{Epoch, SimTime};

use crate::{proto::Written, TimeMode};

/// What a member asks for after a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Continue with the mode's default (stepped: `now + dt`; event: idle).
    Default,
    /// Event members: the time of the next internal event.
    At(SimTime),
    /// Event members: no internal event pending; wake me for data only.
    Idle,
}

/// A member failed. The driver reports it and the member leaves.
#[derive(Debug, thiserror::Error)]
pub enum MemberError {
    /// A bus entity could not be created.
    #[error("bus: {0}")]
    Bus(#[from] CreateError),
    /// A write failed (the sample is dropped).
    #[error("publish on `{topic}` failed: {reason}")]
    Publish {
        /// Topic.
        topic: String,
        /// Why.
        reason: String,
    },
    /// Anything else, described by the member.
    #[error("{0}")]
    Failed(String),
}

impl<T> From<PublishError<T>> for MemberError {
    fn from(e: PublishError<T>) -> Self {
        let topic = match &e {
            PublishError::Timeout { topic, .. } | PublishError::Closed { topic, .. } => {
                topic.clone()
            }
        };
        let reason = match e {
            PublishError::Timeout { waited, .. } => format!("reader full for {waited:?}"),
            PublishError::Closed { .. } => "participant closed".to_owned(),
        };
        MemberError::Publish { topic, reason }
    }
}

/// A federation member: a simulator, a service, a recorder.
pub trait Member: Send {
    /// Creates the member's readers and writers. Called once, during initialise.
    fn init(&mut self, ctx: &mut Ctx) -> Result<(), MemberError>;

    /// Advances to `to` (timed members). Called once per grant.
    fn advance(&mut self, _ctx: &mut Ctx, _to: SimTime) -> Result<Next, MemberError> {
        Ok(Next::Default)
    }

    /// Handles whatever data arrived (untimed members). Called whenever the
    /// driver polls; must return quickly when nothing is there.
    fn react(&mut self, _ctx: &mut Ctx) -> Result<(), MemberError> {
        Ok(())
    }

    /// Called when the federation's state changes.
    fn on_state(&mut self, _ctx: &mut Ctx, _state: crate::FedState) {}

    /// Called once when the federation ends or the member leaves.
    fn finish(&mut self, _ctx: &mut Ctx) -> Result<(), MemberError> {
        Ok(())
    }
}

/// The member's view of the federation: its participant and clock.
#[derive(Debug)]
pub struct Ctx {
    pub(crate) participant: Participant,
    pub(crate) now: SimTime,
    pub(crate) epoch: Epoch,
    pub(crate) mode: TimeMode,
    pub(crate) published_min: Arc<AtomicU64>,
    pub(crate) seed: u64,
    pub(crate) leave_requested: bool,
    /// Samples written per timed writer, for the member's watermarks.
    pub(crate) counts: Mutex<Vec<Arc<WriteCount>>>,
    /// The member's reliable shared-ownership readers, for waiting on
    /// other members' watermarks.
    pub(crate) tracked: Mutex<Vec<Weak<dyn Tracked>>>,
}

/// One timed writer's count of samples written.
#[derive(Debug)]
pub(crate) struct WriteCount {
    topic: Arc<str>,
    n: AtomicU64,
    /// Transient-local: late-matched readers still get its latest samples.
    durable: bool,
    /// History depth per instance (keep-all: `u32::MAX`).
    depth: u32,
    /// Reliable keep-all: a write can block until readers acknowledge.
    blocking: bool,
    /// While initialising (durable writers): samples written per instance
    /// (by key hash), to count what a late-matched reader receives.
    init: Mutex<Option<HashMap<u64, u32>>>,
}

/// What the driver needs of a member's reader to wait for watermarks.
pub(crate) trait Tracked: Send + Sync {
    /// The topic read.
    fn topic(&self) -> &str;
    /// Whether the reader is transient-local and keeps all (receives, and
    /// keeps until taken, every historical sample written before it matched).
    fn durable(&self) -> bool;
    /// How many samples numbered up to `upto` have been received from
    /// participant `member` (after moving what arrived into the buffer).
    fn received(&self, member: &str, upto: u64) -> u64;
    /// The member has stepped: stops recording sequence numbers for
    /// [`Tracked::received`].
    fn settle(&self);
    /// Moves what arrived into the reader's buffer; then the highest
    /// sequence number received from participant `member` (0: none).
    fn seen(&self, member: &str) -> u64;
    /// Whether a writer of participant `member` is matched with the reader.
    fn matched_with(&self, member: &str) -> bool;
    /// Triggers when samples arrive.
    fn condition(&self) -> Condition;
}

const NONE: u64 = u64::MAX;

impl Ctx {
    pub(crate) fn new(participant: Participant, mode: TimeMode, epoch: Epoch, seed: u64) -> Ctx {
        Ctx {
            participant,
            now: SimTime::ZERO,
            epoch,
            mode,
            published_min: Arc::new(AtomicU64::new(NONE)),
            seed,
            leave_requested: false,
            counts: Mutex::new(Vec::new()),
            tracked: Mutex::new(Vec::new()),
        }
    }

    /// This member's watermarks: per topic, the highest count among its
    /// timed writers there. With `initial` (at the end of initialisation):
    /// every timed writer, even one that wrote nothing yet (the discovery
    /// barrier waits until the readers of its topic have discovered it);
    /// only a transient-local one promises samples (`held`): those its
    /// history holds for late-matched readers (per instance, at most its
    /// depth).
    pub(crate) fn written(&self, me: &Arc<str>, initial: bool) -> Vec<Written> {
        let mut out: Vec<Written> = Vec::new();
        for c in self.counts.lock().iter() {
            let n = c.n.load(Ordering::Acquire);
            let held = if initial && c.durable {
                c.init
                    .lock()
                    .take()
                    .map_or(0, |m| m.values().map(|&k| u64::from(k.min(c.depth))).sum())
            } else {
                0
            };
            if n == 0 && !initial {
                continue;
            }
            match out.iter_mut().find(|w| w.topic == c.topic) {
                Some(w) => {
                    w.count = w.count.max(n);
                    w.held = w.held.max(held);
                }
                None => out.push(Written {
                    member: Arc::clone(me),
                    topic: Arc::clone(&c.topic),
                    count: n,
                    initial,
                    held,
                }),
            }
        }
        out
    }

    /// Asks to leave the federation after the current step.
    pub fn leave(&mut self) {
        self.leave_requested = true;
    }

    /// The member's name.
    pub fn name(&self) -> &str {
        self.participant.name()
    }
    /// The member's current (granted) time.
    pub fn now(&self) -> SimTime {
        self.now
    }
    /// The scenario epoch, for calendar presentation.
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }
    /// The member's time mode.
    pub fn mode(&self) -> TimeMode {
        self.mode
    }
    /// The scenario seed, for members that draw random numbers.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// The member's bus participant, for untimed access.
    pub fn participant(&self) -> &Participant {
        &self.participant
    }

    /// A writer whose samples are stamped with the member's current time.
    pub fn writer<T: TopicType>(
        &self,
        topic: &str,
        qos: WriterQos,
    ) -> Result<TimedWriter<T>, MemberError> {
        let t = self.participant.topic::<T>(topic)?;
        let count = Arc::new(WriteCount {
            topic: topic.into(),
            n: AtomicU64::new(0),
            durable: qos.durability != twin_bus::Durability::Volatile,
            depth: match qos.history {
                twin_bus::History::KeepAll => u32::MAX,
                twin_bus::History::KeepLast(d) => d,
            },
            blocking: qos.history == twin_bus::History::KeepAll
                && matches!(qos.reliability, twin_bus::Reliability::Reliable { .. }),
            init: Mutex::new((qos.durability != twin_bus::Durability::Volatile).then(HashMap::new)),
        });
        self.counts.lock().push(Arc::clone(&count));
        Ok(TimedWriter {
            writer: self.participant.writer(&t, qos)?,
            min: Arc::clone(&self.published_min),
            count,
        })
    }

    /// A reader that applies the time-visibility rule.
    pub fn reader<T: TopicType>(
        &self,
        topic: &str,
        qos: ReaderQos,
    ) -> Result<TimedReader<T>, MemberError> {
        let t = self.participant.topic::<T>(topic)?;
        // Best-effort readers may never see a sample; exclusive ones see
        // only the owner's: neither can wait for a watermark.
        let waits = matches!(qos.reliability, Reliability::Reliable { .. })
            && qos.ownership == Ownership::Shared;
        let durable = qos.durability != twin_bus::Durability::Volatile
            && qos.history == twin_bus::History::KeepAll;
        let core = Arc::new(ReaderCore {
            reader: self.participant.reader(&t, qos)?,
            bus: self.participant.bus().clone(),
            durable,
            topic: topic.into(),
            state: Mutex::new(Held {
                held: Vec::new(),
                seen: HashMap::new(),
                early: durable.then(HashMap::new),
                names: HashMap::new(),
            }),
        });
        if waits {
            let weak: Weak<dyn Tracked> = Arc::downgrade(&core) as Weak<dyn Tracked>;
            let mut tr = self.tracked.lock();
            tr.retain(|w| w.strong_count() > 0);
            tr.push(weak);
        }
        Ok(TimedReader { core })
    }

    /// Whether a timed writer of this member can block on a write
    /// (reliable keep-all: until its readers acknowledge).
    pub(crate) fn has_blocking_writer(&self) -> bool {
        self.counts.lock().iter().any(|c| c.blocking)
    }

    pub(crate) fn take_published_min(&self) -> Option<SimTime> {
        let v = self.published_min.swap(NONE, Ordering::AcqRel);
        (v != NONE).then_some(SimTime::from_nanos(v))
    }
}

/// A writer that stamps samples with the member's simulation time.
#[derive(Debug)]
pub struct TimedWriter<T: TopicType> {
    writer: Writer<T>,
    min: Arc<AtomicU64>,
    count: Arc<WriteCount>,
}

impl<T: TopicType> TimedWriter<T> {
    /// Writes `value` stamped with the member's current time.
    pub fn write(&self, ctx: &Ctx, value: T) -> Result<(), PublishError<T>> {
        self.write_at(value, ctx.now)
    }
    /// Writes `value` stamped `t` (must not be before the member's time).
    pub fn write_at(&self, value: T, t: SimTime) -> Result<(), PublishError<T>> {
        self.min.fetch_min(t.as_nanos(), Ordering::AcqRel);
        let key = self.count.durable.then(|| value.key());
        self.writer.write_at(value, t)?;
        self.count.n.fetch_add(1, Ordering::Release);
        if let Some(k) = key {
            if let Some(m) = self.count.init.lock().as_mut() {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                k.hash(&mut h);
                *m.entry(h.finish()).or_insert(0) += 1;
            }
        }
        Ok(())
    }
    /// Disposes an instance.
    pub fn dispose(&self, key: &T::Key) -> bool {
        self.writer.dispose(key)
    }
    /// The underlying bus writer.
    pub fn inner(&self) -> &Writer<T> {
        &self.writer
    }
}

/// A reader that releases samples according to simulation time.
#[derive(Debug)]
pub struct TimedReader<T: TopicType> {
    core: Arc<ReaderCore<T>>,
}

/// A timed reader's state, shared with the driver (see [`Tracked`]).
#[derive(Debug)]
struct ReaderCore<T: TopicType> {
    reader: Reader<T>,
    bus: twin_bus::Bus,
    durable: bool,
    topic: Arc<str>,
    state: Mutex<Held<T>>,
}

#[derive(Debug)]
struct Held<T: TopicType> {
    /// Received, not yet visible.
    held: Vec<Sample<T>>,
    /// Highest sequence number received per writing participant.
    seen: HashMap<ParticipantId, u64>,
    /// Every sequence number received per writing participant, until the
    /// member's first step (see [`Written::initial`]); then `None`.
    early: Option<HashMap<ParticipantId, Vec<u64>>>,
    /// Names of those participants, as the bus knows them.
    names: HashMap<ParticipantId, String>,
}

impl<T: TopicType> ReaderCore<T> {
    /// Whether participant `id` is named `member` (names are looked up
    /// once known to the bus).
    fn is(
        &self,
        names: &mut HashMap<ParticipantId, String>,
        id: ParticipantId,
        member: &str,
    ) -> bool {
        if let Some(n) = names.get(&id) {
            return n == member;
        }
        match self.bus.participant_name(id) {
            Some(n) => names.entry(id).or_insert(n) == member,
            None => false,
        }
    }

    /// Moves what arrived into `h.held`, noting sequence numbers.
    fn pull(&self, h: &mut Held<T>) {
        let from = h.held.len();
        self.reader.take_into(&mut h.held, usize::MAX);
        for s in &h.held[from..] {
            if s.value.is_some() {
                let e = h.seen.entry(s.info.participant).or_insert(0);
                *e = (*e).max(s.info.sequence);
                if let Some(early) = &mut h.early {
                    early
                        .entry(s.info.participant)
                        .or_default()
                        .push(s.info.sequence);
                }
            }
        }
    }
}

impl<T: TopicType> Tracked for ReaderCore<T> {
    fn topic(&self) -> &str {
        &self.topic
    }
    fn durable(&self) -> bool {
        self.durable
    }
    fn seen(&self, member: &str) -> u64 {
        let mut g = self.state.lock();
        let h = &mut *g;
        self.pull(h);
        let mut best = 0;
        for (&id, &seq) in &h.seen {
            if self.is(&mut h.names, id, member) {
                best = best.max(seq);
            }
        }
        best
    }
    fn received(&self, member: &str, upto: u64) -> u64 {
        let mut g = self.state.lock();
        let h = &mut *g;
        self.pull(h);
        let Some(early) = &h.early else { return 0 };
        let mut n = 0;
        for (&id, seqs) in early {
            if self.is(&mut h.names, id, member) {
                n += seqs.iter().filter(|&&q| q <= upto).count() as u64;
            }
        }
        n
    }
    fn settle(&self) {
        self.state.lock().early = None;
    }
    fn matched_with(&self, member: &str) -> bool {
        self.reader
            .matched_writer_names()
            .iter()
            .any(|n| n == member)
    }
    fn condition(&self) -> Condition {
        self.reader.read_condition()
    }
}

fn order_key<T: TopicType>(s: &Sample<T>) -> (SimTime, u32, u64) {
    (
        s.info.sim_time.unwrap_or(SimTime::ZERO),
        s.info.participant.0,
        s.info.sequence,
    )
}

impl<T: TopicType> TimedReader<T> {
    /// Samples visible to the member now, in deterministic order. Timed
    /// members see samples stamped strictly before their current time (and
    /// unstamped ones); untimed members see everything that arrived.
    pub fn take(&mut self, ctx: &Ctx) -> Vec<Sample<T>> {
        if ctx.mode == TimeMode::Untimed {
            let mut h = self.core.state.lock();
            self.core.pull(&mut h);
            return std::mem::take(&mut h.held);
        }
        self.take_before(ctx.now)
    }

    /// Samples stamped strictly before `t` (and unstamped ones), in order.
    pub fn take_before(&mut self, t: SimTime) -> Vec<Sample<T>> {
        let mut h = self.core.state.lock();
        self.core.pull(&mut h);
        let (mut out, keep): (Vec<_>, Vec<_>) = h
            .held
            .drain(..)
            .partition(|s| s.info.sim_time.is_none_or(|st| st < t));
        h.held = keep;
        out.sort_by_key(order_key);
        out
    }

    /// Every sample received so far, visible or not, in order (for a final flush).
    pub fn take_all(&mut self) -> Vec<Sample<T>> {
        let mut h = self.core.state.lock();
        self.core.pull(&mut h);
        let mut out = std::mem::take(&mut h.held);
        out.sort_by_key(order_key);
        out
    }

    /// The underlying bus reader.
    pub fn inner(&self) -> &Reader<T> {
        &self.core.reader
    }
}
