//! The federation as the dashboard sees it: the last control state and
//! status from the bus, a recent wall-clock ratio, topic rates, and a
//! stalled-grant diagnosis.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use serde::Serialize;
use twin_bus::{Bus, Participant, Reader, ReaderQos};
use twin_core::SimTime;
use twin_federation::{
    proto::{STATE_TOPIC, STATUS_TOPIC},
    ControlState, FedState, FederationStatus, MemberStatus, TimeMode,
};

use crate::{DashboardError, Registry, Role};

/// A blocking member silent for this long while time stands still means
/// the grant is stalled.
const STALL_AFTER: Duration = Duration::from_secs(2);

/// Federation summary served at `GET /api/federation`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct FederationView {
    /// Whether a controller has published anything yet.
    pub(crate) present: bool,
    pub(crate) federation: Option<String>,
    /// `initialise`, `running`, `frozen` or `ended`.
    pub(crate) state: Option<String>,
    pub(crate) time_ns: u64,
    pub(crate) end_ns: u64,
    pub(crate) rounds: u64,
    /// Pacing ratio in force (0 = as fast as possible).
    pub(crate) pacing: f64,
    /// Lag behind the paced wall clock [ms].
    pub(crate) lag_ms: f64,
    /// Sim seconds per wall second since the start (the controller's figure).
    pub(crate) speed: f64,
    /// Sim seconds per wall second over the last few status reports.
    pub(crate) ratio: f64,
    /// Wall time since the last status report [ms]; `None` before the first.
    pub(crate) status_age_ms: Option<u64>,
    pub(crate) diagnosis: Diagnosis,
}

/// Why time is not advancing, if it is not.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Diagnosis {
    pub(crate) stalled: bool,
    /// Wall time since global time last moved [ms].
    pub(crate) no_progress_ms: u64,
    /// Members the next grant waits for (busy, or not ready in initialise).
    pub(crate) blocking: Vec<String>,
    /// Members the controller lost (crashed without leaving).
    pub(crate) lost: Vec<String>,
    /// One line for people.
    pub(crate) message: String,
}

/// One member, served at `GET /api/members`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct MemberView {
    pub(crate) name: String,
    /// `stepped`, `event` or `untimed`.
    pub(crate) mode: &'static str,
    /// Step [ns] (stepped) or lookahead [ns] (event).
    pub(crate) mode_ns: Option<u64>,
    /// `joined`, `ready`, `waiting`, `busy`, `left` or `lost`.
    pub(crate) phase: String,
    pub(crate) completed_ns: u64,
    pub(crate) requested_ns: Option<u64>,
    /// Wall time since its last report [ms].
    pub(crate) since_report_ms: u64,
    /// How far its completed time trails the furthest member [ns]; `None`
    /// for untimed members.
    pub(crate) behind_ns: Option<u64>,
    pub(crate) blocking: bool,
}

/// One topic, served at `GET /api/topics`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct TopicView {
    pub(crate) name: String,
    pub(crate) type_name: &'static str,
    pub(crate) version: u32,
    pub(crate) writers: usize,
    pub(crate) readers: usize,
    pub(crate) samples: u64,
    /// Samples per wall second over the last second.
    pub(crate) rate_hz: f64,
    /// How the page shows it; `None`: no decoder registered.
    pub(crate) role: Option<Role>,
    /// Dashboard clients subscribed to it now.
    pub(crate) subscribers: usize,
}

/// Readers of the protocol topics and what they last delivered.
pub(crate) struct Observer {
    /// For topic listings and counts.
    bus: Bus,
    _participant: Participant,
    state_reader: Reader<ControlState>,
    status_reader: Reader<FederationStatus>,
    /// The last control state (changes on every transition).
    state: Option<ControlState>,
    /// The last status report (every 250 ms from the controller).
    status: Option<FederationStatus>,
    /// When that report arrived.
    status_at: Option<Instant>,
    /// Global time and when it last changed.
    moved: (SimTime, Instant),
    /// Recent (time, wall) pairs from status reports, oldest first.
    recent: Vec<(SimTime, Instant)>,
    /// Topic sample counts at the last rate computation.
    counts: HashMap<String, u64>,
    /// Samples per second per topic over the last second.
    rates: HashMap<String, f64>,
    /// When `counts` was taken.
    counted_at: Instant,
}

impl Observer {
    /// Opens the protocol readers as participant `dashboard-observer`.
    /// Both topics are transient-local, so the current state arrives at
    /// once even when the dashboard starts after the controller.
    pub(crate) fn new(bus: &Bus) -> Result<Self, DashboardError> {
        let p = bus.participant("dashboard-observer");
        let qos = ReaderQos::default()
            .best_effort()
            .transient_local()
            .keep_last(4);
        let state_reader = p.reader(&p.topic(STATE_TOPIC)?, qos.clone())?;
        let status_reader = p.reader(&p.topic(STATUS_TOPIC)?, qos)?;
        let now = Instant::now();
        Ok(Observer {
            bus: bus.clone(),
            _participant: p,
            state_reader,
            status_reader,
            state: None,
            status: None,
            status_at: None,
            moved: (SimTime::ZERO, now),
            recent: Vec::new(),
            counts: HashMap::new(),
            rates: HashMap::new(),
            counted_at: now,
        })
    }

    /// Takes new state and status samples; recomputes topic rates once a
    /// second.
    pub(crate) fn poll(&mut self) {
        let now = Instant::now();
        if let Some(s) = self.state_reader.take_data().pop() {
            self.note_time(s.time, now);
            self.state = Some(s);
        }
        if let Some(s) = self.status_reader.take_data().pop() {
            self.note_time(s.time, now);
            self.recent.push((s.time, now));
            if self.recent.len() > 8 {
                self.recent.remove(0);
            }
            self.status = Some(s);
            self.status_at = Some(now);
        }
        let dt = now.duration_since(self.counted_at);
        if dt >= Duration::from_secs(1) {
            for t in self.bus.topics() {
                let prev = self
                    .counts
                    .insert(t.descriptor.name.clone(), t.samples_written);
                let rate = prev.map_or(0.0, |p| {
                    t.samples_written.saturating_sub(p) as f64 / dt.as_secs_f64()
                });
                self.rates.insert(t.descriptor.name, rate);
            }
            self.counted_at = now;
        }
    }

    /// Records when global time last changed (for the stall diagnosis).
    fn note_time(&mut self, t: SimTime, now: Instant) {
        if t != self.moved.0 {
            self.moved = (t, now);
        }
    }

    fn state(&self) -> Option<FedState> {
        // The state topic changes first; the status may be 250 ms older.
        self.state
            .as_ref()
            .map(|s| s.state)
            .or(self.status.as_ref().map(|s| s.state))
    }

    /// The summary for `GET /api/federation`; time is the later of the
    /// state's and the status's.
    pub(crate) fn federation(&self) -> FederationView {
        let st = self.status.as_ref();
        let time = self
            .state
            .as_ref()
            .map(|s| s.time)
            .max(st.map(|s| s.time))
            .unwrap_or(SimTime::ZERO);
        let ratio = match (self.recent.first(), self.recent.last()) {
            (Some(a), Some(b)) if b.1 > a.1 => {
                b.0.saturating_duration_since(a.0).as_secs_f64() / (b.1 - a.1).as_secs_f64()
            }
            _ => 0.0,
        };
        FederationView {
            present: self.state.is_some() || st.is_some(),
            federation: self
                .state
                .as_ref()
                .map(|s| s.federation.clone())
                .or(st.map(|s| s.federation.clone())),
            state: self.state().map(|s| s.to_string()),
            time_ns: time.as_nanos(),
            end_ns: self.state.as_ref().map_or(0, |s| s.end.as_nanos()),
            rounds: st.map_or(0, |s| s.rounds),
            pacing: st.map_or(0.0, |s| s.pacing),
            lag_ms: st.map_or(0.0, |s| s.lag_ms),
            speed: st.map_or(0.0, |s| s.speed),
            ratio,
            status_age_ms: self.status_at.map(|t| t.elapsed().as_millis() as u64),
            diagnosis: self.diagnose(),
        }
    }

    /// Whether the next grant waits for `m`: busy with a grant while
    /// running, or not yet ready while initialising (the controller's own
    /// rule in `Controller::diagnose`).
    fn is_blocking(&self, m: &MemberStatus) -> bool {
        match self.state() {
            Some(FedState::Running) => m.phase == "busy",
            Some(FedState::Initialise) => m.phase == "joined",
            _ => false,
        }
    }

    /// Stalled means: time has not moved for [`STALL_AFTER`] and a member
    /// the grant waits for has been silent as long. A paced run whose
    /// members wait for the wall clock is not stalled (they are `waiting`,
    /// not `busy`), nor is a deliberate freeze.
    fn diagnose(&self) -> Diagnosis {
        let Some(status) = &self.status else {
            return Diagnosis {
                message: "no federation status on the bus yet".into(),
                ..Diagnosis::default()
            };
        };
        let no_progress = self.moved.1.elapsed();
        let blocking: Vec<&MemberStatus> = status
            .members
            .iter()
            .filter(|m| self.is_blocking(m))
            .collect();
        let lost: Vec<String> = status
            .members
            .iter()
            .filter(|m| m.phase == "lost")
            .map(|m| m.name.clone())
            .collect();
        let silent = blocking
            .iter()
            .any(|m| Duration::from_millis(m.since_report_ms) >= STALL_AFTER);
        let stalled = silent && no_progress >= STALL_AFTER;
        let state = self.state();
        let message = if stalled {
            let who: Vec<String> = blocking
                .iter()
                .map(|m| {
                    let at = m
                        .requested
                        .map_or("-".to_owned(), |t| format!("{:.3} s", t.as_secs_f64()));
                    format!(
                        "`{}` ({}, grant {at}, last report {:.1} s ago)",
                        m.name,
                        m.phase,
                        m.since_report_ms as f64 / 1e3
                    )
                })
                .collect();
            format!(
                "stalled for {:.1} s: the grant waits for {}",
                no_progress.as_secs_f64(),
                who.join(", ")
            )
        } else if !lost.is_empty() && state == Some(FedState::Frozen) {
            format!("frozen: member(s) lost: {}", lost.join(", "))
        } else {
            match state {
                Some(FedState::Running) => "advancing".into(),
                Some(FedState::Frozen) => "frozen by command".into(),
                Some(FedState::Initialise) => "waiting for members to be ready".into(),
                Some(FedState::Ended) => "ended".into(),
                None => "unknown".into(),
            }
        };
        Diagnosis {
            stalled,
            no_progress_ms: no_progress.as_millis() as u64,
            blocking: blocking.iter().map(|m| m.name.clone()).collect(),
            lost,
            message,
        }
    }

    /// The rows of `GET /api/members`; `behind` is measured against the
    /// furthest timed member.
    pub(crate) fn members(&self) -> Vec<MemberView> {
        let Some(status) = &self.status else {
            return Vec::new();
        };
        let front = status
            .members
            .iter()
            .filter(|m| m.mode != TimeMode::Untimed)
            .map(|m| m.completed)
            .max()
            .unwrap_or(SimTime::ZERO);
        status
            .members
            .iter()
            .map(|m| {
                let (mode, mode_ns) = match m.mode {
                    TimeMode::Stepped { dt } => ("stepped", Some(dt.as_nanos())),
                    TimeMode::Event { lookahead } => ("event", Some(lookahead.as_nanos())),
                    TimeMode::Untimed => ("untimed", None),
                };
                MemberView {
                    name: m.name.clone(),
                    mode,
                    mode_ns,
                    phase: m.phase.clone(),
                    completed_ns: m.completed.as_nanos(),
                    requested_ns: m.requested.map(|t| t.as_nanos()),
                    since_report_ms: m.since_report_ms,
                    behind_ns: (m.mode != TimeMode::Untimed)
                        .then(|| front.saturating_duration_since(m.completed).as_nanos()),
                    blocking: self.is_blocking(m),
                }
            })
            .collect()
    }

    /// The rows of `GET /api/topics`.
    pub(crate) fn topics(
        &self,
        registry: &Registry,
        watched: &HashMap<String, usize>,
    ) -> Vec<TopicView> {
        self.bus
            .topics()
            .into_iter()
            .map(|t| TopicView {
                rate_hz: self.rates.get(&t.descriptor.name).copied().unwrap_or(0.0),
                role: registry.role(t.descriptor.type_name),
                subscribers: watched.get(&t.descriptor.name).copied().unwrap_or(0),
                type_name: t.descriptor.type_name,
                version: t.descriptor.version,
                writers: t.writers,
                readers: t.readers,
                samples: t.samples_written,
                name: t.descriptor.name,
            })
            .collect()
    }
}
