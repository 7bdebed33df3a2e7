//! In-memory bus throughput: 64-byte keyed samples, reliable keep-all,
//! one writer to 1 and to 8 readers; single-threaded (write a batch, then
//! each reader takes it) and with the reader on a second thread.

#![allow(missing_docs)]

use std::{
    hint::black_box,
    thread,
    time::{Duration, Instant},
};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde::{Deserialize, Serialize};
use twin_bus::{Bus, ReaderQos, TopicType, WriterQos};

/// 64 bytes: key, sequence and 48 bytes of payload.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct S64 {
    id: u32,
    pad: u32,
    seq: u64,
    payload: [u64; 6],
}

impl TopicType for S64 {
    const TYPE_NAME: &'static str = "bench::S64";
    type Key = u32;
    fn key(&self) -> u32 {
        self.id
    }
}

const BATCH: u64 = 256;

fn reader_qos() -> ReaderQos {
    ReaderQos::default().reliable().keep_all()
}

fn writer_qos() -> WriterQos {
    WriterQos::default()
        .reliable_blocking(Duration::from_secs(10))
        .keep_all()
}

fn one_thread(c: &mut Criterion) {
    let mut g = c.benchmark_group("memory_keyed_reliable_64b");
    g.throughput(Throughput::Elements(BATCH));
    for readers in [1usize, 8] {
        g.bench_function(BenchmarkId::new("1_writer_to", readers), |b| {
            let bus = Bus::in_memory();
            let p = bus.participant("bench");
            let t = p.topic::<S64>("twin/bench/s64").unwrap();
            let rs: Vec<_> = (0..readers)
                .map(|_| p.reader(&t, reader_qos()).unwrap())
                .collect();
            let w = p.writer(&t, writer_qos()).unwrap();
            let mut buf = Vec::with_capacity(BATCH as usize);
            let mut seq = 0u64;
            b.iter(|| {
                for _ in 0..BATCH {
                    seq += 1;
                    let s = S64 {
                        id: (seq % 16) as u32,
                        pad: 0,
                        seq,
                        payload: [seq; 6],
                    };
                    w.write(s).unwrap();
                }
                for r in &rs {
                    buf.clear();
                    black_box(r.take_into(&mut buf, usize::MAX));
                }
            });
        });
    }
    g.finish();
}

fn two_threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("memory_keyed_reliable_64b_threaded");
    g.throughput(Throughput::Elements(1));
    g.bench_function("1_writer_to_1_reader_thread", |b| {
        b.iter_custom(|iters| {
            let bus = Bus::in_memory();
            let p = bus.participant("bench");
            let t = p.topic::<S64>("twin/bench/s64t").unwrap();
            let r = p.reader(&t, reader_qos()).unwrap();
            let w = p.writer(&t, writer_qos()).unwrap();
            let start = Instant::now();
            let consumer = thread::spawn(move || {
                let mut got = 0u64;
                let mut buf = Vec::with_capacity(4096);
                while got < iters {
                    buf.clear();
                    if r.take_into(&mut buf, 4096) == 0 {
                        let _ = r
                            .take_timeout(Duration::from_millis(1))
                            .map(|v| buf.extend(v));
                    }
                    got += buf.iter().filter(|s| s.value.is_some()).count() as u64;
                }
            });
            for seq in 0..iters {
                let s = S64 {
                    id: (seq % 16) as u32,
                    pad: 0,
                    seq,
                    payload: [seq; 6],
                };
                w.write(s).unwrap();
            }
            consumer.join().unwrap();
            start.elapsed()
        });
    });
    g.finish();
}

criterion_group!(benches, one_thread, two_threads);
criterion_main!(benches);
