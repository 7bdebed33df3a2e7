//! Cyclone's builtin discovery topics (DCPSParticipant, DCPSPublication,
//! DCPSSubscription): what every participant in the domain announced.
#![allow(unsafe_code)]

use std::{
    ffi::{c_void, CStr},
    os::raw::c_char,
    ptr,
    time::Duration,
};

use cyclors as c;

use super::{err_text, Entity};

// `DDS_MIN_PSEUDO_HANDLE + 1, + 3, + 4` (dds.h): macros bindgen cannot carry.
const PSEUDO: c::dds_entity_t = 0x7fff_0000;
const DCPS_PARTICIPANT: c::dds_entity_t = PSEUDO + 1;
const DCPS_PUBLICATION: c::dds_entity_t = PSEUDO + 3;
const DCPS_SUBSCRIPTION: c::dds_entity_t = PSEUDO + 4;
/// Any sample state, any view state, alive instances only.
const ALIVE_MASK: u32 = 1 | 2 | 4 | 8 | 16;

/// The QoS an endpoint announced (the policies `twin bus ls` shows).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RawEndpointQos {
    pub(crate) reliable: bool,
    pub(crate) transient_local: bool,
    /// `None`: keep-all; otherwise the keep-last depth.
    pub(crate) keep_last: Option<i32>,
    pub(crate) exclusive: bool,
    pub(crate) strength: Option<i32>,
    pub(crate) deadline: Option<Duration>,
    pub(crate) lease: Option<Duration>,
    pub(crate) manual_liveliness: bool,
    pub(crate) lifespan: Option<Duration>,
    pub(crate) partitions: Vec<String>,
    pub(crate) entity_name: Option<String>,
}

/// One discovered reader or writer.
#[derive(Clone, Debug)]
pub(crate) struct RawEndpoint {
    pub(crate) key: [u8; 16],
    pub(crate) participant: [u8; 16],
    pub(crate) topic: String,
    pub(crate) type_name: String,
    pub(crate) qos: RawEndpointQos,
}

/// One discovered participant.
#[derive(Clone, Debug)]
pub(crate) struct RawParticipant {
    pub(crate) key: [u8; 16],
    pub(crate) name: Option<String>,
}

/// Readers of the three builtin topics on one participant.
#[derive(Debug)]
pub(crate) struct BuiltinReaders {
    participants: Entity,
    publications: Entity,
    subscriptions: Entity,
}

impl BuiltinReaders {
    pub(crate) fn new(participant: &Entity) -> Result<BuiltinReaders, String> {
        let mk = |topic, what| {
            // SAFETY: creating a reader on a builtin pseudo-topic with
            // default QoS and no listener; the handle is checked by Entity::new.
            let h = unsafe {
                c::dds_create_reader(participant.handle, topic, ptr::null(), ptr::null())
            };
            Entity::new(h, what)
        };
        Ok(BuiltinReaders {
            participants: mk(DCPS_PARTICIPANT, "DCPSParticipant reader")?,
            publications: mk(DCPS_PUBLICATION, "DCPSPublication reader")?,
            subscriptions: mk(DCPS_SUBSCRIPTION, "DCPSSubscription reader")?,
        })
    }

    pub(crate) fn participants(&self) -> Result<Vec<RawParticipant>, String> {
        read_loaned(
            &self.participants,
            |p: &c::dds_builtintopic_participant_t| {
                RawParticipant {
                    key: p.key.v,
                    // SAFETY: `p.qos` is null or a QoS object alive while loaned.
                    name: unsafe { qos_name(p.qos) },
                }
            },
        )
    }

    pub(crate) fn publications(&self) -> Result<Vec<RawEndpoint>, String> {
        read_loaned(&self.publications, endpoint)
    }

    pub(crate) fn subscriptions(&self) -> Result<Vec<RawEndpoint>, String> {
        read_loaned(&self.subscriptions, endpoint)
    }
}

/// Reads (without taking) the alive instances of a builtin reader through
/// a loan, converting each sample of C type `S` with `f`.
fn read_loaned<S, R>(reader: &Entity, f: impl Fn(&S) -> R) -> Result<Vec<R>, String> {
    const MAX: usize = 256;
    let mut out = Vec::new();
    let mut bufs: [*mut c_void; MAX] = [ptr::null_mut(); MAX];
    // SAFETY: dds_sample_info_t is plain data; all-zero is a valid value.
    let mut infos: [c::dds_sample_info_t; MAX] = unsafe { std::mem::zeroed() };
    // SAFETY: bufs[0] is null, so Cyclone loans its own sample memory and
    // fills up to MAX pointers and infos; the loan is returned below before
    // the pointers go out of use.
    let n = unsafe {
        c::dds_read_mask(
            reader.handle,
            bufs.as_mut_ptr(),
            infos.as_mut_ptr(),
            MAX,
            MAX as u32,
            ALIVE_MASK,
        )
    };
    if n < 0 {
        return Err(err_text(n));
    }
    for i in 0..n as usize {
        if infos[i].valid_data && !bufs[i].is_null() {
            // SAFETY: a valid sample of this builtin topic is an `S` (the
            // caller picks `S` to match the reader's topic), loaned to us.
            out.push(f(unsafe { &*(bufs[i] as *const S) }));
        }
    }
    // SAFETY: returns exactly the loan obtained above.
    unsafe { c::dds_return_loan(reader.handle, bufs.as_mut_ptr(), n) };
    Ok(out)
}

fn endpoint(e: &c::dds_builtintopic_endpoint_t) -> RawEndpoint {
    // SAFETY: names are null or NUL-terminated strings and `qos` is null or
    // a QoS object, all alive while the sample is loaned.
    unsafe {
        RawEndpoint {
            key: e.key.v,
            participant: e.participant_key.v,
            topic: c_string(e.topic_name).unwrap_or_default(),
            type_name: c_string(e.type_name).unwrap_or_default(),
            qos: endpoint_qos(e.qos),
        }
    }
}

/// # Safety
/// `s` is null or a valid NUL-terminated string.
unsafe fn c_string(s: *const c_char) -> Option<String> {
    // SAFETY: by the function's contract.
    (!s.is_null()).then(|| unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned())
}

/// # Safety
/// `q` is null or a live QoS object.
unsafe fn qos_name(q: *const c::dds_qos_t) -> Option<String> {
    if q.is_null() {
        return None;
    }
    let mut p: *mut c_char = ptr::null_mut();
    // SAFETY: `q` is live; on success `p` is a string we own and free.
    unsafe {
        if c::dds_qget_entity_name(q, &mut p) && !p.is_null() {
            let s = c_string(p);
            c::dds_free(p as *mut c_void);
            return s;
        }
    }
    None
}

fn finite(ns: i64) -> Option<Duration> {
    (ns >= 0 && ns != i64::MAX).then(|| Duration::from_nanos(ns as u64))
}

/// # Safety
/// `q` is null or a live QoS object.
unsafe fn endpoint_qos(q: *const c::dds_qos_t) -> RawEndpointQos {
    let mut r = RawEndpointQos::default();
    if q.is_null() {
        return r;
    }
    // SAFETY: `q` is live; every out-pointer is a valid local; the partition
    // strings and their array are ours to free, which we do after copying.
    unsafe {
        let mut rk: c::dds_reliability_kind_t = 0;
        let mut block = 0i64;
        if c::dds_qget_reliability(q, &mut rk, &mut block) {
            r.reliable = rk == c::dds_reliability_kind_DDS_RELIABILITY_RELIABLE;
        }
        let mut dk: c::dds_durability_kind_t = 0;
        if c::dds_qget_durability(q, &mut dk) {
            r.transient_local = dk == c::dds_durability_kind_DDS_DURABILITY_TRANSIENT_LOCAL;
        }
        let (mut hk, mut depth): (c::dds_history_kind_t, i32) = (0, 1);
        r.keep_last = Some(1);
        if c::dds_qget_history(q, &mut hk, &mut depth) {
            r.keep_last = (hk == c::dds_history_kind_DDS_HISTORY_KEEP_LAST).then_some(depth);
        }
        let mut ok: c::dds_ownership_kind_t = 0;
        if c::dds_qget_ownership(q, &mut ok) {
            r.exclusive = ok == c::dds_ownership_kind_DDS_OWNERSHIP_EXCLUSIVE;
        }
        let mut s = 0i32;
        if c::dds_qget_ownership_strength(q, &mut s) {
            r.strength = Some(s);
        }
        let mut d = 0i64;
        if c::dds_qget_deadline(q, &mut d) {
            r.deadline = finite(d);
        }
        let mut lk: c::dds_liveliness_kind_t = 0;
        let mut lease = 0i64;
        if c::dds_qget_liveliness(q, &mut lk, &mut lease) {
            r.lease = finite(lease);
            r.manual_liveliness = lk != c::dds_liveliness_kind_DDS_LIVELINESS_AUTOMATIC;
        }
        let mut ls = 0i64;
        if c::dds_qget_lifespan(q, &mut ls) {
            r.lifespan = finite(ls);
        }
        let mut n = 0u32;
        let mut ps: *mut *mut c_char = ptr::null_mut();
        if c::dds_qget_partition(q, &mut n, &mut ps) && !ps.is_null() {
            for i in 0..n as usize {
                let p = *ps.add(i);
                r.partitions.extend(c_string(p));
                c::dds_free(p as *mut c_void);
            }
            c::dds_free(ps as *mut c_void);
        }
        r.entity_name = qos_name(q);
    }
    r
}

/// The instance handles of the endpoints `e` is matched with: the writers
/// of a reader, or the readers of a writer.
pub(crate) fn matched_handles(e: &Entity, is_reader: bool) -> Vec<c::dds_instance_handle_t> {
    let mut hs: Vec<c::dds_instance_handle_t> = vec![0; 64];
    loop {
        // SAFETY: `hs` has room for `hs.len()` handles; Cyclone returns the
        // total count, which may exceed the room (then we grow and retry).
        let n = unsafe {
            if is_reader {
                c::dds_get_matched_publications(e.handle, hs.as_mut_ptr(), hs.len())
            } else {
                c::dds_get_matched_subscriptions(e.handle, hs.as_mut_ptr(), hs.len())
            }
        };
        if n < 0 {
            return Vec::new();
        }
        if n as usize > hs.len() {
            hs.resize(n as usize, 0);
            continue;
        }
        hs.truncate(n as usize);
        break;
    }
    hs
}

/// The GUIDs of the remote (or local) endpoints `e` is matched with: the
/// writers of a reader, or the readers of a writer.
pub(crate) fn matched_guids(e: &Entity, is_reader: bool) -> Vec<[u8; 16]> {
    matched_handles(e, is_reader)
        .into_iter()
        .filter_map(|h| {
            // SAFETY: on success Cyclone returns an endpoint we own; we copy
            // its key and free it.
            unsafe {
                let ep = if is_reader {
                    c::dds_get_matched_publication_data(e.handle, h)
                } else {
                    c::dds_get_matched_subscription_data(e.handle, h)
                };
                if ep.is_null() {
                    return None;
                }
                let k = (*ep).key.v;
                c::dds_builtintopic_free_endpoint(ep);
                Some(k)
            }
        })
        .collect()
}
