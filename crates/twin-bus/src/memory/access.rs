//! Reader-side access (take, wait, async poll, read) and status snapshots.

use std::{task::Waker, time::Instant};

use parking_lot::Condvar;

use super::topic::{State, TopicCore};
use crate::{
    status::{ReaderStatus, StatusEvent, StatusMask, WriterStatus},
    waitset::Notifier,
    ReaderId, Sample, TopicType,
};
use std::sync::Arc;

impl<T: TopicType> TopicCore<T> {
    /// Wakes writers blocked on a full reader after samples were taken.
    pub(super) fn after_take(&self, st: &State<T>) {
        if st.blocked_writers > 0 {
            self.space.notify_all();
        }
    }

    /// Moves up to `max` samples of reader `r` into `out`; returns how many.
    pub(crate) fn take_into(&self, r: u32, out: &mut Vec<Sample<T>>, max: usize) -> usize {
        let mut st = self.state.lock();
        let re = st.readers[r as usize]
            .as_mut()
            .expect("reader slot of a live handle");
        let mut now = None;
        let mut n = 0;
        while n < max {
            let Some(s) = re.pop(&mut now) else { break };
            out.push(s);
            n += 1;
        }
        self.after_take(&st);
        n
    }

    /// Blocks until reader `r` has a sample or `deadline` passes.
    pub(crate) fn wait_for_data(&self, r: u32, cv: &Condvar, deadline: Option<Instant>) -> bool {
        let mut st = self.state.lock();
        loop {
            let re = st.readers[r as usize]
                .as_mut()
                .expect("reader slot of a live handle");
            if re.live() > 0 {
                return true;
            }
            re.waiting = true;
            let timed_out = match deadline {
                Some(d) => cv.wait_until(&mut st, d).timed_out(),
                None => {
                    cv.wait(&mut st);
                    false
                }
            };
            let re = st.readers[r as usize]
                .as_mut()
                .expect("reader slot of a live handle");
            re.waiting = false;
            if timed_out {
                return re.live() > 0;
            }
        }
    }

    /// Takes one sample or registers `waker` to be woken by the next write.
    pub(crate) fn poll_take(&self, r: u32, waker: &Waker) -> Option<Sample<T>> {
        let mut st = self.state.lock();
        let re = st.readers[r as usize]
            .as_mut()
            .expect("reader slot of a live handle");
        let mut now = None;
        match re.pop(&mut now) {
            Some(s) => {
                self.after_take(&st);
                Some(s)
            }
            None => {
                re.waker = Some(waker.clone());
                None
            }
        }
    }

    /// Copies the queued samples of reader `r` without removing them.
    pub(crate) fn read(&self, r: u32) -> Vec<Sample<T>> {
        let st = self.state.lock();
        let re = st.readers[r as usize]
            .as_ref()
            .expect("reader slot of a live handle");
        re.queue
            .iter()
            .filter(|q| q.seq >= re.inst[q.inst as usize].head)
            .map(|q| q.sample.clone())
            .collect()
    }

    /// Whether reader `r` has live samples (read condition).
    pub(crate) fn has_data(&self, r: u32) -> bool {
        let st = self.state.lock();
        st.readers[r as usize]
            .as_ref()
            .is_some_and(|re| re.live() > 0)
    }

    /// Takes everything pending for a listener reader.
    pub(super) fn drain_listener(&self, r: u32) -> (Vec<Sample<T>>, Vec<StatusEvent>) {
        let mut st = self.state.lock();
        let Some(re) = st.readers[r as usize].as_mut() else {
            return (Vec::new(), Vec::new());
        };
        let events = std::mem::take(&mut re.events);
        let mut out = Vec::with_capacity(re.live());
        let mut now = None;
        while let Some(s) = re.pop(&mut now) {
            out.push(s);
        }
        self.after_take(&st);
        (out, events)
    }

    /// Whether a listener reader has samples or events not yet dispatched.
    pub(super) fn listener_pending(&self, r: u32) -> bool {
        let st = self.state.lock();
        st.readers[r as usize]
            .as_ref()
            .is_some_and(|re| re.live() > 0 || !re.events.is_empty())
    }

    /// The participant names of the writers reader `r` is matched with.
    pub(crate) fn matched_writer_names(&self, r: u32) -> Vec<String> {
        let st = self.state.lock();
        let Some(re) = st.readers[r as usize].as_ref() else {
            return Vec::new();
        };
        re.matched
            .iter()
            .filter_map(|&w| st.writers[w as usize].as_ref())
            .map(|we| we.part.name.clone())
            .collect()
    }

    /// Reader `r`'s statuses; `reset` clears the change counters (DDS get_*_status).
    pub(crate) fn reader_status(&self, r: u32, reset: bool) -> ReaderStatus {
        let mut st = self.state.lock();
        let re = st.readers[r as usize]
            .as_mut()
            .expect("reader slot of a live handle");
        let s = re.status.clone();
        if reset {
            re.changed = StatusMask::default();
            for c in [
                &mut re.status.matched,
                &mut re.status.deadline_missed,
                &mut re.status.liveliness_changed,
                &mut re.status.ownership_changed,
                &mut re.status.sample_lost,
                &mut re.status.incompatible_qos,
            ] {
                c.change = 0;
            }
        }
        s
    }

    /// Writer `w`'s statuses; `reset` clears the change counters.
    pub(crate) fn writer_status(&self, w: u32, reset: bool) -> WriterStatus {
        let mut st = self.state.lock();
        let we = st.writers[w as usize]
            .as_mut()
            .expect("writer slot of a live handle");
        let s = we.status.clone();
        if reset {
            we.changed = StatusMask::default();
            for c in [
                &mut we.status.matched,
                &mut we.status.deadline_missed,
                &mut we.status.liveliness_lost,
                &mut we.status.incompatible_qos,
            ] {
                c.change = 0;
            }
        }
        s
    }

    /// Statuses of reader `r` changed since last read.
    pub(crate) fn reader_changed(&self, r: u32) -> StatusMask {
        let st = self.state.lock();
        st.readers[r as usize]
            .as_ref()
            .map_or(StatusMask::default(), |re| re.changed)
    }

    /// Statuses of writer `w` changed since last read.
    pub(crate) fn writer_changed(&self, w: u32) -> StatusMask {
        let st = self.state.lock();
        st.writers[w as usize]
            .as_ref()
            .map_or(StatusMask::default(), |we| we.changed)
    }

    /// Lets a wait-set watch reader `r`.
    pub(crate) fn attach_reader_notifier(&self, r: u32, n: Arc<Notifier>) {
        if let Some(re) = self.state.lock().readers[r as usize].as_mut() {
            re.notifiers.push(n);
        }
    }

    /// Lets a wait-set watch writer `w`.
    pub(crate) fn attach_writer_notifier(&self, w: u32, n: Arc<Notifier>) {
        if let Some(we) = self.state.lock().writers[w as usize].as_mut() {
            we.notifiers.push(n);
        }
    }

    /// Stops a wait-set watching anything on this topic.
    pub(crate) fn detach_notifier(&self, n: &Arc<Notifier>) {
        let mut st = self.state.lock();
        for re in st.readers.iter_mut().flatten() {
            re.notifiers.retain(|x| !Arc::ptr_eq(x, n));
        }
        for we in st.writers.iter_mut().flatten() {
            we.notifiers.retain(|x| !Arc::ptr_eq(x, n));
        }
    }

    /// The id of the reader in slot `r` (slots are reused).
    pub(crate) fn reader_id(&self, r: u32) -> Option<ReaderId> {
        self.state.lock().readers[r as usize]
            .as_ref()
            .map(|re| re.id)
    }

    /// Keys of instances that are alive (not disposed, registered by a writer).
    pub(crate) fn live_keys(&self) -> Vec<T::Key> {
        let st = self.state.lock();
        st.instances
            .iter()
            .filter(|i| !i.disposed && !i.registered.is_empty())
            .map(|i| i.key.clone())
            .collect()
    }
}
