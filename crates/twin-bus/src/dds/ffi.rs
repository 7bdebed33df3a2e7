//! The only module with `unsafe` code: a thin, safe layer over Cyclone DDS's
//! C API as the `cyclors` crate exposes it.
//!
//! Invariants relied on throughout:
//! * an [`Entity`] owns one Cyclone entity handle and deletes it on drop;
//!   Cyclone handles are plain integers that stay valid (or become invalid,
//!   which Cyclone reports as an error code) — no memory is tied to them;
//! * listener callbacks receive a pointer to a boxed `Arc<dyn Callbacks>`
//!   that the owning [`Entity`] frees only after `dds_delete` returned, and
//!   `dds_delete` waits for running listener calls to finish;
//! * serdata references obtained from Cyclone are released exactly once.
#![allow(unsafe_code)]

use std::{
    ffi::{c_void, CStr, CString},
    ptr,
    sync::Arc,
    time::Duration,
};

use cyclors as c;

mod builtin;

pub(crate) use builtin::{matched_guids, matched_handles, BuiltinReaders};

use super::ops::Descriptor;
use crate::qos::{Durability, History, Liveliness, Ownership, Reliability};

/// A Cyclone return code (negative) turned into a message.
pub(crate) fn err_text(rc: i32) -> String {
    // SAFETY: dds_strretcode returns a pointer to a static, NUL-terminated string.
    let s = unsafe { CStr::from_ptr(c::dds_strretcode(rc)) };
    format!("{} ({rc})", s.to_string_lossy())
}

/// `DDS_RETCODE_TIMEOUT`.
pub(crate) const RC_TIMEOUT: i32 = c::DDS_RETCODE_TIMEOUT;

fn duration(d: Duration) -> i64 {
    if d >= Duration::from_secs(i64::MAX as u64 / 1_000_000_000) {
        i64::MAX // DDS_INFINITY
    } else {
        d.as_nanos() as i64
    }
}

/// An owned Cyclone entity.
#[derive(Debug)]
pub(crate) struct Entity {
    handle: c::dds_entity_t,
    listener: Option<*mut Arc<dyn Callbacks>>,
    owned: bool,
}

// SAFETY: a Cyclone entity handle is an integer usable from any thread (the C
// library locks internally); the listener box is only touched in Drop.
unsafe impl Send for Entity {}
// SAFETY: as for Send; no method takes `&self` mutably.
unsafe impl Sync for Entity {}

impl Entity {
    fn new(handle: c::dds_entity_t, what: &str) -> Result<Entity, String> {
        if handle < 0 {
            return Err(format!("cannot create {what}: {}", err_text(handle)));
        }
        Ok(Entity {
            handle,
            listener: None,
            owned: true,
        })
    }

    /// A non-owning view of `handle` (as passed to a listener callback).
    pub(crate) fn borrowed(handle: i32) -> Entity {
        Entity {
            handle,
            listener: None,
            owned: false,
        }
    }

    /// The raw handle (an integer).
    pub(crate) fn handle(&self) -> i32 {
        self.handle
    }
}

impl Drop for Entity {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        // SAFETY: deleting an entity by handle is always memory-safe; an
        // already-deleted handle yields an error code, which we ignore.
        unsafe { c::dds_delete(self.handle) };
        if let Some(p) = self.listener.take() {
            // SAFETY: `p` came from Box::into_raw in `attach`; the entity is
            // deleted, so Cyclone will not call the listener again, and
            // dds_delete waited for calls in progress.
            drop(unsafe { Box::from_raw(p) });
        }
    }
}

/// Creates the domain `id` with XML `config` (Cyclone's configuration
/// format). Returns `None` if the domain already exists in this process.
pub(crate) fn create_domain(id: u32, config: &str) -> Result<Option<Entity>, String> {
    let cfg = CString::new(config).map_err(|_| "configuration contains NUL".to_owned())?;
    // SAFETY: `cfg` is a valid NUL-terminated string for the call's duration.
    let h = unsafe { c::dds_create_domain(id, cfg.as_ptr()) };
    if h == c::DDS_RETCODE_PRECONDITION_NOT_MET {
        return Ok(None);
    }
    Entity::new(h, "DDS domain").map(Some)
}

/// An owned QoS object.
#[derive(Debug)]
pub(crate) struct Qos(*mut c::dds_qos_t);

impl Qos {
    pub(crate) fn new() -> Qos {
        // SAFETY: allocates a fresh QoS object, never null (aborts on OOM).
        Qos(unsafe { c::dds_create_qos() })
    }
    pub(crate) fn entity_name(&mut self, name: &str) {
        let n = CString::new(name.replace('\0', "")).expect("NUL removed");
        // SAFETY: self.0 is a live QoS object, `n` a valid C string (copied).
        unsafe { c::dds_qset_entity_name(self.0, n.as_ptr()) }
    }
    pub(crate) fn reliability(&mut self, r: Reliability) {
        let (kind, block) = match r {
            Reliability::BestEffort => (c::dds_reliability_kind_DDS_RELIABILITY_BEST_EFFORT, 0),
            Reliability::Reliable { max_blocking_time } => (
                c::dds_reliability_kind_DDS_RELIABILITY_RELIABLE,
                duration(max_blocking_time),
            ),
        };
        // SAFETY: live QoS object, plain values.
        unsafe { c::dds_qset_reliability(self.0, kind, block) }
    }
    pub(crate) fn durability(&mut self, d: Durability) {
        let kind = match d {
            Durability::Volatile => c::dds_durability_kind_DDS_DURABILITY_VOLATILE,
            Durability::TransientLocal => c::dds_durability_kind_DDS_DURABILITY_TRANSIENT_LOCAL,
        };
        // SAFETY: live QoS object, plain values.
        unsafe { c::dds_qset_durability(self.0, kind) }
    }
    pub(crate) fn history(&mut self, h: History) {
        let (kind, depth) = match h {
            History::KeepLast(d) => (
                c::dds_history_kind_DDS_HISTORY_KEEP_LAST,
                d.min(i32::MAX as u32) as i32,
            ),
            History::KeepAll => (c::dds_history_kind_DDS_HISTORY_KEEP_ALL, -1),
        };
        // SAFETY: live QoS object, plain values.
        unsafe { c::dds_qset_history(self.0, kind, depth) }
    }
    /// History kept for transient-local late joiners (Cyclone keeps it in
    /// the writer, sized by the durability-service policy).
    pub(crate) fn durability_service(&mut self, h: History, per_instance: i32) {
        let (kind, depth) = match h {
            History::KeepLast(d) => (
                c::dds_history_kind_DDS_HISTORY_KEEP_LAST,
                d.min(i32::MAX as u32) as i32,
            ),
            History::KeepAll => (c::dds_history_kind_DDS_HISTORY_KEEP_ALL, -1),
        };
        // SAFETY: live QoS object, plain values (-1 = unlimited).
        unsafe { c::dds_qset_durability_service(self.0, 0, kind, depth, -1, -1, per_instance) }
    }
    pub(crate) fn resource_limits(&mut self, max_samples: i32, per_instance: i32) {
        // SAFETY: live QoS object, plain values (-1 = unlimited).
        unsafe { c::dds_qset_resource_limits(self.0, max_samples, -1, per_instance) }
    }
    pub(crate) fn deadline(&mut self, d: Option<Duration>) {
        // SAFETY: live QoS object, plain values.
        unsafe { c::dds_qset_deadline(self.0, d.map_or(i64::MAX, duration)) }
    }
    pub(crate) fn liveliness(&mut self, l: Liveliness) {
        let kind = match l {
            Liveliness::Automatic { .. } => c::dds_liveliness_kind_DDS_LIVELINESS_AUTOMATIC,
            Liveliness::ManualByTopic { .. } => {
                c::dds_liveliness_kind_DDS_LIVELINESS_MANUAL_BY_TOPIC
            }
        };
        // SAFETY: live QoS object, plain values.
        unsafe { c::dds_qset_liveliness(self.0, kind, duration(l.lease())) }
    }
    pub(crate) fn lifespan(&mut self, d: Option<Duration>) {
        // SAFETY: live QoS object, plain values.
        unsafe { c::dds_qset_lifespan(self.0, d.map_or(i64::MAX, duration)) }
    }
    pub(crate) fn ownership(&mut self, o: Ownership, strength: Option<i32>) {
        let kind = match o {
            Ownership::Shared => c::dds_ownership_kind_DDS_OWNERSHIP_SHARED,
            Ownership::Exclusive => c::dds_ownership_kind_DDS_OWNERSHIP_EXCLUSIVE,
        };
        // SAFETY: live QoS object, plain values.
        unsafe {
            c::dds_qset_ownership(self.0, kind);
            if let Some(s) = strength {
                c::dds_qset_ownership_strength(self.0, s);
            }
        }
    }
    pub(crate) fn partitions(&mut self, names: &[String]) {
        if names.is_empty() {
            return;
        }
        let owned: Vec<CString> = names
            .iter()
            .map(|n| CString::new(n.replace('\0', "")).expect("NUL removed"))
            .collect();
        let mut ptrs: Vec<*const std::os::raw::c_char> = owned.iter().map(|s| s.as_ptr()).collect();
        // SAFETY: `ptrs` holds `len` valid C strings alive for the call; Cyclone copies them.
        unsafe { c::dds_qset_partition(self.0, ptrs.len() as u32, ptrs.as_mut_ptr()) }
    }
    pub(crate) fn autodispose(&mut self, on: bool) {
        // SAFETY: live QoS object, plain values.
        unsafe { c::dds_qset_writer_data_lifecycle(self.0, on) }
    }
    pub(crate) fn batching(&mut self, on: bool) {
        // SAFETY: live QoS object, plain value.
        unsafe { c::dds_qset_writer_batching(self.0, on) }
    }
    pub(crate) fn xcdr1(&mut self) {
        let reps = [c::DDS_DATA_REPRESENTATION_XCDR1 as i16];
        // SAFETY: `reps` has 1 element, alive for the call; Cyclone copies it.
        unsafe { c::dds_qset_data_representation(self.0, 1, reps.as_ptr()) }
    }
}

impl Drop for Qos {
    fn drop(&mut self) {
        // SAFETY: self.0 came from dds_create_qos and is deleted once.
        unsafe { c::dds_delete_qos(self.0) }
    }
}

/// Creates a participant in domain `domain` named `name`.
pub(crate) fn participant(domain: u32, name: &str) -> Result<Entity, String> {
    let mut q = Qos::new();
    q.entity_name(name);
    // SAFETY: `q` is a live QoS object; no listener.
    let h = unsafe { c::dds_create_participant(domain, q.0, ptr::null()) };
    Entity::new(h, "DDS participant")
}

/// A topic and its serialisation type.
#[derive(Debug)]
pub(crate) struct TopicEntity {
    pub(crate) entity: Entity,
    sertype: *const c::ddsi_sertype,
}

// SAFETY: the sertype is immutable, reference-counted by Cyclone and kept
// alive by the topic entity, which this struct owns.
unsafe impl Send for TopicEntity {}
// SAFETY: as for Send.
unsafe impl Sync for TopicEntity {}

/// Creates topic `name` of type `type_name` described by `desc`.
pub(crate) fn topic(
    participant: &Entity,
    desc: &Descriptor,
    type_name: &str,
    name: &str,
) -> Result<TopicEntity, String> {
    let tn = CString::new(type_name).map_err(|_| "type name contains NUL".to_owned())?;
    let n = CString::new(name).map_err(|_| "topic name contains NUL".to_owned())?;
    let key_names: Vec<CString> = desc
        .keys
        .iter()
        .map(|(k, ..)| CString::new(k.as_str()).expect("field names have no NUL"))
        .collect();
    let keys: Vec<c::dds_key_descriptor_t> = desc
        .keys
        .iter()
        .zip(&key_names)
        .map(|((_, off, idx), n)| c::dds_key_descriptor_t {
            m_name: n.as_ptr(),
            m_offset: *off,
            m_idx: *idx,
        })
        .collect();
    let meta = c"";
    let d = c::dds_topic_descriptor_t {
        m_size: desc.size,
        m_align: desc.align,
        m_flagset: desc.flagset,
        m_nkeys: keys.len() as u32,
        m_typename: tn.as_ptr(),
        m_keys: if keys.is_empty() {
            ptr::null()
        } else {
            keys.as_ptr()
        },
        m_nops: desc.ops.len() as u32,
        m_ops: desc.ops.as_ptr(),
        m_meta: meta.as_ptr(),
        type_information: c::dds_type_meta_ser {
            data: ptr::null(),
            sz: 0,
        },
        type_mapping: c::dds_type_meta_ser {
            data: ptr::null(),
            sz: 0,
        },
        restrict_data_representation: 0,
    };
    // SAFETY: every pointer in `d` points into data alive until the call
    // returns; Cyclone copies the descriptor's contents into its sertype.
    let h = unsafe {
        c::dds_create_topic(participant.handle, &d, n.as_ptr(), ptr::null(), ptr::null())
    };
    let entity = Entity::new(h, &format!("topic `{name}`"))?;
    let mut st: *const c::ddsi_sertype = ptr::null();
    // SAFETY: `st` is a valid out-pointer; the topic entity exists.
    let rc = unsafe { c::dds_get_entity_sertype(entity.handle, &mut st) };
    if rc < 0 || st.is_null() {
        return Err(format!("topic `{name}`: no sertype: {}", err_text(rc)));
    }
    Ok(TopicEntity {
        entity,
        sertype: st,
    })
}

/// Status changes a listener reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RawStatus {
    DataAvailable {
        reader: i32,
    },
    Matched {
        current: u32,
        /// The endpoint matched or unmatched last (its instance handle).
        last: u64,
        /// Change of `current` since the last call (negative: unmatched).
        change: i32,
    },
    DeadlineMissed {
        instance: u64,
    },
    LivelinessChanged {
        alive: u32,
        not_alive: u32,
        writer: u64,
        became_alive: bool,
    },
    LivelinessLost,
    SampleLost,
    IncompatibleQos {
        policy: u32,
    },
}

/// Receives listener calls (on Cyclone's threads).
pub(crate) trait Callbacks: Send + Sync {
    fn on(&self, status: RawStatus);
}

unsafe extern "C" fn on_data(e: c::dds_entity_t, arg: *mut c_void) {
    // SAFETY: `arg` is the Box<Arc<dyn Callbacks>> pointer given in `attach`,
    // alive until after the entity is deleted (see module invariants).
    let cb = unsafe { &*(arg as *const Arc<dyn Callbacks>) };
    cb.on(RawStatus::DataAvailable { reader: e });
}
unsafe extern "C" fn on_sub_matched(
    _e: c::dds_entity_t,
    s: c::dds_subscription_matched_status_t,
    arg: *mut c_void,
) {
    // SAFETY: as in `on_data`.
    let cb = unsafe { &*(arg as *const Arc<dyn Callbacks>) };
    cb.on(RawStatus::Matched {
        current: s.current_count,
        last: s.last_publication_handle,
        change: s.current_count_change,
    });
}
unsafe extern "C" fn on_pub_matched(
    _e: c::dds_entity_t,
    s: c::dds_publication_matched_status_t,
    arg: *mut c_void,
) {
    // SAFETY: as in `on_data`.
    let cb = unsafe { &*(arg as *const Arc<dyn Callbacks>) };
    cb.on(RawStatus::Matched {
        current: s.current_count,
        last: s.last_subscription_handle,
        change: s.current_count_change,
    });
}
unsafe extern "C" fn on_deadline(
    _e: c::dds_entity_t,
    s: c::dds_requested_deadline_missed_status_t,
    arg: *mut c_void,
) {
    // SAFETY: as in `on_data`.
    let cb = unsafe { &*(arg as *const Arc<dyn Callbacks>) };
    cb.on(RawStatus::DeadlineMissed {
        instance: s.last_instance_handle,
    });
}
unsafe extern "C" fn on_liveliness(
    _e: c::dds_entity_t,
    s: c::dds_liveliness_changed_status_t,
    arg: *mut c_void,
) {
    // SAFETY: as in `on_data`.
    let cb = unsafe { &*(arg as *const Arc<dyn Callbacks>) };
    cb.on(RawStatus::LivelinessChanged {
        alive: s.alive_count,
        not_alive: s.not_alive_count,
        writer: s.last_publication_handle,
        became_alive: s.alive_count_change > 0,
    });
}
unsafe extern "C" fn on_lost(
    _e: c::dds_entity_t,
    _s: c::dds_sample_lost_status_t,
    arg: *mut c_void,
) {
    // SAFETY: as in `on_data`.
    let cb = unsafe { &*(arg as *const Arc<dyn Callbacks>) };
    cb.on(RawStatus::SampleLost);
}
unsafe extern "C" fn on_incompatible(
    _e: c::dds_entity_t,
    s: c::dds_requested_incompatible_qos_status_t,
    arg: *mut c_void,
) {
    // SAFETY: as in `on_data`.
    let cb = unsafe { &*(arg as *const Arc<dyn Callbacks>) };
    cb.on(RawStatus::IncompatibleQos {
        policy: s.last_policy_id,
    });
}
unsafe extern "C" fn on_offered_incompatible(
    _e: c::dds_entity_t,
    s: c::dds_offered_incompatible_qos_status_t,
    arg: *mut c_void,
) {
    // SAFETY: as in `on_data`.
    let cb = unsafe { &*(arg as *const Arc<dyn Callbacks>) };
    cb.on(RawStatus::IncompatibleQos {
        policy: s.last_policy_id,
    });
}
unsafe extern "C" fn on_lost_liveliness(
    _e: c::dds_entity_t,
    _s: c::dds_liveliness_lost_status_t,
    arg: *mut c_void,
) {
    // SAFETY: as in `on_data`.
    let cb = unsafe { &*(arg as *const Arc<dyn Callbacks>) };
    cb.on(RawStatus::LivelinessLost);
}
unsafe extern "C" fn on_offered_deadline(
    _e: c::dds_entity_t,
    s: c::dds_offered_deadline_missed_status_t,
    arg: *mut c_void,
) {
    // SAFETY: as in `on_data`.
    let cb = unsafe { &*(arg as *const Arc<dyn Callbacks>) };
    cb.on(RawStatus::DeadlineMissed {
        instance: s.last_instance_handle,
    });
}

fn boxed(cb: Arc<dyn Callbacks>) -> *mut Arc<dyn Callbacks> {
    Box::into_raw(Box::new(cb))
}

/// Creates a reader on `topic` whose statuses go to `cb`.
pub(crate) fn reader(
    participant: &Entity,
    topic: &TopicEntity,
    qos: &Qos,
    cb: Arc<dyn Callbacks>,
) -> Result<Entity, String> {
    let arg = boxed(cb);
    // SAFETY: the listener is created, configured with our trampolines and
    // `arg`, handed to dds_create_reader (which copies it) and deleted.
    let h = unsafe {
        let l = c::dds_create_listener(arg as *mut c_void);
        c::dds_lset_data_available(l, Some(on_data));
        c::dds_lset_subscription_matched(l, Some(on_sub_matched));
        c::dds_lset_requested_deadline_missed(l, Some(on_deadline));
        c::dds_lset_liveliness_changed(l, Some(on_liveliness));
        c::dds_lset_sample_lost(l, Some(on_lost));
        c::dds_lset_requested_incompatible_qos(l, Some(on_incompatible));
        let h = c::dds_create_reader(participant.handle, topic.entity.handle, qos.0, l);
        c::dds_delete_listener(l);
        h
    };
    match Entity::new(h, "DDS reader") {
        Ok(mut e) => {
            e.listener = Some(arg);
            Ok(e)
        }
        Err(e) => {
            // SAFETY: creation failed, so Cyclone holds no copy of `arg`.
            drop(unsafe { Box::from_raw(arg) });
            Err(e)
        }
    }
}

/// Creates a writer on `topic` whose statuses go to `cb`.
pub(crate) fn writer(
    participant: &Entity,
    topic: &TopicEntity,
    qos: &Qos,
    cb: Arc<dyn Callbacks>,
) -> Result<Entity, String> {
    let arg = boxed(cb);
    // SAFETY: as in `reader`.
    let h = unsafe {
        let l = c::dds_create_listener(arg as *mut c_void);
        c::dds_lset_publication_matched(l, Some(on_pub_matched));
        c::dds_lset_offered_incompatible_qos(l, Some(on_offered_incompatible));
        c::dds_lset_liveliness_lost(l, Some(on_lost_liveliness));
        c::dds_lset_offered_deadline_missed(l, Some(on_offered_deadline));
        let h = c::dds_create_writer(participant.handle, topic.entity.handle, qos.0, l);
        c::dds_delete_listener(l);
        h
    };
    match Entity::new(h, "DDS writer") {
        Ok(mut e) => {
            e.listener = Some(arg);
            Ok(e)
        }
        Err(e) => {
            // SAFETY: creation failed, so Cyclone holds no copy of `arg`.
            drop(unsafe { Box::from_raw(arg) });
            Err(e)
        }
    }
}

/// What [`write_cdr`] does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WriteKind {
    Data,
    Dispose,
    Unregister,
}

/// Writes CDR `bytes` (header included): a sample, or for dispose and
/// unregister the key-only serialisation. Cyclone validates the bytes
/// against the type; a mismatch is `Err(DDS_RETCODE_BAD_PARAMETER)`.
pub(crate) fn write_cdr(
    writer: &Entity,
    topic: &TopicEntity,
    bytes: &[u8],
    kind: WriteKind,
) -> Result<(), i32> {
    let iov = c::ddsrt_iovec_t {
        iov_base: bytes.as_ptr() as *mut c_void,
        iov_len: bytes.len(),
    };
    let sdk = match kind {
        WriteKind::Data => c::ddsi_serdata_kind_SDK_DATA,
        _ => c::ddsi_serdata_kind_SDK_KEY,
    };
    // SAFETY: the sertype is alive (owned by the topic); `iov` points to
    // `bytes`, which Cyclone copies into the new serdata.
    let sd = unsafe { c::ddsi_serdata_from_ser_iov(topic.sertype, sdk, 1, &iov, bytes.len()) };
    if sd.is_null() {
        return Err(c::DDS_RETCODE_BAD_PARAMETER);
    }
    // SAFETY: we hold the only reference to `sd`; setting its status info
    // and timestamp before handing it over is how Cyclone's own write path
    // fills them (dds_writecdr would reset both, so dds_forwardcdr is used,
    // which keeps them). dds_forwardcdr consumes our reference in every case.
    let rc = unsafe {
        (*sd).statusinfo = match kind {
            WriteKind::Data => 0,
            WriteKind::Dispose => 1,
            WriteKind::Unregister => 2,
        };
        (*sd).timestamp.v = c::dds_time();
        c::dds_forwardcdr(writer.handle, sd)
    };
    if rc < 0 {
        Err(rc)
    } else {
        Ok(())
    }
}

/// One sample as taken from a reader.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawInfo {
    pub(crate) valid: bool,
    /// `DDS_IST_*`: 16 alive, 32 disposed, 64 no writers.
    pub(crate) instance_state: u32,
    pub(crate) source_ns: i64,
    pub(crate) instance: u64,
    pub(crate) publication: u64,
}

/// Most samples one [`take_cdr`] call returns.
pub(crate) const TAKE_BATCH: usize = 64;

/// Takes (or, with `peek`, reads) up to `max` samples, passing each one's
/// CDR bytes (header included) and info to `f`. Returns how many.
pub(crate) fn take_cdr(
    reader: &Entity,
    max: usize,
    peek: bool,
    mut f: impl FnMut(&[u8], RawInfo),
) -> Result<usize, i32> {
    let n = max.min(TAKE_BATCH);
    let mut bufs: [*mut c::ddsi_serdata; TAKE_BATCH] = [ptr::null_mut(); TAKE_BATCH];
    // Left uninitialised: Cyclone fills the first `got` entries.
    let mut infos = [const { std::mem::MaybeUninit::<c::dds_sample_info_t>::uninit() }; TAKE_BATCH];
    let info_ptr = infos.as_mut_ptr() as *mut c::dds_sample_info_t;
    // SAFETY: `bufs` and `infos` have room for `n` entries.
    let got = unsafe {
        if peek {
            c::dds_readcdr(
                reader.handle,
                bufs.as_mut_ptr(),
                n as u32,
                info_ptr,
                c::DDS_ANY_STATE,
            )
        } else {
            c::dds_takecdr(
                reader.handle,
                bufs.as_mut_ptr(),
                n as u32,
                info_ptr,
                c::DDS_ANY_STATE,
            )
        }
    };
    if got < 0 {
        return Err(got);
    }
    for i in 0..got as usize {
        let sd = bufs[i];
        // SAFETY: Cyclone wrote the infos of the `got` samples it returned.
        let inf = unsafe { infos[i].assume_init_ref() };
        let raw = RawInfo {
            valid: inf.valid_data,
            instance_state: inf.instance_state,
            source_ns: inf.source_timestamp,
            instance: inf.instance_handle,
            publication: inf.publication_handle,
        };
        // SAFETY: `sd` is a serdata reference we own (from takecdr/readcdr).
        // to_ser_ref yields a contiguous view of its serialised form valid
        // until to_ser_unref; we unref the view and then the serdata once.
        unsafe {
            let size = c::ddsi_serdata_size(sd) as usize;
            let mut iov = c::ddsrt_iovec_t {
                iov_base: ptr::null_mut(),
                iov_len: 0,
            };
            let r = c::ddsi_serdata_to_ser_ref(sd, 0, size, &mut iov);
            let bytes = if iov.iov_base.is_null() {
                &[][..]
            } else {
                std::slice::from_raw_parts(iov.iov_base as *const u8, iov.iov_len)
            };
            f(bytes, raw);
            c::ddsi_serdata_to_ser_unref(r, &iov);
            c::ddsi_serdata_unref(sd);
        }
    }
    Ok(got as usize)
}

/// Sends what a batching writer holds back.
pub(crate) fn flush(e: &Entity) {
    // SAFETY: plain call on a handle.
    unsafe { c::dds_write_flush(e.handle) };
}

/// Asserts a writer's liveliness.
pub(crate) fn assert_liveliness(e: &Entity) {
    // SAFETY: plain call on a handle.
    unsafe { c::dds_assert_liveliness(e.handle) };
}

/// Reader-side counts: (matched current, matched total, deadline missed,
/// alive, not alive, liveliness changes, lost, incompatible).
pub(crate) fn reader_counts(e: &Entity) -> [u64; 8] {
    // SAFETY: all status structs are plain data, zero-initialised and
    // filled by Cyclone through valid out-pointers.
    unsafe {
        let mut m: c::dds_subscription_matched_status_t = std::mem::zeroed();
        let mut d: c::dds_requested_deadline_missed_status_t = std::mem::zeroed();
        let mut l: c::dds_liveliness_changed_status_t = std::mem::zeroed();
        let mut s: c::dds_sample_lost_status_t = std::mem::zeroed();
        let mut q: c::dds_requested_incompatible_qos_status_t = std::mem::zeroed();
        c::dds_get_subscription_matched_status(e.handle, &mut m);
        c::dds_get_requested_deadline_missed_status(e.handle, &mut d);
        c::dds_get_liveliness_changed_status(e.handle, &mut l);
        c::dds_get_sample_lost_status(e.handle, &mut s);
        c::dds_get_requested_incompatible_qos_status(e.handle, &mut q);
        [
            m.current_count.into(),
            m.total_count.into(),
            d.total_count.into(),
            l.alive_count.into(),
            l.not_alive_count.into(),
            0,
            s.total_count.into(),
            q.total_count.into(),
        ]
    }
}

/// Writer-side counts: (matched current, matched total, deadline missed,
/// liveliness lost, incompatible).
pub(crate) fn writer_counts(e: &Entity) -> [u64; 5] {
    // SAFETY: as in `reader_counts`.
    unsafe {
        let mut m: c::dds_publication_matched_status_t = std::mem::zeroed();
        let mut d: c::dds_offered_deadline_missed_status_t = std::mem::zeroed();
        let mut l: c::dds_liveliness_lost_status_t = std::mem::zeroed();
        let mut q: c::dds_offered_incompatible_qos_status_t = std::mem::zeroed();
        c::dds_get_publication_matched_status(e.handle, &mut m);
        c::dds_get_offered_deadline_missed_status(e.handle, &mut d);
        c::dds_get_liveliness_lost_status(e.handle, &mut l);
        c::dds_get_offered_incompatible_qos_status(e.handle, &mut q);
        [
            m.current_count.into(),
            m.total_count.into(),
            d.total_count.into(),
            l.total_count.into(),
            q.total_count.into(),
        ]
    }
}

/// The participant GUID, entity name (Twin names writers after their
/// participant) and ownership strength of the writer a reader knows as
/// `publication`.
pub(crate) fn writer_participant(reader: &Entity, publication: u64) -> Option<MatchedWriter> {
    // SAFETY: on success Cyclone returns an endpoint struct we own and free
    // with dds_builtintopic_free_endpoint after copying the key, strength
    // and name out; the name string returned by dds_qget_entity_name is
    // ours to free.
    unsafe {
        let ep = c::dds_get_matched_publication_data(reader.handle, publication);
        if ep.is_null() {
            return None;
        }
        let participant = (*ep).participant_key.v;
        let guid = (*ep).key.v;
        let (mut name, mut strength) = (None, 0);
        let mut p: *mut std::os::raw::c_char = ptr::null_mut();
        if !(*ep).qos.is_null() {
            if c::dds_qget_entity_name((*ep).qos, &mut p) && !p.is_null() {
                name = Some(CStr::from_ptr(p).to_string_lossy().into_owned());
                c::dds_free(p as *mut c_void);
            }
            // Unset means the default strength, 0.
            c::dds_qget_ownership_strength((*ep).qos, &mut strength);
        }
        c::dds_builtintopic_free_endpoint(ep);
        Some(MatchedWriter {
            participant,
            guid,
            name,
            strength,
        })
    }
}

/// What a reader knows of one matched writer.
pub(crate) struct MatchedWriter {
    /// The writer's participant GUID.
    pub(crate) participant: [u8; 16],
    /// The writer's own GUID (ties between equal strengths go to the lower).
    pub(crate) guid: [u8; 16],
    pub(crate) name: Option<String>,
    /// Its ownership strength (0 when not set).
    pub(crate) strength: i32,
}

/// The GUID of an entity.
pub(crate) fn guid(e: &Entity) -> Option<[u8; 16]> {
    // SAFETY: dds_guid_t is plain data; Cyclone fills it through a valid pointer.
    unsafe {
        let mut g: c::dds_guid_t = std::mem::zeroed();
        (c::dds_get_guid(e.handle, &mut g) >= 0).then_some(g.v)
    }
}
