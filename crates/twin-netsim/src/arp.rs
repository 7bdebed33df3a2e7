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
}

/// One node's ARP cache and protocol.
#[derive(Debug)]
pub(crate) struct Arp {
    me: NodeId,
    p: ArpSpec,
    entries: BTreeMap<u32, Entry>,
    rng: Rng,
    pub(crate) counters: ArpCounters,
}

impl Arp {
    pub(crate) fn new(me: NodeId, p: &ArpSpec, rng: Rng) -> Arp {
        Arp {
            me,
            p: p.clone(),
            entries: BTreeMap::new(),
            rng,
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
        out.push(ArpOut::Timer(
            jitter + self.p.wait_reply_timeout.as_nanos(),
            ArpTimer::WaitReply(target, epoch),
        ));
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
                self.counters.drops += 1;
                out.push(ArpOut::Drop(pkt));
            }
            State::Alive | State::Dead => self.wait(t, now, pkt, out),
            State::WaitReply { pending, .. } => {
                if pending.len() < limit {
                    pending.push_back(pkt);
                } else {
                    self.counters.drops += 1;
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
                    return;
                };
                if let State::WaitReply { pending, .. } = &mut e.state {
                    let pending = std::mem::take(pending);
                    e.state = State::Alive;
                    e.since = now;
                    out.extend(pending.into_iter().map(|p| ArpOut::Send(p, from)));
                }
            }
        }
    }

    /// A timer fired.
    pub(crate) fn timer(&mut self, now: u64, uid: u64, t: ArpTimer, out: &mut Vec<ArpOut>) {
        match t {
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
                    e.state = State::Dead;
                    e.since = now;
                    self.counters.drops += pending.len() as u64;
                    out.extend(pending.into_iter().map(ArpOut::Drop));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
