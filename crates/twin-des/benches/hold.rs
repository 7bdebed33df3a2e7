//! Hold-model benchmark of the event kernel (ns-3 `utils/bench-scheduler`
//! style): `P` events pending, each executed event schedules one new event
//! after an Exp(mean 100 ns) delay rounded up to whole nanoseconds.
//!
//! Groups:
//! * `hold/<queue>/<P>`: P = 1,000, 10,000, 100,000 for each queue.
//! * `fanout8/<queue>/1000`: every primary event also schedules 8 zero-delay
//!   events, to measure the same-time FIFO fast path.
//!
//! Time is criterion's wall-clock time; the ns-3 reference numbers were
//! process CPU time, so compare on a quiet machine (or use
//! `examples/hold.rs`, which prints both). Throughput is in events per
//! second. Short run:
//! `cargo bench -p twin-des --bench hold -- --warm-up-time 1 --measurement-time 3`

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use twin_des::{hold::Hold, BinaryHeapQueue, FifoFront, QuaternaryHeap, Queue};

/// Events executed per timed iteration.
const BATCH: u64 = 20_000;
const MEAN_NS: f64 = 100.0;

fn bench_queue<Q: Queue>(c: &mut Criterion, group: &str, name: &str, sizes: &[usize], fanout: u32) {
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(BATCH));
    for &p in sizes {
        let mut hold = Hold::<Q>::with_fanout(p, MEAN_NS, fanout, 1);
        // Reach the steady-state distribution of pending times first.
        hold.run(4 * p as u64);
        g.bench_function(BenchmarkId::new(name, p), |b| {
            b.iter(|| std::hint::black_box(hold.run(BATCH)))
        });
    }
    g.finish();
}

fn hold(c: &mut Criterion) {
    let sizes = [1_000, 10_000, 100_000];
    bench_queue::<BinaryHeapQueue>(c, "hold", "binary", &sizes, 0);
    bench_queue::<QuaternaryHeap>(c, "hold", "quaternary", &sizes, 0);
    bench_queue::<FifoFront<QuaternaryHeap>>(c, "hold", "fifo_quaternary", &sizes, 0);
}

fn fanout(c: &mut Criterion) {
    let sizes = [1_000];
    bench_queue::<BinaryHeapQueue>(c, "fanout8", "binary", &sizes, 8);
    bench_queue::<QuaternaryHeap>(c, "fanout8", "quaternary", &sizes, 8);
    bench_queue::<FifoFront<QuaternaryHeap>>(c, "fanout8", "fifo_quaternary", &sizes, 8);
}

criterion_group!(benches, hold, fanout);
criterion_main!(benches);
