//! The federation status must keep up with the data: a display shows
//! members' samples next to the status's global time, so a status that
//! lags behind them by seconds reads as "data from the future" (issue 7:
//! brain samples at 5.9 s beside a federation time of 3.6 s).

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use twin_bus::{Reader, ReaderQos};
use twin_core::{SimDuration, SimTime};
use twin_federation::{proto::STATUS_TOPIC, *};

use crate::fixture::*;

/// Untimed: reads the producer's samples and the status as they arrive and
/// records the largest lead of a sample's stamp over the newest status
/// time it had seen, and how many statuses it saw.
struct Watcher {
    data: Option<TimedReader<Val>>,
    status: Option<Reader<FederationStatus>>,
    newest_status: Option<SimTime>,
    out: Arc<Mutex<(SimDuration, usize)>>,
}

impl Member for Watcher {
    fn init(&mut self, ctx: &mut Ctx) -> Result<(), MemberError> {
        self.data = Some(ctx.reader("twin/test/val", ReaderQos::default().reliable().keep_all())?);
        let p = ctx.participant();
        self.status = Some(p.reader(
            &p.topic::<FederationStatus>(STATUS_TOPIC)?,
            ReaderQos::default().reliable().keep_all(),
        )?);
        Ok(())
    }
    fn react(&mut self, ctx: &mut Ctx) -> Result<(), MemberError> {
        // Data first, then statuses: a status written before a sample is
        // counted, so the lead measured is never too large.
        let data = self.data.as_mut().unwrap().take(ctx);
        let mut out = self.out.lock().unwrap();
        for s in self.status.as_ref().unwrap().take_data() {
            out.1 += 1;
            if s.state == FedState::Running {
                self.newest_status = Some(s.time);
            }
        }
        if let Some(st) = self.newest_status {
            // (Unstamped samples: the producer's writer going away at the end.)
            for t in data.iter().filter_map(|s| s.info.sim_time) {
                out.0 = out.0.max(t.saturating_duration_since(st));
            }
        }
        Ok(())
    }
}

/// A member slower than its pacing keeps every controller poll busy
/// (there is always a report or a grant to handle); the status must still
/// go out every `status_every` of wall time.
fn lead_and_statuses(threaded: bool) -> (SimDuration, usize) {
    let out = Arc::new(Mutex::new((SimDuration::ZERO, 0)));
    let mut cfg = config(600);
    cfg.controller.status_every = Duration::from_millis(100);
    cfg.controller.record_grants = false;
    let members = vec![
        stepped(
            "slow",
            10,
            Producer {
                w: None,
                n: 0,
                busy: Duration::from_millis(20),
            },
            threaded,
        ),
        MemberSpec {
            name: "watcher".into(),
            mode: TimeMode::Untimed,
            member: Box::new(Watcher {
                data: None,
                status: None,
                newest_status: None,
                out: Arc::clone(&out),
            }),
            threaded,
        },
    ];
    let mut fed = Federation::new(twin_bus::Bus::in_memory(), cfg, members).unwrap();
    let s = fed.run(&mut |_| {}).unwrap();
    assert!(s.failures.is_empty(), "{:?}", s.failures);
    assert_eq!(s.steps[0].1, 60);
    let r = *out.lock().unwrap();
    r
}

#[test]
fn status_keeps_up_with_the_data_when_members_are_slower_than_real_time() {
    for threaded in [false, true] {
        let (lead, statuses) = lead_and_statuses(threaded);
        // 60 steps of ≥ 20 ms: ≥ 1.2 s of wall time, a status every 100 ms.
        // Each status period holds at most 5 steps (50 ms of sim time) plus
        // the step in flight; the old cadence (every 64th busy poll) let the
        // status fall 30 steps behind.
        assert!(statuses >= 8, "threaded {threaded}: {statuses} statuses");
        assert!(
            lead <= ms(150),
            "threaded {threaded}: data led the status by {lead:?}"
        );
    }
}
