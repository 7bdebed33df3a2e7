use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use twin_bus::{Bus, ReaderQos};
use twin_core::SimTime;
use twin_federation::*;
use twin_testkit::with_timeout;

use crate::fixture::*;

/// Each member checks, at every grant, that the other has completed its
/// previous step: a grant never runs ahead of a member still working.
#[test]
fn grant_never_advances_past_an_uncompleted_member() {
    with_timeout("grant ordering", Duration::from_secs(30), || {
        let done: Arc<[AtomicU64; 2]> = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
        let mk = |me: usize, sleep: Duration| {
            let done = Arc::clone(&done);
            Steps(move |_: &mut Ctx, t: SimTime| {
                let other = done[1 - me].load(Ordering::SeqCst);
                assert!(
                    other + ms(1).as_nanos() >= t.as_nanos(),
                    "granted {t} while the other member has completed only {other} ns"
                );
                std::thread::sleep(sleep);
                done[me].store(t.as_nanos(), Ordering::SeqCst);
                Next::Default
            })
        };
        let members = vec![
            stepped("slow", 1, mk(0, Duration::from_micros(300)), true),
            stepped("fast", 1, mk(1, Duration::ZERO), false),
        ];
        let mut fed = Federation::new(Bus::in_memory(), config(100), members).unwrap();
        let s = fed.run(&mut |_| {}).unwrap();
        assert!(s.failures.is_empty(), "{:?}", s.failures);
        assert_eq!(s.steps, vec![("slow".into(), 100), ("fast".into(), 100)]);
        assert_eq!(s.time, at(100));
    });
}

#[test]
fn members_with_different_dt_see_a_consistent_global_time() {
    let members = (1..=3u64)
        .map(|k| {
            stepped(
                &format!("dt{k}"),
                k,
                Steps(|_: &mut Ctx, _| Next::Default),
                false,
            )
        })
        .collect();
    let mut fed = Federation::new(Bus::in_memory(), config(60), members).unwrap();
    let s = fed.run(&mut |_| {}).unwrap();
    let log = fed.controller().grant_log().to_vec();
    for k in 1..=3u64 {
        let got: Vec<SimTime> = log
            .iter()
            .filter(|g| g.member == format!("dt{k}"))
            .map(|g| g.time)
            .collect();
        let want: Vec<SimTime> = (1..=60 / k).map(|i| at(i * k)).collect();
        assert_eq!(got, want, "grants of dt{k}");
    }
    // Every member due at time t is granted t in the same round, and rounds
    // advance time monotonically.
    let mut by_time: BTreeMap<SimTime, Vec<u64>> = BTreeMap::new();
    for g in &log {
        by_time.entry(g.time).or_default().push(g.round);
    }
    let mut last_round = 0;
    for (t, rounds) in by_time {
        assert!(
            rounds.iter().all(|&r| r == rounds[0]),
            "time {t} granted over rounds {rounds:?}"
        );
        assert!(rounds[0] > last_round, "time went backwards at {t}");
        last_round = rounds[0];
    }
    assert_eq!(s.rounds, 60);
}

#[test]
fn event_member_requests_are_honoured() {
    let seen: Arc<Mutex<Vec<SimTime>>> = Arc::default();
    let seen2 = Arc::clone(&seen);
    let plan = [at(37), at(91)];
    let event = Steps(move |_: &mut Ctx, t: SimTime| {
        let mut s = seen2.lock().unwrap();
        s.push(t);
        match plan.get(s.len() - 1) {
            Some(&next) => Next::At(next),
            None => Next::Idle,
        }
    });
    let members = vec![
        MemberSpec {
            name: "ev".into(),
            mode: TimeMode::Event { lookahead: ms(0) },
            member: Box::new(event),
            threaded: false,
        },
        stepped("clock", 10, Steps(|_: &mut Ctx, _| Next::Default), false),
    ];
    let mut fed = Federation::new(Bus::in_memory(), config(200), members).unwrap();
    let s = fed.run(&mut |_| {}).unwrap();
    assert_eq!(*seen.lock().unwrap(), vec![at(0), at(37), at(91)]);
    assert_eq!(s.steps[1], ("clock".into(), 20));
    // The event member was never granted past the stepped one's progress.
    let log = fed.controller().grant_log().to_vec();
    for g in log.iter().filter(|g| g.member == "ev") {
        let clock_done = log
            .iter()
            .filter(|c| c.member == "clock" && c.round < g.round)
            .map(|c| c.time)
            .max();
        assert!(clock_done.unwrap_or(SimTime::ZERO) + ms(10) >= g.time);
    }
}

#[test]
fn event_member_is_woken_by_timed_data() {
    let log: Log = Arc::default();
    let members = vec![
        MemberSpec {
            name: "rec".into(),
            mode: TimeMode::Event { lookahead: ms(0) },
            member: Box::new(Recorder {
                r: None,
                log: Arc::clone(&log),
            }),
            threaded: false,
        },
        stepped(
            "prod",
            25,
            Producer {
                w: None,
                n: 0,
                busy: Duration::ZERO,
            },
            false,
        ),
    ];
    let mut fed = Federation::new(Bus::in_memory(), config(100), members).unwrap();
    fed.run(&mut |_| {}).unwrap();
    let log = log.lock().unwrap().clone();
    // Data stamped t is delivered at t + 1 ns, one sample per wake.
    assert_eq!(
        log[..3],
        [
            "0.025000001 s <- prod 1 @0.025000000 s".to_string(),
            "0.050000001 s <- prod 2 @0.050000000 s".to_string(),
            "0.075000001 s <- prod 3 @0.075000000 s".to_string(),
        ]
    );
}

/// Two threaded producers with jittery step times and a recorder: the
/// recorded stream is identical across runs.
#[test]
fn same_scenario_twice_gives_identical_recorded_output() {
    let run = || {
        let log: Log = Arc::default();
        let members = vec![
            stepped(
                "a",
                2,
                Producer {
                    w: None,
                    n: 0,
                    busy: Duration::from_micros(50),
                },
                true,
            ),
            stepped(
                "b",
                3,
                Producer {
                    w: None,
                    n: 100,
                    busy: Duration::from_micros(10),
                },
                true,
            ),
            stepped(
                "rec",
                1,
                Recorder {
                    r: None,
                    log: Arc::clone(&log),
                },
                true,
            ),
        ];
        let mut fed = Federation::new(Bus::in_memory(), config(60), members).unwrap();
        let s = fed.run(&mut |_| {}).unwrap();
        assert!(s.failures.is_empty());
        let v = log.lock().unwrap().clone();
        v
    };
    let first = with_timeout("run 1", Duration::from_secs(30), run);
    let second = with_timeout("run 2", Duration::from_secs(30), run);
    assert_eq!(first.len(), 30 + 20);
    assert_eq!(first, second);
}

#[test]
fn freeze_holds_time_exactly_and_resume_continues() {
    with_timeout("freeze", Duration::from_secs(30), || {
        let bus = Bus::in_memory();
        let cmd = CommandSender::new(&bus, "operator").unwrap();
        let cmd2 = cmd.clone();
        let steps = Arc::new(AtomicU64::new(0));
        let st = Arc::clone(&steps);
        let member = Steps(move |_: &mut Ctx, t: SimTime| {
            st.fetch_add(1, Ordering::SeqCst);
            if t == at(50) {
                cmd2.send(Command::Freeze).unwrap();
            }
            Next::Default
        });
        let mut fed = Federation::new(
            bus.clone(),
            config(100),
            vec![stepped("m", 1, member, false)],
        )
        .unwrap();
        let watcher = {
            let steps = Arc::clone(&steps);
            let p = bus.participant("watcher");
            std::thread::spawn(move || {
                let t = p.topic::<FederationStatus>(proto::STATUS_TOPIC).unwrap();
                let r = p
                    .reader(&t, ReaderQos::default().transient_local().keep_last(1))
                    .unwrap();
                let frozen_at = loop {
                    let s = r.take_timeout(Duration::from_secs(10)).unwrap();
                    let s = s.last().unwrap().value.clone().unwrap();
                    if s.state == FedState::Frozen {
                        break s.time;
                    }
                };
                let n = steps.load(Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(100));
                assert_eq!(steps.load(Ordering::SeqCst), n, "a step ran while frozen");
                let latest = r.take().pop().map(|s| s.value.unwrap());
                if let Some(l) = latest {
                    assert_eq!((l.state, l.time), (FedState::Frozen, frozen_at));
                }
                cmd.send(Command::Resume).unwrap();
                frozen_at
            })
        };
        let s = fed.run(&mut |_| {}).unwrap();
        let frozen_at = watcher.join().unwrap();
        assert_eq!(frozen_at, at(50));
        assert_eq!(s.time, at(100));
        assert_eq!(
            steps.load(Ordering::SeqCst),
            100,
            "no step lost or repeated"
        );
    });
}

#[test]
fn pacing_follows_the_wall_clock() {
    let mut cfg = config(200);
    cfg.controller.pacing = 1.0;
    let members = vec![stepped(
        "m",
        20,
        Steps(|_: &mut Ctx, _| Next::Default),
        false,
    )];
    let mut fed = Federation::new(Bus::in_memory(), cfg, members).unwrap();
    let s = fed.run(&mut |_| {}).unwrap();
    assert!(
        s.wall >= Duration::from_millis(180),
        "ran too fast: {:?}",
        s.wall
    );
    assert_eq!(s.time, at(200));
}
