//! DDS benchmarks of the Twin bus, to compare with Cyclone's `ddsperf` in the
//! same network namespace (see BENCHMARKS.md for the commands).
//!
//!   dds_perf ping SIZE N     round trips with a `pong` process: median, p99 [µs]
//!   dds_perf pong            echoes `ping`'s samples
//!   dds_perf pub SIZE N      N reliable keep-all samples as fast as possible
//!   dds_perf sub N           receives them: rate [samples/s], lost, out of order
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use twin_bus::{Bus, DdsConfig, ReaderQos, TopicType, WriterQos};

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Blob {
    seq: u64,
    data: Vec<u8>,
}

impl TopicType for Blob {
    const TYPE_NAME: &'static str = "bench::Blob";
    type Key = ();
    fn key(&self) {}
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, d: u64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let bus = Bus::dds(DdsConfig::from_env().expect("TWIN_DDS_* settings")).expect("DDS");
    let p = bus.participant(&args[0]);
    let q = WriterQos::default().reliable_blocking(Duration::from_secs(10));
    let rq = ReaderQos::default().reliable();
    match args[0].as_str() {
        "ping" | "pong" => {
            let (out, inp) = if args[0] == "ping" {
                ("bench/ping", "bench/pong")
            } else {
                ("bench/pong", "bench/ping")
            };
            let w = p
                .writer(&p.topic::<Blob>(out).unwrap(), q.keep_last(16))
                .unwrap();
            let r = p
                .reader(&p.topic::<Blob>(inp).unwrap(), rq.keep_last(16))
                .unwrap();
            while w.status().matched_current == 0 || r.status().matched_current == 0 {
                std::thread::sleep(Duration::from_millis(10));
            }
            if args[0] == "pong" {
                loop {
                    match r.take_timeout(Duration::from_secs(10)) {
                        Ok(v) => v
                            .into_iter()
                            .filter_map(|s| s.value)
                            .for_each(|b| w.write(b).unwrap()),
                        Err(_) => return,
                    }
                }
            }
            let (size, n) = (arg(1, 64) as usize, arg(2, 10_000));
            let warm = n / 10;
            let mut rtt = Vec::with_capacity(n as usize);
            for i in 0..n + warm {
                let t = Instant::now();
                w.write(Blob {
                    seq: i,
                    data: vec![0; size.saturating_sub(12)],
                })
                .unwrap();
                loop {
                    let got = r
                        .take_timeout(Duration::from_secs(5))
                        .expect("pong answers");
                    if got
                        .iter()
                        .any(|s| s.value.as_ref().is_some_and(|b| b.seq == i))
                    {
                        break;
                    }
                }
                if i >= warm {
                    rtt.push(t.elapsed().as_nanos() as f64 / 1e3);
                }
            }
            rtt.sort_by(f64::total_cmp);
            let pct = |q: f64| rtt[((rtt.len() as f64 - 1.0) * q) as usize];
            println!(
                "ping size {size} B: {} round trips, median {:.1} us, p99 {:.1} us",
                rtt.len(),
                pct(0.5),
                pct(0.99)
            );
        }
        "pub" => {
            let (size, n) = (arg(1, 64) as usize, arg(2, 1_000_000));
            let w = p
                .writer(&p.topic::<Blob>("bench/tp").unwrap(), q.keep_all())
                .unwrap();
            while w.status().matched_current == 0 {
                std::thread::sleep(Duration::from_millis(10));
            }
            let data = vec![0u8; size.saturating_sub(12)];
            for seq in 0..n {
                w.write(Blob {
                    seq,
                    data: data.clone(),
                })
                .unwrap();
            }
            std::thread::sleep(Duration::from_secs(3));
        }
        "sub" => {
            let n = arg(1, 1_000_000);
            let r = p
                .reader(&p.topic::<Blob>("bench/tp").unwrap(), rq.keep_all())
                .unwrap();
            let (mut next, mut bad, mut start) = (0u64, 0u64, None);
            let mut buf = Vec::new();
            while next < n {
                buf.clear();
                if r.take_into(&mut buf, 4096) == 0
                    && r.take_timeout(Duration::from_secs(10))
                        .map(|v| buf.extend(v))
                        .is_err()
                {
                    break;
                }
                start.get_or_insert_with(Instant::now);
                for s in &buf {
                    if s.value.as_ref().map(|b| b.seq) != Some(next) {
                        bad += 1;
                    }
                    next += 1;
                }
            }
            let secs = start.map_or(0.0, |s| s.elapsed().as_secs_f64());
            println!(
                "sub: {next} of {n} samples in {secs:.2} s = {:.0} samples/s, {bad} out of order",
                next as f64 / secs
            );
        }
        m => eprintln!("unknown mode {m}"),
    }
}
