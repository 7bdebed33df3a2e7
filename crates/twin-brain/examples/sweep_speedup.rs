//! Parameter-sweep speed-up over threads: 64 runs (coupling strength × noise,
//! 8 × 8) of Generic2dOscillator on TVB's 76-region connectome, each 200 ms
//! at dt 0.1 ms with a TemporalAverage monitor, run with 1 thread and with
//! every core. Best of `REPS` alternating repetitions, so a shared machine
//! inflates both sides alike; "cores busy" (CPU-s / wall-s of the best
//! repetition) shows how much of the machine the sweep actually got.
//!
//! A *control* follows: 64 jobs of pure arithmetic (one dependent chain of
//! floating-point operations, no memory traffic), ≈ 10 ms each, through the
//! same thread pool. The CPU time the same work costs with every thread busy
//! versus with one ("CPU ratio") is printed for both: if the control shows
//! the same extra cost as the sweep, it comes from the machine (host SMT
//! siblings, clock with more cores active), not from the sweep's memory use.
//!
//! ```text
//! cargo run --release -p twin-brain --example sweep_speedup [-- THREADS...]
//! ```

use std::{path::PathBuf, time::Instant};

use twin_brain::{
    sweep::{available_threads, parallel_map, run_sweep, Axis},
    Connectome, SimulationConfig,
};

const REPS: usize = 5;

/// User + system CPU time of this process \[s\] (Linux `/proc/self/stat`, 10 ms ticks).
fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime); after the `)` they are at index 11 and 12.
    let tick = |k: usize| f.get(k).and_then(|x| x.parse::<f64>().ok());
    tick(11)
        .zip(tick(12))
        .map_or(f64::NAN, |(u, s)| (u + s) / 100.0)
}

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/tvb-data");
    let conn = Connectome::from_zip(dir.join("connectivity_76.zip")).expect("connectome");
    let base: SimulationConfig = serde_json::from_str(
        r#"{"connectome": "connectivity_76.zip", "model": {"name": "Generic2dOscillator"},
            "dt": 0.1, "speed": 4.0, "duration_ms": 200.0, "integrator": "Heun",
            "noise": {"nsig": [1e-4], "seed": 1},
            "monitors": [{"kind": "TemporalAverage", "period": 1.0}]}"#,
    )
    .expect("config");
    let axes = [
        Axis::parse("coupling.a=0:0.035:8").expect("axis"),
        Axis::parse("noise.nsig=1e-6:1e-3:8").expect("axis"),
    ];
    let mut threads: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if threads.is_empty() {
        threads = vec![1, available_threads()];
    }
    let mut best = vec![f64::INFINITY; threads.len()];
    let mut cpu = vec![f64::INFINITY; threads.len()];
    // CPU-s / wall-s of the best repetition: how many cores the sweep got.
    let mut busy = vec![0.0; threads.len()];
    let mut reference = None;
    for _ in 0..REPS {
        for (k, &t) in threads.iter().enumerate() {
            let (t0, c0) = (Instant::now(), cpu_s());
            let r = run_sweep(&base, &axes, &conn, &dir, t);
            let (wall, used) = (t0.elapsed().as_secs_f64(), cpu_s() - c0);
            if wall < best[k] {
                best[k] = wall;
                busy[k] = used / wall;
            }
            cpu[k] = cpu[k].min(used);
            let summaries: Vec<_> = r.into_iter().map(|x| x.expect("run").monitors).collect();
            assert_eq!(summaries.len(), 64);
            // Same numbers whatever the thread count.
            match &reference {
                None => reference = Some(summaries),
                Some(r) => assert_eq!(r, &summaries, "results depend on the thread count"),
            }
        }
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "64 runs x 2000 steps, 76 regions; cores available: {}",
        available_threads()
    );
    for (k, &t) in threads.iter().enumerate() {
        println!(
            "threads {t:2}: best {:.3} s wall, {:.2} CPU-s (least), {:.2} cores busy \
             (CPU/wall of the best), {:.1} runs/s, speed-up {:.2}x",
            best[k],
            cpu[k],
            busy[k],
            64.0 / best[k],
            best[0] / best[k]
        );
    }
    // Control: the same pool on work with no memory traffic.
    let (cbest, ccpu) = control(&threads);
    for (k, &t) in threads.iter().enumerate() {
        println!(
            "control, threads {t:2}: best {:.3} s wall, {:.2} CPU-s (least), speed-up {:.2}x; \
             CPU ratio vs {} thread(s): sweep {:.2}, control {:.2}",
            cbest[k],
            ccpu[k],
            cbest[0] / cbest[k],
            threads[0],
            cpu[k] / cpu[0],
            ccpu[k] / ccpu[0]
        );
    }
    println!("load average: {}", load.trim());
}

/// 64 jobs of dependent floating-point arithmetic on `threads` threads, best
/// wall and least CPU of `REPS` alternating repetitions.
fn control(threads: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let job = |k: usize| {
        let mut x = std::hint::black_box(1.0 + k as f64 * 1e-9);
        for _ in 0..std::hint::black_box(2_500_000u32) {
            x = x * 1.000_000_1 + 1e-9;
        }
        x
    };
    let mut best = vec![f64::INFINITY; threads.len()];
    let mut cpu = vec![f64::INFINITY; threads.len()];
    for _ in 0..REPS {
        for (k, &t) in threads.iter().enumerate() {
            let (t0, c0) = (Instant::now(), cpu_s());
            let r = parallel_map(64, t, job);
            let (wall, used) = (t0.elapsed().as_secs_f64(), cpu_s() - c0);
            assert!(r.iter().all(|x| x.is_finite()));
            best[k] = best[k].min(wall);
            cpu[k] = cpu[k].min(used);
        }
    }
    (best, cpu)
}
