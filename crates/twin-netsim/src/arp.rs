//! Address resolution between the network layer and the MAC, as ns-3's
//! `ArpL3Protocol`/`ArpCache` do it (RFC 826 with ns-3's timers).
//!
//! Optional (`[mac.arp] enabled = true`): off, a unicast packet goes to the
//! MAC at once. On, the first packet toward a neighbour waits for an ARP
//! exchange (broadcast request, unicast reply, each a 28-byte ARP packet in
//! an LLC/SNAP frame), and the cache entry is a small state machine:
//!
//! ```text
//!            lookup (no entry)                  reply
//!   (none) ───────────────────► WaitReply ─────────────► Alive ── alive_timeout ──┐
//!                                 │  ▲ timeout, retries < max                     │ next lookup
//!                                 │  └── (re-request)                             ▼
//!                                 └── timeout, retries = max ──► Dead ◄── WaitReply (again)
//!                                          drop lookups until dead_timeout
//! ```
//!
//! While waiting, at most `pending_queue` packets are kept (ns-3:
//! `PendingQueueSize` = 3); later ones are dropped. A request from another
//! node does **not** create an entry for it (ns-3 bug 107 behaviour), so
//! both ends of a new link resolve each other separately. These details
//! matter for delivery and delay: when AODV finds a route and releases its
//! buffer, all but three packets are lost while the next hop is resolved.
//!
//! | parameter | default (ns-3) |
//! |---|---|
//! | `alive_timeout` | 120 s (`AliveTimeout`) |
//! | `dead_timeout` | 100 s (`DeadTimeout`) |
//! | `wait_reply_timeout` | 1 s (`WaitReplyTimeout`) |
//! | `max_retries` | 3 (`MaxRetries`) |
//! | `pending_queue` | 3 (`PendingQueueSize`) |
//! | `request_jitter` | 10 ms, uniform (`RequestJitter`) |
//! | `cache_wide_wait_timer` | off (ns-3: on) |
//!
//! The wait for a reply is timed per entry by default: retries at
//! `t₀ + j + k·wait_reply_timeout` (j the request jitter), dead at k = 4.
//! ns-3's `ArpCache` has one timer per cache instead: armed for
//! `wait_reply_timeout` when an entry starts waiting and none is running,
//! and at each tick every waiting entry is retried (or, with its retries
//! spent, declared dead); the timer re-arms while anything was retried. An
//! entry that starts waiting δ ∈ (0, 1] s before the next tick is therefore
//! re-requested after δ (often before the first reply can arrive, so two
//! replies come back and the second is ignored) and dies after δ + 3 s
//! instead of 4 s. `cache_wide_wait_timer = true` reproduces that.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use twin_core::{NodeId, SimDuration};
use twin_des::Rng;

use crate::packet::{Body, Packet, BROADCAST};

/// Size of an ARP packet for IPv4 over 802 MACs \[bytes\].
pub const ARP_BYTES: u32 = 28;

/// `[mac.arp]`: address resolution parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArpSpec {
    /// Resolve next hops before unicasting (ns-3's IPv4 stack always does).
    pub enabled: bool,
    /// How long a resolved entry is used before it is resolved again.
    pub alive_timeout: SimDuration,
    /// How long a neighbour that never answered is considered unreachable.
    pub dead_timeout: SimDuration,
    /// Wait for a reply before re-requesting.
    pub wait_reply_timeout: SimDuration,
    /// Requests repeated after the first before the entry is declared dead.
    pub max_retries: u32,
    /// Packets kept while waiting for a reply.
    pub pending_queue: u32,
    /// Requests are sent after a uniform delay in \[0, `request_jitter`\].
    pub request_jitter: SimDuration,
    /// One wait-reply timer per node for all entries, as ns-3's `ArpCache`
    /// (see the module docs); off: one per entry.
    pub cache_wide_wait_timer: bool,
}

impl Default for ArpSpec {
    fn default() -> Self {
        ArpSpec {
            enabled: false,
            alive_timeout: SimDuration::from_secs(120),
            dead_timeout: SimDuration::from_secs(100),
            wait_reply_timeout: SimDuration::from_secs(1),
            max_retries: 3,
            pending_queue: 3,
            request_jitter: SimDuration::from_millis(10),
            cache_wide_wait_timer: false,
        }
    }
}

/// An ARP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArpMsg {
    /// Who has `target`? (broadcast)
    Request {
        /// The node being resolved.
        target: NodeId,
    },
    /// `target`, I am here (unicast to the requester).
    Reply,
}

/// ARP timers of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArpTimer {
    /// Send the (jittered) first request for `target`.
    Request(u32),
    /// No reply from `target` within the wait time (episode `epoch`).
    WaitReply(u32, u32),
    /// The node's cache-wide wait-reply timer (`cache_wide_wait_timer`).
    CacheTick,
}

/// State of a cache entry.
#[derive(Debug, Clone, PartialEq)]
enum State {
    Alive,
    WaitReply {
        retries: u32,
        pending: VecDeque<Packet>,
    },
    Dead,
}

#[derive(Debug, Clone)]
struct Entry {
    state: State,
    /// When the entry last changed state \[ns\].
    since: u64,
    /// Incremented at every new wait, so stale timers are ignored.
    epoch: u32,
}

/// What the node must do after an ARP step.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ArpOut {
    /// Hand this packet to the MAC for `next_hop`.
    Send(Packet, NodeId),
    /// Arm a timer this far ahead \[ns\].
    Timer(u64, ArpTimer),
    /// A packet was lost in address resolution.
    Drop(Packet),
}

/// Counters of one node's ARP process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ArpCounters {
    /// Requests sent (each retry counts).
    pub requests: u64,
    /// Replies sent.
    pub replies: u64,
    /// Packets dropped (pending queue full, or neighbour dead).
    pub drops: u64,
    /// ... of them: the pending queue was full.
    pub drops_queue_full: u64,
    /// ... pending when the retries ran out.
    pub drops_retries: u64,
    /// ... sent toward an entry still dead (`dead_timeout`).
    pub drops_dead: u64,
    /// Data packets among `drops_queue_full`, `drops_retries`, `drops_dead`.
    pub data_drops_queue_full: u64,
    /// See `data_drops_queue_full`.
    pub data_drops_retries: u64,
    /// See `data_drops_queue_full`.
    pub data_drops_dead: u64,
    /// Replies for an entry that was not waiting (ns-3 traces them as drops).
    pub replies_ignored: u64,
}

/// Why ARP dropped a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DropCause {
    QueueFull,
    Retries,
    Dead,
}

impl ArpCounters {
    fn drop(&mut self, pkt: &Packet, cause: DropCause) {
        let data = matches!(pkt.body, Body::Data { .. });
        self.drops += 1;
        let (all, d) = match cause {
            DropCause::QueueFull => (&mut self.drops_queue_full, &mut self.data_drops_queue_full),
            DropCause::Retries => (&mut self.drops_retries, &mut self.data_drops_retries),
            DropCause::Dead => (&mut self.drops_dead, &mut self.data_drops_dead),
        };
        *all += 1;
        if data {
            *d += 1;
        }
    }
}

/// One node's ARP cache and protocol.
#[derive(Debug)]
pub(crate) struct Arp {
    me: NodeId,
    p: ArpSpec,
    entries: BTreeMap<u32, Entry>,
    rng: Rng,
    /// The cache-wide wait-reply timer is pending.
    tick_armed: bool,
    pub(crate) counters: ArpCounters,
}

/// Retries spent: the entry turns dead and its pending packets are dropped.
fn give_up(
    e: &mut Entry,
    pending: VecDeque<Packet>,
    now: u64,
    counters: &mut ArpCounters,
    out: &mut Vec<ArpOut>,
) {
    e.state = State::Dead;
    e.since = now;
    for p in &pending {
        counters.drop(p, DropCause::Retries);
    }
    out.extend(pending.into_iter().map(ArpOut::Drop));
}

impl Arp {
    pub(crate) fn new(me: NodeId, p: &ArpSpec, rng: Rng) -> Arp {
        Arp {
            me,
            p: p.clone(),
            entries: BTreeMap::new(),
            rng,
            tick_armed: false,
            counters: ArpCounters::default(),
        }
    }

    /// Every packet waiting for a resolution.
    pub(crate) fn for_each_packet(&self, f: &mut dyn FnMut(&Packet)) {
        for e in self.entries.values() {
            if let State::WaitReply { pending, .. } = &e.state {
                pending.iter().for_each(&mut *f);
            }
        }
    }

    fn packet(&self, uid: u64, dst: NodeId, now: u64, msg: ArpMsg) -> Packet {
        Packet {
            uid,
            src: self.me,
            dst,
            ttl: 1,
            hops: 0,
            bytes: ARP_BYTES,
            created: twin_core::SimTime::from_nanos(now),
            body: Body::Arp(msg),
        }
    }

    fn request(&mut self, uid: u64, target: u32, now: u64, out: &mut Vec<ArpOut>) {
        self.counters.requests += 1;
        let pkt = self.packet(
            uid,
            BROADCAST,
            now,
            ArpMsg::Request {
                target: NodeId(target),
            },
        );
        out.push(ArpOut::Send(pkt, BROADCAST));
    }

    /// Starts waiting for `target` with `pkt` pending; the first request
    /// goes out after the jitter.
    fn wait(&mut self, target: u32, now: u64, pkt: Packet, out: &mut Vec<ArpOut>) {
        let e = self.entries.entry(target).or_insert(Entry {
            state: State::Dead,
            since: now,
            epoch: 0,
        });
        e.epoch = e.epoch.wrapping_add(1);
        e.since = now;
        e.state = State::WaitReply {
            retries: 0,
            pending: VecDeque::from([pkt]),
        };
        let epoch = e.epoch;
        let jitter = self.rng.below(self.p.request_jitter.as_nanos() + 1);
        out.push(ArpOut::Timer(jitter, ArpTimer::Request(target)));
        if !self.p.cache_wide_wait_timer {
            out.push(ArpOut::Timer(
                jitter + self.p.wait_reply_timeout.as_nanos(),
                ArpTimer::WaitReply(target, epoch),
            ));
        } else if !self.tick_armed {
            self.tick_armed = true;
            let wait = self.p.wait_reply_timeout.as_nanos();
            out.push(ArpOut::Timer(wait, ArpTimer::CacheTick));
        }
    }

    /// The cache-wide timer: retries or kills every waiting entry.
    fn cache_tick(&mut self, now: u64, uid: &mut u64, out: &mut Vec<ArpOut>) {
        self.tick_armed = false;
        let mut retried = Vec::new();
        for (&target, e) in self.entries.iter_mut() {
            let State::WaitReply { retries, pending } = &mut e.state else {
                continue;
            };
            if *retries < self.p.max_retries {
                *retries += 1;
                retried.push(target);
            } else {
                let pending = std::mem::take(pending);
                give_up(e, pending, now, &mut self.counters, out);
            }
        }
        for (k, target) in retried.iter().enumerate() {
            if k > 0 {
                *uid += 1;
            }
            self.request(*uid, *target, now, out);
        }
        if !retried.is_empty() {
            self.tick_armed = true;
            let wait = self.p.wait_reply_timeout.as_nanos();
            out.push(ArpOut::Timer(wait, ArpTimer::CacheTick));
        }
    }

    /// Whether `n` has a live entry (resolved and not older than
    /// `alive_timeout`): ns-3's `ArpCache::Entry` alive and not expired.
    pub(crate) fn resolved(&self, n: NodeId, now: u64) -> bool {
        self.entries.get(&n.0).is_some_and(|e| {
            e.state == State::Alive && now.saturating_sub(e.since) < self.p.alive_timeout.as_nanos()
        })
    }

    /// A unicast packet for neighbour `next_hop` leaves the network layer.
    pub(crate) fn send(&mut self, now: u64, pkt: Packet, next_hop: NodeId, out: &mut Vec<ArpOut>) {
        let t = next_hop.0;
        let (alive, dead, limit) = (
            self.p.alive_timeout.as_nanos(),
            self.p.dead_timeout.as_nanos(),
            self.p.pending_queue as usize,
        );
        let Some(e) = self.entries.get_mut(&t) else {
            self.wait(t, now, pkt, out);
            return;
        };
        let age = now.saturating_sub(e.since);
        match &mut e.state {
            State::Alive if age < alive => out.push(ArpOut::Send(pkt, next_hop)),
            State::Dead if age < dead => {
                self.counters.drop(&pkt, DropCause::Dead);
                out.push(ArpOut::Drop(pkt));
            }
            State::Alive | State::Dead => self.wait(t, now, pkt, out),
            State::WaitReply { pending, .. } => {
                if pending.len() < limit {
                    pending.push_back(pkt);
                } else {
                    self.counters.drop(&pkt, DropCause::QueueFull);
                    out.push(ArpOut::Drop(pkt));
                }
            }
        }
    }

    /// An ARP packet from neighbour `from` arrived.
    pub(crate) fn receive(
        &mut self,
        now: u64,
        uid: u64,
        msg: ArpMsg,
        from: NodeId,
        out: &mut Vec<ArpOut>,
    ) {
        match msg {
            ArpMsg::Request { target } if target == self.me => {
                self.counters.replies += 1;
                let pkt = self.packet(uid, from, now, ArpMsg::Reply);
                out.push(ArpOut::Send(pkt, from));
            }
            ArpMsg::Request { .. } => {}
            ArpMsg::Reply => {
                let Some(e) = self.entries.get_mut(&from.0) else {
                    self.counters.replies_ignored += 1;
                    return;
                };
                if let State::WaitReply { pending, .. } = &mut e.state {
                    let pending = std::mem::take(pending);
                    e.state = State::Alive;
                    e.since = now;
                    out.extend(pending.into_iter().map(|p| ArpOut::Send(p, from)));
                } else {
                    self.counters.replies_ignored += 1;
                }
            }
        }
    }

    /// A timer fired; `uid` is the packet id to use (advanced when more
    /// than one request goes out).
    pub(crate) fn timer(&mut self, now: u64, uid: &mut u64, t: ArpTimer, out: &mut Vec<ArpOut>) {
        let uid_ref = uid;
        let uid = *uid_ref;
        match t {
            ArpTimer::CacheTick => self.cache_tick(now, uid_ref, out),
            ArpTimer::Request(target) => {
                let waiting = matches!(
                    self.entries.get(&target).map(|e| &e.state),
                    Some(State::WaitReply { .. })
                );
                if waiting {
                    self.request(uid, target, now, out);
                }
            }
            ArpTimer::WaitReply(target, epoch) => {
                let (max, wait) = (self.p.max_retries, self.p.wait_reply_timeout.as_nanos());
                let Some(e) = self.entries.get_mut(&target) else {
                    return;
                };
                if e.epoch != epoch {
                    return;
                }
                let State::WaitReply { retries, pending } = &mut e.state else {
                    return;
                };
                if *retries < max {
                    *retries += 1;
                    out.push(ArpOut::Timer(wait, ArpTimer::WaitReply(target, epoch)));
                    self.request(uid, target, now, out);
                } else {
                    let pending = std::mem::take(pending);
                    give_up(e, pending, now, &mut self.counters, out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
