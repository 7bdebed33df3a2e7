//! The member side of the protocol: turns control states and grants into
//! calls on a [`Member`], and reports back.

use twin_bus::{Condition, Participant, Reader, Writer};
use twin_core::{Epoch, SimTime};

use crate::{member::Ctx, proto::*, FederationError, Member, MemberError, Next};

/// Default bound on waiting for data a grant's watermarks promise.
const DATA_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
/// Steps longer than this (wall time) are not run on the delivery thread.
const SHORT_STEP: std::time::Duration = std::time::Duration::from_millis(1);

/// What one [`MemberDriver::poll`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriverPoll {
    /// Something happened; poll again soon.
    Progress,
    /// Nothing to do until data arrives.
    Idle,
    /// The member has finished (federation ended or member left).
    Done,
}

/// Runs one member: the member's loop owner, in its own thread or polled
/// by the in-process runtime.
pub struct MemberDriver {
    member: Box<dyn Member>,
    ctx: Ctx,
    reports: Writer<MemberReport>,
    grants: Option<Reader<TimeGrant>>,
    states: Reader<ControlState>,
    fed_state: FedState,
    joined: bool,
    done: bool,
    steps: u64,
    name: std::sync::Arc<str>,
    grant_buf: Vec<twin_bus::Sample<TimeGrant>>,
    /// The state reader's arrival count at its last take.
    states_seen: Option<u64>,
    /// Grants received, not yet stepped (waiting for data, see [`Written`]).
    queued: std::collections::VecDeque<TimeGrant>,
    /// The watermarks the end state carried.
    final_written: Vec<Written>,
    /// Whether [`MemberDriver::poll`] may block waiting for data.
    may_block: bool,
    /// Set when a poll that may not block left a grant to the caller's
    /// thread (data missing, or the member's steps are long).
    stalled: bool,
    /// Wall time of the member's last `advance` (MAX before the first).
    last_advance: std::time::Duration,
    data_wait: std::time::Duration,
    join_wait: Option<std::time::Instant>,
    on_receive: bool,
    #[cfg(feature = "dds")]
    sync: Option<crate::sync::SyncResponder>,
}

impl std::fmt::Debug for MemberDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberDriver")
            .field("name", &self.ctx.name())
            .finish()
    }
}

impl MemberDriver {
    /// Prepares `member` to join as `participant` with time `mode`.
    pub fn new(
        participant: Participant,
        mode: TimeMode,
        member: Box<dyn Member>,
        epoch: Epoch,
        seed: u64,
        lease: std::time::Duration,
    ) -> Result<MemberDriver, FederationError> {
        let participant_name = participant.name().to_owned();
        let p = &participant;
        let reports = p.writer(
            &p.topic(REPORT_TOPIC)?,
            report_writer().liveliness_lease(lease),
        )?;
        let states = p.reader(&p.topic(STATE_TOPIC)?, state_reader())?;
        #[cfg(feature = "dds")]
        let sync = crate::sync::SyncResponder::new(p)?;
        let grants = match mode {
            TimeMode::Untimed => None,
            _ => {
                let qos = grant_reader().partitions([grant_partition(p.name())]);
                Some(p.reader(&p.topic(GRANT_TOPIC)?, qos)?)
            }
        };
        Ok(MemberDriver {
            member,
            ctx: Ctx::new(participant, mode, epoch, seed),
            reports,
            grants,
            states,
            fed_state: FedState::Initialise,
            joined: false,
            done: false,
            steps: 0,
            name: participant_name.into(),
            grant_buf: Vec::new(),
            states_seen: None,
            queued: std::collections::VecDeque::new(),
            final_written: Vec::new(),
            may_block: true,
            stalled: false,
            last_advance: std::time::Duration::MAX,
            data_wait: DATA_WAIT,
            join_wait: None,
            on_receive: true,
            #[cfg(feature = "dds")]
            sync,
        })
    }

    /// The member's name.
    pub fn name(&self) -> &str {
        self.ctx.name()
    }
    /// Grants processed so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }
    /// The member's current time.
    pub fn now(&self) -> SimTime {
        self.ctx.now
    }
    /// The member's participant (e.g. to kill it in a fault test).
    pub fn participant(&self) -> &Participant {
        &self.ctx.participant
    }

    /// How long a step may wait for other members' data that their reports
    /// say was written (default 10 s); then the member fails with
    /// [`FederationError::DataMissing`].
    pub fn data_wait(&mut self, d: std::time::Duration) {
        self.data_wait = d;
    }

    /// On DDS, lets [`MemberDriver::run_blocking`] step the member right on
    /// the bus's delivery thread when a grant arrives (no wake-up of the
    /// driver's thread between grant and report: about twice the steps/s of
    /// a member with little work per step). On by default. The member's
    /// `advance` then runs on Cyclone's receive thread, which handles
    /// nothing else meanwhile (not even acknowledgements of the member's
    /// own reliable writes), so only short steps run there: a grant is
    /// handed to the driver's thread when the member's previous step took
    /// longer than 1 ms of wall time (and for the first step), and always
    /// when the member has a reliable keep-all timed writer: such a write
    /// blocks once Cyclone's unacknowledged data passes its high-water
    /// mark, until acknowledgements arrive, which this very thread would
    /// have to process (the member's reports use a bounded history for the
    /// same reason, see [`report_writer`]). No effect on the in-memory bus.
    ///
    /// Order: data and grants travel by different writers (and Cyclone
    /// receives multicast and unicast on separate threads), so a grant can
    /// overtake the data other members wrote before they reported. Each
    /// grant therefore carries the other members' watermarks
    /// ([`TimeGrant::after`]) and the member steps only once its readers
    /// hold those samples; when they do not yet, the grant is handed to
    /// the caller's thread, which waits on the readers.
    pub fn step_on_receive(&mut self, on: bool) {
        self.on_receive = on;
    }

    /// Conditions that trigger when the driver has work.
    pub fn conditions(&self) -> Vec<Condition> {
        let mut v = vec![self.states.read_condition()];
        v.extend(self.grants.as_ref().map(|g| g.read_condition()));
        v
    }

    fn send(&self, report: Report) -> Result<(), FederationError> {
        let written = match report {
            Report::Ready => self.ctx.written(&self.name, true),
            Report::Completed { .. } => self.ctx.written(&self.name, false),
            Report::Join { .. } | Report::Leave => Vec::new(),
        };
        let r = MemberReport {
            member: std::sync::Arc::clone(&self.name),
            report,
            written,
        };
        self.reports.write(r).map_err(|e| FederationError::Report {
            member: self.ctx.name().to_owned(),
            reason: e.to_string(),
        })
    }

    fn fail(&mut self, e: MemberError) -> FederationError {
        self.done = true;
        let _ = self.send(Report::Leave);
        FederationError::Member {
            member: self.ctx.name().to_owned(),
            source: e,
        }
    }

    /// Does what can be done now. Never blocks (except inside the member).
    pub fn poll(&mut self) -> Result<DriverPoll, FederationError> {
        if self.done {
            return Ok(DriverPoll::Done);
        }
        let mut progress = false;
        if !self.joined {
            // Across processes the controller is found by discovery: join
            // once it reads our reports (bounded, then join regardless).
            if self.ctx.participant().bus().is_dds()
                && self.reports.status().matched_current == 0
                && self
                    .join_wait
                    .get_or_insert_with(std::time::Instant::now)
                    .elapsed()
                    < std::time::Duration::from_secs(60)
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
                return Ok(DriverPoll::Idle);
            }
            self.send(Report::Join {
                mode: self.ctx.mode,
            })?;
            if let Err(e) = self.member.init(&mut self.ctx) {
                return Err(self.fail(e));
            }
            self.send(Report::Ready)?;
            self.joined = true;
            progress = true;
        }
        #[cfg(feature = "dds")]
        if self.fed_state == FedState::Initialise {
            if let Some(s) = &mut self.sync {
                let (ctx, me) = (&self.ctx, &self.name);
                let reads = |topic: &str| {
                    ctx.tracked
                        .lock()
                        .iter()
                        .filter_map(std::sync::Weak::upgrade)
                        .any(|t| t.topic() == topic)
                };
                progress |= s.poll(reads, |w| initial_missing(ctx, me, w))?;
            }
        }
        // A take per poll only when something arrived (DDS counts arrivals).
        let arrived = self.states.arrivals();
        let states = if arrived.is_none() || arrived != self.states_seen {
            self.states_seen = arrived;
            self.states.take()
        } else {
            Vec::new()
        };
        for s in states {
            let Some(st) = s.value else { continue };
            if st.state == FedState::Ended {
                self.final_written = st.written;
            }
            if st.state != self.fed_state {
                self.fed_state = st.state;
                self.member.on_state(&mut self.ctx, st.state);
                progress = true;
            }
        }
        if let Some(grants) = &self.grants {
            let mut buf = std::mem::take(&mut self.grant_buf);
            grants.take_into(&mut buf, usize::MAX);
            self.queued.extend(buf.drain(..).filter_map(|g| g.value));
            self.grant_buf = buf;
            while !self.queued.is_empty() {
                let after = std::mem::take(&mut self.queued[0].after);
                if !self.await_written(&after)? {
                    self.queued[0].after = after;
                    self.stalled = true;
                    return Ok(DriverPoll::Idle);
                }
                if !self.may_block
                    && (self.last_advance > SHORT_STEP || self.ctx.has_blocking_writer())
                {
                    // A long step, or one whose writes could block (see
                    // `step_on_receive`): not on the delivery thread.
                    self.stalled = true;
                    return Ok(DriverPoll::Idle);
                }
                let Some(g) = self.queued.pop_front() else {
                    break;
                };
                self.ctx.now = g.time;
                let began = std::time::Instant::now();
                let next = match self.member.advance(&mut self.ctx, g.time) {
                    Ok(n) => n,
                    Err(e) => return Err(self.fail(e)),
                };
                self.last_advance = began.elapsed();
                if self.steps == 0 {
                    for t in self
                        .ctx
                        .tracked
                        .lock()
                        .iter()
                        .filter_map(std::sync::Weak::upgrade)
                    {
                        t.settle();
                    }
                }
                let next = match (self.ctx.mode, next) {
                    (TimeMode::Stepped { dt }, _) => g.time.saturating_add(dt),
                    (_, Next::At(t)) => t.max(g.time),
                    (_, Next::Default | Next::Idle) => SimTime::MAX,
                };
                let published_min = self.ctx.take_published_min();
                self.send(Report::Completed {
                    granted: g.time,
                    next,
                    published_min,
                })?;
                self.steps += 1;
                progress = true;
                if self.ctx.leave_requested {
                    self.leave()?;
                    return Ok(DriverPoll::Done);
                }
            }
        } else if self.fed_state == FedState::Running {
            if let Err(e) = self.member.react(&mut self.ctx) {
                return Err(self.fail(e));
            }
        }
        if self.fed_state == FedState::Ended {
            let after = std::mem::take(&mut self.final_written);
            if !self.await_written(&after)? {
                self.final_written = after;
                self.stalled = true;
                return Ok(DriverPoll::Idle);
            }
            return self.finish().map(|()| DriverPoll::Done);
        }
        Ok(if progress {
            DriverPoll::Progress
        } else {
            DriverPoll::Idle
        })
    }

    /// Whether the member's readers hold every sample `after` promises
    /// (other members' writes on topics it reads from writers it is
    /// matched with). On DDS only: in memory a write is delivered before
    /// it returns. When [`Self::may_block`] is set, waits on the readers
    /// for at most the data wait; otherwise answers at once.
    fn await_written(&mut self, after: &[Written]) -> Result<bool, FederationError> {
        if after.is_empty() || !self.ctx.participant.bus().is_dds() {
            return Ok(true);
        }
        let tracked: Vec<_> = self
            .ctx
            .tracked
            .lock()
            .iter()
            .filter_map(std::sync::Weak::upgrade)
            .collect();
        let missing = || {
            for w in after.iter().filter(|w| *w.member != *self.name) {
                let readers = tracked
                    .iter()
                    .filter(|t| t.topic() == &*w.topic && (!w.initial || t.durable()));
                for t in readers {
                    // Historical samples of a late-matched reader may come
                    // after live ones: count them instead of the sequence.
                    let (seen, want) = if w.initial {
                        (t.received(&w.member, w.count), w.held)
                    } else {
                        (t.seen(&w.member), w.count)
                    };
                    if seen < want && t.matched_with(&w.member) {
                        return Some((w, seen, want));
                    }
                }
            }
            None
        };
        let Some(_) = missing() else {
            return Ok(true);
        };
        if !self.may_block {
            return Ok(false);
        }
        let mut ws = twin_bus::WaitSet::new();
        for t in &tracked {
            ws.attach(t.condition());
        }
        let start = std::time::Instant::now();
        let mut spin = twin_bus::IdleSpin::new(self.ctx.participant.bus().idle_spin());
        loop {
            let Some((w, seen, want)) = missing() else {
                return Ok(true);
            };
            let waited = start.elapsed();
            if waited >= self.data_wait {
                return Err(FederationError::DataMissing {
                    member: self.ctx.name().to_owned(),
                    from: w.member.to_string(),
                    topic: w.topic.to_string(),
                    expected: want,
                    seen,
                    waited,
                });
            }
            // Woken by arrivals; the bound re-checks matches (a writer that
            // died is unmatched and no longer waited for).
            let bound = (self.data_wait - waited).min(std::time::Duration::from_millis(50));
            let bus = self.ctx.participant.bus();
            let _ = ws.wait_spinning(bound, &mut spin, || bus.activity());
        }
    }

    /// Ends the member: calls [`Member::finish`] once.
    pub fn finish(&mut self) -> Result<(), FederationError> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        if self.grants.is_none() {
            // Untimed members see what arrived up to the end.
            let _ = self.member.react(&mut self.ctx);
        }
        self.member
            .finish(&mut self.ctx)
            .map_err(|e| FederationError::Member {
                member: self.ctx.name().to_owned(),
                source: e,
            })
    }

    /// Runs this driver on the calling thread until the member is done;
    /// returns the number of grants processed. A panic in the member is
    /// treated as a crash: its participant is killed, nothing is said.
    pub fn run_blocking(mut self) -> Result<u64, FederationError> {
        if self.on_receive && self.ctx.participant.bus().is_dds() {
            return OnReceive::run(self);
        }
        let mut ws = twin_bus::WaitSet::new();
        for c in self.conditions() {
            ws.attach(c);
        }
        let bus = self.ctx.participant.bus().clone();
        let mut spin = twin_bus::IdleSpin::new(bus.idle_spin());
        loop {
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.poll())) {
                Ok(Ok(DriverPoll::Done)) => return Ok(self.steps),
                Ok(Ok(DriverPoll::Progress)) => {}
                Ok(Ok(DriverPoll::Idle)) => idle_wait(&ws, &bus, &mut spin),
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    self.ctx.participant.kill();
                    return Err(FederationError::Panicked {
                        member: self.name().to_owned(),
                    });
                }
            }
        }
    }

    /// Leaves a running federation gracefully.
    pub fn leave(&mut self) -> Result<(), FederationError> {
        self.send(Report::Leave)?;
        self.finish()
    }
}

/// Waits on `ws` for the driver's next poll: with a spin window, busy-polls
/// while data keeps arriving (see [`twin_bus::WaitSet::wait_spinning`]),
/// then blocks for [`twin_bus::IdleSpin::park`]'s slice (data handled on
/// the delivery thread wakes no one, so spinning resumes at the next
/// slice); without, blocks for up to 20 ms.
fn idle_wait(ws: &twin_bus::WaitSet, bus: &twin_bus::Bus, spin: &mut twin_bus::IdleSpin) {
    if spin.window().is_zero() {
        let _ = ws.wait(std::time::Duration::from_millis(20));
    } else {
        let park = spin.park(bus.activity());
        let _ = ws.wait_spinning(park, spin, || bus.activity());
    }
}

/// What of the initial watermarks `written` the transient-local readers of
/// member `me` lack, one line each (for the discovery barrier).
#[cfg(feature = "dds")]
fn initial_missing(ctx: &Ctx, me: &str, written: &[Written]) -> Vec<String> {
    let tracked: Vec<_> = ctx
        .tracked
        .lock()
        .iter()
        .filter_map(std::sync::Weak::upgrade)
        .collect();
    let mut out = Vec::new();
    for w in written.iter().filter(|w| w.initial && *w.member != *me) {
        for t in tracked
            .iter()
            .filter(|t| t.durable() && t.topic() == &*w.topic)
        {
            let got = t.received(&w.member, w.count);
            if got < w.held && t.matched_with(&w.member) {
                out.push(format!(
                    "`{}`: {got} of {} initial samples of `{}`",
                    w.topic, w.held, w.member
                ));
            }
        }
    }
    out
}

/// A driver stepped on the DDS delivery thread (see
/// [`MemberDriver::step_on_receive`]) and, for what the hooks cannot do
/// (lock busy, discovery barrier, timeouts), on the caller's thread.
struct OnReceive {
    driver: parking_lot::Mutex<Option<MemberDriver>>,
    /// How the run ended, once it has.
    outcome: parking_lot::Mutex<Option<Result<u64, FederationError>>>,
    wake: twin_bus::GuardCondition,
}

impl OnReceive {
    fn run(d: MemberDriver) -> Result<u64, FederationError> {
        let mut ws = twin_bus::WaitSet::new();
        for c in d.conditions() {
            ws.attach(c);
        }
        let me = std::sync::Arc::new(OnReceive {
            driver: parking_lot::Mutex::new(None),
            outcome: parking_lot::Mutex::new(None),
            wake: twin_bus::GuardCondition::new(),
        });
        ws.attach(me.wake.condition());
        // The hooks hold `me`: a cycle through the driver's readers, broken
        // below when the driver is taken out and dropped on this thread.
        let hook = {
            let me = std::sync::Arc::clone(&me);
            move || me.step(true)
        };
        // Grants only: a state change (the end, above all) is left to the
        // caller's thread, whose wake-up lets data still in flight land
        // before an untimed member's last `react` and `finish`.
        if let Some(g) = &d.grants {
            g.set_data_hook(hook);
        }
        let bus = d.ctx.participant.bus().clone();
        let mut spin = twin_bus::IdleSpin::new(bus.idle_spin());
        *me.driver.lock() = Some(d);
        let out = loop {
            me.wake.set(false);
            if let Some(r) = me.outcome.lock().take() {
                break r;
            }
            if !me.step(false) {
                // Grants are stepped on the delivery thread without waking
                // this one: it spins only to keep its vCPU awake.
                idle_wait(&ws, &bus, &mut spin);
            }
        };
        let d = me.driver.lock().take();
        drop(d);
        out
    }

    /// Polls the driver once. On the delivery thread (`hook`): `false`
    /// when the lock is busy (the caller's thread is woken to do it). On
    /// the caller's thread: whether to poll again at once.
    fn step(&self, hook: bool) -> bool {
        let mut g = if hook {
            match self.driver.try_lock() {
                Some(g) => g,
                None => return false,
            }
        } else {
            self.driver.lock()
        };
        let Some(d) = g.as_mut() else { return false };
        if hook && !d.joined {
            return false; // joining waits for discovery: the caller's thread does it
        }
        d.may_block = !hook;
        d.stalled = false;
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| d.poll()));
        d.may_block = true;
        let end = match r {
            Ok(Ok(DriverPoll::Progress | DriverPoll::Idle)) if hook && d.stalled => {
                // Data the grant promises has not landed (this thread may be
                // the one to deliver it), or the step is long: the caller's
                // thread does it.
                drop(g);
                self.wake.set(true);
                return true;
            }
            Ok(Ok(DriverPoll::Progress)) => return true,
            Ok(Ok(DriverPoll::Idle)) => return hook,
            Ok(Ok(DriverPoll::Done)) => Ok(d.steps),
            Ok(Err(e)) => Err(e),
            Err(_) => {
                d.ctx.participant.kill();
                d.done = true;
                Err(FederationError::Panicked {
                    member: d.name().to_owned(),
                })
            }
        };
        // Done: the driver is left in place (polls answer Done) until the
        // caller's thread takes it out.
        let mut o = self.outcome.lock();
        if o.is_none() {
            *o = Some(end);
        }
        drop(o);
        drop(g);
        self.wake.set(true);
        hook
    }
}
