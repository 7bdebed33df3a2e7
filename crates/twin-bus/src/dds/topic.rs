//! Typed topics, writers and readers over Cyclone entities.

use std::{
    collections::HashMap,
    hash::{Hash, Hasher},
    marker::PhantomData,
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc,
    },
    task::Waker,
    time::Instant,
};

use parking_lot::{Condvar, Mutex, RwLock};
use rustc_hash::FxHashMap;
use twin_core::SimTime;

use super::{
    cdr, ffi, ops,
    owners::{Arrival, Owners, Rank},
    schema::Schema,
    DdsParticipant,
};
use crate::{
    status::{Counter, StatusEvent, StatusMask, WriterStatus},
    waitset::{ConditionSource, Notifier},
    CreateError, Durability, History, InstanceHandle, InstanceState, ParticipantId, PublishError,
    QosPolicy, ReaderListener, ReaderQos, Sample, SampleInfo, TopicType, WallTime, WriterId,
    WriterQos,
};

/// A topic on one participant.
#[derive(Debug)]
pub(crate) struct DdsTopic<T> {
    pub(crate) name: String,
    // Dropped before `part`, whose participant owns the topic entity.
    pub(crate) entity: Option<ffi::TopicEntity>,
    pub(crate) part: Arc<DdsParticipant>,
    _t: PhantomData<fn() -> T>,
}

pub(super) fn unsupported(topic: &str, reason: String) -> CreateError {
    CreateError::Unsupported {
        topic: topic.to_owned(),
        reason,
    }
}

impl<T: TopicType> DdsTopic<T> {
    pub(crate) fn new(
        part: Arc<DdsParticipant>,
        name: &str,
    ) -> Result<Arc<DdsTopic<T>>, CreateError> {
        let schema = Schema::of::<T>().map_err(|e| unsupported(name, e))?;
        let desc = ops::descriptor(&schema).map_err(|e| unsupported(name, e))?;
        let pe = part
            .entity()
            .ok_or_else(|| CreateError::ParticipantKilled(name.to_owned()))?;
        let entity =
            ffi::topic(&pe, &desc, T::TYPE_NAME, name).map_err(|e| unsupported(name, e))?;
        Ok(Arc::new(DdsTopic {
            name: name.to_owned(),
            part,
            entity: Some(entity),
            _t: PhantomData,
        }))
    }

    pub(super) fn topic_entity(&self) -> &ffi::TopicEntity {
        self.entity.as_ref().expect("set at creation")
    }
}

fn writer_qos(q: &WriterQos, participant: &str) -> ffi::Qos {
    let mut f = ffi::Qos::new();
    // Discovery carries it: readers elsewhere learn the writer's member name.
    f.entity_name(participant);
    f.reliability(q.reliability);
    f.durability(q.durability);
    f.history(q.history);
    if q.durability == Durability::TransientLocal {
        let per = match q.history {
            History::KeepAll => {
                i32::try_from(q.resource_limits.max_samples_per_instance).unwrap_or(i32::MAX)
            }
            History::KeepLast(_) => -1,
        };
        f.durability_service(q.history, per);
    }
    f.deadline(q.deadline);
    f.liveliness(q.liveliness);
    f.lifespan(q.lifespan);
    f.ownership(q.ownership, Some(q.ownership_strength));
    f.partitions(&q.partitions);
    f.autodispose(q.autodispose_unregistered);
    f.batching(q.batching);
    f.xcdr1();
    f
}

pub(super) fn reader_qos(q: &ReaderQos) -> ffi::Qos {
    let mut f = ffi::Qos::new();
    f.reliability(q.reliability);
    f.durability(q.durability);
    f.history(q.history);
    let max = i32::try_from(q.resource_limits.max_samples).unwrap_or(i32::MAX);
    f.resource_limits(max, -1);
    f.deadline(q.deadline);
    f.liveliness(q.liveliness);
    f.ownership(q.ownership, None);
    f.partitions(&q.partitions);
    f.xcdr1();
    f
}

/// Cyclone's QoS policy ids (DDS §2.2.3 table) onto the bus's.
fn policy(id: u32) -> QosPolicy {
    match id {
        2 => QosPolicy::Durability,
        4 => QosPolicy::Deadline,
        6 => QosPolicy::Ownership,
        8 => QosPolicy::Liveliness,
        _ => QosPolicy::Reliability,
    }
}

/// Status bookkeeping shared with listener callbacks.
#[derive(Default)]
pub(super) struct Notify {
    pub(super) gen: Mutex<u64>,
    pub(super) cv: Condvar,
    pub(super) notifiers: Mutex<Vec<Arc<Notifier>>>,
    pub(super) waker: Mutex<Option<Waker>>,
    pub(super) changed: AtomicU32,
}

impl Notify {
    pub(super) fn wake(&self, mask: Option<StatusMask>) {
        if let Some(m) = mask {
            self.changed.fetch_or(m.0, Ordering::AcqRel);
        }
        *self.gen.lock() += 1;
        self.cv.notify_all();
        for n in self.notifiers.lock().iter() {
            n.notify();
        }
        if let Some(w) = self.waker.lock().take() {
            w.wake();
        }
    }
}

struct WriterCallbacks {
    notify: Notify,
    last_incompatible: Mutex<Option<QosPolicy>>,
}

impl ffi::Callbacks for WriterCallbacks {
    fn on(&self, s: ffi::RawStatus) {
        let mask = match s {
            ffi::RawStatus::Matched { .. } => StatusMask::MATCHED,
            ffi::RawStatus::DeadlineMissed { .. } => StatusMask::DEADLINE_MISSED,
            ffi::RawStatus::LivelinessLost => StatusMask::LIVELINESS,
            ffi::RawStatus::IncompatibleQos { policy: p } => {
                *self.last_incompatible.lock() = Some(policy(p));
                StatusMask::INCOMPATIBLE_QOS
            }
            _ => return,
        };
        self.notify.wake(Some(mask));
    }
}

/// A writer.
pub(crate) struct DdsWriter<T> {
    entity: ffi::Entity,
    topic: Arc<DdsTopic<T>>,
    cb: Arc<WriterCallbacks>,
    last_read: Mutex<[u64; 5]>,
    max_block: std::time::Duration,
    /// Samples written so far (the trailer carries the next one's number).
    seq: std::sync::atomic::AtomicU64,
}

impl<T> std::fmt::Debug for DdsWriter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DdsWriter({}#{})", self.topic.name, self.entity.handle())
    }
}

thread_local! {
    static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's encode buffer, taken out of the thread-local
/// for the duration: a write to a reader in the same process is delivered
/// inside `ffi::write_cdr`, and a hook or listener there may write again on
/// this thread (the federation's reports and grants do); that nested write
/// then gets a fresh buffer instead of a `RefCell` borrow panic.
fn with_buf<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    let mut b = BUF.with(|c| std::mem::take(&mut *c.borrow_mut()));
    let r = f(&mut b);
    BUF.with(|c| {
        let mut c = c.borrow_mut();
        if c.capacity() < b.capacity() {
            *c = b;
        }
    });
    r
}

impl<T: TopicType> DdsWriter<T> {
    pub(crate) fn new(
        topic: &Arc<DdsTopic<T>>,
        q: &WriterQos,
    ) -> Result<DdsWriter<T>, CreateError> {
        let pe = topic
            .part
            .entity()
            .ok_or_else(|| CreateError::ParticipantKilled(topic.name.clone()))?;
        let cb = Arc::new(WriterCallbacks {
            notify: Notify::default(),
            last_incompatible: Mutex::new(None),
        });
        let entity = ffi::writer(
            &pe,
            topic.topic_entity(),
            &writer_qos(q, &topic.part.name),
            cb.clone(),
        )
        .map_err(|e| unsupported(&topic.name, e))?;
        topic.part.endpoints.lock().push((entity.handle(), false));
        Ok(DdsWriter {
            topic: Arc::clone(topic),
            entity,
            cb,
            last_read: Mutex::new([0; 5]),
            seq: std::sync::atomic::AtomicU64::new(0),
            max_block: match q.reliability {
                crate::Reliability::Reliable { max_blocking_time } => max_blocking_time,
                crate::Reliability::BestEffort => std::time::Duration::ZERO,
            },
        })
    }

    pub(crate) fn write(&self, value: T, t: Option<SimTime>) -> Result<(), PublishError<T>> {
        if self.topic.part.is_killed() {
            return Err(PublishError::Closed {
                sample: value,
                topic: self.topic.name.clone(),
            });
        }
        let res = with_buf(|b| {
            let trailer = cdr::Trailer {
                sim_ns: t.map(SimTime::as_nanos),
                seq: self.seq.load(Ordering::Relaxed) + 1,
            };
            match cdr::encode(&value, Some(trailer), b) {
                Err(e) => Err(Some(e.0)),
                Ok(()) => match ffi::write_cdr(
                    &self.entity,
                    self.topic.topic_entity(),
                    b,
                    ffi::WriteKind::Data,
                ) {
                    Ok(()) => {
                        self.seq.fetch_add(1, Ordering::Relaxed);
                        Ok(())
                    }
                    Err(ffi::RC_TIMEOUT) => Err(None),
                    Err(rc) => Err(Some(ffi::err_text(rc))),
                },
            }
        });
        match res {
            Ok(()) => Ok(()),
            Err(None) => Err(PublishError::Timeout {
                sample: value,
                topic: self.topic.name.clone(),
                waited: self.max_block,
            }),
            Err(Some(e)) => {
                super::log(&format!("write on `{}` failed: {e}", self.topic.name));
                Err(PublishError::Closed {
                    sample: value,
                    topic: self.topic.name.clone(),
                })
            }
        }
    }

    fn key_op(&self, key: &T::Key, kind: ffi::WriteKind) -> bool {
        with_buf(|b| {
            cdr::encode_key(key, b).is_ok()
                && ffi::write_cdr(&self.entity, self.topic.topic_entity(), b, kind).is_ok()
        })
    }

    pub(crate) fn register(&self, key: &T::Key) -> InstanceHandle {
        let mut h = rustc_hash::FxHasher::default();
        key.hash(&mut h);
        InstanceHandle(h.finish() as u32)
    }

    pub(crate) fn unregister(&self, key: &T::Key) -> bool {
        self.key_op(key, ffi::WriteKind::Unregister)
    }

    pub(crate) fn dispose(&self, key: &T::Key) -> bool {
        self.key_op(key, ffi::WriteKind::Dispose)
    }

    pub(crate) fn assert_liveliness(&self) {
        ffi::assert_liveliness(&self.entity);
    }

    pub(crate) fn flush(&self) {
        ffi::flush(&self.entity);
    }

    pub(crate) fn status(&self) -> WriterStatus {
        let c = ffi::writer_counts(&self.entity);
        let mut last = self.last_read.lock();
        let ctr = |i: usize| Counter {
            total: c[i],
            change: c[i].saturating_sub(last[i]),
        };
        let s = WriterStatus {
            matched_current: c[0] as u32,
            matched: ctr(1),
            deadline_missed: ctr(2),
            liveliness_lost: ctr(3),
            incompatible_qos: ctr(4),
            last_incompatible_policy: *self.cb.last_incompatible.lock(),
        };
        *last = c;
        self.cb.notify.changed.store(0, Ordering::Release);
        s
    }

    pub(crate) fn condition(&self, mask: StatusMask) -> Arc<dyn ConditionSource> {
        Arc::new(WriterCond {
            cb: Arc::clone(&self.cb),
            mask,
        })
    }
}

impl<T> Drop for DdsWriter<T> {
    fn drop(&mut self) {
        let h = self.entity.handle();
        self.topic.part.endpoints.lock().retain(|e| e.0 != h);
    }
}

struct WriterCond {
    cb: Arc<WriterCallbacks>,
    mask: StatusMask,
}

impl ConditionSource for WriterCond {
    fn triggered(&self) -> bool {
        StatusMask(self.cb.notify.changed.load(Ordering::Acquire)).intersects(self.mask)
    }
    fn attach(&self, n: Arc<Notifier>) {
        self.cb.notify.notifiers.lock().push(n);
    }
    fn detach(&self, n: &Arc<Notifier>) {
        self.cb
            .notify
            .notifiers
            .lock()
            .retain(|x| !Arc::ptr_eq(x, n));
    }
}

/// Per-reader bookkeeping of instances, writers and owners.
pub(super) struct Book<K> {
    keys: FxHashMap<u64, K>,
    handles: FxHashMap<u64, u32>,
    seq: FxHashMap<u64, u64>,
    parts: FxHashMap<u64, ParticipantId>,
    owners: FxHashMap<u64, u64>,
    /// Ownership rank (strength, GUID) per publication handle.
    ranks: FxHashMap<u64, Rank>,
    /// Exclusive readers with a deadline: who owns what (`owners.rs`).
    pub(super) ownership: Owners<K>,
    pub(super) ownership_changed: Counter,
    pub(super) last_owner: Option<WriterId>,
    pub(super) rejected: u64,
    pub(super) last_read: [u64; 8],
}

impl<K> Default for Book<K> {
    fn default() -> Self {
        Book {
            keys: FxHashMap::default(),
            handles: FxHashMap::default(),
            seq: FxHashMap::default(),
            parts: FxHashMap::default(),
            owners: FxHashMap::default(),
            ranks: FxHashMap::default(),
            ownership: Owners::default(),
            ownership_changed: Counter::default(),
            last_owner: None,
            rejected: 0,
            last_read: [0; 8],
        }
    }
}

/// Runs on the delivery thread when data arrives; `true`: handled, wake no one.
pub(crate) type DataHook = Arc<dyn Fn() -> bool + Send + Sync>;

std::thread_local! {
    /// Set while this thread runs a reader's data hook.
    static IN_HOOK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

pub(super) struct ReaderCallbacks<T: TopicType> {
    pub(super) notify: Notify,
    pub(super) names: Arc<Mutex<HashMap<ParticipantId, String>>>,
    pub(super) topic: String,
    pub(super) exclusive: bool,
    pub(super) listener: Mutex<Option<Box<dyn ReaderListener<T>>>>,
    pub(super) book: Mutex<Book<T::Key>>,
    pub(super) last_incompatible: Mutex<Option<QosPolicy>>,
    pub(super) last_deadline: Mutex<Option<InstanceHandle>>,
    pub(super) epoch: Instant,
    /// The deadline `D` [ns] of an exclusive reader (0: none, no guards).
    pub(super) deadline_ns: u64,
    /// See `Reader::set_data_hook`.
    pub(super) hook: RwLock<Option<DataHook>>,
    /// Data-available callbacks so far (see `Reader::arrivals`).
    pub(super) arrivals: std::sync::atomic::AtomicU64,
}

impl<T: TopicType> ReaderCallbacks<T> {
    fn handle_of(book: &mut Book<T::Key>, ih: u64) -> InstanceHandle {
        let n = book.handles.len() as u32 + 1;
        InstanceHandle(*book.handles.entry(ih).or_insert(n))
    }

    /// Decodes one taken sample; `None` if it must be skipped.
    fn decode(&self, reader: &ffi::Entity, bytes: &[u8], raw: ffi::RawInfo) -> Option<Sample<T>> {
        let mut book = self.book.lock();
        let (value, trailer) = if raw.valid {
            match cdr::decode::<T>(bytes) {
                Ok((v, t)) => (Some(v), t),
                Err(e) => {
                    book.rejected += 1;
                    super::log(&format!(
                        "dropped a sample on `{}` that is not a valid {}: {e}",
                        self.topic,
                        T::TYPE_NAME
                    ));
                    return None;
                }
            }
        } else {
            (None, None)
        };
        let key = match &value {
            Some(v) => {
                let k = v.key();
                book.keys.entry(raw.instance).or_insert_with(|| k.clone());
                k
            }
            None => book.keys.get(&raw.instance)?.clone(),
        };
        let instance = Self::handle_of(&mut book, raw.instance);
        // The writer's own number when it is a Twin writer; otherwise the
        // count of samples received from it.
        let seq = {
            let s = book.seq.entry(raw.publication).or_insert(0);
            *s = trailer.map_or(*s + 1, |t| t.seq);
            *s
        };
        let participant = match book.parts.get(&raw.publication) {
            Some(p) => *p,
            None => {
                let p = match ffi::writer_participant(reader, raw.publication) {
                    Some(w) => {
                        let id = super::participant_id(&w.participant);
                        if let Some(n) = w.name {
                            self.names.lock().entry(id).or_insert(n);
                        }
                        let rank = Rank {
                            strength: w.strength,
                            guid: w.guid,
                        };
                        book.ranks.insert(raw.publication, rank);
                        id
                    }
                    None => ParticipantId(0),
                };
                book.parts.insert(raw.publication, p);
                p
            }
        };
        if self.deadline_ns > 0 {
            let rank = book.ranks.get(&raw.publication).copied();
            let at = Arrival {
                instance: raw.instance,
                publication: raw.publication,
                at_ns: self.now_ns(),
                source_ns: raw.source_ns,
            };
            let admitted = if raw.valid {
                let rank = rank.unwrap_or(Rank::UNKNOWN);
                book.ownership.admit(&key, at, rank, self.deadline_ns)
            } else {
                let disposed = raw.instance_state == 32;
                book.ownership.gone(&key, at, disposed);
                true
            };
            if !admitted {
                book.rejected += 1;
                return None;
            }
        }
        if self.exclusive && value.is_some() {
            let prev = book.owners.insert(raw.instance, raw.publication);
            if prev != Some(raw.publication) {
                book.ownership_changed.bump();
                book.last_owner = Some(WriterId(raw.publication));
            }
        }
        let state = match raw.instance_state {
            32 => InstanceState::NotAliveDisposed,
            64 => InstanceState::NotAliveNoWriters,
            _ => InstanceState::Alive,
        };
        Some(Sample {
            key,
            value,
            info: SampleInfo {
                state,
                instance,
                writer: WriterId(raw.publication),
                participant,
                sequence: seq,
                source_time: WallTime(raw.source_ns.max(0) as u64),
                sim_time: trailer.and_then(|t| t.sim_ns).map(SimTime::from_nanos),
            },
        })
    }

    /// [ns] since the reader's epoch.
    pub(super) fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    pub(super) fn take(
        &self,
        reader: &ffi::Entity,
        out: &mut Vec<Sample<T>>,
        max: usize,
        peek: bool,
    ) -> usize {
        let mut n = 0;
        while n < max {
            let asked = (max - n).min(ffi::TAKE_BATCH);
            let r = ffi::take_cdr(reader, asked, peek, |b, raw| {
                if let Some(s) = self.decode(reader, b, raw) {
                    out.push(s);
                    n += 1;
                }
            });
            // A short batch means the reader was empty: no second call.
            match r {
                Ok(got) if got == asked && !peek => {}
                _ => break,
            }
        }
        n
    }
}

impl<T: TopicType> ffi::Callbacks for ReaderCallbacks<T> {
    fn on(&self, s: ffi::RawStatus) {
        let (mask, event) = match s {
            ffi::RawStatus::DataAvailable { reader } => {
                // Cyclone calls this after the sample is in the reader, so
                // a take after reading the new count finds it.
                self.arrivals.fetch_add(1, Ordering::AcqRel);
                super::ARRIVALS.fetch_add(1, Ordering::Relaxed);
                let mut l = self.listener.lock();
                if let Some(l) = l.as_mut() {
                    let view = ffi::Entity::borrowed(reader);
                    let mut v = Vec::with_capacity(4);
                    self.take(&view, &mut v, usize::MAX, false);
                    for s in v {
                        l.on_sample(s);
                    }
                    return;
                }
                drop(l);
                let hook = self.hook.read().clone();
                // A panic must not unwind into Cyclone's C code: it counts
                // as "not handled" and the waiters are woken. A hook is not
                // run inside another one on the same thread (a write in a
                // hook delivers synchronously to readers of this process):
                // Cyclone's listeners are not re-entrant, so a chain of
                // hooks writing back to a reader whose hook is running up
                // the stack would wait for itself.
                let handled = hook.is_some_and(|h| {
                    IN_HOOK.with(|busy| {
                        if busy.replace(true) {
                            return false;
                        }
                        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| h()));
                        busy.set(false);
                        r.unwrap_or(false)
                    })
                });
                if !handled {
                    self.notify.wake(None);
                }
                return;
            }
            ffi::RawStatus::Matched {
                current,
                last,
                change,
            } => {
                if change < 0 && self.deadline_ns > 0 {
                    // A writer left: the keys it owned are free now.
                    self.book.lock().ownership.writer_gone(last);
                }
                (StatusMask::MATCHED, StatusEvent::Matched { current })
            }
            ffi::RawStatus::DeadlineMissed { instance } => {
                let h = Self::handle_of(&mut self.book.lock(), instance);
                *self.last_deadline.lock() = Some(h);
                (
                    StatusMask::DEADLINE_MISSED,
                    StatusEvent::DeadlineMissed { instance: h },
                )
            }
            ffi::RawStatus::LivelinessChanged {
                writer,
                became_alive,
                ..
            } => (
                StatusMask::LIVELINESS,
                StatusEvent::LivelinessChanged {
                    writer: WriterId(writer),
                    alive: became_alive,
                },
            ),
            ffi::RawStatus::SampleLost => (StatusMask::SAMPLE_LOST, StatusEvent::SampleLost),
            ffi::RawStatus::IncompatibleQos { policy: p } => {
                *self.last_incompatible.lock() = Some(policy(p));
                (
                    StatusMask::INCOMPATIBLE_QOS,
                    StatusEvent::IncompatibleQos { policy: policy(p) },
                )
            }
            ffi::RawStatus::LivelinessLost => return,
        };
        if let Some(l) = self.listener.lock().as_mut() {
            l.on_status(event);
        }
        self.notify.wake(Some(mask));
    }
}
