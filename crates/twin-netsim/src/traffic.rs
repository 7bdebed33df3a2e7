//! Traffic sources: constant-bit-rate and Poisson UDP flows.
//!
//! A flow sends `size`-byte UDP payloads from `src` to `dst` between its
//! start (drawn uniformly from `[start, start + start_jitter)`) and `stop`.
//! CBR spaces packets exactly `1 / rate` apart (ns-3 `OnOffApplication`
//! always on); Poisson draws exponential gaps of mean `1 / rate`. Each flow
//! has its own random stream, so flows do not perturb each other.

use twin_core::{NodeId, SimTime};
use twin_des::Rng;

use crate::{
    packet::{Body, Packet, IP_UDP_HEADER},
    scenario::TrafficKind,
};

/// Default IP TTL of data packets.
pub(crate) const DATA_TTL: u8 = 64;

/// One traffic flow's generator.
#[derive(Debug, Clone)]
pub(crate) struct Flow {
    pub(crate) id: u32,
    pub(crate) src: NodeId,
    pub(crate) dst: NodeId,
    kind: TrafficKind,
    /// Mean gap \[ns\].
    gap: f64,
    pub(crate) size: u32,
    pub(crate) start: u64,
    pub(crate) stop: u64,
    seq: u32,
    rng: Rng,
}

impl Flow {
    /// A flow; `start_jitter` is drawn from the flow's stream at once.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        id: u32,
        src: NodeId,
        dst: NodeId,
        kind: TrafficKind,
        rate: f64,
        size: u32,
        start: u64,
        start_jitter: u64,
        stop: u64,
        mut rng: Rng,
    ) -> Flow {
        let start = start + (rng.uniform_f64() * start_jitter as f64) as u64;
        Flow {
            id,
            src,
            dst,
            kind,
            gap: 1e9 / rate,
            size,
            start,
            stop,
            seq: 0,
            rng,
        }
    }

    /// Offered packets over the flow's active period (nominal).
    pub(crate) fn offered(&self) -> f64 {
        self.stop.saturating_sub(self.start) as f64 / self.gap
    }

    /// The gap to the next packet \[ns\].
    pub(crate) fn next_gap(&mut self) -> u64 {
        match self.kind {
            TrafficKind::Cbr => self.gap.round() as u64,
            TrafficKind::Poisson => self.rng.exponential(self.gap).round().max(1.0) as u64,
        }
    }

    /// The next packet of the flow.
    pub(crate) fn packet(&mut self, now: SimTime, uid: u64) -> Packet {
        let seq = self.seq;
        self.seq += 1;
        Packet {
            uid,
            src: self.src,
            dst: self.dst,
            ttl: DATA_TTL,
            hops: 0,
            bytes: self.size + IP_UDP_HEADER,
            created: now,
            body: Body::Data { flow: self.id, seq },
        }
    }
}
