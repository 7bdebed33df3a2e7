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

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};

use twin_bus::{
    CreateError, Participant, PublishError, Reader, ReaderQos, Sample, TopicType, Writer, WriterQos,
};
use twin_core::{Epoch, SimTime};

use crate::TimeMode;

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
        }
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
        Ok(TimedWriter {
            writer: self.participant.writer(&t, qos)?,
            min: Arc::clone(&self.published_min),
        })
    }

    /// A reader that applies the time-visibility rule.
    pub fn reader<T: TopicType>(
        &self,
        topic: &str,
        qos: ReaderQos,
    ) -> Result<TimedReader<T>, MemberError> {
        let t = self.participant.topic::<T>(topic)?;
        Ok(TimedReader {
            reader: self.participant.reader(&t, qos)?,
            held: Vec::new(),
        })
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
}

impl<T: TopicType> TimedWriter<T> {
    /// Writes `value` stamped with the member's current time.
    pub fn write(&self, ctx: &Ctx, value: T) -> Result<(), PublishError<T>> {
        self.write_at(value, ctx.now)
    }
    /// Writes `value` stamped `t` (must not be before the member's time).
    pub fn write_at(&self, value: T, t: SimTime) -> Result<(), PublishError<T>> {
        self.min.fetch_min(t.as_nanos(), Ordering::AcqRel);
        self.writer.write_at(value, t)
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
    reader: Reader<T>,
    held: Vec<Sample<T>>,
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
        self.held.extend(self.reader.take());
        if ctx.mode == TimeMode::Untimed {
            return std::mem::take(&mut self.held);
        }
        self.take_before(ctx.now)
    }

    /// Samples stamped strictly before `t` (and unstamped ones), in order.
    pub fn take_before(&mut self, t: SimTime) -> Vec<Sample<T>> {
        self.held.extend(self.reader.take());
        let (mut out, keep): (Vec<_>, Vec<_>) = self
            .held
            .drain(..)
            .partition(|s| s.info.sim_time.is_none_or(|st| st < t));
        self.held = keep;
        out.sort_by_key(order_key);
        out
    }

    /// Every sample received so far, visible or not, in order (for a final flush).
    pub fn take_all(&mut self) -> Vec<Sample<T>> {
        self.held.extend(self.reader.take());
        let mut out = std::mem::take(&mut self.held);
        out.sort_by_key(order_key);
        out
    }

    /// The underlying bus reader.
    pub fn inner(&self) -> &Reader<T> {
        &self.reader
    }
}
