//! Wait-sets: block a thread until any attached condition is true (DDS §2.2.2.1.6).
//!
//! A condition is a read condition (a reader has data), a status condition
//! (a reader's or writer's status in a mask changed since it was last read)
//! or a [`GuardCondition`] set by application code. [`WaitSet::wait`]
//! returns the indices of the triggered conditions, in attach order.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
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
    /// Notifications so far, readable without the lock (for spinning).
    pulses: AtomicU64,
    cv: Condvar,
}

impl Notifier {
    pub(crate) fn notify(&self) {
        self.pulses.fetch_add(1, Ordering::AcqRel);
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

impl WaitSet {
    /// Like [`WaitSet::wait`], but busy-polls first, while `spin` says so
    /// for the counter `activity` (see [`IdleSpin::keep`]) and `timeout`
    /// allows, before blocking: an "idle strategy" of spin, then yield,
    /// then block. Spinning keeps this CPU out of its idle state, so the
    /// next wake-up of any thread on it is not a wake-up of a halted
    /// (virtual) CPU, which can take 50–150 µs. The spin yields the CPU
    /// every few iterations, so runnable threads are not starved, and
    /// stops (for [`IdleSpin`]'s back-off) as soon as a yield shows other
    /// work waiting for this CPU: a busy CPU does not halt anyway, and the
    /// spin would only take time from that work. `activity` is called
    /// every iteration: keep it cheap (one atomic load).
    pub fn wait_spinning(
        &self,
        timeout: Duration,
        spin: &mut IdleSpin,
        activity: impl Fn() -> u64,
    ) -> Result<Vec<usize>, TakeError> {
        let start = Instant::now();
        let mut pulses = self.notifier.pulses.load(Ordering::Acquire);
        let hits = self.triggered();
        if !hits.is_empty() {
            return Ok(hits);
        }
        let mut i = 0u32;
        while spin.keep(activity()) {
            let now = self.notifier.pulses.load(Ordering::Acquire);
            if now != pulses {
                pulses = now;
                let hits = self.triggered();
                if !hits.is_empty() {
                    return Ok(hits);
                }
            }
            i = i.wrapping_add(1);
            if i % SPINS_PER_YIELD == 0 {
                let before = Instant::now();
                if before.duration_since(start) >= timeout {
                    return Err(TakeError::Timeout(timeout));
                }
                std::thread::yield_now();
                spin.yielded(before.elapsed());
            } else {
                std::hint::spin_loop();
            }
        }
        self.wait(timeout.saturating_sub(start.elapsed()))
    }
}

/// Spin-loop iterations between two yields of [`WaitSet::wait_spinning`]
/// (a pause is ~10–140 cycles: a few µs between yields).
const SPINS_PER_YIELD: u32 = 64;

/// A yield that gave the CPU away for longer than this means other work
/// (beyond a federation's own short receive-path steps) wants the CPU.
const CROWDED_YIELD: Duration = Duration::from_micros(500);

/// How long [`IdleSpin`] does not spin after a crowded yield.
const CROWDED_BACKOFF: Duration = Duration::from_millis(20);

/// When to spin in [`WaitSet::wait_spinning`]: for up to `window` after
/// the last activity (any change of a counter such as
/// [`crate::Bus::activity`]), and not while the CPU looks crowded. A
/// process whose data arrives at intervals shorter than the window keeps
/// spinning between arrivals; one left idle longer blocks; one whose yield
/// handed the CPU to other work for more than 0.5 ms backs off for 20 ms.
/// A zero window never spins.
#[derive(Debug)]
pub struct IdleSpin {
    window: Duration,
    seen: u64,
    since: Instant,
    backoff_until: Option<Instant>,
    /// Activity at the last [`IdleSpin::park`], and its slice.
    parked: (u64, Duration),
}

/// Shortest and longest block of [`IdleSpin::park`].
const PARK_MIN: Duration = Duration::from_millis(1);
const PARK_MAX: Duration = Duration::from_millis(20);

impl IdleSpin {
    /// Spins for up to `window` after the last activity.
    pub fn new(window: Duration) -> Self {
        IdleSpin {
            window,
            seen: 0,
            since: Instant::now(),
            backoff_until: None,
            parked: (0, PARK_MIN),
        }
    }

    /// How long to block once the spin is over, given the activity counter
    /// `now`: data handled on a delivery thread wakes no blocked thread, so
    /// a thread that spins between arrivals blocks in short slices to
    /// resume spinning soon after activity resumes: 1 ms after activity,
    /// doubling while none comes, up to 20 ms (a long-idle process wakes
    /// 50 times a second, as without spinning).
    pub fn park(&mut self, now: u64) -> Duration {
        let (seen, slice) = self.parked;
        let slice = if now == seen {
            (slice * 2).min(PARK_MAX)
        } else {
            PARK_MIN
        };
        self.parked = (now, slice);
        slice
    }

    /// The window.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Records the activity counter `now`; true while its last change is
    /// less than the window ago and no back-off is running.
    pub fn keep(&mut self, now: u64) -> bool {
        if self.window.is_zero() {
            return false;
        }
        let t = Instant::now();
        if now != self.seen {
            self.seen = now;
            self.since = t;
        }
        if let Some(b) = self.backoff_until {
            if t < b {
                return false;
            }
            self.backoff_until = None;
        }
        t.duration_since(self.since) < self.window
    }

    /// Records how long a yield of the spin took; a long one (the CPU went
    /// to other work) starts the back-off.
    pub fn yielded(&mut self, took: Duration) {
        if took > CROWDED_YIELD {
            self.backoff_until = Some(Instant::now() + CROWDED_BACKOFF);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spinning_wait_sees_a_guard_set_by_another_thread_and_times_out_without_one() {
        let g = GuardCondition::new();
        let mut ws = WaitSet::new();
        ws.attach(g.condition());
        // Nothing triggers: spinning for as long as `busy` says, then the
        // blocking rest; the timeout is kept.
        let t = Instant::now();
        let calls = std::cell::Cell::new(0u64);
        let mut spin = IdleSpin::new(Duration::from_secs(10));
        let r = ws.wait_spinning(Duration::from_millis(30), &mut spin, || {
            calls.set(calls.get() + 1);
            0
        });
        assert!(matches!(r, Err(TakeError::Timeout(_))), "{r:?}");
        assert!(t.elapsed() >= Duration::from_millis(30));
        assert!(calls.get() > 100, "spun only {} times", calls.get());
        // Set from another thread while this one spins.
        let g2 = g.clone();
        let h = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5));
            g2.set(true);
        });
        let mut spin = IdleSpin::new(Duration::from_secs(10));
        let hits = ws
            .wait_spinning(Duration::from_secs(10), &mut spin, || 0)
            .unwrap();
        assert_eq!(hits, vec![0]);
        h.join().unwrap();
        // And while it blocks, after the spin ended at once.
        g.set(false);
        let h = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5));
            g.set(true);
        });
        let t = Instant::now();
        assert_eq!(
            ws.wait_spinning(
                Duration::from_secs(10),
                &mut IdleSpin::new(Duration::ZERO),
                || 0
            )
            .unwrap(),
            vec![0]
        );
        assert!(t.elapsed() < Duration::from_secs(5));
        h.join().unwrap();
    }

    #[test]
    fn idle_spin_keeps_spinning_only_within_its_window_of_the_last_activity() {
        assert!(!IdleSpin::new(Duration::ZERO).keep(1));
        let mut s = IdleSpin::new(Duration::from_millis(20));
        assert!(s.keep(0));
        std::thread::sleep(Duration::from_millis(25));
        assert!(!s.keep(0), "no activity for longer than the window");
        assert!(s.keep(1), "activity restarts the window");
        assert!(s.keep(1));
        std::thread::sleep(Duration::from_millis(25));
        assert!(!s.keep(1));
        // A crowded yield: no spinning for the back-off, even with activity.
        assert!(s.keep(2));
        s.yielded(Duration::from_micros(100));
        assert!(s.keep(2), "a short yield is no sign of other work");
        s.yielded(Duration::from_millis(2));
        assert!(!s.keep(3));
        std::thread::sleep(CROWDED_BACKOFF + Duration::from_millis(5));
        assert!(s.keep(4), "spins again after the back-off");
        // Parking: short after activity, doubling while none comes.
        let p: Vec<u64> = [5, 5, 5, 5, 5, 5, 5, 6]
            .iter()
            .map(|&a| s.park(a).as_millis() as u64)
            .collect();
        assert_eq!(p, [1, 2, 4, 8, 16, 20, 20, 1]);
    }
}
