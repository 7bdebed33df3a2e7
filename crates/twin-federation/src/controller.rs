//! The controller: one per federation, the only owner of global time.
//!
//! It drives the control states and grants time conservatively. Member `i`
//! waiting with request `r_i` is granted `r_i` when no other member can
//! still publish data stamped before `r_i`, i.e. when
//!
//! ```text
//! r_i ≤ min_{k≠i} ( busy k: g_k + L_k ;  waiting k: r_k + L_k )
//! ```
//!
//! where `g_k` is k's outstanding grant and `L_k` its lookahead (0 for
//! stepped members). With the visibility rule of [`crate::TimedReader`]
//! (data stamped `t` is seen by members granted after `t`), members granted
//! concurrently never see each other's new data, so results do not depend
//! on thread timing. Event members' requests are lowered to `m + 1 ns` when
//! another member published data stamped `m`, so they wake for data.
//! This is the conservative time-advance of HLA (IEEE 1516.1 §8) with
//! time-stepped members as "next time = now + Δt" requests.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use twin_bus::{InstanceState, Participant, Reader, Topic, Writer};
use twin_core::{SimDuration, SimTime};

use crate::{proto::*, FederationError};

/// What the controller does when a member dies (liveliness lost).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LostPolicy {
    /// Freeze the federation so an operator can decide; the member is dropped on resume.
    Freeze,
    /// Drop the member and go on.
    Drop,
}

/// Controller settings, usually from the scenario.
#[derive(Clone, Debug)]
pub struct ControllerConfig {
    /// Federation name.
    pub name: String,
    /// End time.
    pub end: SimTime,
    /// Wall-clock pacing ratio (sim s per wall s); 0 = as fast as possible.
    pub pacing: f64,
    /// Members that must be ready before running.
    pub expected: Vec<String>,
    /// Policy for dead members.
    pub on_member_lost: LostPolicy,
    /// Start frozen instead of running.
    pub start_frozen: bool,
    /// How often to publish [`FederationStatus`] (wall time).
    pub status_every: Duration,
    /// Keep a log of every grant (tests, diagnosis).
    pub record_grants: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Joined,
    Ready,
    Waiting(SimTime),
    Busy(SimTime),
    Left,
    Lost,
}

struct Rec {
    name: Arc<str>,
    mode: TimeMode,
    phase: Phase,
    completed: SimTime,
    last_report: Instant,
    pending_data: Option<SimTime>,
    grants: Option<Writer<TimeGrant>>,
    /// Its watermarks as of its last completion.
    written: Vec<Written>,
}

impl Rec {
    fn timed(&self) -> bool {
        self.mode != TimeMode::Untimed && !matches!(self.phase, Phase::Left | Phase::Lost)
    }
    fn lookahead(&self) -> SimDuration {
        match self.mode {
            TimeMode::Event { lookahead } => lookahead,
            _ => SimDuration::ZERO,
        }
    }
    /// The request the grant rule uses (event members wake for data).
    fn effective(&self, r: SimTime) -> SimTime {
        match (self.mode, self.pending_data) {
            (TimeMode::Event { .. }, Some(m)) => {
                r.min(m.saturating_add(SimDuration::from_nanos(1)))
            }
            _ => r,
        }
    }
}

/// One grant, for logs and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantRecord {
    /// Grant round.
    pub round: u64,
    /// Member name.
    pub member: String,
    /// Granted time.
    pub time: SimTime,
}

/// The result of one [`Controller::poll`].
#[derive(Clone, Copy, Debug, Default)]
pub struct ControllerPoll {
    /// Something changed.
    pub progressed: bool,
    /// Poll again no later than this (pacing).
    pub wake_at: Option<Instant>,
}

/// A snapshot explaining why time does not advance.
#[derive(Clone, Debug, PartialEq)]
pub struct StallReport {
    /// Federation state.
    pub state: FedState,
    /// Global time.
    pub time: SimTime,
    /// Wall time since the last grant or state change.
    pub stalled_for: Duration,
    /// Members holding time back: not ready, or busy with a grant.
    pub blocking: Vec<MemberStatus>,
    /// Every member.
    pub members: Vec<MemberStatus>,
}

impl std::fmt::Display for StallReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "federation {} at t = {} has made no progress for {:.1} s",
            self.state,
            self.time,
            self.stalled_for.as_secs_f64()
        )?;
        for m in &self.members {
            let mark = if self.blocking.iter().any(|b| b.name == m.name) {
                "*"
            } else {
                " "
            };
            let req = m.requested.map_or("-".to_owned(), |t| t.to_string());
            writeln!(
                f,
                " {mark} {:<16} {:<8} completed {}  request/grant {}  last report {} ms ago",
                m.name, m.phase, m.completed, req, m.since_report_ms
            )?;
        }
        write!(f, "   (* = the grant waits for this member)")
    }
}

/// The federation's controller and time manager.
pub struct Controller {
    cfg: ControllerConfig,
    participant: Participant,
    state_w: Writer<ControlState>,
    status_w: Writer<FederationStatus>,
    reports: Reader<MemberReport>,
    commands: Reader<ControlCommand>,
    grant_topic: Topic<TimeGrant>,
    members: Vec<Rec>,
    by_name: HashMap<String, usize>,
    state: FedState,
    time: SimTime,
    rounds: u64,
    pacing: f64,
    anchor: (Instant, SimTime),
    lag: Duration,
    max_lag: Duration,
    started: Instant,
    last_progress: Instant,
    last_status: Instant,
    run_requested: bool,
    all_ready_at: Option<Instant>,
    log: Vec<GrantRecord>,
    polls: u64,
    progress_pending: bool,
    report_buf: Vec<twin_bus::Sample<MemberReport>>,
    /// The command reader's arrival count at its last take.
    commands_seen: Option<u64>,
    #[cfg(feature = "dds")]
    sync: Option<crate::sync::SyncBarrier>,
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller")
            .field("state", &self.state)
            .field("time", &self.time)
            .finish()
    }
}

impl Controller {
    /// Creates the controller as participant `participant`.
    pub fn new(
        participant: Participant,
        cfg: ControllerConfig,
    ) -> Result<Controller, FederationError> {
        let p = &participant;
        let state_w = p.writer(&p.topic(STATE_TOPIC)?, state_writer())?;
        let status_w = p.writer(&p.topic(STATUS_TOPIC)?, state_writer())?;
        let reports = p.reader(&p.topic(REPORT_TOPIC)?, protocol_reader())?;
        let commands = p.reader(&p.topic(COMMAND_TOPIC)?, protocol_reader())?;
        let grant_topic = p.topic(GRANT_TOPIC)?;
        #[cfg(feature = "dds")]
        let sync = crate::sync::SyncBarrier::new(p)?;
        let now = Instant::now();
        let pacing = cfg.pacing;
        let mut c = Controller {
            cfg,
            participant,
            state_w,
            status_w,
            reports,
            commands,
            grant_topic,
            members: Vec::new(),
            by_name: HashMap::new(),
            state: FedState::Initialise,
            time: SimTime::ZERO,
            rounds: 0,
            pacing,
            anchor: (now, SimTime::ZERO),
            lag: Duration::ZERO,
            max_lag: Duration::ZERO,
            started: now,
            last_progress: now,
            last_status: now,
            run_requested: true,
            all_ready_at: None,
            log: Vec::new(),
            polls: 0,
            progress_pending: false,
            report_buf: Vec::new(),
            commands_seen: None,
            #[cfg(feature = "dds")]
            sync,
        };
        c.broadcast_state();
        Ok(c)
    }

    /// Current state.
    pub fn state(&self) -> FedState {
        self.state
    }
    /// Global time: every timed member has completed it.
    pub fn time(&self) -> SimTime {
        self.time
    }
    /// Grant rounds issued.
    pub fn rounds(&self) -> u64 {
        self.rounds
    }
    /// Largest lag behind the paced wall clock seen so far.
    pub fn max_lag(&self) -> Duration {
        self.max_lag
    }
    /// Every grant issued, if `record_grants` was set.
    pub fn grant_log(&self) -> &[GrantRecord] {
        &self.log
    }
    /// Wall time since the last progress.
    pub fn since_progress(&self) -> Duration {
        self.last_progress.elapsed()
    }
    /// Condition that triggers when a report or command arrives.
    pub fn conditions(&self) -> Vec<twin_bus::Condition> {
        vec![
            self.reports.read_condition(),
            self.commands.read_condition(),
        ]
    }

    /// Installs `hook` on the readers of reports and commands (see
    /// [`twin_bus::Reader::set_data_hook`]); `false` on the in-memory bus.
    pub(crate) fn set_data_hook<F: Fn() -> bool + Clone + Send + Sync + 'static>(
        &self,
        hook: F,
    ) -> bool {
        self.reports.set_data_hook(hook.clone()) && self.commands.set_data_hook(hook)
    }

    fn broadcast_state(&mut self) {
        let s = ControlState {
            federation: self.cfg.name.clone(),
            state: self.state,
            time: self.time,
            end: self.cfg.end,
            written: self.watermarks(None),
        };
        if let Err(e) = self.state_w.write(s) {
            tracing::error!("cannot broadcast federation state: {e}");
        }
        self.publish_status();
    }

    /// Every member's watermarks but `except`'s; a lost member's are left
    /// out (nothing more of it will arrive).
    fn watermarks(&self, except: Option<usize>) -> Vec<Written> {
        self.members
            .iter()
            .enumerate()
            .filter(|(k, m)| Some(*k) != except && m.phase != Phase::Lost)
            .flat_map(|(_, m)| m.written.iter().cloned())
            .collect()
    }

    fn set_state(&mut self, s: FedState) {
        if self.state != s {
            tracing::info!(from = %self.state, to = %s, time = %self.time, "federation state");
            self.state = s;
            if s == FedState::Running {
                self.anchor = (Instant::now(), self.time);
            }
            self.last_progress = Instant::now();
            self.broadcast_state();
        }
    }

    /// Member statuses as published.
    pub fn member_statuses(&self) -> Vec<MemberStatus> {
        self.members
            .iter()
            .map(|m| {
                let (phase, requested) = match m.phase {
                    Phase::Joined => ("joined", None),
                    Phase::Ready => ("ready", None),
                    Phase::Waiting(r) => ("waiting", Some(r)),
                    Phase::Busy(g) => ("busy", Some(g)),
                    Phase::Left => ("left", None),
                    Phase::Lost => ("lost", None),
                };
                MemberStatus {
                    name: m.name.to_string(),
                    mode: m.mode,
                    phase: phase.to_owned(),
                    completed: m.completed,
                    requested,
                    since_report_ms: m.last_report.elapsed().as_millis() as u64,
                }
            })
            .collect()
    }

    /// Why time is not advancing, member by member.
    pub fn diagnose(&self) -> StallReport {
        let members = self.member_statuses();
        let blocking = members
            .iter()
            .zip(&self.members)
            .filter(|(_, m)| match m.phase {
                Phase::Busy(_) => true,
                Phase::Joined => self.state == FedState::Initialise,
                _ => false,
            })
            .map(|(s, _)| s.clone())
            .collect();
        StallReport {
            state: self.state,
            time: self.time,
            stalled_for: self.since_progress(),
            blocking,
            members,
        }
    }

    /// Measured lag behind the paced clock and achieved speed.
    pub fn pacing_report(&self) -> (f64, Duration, f64) {
        let wall = self.started.elapsed().as_secs_f64();
        let speed = if wall > 0.0 {
            self.time.as_secs_f64() / wall
        } else {
            0.0
        };
        (self.pacing, self.lag, speed)
    }

    fn publish_status(&mut self) {
        let (pacing, lag, speed) = self.pacing_report();
        let st = FederationStatus {
            federation: self.cfg.name.clone(),
            state: self.state,
            time: self.time,
            rounds: self.rounds,
            pacing,
            lag_ms: lag.as_secs_f64() * 1e3,
            speed,
            members: self.member_statuses(),
        };
        let _ = self.status_w.write(st);
        self.last_status = Instant::now();
    }

    fn command(&mut self, c: ControlCommand) {
        tracing::info!(from = %c.from, command = ?c.command, "control command");
        match c.command {
            Command::Run => {
                self.run_requested = true;
                if self.state == FedState::Frozen {
                    self.set_state(FedState::Running);
                }
            }
            Command::Freeze if self.state == FedState::Running => self.set_state(FedState::Frozen),
            Command::Freeze if self.state == FedState::Initialise => self.run_requested = false,
            Command::Resume if self.state == FedState::Frozen => {
                for m in &mut self.members {
                    if m.phase == Phase::Lost {
                        m.phase = Phase::Left;
                    }
                }
                self.set_state(FedState::Running)
            }
            Command::End => self.set_state(FedState::Ended),
            Command::SetPacing { ratio } if ratio.is_finite() && ratio >= 0.0 => {
                self.pacing = ratio;
                self.anchor = (Instant::now(), self.time);
            }
            _ => {}
        }
    }

    fn join(&mut self, name: &str, mode: TimeMode) -> Result<(), FederationError> {
        let grants = match mode {
            TimeMode::Untimed => None,
            _ => {
                let qos = grant_writer().partitions([grant_partition(name)]);
                Some(self.participant.writer(&self.grant_topic, qos)?)
            }
        };
        let rec = Rec {
            name: name.into(),
            mode,
            phase: Phase::Joined,
            completed: self.time,
            last_report: Instant::now(),
            pending_data: None,
            grants,
            written: Vec::new(),
        };
        match self.by_name.get(name) {
            Some(&i) => self.members[i] = rec,
            None => {
                self.by_name.insert(name.to_owned(), self.members.len());
                self.members.push(rec);
            }
        }
        tracing::info!(member = name, ?mode, "member joined");
        Ok(())
    }

    fn first_request(&self, m: &Rec) -> Phase {
        match m.mode {
            TimeMode::Stepped { dt } => Phase::Waiting(self.time.saturating_add(dt)),
            TimeMode::Event { .. } => Phase::Waiting(self.time),
            TimeMode::Untimed => Phase::Ready,
        }
    }

    fn report(&mut self, s: twin_bus::Sample<MemberReport>) -> Result<(), FederationError> {
        let name = s.key;
        let Some(r) = s.value else {
            // No live writer for this member: it left without a goodbye, or died.
            if s.info.state == InstanceState::NotAliveNoWriters {
                self.member_lost(&name);
            }
            return Ok(());
        };
        if let Report::Join { mode } = r.report {
            return self.join(&name, mode);
        }
        let Some(&i) = self.by_name.get(&*name) else {
            tracing::warn!(member = %name, "report from a member that never joined; ignored");
            return Ok(());
        };
        self.members[i].last_report = Instant::now();
        match r.report {
            Report::Join { .. } => unreachable!("handled above"),
            Report::Ready => {
                self.members[i].written = r.written;
                let m = &self.members[i];
                self.members[i].phase = if self.state == FedState::Initialise {
                    Phase::Ready
                } else {
                    self.first_request(m)
                };
            }
            Report::Completed {
                granted,
                next,
                published_min,
            } => {
                let m = &mut self.members[i];
                m.completed = granted;
                m.written = r.written;
                m.phase = Phase::Waiting(next.max(granted));
                if m.pending_data.is_some_and(|p| p < granted) {
                    m.pending_data = None;
                }
                if let Some(pm) = published_min {
                    for (k, o) in self.members.iter_mut().enumerate() {
                        if k != i && matches!(o.mode, TimeMode::Event { .. }) {
                            o.pending_data = Some(o.pending_data.map_or(pm, |p| p.min(pm)));
                        }
                    }
                }
            }
            Report::Leave => {
                tracing::info!(member = %name, "member left");
                self.members[i].phase = Phase::Left;
            }
        }
        Ok(())
    }

    fn member_lost(&mut self, name: &str) {
        let Some(&i) = self.by_name.get(name) else {
            return;
        };
        if matches!(self.members[i].phase, Phase::Left | Phase::Lost)
            || self.state == FedState::Ended
        {
            return;
        }
        self.members[i].phase = Phase::Lost;
        tracing::warn!(member = name, policy = ?self.cfg.on_member_lost, "member lost (liveliness)");
        if self.cfg.on_member_lost == LostPolicy::Freeze && self.state == FedState::Running {
            self.set_state(FedState::Frozen);
        }
    }

    /// Does everything that can be done now. Never blocks.
    pub fn poll(&mut self) -> Result<ControllerPoll, FederationError> {
        let mut out = ControllerPoll::default();
        let time_before = self.time;
        let mut buf = std::mem::take(&mut self.report_buf);
        self.reports.take_into(&mut buf, usize::MAX);
        out.progressed |= !buf.is_empty();
        for s in buf.drain(..) {
            self.report(s)?;
        }
        self.report_buf = buf;
        self.update_time();
        let arrived = self.commands.arrivals();
        let commands = if arrived.is_none() || arrived != self.commands_seen {
            self.commands_seen = arrived;
            self.commands.take()
        } else {
            Vec::new()
        };
        for c in commands {
            if let Some(c) = c.value {
                self.command(c);
                out.progressed = true;
            }
        }
        if self.state == FedState::Initialise
            && self.all_expected_ready()
            && self.discovery_settled()?
        {
            let next = if self.cfg.start_frozen || !self.run_requested {
                FedState::Frozen
            } else {
                FedState::Running
            };
            for k in 0..self.members.len() {
                if self.members[k].phase == Phase::Ready {
                    self.members[k].phase = self.first_request(&self.members[k]);
                }
            }
            self.set_state(next);
            out.progressed = true;
        }
        if self.state == FedState::Running {
            let (granted, wake) = self.grant()?;
            out.progressed |= granted;
            out.wake_at = wake;
            self.update_time();
            if self.finished() {
                // No member has anything left before the end time.
                self.time = self.time.max(self.cfg.end);
                self.set_state(FedState::Ended);
                out.progressed = true;
            }
        }
        // Stamping progress reads the clock: do it every 64 polls while busy,
        // whenever global time moves, and once when the federation goes quiet.
        self.progress_pending |= out.progressed;
        let moved = self.time != time_before;
        if self.progress_pending && (self.polls % 64 == 0 || !out.progressed || moved) {
            self.progress_pending = false;
            self.last_progress = Instant::now();
        }
        self.polls = self.polls.wrapping_add(1);
        // The status clock is also checked whenever global time moves: a
        // federation slower than its pacing (or than real time at pacing 0)
        // is busy at every poll, and 64 polls can then span seconds, during
        // which displays would show members' data ahead of a stale time.
        // Time moves at most once per round, so the clock read is cheap.
        if (self.polls % 64 == 0 || !out.progressed || moved)
            && self.last_status.elapsed() >= self.cfg.status_every
        {
            self.publish_status();
        }
        Ok(out)
    }

    /// Across processes (a DDS bus), every member being ready does not yet
    /// mean every member's readers have discovered every other member's
    /// writers; data written before that would miss them. So on DDS the
    /// controller leaves Initialise only after the discovery barrier
    /// ([`crate::sync`]): every ready member reports its endpoints matched.
    /// Built without the `dds` feature (a DDS bus from another crate's
    /// feature), it falls back to a settling time (`TWIN_DDS_SETTLE_MS`,
    /// default 500 ms).
    fn discovery_settled(&mut self) -> Result<bool, FederationError> {
        if !self.participant.bus().is_dds() {
            return Ok(true);
        }
        #[cfg(feature = "dds")]
        if self.sync.is_some() {
            let ready: Vec<String> = self
                .members
                .iter()
                .filter(|m| m.phase == Phase::Ready)
                .map(|m| m.name.to_string())
                .collect();
            let written = self.watermarks(None);
            if let Some(b) = &mut self.sync {
                return b.poll(&self.cfg.name, &ready, written);
            }
        }
        let settle = std::env::var("TWIN_DDS_SETTLE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(Duration::from_millis(500), Duration::from_millis);
        Ok(self.all_ready_at.get_or_insert_with(Instant::now).elapsed() >= settle)
    }

    /// Every expected member is ready, or gone: one that failed in its `init`
    /// (it joins, then leaves) must not hold the others in initialise forever.
    fn all_expected_ready(&self) -> bool {
        self.cfg.expected.iter().all(|n| {
            self.by_name.get(n).is_some_and(|&i| {
                matches!(
                    self.members[i].phase,
                    Phase::Ready | Phase::Left | Phase::Lost
                )
            })
        })
    }

    fn update_time(&mut self) {
        let t = self
            .members
            .iter()
            .filter(|m| m.timed())
            .map(|m| m.completed)
            .min();
        if let Some(t) = t {
            if t > self.time {
                self.time = t;
            }
        }
    }

    fn finished(&self) -> bool {
        let mut any = false;
        for m in self.members.iter().filter(|m| m.timed()) {
            any = true;
            match m.phase {
                Phase::Waiting(r) if m.effective(r) > self.cfg.end => {}
                _ => return false,
            }
        }
        any || self.time >= self.cfg.end
    }

    /// The wall instant at which sim time `t` is due under pacing.
    fn due(&self, t: SimTime) -> Option<Instant> {
        if self.pacing <= 0.0 {
            return None;
        }
        let sim = t.saturating_duration_since(self.anchor.1).as_secs_f64() / self.pacing;
        Some(self.anchor.0 + Duration::from_secs_f64(sim))
    }

    /// Issues every grant that is safe now; returns whether any was issued
    /// and when pacing allows the next one.
    fn grant(&mut self) -> Result<(bool, Option<Instant>), FederationError> {
        // Contributions to the lower bound on future stamps, smallest two.
        let (mut b1, mut b1_who, mut b2) = (SimTime::MAX, usize::MAX, SimTime::MAX);
        let global = self.time;
        for (k, m) in self.members.iter().enumerate() {
            if !m.timed() {
                continue;
            }
            let base = match m.phase {
                Phase::Busy(g) => g,
                Phase::Waiting(r) => m.effective(r),
                _ => global, // joined, not ready yet: holds everyone at the global time
            };
            let c = base.saturating_add(m.lookahead());
            if c < b1 {
                (b2, b1, b1_who) = (b1, c, k);
            } else if c < b2 {
                b2 = c;
            }
        }
        let now = if self.pacing > 0.0 {
            Some(Instant::now())
        } else {
            None
        };
        let mut wake: Option<Instant> = None;
        let mut any = false;
        for k in 0..self.members.len() {
            let m = &self.members[k];
            let Phase::Waiting(r) = m.phase else { continue };
            if !m.timed() {
                continue;
            }
            let r = m.effective(r);
            let bound = if k == b1_who { b2 } else { b1 };
            if r > bound || r > self.cfg.end {
                continue;
            }
            if let (Some(due), Some(now)) = (self.due(r), now) {
                if due > now {
                    wake = Some(wake.map_or(due, |w: Instant| w.min(due)));
                    continue;
                }
                self.lag = now - due;
                self.max_lag = self.max_lag.max(self.lag);
            }
            if !any {
                self.rounds += 1;
                any = true;
            }
            let round = self.rounds;
            let after = self.watermarks(Some(k));
            let m = &mut self.members[k];
            m.phase = Phase::Busy(r);
            if m.pending_data.is_some_and(|p| p < r) {
                m.pending_data = None;
            }
            let g = TimeGrant {
                member: m.name.clone(),
                time: r,
                round,
                after,
            };
            if self.cfg.record_grants {
                self.log.push(GrantRecord {
                    round,
                    member: m.name.to_string(),
                    time: r,
                });
            }
            if let Some(w) = &m.grants {
                w.write(g).map_err(|e| FederationError::Grant {
                    member: m.name.to_string(),
                    reason: e.to_string(),
                })?;
            }
        }
        Ok((any, wake))
    }
}
