//! One topic's state: creation and deletion of endpoints, matching,
//! transient-local replay, and the write / dispose / unregister paths.

use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Weak,
    },
    time::{Duration, Instant},
};

use parking_lot::{Condvar, Mutex};
use rustc_hash::FxHashMap;
use twin_core::SimTime;

use super::endpoint::*;
use super::{Monitor, PartState, Timed};
use crate::{
    qos::{check_compatible, partitions_match},
    status::{ReaderStatus, StatusEvent, StatusMask, WriterStatus},
    Durability, History, InstanceHandle, InstanceState, Liveliness, PublishError, ReaderId,
    ReaderQos, Reliability, Sample, SampleInfo, TopicType, WallTime, WriterId, WriterQos,
};

pub(crate) struct State<T: TopicType> {
    pub(super) index: FxHashMap<T::Key, u32>,
    pub(super) instances: Vec<Instance<T>>,
    pub(super) writers: Vec<Option<WEntry<T>>>,
    pub(super) readers: Vec<Option<REntry<T>>>,
    pub(super) blocked_writers: usize,
}

/// A topic: its instances, writers, readers and their queues.
pub(crate) struct TopicCore<T: TopicType> {
    pub(crate) name: Arc<str>,
    pub(super) state: Mutex<State<T>>,
    pub(super) space: Condvar,
    pub(crate) written: AtomicU64,
    pub(super) monitor: Weak<Monitor>,
    pub(super) watched: AtomicBool,
}

pub(super) fn free_slot<E>(v: &mut Vec<Option<E>>, e: E) -> u32 {
    if let Some(i) = v.iter().position(Option::is_none) {
        v[i] = Some(e);
        i as u32
    } else {
        v.push(Some(e));
        (v.len() - 1) as u32
    }
}

impl<T: TopicType> TopicCore<T> {
    /// An empty topic; timed policies will be registered with `monitor`.
    pub(crate) fn new(name: &str, monitor: Weak<Monitor>) -> Self {
        TopicCore {
            name: name.into(),
            state: Mutex::new(State {
                index: FxHashMap::default(),
                instances: Vec::new(),
                writers: Vec::new(),
                readers: Vec::new(),
                blocked_writers: 0,
            }),
            space: Condvar::new(),
            written: AtomicU64::new(0),
            monitor,
            watched: AtomicBool::new(false),
        }
    }

    /// Registers the topic with the monitor once it has a timed endpoint.
    pub(super) fn watch_if_timed(self: &Arc<Self>, timed: bool) {
        let Some(m) = self.monitor.upgrade() else {
            return;
        };
        if !timed {
            return;
        }
        if self.watched.swap(true, Ordering::AcqRel) {
            m.kick();
        } else {
            let weak: Weak<dyn Timed> = Arc::downgrade(self) as Weak<dyn Timed>;
            m.watch(weak);
        }
    }

    /// (writers, readers) now.
    pub(crate) fn endpoint_counts(&self) -> (usize, usize) {
        let st = self.state.lock();
        (
            st.writers.iter().flatten().count(),
            st.readers.iter().flatten().count(),
        )
    }

    /// The index of `key`'s instance, created on first use.
    pub(super) fn instance(st: &mut State<T>, key: &T::Key) -> u32 {
        if let Some(&i) = st.index.get(key) {
            return i;
        }
        let i = st.instances.len() as u32;
        st.instances.push(Instance {
            key: key.clone(),
            disposed: false,
            registered: Vec::new(),
        });
        st.index.insert(key.clone(), i);
        i
    }

    /// Decides whether writes of `w` must read the clock (skip it when nothing is timed).
    pub(super) fn recompute_clock_need(st: &mut State<T>, w: u32) {
        let State {
            writers, readers, ..
        } = st;
        let Some(we) = writers[w as usize].as_mut() else {
            return;
        };
        we.needs_clock = we.qos.deadline.is_some()
            || we.qos.lifespan.is_some()
            || matches!(we.qos.liveliness, Liveliness::ManualByTopic { .. })
            || we.matched.iter().any(|&r| {
                readers[r as usize]
                    .as_ref()
                    .is_some_and(|re| re.qos.deadline.is_some())
            });
    }

    /// Adds a writer and matches it with every existing reader.
    pub(crate) fn add_writer(
        self: &Arc<Self>,
        id: WriterId,
        part: Arc<PartState>,
        qos: WriterQos,
    ) -> u32 {
        let timed = qos.deadline.is_some() || qos.liveliness.lease() != Duration::MAX;
        let mut fx = Effects::new();
        let mut st = self.state.lock();
        let entry = WEntry {
            id,
            part,
            qos,
            matched: Vec::new(),
            seq: 0,
            alive: true,
            last_assert: Instant::now(),
            history: FxHashMap::default(),
            last_write: FxHashMap::default(),
            status: WriterStatus::default(),
            changed: StatusMask::default(),
            notifiers: Vec::new(),
            needs_clock: false,
        };
        let w = free_slot(&mut st.writers, entry);
        for r in 0..st.readers.len() as u32 {
            Self::try_match(&mut st, w, r, &mut fx);
        }
        Self::recompute_clock_need(&mut st, w);
        drop(st);
        fx.run();
        self.watch_if_timed(timed);
        w
    }

    /// Adds a reader, matches it and replays transient-local history to it.
    pub(crate) fn add_reader(
        self: &Arc<Self>,
        id: ReaderId,
        part: Arc<PartState>,
        qos: ReaderQos,
        listener: Option<Box<dyn crate::ReaderListener<T>>>,
    ) -> (u32, Arc<Condvar>) {
        let timed = qos.deadline.is_some();
        let cv = Arc::new(Condvar::new());
        let mut fx = Effects::new();
        let mut st = self.state.lock();
        let entry = REntry {
            id,
            part,
            qos,
            matched: Vec::new(),
            queue: VecDeque::new(),
            dead: 0,
            inst: Vec::new(),
            status: ReaderStatus::default(),
            changed: StatusMask::default(),
            waiting: false,
            cv: Arc::clone(&cv),
            waker: None,
            notifiers: Vec::new(),
            listener: None,
            events: Vec::new(),
        };
        let r = free_slot(&mut st.readers, entry);
        if let Some(l) = listener {
            let slot = ListenerSlot {
                listener: Mutex::new(l),
                core: Arc::downgrade(self),
                slot: r,
            };
            st.readers[r as usize]
                .as_mut()
                .expect("just inserted")
                .listener = Some(Arc::new(slot));
        }
        for w in 0..st.writers.len() as u32 {
            if Self::try_match(&mut st, w, r, &mut fx) {
                Self::replay_history(&mut st, w, r, &mut fx);
                Self::recompute_clock_need(&mut st, w);
            }
        }
        drop(st);
        fx.run();
        self.watch_if_timed(timed);
        (r, cv)
    }

    /// Matches writer `w` with reader `r` if both exist and are compatible.
    pub(super) fn try_match(st: &mut State<T>, w: u32, r: u32, fx: &mut Effects<T>) -> bool {
        let State {
            writers, readers, ..
        } = st;
        let (Some(we), Some(re)) = (writers[w as usize].as_mut(), readers[r as usize].as_mut())
        else {
            return false;
        };
        if !partitions_match(&we.qos.partitions, &re.qos.partitions) {
            return false;
        }
        if let Err(policy) = check_compatible(&we.qos, &re.qos) {
            we.status.incompatible_qos.bump();
            we.status.last_incompatible_policy = Some(policy);
            we.changed = StatusMask(we.changed.0 | StatusMask::INCOMPATIBLE_QOS.0);
            fx.notifiers.extend(we.notifiers.iter().cloned());
            re.status.incompatible_qos.bump();
            re.status.last_incompatible_policy = Some(policy);
            re.event(StatusEvent::IncompatibleQos { policy }, fx);
            return false;
        }
        we.matched.push(r);
        re.matched.push(w);
        we.status.matched.bump();
        we.status.matched_current += 1;
        we.changed = StatusMask(we.changed.0 | StatusMask::MATCHED.0);
        fx.notifiers.extend(we.notifiers.iter().cloned());
        re.status.matched.bump();
        re.status.matched_current += 1;
        if we.alive {
            re.status.alive_writers += 1;
        } else {
            re.status.not_alive_writers += 1;
        }
        let current = re.status.matched_current;
        re.event(StatusEvent::Matched { current }, fx);
        true
    }

    /// Sends writer `w`'s transient-local history to a newly matched reader.
    pub(super) fn replay_history(st: &mut State<T>, w: u32, r: u32, fx: &mut Effects<T>) {
        let State {
            writers,
            readers,
            instances,
            ..
        } = st;
        let (Some(we), Some(re)) = (writers[w as usize].as_ref(), readers[r as usize].as_mut())
        else {
            return;
        };
        if we.qos.durability != Durability::TransientLocal
            || re.qos.durability != Durability::TransientLocal
        {
            return;
        }
        let now = Instant::now();
        let mut insts: Vec<_> = we.history.keys().copied().collect();
        insts.sort_unstable();
        for i in insts {
            if instances[i as usize].disposed {
                continue;
            }
            if !re.admit(i, we.id, we.qos.ownership_strength, fx) {
                continue;
            }
            for s in &we.history[&i] {
                let expires = we.qos.lifespan.map(|l| now + l);
                re.push(i, s.clone(), expires, fx);
            }
        }
    }

    /// Deletes a reader; blocked writers are woken (it no longer holds them back).
    pub(crate) fn remove_reader(&self, r: u32) {
        let mut fx = Effects::<T>::new();
        let mut st = self.state.lock();
        let Some(re) = st.readers[r as usize].take() else {
            return;
        };
        for &w in &re.matched {
            if let Some(we) = st.writers[w as usize].as_mut() {
                we.matched.retain(|&x| x != r);
                we.status.matched_current -= 1;
                we.changed = StatusMask(we.changed.0 | StatusMask::MATCHED.0);
                fx.notifiers.extend(we.notifiers.iter().cloned());
            }
        }
        self.after_take(&st);
        drop(st);
        fx.run();
    }

    /// Deletes a writer. Unless its participant was killed, its instances
    /// are unregistered first, so ownership passes at once.
    pub(crate) fn remove_writer(&self, w: u32) {
        let mut fx = Effects::new();
        let mut st = self.state.lock();
        let Some(we) = st.writers[w as usize].as_ref() else {
            return;
        };
        if we.part.is_killed() {
            // A crashed member says no goodbye: leave the entry for the
            // liveliness lease to expire.
            return;
        }
        let insts: Vec<u32> = (0..st.instances.len() as u32)
            .filter(|&i| st.instances[i as usize].registered.contains(&w))
            .collect();
        for i in insts {
            Self::unregister_locked(&mut st, w, i, &mut fx);
        }
        let we = st.writers[w as usize].take().expect("checked above");
        for &r in &we.matched {
            if let Some(re) = st.readers[r as usize].as_mut() {
                re.matched.retain(|&x| x != w);
                re.status.matched_current -= 1;
                if we.alive {
                    re.status.alive_writers -= 1;
                } else {
                    re.status.not_alive_writers -= 1;
                }
                let current = re.status.matched_current;
                re.event(StatusEvent::Matched { current }, &mut fx);
            }
        }
        drop(st);
        fx.run();
    }

    /// Writes `value`; blocks while a reliable keep-all reader is full.
    pub(crate) fn write(
        &self,
        w: u32,
        value: T,
        sim_time: Option<SimTime>,
    ) -> Result<(), PublishError<T>> {
        let mut fx = Effects::new();
        let mut st = self.state.lock();
        let mut blocked_since: Option<Instant> = None;
        loop {
            let we = st.writers[w as usize]
                .as_ref()
                .expect("writer slot of a live handle");
            if we.part.is_killed() {
                return Err(PublishError::Closed {
                    sample: value,
                    topic: self.name.to_string(),
                });
            }
            let Reliability::Reliable { max_blocking_time } = we.qos.reliability else {
                break;
            };
            let blocked = we.matched.iter().any(|&r| {
                st.readers[r as usize].as_ref().is_some_and(|re| {
                    matches!(re.qos.reliability, Reliability::Reliable { .. })
                        && re.full()
                        && !re.part.is_killed()
                })
            });
            if !blocked {
                break;
            }
            let start = *blocked_since.get_or_insert_with(Instant::now);
            let deadline = start.checked_add(max_blocking_time);
            if deadline.is_some_and(|d| Instant::now() >= d) {
                let waited = start.elapsed();
                return Err(PublishError::Timeout {
                    sample: value,
                    topic: self.name.to_string(),
                    waited,
                });
            }
            st.blocked_writers += 1;
            match deadline {
                Some(d) => {
                    self.space.wait_until(&mut st, d);
                }
                None => self.space.wait(&mut st),
            }
            st.blocked_writers -= 1;
        }
        let key = value.key();
        let i = Self::instance(&mut st, &key);
        let State {
            writers,
            readers,
            instances,
            ..
        } = &mut *st;
        let we = writers[w as usize]
            .as_mut()
            .expect("writer slot of a live handle");
        let inst = &mut instances[i as usize];
        inst.disposed = false;
        if !inst.registered.contains(&w) {
            inst.registered.push(w);
        }
        let now = we.needs_clock.then(Instant::now);
        if let Some(now) = now {
            we.last_assert = now;
            if we.qos.deadline.is_some() {
                we.last_write.insert(i, now);
            }
        }
        if !we.alive {
            Self::set_alive(we, readers, true, &mut fx);
        }
        we.seq += 1;
        let info = SampleInfo {
            state: InstanceState::Alive,
            instance: InstanceHandle(i),
            writer: we.id,
            participant: we.part.id,
            sequence: we.seq,
            source_time: WallTime::now(),
            sim_time,
        };
        let sample = Sample {
            key,
            value: Some(value),
            info,
        };
        if we.qos.durability == Durability::TransientLocal {
            let depth = match we.qos.history {
                History::KeepLast(d) => d as usize,
                History::KeepAll => we.qos.resource_limits.max_samples_per_instance,
            };
            let h = we.history.entry(i).or_default();
            if h.len() >= depth {
                h.pop_front();
            }
            h.push_back(sample.clone());
        }
        let expires = we.qos.lifespan.and_then(|l| now.map(|n| n + l));
        let strength = we.qos.ownership_strength;
        deliver(
            readers,
            &we.matched,
            i,
            we.id,
            strength,
            sample,
            expires,
            now,
            &mut fx,
        );
        self.written.fetch_add(1, Ordering::Relaxed);
        drop(st);
        fx.run();
        Ok(())
    }

    /// Changes a writer's liveliness and tells its matched readers.
    pub(super) fn set_alive(
        we: &mut WEntry<T>,
        readers: &mut [Option<REntry<T>>],
        alive: bool,
        fx: &mut Effects<T>,
    ) {
        we.alive = alive;
        for &r in &we.matched {
            if let Some(re) = readers[r as usize].as_mut() {
                if alive {
                    re.status.alive_writers += 1;
                    re.status.not_alive_writers -= 1;
                } else {
                    re.status.alive_writers -= 1;
                    re.status.not_alive_writers += 1;
                }
                re.status.liveliness_changed.bump();
                re.event(
                    StatusEvent::LivelinessChanged {
                        writer: we.id,
                        alive,
                    },
                    fx,
                );
            }
        }
    }

    /// Registers `key` for writer `w` without writing data.
    pub(crate) fn register(&self, w: u32, key: &T::Key) -> InstanceHandle {
        let mut st = self.state.lock();
        let i = Self::instance(&mut st, key);
        let inst = &mut st.instances[i as usize];
        if !inst.registered.contains(&w) {
            inst.registered.push(w);
        }
        InstanceHandle(i)
    }

    /// Unregisters `key` for writer `w`; false if it was not registered.
    pub(crate) fn unregister(&self, w: u32, key: &T::Key) -> bool {
        self.with_effects(|st, fx| {
            let Some(&i) = st.index.get(key) else {
                return false;
            };
            if !st.instances[i as usize].registered.contains(&w) {
                return false;
            }
            Self::unregister_locked(st, w, i, fx);
            true
        })
    }

    /// Unregisters under the lock: releases ownership, forgets history, and
    /// tells readers left without a writer for the instance.
    pub(super) fn unregister_locked(st: &mut State<T>, w: u32, i: u32, fx: &mut Effects<T>) {
        let dispose = st.writers[w as usize]
            .as_ref()
            .is_some_and(|we| we.qos.autodispose_unregistered);
        if dispose {
            Self::dispose_locked(st, w, i, fx);
        }
        let State {
            writers,
            readers,
            instances,
            ..
        } = st;
        let inst = &mut instances[i as usize];
        inst.registered.retain(|&x| x != w);
        let Some(we) = writers[w as usize].as_mut() else {
            return;
        };
        we.history.remove(&i);
        we.last_write.remove(&i);
        let remaining: Vec<u32> = inst.registered.clone();
        let (wid, part, seq) = (we.id, we.part.id, we.seq);
        for &r in &we.matched {
            let Some(re) = readers[r as usize].as_mut() else {
                continue;
            };
            re.release(i, wid, fx);
            let others = remaining.iter().any(|x| re.matched.contains(x));
            if !others && !inst.disposed {
                let s = state_sample(
                    &inst.key,
                    i,
                    wid,
                    part,
                    seq,
                    InstanceState::NotAliveNoWriters,
                );
                re.push(i, s, None, fx);
            }
        }
    }

    /// Disposes `key` on behalf of writer `w`.
    pub(crate) fn dispose(&self, w: u32, key: &T::Key) -> bool {
        self.with_effects(|st, fx| {
            let Some(&i) = st.index.get(key) else {
                return false;
            };
            Self::dispose_locked(st, w, i, fx);
            true
        })
    }

    /// Runs `f` under the topic lock, then the effects it queued (wake-ups,
    /// wait-set notifications, listeners) after releasing the lock.
    pub(super) fn with_effects<R>(&self, f: impl FnOnce(&mut State<T>, &mut Effects<T>) -> R) -> R {
        let mut fx = Effects::new();
        let r = f(&mut self.state.lock(), &mut fx);
        fx.run();
        r
    }

    /// Disposes under the lock; under exclusive ownership only the owner's
    /// disposal reaches a reader.
    pub(super) fn dispose_locked(st: &mut State<T>, w: u32, i: u32, fx: &mut Effects<T>) {
        let State {
            writers,
            readers,
            instances,
            ..
        } = st;
        let inst = &mut instances[i as usize];
        inst.disposed = true;
        for we in writers.iter_mut().flatten() {
            we.history.remove(&i);
        }
        let Some(we) = writers[w as usize].as_mut() else {
            return;
        };
        let strength = we.qos.ownership_strength;
        for &r in &we.matched {
            let Some(re) = readers[r as usize].as_mut() else {
                continue;
            };
            if !re.admit(i, we.id, strength, fx) {
                continue;
            }
            let s = state_sample(
                &inst.key,
                i,
                we.id,
                we.part.id,
                we.seq,
                InstanceState::NotAliveDisposed,
            );
            re.push(i, s, None, fx);
        }
    }

    /// Asserts liveliness of writer `w` (manual liveliness).
    pub(crate) fn assert_liveliness(&self, w: u32) {
        self.with_effects(|st, fx| {
            let State {
                writers, readers, ..
            } = st;
            if let Some(we) = writers[w as usize].as_mut() {
                we.last_assert = Instant::now();
                if !we.alive {
                    Self::set_alive(we, readers, true, fx);
                }
            }
        })
    }
}
