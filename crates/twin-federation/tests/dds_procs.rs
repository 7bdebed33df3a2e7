//! Regression tests of the federation over DDS across processes: a
//! member stepping on Cyclone's receive thread must never block it (its
//! acknowledgements arrive on that thread), and the discovery barrier must
//! not let time start before a reader has discovered every writer that
//! members announced. The test re-runs this binary as the member process
//! (`TWIN_DDS_CHILD`). Runs only inside a private network namespace
//! (`scripts/netns-run`, which sets `TWIN_NETNS=1`).
#![cfg(feature = "dds")]

use std::{
    process::{Child, Command, Stdio},
    sync::Arc,
    time::Duration,
};

use serde::{Deserialize, Serialize};
use twin_bus::{Bytes, ReaderQos, TopicType, WriterQos};
use twin_core::{SimDuration, SimTime};
use twin_federation::*;

#[allow(dead_code)] // the shared members and values are not used here
mod support;
use support::{dds, federation};

/// Per grant: its time and the sample numbers seen.
type Log = Arc<std::sync::Mutex<Vec<(SimTime, Vec<u64>)>>>;

const TOPIC: &str = "twin/test/blob";
const DT: SimDuration = SimDuration::from_millis(10);
const STEPS: u64 = 30;
/// Samples per step and their size: together far above Cyclone's initial
/// high-water mark of unacknowledged data (30 kB), so that every step's
/// second write waits for acknowledgements of the first.
const PER_STEP: u64 = 4;
const BLOB: usize = 16_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Blob {
    n: u64,
    data: Bytes,
}

impl TopicType for Blob {
    const TYPE_NAME: &'static str = "test::federation::Blob";
    type Key = ();
    fn key(&self) {}
}

/// Writes `PER_STEP` large samples per step on a reliable keep-all writer.
#[derive(Default)]
struct Big {
    n: u64,
    w: Option<TimedWriter<Blob>>,
}

impl Member for Big {
    fn init(&mut self, ctx: &mut Ctx) -> Result<(), MemberError> {
        self.w = Some(ctx.writer(TOPIC, WriterQos::default().reliable().keep_all())?);
        Ok(())
    }
    fn advance(&mut self, ctx: &mut Ctx, _: SimTime) -> Result<Next, MemberError> {
        for _ in 0..PER_STEP {
            self.n += 1;
            let data = Bytes(vec![(self.n % 251) as u8; BLOB]);
            if let Some(w) = &self.w {
                w.write(ctx, Blob { n: self.n, data })?;
            }
        }
        Ok(Next::Default)
    }
}

/// Records the sample numbers it sees at each grant (and checks payloads).
struct BlobSink {
    r: Option<TimedReader<Blob>>,
    log: Log,
}

impl Member for BlobSink {
    fn init(&mut self, ctx: &mut Ctx) -> Result<(), MemberError> {
        let q = ReaderQos::default().reliable().keep_all();
        self.r = Some(ctx.reader(TOPIC, q)?);
        Ok(())
    }
    fn advance(&mut self, ctx: &mut Ctx, t: SimTime) -> Result<Next, MemberError> {
        let mut seen = Vec::new();
        for s in self.r.as_mut().map(|r| r.take(ctx)).unwrap_or_default() {
            let Some(b) = s.value else { continue };
            assert!(b.data.len() == BLOB && b.data.iter().all(|&x| x == (b.n % 251) as u8));
            seen.push(b.n);
        }
        self.log.lock().unwrap().push((t, seen));
        Ok(Next::Default)
    }
}

fn config() -> FederationConfig {
    federation(
        "dds-procs",
        SimTime::ZERO + DT * STEPS,
        Duration::from_secs(30),
        Duration::from_secs(10),
    )
}

fn child(test: &str, role: &str, domain: u32) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads", "1"])
        .env("TWIN_DDS_CHILD", role)
        .env("TWIN_DDS_TEST_DOMAIN", domain.to_string())
        .stdin(Stdio::null())
        .spawn()
        .unwrap()
}

/// The member process: `Big`, stepping on receive as `twin member` does.
fn big_member() {
    let domain = std::env::var("TWIN_DDS_TEST_DOMAIN")
        .unwrap()
        .parse()
        .unwrap();
    let bus = dds(domain).expect("the parent runs in a network namespace");
    let cfg = config();
    let mut d = MemberDriver::new(
        bus.participant("big"),
        TimeMode::Stepped { dt: DT },
        Box::<Big>::default(),
        cfg.epoch,
        cfg.seed,
        cfg.liveliness_lease,
    )
    .unwrap();
    d.step_on_receive(true);
    let steps = d.run_blocking().expect("the member runs to the end");
    assert_eq!(steps, STEPS);
}

/// Bug of run 7 (fixed in e2ccec8): a member stepping on Cyclone's receive
/// thread wrote on a reliable keep-all writer there; once unacknowledged
/// data passed the high-water mark the write waited for acknowledgements
/// that only the blocked thread could process, until `max_blocking_time`
/// (the write failed, the member ended). Such a member must step on its
/// own thread, and every sample must arrive.
#[test]
fn a_member_stepping_on_receive_with_a_keep_all_writer_never_blocks_the_receive_thread() {
    let name =
        "a_member_stepping_on_receive_with_a_keep_all_writer_never_blocks_the_receive_thread";
    if std::env::var("TWIN_DDS_CHILD").as_deref() == Ok("big") {
        return big_member();
    }
    let Some(bus) = dds(43) else { return };
    let log: Log = Arc::default();
    let specs = vec![MemberSpec {
        name: "sink".into(),
        mode: TimeMode::Stepped { dt: DT },
        member: Box::new(BlobSink {
            r: None,
            log: Arc::clone(&log),
        }),
        threaded: true,
    }];
    let mut fed = Federation::with_remote(bus, config(), specs, vec!["big".into()]).unwrap();
    let mut kid = child(name, "big", 43);
    let s = fed
        .run(&mut |e| {
            if let RunEvent::Stall(r) = e {
                panic!("stalled: {r}");
            }
        })
        .unwrap();
    let status = kid.wait().unwrap();
    assert!(status.success(), "member process: {status}");
    assert_eq!(s.state, FedState::Ended);
    assert!(s.failures.is_empty(), "{:?}", s.failures);
    assert_eq!(s.steps, vec![("sink".to_owned(), STEPS)]);
    // Every sample, in order; a step's samples are visible at the next grant.
    let log = log.lock().unwrap().clone();
    let all: Vec<u64> = log.iter().flat_map(|(_, v)| v.iter().copied()).collect();
    assert_eq!(
        all,
        (1..=PER_STEP * (STEPS - 1)).collect::<Vec<_>>(),
        "{log:?}"
    );
    for (k, (t, seen)) in log.iter().enumerate() {
        assert_eq!(*t, SimTime::ZERO + DT * (k as u64 + 1));
        let want: Vec<u64> = if k == 0 {
            vec![]
        } else {
            ((k as u64 - 1) * PER_STEP + 1..=k as u64 * PER_STEP).collect()
        };
        assert_eq!(seen, &want, "grant {k}");
    }
}
