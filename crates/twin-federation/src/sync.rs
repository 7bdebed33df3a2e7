//! The discovery barrier on DDS: before time starts, every member confirms
//! that its readers and writers are matched with every counterpart that
//! discovery shows among the federation's participants (protocol:
//! [`SyncRequest`] / [`SyncReport`]). Replaces a fixed settling delay: it
//! waits exactly as long as discovery takes, and a member that cannot be
//! matched is named in the error instead of losing data silently.
//!
//! Members that do not speak the barrier (a Python member, say: no reader
//! on [`SYNC_TOPIC`] shows up in discovery within [`GRACE`]) are left out.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::{Duration, Instant},
};

use twin_bus::{dds::DomainObserver, Participant, Reader, ReaderQos, Writer};

use crate::{proto::*, FederationError};

/// How long a ready member may take to show a reader of [`SYNC_TOPIC`]
/// before it is taken not to speak the barrier.
pub(crate) const GRACE: Duration = Duration::from_secs(1);
/// How often a waiting member tells the controller what is missing.
const REPORT_EVERY: Duration = Duration::from_millis(500);

fn timeout() -> Duration {
    std::env::var("TWIN_DDS_SYNC_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(10), Duration::from_millis)
}

fn request_reader() -> ReaderQos {
    ReaderQos::default()
        .reliable()
        .transient_local()
        .keep_last(1)
}

/// The controller's side.
pub(crate) struct SyncBarrier {
    requests: Writer<SyncRequest>,
    reports: Reader<SyncReport>,
    observer: DomainObserver,
    controller: String,
    started: Option<Instant>,
    /// Last report per member: what it still misses.
    last: BTreeMap<String, Vec<String>>,
    skipped: BTreeSet<String>,
}

impl SyncBarrier {
    /// `None` on the in-memory bus (no discovery to wait for).
    pub(crate) fn new(p: &Participant) -> Result<Option<SyncBarrier>, FederationError> {
        if !p.bus().is_dds() {
            return Ok(None);
        }
        Ok(Some(SyncBarrier {
            requests: p.writer(&p.topic(SYNC_TOPIC)?, sync_request_writer())?,
            reports: p.reader(&p.topic(SYNCED_TOPIC)?, protocol_reader())?,
            observer: p.observe_domain()?,
            controller: p.name().to_owned(),
            started: None,
            last: BTreeMap::new(),
            skipped: BTreeSet::new(),
        }))
    }

    /// Called while every member in `members` is ready: `Ok(true)` once
    /// they are all matched; an error naming who is not after the timeout
    /// (`TWIN_DDS_SYNC_TIMEOUT_MS`, default 10 s).
    pub(crate) fn poll(
        &mut self,
        federation: &str,
        members: &[String],
        written: Vec<Written>,
    ) -> Result<bool, FederationError> {
        let started = match self.started {
            Some(t) => t,
            None => {
                let mut participants = members.to_vec();
                participants.push(self.controller.clone());
                let req = SyncRequest {
                    federation: federation.to_owned(),
                    participants,
                    written,
                };
                self.requests
                    .write(req)
                    .map_err(|e| FederationError::Discovery(format!("sync request: {e}")))?;
                *self.started.insert(Instant::now())
            }
        };
        for s in self.reports.take() {
            if let Some(r) = s.value {
                self.last.insert(r.member, r.unmatched);
            }
        }
        let waiting: Vec<&String> = members
            .iter()
            .filter(|m| self.last.get(*m).is_none_or(|u| !u.is_empty()))
            .collect();
        if waiting.is_empty() {
            return Ok(true);
        }
        let elapsed = started.elapsed();
        let snap = self.observer.snapshot();
        let speaks = |m: &str| {
            snap.on_topic(SYNC_TOPIC, twin_bus::dds::EndpointKind::Reader)
                .any(|e| e.participant_name.as_deref() == Some(m))
        };
        let mut left = Vec::new();
        for m in waiting {
            if self.skipped.contains(m) {
                continue;
            }
            if !self.last.contains_key(m) && !speaks(m) && elapsed >= GRACE {
                tracing::info!(member = %m, "member does not take part in the discovery barrier");
                self.skipped.insert(m.clone());
                continue;
            }
            left.push(m);
        }
        if left.is_empty() {
            return Ok(true);
        }
        if elapsed < timeout() {
            return Ok(false);
        }
        let why: Vec<String> = left
            .iter()
            .map(|m| match self.last.get(*m) {
                Some(u) => format!("`{m}`: {}", u.join("; ")),
                None => format!("`{m}`: no answer"),
            })
            .collect();
        Err(FederationError::Discovery(format!(
            "after {:.1} s, not every member is matched: {}",
            elapsed.as_secs_f64(),
            why.join(" | ")
        )))
    }
}

/// A member's side.
pub(crate) struct SyncResponder {
    requests: Reader<SyncRequest>,
    reports: Writer<SyncReport>,
    observer: DomainObserver,
    member: String,
    /// Participants to match with, initial watermarks to hold, and when we
    /// last reported.
    pending: Option<(BTreeSet<String>, Vec<Written>, Option<Instant>)>,
}

impl SyncResponder {
    /// `None` on the in-memory bus.
    pub(crate) fn new(p: &Participant) -> Result<Option<SyncResponder>, FederationError> {
        if !p.bus().is_dds() {
            return Ok(None);
        }
        Ok(Some(SyncResponder {
            requests: p.reader(&p.topic(SYNC_TOPIC)?, request_reader())?,
            reports: p.writer(&p.topic(SYNCED_TOPIC)?, protocol_writer())?,
            observer: p.observe_domain()?,
            member: p.name().to_owned(),
            pending: None,
        }))
    }

    /// Answers a request once this member's endpoints are all matched,
    /// discovery shows a writer of every other member on each topic this
    /// member reads (`reads`) where that member has a timed writer (its
    /// ready report lists them): matching alone cannot tell a writer not
    /// yet discovered from none at all, and one discovered only after time
    /// started would miss the samples written meanwhile; and `missing`
    /// (what of the given initial watermarks its readers lack, one line
    /// each) is empty. Returns whether it sent anything.
    pub(crate) fn poll(
        &mut self,
        reads: impl Fn(&str) -> bool,
        missing: impl Fn(&[Written]) -> Vec<String>,
    ) -> Result<bool, FederationError> {
        for s in self.requests.take() {
            if let Some(r) = s.value {
                self.pending = Some((r.participants.into_iter().collect(), r.written, None));
            }
        }
        let Some((peers, written, last)) = &mut self.pending else {
            return Ok(false);
        };
        let mut gaps: Vec<String> = self
            .observer
            .unmatched(|e| {
                e.participant_name
                    .as_ref()
                    .is_some_and(|n| peers.contains(n))
            })
            .iter()
            .map(ToString::to_string)
            .collect();
        if gaps.is_empty() {
            let snap = self.observer.snapshot();
            for w in written
                .iter()
                .filter(|w| *w.member != *self.member && reads(&w.topic))
            {
                let found = snap
                    .on_topic(&w.topic, twin_bus::dds::EndpointKind::Writer)
                    .any(|e| e.participant_name.as_deref() == Some(&*w.member));
                if !found {
                    gaps.push(format!(
                        "`{}`: no writer of `{}` discovered yet",
                        w.topic, w.member
                    ));
                }
            }
        }
        if gaps.is_empty() {
            gaps = missing(written);
        }
        let send = gaps.is_empty() || last.is_none_or(|t| t.elapsed() >= REPORT_EVERY);
        if !send {
            return Ok(false);
        }
        *last = Some(Instant::now());
        let done = gaps.is_empty();
        let r = SyncReport {
            member: self.member.clone(),
            unmatched: gaps,
        };
        self.reports.write(r).map_err(|e| FederationError::Report {
            member: self.member.clone(),
            reason: e.to_string(),
        })?;
        if done {
            self.pending = None;
        }
        Ok(true)
    }
}
