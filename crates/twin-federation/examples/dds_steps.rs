//! Federation time steps per second across processes on the DDS bus: the
//! controller in this process, N time-stepped members (no work of their own)
//! each in its own process, Δt = 1 ms. Run inside a private network
//! namespace (`scripts/netns-run`); see BENCHMARKS.md.
//!
//!   dds_steps N ROUNDS [thread] [data] [local]   controller + N member processes
//!                                        (`local`: m0 in the controller's process); prints steps/s
//!   dds_steps member NAME [thread] [data] one member (started by the controller)
//!
//! Members step on the DDS delivery thread (`MemberDriver::step_on_receive`,
//! the default of `twin member`) unless `thread` is given (then they step on
//! their own thread, woken by a wait set). With `data`, each member also
//! writes one sample per step on a shared reliable topic and reads the
//! others' (so grants carry watermarks and members wait for the data);
//! its writer keeps all samples, so these members step on their own thread
//! (a keep-all write may block; see `MemberDriver::step_on_receive`);
//! `datalast` uses a reliable keep-last(64) writer instead, which cannot
//! block, and members step on receive.
//!
//! Steps/s counts grant rounds from the first round after every member was
//! granted to the end, so process start-up and discovery are excluded.
use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};
use twin_bus::{Bus, DdsConfig, ReaderQos, TopicType, WriterQos};
use twin_core::{Epoch, SimDuration, SimTime};
use twin_federation::*;

struct Nop;
impl Member for Nop {
    fn init(&mut self, _: &mut Ctx) -> Result<(), MemberError> {
        Ok(())
    }
    fn advance(&mut self, _: &mut Ctx, _: SimTime) -> Result<Next, MemberError> {
        Ok(Next::Default)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Val {
    n: u64,
}
impl TopicType for Val {
    const TYPE_NAME: &'static str = "bench::federation::Val";
    type Key = ();
    fn key(&self) {}
}

/// Writes its step count each step and takes what the others wrote.
#[derive(Default)]
struct Data {
    /// Reliable keep-last(64) instead of keep-all (`datalast`).
    last: bool,
    n: u64,
    got: u64,
    w: Option<TimedWriter<Val>>,
    r: Option<TimedReader<Val>>,
}
impl Member for Data {
    fn init(&mut self, ctx: &mut Ctx) -> Result<(), MemberError> {
        let topic = "bench/steps/data";
        let qos = WriterQos::default().reliable();
        let qos = if self.last {
            qos.keep_last(64)
        } else {
            qos.keep_all()
        };
        self.w = Some(ctx.writer(topic, qos)?);
        self.r = Some(ctx.reader(topic, ReaderQos::default().reliable().keep_all())?);
        Ok(())
    }
    fn advance(&mut self, ctx: &mut Ctx, _: SimTime) -> Result<Next, MemberError> {
        if let Some(r) = &mut self.r {
            self.got += r.take(ctx).len() as u64;
        }
        self.n += 1;
        if let Some(w) = &self.w {
            w.write(ctx, Val { n: self.n })?;
        }
        Ok(Next::Default)
    }
}

const DT: SimDuration = SimDuration::from_millis(1);

fn config(rounds: u64) -> FederationConfig {
    FederationConfig {
        controller: ControllerConfig {
            name: "dds-steps".into(),
            end: SimTime::ZERO + DT * rounds,
            pacing: 0.0,
            expected: vec![],
            on_member_lost: LostPolicy::Drop,
            start_frozen: false,
            status_every: Duration::from_secs(3600),
            record_grants: false,
        },
        epoch: Epoch::UNIX,
        seed: 0,
        stall_warning: Duration::from_secs(3600),
        progress_every: Duration::from_millis(1),
        liveliness_lease: Duration::from_secs(30),
    }
}

fn bus() -> Bus {
    Bus::dds(DdsConfig::from_env().expect("TWIN_DDS_* settings")).expect("DDS bus")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("member") {
        let name = &args[1];
        let bus = bus();
        let c = config(0);
        let mut d = MemberDriver::new(
            bus.participant(name),
            TimeMode::Stepped { dt: DT },
            if args.iter().any(|a| a == "data" || a == "datalast") {
                Box::new(Data {
                    last: args.iter().any(|a| a == "datalast"),
                    ..Data::default()
                })
            } else {
                Box::new(Nop)
            },
            c.epoch,
            c.seed,
            c.liveliness_lease,
        )
        .expect("member");
        d.step_on_receive(!args.iter().any(|a| a == "thread"));
        d.run_blocking().expect("member run");
        return;
    }
    let n: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(4);
    let rounds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let mode = if args.iter().skip(2).any(|a| a == "thread") {
        "thread"
    } else {
        "receive"
    };
    let data = if args.iter().skip(2).any(|a| a == "datalast") {
        "datalast"
    } else if args.iter().skip(2).any(|a| a == "data") {
        "data"
    } else {
        "nodata"
    };
    let names: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
    // `local`: member m0 runs in the controller's process (polled by the
    // runtime's loop), the others in their own processes.
    let local = args.iter().skip(2).any(|a| a.starts_with("local"));
    let local_thread = args.iter().skip(2).any(|a| a == "localthread");
    let (here, there) = names.split_at(usize::from(local));
    let specs = here
        .iter()
        .map(|name| MemberSpec {
            name: name.clone(),
            mode: TimeMode::Stepped { dt: DT },
            member: if data != "nodata" {
                Box::new(Data {
                    last: data == "datalast",
                    ..Data::default()
                }) as Box<dyn Member>
            } else {
                Box::new(Nop)
            },
            threaded: local_thread,
        })
        .collect();
    let mut fed = Federation::with_remote(bus(), config(rounds), specs, there.to_vec()).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut kids: Vec<_> = there
        .iter()
        .map(|m| {
            Command::new(&exe)
                .args(["member", m, mode, data])
                .stdin(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut first: Option<(Instant, u64)> = None;
    let s = fed
        .run(&mut |e| {
            if let RunEvent::Progress { rounds, .. } = e {
                if rounds >= 2 && first.is_none() {
                    first = Some((Instant::now(), rounds));
                }
            }
        })
        .unwrap();
    let end = Instant::now();
    for k in &mut kids {
        let _ = k.wait();
    }
    let (t0, r0) = first.expect("progress was reported");
    let steps = s.rounds - r0;
    let secs = (end - t0).as_secs_f64();
    println!(
        "dds_steps: {n} members, {} in processes of their own (stepping on {mode}, {data}), {steps} grant rounds in {secs:.3} s = {:.0} steps/s \
         (whole run {:.3} s incl. start-up)",
        there.len(),
        steps as f64 / secs,
        s.wall.as_secs_f64()
    );
}
