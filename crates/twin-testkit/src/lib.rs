//! Internal, dev-only test fixtures shared by the Twin crates.
//!
//! * [`with_timeout`] turns a deadlock into a test failure instead of a hung CI job;
//! * [`eventually`] polls a condition until it holds or a deadline passes;
//! * [`assert_close`] compares floats with relative and absolute tolerance.

use std::{
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

/// Runs `f` on a new thread; panics with `what` if it does not finish
/// within `limit`. A panic inside `f` is propagated.
pub fn with_timeout<R: Send + 'static>(
    what: &str,
    limit: Duration,
    f: impl FnOnce() -> R + Send + 'static,
) -> R {
    let (tx, rx) = mpsc::channel();
    let handle = thread::Builder::new()
        .name(format!("timeout:{what}"))
        .spawn(move || {
            let r = f();
            let _ = tx.send(());
            r
        })
        .expect("spawn test thread");
    match rx.recv_timeout(limit) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Ok(r) => r,
            Err(p) => std::panic::resume_unwind(p),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("`{what}` did not finish within {limit:?} (deadlock or hang?)")
        }
    }
}

/// Polls `cond` every millisecond until it returns true; returns the time it
/// took, or `None` if `limit` passed first.
pub fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if cond() {
            return Some(start.elapsed());
        }
        if start.elapsed() > limit {
            return None;
        }
        thread::sleep(Duration::from_millis(1));
    }
}

/// Asserts `|got - want| <= atol + rtol * |want|`, naming `what` on failure.
#[track_caller]
pub fn assert_close(what: &str, got: f64, want: f64, rtol: f64, atol: f64) {
    let tol = atol + rtol * want.abs();
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, want {want} (|diff| {} > tol {tol})",
        (got - want).abs()
    );
}
