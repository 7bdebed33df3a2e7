//! What the DDS time-management tests share: a counter type, a sink
//! member that logs what it sees at each grant, and the DDS bus (only
//! inside a private network namespace).

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use serde::{Deserialize, Serialize};
use twin_bus::{Bus, DdsConfig, ReaderQos, TopicType};
use twin_core::{Epoch, SimDuration, SimTime};
use twin_federation::*;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Val {
    pub(crate) n: u64,
}

impl TopicType for Val {
    const TYPE_NAME: &'static str = "test::federation::Val";
    type Key = ();
    fn key(&self) {}
}

/// Per grant: its time and the values seen (or published).
pub(crate) type Entries = Vec<(SimTime, Vec<u64>)>;
pub(crate) type Log = Arc<Mutex<Entries>>;

/// Reads what is visible on `topic` at each grant: stepped or, as an
/// event member (`event`), at irregular times of its own.
pub(crate) struct Sink {
    pub(crate) topic: &'static str,
    pub(crate) r: Option<TimedReader<Val>>,
    pub(crate) log: Log,
    pub(crate) event: bool,
}

impl Sink {
    pub(crate) fn new(topic: &'static str, log: Log, event: bool) -> Sink {
        Sink {
            topic,
            r: None,
            log,
            event,
        }
    }
}

impl Member for Sink {
    fn init(&mut self, ctx: &mut Ctx) -> Result<(), MemberError> {
        let q = ReaderQos::default().reliable().keep_all();
        self.r = Some(ctx.reader(self.topic, q)?);
        Ok(())
    }
    fn advance(&mut self, ctx: &mut Ctx, t: SimTime) -> Result<Next, MemberError> {
        let seen = match &mut self.r {
            Some(r) => r
                .take(ctx)
                .into_iter()
                .filter_map(|s| s.value.map(|v| v.n))
                .collect(),
            None => vec![],
        };
        self.log.lock().unwrap().push((t, seen));
        Ok(if self.event {
            let ms = 7 + t.as_nanos() / 1_000_000 % 23;
            Next::At(t + SimDuration::from_millis(ms))
        } else {
            Next::Default
        })
    }
}

/// The DDS bus on `domain`, or `None` (with a note) outside a private
/// network namespace (`scripts/netns-run` sets `TWIN_NETNS=1`).
pub(crate) fn dds(domain: u32) -> Option<Bus> {
    if std::env::var_os("TWIN_NETNS").is_none() {
        eprintln!("not in a private network namespace: run through scripts/netns-run");
        return None;
    }
    Some(
        Bus::dds(DdsConfig {
            domain,
            ..DdsConfig::default()
        })
        .unwrap(),
    )
}

/// A federation of `name` ending at `end`, free-running (no pacing), that
/// drops lost members, with the given stall warning and liveliness lease.
#[allow(dead_code)] // dds_order plays the controller by hand
pub(crate) fn federation(
    name: &str,
    end: SimTime,
    stall_warning: Duration,
    liveliness_lease: Duration,
) -> FederationConfig {
    FederationConfig {
        controller: ControllerConfig {
            name: name.into(),
            end,
            pacing: 0.0,
            expected: vec![],
            on_member_lost: LostPolicy::Drop,
            start_frozen: false,
            status_every: Duration::from_millis(50),
            record_grants: false,
        },
        epoch: Epoch::UNIX,
        seed: 1,
        stall_warning,
        progress_every: Duration::from_millis(50),
        liveliness_lease,
    }
}
