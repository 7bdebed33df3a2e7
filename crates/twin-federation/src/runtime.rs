//! The embedded runtime: a whole federation in one process.
//!
//! The controller and the *inline* members are polled in turn by one loop
//! (deterministic, and fast: no thread hand-off per step); *threaded*
//! members run their own driver loop. Both talk only through the bus, the
//! same protocol a member in another process would use.

use std::{
    ops::Deref,
    panic::{catch_unwind, AssertUnwindSafe},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread::{self, JoinHandle},
    time::{Duration, Instant},
};

use parking_lot::{Mutex, MutexGuard};
use twin_bus::{Bus, GuardCondition, WaitSet, Writer};
use twin_core::{Epoch, SimTime};

use crate::{
    proto::*, Controller, ControllerConfig, DriverPoll, FederationError, Member, MemberDriver,
    StallReport,
};

/// A member to run, with its placement.
pub struct MemberSpec {
    /// Unique member name.
    pub name: String,
    /// Time mode.
    pub mode: TimeMode,
    /// The member.
    pub member: Box<dyn Member>,
    /// Run on its own thread instead of the runtime's loop.
    pub threaded: bool,
}

impl std::fmt::Debug for MemberSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberSpec")
            .field("name", &self.name)
            .field("mode", &self.mode)
            .finish()
    }
}

/// Runtime settings.
#[derive(Clone, Debug)]
pub struct FederationConfig {
    /// Controller settings.
    pub controller: ControllerConfig,
    /// Scenario epoch.
    pub epoch: Epoch,
    /// Scenario seed.
    pub seed: u64,
    /// Wall time without progress before a [`RunEvent::Stall`] is reported.
    pub stall_warning: Duration,
    /// How often [`RunEvent::Progress`] is reported.
    pub progress_every: Duration,
    /// Liveliness lease of members: a member silent (crashed) for longer is lost.
    pub liveliness_lease: Duration,
}

/// Sends control commands from any thread (a UI, a Ctrl-C handler).
#[derive(Clone, Debug)]
pub struct CommandSender {
    writer: Arc<Writer<ControlCommand>>,
    from: String,
}

impl CommandSender {
    /// Creates a sender on `bus` that signs its commands as `from`.
    pub fn new(bus: &Bus, from: &str) -> Result<CommandSender, FederationError> {
        let p = bus.participant(from);
        let w = p.writer(&p.topic(COMMAND_TOPIC)?, protocol_writer())?;
        Ok(CommandSender {
            writer: Arc::new(w),
            from: from.to_owned(),
        })
    }
    /// Sends `command` to the controller.
    pub fn send(&self, command: Command) -> Result<(), FederationError> {
        let c = ControlCommand {
            from: self.from.clone(),
            command,
        };
        self.writer.write(c).map_err(|e| FederationError::Report {
            member: self.from.clone(),
            reason: e.to_string(),
        })
    }
}

/// What the runtime reports while it runs.
#[derive(Debug)]
pub enum RunEvent<'a> {
    /// Periodic progress.
    Progress {
        /// Federation state.
        state: FedState,
        /// Global time.
        time: SimTime,
        /// End time.
        end: SimTime,
        /// Grant rounds so far.
        rounds: u64,
    },
    /// No progress for the configured stall warning time.
    Stall(&'a StallReport),
    /// A member failed and left.
    MemberFailed {
        /// Member.
        member: &'a str,
        /// Why.
        error: &'a FederationError,
    },
}

/// The outcome of [`Federation::run`].
#[derive(Clone, Debug)]
pub struct RunSummary {
    /// Final state (ended).
    pub state: FedState,
    /// Global time reached.
    pub time: SimTime,
    /// Grant rounds issued.
    pub rounds: u64,
    /// Wall time of the run.
    pub wall: Duration,
    /// Grants processed per member, in scenario order.
    pub steps: Vec<(String, u64)>,
    /// Largest lag behind the paced clock.
    pub max_lag: Duration,
    /// Members that failed, with the error text.
    pub failures: Vec<(String, String)>,
}

/// A federation running in this process.
pub struct Federation {
    bus: Bus,
    cfg: FederationConfig,
    controller: Arc<ControllerCell>,
    inline: Vec<MemberDriver>,
    threads: Vec<(String, JoinHandle<Result<u64, FederationError>>)>,
    order: Vec<String>,
}

impl std::fmt::Debug for Federation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Federation")
            .field("members", &self.order)
            .finish()
    }
}

/// The controller, shared by the runtime's loop and, on DDS, the bus's
/// delivery thread: while [`Federation::run`] runs, a report or command
/// arriving over DDS is handled right on the thread that received it (a
/// reader data hook), so the next grant leaves without waking the loop's
/// thread; the loop handles what the hook could not (lock busy), timers,
/// progress and inline members. `Some` until the federation is dropped.
struct ControllerCell {
    ctl: Mutex<Option<Controller>>,
    /// The hook acts only while `run` runs.
    armed: AtomicBool,
    /// Set by the hook when the loop must look (state change, pacing, error).
    wake: GuardCondition,
    /// An error met by the hook, for the loop to return.
    error: Mutex<Option<FederationError>>,
}

impl ControllerCell {
    fn new(c: Controller) -> Arc<ControllerCell> {
        let cell = Arc::new(ControllerCell {
            ctl: Mutex::new(None),
            armed: AtomicBool::new(false),
            wake: GuardCondition::new(),
            error: Mutex::new(None),
        });
        // The hook holds the cell (a cycle through the controller's readers,
        // broken when the federation is dropped and the controller taken out).
        let for_hook = Arc::clone(&cell);
        c.set_data_hook(move || for_hook.on_data());
        *cell.ctl.lock() = Some(c);
        cell
    }

    /// Runs on the DDS delivery thread; `true` when the data was handled.
    fn on_data(&self) -> bool {
        if !self.armed.load(Ordering::Acquire) {
            return false;
        }
        let Some(mut g) = self.ctl.try_lock() else {
            return false;
        };
        let Some(c) = g.as_mut() else { return false };
        if !self.armed.load(Ordering::Acquire) {
            return false;
        }
        let look = match c.poll() {
            Ok(p) => p.wake_at.is_some() || c.state() != FedState::Running,
            Err(e) => {
                *self.error.lock() = Some(e);
                true
            }
        };
        drop(g);
        if look {
            self.wake.set(true);
        }
        true
    }

    fn get(&self) -> impl std::ops::DerefMut<Target = Controller> + '_ {
        MutexGuard::map(self.ctl.lock(), |c| {
            c.as_mut()
                .expect("the controller is taken out only when the federation is dropped")
        })
    }
}

impl Drop for Federation {
    fn drop(&mut self) {
        self.controller.armed.store(false, Ordering::Release);
        // Dropped here, on the owner's thread, never on a delivery thread.
        let c = self.controller.ctl.lock().take();
        drop(c);
    }
}

impl Federation {
    /// Builds the federation: the controller and every member's driver.
    /// Threaded members start at once and wait for the controller.
    pub fn new(
        bus: Bus,
        cfg: FederationConfig,
        members: Vec<MemberSpec>,
    ) -> Result<Self, FederationError> {
        Self::with_remote(bus, cfg, members, Vec::new())
    }

    /// The controller and `members` in this process, and `remote` members
    /// expected to join over the bus from other processes or hosts (a DDS
    /// bus): time starts once all of them are ready. The controller lives
    /// in this process, so killing it ends the federation for all.
    pub fn with_remote(
        bus: Bus,
        mut cfg: FederationConfig,
        members: Vec<MemberSpec>,
        remote: Vec<String>,
    ) -> Result<Self, FederationError> {
        let mut order: Vec<String> = members.iter().map(|m| m.name.clone()).collect();
        order.extend(remote);
        cfg.controller.expected = order.clone();
        let controller = ControllerCell::new(Controller::new(
            bus.participant("controller"),
            cfg.controller.clone(),
        )?);
        let mut inline = Vec::new();
        let mut threads = Vec::new();
        for m in members {
            let d = MemberDriver::new(
                bus.participant(&m.name),
                m.mode,
                m.member,
                cfg.epoch,
                cfg.seed,
                cfg.liveliness_lease,
            )?;
            if m.threaded {
                let h = thread::Builder::new()
                    .name(format!("member:{}", m.name))
                    .spawn(move || d.run_blocking())
                    .map_err(|e| FederationError::Thread(e.to_string()))?;
                threads.push((m.name, h));
            } else {
                inline.push(d);
            }
        }
        Ok(Federation {
            bus,
            cfg,
            controller,
            inline,
            threads,
            order,
        })
    }

    /// The controller alone, for a federation whose members run elsewhere
    /// (other processes or hosts on a DDS bus): it waits for `expected`
    /// members to join over the bus.
    pub fn controller_only(
        bus: Bus,
        cfg: FederationConfig,
        expected: Vec<String>,
    ) -> Result<Self, FederationError> {
        Self::with_remote(bus, cfg, Vec::new(), expected)
    }

    /// The bus the federation runs on.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }
    /// The controller (state, time, grant log, diagnosis). Holds its lock:
    /// drop the guard before [`Federation::run`] or waiting for anything.
    pub fn controller(&self) -> impl Deref<Target = Controller> + '_ {
        self.controller.get()
    }
    /// A command sender for this federation.
    pub fn commands(&self, from: &str) -> Result<CommandSender, FederationError> {
        CommandSender::new(&self.bus, from)
    }
    /// The inline member drivers (e.g. to kill one in a fault test).
    pub fn inline_members(&self) -> &[MemberDriver] {
        &self.inline
    }

    /// Runs until the federation ends. `observer` sees progress, stalls and
    /// failures; it runs on this thread and should return quickly.
    pub fn run(
        &mut self,
        observer: &mut dyn FnMut(RunEvent<'_>),
    ) -> Result<RunSummary, FederationError> {
        let cell = Arc::clone(&self.controller);
        cell.armed.store(true, Ordering::Release);
        let r = self.run_loop(observer);
        let g = cell.ctl.lock();
        cell.armed.store(false, Ordering::Release);
        drop(g);
        r
    }

    fn run_loop(
        &mut self,
        observer: &mut dyn FnMut(RunEvent<'_>),
    ) -> Result<RunSummary, FederationError> {
        let start = Instant::now();
        let cell = Arc::clone(&self.controller);
        let mut ws = WaitSet::new();
        for c in cell.get().conditions() {
            ws.attach(c);
        }
        ws.attach(cell.wake.condition());
        for d in &self.inline {
            for c in d.conditions() {
                ws.attach(c);
            }
        }
        let mut done = vec![false; self.inline.len()];
        let mut failures: Vec<(String, String)> = Vec::new();
        let mut last_report = Instant::now();
        let mut stall_reported = false;
        let mut iter = 0u64;
        let bus = self.bus.clone();
        let mut spin = twin_bus::IdleSpin::new(bus.idle_spin());
        loop {
            cell.wake.set(false);
            if let Some(e) = cell.error.lock().take() {
                return Err(e);
            }
            let cp = cell.get().poll()?;
            let mut progressed = cp.progressed;
            for (k, d) in self.inline.iter_mut().enumerate() {
                if done[k] {
                    continue;
                }
                match catch_unwind(AssertUnwindSafe(|| d.poll())) {
                    Ok(Ok(DriverPoll::Progress)) => progressed = true,
                    Ok(Ok(DriverPoll::Idle)) => {}
                    Ok(Ok(DriverPoll::Done)) => done[k] = true,
                    Ok(Err(e)) => {
                        done[k] = true;
                        observer(RunEvent::MemberFailed {
                            member: d.name(),
                            error: &e,
                        });
                        failures.push((d.name().to_owned(), e.to_string()));
                    }
                    Err(_) => {
                        done[k] = true;
                        d.participant().kill();
                        let e = FederationError::Panicked {
                            member: d.name().to_owned(),
                        };
                        observer(RunEvent::MemberFailed {
                            member: d.name(),
                            error: &e,
                        });
                        failures.push((d.name().to_owned(), e.to_string()));
                    }
                }
            }
            let ended = cell.get().state() == FedState::Ended;
            if ended && done.iter().all(|&x| x) {
                break;
            }
            iter += 1;
            if iter % 256 == 0 || !progressed {
                if last_report.elapsed() >= self.cfg.progress_every {
                    last_report = Instant::now();
                    let (state, time, rounds) = {
                        let c = cell.get();
                        (c.state(), c.time(), c.rounds())
                    };
                    observer(RunEvent::Progress {
                        state,
                        time,
                        end: self.cfg.controller.end,
                        rounds,
                    });
                }
                let (since, state) = {
                    let c = cell.get();
                    (c.since_progress(), c.state())
                };
                let stalled = since >= self.cfg.stall_warning;
                if stalled && !stall_reported && state != FedState::Frozen {
                    stall_reported = true;
                    let report = cell.get().diagnose();
                    observer(RunEvent::Stall(&report));
                } else if !stalled {
                    stall_reported = false;
                }
            }
            if !progressed {
                let mut wait = Duration::from_millis(20);
                if let Some(w) = cp.wake_at {
                    wait = wait.min(w.saturating_duration_since(Instant::now()));
                }
                if !wait.is_zero() {
                    // Spin while reports keep coming (the hooks handle them
                    // without waking this thread), so that this vCPU is not
                    // halted when the next one lands; then block in short
                    // slices, to resume spinning soon after activity resumes.
                    if spin.window().is_zero() {
                        let _ = ws.wait(wait);
                    } else {
                        let park = spin.park(bus.activity());
                        let _ = ws.wait_spinning(wait.min(park), &mut spin, || bus.activity());
                    }
                }
            }
        }
        drop(ws);
        let mut steps: Vec<(String, u64)> = Vec::new();
        for d in &self.inline {
            steps.push((d.name().to_owned(), d.steps()));
        }
        for (name, h) in self.threads.drain(..) {
            match h.join() {
                Ok(Ok(n)) => steps.push((name, n)),
                Ok(Err(e)) => {
                    failures.push((name.clone(), e.to_string()));
                    steps.push((name, 0));
                }
                Err(_) => failures.push((name.clone(), "thread panicked".to_owned())),
            }
        }
        steps.sort_by_key(|(n, _)| self.order.iter().position(|o| o == n));
        let c = cell.get();
        Ok(RunSummary {
            state: c.state(),
            time: c.time(),
            rounds: c.rounds(),
            wall: start.elapsed(),
            steps,
            max_lag: c.max_lag(),
            failures,
        })
    }
}
