use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use twin_bus::Bus;
use twin_core::SimTime;
use twin_federation::*;
use twin_testkit::with_timeout;

use crate::fixture::*;

/// A member that crashes (its participant stops, no goodbye) is detected
/// through liveliness; with the drop policy the others run to the end.
#[test]
fn dead_member_is_detected_and_dropped() {
    with_timeout("member death", Duration::from_secs(30), || {
        let mut cfg = config(400);
        cfg.controller.pacing = 2.0; // 200 ms of wall time, > one lease
        let crash = Steps(|ctx: &mut Ctx, t: SimTime| {
            if t == at(40) {
                ctx.participant().kill();
            }
            Next::Default
        });
        let members = vec![
            stepped("doomed", 10, crash, true),
            stepped("survivor", 10, Steps(|_: &mut Ctx, _| Next::Default), false),
        ];
        let mut fed = Federation::new(Bus::in_memory(), cfg, members).unwrap();
        let s = fed.run(&mut |_| {}).unwrap();
        assert_eq!(s.state, FedState::Ended);
        assert_eq!(s.time, at(400));
        assert_eq!(s.steps[1], ("survivor".into(), 40));
        assert!(
            s.failures.iter().any(|(m, _)| m == "doomed"),
            "{:?}",
            s.failures
        );
        let st = fed.controller().member_statuses();
        assert_eq!(
            st.iter().find(|m| m.name == "doomed").unwrap().phase,
            "lost"
        );
    });
}

#[test]
fn dead_member_freezes_under_the_freeze_policy() {
    with_timeout("freeze policy", Duration::from_secs(30), || {
        let mut cfg = config(400);
        cfg.controller.on_member_lost = LostPolicy::Freeze;
        let bus = Bus::in_memory();
        let cmd = CommandSender::new(&bus, "operator").unwrap();
        let crash = Steps(|ctx: &mut Ctx, t: SimTime| {
            if t == at(40) {
                ctx.participant().kill();
            }
            Next::Default
        });
        let members = vec![
            stepped("doomed", 10, crash, true),
            stepped("other", 10, Steps(|_: &mut Ctx, _| Next::Default), false),
        ];
        let mut fed = Federation::new(bus, cfg, members).unwrap();
        let saw_frozen = Arc::new(AtomicBool::new(false));
        let s = fed
            .run(&mut |e| {
                if let RunEvent::Progress {
                    state: FedState::Frozen,
                    time,
                    ..
                } = e
                {
                    // Held at the survivors' time: the lost member no longer counts.
                    assert_eq!(time, at(40));
                    if !saw_frozen.swap(true, Ordering::SeqCst) {
                        cmd.send(Command::End).unwrap();
                    }
                }
            })
            .unwrap();
        assert!(saw_frozen.load(Ordering::SeqCst), "never froze");
        assert_eq!(s.time, at(40));
    });
}

#[test]
fn stall_diagnosis_names_the_member_holding_the_grant() {
    with_timeout("stall", Duration::from_secs(30), || {
        let mut cfg = config(50);
        cfg.stall_warning = Duration::from_millis(100);
        let slow = Steps(|_: &mut Ctx, t: SimTime| {
            if t == at(20) {
                std::thread::sleep(Duration::from_millis(400));
            }
            Next::Default
        });
        let members = vec![
            stepped("sleepy", 10, slow, true),
            stepped("quick", 10, Steps(|_: &mut Ctx, _| Next::Default), false),
        ];
        let mut fed = Federation::new(Bus::in_memory(), cfg, members).unwrap();
        let report: Arc<Mutex<Option<String>>> = Arc::default();
        let r2 = Arc::clone(&report);
        fed.run(&mut |e| {
            if let RunEvent::Stall(s) = e {
                assert_eq!(s.blocking.len(), 1);
                assert_eq!(s.blocking[0].name, "sleepy");
                assert_eq!(s.blocking[0].requested, Some(at(20)));
                *r2.lock().unwrap() = Some(s.to_string());
            }
        })
        .unwrap();
        let text = report.lock().unwrap().clone().expect("no stall reported");
        assert!(text.contains("* sleepy"), "{text}");
    });
}

#[test]
fn member_joins_and_leaves_while_running() {
    with_timeout("dynamic join", Duration::from_secs(30), || {
        let mut cfg = config(300);
        cfg.controller.pacing = 1.0;
        let bus = Bus::in_memory();
        let members = vec![stepped(
            "base",
            10,
            Steps(|_: &mut Ctx, _| Next::Default),
            false,
        )];
        let mut fed = Federation::new(bus.clone(), cfg.clone(), members).unwrap();
        let grants: Arc<Mutex<Vec<SimTime>>> = Arc::default();
        let g2 = Arc::clone(&grants);
        let late = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            let m = Steps(move |ctx: &mut Ctx, t: SimTime| {
                g2.lock().unwrap().push(t);
                if t >= at(200) {
                    ctx.leave();
                }
                Next::Default
            });
            let d = MemberDriver::new(
                bus.participant("late"),
                TimeMode::Stepped { dt: ms(10) },
                Box::new(m),
                cfg.epoch,
                0,
                cfg.liveliness_lease,
            )
            .unwrap();
            d.run_blocking().unwrap()
        });
        let s = fed.run(&mut |_| {}).unwrap();
        let n = late.join().unwrap();
        let g = grants.lock().unwrap().clone();
        assert!(g[0] > at(50), "joined late, first grant {}", g[0]);
        assert_eq!(*g.last().unwrap(), at(200));
        assert_eq!(n as usize, g.len());
        assert!(g.windows(2).all(|w| w[1] == w[0] + ms(10)));
        assert_eq!(s.time, at(300));
        let st = fed.controller().member_statuses();
        assert_eq!(st.iter().find(|m| m.name == "late").unwrap().phase, "left");
    });
}
