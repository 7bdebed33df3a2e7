//! Readers over Cyclone entities, and the owner watchdog that makes
//! exclusive ownership hand over, per instance, within the topic's deadline.
//!
//! Cyclone hands an instance to the next-strongest writer only when the
//! owner unregisters, loses liveliness (a lease, often long) or misses the
//! deadline, but it renews an instance's deadline on every sample it
//! receives for it, including the weaker writers' samples it rejects. So
//! after a crash of the owner, while another writer keeps writing, the
//! deadline never expires and hand-over waits for the lease.
//!
//! An exclusive reader with a deadline `D` books, per Cyclone instance, the
//! writer whose samples Cyclone last let through (its owner there) and
//! when; and per key, the owner Twin delivers, with its strength (from the
//! matched publication's QoS) and when it last wrote. Its watchdog looks
//! every `D/4`: when Cyclone is rejecting samples (it counts them as lost;
//! the counter is per reader) and some instance's owner has not written
//! for `D` (after taking what the reader holds, so a slow taker's samples
//! count), that owner has gone silent while others write, and the Cyclone
//! entity is replaced by a fresh one (samples not yet taken are kept).
//! The fresh entity knows no owners, so for every key whose owner wrote
//! within `D` Twin keeps that owner: samples of writers not stronger are
//! dropped (and counted as lost) until the owner writes again, which
//! restores Cyclone's own arbitration, or stays silent for `D`. Only the
//! silent owner's instances go to the next writer that writes them; a
//! stronger writer still wins at once, and so does one of equal strength
//! with a lower writer GUID (Cyclone's tie-break, so both views agree).
//! A dispose by the owner ends its guard (Cyclone knows it as the owner
//! again); an instance left with no writers, or a writer that is no longer
//! matched (deleted, or its participant lost), frees its keys at once and
//! drops their entries, so the table holds only live writers' keys. Not
//! seen here: an owner that unregisters one instance while other writers
//! of it remain (Cyclone then releases the instance without telling the
//! reader); its guard lasts until `D` after its last write.
//!
//! In the worst case hand-over takes `D` (silence) + `D/4` (watchdog
//! period) + the fresh reader's matching; measured 1.00 D to 1.28 D
//! (median 1.06 D, 15 runs, `D` = 200 ms) in `tests/dds/handover.rs`.

use std::{
    sync::{
        atomic::{AtomicI32, AtomicU64, Ordering},
        Arc, Weak,
    },
    task::Waker,
    time::{Duration, Instant},
};

use parking_lot::{Mutex, RwLock};

use super::{
    ffi,
    topic::{reader_qos, unsupported, Book, DdsTopic, Notify, ReaderCallbacks},
};
use crate::{
    status::{Counter, ReaderStatus, StatusMask},
    waitset::{ConditionSource, Notifier},
    CreateError, ReaderListener, ReaderQos, Sample, TopicType,
};

struct Shared<T: TopicType> {
    entity: RwLock<ffi::Entity>,
    handle: AtomicI32,
    topic: Arc<DdsTopic<T>>,
    cb: Arc<ReaderCallbacks<T>>,
    qos: ReaderQos,
    /// Samples taken from a replaced Cyclone reader, not yet handed out.
    pending: Mutex<Vec<Sample<T>>>,
}

/// A reader.
pub(crate) struct DdsReader<T: TopicType> {
    sh: Arc<Shared<T>>,
}

impl<T: TopicType> std::fmt::Debug for DdsReader<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let h = self.sh.handle.load(Ordering::Relaxed);
        write!(f, "DdsReader({}#{h})", self.sh.topic.name)
    }
}

fn create<T: TopicType>(
    topic: &DdsTopic<T>,
    q: &ReaderQos,
    cb: &Arc<ReaderCallbacks<T>>,
) -> Result<ffi::Entity, CreateError> {
    let pe = topic
        .part
        .entity()
        .ok_or_else(|| CreateError::ParticipantKilled(topic.name.clone()))?;
    let e = ffi::reader(&pe, topic.topic_entity(), &reader_qos(q), cb.clone())
        .map_err(|e| unsupported(&topic.name, e))?;
    topic.part.endpoints.lock().push((e.handle(), true));
    Ok(e)
}

impl<T: TopicType> DdsReader<T> {
    pub(crate) fn new(
        topic: &Arc<DdsTopic<T>>,
        q: &ReaderQos,
        listener: Option<Box<dyn ReaderListener<T>>>,
    ) -> Result<DdsReader<T>, CreateError> {
        let cb = Arc::new(ReaderCallbacks {
            notify: Notify::default(),
            names: Arc::clone(&topic.part.names),
            topic: topic.name.clone(),
            exclusive: q.ownership == crate::Ownership::Exclusive,
            listener: Mutex::new(listener),
            book: Mutex::new(Book::default()),
            last_incompatible: Mutex::new(None),
            last_deadline: Mutex::new(None),
            epoch: Instant::now(),
            deadline_ns: match (q.ownership, q.deadline) {
                (crate::Ownership::Exclusive, Some(d)) => (d.as_nanos() as u64).max(1),
                _ => 0,
            },
            hook: RwLock::new(None),
            arrivals: AtomicU64::new(0),
        });
        let entity = create(topic, q, &cb)?;
        let sh = Arc::new(Shared {
            handle: AtomicI32::new(entity.handle()),
            entity: RwLock::new(entity),
            topic: Arc::clone(topic),
            cb,
            qos: q.clone(),
            pending: Mutex::new(Vec::new()),
        });
        if let (true, Some(d)) = (sh.cb.exclusive, q.deadline) {
            let weak = Arc::downgrade(&sh);
            let spawned = std::thread::Builder::new()
                .name("twin-dds-owner-watchdog".into())
                .spawn(move || watchdog(weak, d));
            if let Err(e) = spawned {
                super::log(&format!("`{}`: no owner watchdog: {e}", topic.name));
            }
        }
        Ok(DdsReader { sh })
    }

    pub(crate) fn matched_writer_names(&self) -> Vec<String> {
        let e = self.sh.entity.read();
        ffi::matched_handles(&e, true)
            .into_iter()
            .filter_map(|h| ffi::writer_participant(&e, h).and_then(|w| w.name))
            .collect()
    }

    pub(crate) fn arrivals(&self) -> u64 {
        self.sh.cb.arrivals.load(Ordering::Acquire)
    }

    pub(crate) fn set_data_hook(&self, hook: super::topic::DataHook) {
        *self.sh.cb.hook.write() = Some(hook);
    }

    pub(crate) fn take_into(&self, out: &mut Vec<Sample<T>>, max: usize) -> usize {
        let mut n = 0;
        // Held throughout: the watchdog moves samples from Cyclone to
        // `pending`, and none may overtake those.
        let mut p = self.sh.pending.lock();
        if !p.is_empty() {
            let k = p.len().min(max);
            out.extend(p.drain(..k));
            n = k;
        }
        if n < max {
            n += self.sh.cb.take(&self.sh.entity.read(), out, max - n, false);
        }
        n
    }

    pub(crate) fn read(&self) -> Vec<Sample<T>> {
        let mut v = self.sh.pending.lock().clone();
        self.sh
            .cb
            .take(&self.sh.entity.read(), &mut v, usize::MAX, true);
        v
    }

    /// Takes everything, waiting until `deadline` for at least one sample.
    pub(crate) fn take_wait(&self, deadline: Option<Instant>) -> Vec<Sample<T>> {
        let notify = &self.sh.cb.notify;
        loop {
            let gen = *notify.gen.lock();
            let mut v = Vec::new();
            self.take_into(&mut v, usize::MAX);
            if !v.is_empty() {
                return v;
            }
            let mut g = notify.gen.lock();
            if *g != gen {
                continue;
            }
            match deadline {
                Some(d) => {
                    if notify.cv.wait_until(&mut g, d).timed_out() {
                        drop(g);
                        let mut v = Vec::new();
                        self.take_into(&mut v, usize::MAX);
                        return v;
                    }
                }
                None => notify.cv.wait(&mut g),
            }
        }
    }

    pub(crate) fn poll_take(&self, waker: &Waker) -> Option<Sample<T>> {
        let mut v = Vec::with_capacity(1);
        if self.take_into(&mut v, 1) == 1 {
            return v.pop();
        }
        *self.sh.cb.notify.waker.lock() = Some(waker.clone());
        if self.take_into(&mut v, 1) == 1 {
            return v.pop();
        }
        None
    }

    pub(crate) fn status(&self) -> ReaderStatus {
        let cb = &self.sh.cb;
        let c = ffi::reader_counts(&self.sh.entity.read());
        let mut book = cb.book.lock();
        let last = book.last_read;
        let ctr = |i: usize| Counter {
            total: c[i],
            change: c[i].saturating_sub(last[i]),
        };
        let s = ReaderStatus {
            matched_current: c[0] as u32,
            matched: ctr(1),
            deadline_missed: ctr(2),
            last_deadline_instance: *cb.last_deadline.lock(),
            alive_writers: c[3] as u32,
            not_alive_writers: c[4] as u32,
            liveliness_changed: ctr(5),
            ownership_changed: book.ownership_changed,
            last_owner: book.last_owner,
            sample_lost: Counter {
                total: c[6] + book.rejected,
                change: (c[6] + book.rejected).saturating_sub(last[6]),
            },
            incompatible_qos: ctr(7),
            last_incompatible_policy: *cb.last_incompatible.lock(),
        };
        let mut now = c;
        now[6] += book.rejected;
        book.last_read = now;
        book.ownership_changed.change = 0;
        cb.notify.changed.store(0, Ordering::Release);
        s
    }

    pub(crate) fn condition(&self, mask: Option<StatusMask>) -> Arc<dyn ConditionSource> {
        Arc::new(ReaderCond {
            sh: Arc::downgrade(&self.sh),
            cb: Arc::clone(&self.sh.cb),
            mask,
        })
    }
}

impl<T: TopicType> Shared<T> {
    /// Takes what the Cyclone reader holds into `pending` (or the
    /// listener), which books each sample's writer as of now.
    fn drain(&self, e: &ffi::Entity, pending: &mut Vec<Sample<T>>) {
        // Locked first, as Cyclone's data callback does: no sample it
        // delivers can overtake these.
        let mut l = self.cb.listener.lock();
        let mut v = Vec::new();
        self.cb.take(e, &mut v, usize::MAX, false);
        match l.as_mut() {
            Some(l) => v.into_iter().for_each(|s| l.on_sample(s)),
            None => pending.extend(v),
        }
    }

    /// Replaces the Cyclone reader by a fresh one (see the module docs).
    fn replace(&self) -> Result<(), CreateError> {
        let fresh = create(&self.topic, &self.qos, &self.cb)?;
        let mut pending = self.pending.lock();
        let mut e = self.entity.write();
        self.drain(&e, &mut pending);
        let old = std::mem::replace(&mut *e, fresh);
        let old_handle = old.handle();
        self.handle.store(e.handle(), Ordering::Release);
        self.cb
            .book
            .lock()
            .ownership
            .renewed(self.cb.now_ns(), self.cb.deadline_ns);
        drop(e);
        self.cb.arrivals.fetch_add(1, Ordering::AcqRel);
        drop(pending);
        drop(old); // deletes the old Cyclone reader
        self.topic
            .part
            .endpoints
            .lock()
            .retain(|x| x.0 != old_handle);
        self.cb.notify.wake(None);
        Ok(())
    }

    /// Whether an instance's owner in the Cyclone reader has been silent
    /// for `d_ns`, after taking what the reader holds (so that a slow
    /// taker's samples count as the news they are).
    fn silent_owner(&self, d_ns: u64) -> bool {
        let silent = || {
            self.cb
                .book
                .lock()
                .ownership
                .silent_owner(self.cb.now_ns(), d_ns)
        };
        if !silent() {
            return false;
        }
        let mut pending = self.pending.lock();
        self.drain(&self.entity.read(), &mut pending);
        drop(pending);
        silent()
    }
}

/// The owner watchdog of one exclusive reader with deadline `d`; ends when
/// the reader is dropped.
fn watchdog<T: TopicType>(sh: Weak<Shared<T>>, d: Duration) {
    let period = (d / 4).max(Duration::from_millis(1));
    let d_ns = sh.upgrade().map_or(1, |s| s.cb.deadline_ns);
    let (mut prev_lost, mut last_swap) = (0u64, Instant::now());
    loop {
        std::thread::sleep(period);
        let Some(sh) = sh.upgrade() else { return };
        let lost = ffi::reader_counts(&sh.entity.read())[6];
        let rejecting = lost > prev_lost;
        prev_lost = lost;
        if !rejecting || last_swap.elapsed() < d || !sh.silent_owner(d_ns) {
            continue;
        }
        match sh.replace() {
            Ok(()) => {
                super::log(&format!(
                    "`{}`: an instance's owner silent for {d:?} while others write: reader \
                     renewed so that the next writer takes over its instances",
                    sh.topic.name
                ));
                prev_lost = 0;
                last_swap = Instant::now();
            }
            Err(e) => super::log(&format!(
                "`{}`: an owner silent for {d:?}, reader not replaced: {e}",
                sh.topic.name
            )),
        }
    }
}

impl<T: TopicType> Drop for DdsReader<T> {
    fn drop(&mut self) {
        let h = self.sh.handle.load(Ordering::Acquire);
        self.sh.topic.part.endpoints.lock().retain(|e| e.0 != h);
    }
}

struct ReaderCond<T: TopicType> {
    sh: Weak<Shared<T>>,
    cb: Arc<ReaderCallbacks<T>>,
    mask: Option<StatusMask>,
}

impl<T: TopicType> ConditionSource for ReaderCond<T> {
    fn triggered(&self) -> bool {
        match self.mask {
            None => {
                let Some(sh) = self.sh.upgrade() else {
                    return false;
                };
                if !sh.pending.lock().is_empty() {
                    return true;
                }
                let mut v = Vec::new();
                self.cb.take(&sh.entity.read(), &mut v, 1, true);
                !v.is_empty()
            }
            Some(m) => StatusMask(self.cb.notify.changed.load(Ordering::Acquire)).intersects(m),
        }
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
