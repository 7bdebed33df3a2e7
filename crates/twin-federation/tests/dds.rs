//! Time management over the DDS bus: the controller answering reports on
//! Cyclone's delivery path, members stepping on their own threads or on
//! arrival of their grants (`MemberDriver::step_on_receive`). Every member
//! must see the same grants and the same data at the same times as on the
//! in-memory bus. Runs only inside a private network namespace
//! (`scripts/netns-run`, which sets `TWIN_NETNS=1`).
#![cfg(feature = "dds")]

use std::{sync::Arc, time::Duration};

use twin_bus::{Bus, WriterQos};
use twin_core::{SimDuration, SimTime};
use twin_federation::*;

mod support;
use support::*;

const TOPIC: &str = "twin/test/val";

fn ms(n: u64) -> SimDuration {
    SimDuration::from_millis(n)
}

/// Publishes its step number at every step (dt 10 ms).
struct Source {
    n: u64,
    w: Option<TimedWriter<Val>>,
    log: Log,
}

impl Member for Source {
    fn init(&mut self, ctx: &mut Ctx) -> Result<(), MemberError> {
        self.w = Some(ctx.writer(TOPIC, WriterQos::default().reliable().keep_all())?);
        Ok(())
    }
    fn advance(&mut self, ctx: &mut Ctx, t: SimTime) -> Result<Next, MemberError> {
        self.n += 1;
        if let Some(w) = &self.w {
            w.write(ctx, Val { n: self.n })?;
        }
        self.log.lock().unwrap().push((t, vec![self.n]));
        Ok(Next::Default)
    }
}

fn config() -> FederationConfig {
    federation(
        "dds-time",
        SimTime::ZERO + ms(400),
        Duration::from_secs(3),
        Duration::from_secs(5),
    )
}

/// Runs the federation (controller here, each member on its own thread)
/// and returns each member's log: grant times and the values seen.
fn run(bus: Bus, on_receive: bool) -> Vec<(String, Entries)> {
    let cfg = config();
    let specs: Vec<(&str, TimeMode, bool)> = vec![
        ("source", TimeMode::Stepped { dt: ms(10) }, false),
        ("sink", TimeMode::Stepped { dt: ms(25) }, false),
        ("event", TimeMode::Event { lookahead: ms(0) }, true),
    ];
    let names = specs.iter().map(|s| s.0.to_string()).collect();
    let mut fed = Federation::controller_only(bus.clone(), cfg.clone(), names).unwrap();
    let mut threads = Vec::new();
    let mut logs = Vec::new();
    for (name, mode, event) in specs {
        let log: Log = Arc::default();
        logs.push((name.to_string(), Arc::clone(&log)));
        let member: Box<dyn Member> = if name == "source" {
            Box::new(Source { n: 0, w: None, log })
        } else {
            Box::new(Sink::new(TOPIC, log, event))
        };
        let mut d = MemberDriver::new(
            bus.participant(name),
            mode,
            member,
            cfg.epoch,
            cfg.seed,
            cfg.liveliness_lease,
        )
        .unwrap();
        d.step_on_receive(on_receive);
        threads.push(std::thread::spawn(move || d.run_blocking()));
    }
    let s = fed
        .run(&mut |e| {
            if let RunEvent::Stall(r) = e {
                panic!(
                    "stalled ({} member mode): {r}",
                    if on_receive { "receive" } else { "thread" }
                );
            }
        })
        .unwrap();
    assert_eq!(s.state, FedState::Ended);
    for t in threads {
        t.join().unwrap().unwrap();
    }
    logs.into_iter()
        .map(|(n, l)| (n, l.lock().unwrap().clone()))
        .collect()
}

#[test]
fn dds_runs_grant_and_show_data_exactly_as_in_memory_in_both_member_modes() {
    let Some(thread_bus) = dds(40) else { return };
    let reference = run(Bus::in_memory(), false);
    // The reference itself: every 10 ms for the source, every 25 ms for the
    // stepped sink, which sees exactly the source's samples stamped before
    // its grant (the source publishes n at n·10 ms, its n-th grant).
    let sink = &reference[1].1;
    assert_eq!(sink.len(), 16, "{sink:?}");
    let mut seen = 0;
    for (t, vals) in sink {
        let visible = (t.as_nanos() - 1) / 10_000_000;
        let want: Vec<u64> = (seen + 1..=visible).collect();
        assert_eq!(vals, &want, "sink at {t}");
        seen = visible;
    }
    assert!(reference[2].1.len() > 10, "{:?}", reference[2].1);
    let on_thread = run(thread_bus, false);
    assert_eq!(on_thread, reference, "DDS, members on their threads");
    let Some(recv_bus) = dds(41) else { return };
    let on_receive = run(recv_bus, true);
    assert_eq!(on_receive, reference, "DDS, members stepping on receive");
}
