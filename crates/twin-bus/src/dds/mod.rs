//! The DDS backend: the bus on Eclipse Cyclone DDS (RTPS over UDP), so
//! that members in other processes or on other hosts, and any DDS program,
//! share the data space.
//!
//! * Types: each [`TopicType`] is traced through serde ([`schema`]), encoded
//!   as XCDR1 `@final` ([`cdr`]) and described to Cyclone by a run-time
//!   type descriptor ([`ops`]) so Cyclone validates incoming data, tracks
//!   instances by key and computes key hashes itself. The IDL of a type is
//!   [`idl_of`].
//! * QoS: every bus policy maps onto the Cyclone policy of the same name.
//! * Samples stay in Cyclone's reader history (so history depth, resource
//!   limits and ownership are Cyclone's) until taken.
//! * All `unsafe` is in [`ffi`].
//!
//! Differences from the in-memory backend: [`crate::Participant::kill`]
//! deletes the DDS participant (remote members see it leave; a real crash is
//! a killed process); `SampleInfo::sequence` counts samples received per
//! writer; a remote writer's [`crate::WriterId`] is its Cyclone publication
//! handle and its [`crate::ParticipantId`] a hash of its participant GUID.

pub(crate) mod cdr;
mod config;
mod discovery;
mod ffi;
mod ops;
mod owners;
mod probe;
mod reader;
mod schema;
mod topic;

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
};

use parking_lot::Mutex;

pub use config::DdsConfig;
pub use discovery::{
    DiscoveredEndpoint, DiscoveredParticipant, DomainObserver, DomainSnapshot, EndpointKind,
    EndpointQos, MatchGap,
};
pub(crate) use reader::DdsReader;
pub(crate) use topic::{DdsTopic, DdsWriter};

use crate::{memory::PartState, ParticipantId, TopicType};

/// The IDL of `T` as Twin's DDS backend puts it on the wire.
pub fn idl_of<T: TopicType>() -> Result<String, String> {
    Ok(schema::Schema::of::<T>()?.idl())
}

/// Encodes `value` as Twin's DDS backend does (XCDR1, header included).
pub fn cdr_of<T: TopicType>(value: &T) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    cdr::encode(value, None, &mut out).map_err(|e| e.0)?;
    Ok(out)
}

/// Decodes XCDR1 bytes (header included) as `T`.
pub fn from_cdr<T: TopicType>(bytes: &[u8]) -> Result<T, String> {
    cdr::decode::<T>(bytes).map(|(v, _)| v).map_err(|e| e.0)
}

/// Data-available callbacks of every DDS reader in this process so far:
/// the activity an idle-spinning thread watches ([`crate::Bus::activity`]).
pub(crate) static ARRIVALS: AtomicU64 = AtomicU64::new(0);

/// Spin window of [`crate::Bus::idle_spin`] when `TWIN_DDS_SPIN_US` and
/// [`DdsConfig::spin_us`] are unset: 0, spinning is opt-in. Under load 20
/// a 20–200 µs window gave ~2× the steps/s of none, but on the quiet VM it
/// gave nothing for 1.5× the CPU per step (BENCHMARKS.md, DDS runs 9 and 10).
pub const DEFAULT_SPIN_US: u32 = 0;

/// Asks the kernel for a CPU wake-up latency of 0 µs for as long as the
/// returned file is open (Linux PM QoS, `/dev/cpu_dma_latency`, root only):
/// idle CPUs then poll instead of halting (on a VM: no halted vCPU to wake
/// for the next datagram). Affects the whole machine while held.
fn cpu_latency_request() -> std::io::Result<std::fs::File> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/cpu_dma_latency")?;
    f.write_all(&0i32.to_ne_bytes())?;
    Ok(f)
}

/// One process's view of a DDS domain.
#[derive(Debug)]
pub(crate) struct Domain {
    pub(crate) config: DdsConfig,
    /// The open PM QoS request of [`DdsConfig::keep_awake`], if asked.
    _awake: Option<std::fs::File>,
    _domain: Option<ffi::Entity>,
    next_entity: AtomicU64,
    participants: Mutex<Vec<Arc<PartState>>>,
    /// Names of participants (local and discovered) by id.
    pub(crate) names: Arc<Mutex<HashMap<ParticipantId, String>>>,
}

/// The participant id of a DDS participant GUID (the same in every process).
pub(crate) fn participant_id(guid: &[u8; 16]) -> ParticipantId {
    // FNV-1a: stable across processes and builds.
    let mut h: u32 = 0x811c_9dc5;
    for b in guid {
        h = (h ^ u32::from(*b)).wrapping_mul(0x0100_0193);
    }
    ParticipantId(h)
}

/// The DDS backend could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("DDS: {0}")]
pub struct DdsError(pub String);

/// Logs a problem nobody can be told about by a return value (foreign data
/// that does not decode, a refused participant).
pub(crate) fn log(msg: &str) {
    eprintln!("twin-bus[dds]: {msg}");
}

/// A participant's DDS side. The Cyclone participant lives as long as any
/// topic of it (topics hold this), so Cyclone's type objects stay valid.
#[derive(Debug)]
pub(crate) struct DdsParticipant {
    entity: Arc<ffi::Entity>,
    killed: AtomicBool,
    pub(crate) name: String,
    pub(crate) names: Arc<Mutex<HashMap<ParticipantId, String>>>,
    /// This participant's readers and writers: (Cyclone handle, is reader).
    pub(crate) endpoints: Mutex<Vec<(i32, bool)>>,
}

impl DdsParticipant {
    pub(crate) fn entity(&self) -> Option<Arc<ffi::Entity>> {
        (!self.is_killed()).then(|| Arc::clone(&self.entity))
    }
    pub(crate) fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }
    /// Stops all writing, as a crash would (the process itself lives on, so
    /// Cyclone's automatic liveliness does too: kill the process to test
    /// crash detection).
    pub(crate) fn kill(&self) {
        self.killed.store(true, Ordering::Release);
    }
}

impl Domain {
    pub(crate) fn new(config: DdsConfig) -> Result<Arc<Domain>, String> {
        let xml = config.cyclone_xml();
        let dom = match xml {
            Some(x) => ffi::create_domain(config.domain, &x)?,
            None => None,
        };
        let awake = if config.keep_awake {
            Some(cpu_latency_request().map_err(|e| {
                format!("TWIN_DDS_KEEP_AWAKE: cannot hold a CPU latency request on /dev/cpu_dma_latency: {e}")
            })?)
        } else {
            None
        };
        Ok(Arc::new(Domain {
            config,
            _awake: awake,
            _domain: dom,
            next_entity: AtomicU64::new(1),
            participants: Mutex::new(Vec::new()),
            names: Arc::default(),
        }))
    }

    pub(crate) fn next_entity_id(&self) -> u64 {
        self.next_entity.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn add_participant(
        &self,
        name: &str,
    ) -> Result<(Arc<PartState>, Arc<DdsParticipant>), String> {
        let e = ffi::participant(self.config.domain, name)?;
        let id = ffi::guid(&e).map_or(ParticipantId(0), |g| participant_id(&g));
        self.names.lock().insert(id, name.to_owned());
        let p = Arc::new(PartState::new(id, name));
        self.participants.lock().push(Arc::clone(&p));
        Ok((
            p,
            Arc::new(DdsParticipant {
                entity: Arc::new(e),
                killed: AtomicBool::new(false),
                name: name.to_owned(),
                names: Arc::clone(&self.names),
                endpoints: Mutex::new(Vec::new()),
            }),
        ))
    }

    /// The name of participant `id`, local or discovered through its writers.
    pub(crate) fn participant_name(&self, id: ParticipantId) -> Option<String> {
        self.names.lock().get(&id).cloned()
    }

    pub(crate) fn participants(&self) -> Vec<(ParticipantId, String, bool)> {
        self.participants
            .lock()
            .iter()
            .map(|p| (p.id, p.name.clone(), p.is_killed()))
            .collect()
    }
}
