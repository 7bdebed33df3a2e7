//! Typed writers.

use std::sync::Arc;

use twin_core::SimTime;

use crate::{
    memory::topic::TopicCore,
    status::{StatusMask, WriterStatus},
    waitset::{mask_hit, Condition, ConditionSource, Notifier},
    InstanceHandle, PublishError, TopicType, WriterId,
};

/// Publishes samples of `T` on one topic.
///
/// Dropping a writer deletes it gracefully: its instances are unregistered
/// and, under exclusive ownership, the next writer takes over at once.
#[derive(Debug)]
pub struct Writer<T: TopicType> {
    pub(crate) inner: WriterInner<T>,
    pub(crate) id: WriterId,
}

pub(crate) enum WriterInner<T: TopicType> {
    Memory {
        core: Arc<TopicCore<T>>,
        slot: u32,
    },
    #[cfg(feature = "dds")]
    Dds(crate::dds::DdsWriter<T>),
}

impl<T: TopicType> std::fmt::Debug for WriterInner<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriterInner::Memory { core, slot } => write!(f, "MemoryWriter({}#{slot})", core.name),
            #[cfg(feature = "dds")]
            WriterInner::Dds(w) => w.fmt(f),
        }
    }
}

impl<T: TopicType> Writer<T> {
    /// This writer's id.
    pub fn id(&self) -> WriterId {
        self.id
    }

    /// Writes a sample. On failure the sample comes back inside the error.
    pub fn write(&self, value: T) -> Result<(), PublishError<T>> {
        match &self.inner {
            WriterInner::Memory { core, slot } => core.write(*slot, value, None),
            #[cfg(feature = "dds")]
            WriterInner::Dds(w) => w.write(value, None),
        }
    }

    /// Writes a sample stamped with simulation time `t`.
    pub fn write_at(&self, value: T, t: SimTime) -> Result<(), PublishError<T>> {
        match &self.inner {
            WriterInner::Memory { core, slot } => core.write(*slot, value, Some(t)),
            #[cfg(feature = "dds")]
            WriterInner::Dds(w) => w.write(value, Some(t)),
        }
    }

    /// Registers an instance without writing data (it then counts as one of
    /// this writer's instances for ownership and liveliness).
    pub fn register(&self, key: &T::Key) -> InstanceHandle {
        match &self.inner {
            WriterInner::Memory { core, slot } => core.register(*slot, key),
            #[cfg(feature = "dds")]
            WriterInner::Dds(w) => w.register(key),
        }
    }

    /// Unregisters an instance; false if this writer had not registered it.
    pub fn unregister(&self, key: &T::Key) -> bool {
        match &self.inner {
            WriterInner::Memory { core, slot } => core.unregister(*slot, key),
            #[cfg(feature = "dds")]
            WriterInner::Dds(w) => w.unregister(key),
        }
    }

    /// Disposes an instance: readers see it as deleted and late joiners do
    /// not receive it. False if the key was never written.
    pub fn dispose(&self, key: &T::Key) -> bool {
        match &self.inner {
            WriterInner::Memory { core, slot } => core.dispose(*slot, key),
            #[cfg(feature = "dds")]
            WriterInner::Dds(w) => w.dispose(key),
        }
    }

    /// Sends what a batching writer ([`crate::WriterQos::batching`]) holds
    /// back; nothing to do otherwise.
    pub fn flush(&self) {
        match &self.inner {
            WriterInner::Memory { .. } => {}
            #[cfg(feature = "dds")]
            WriterInner::Dds(w) => w.flush(),
        }
    }

    /// Asserts liveliness without writing (manual liveliness).
    pub fn assert_liveliness(&self) {
        match &self.inner {
            WriterInner::Memory { core, slot } => core.assert_liveliness(*slot),
            #[cfg(feature = "dds")]
            WriterInner::Dds(w) => w.assert_liveliness(),
        }
    }

    /// The writer's statuses; reading resets their `change` counters.
    pub fn status(&self) -> WriterStatus {
        match &self.inner {
            WriterInner::Memory { core, slot } => core.writer_status(*slot, true),
            #[cfg(feature = "dds")]
            WriterInner::Dds(w) => w.status(),
        }
    }

    /// A condition that triggers when a status in `mask` changes.
    pub fn status_condition(&self, mask: StatusMask) -> Condition {
        match &self.inner {
            WriterInner::Memory { core, slot } => Condition {
                source: Arc::new(WriterStatusCond {
                    core: Arc::clone(core),
                    slot: *slot,
                    mask,
                }),
            },
            #[cfg(feature = "dds")]
            WriterInner::Dds(w) => Condition {
                source: w.condition(mask),
            },
        }
    }
}

impl<T: TopicType> Drop for Writer<T> {
    fn drop(&mut self) {
        match &self.inner {
            WriterInner::Memory { core, slot } => core.remove_writer(*slot),
            #[cfg(feature = "dds")]
            WriterInner::Dds(_) => {}
        }
    }
}

struct WriterStatusCond<T: TopicType> {
    core: Arc<TopicCore<T>>,
    slot: u32,
    mask: StatusMask,
}

impl<T: TopicType> ConditionSource for WriterStatusCond<T> {
    fn triggered(&self) -> bool {
        mask_hit(self.core.writer_changed(self.slot), self.mask)
    }
    fn attach(&self, n: Arc<Notifier>) {
        self.core.attach_writer_notifier(self.slot, n);
    }
    fn detach(&self, n: &Arc<Notifier>) {
        self.core.detach_notifier(n);
    }
}
