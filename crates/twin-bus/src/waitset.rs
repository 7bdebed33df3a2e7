//! Wait-sets: block a thread until any attached condition is true (DDS §2.2.2.1.6).
//!
//! A condition is a read condition (a reader has data), a status condition
//! (a reader's or writer's status in a mask changed since it was last read)
//! or a [`GuardCondition`] set by application code. [`WaitSet::wait`]
//! returns the indices of the triggered conditions, in attach order.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use parking_lot::{Condvar, Mutex};

use crate::{status::StatusMask, TakeError};

/// Wakes a wait-set; held by every entity a wait-set watches.
#[derive(Debug, Default)]
pub(crate) struct Notifier {
    generation: Mutex<u64>,
    cv: Condvar,
}

impl Notifier {
    pub(crate) fn notify(&self) {
        *self.generation.lock() += 1;
        self.cv.notify_all();
    }
}

/// Something a wait-set can wait for.
pub(crate) trait ConditionSource: Send + Sync {
    fn triggered(&self) -> bool;
    fn attach(&self, n: Arc<Notifier>);
    fn detach(&self, n: &Arc<Notifier>);
}

/// A condition to attach to a [`WaitSet`].
#[derive(Clone)]
pub struct Condition {
    pub(crate) source: Arc<dyn ConditionSource>,
}

impl std::fmt::Debug for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Condition")
            .field("triggered", &self.source.triggered())
            .finish()
    }
}

impl Condition {
    /// Whether the condition holds now.
    pub fn is_triggered(&self) -> bool {
        self.source.triggered()
    }
}

/// A condition whose trigger value the application sets.
#[derive(Clone, Debug, Default)]
pub struct GuardCondition {
    inner: Arc<GuardInner>,
}

#[derive(Debug, Default)]
struct GuardInner {
    value: AtomicBool,
    notifiers: Mutex<Vec<Arc<Notifier>>>,
}

impl ConditionSource for GuardInner {
    fn triggered(&self) -> bool {
        self.value.load(Ordering::Acquire)
    }
    fn attach(&self, n: Arc<Notifier>) {
        self.notifiers.lock().push(n);
    }
    fn detach(&self, n: &Arc<Notifier>) {
        self.notifiers.lock().retain(|x| !Arc::ptr_eq(x, n));
    }
}

impl GuardCondition {
    /// A new, untriggered guard.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the trigger value and wakes waiting wait-sets when true.
    pub fn set(&self, value: bool) {
        self.inner.value.store(value, Ordering::Release);
        if value {
            for n in self.inner.notifiers.lock().iter() {
                n.notify();
            }
        }
    }
    /// The condition to attach.
    pub fn condition(&self) -> Condition {
        Condition {
            source: Arc::clone(&self.inner) as Arc<dyn ConditionSource>,
        }
    }
}

/// Waits on several conditions at once.
pub struct WaitSet {
    notifier: Arc<Notifier>,
    conditions: Vec<Condition>,
}

impl std::fmt::Debug for WaitSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitSet")
            .field("conditions", &self.conditions.len())
            .finish()
    }
}

impl Default for WaitSet {
    fn default() -> Self {
        Self::new()
    }
}

impl WaitSet {
    /// An empty wait-set.
    pub fn new() -> Self {
        WaitSet {
            notifier: Arc::default(),
            conditions: Vec::new(),
        }
    }

    /// Attaches a condition; returns its index in the results of [`WaitSet::wait`].
    pub fn attach(&mut self, c: Condition) -> usize {
        c.source.attach(Arc::clone(&self.notifier));
        self.conditions.push(c);
        self.conditions.len() - 1
    }

    /// Indices of the conditions that are triggered now.
    pub fn triggered(&self) -> Vec<usize> {
        (0..self.conditions.len())
            .filter(|&i| self.conditions[i].is_triggered())
            .collect()
    }

    /// Blocks until at least one condition is triggered or `timeout` passes.
    pub fn wait(&self, timeout: Duration) -> Result<Vec<usize>, TakeError> {
        let deadline = Instant::now().checked_add(timeout);
        loop {
            let generation = *self.notifier.generation.lock();
            let hits = self.triggered();
            if !hits.is_empty() {
                return Ok(hits);
            }
            let mut g = self.notifier.generation.lock();
            if *g != generation {
                continue;
            }
            match deadline {
                Some(d) => {
                    if self.notifier.cv.wait_until(&mut g, d).timed_out() {
                        drop(g);
                        let hits = self.triggered();
                        return if hits.is_empty() {
                            Err(TakeError::Timeout(timeout))
                        } else {
                            Ok(hits)
                        };
                    }
                }
                None => self.notifier.cv.wait(&mut g),
            }
        }
    }
}

impl Drop for WaitSet {
    fn drop(&mut self) {
        for c in &self.conditions {
            c.source.detach(&self.notifier);
        }
    }
}

/// A status condition's mask, kept with its source.
pub(crate) fn mask_hit(changed: StatusMask, mask: StatusMask) -> bool {
    changed.intersects(mask)
}
