//! AODV control messages: route requests (§6.5), replies (§6.6, §6.7) and
//! errors (§6.11), as a second `impl` block of [`Aodv`].

use super::*;

impl Aodv {
    /// Adds `p` to the precursor list of the route to `dst`.
    pub(super) fn add_precursor(&mut self, dst: u32, p: NodeId) {
        if let Some(r) = self.routes.get_mut(&dst) {
            if !r.precursors.contains(&p) {
                r.precursors.push(p);
            }
        }
    }

    /// §6.5: process (and perhaps answer or forward) a route request.
    pub(super) fn recv_rreq(&mut self, cx: &mut NetCx<'_>, r: Rreq, ttl: u8, from: NodeId) {
        let now = cx.ns();
        if r.origin == self.me || self.seen.contains_key(&(r.origin.0, r.id)) {
            return;
        }
        self.seen
            .insert((r.origin.0, r.id), now + self.path_discovery);
        let hops = r.hop_count.saturating_add(1);
        // Reverse route to the originator.
        let min_life = (2 * self.net_traversal)
            .saturating_sub(2 * u64::from(hops) * self.p.node_traversal_time.as_nanos());
        let existed = self.routes.contains_key(&r.origin.0);
        let rev = self.routes.entry(r.origin.0).or_insert(Route {
            next_hop: from,
            hops,
            seq: r.origin_seq,
            valid_seq: true,
            state: RouteState::Invalid,
            expires: 0,
            precursors: Vec::new(),
        });
        if existed && self.p.rreq_keeps_reverse_state {
            // ns-3's `RecvRequest`: the sender becomes the next hop in any
            // case, the number only grows, and the state stays as it was.
            if !rev.valid_seq || seq_newer(r.origin_seq, rev.seq) {
                rev.seq = r.origin_seq;
            }
            rev.valid_seq = true;
            rev.next_hop = from;
            rev.hops = hops;
        } else if !rev.valid_seq
            || seq_newer(r.origin_seq, rev.seq)
            || rev.state == RouteState::Invalid
            || (rev.seq == r.origin_seq && hops < rev.hops)
        {
            rev.seq = if rev.valid_seq && seq_newer(rev.seq, r.origin_seq) {
                rev.seq
            } else {
                r.origin_seq
            };
            rev.valid_seq = true;
            rev.next_hop = from;
            rev.hops = hops;
            rev.state = RouteState::Valid;
        }
        rev.expires = rev.expires.max(now + min_life);
        let rev_hops = rev.hops;
        let rev_expires = rev.expires;
        let rev_next = rev.next_hop;
        self.new_rreq_from_neighbor(cx, from, r.origin_seq, now);

        if r.dst == self.me {
            // §6.6.1: the destination answers.
            if r.dst_seq == self.seq.wrapping_add(1) {
                self.seq = self.seq.wrapping_add(1);
            }
            let rrep = Rrep {
                hop_count: 0,
                dst: self.me,
                dst_seq: self.seq,
                origin: r.origin,
                lifetime_ms: (self.my_route_timeout / 1_000_000) as u32,
                ack_required: false,
            };
            self.counters.rrep_generated += 1;
            let ttl = self.rrep_ttl(rev_hops);
            let pkt = self.control(cx, r.origin, ttl, AodvMsg::Rrep(rrep));
            self.send_control(cx, pkt, rev_next);
            return;
        }
        if self.p.drop_rreq_via_sender
            && self
                .routes
                .get(&r.dst.0)
                .is_some_and(|e| e.next_hop == from)
        {
            // ns-3: answering or forwarding would route back through the
            // sender, so the RREQ is dropped.
            return;
        }
        let fresh = self.valid_route(r.dst.0, now).and_then(|route| {
            (route.valid_seq && (r.unknown_seq || !seq_newer(r.dst_seq, route.seq)))
                .then(|| route.clone())
        });
        if let (Some(route), false) = (fresh, r.dest_only) {
            // §6.6.2: an intermediate node answers from its own route.
            self.add_precursor(r.dst.0, from);
            self.add_precursor(r.origin.0, route.next_hop);
            self.counters.rrep_generated += 1;
            let rrep = Rrep {
                hop_count: route.hops,
                dst: r.dst,
                dst_seq: route.seq,
                origin: r.origin,
                lifetime_ms: (route.expires.saturating_sub(now) / 1_000_000) as u32,
                // §6.7: the link toward a neighbouring destination may be
                // unidirectional; ns-3 asks for an acknowledgement then.
                ack_required: self.p.rrep_ack && route.hops == 1,
            };
            let ttl = self.rrep_ttl(rev_hops);
            let pkt = self.control(cx, r.origin, ttl, AodvMsg::Rrep(rrep));
            self.send_control(cx, pkt, rev_next);
            if r.gratuitous {
                // §6.6.3: tell the destination about the originator.
                let grat = Rrep {
                    hop_count: rev_hops,
                    dst: r.origin,
                    dst_seq: r.origin_seq,
                    origin: r.dst,
                    lifetime_ms: (rev_expires.saturating_sub(now) / 1_000_000) as u32,
                    ack_required: false,
                };
                let ttl = self.rrep_ttl(route.hops);
                let pkt = self.control(cx, r.dst, ttl, AodvMsg::Rrep(grat));
                self.send_control(cx, pkt, route.next_hop);
            }
            return;
        }
        if ttl > 1 {
            let known = self
                .routes
                .get(&r.dst.0)
                .filter(|e| e.valid_seq)
                .map(|e| e.seq);
            let dst_seq = match known {
                Some(s) if seq_newer(s, r.dst_seq) => s,
                _ => r.dst_seq,
            };
            let fwd = Rreq {
                hop_count: hops,
                dst_seq,
                ..r
            };
            let mut pkt = self.control(cx, BROADCAST, ttl - 1, AodvMsg::Rreq(fwd));
            pkt.src = r.origin;
            self.last_bcast = now;
            self.rreq_since_hello = Some(now);
            self.counters.rreq_forwarded += 1;
            let step = self
                .p
                .broadcast_jitter_step
                .map_or(0, SimDuration::as_nanos);
            cx.broadcast_jittered(pkt, self.p.broadcast_jitter.as_nanos(), step, &mut self.rng);
        }
    }

    /// What a new RREQ does to the entries of the neighbour `from` that
    /// sent it, under the ns-3 switches (`RecvRequest`): the neighbour
    /// table keeps it for ALLOWED_HELLO_LOSS × HELLO_INTERVAL, and its
    /// route becomes a valid one-hop entry without sequence number that
    /// lives `active_route_timeout` from now.
    fn new_rreq_from_neighbor(&mut self, cx: &NetCx<'_>, from: NodeId, origin_seq: u32, now: u64) {
        if self.p.rreq_refreshes_neighbors {
            let life = u64::from(self.p.allowed_hello_loss) * self.p.hello_interval.as_nanos();
            let e = self.neighbors.entry(from.0).or_insert(0);
            *e = (*e).max(now + life);
            self.learn_mac(cx, from.0);
        }
        if self.p.only_hello_revalidates_neighbors {
            let art = self.art;
            let e = self.routes.entry(from.0).or_insert(Route {
                next_hop: from,
                hops: 1,
                seq: origin_seq,
                valid_seq: false,
                state: RouteState::Valid,
                expires: 0,
                precursors: Vec::new(),
            });
            e.next_hop = from;
            e.hops = 1;
            e.seq = origin_seq;
            e.valid_seq = false;
            e.state = RouteState::Valid;
            e.expires = now + art;
        }
    }

    /// §6.7: process a route reply (and forward it toward its originator).
    pub(super) fn recv_rrep(&mut self, cx: &mut NetCx<'_>, r: Rrep, ttl: u8, from: NodeId) {
        let now = cx.ns();
        let hops = r.hop_count.saturating_add(1);
        let lifetime = u64::from(r.lifetime_ms) * 1_000_000;
        let fwd = self.routes.entry(r.dst.0).or_insert(Route {
            next_hop: from,
            hops,
            seq: r.dst_seq,
            valid_seq: false,
            state: RouteState::Invalid,
            expires: 0,
            precursors: Vec::new(),
        });
        let update = !fwd.valid_seq
            || seq_newer(r.dst_seq, fwd.seq)
            || (fwd.seq == r.dst_seq && (fwd.state == RouteState::Invalid || hops < fwd.hops));
        if update {
            fwd.next_hop = from;
            fwd.hops = hops;
            fwd.seq = r.dst_seq;
            fwd.valid_seq = true;
            fwd.state = RouteState::Valid;
            fwd.expires = now + lifetime;
        }
        if r.ack_required {
            self.counters.rrep_ack_sent += 1;
            let ack = self.control(cx, from, 1, AodvMsg::RrepAck);
            self.send_control(cx, ack, from);
        }
        if r.origin == self.me {
            if let Some(d) = self.discovery.remove(&r.dst.0) {
                cx.sched.cancel(d.timer);
            }
            self.flush(cx, r.dst.0);
            return;
        }
        let art = self.art;
        let rev = if self.p.rreq_keeps_reverse_state {
            // ns-3's `RecvReply`: any reverse route not being searched
            // carries the RREP, valid or not (`rreq_keeps_reverse_state`
            // leaves invalid ones invalid).
            self.valid_route(r.origin.0, now);
            let searching = self.discovery.contains_key(&r.origin.0);
            self.routes.get_mut(&r.origin.0).filter(|_| !searching)
        } else {
            self.valid_route(r.origin.0, now)
        };
        let Some(rev) = rev else {
            return;
        };
        rev.expires = rev.expires.max(now + art);
        let toward_origin = rev.next_hop;
        self.add_precursor(r.dst.0, toward_origin);
        self.add_precursor(r.origin.0, from);
        if ttl < 2 {
            self.counters.rrep_ttl_expired += 1;
            return;
        }
        let out = Rrep {
            hop_count: hops,
            ack_required: false,
            ..r
        };
        self.counters.rrep_forwarded += 1;
        let pkt = self.control(cx, r.origin, ttl - 1, AodvMsg::Rrep(out));
        self.send_control(cx, pkt, toward_origin);
    }

    /// IP TTL of an RREP leaving its replier `hops` hops from its
    /// originator (see `rrep_ttl_from_hops`).
    fn rrep_ttl(&self, hops: u8) -> u8 {
        if self.p.rrep_ttl_from_hops {
            hops.max(1)
        } else {
            self.p.net_diameter
        }
    }

    /// §6.11 (iii): a neighbour reports unreachable destinations.
    pub(super) fn recv_rerr(&mut self, cx: &mut NetCx<'_>, list: &[(NodeId, u32)], from: NodeId) {
        let now = cx.ns();
        self.counters.rerr_received += 1;
        let mut lost = Vec::new();
        let mut precursors = Vec::new();
        for &(dst, seq) in list {
            if let Some(r) = self.routes.get_mut(&dst.0) {
                if r.state == RouteState::Valid && r.next_hop == from {
                    r.state = RouteState::Invalid;
                    r.seq = seq;
                    r.valid_seq = true;
                    r.expires = now + self.delete_period;
                    if !r.precursors.is_empty() {
                        lost.push((dst, seq));
                        precursors.extend(r.precursors.iter().copied());
                    }
                }
            }
        }
        self.send_rerr(cx, lost, precursors);
    }

    /// Sends an RERR to the precursors (unicast if only one, §6.11).
    pub(super) fn send_rerr(
        &mut self,
        cx: &mut NetCx<'_>,
        lost: Vec<(NodeId, u32)>,
        mut precursors: Vec<NodeId>,
    ) {
        if lost.is_empty() {
            return;
        }
        precursors.sort_unstable();
        precursors.dedup();
        if precursors.len() == 1
            && self.p.control_needs_route
            && self.valid_route(precursors[0].0, cx.ns()).is_none()
        {
            // ns-3 unicasts a one-precursor RERR only over a valid route.
            return;
        }
        if !Self::rate_ok(&mut self.rerr_window, cx.ns(), self.p.rerr_rate_limit) {
            self.counters.rerr_suppressed += 1;
            return;
        }
        self.counters.rerr_sent += 1;
        let msg = AodvMsg::Rerr(lost.into());
        if precursors.len() == 1 {
            let to = precursors[0];
            let pkt = self.control(cx, to, 1, msg);
            cx.send(pkt, to);
        } else {
            self.broadcast(cx, 1, msg);
        }
    }
}
