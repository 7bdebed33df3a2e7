//! Federation time steps per second: N time-stepped members (trivial step
//! work) driven by the controller over the in-memory bus, inline (one loop)
//! and threaded (one thread per member). One element = one grant round in
//! which every member advances by Δt and reports back.

#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use twin_bus::Bus;
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

fn run(members: usize, steps: u64, threaded: bool) -> Duration {
    let dt = SimDuration::from_millis(1);
    let cfg = FederationConfig {
        controller: ControllerConfig {
            name: "bench".into(),
            end: SimTime::ZERO + dt * steps,
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
        progress_every: Duration::from_secs(3600),
        liveliness_lease: Duration::from_secs(3600),
    };
    let specs = (0..members)
        .map(|i| MemberSpec {
            name: format!("m{i}"),
            mode: TimeMode::Stepped { dt },
            member: Box::new(Nop),
            threaded,
        })
        .collect();
    let mut fed = Federation::new(Bus::in_memory(), cfg, specs).unwrap();
    let start = Instant::now();
    let s = fed.run(&mut |_| {}).unwrap();
    let took = start.elapsed();
    assert_eq!(s.rounds, steps);
    took
}

fn steps(c: &mut Criterion) {
    let mut g = c.benchmark_group("federation_steps");
    g.throughput(Throughput::Elements(1));
    for n in [2usize, 4, 8] {
        g.bench_function(BenchmarkId::new("inline_members", n), |b| {
            b.iter_custom(|iters| run(n, iters.max(1), false))
        });
    }
    g.sample_size(10);
    for n in [2usize, 4, 8] {
        g.bench_function(BenchmarkId::new("threaded_members", n), |b| {
            b.iter_custom(|iters| run(n, iters.max(1), true))
        });
    }
    g.finish();
}

criterion_group!(benches, steps);
criterion_main!(benches);
