//! Typed readers: polled, blocking, async, wait-set or listener driven.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use parking_lot::Condvar;

use crate::{
    memory::topic::TopicCore,
    status::{ReaderStatus, StatusEvent, StatusMask},
    waitset::{mask_hit, Condition, ConditionSource, Notifier},
    ReaderId, Sample, TakeError, TopicType,
};

/// Receives a reader's samples and status changes as they happen.
pub trait ReaderListener<T: TopicType>: Send + 'static {
    /// A sample (data or an instance-state change) arrived.
    fn on_sample(&mut self, sample: Sample<T>);
    /// A status changed.
    fn on_status(&mut self, _event: StatusEvent) {}
}

impl<T: TopicType, F: FnMut(Sample<T>) + Send + 'static> ReaderListener<T> for F {
    fn on_sample(&mut self, sample: Sample<T>) {
        self(sample)
    }
}

/// Subscribes to samples of `T` on one topic.
#[derive(Debug)]
pub struct Reader<T: TopicType> {
    pub(crate) inner: ReaderInner<T>,
    pub(crate) id: ReaderId,
}

pub(crate) enum ReaderInner<T: TopicType> {
    Memory {
        core: Arc<TopicCore<T>>,
        slot: u32,
        cv: Arc<Condvar>,
    },
    #[cfg(feature = "dds")]
    Dds(crate::dds::DdsReader<T>),
}

impl<T: TopicType> std::fmt::Debug for ReaderInner<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReaderInner::Memory { core, slot, .. } => {
                write!(f, "MemoryReader({}#{slot})", core.name)
            }
            #[cfg(feature = "dds")]
            ReaderInner::Dds(r) => r.fmt(f),
        }
    }
}

impl<T: TopicType> Reader<T> {
    /// This reader's id.
    pub fn id(&self) -> ReaderId {
        self.id
    }

    /// Takes every available sample, oldest first.
    pub fn take(&self) -> Vec<Sample<T>> {
        let mut v = Vec::new();
        self.take_into(&mut v, usize::MAX);
        v
    }

    /// Appends up to `max` samples to `out` without allocating a new vector.
    pub fn take_into(&self, out: &mut Vec<Sample<T>>, max: usize) -> usize {
        match &self.inner {
            ReaderInner::Memory { core, slot, .. } => core.take_into(*slot, out, max),
            #[cfg(feature = "dds")]
            ReaderInner::Dds(r) => r.take_into(out, max),
        }
    }

    /// Takes the oldest available sample.
    pub fn take_one(&self) -> Option<Sample<T>> {
        let mut v = Vec::with_capacity(1);
        self.take_into(&mut v, 1);
        v.pop()
    }

    /// Takes every available sample that carries data, dropping state changes.
    pub fn take_data(&self) -> Vec<T> {
        self.take().into_iter().filter_map(|s| s.value).collect()
    }

    /// Blocks until at least one sample is available, then takes all.
    pub fn take_timeout(&self, timeout: Duration) -> Result<Vec<Sample<T>>, TakeError> {
        let deadline = Instant::now().checked_add(timeout);
        match &self.inner {
            ReaderInner::Memory { core, slot, cv } => {
                if core.wait_for_data(*slot, cv, deadline) {
                    Ok(self.take())
                } else {
                    Err(TakeError::Timeout(timeout))
                }
            }
            #[cfg(feature = "dds")]
            ReaderInner::Dds(r) => {
                let v = r.take_wait(deadline);
                if v.is_empty() {
                    Err(TakeError::Timeout(timeout))
                } else {
                    Ok(v)
                }
            }
        }
    }

    /// How many times data has arrived at this reader so far, where the
    /// backend counts it cheaply (DDS: Cyclone's data-available callbacks,
    /// counted before anyone is woken); `None` on the in-memory bus. A
    /// poller that remembers the count of its last [`Reader::take`] can
    /// skip the next take when the count is unchanged: nothing arrived
    /// since, so the take would find nothing. Saves a call into Cyclone
    /// (locks, a reader-cache scan) per poll of a quiet reader.
    pub fn arrivals(&self) -> Option<u64> {
        match &self.inner {
            ReaderInner::Memory { .. } => None,
            #[cfg(feature = "dds")]
            ReaderInner::Dds(r) => Some(r.arrivals()),
        }
    }

    /// Installs `hook`, run on the thread that delivers data to this reader
    /// whenever samples arrive, before anyone waiting for them is woken
    /// (DDS: a receive thread of Cyclone's for remote writers, the writing
    /// thread for a writer in the same process).
    /// When it returns `true` the arrival counts as handled and waiters
    /// (wait sets, `take_timeout`, `recv`) are not woken; `false` wakes them
    /// as usual. This lets a protocol answer on the delivery thread, with no
    /// thread wake-up in between (the samples stay in the reader: the hook
    /// takes them). The hook must not block; it must not take the lock of
    /// anything that waits for this reader. Replaces any previous hook.
    /// Hooks do not nest: data delivered by a write made inside a hook (to
    /// a reader of this process) wakes that reader's waiters instead.
    ///
    /// Only the DDS backend delivers on a thread of its own; on the
    /// in-memory bus this installs nothing and returns `false`.
    pub fn set_data_hook<F: Fn() -> bool + Send + Sync + 'static>(&self, hook: F) -> bool {
        match &self.inner {
            ReaderInner::Memory { .. } => {
                drop(hook);
                false
            }
            #[cfg(feature = "dds")]
            ReaderInner::Dds(r) => {
                r.set_data_hook(Arc::new(hook));
                true
            }
        }
    }

    /// Waits for the next sample asynchronously (any executor).
    pub fn recv(&self) -> Recv<'_, T> {
        Recv { reader: self }
    }

    /// Copies the queued samples without taking them.
    pub fn read(&self) -> Vec<Sample<T>> {
        match &self.inner {
            ReaderInner::Memory { core, slot, .. } => core.read(*slot),
            #[cfg(feature = "dds")]
            ReaderInner::Dds(r) => r.read(),
        }
    }

    /// The reader's statuses; reading resets their `change` counters.
    pub fn status(&self) -> ReaderStatus {
        match &self.inner {
            ReaderInner::Memory { core, slot, .. } => core.reader_status(*slot, true),
            #[cfg(feature = "dds")]
            ReaderInner::Dds(r) => r.status(),
        }
    }

    /// The participant names of the writers this reader is matched with
    /// now (on DDS as discovery shows them: Twin names its writers after
    /// their participant; a foreign writer may have no name).
    pub fn matched_writer_names(&self) -> Vec<String> {
        match &self.inner {
            ReaderInner::Memory { core, slot, .. } => core.matched_writer_names(*slot),
            #[cfg(feature = "dds")]
            ReaderInner::Dds(r) => r.matched_writer_names(),
        }
    }

    /// A condition that triggers while the reader has samples.
    pub fn read_condition(&self) -> Condition {
        self.condition(None)
    }

    /// A condition that triggers when a status in `mask` changes.
    pub fn status_condition(&self, mask: StatusMask) -> Condition {
        self.condition(Some(mask))
    }

    fn condition(&self, mask: Option<StatusMask>) -> Condition {
        match &self.inner {
            ReaderInner::Memory { core, slot, .. } => Condition {
                source: Arc::new(ReaderCond {
                    core: Arc::clone(core),
                    slot: *slot,
                    id: self.id,
                    mask,
                }),
            },
            #[cfg(feature = "dds")]
            ReaderInner::Dds(r) => Condition {
                source: r.condition(mask),
            },
        }
    }
}

impl<T: TopicType> Drop for Reader<T> {
    fn drop(&mut self) {
        match &self.inner {
            ReaderInner::Memory { core, slot, .. } => core.remove_reader(*slot),
            #[cfg(feature = "dds")]
            ReaderInner::Dds(_) => {}
        }
    }
}

/// Future of [`Reader::recv`].
#[derive(Debug)]
pub struct Recv<'a, T: TopicType> {
    reader: &'a Reader<T>,
}

impl<T: TopicType> Future for Recv<'_, T> {
    type Output = Sample<T>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Sample<T>> {
        match &self.reader.inner {
            ReaderInner::Memory { core, slot, .. } => match core.poll_take(*slot, cx.waker()) {
                Some(s) => Poll::Ready(s),
                None => Poll::Pending,
            },
            #[cfg(feature = "dds")]
            ReaderInner::Dds(r) => match r.poll_take(cx.waker()) {
                Some(s) => Poll::Ready(s),
                None => Poll::Pending,
            },
        }
    }
}

struct ReaderCond<T: TopicType> {
    core: Arc<TopicCore<T>>,
    slot: u32,
    id: ReaderId,
    mask: Option<StatusMask>,
}

impl<T: TopicType> ConditionSource for ReaderCond<T> {
    fn triggered(&self) -> bool {
        if self.core.reader_id(self.slot) != Some(self.id) {
            return false;
        }
        match self.mask {
            None => self.core.has_data(self.slot),
            Some(m) => mask_hit(self.core.reader_changed(self.slot), m),
        }
    }
    fn attach(&self, n: Arc<Notifier>) {
        self.core.attach_reader_notifier(self.slot, n);
    }
    fn detach(&self, n: &Arc<Notifier>) {
        self.core.detach_notifier(n);
    }
}
