//! What DDS discovery knows about the domain: every participant, reader and
//! writer announced on Cyclone's builtin topics (DCPSParticipant,
//! DCPSPublication, DCPSSubscription), Twin's or any other DDS program's.

use std::{
    fmt,
    time::{Duration, Instant},
};

use super::{ffi, participant_id, DdsParticipant};
use crate::{CreateError, ParticipantId};

/// A reader or a writer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EndpointKind {
    /// A data writer (DCPSPublication).
    Writer,
    /// A data reader (DCPSSubscription).
    Reader,
}

/// The QoS policies an endpoint announced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointQos {
    /// Reliable (else best effort).
    pub reliable: bool,
    /// Transient-local durability (else volatile).
    pub transient_local: bool,
    /// Keep-last depth; `None` for keep-all.
    pub keep_last: Option<i32>,
    /// Exclusive ownership (else shared).
    pub exclusive: bool,
    /// Ownership strength (writers only).
    pub strength: Option<i32>,
    /// Deadline period, if finite.
    pub deadline: Option<Duration>,
    /// Liveliness lease, if finite.
    pub lease: Option<Duration>,
    /// Manual-by-topic (or by-participant) liveliness.
    pub manual_liveliness: bool,
    /// Lifespan, if finite (writers only).
    pub lifespan: Option<Duration>,
    /// Partitions; empty is the default partition.
    pub partitions: Vec<String>,
}

impl fmt::Display for EndpointQos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.reliable {
            "reliable"
        } else {
            "best-effort"
        })?;
        if self.transient_local {
            f.write_str(" transient-local")?;
        }
        match self.keep_last {
            Some(d) => write!(f, " keep-last({d})")?,
            None => f.write_str(" keep-all")?,
        }
        if self.exclusive {
            f.write_str(" exclusive")?;
            if let Some(s) = self.strength {
                write!(f, "({s})")?;
            }
        }
        if let Some(d) = self.deadline {
            write!(f, " deadline={d:?}")?;
        }
        if let Some(l) = self.lease {
            let kind = if self.manual_liveliness {
                "manual"
            } else {
                "auto"
            };
            write!(f, " lease={l:?}({kind})")?;
        }
        if let Some(l) = self.lifespan {
            write!(f, " lifespan={l:?}")?;
        }
        if !self.partitions.is_empty() {
            write!(f, " partitions=[{}]", self.partitions.join(","))?;
        }
        Ok(())
    }
}

/// A participant discovery has seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscoveredParticipant {
    /// Its id (the same in every Twin process).
    pub id: ParticipantId,
    /// Its GUID prefix as hex.
    pub guid: String,
    /// The entity name it announced (Twin: the member name).
    pub name: Option<String>,
}

/// A reader or writer discovery has seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscoveredEndpoint {
    /// Reader or writer.
    pub kind: EndpointKind,
    /// Its GUID as hex.
    pub guid: String,
    /// The participant it belongs to.
    pub participant: ParticipantId,
    /// That participant's announced name, if known.
    pub participant_name: Option<String>,
    /// Topic name.
    pub topic: String,
    /// Type name (Twin's: `twin::…`; others' as their IDL names them).
    pub type_name: String,
    /// Announced QoS.
    pub qos: EndpointQos,
    /// The endpoint's own entity name (Twin writers: the member name).
    pub entity_name: Option<String>,
}

/// Everything discovery knows at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DomainSnapshot {
    /// Participants, by name then GUID (the observer itself excluded).
    pub participants: Vec<DiscoveredParticipant>,
    /// Readers and writers, by topic, kind and participant.
    pub endpoints: Vec<DiscoveredEndpoint>,
}

impl DomainSnapshot {
    /// Endpoints of `kind` on `topic`.
    pub fn on_topic<'a>(
        &'a self,
        topic: &'a str,
        kind: EndpointKind,
    ) -> impl Iterator<Item = &'a DiscoveredEndpoint> + 'a {
        self.endpoints
            .iter()
            .filter(move |e| e.topic == topic && e.kind == kind)
    }
}

/// Watches the domain's builtin discovery topics from one participant.
#[derive(Debug)]
pub struct DomainObserver {
    readers: ffi::BuiltinReaders,
    own: [u8; 16],
    // Keeps the participant (and so the readers' parent) alive.
    part: std::sync::Arc<DdsParticipant>,
}

/// One of a participant's endpoints and the discovered counterparts it is
/// not matched with yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchGap {
    /// The local endpoint's kind.
    pub kind: EndpointKind,
    /// Its topic.
    pub topic: String,
    /// The counterparts' participant names (GUIDs if unnamed).
    pub missing: Vec<String>,
}

impl fmt::Display for MatchGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (me, them) = match self.kind {
            EndpointKind::Reader => ("reader", "writers"),
            EndpointKind::Writer => ("writer", "readers"),
        };
        write!(
            f,
            "{me} of `{}` not matched with the {them} of {}",
            self.topic,
            self.missing.join(", ")
        )
    }
}

/// Whether a writer offering `w` matches a reader requesting `r` (DDS
/// request/offered rules for the policies discovery carries).
fn compatible(w: &EndpointQos, r: &EndpointQos) -> bool {
    let inf = Duration::MAX;
    (w.reliable || !r.reliable)
        && (w.transient_local || !r.transient_local)
        && w.exclusive == r.exclusive
        && w.deadline.unwrap_or(inf) <= r.deadline.unwrap_or(inf)
        && w.lease.unwrap_or(inf) <= r.lease.unwrap_or(inf)
        && (w.manual_liveliness || !r.manual_liveliness)
        && crate::qos::partitions_match(&w.partitions, &r.partitions)
}

fn hex(g: &[u8; 16]) -> String {
    g.iter().map(|b| format!("{b:02x}")).collect()
}

impl DomainObserver {
    pub(crate) fn new(part: std::sync::Arc<DdsParticipant>) -> Result<Self, CreateError> {
        let killed = || CreateError::ParticipantKilled("DCPS builtin topics".into());
        let e = part.entity().ok_or_else(killed)?;
        let readers = ffi::BuiltinReaders::new(&e).map_err(|reason| CreateError::Unsupported {
            topic: "DCPSParticipant".into(),
            reason,
        })?;
        let own = ffi::guid(&e).unwrap_or_default();
        Ok(DomainObserver { readers, own, part })
    }

    /// What discovery knows now, the observing participant left out.
    pub fn snapshot(&self) -> DomainSnapshot {
        self.snapshot_with(false)
    }

    fn snapshot_with(&self, with_own: bool) -> DomainSnapshot {
        let mut parts = self.readers.participants().unwrap_or_else(|e| {
            super::log(&format!("reading DCPSParticipant: {e}"));
            Vec::new()
        });
        let own = self.own;
        let mine = move |g: &[u8; 16]| !with_own && *g == own;
        parts.retain(|p| !mine(&p.key));
        let name_of = |g: &[u8; 16]| {
            parts
                .iter()
                .find(|p| p.key == *g)
                .and_then(|p| p.name.clone())
        };
        let mut endpoints = Vec::new();
        for (kind, list) in [
            (EndpointKind::Writer, self.readers.publications()),
            (EndpointKind::Reader, self.readers.subscriptions()),
        ] {
            let list = list.unwrap_or_else(|e| {
                super::log(&format!("reading DCPS{kind:?}s: {e}"));
                Vec::new()
            });
            for e in list.into_iter().filter(|e| !mine(&e.participant)) {
                let q = e.qos;
                endpoints.push(DiscoveredEndpoint {
                    kind,
                    guid: hex(&e.key),
                    participant: participant_id(&e.participant),
                    participant_name: name_of(&e.participant),
                    topic: e.topic,
                    type_name: e.type_name,
                    entity_name: q.entity_name.clone(),
                    qos: EndpointQos {
                        reliable: q.reliable,
                        transient_local: q.transient_local,
                        keep_last: q.keep_last,
                        exclusive: q.exclusive,
                        strength: q.strength.filter(|_| kind == EndpointKind::Writer),
                        deadline: q.deadline,
                        lease: q.lease,
                        manual_liveliness: q.manual_liveliness,
                        lifespan: q.lifespan.filter(|_| kind == EndpointKind::Writer),
                        partitions: q.partitions,
                    },
                });
            }
        }
        endpoints.sort_by(|a, b| {
            (&a.topic, a.kind, &a.participant_name, &a.guid).cmp(&(
                &b.topic,
                b.kind,
                &b.participant_name,
                &b.guid,
            ))
        });
        let mut participants: Vec<DiscoveredParticipant> = parts
            .into_iter()
            .map(|p| DiscoveredParticipant {
                id: participant_id(&p.key),
                guid: hex(&p.key),
                name: p.name,
            })
            .collect();
        participants.sort_by(|a, b| (&a.name, &a.guid).cmp(&(&b.name, &b.guid)));
        DomainSnapshot {
            participants,
            endpoints,
        }
    }

    /// The observing participant's readers and writers that are not yet
    /// matched with every compatible counterpart discovery shows (same
    /// topic and type, matching partitions, compatible QoS) among the
    /// endpoints `peer` selects. Empty when every pairing is in place, so
    /// data written now reaches every discovered reader.
    pub fn unmatched(&self, peer: impl Fn(&DiscoveredEndpoint) -> bool) -> Vec<MatchGap> {
        let all = self.snapshot_with(true);
        let locals: Vec<(i32, bool)> = self.part.endpoints.lock().clone();
        let mut gaps = Vec::new();
        for (handle, is_reader) in locals {
            let e = ffi::Entity::borrowed(handle);
            let Some(g) = ffi::guid(&e) else { continue };
            let guid = hex(&g);
            let Some(me) = all.endpoints.iter().find(|x| x.guid == guid) else {
                // Not even announced yet.
                gaps.push(MatchGap {
                    kind: if is_reader {
                        EndpointKind::Reader
                    } else {
                        EndpointKind::Writer
                    },
                    topic: String::new(),
                    missing: vec!["(own endpoint not yet announced)".into()],
                });
                continue;
            };
            let matched: Vec<String> = ffi::matched_guids(&e, is_reader).iter().map(hex).collect();
            let missing: Vec<String> = all
                .endpoints
                .iter()
                .filter(|o| {
                    o.kind != me.kind
                        && o.topic == me.topic
                        && o.type_name == me.type_name
                        && peer(o)
                        && !matched.contains(&o.guid)
                })
                .filter(|o| {
                    let (w, r) = if is_reader { (*o, me) } else { (me, *o) };
                    compatible(&w.qos, &r.qos)
                })
                .map(|o| o.participant_name.clone().unwrap_or_else(|| o.guid.clone()))
                .collect();
            if !missing.is_empty() {
                gaps.push(MatchGap {
                    kind: me.kind,
                    topic: me.topic.clone(),
                    missing,
                });
            }
        }
        gaps
    }

    /// Polls discovery until `done` holds for a snapshot or `timeout`
    /// passes; returns the last snapshot and whether `done` held.
    pub fn wait_until(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&DomainSnapshot) -> bool,
    ) -> (DomainSnapshot, bool) {
        let end = Instant::now() + timeout;
        loop {
            let s = self.snapshot();
            if done(&s) {
                return (s, true);
            }
            if Instant::now() >= end {
                return (s, false);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
