//! Memory of a long BOLD run: 10 minutes of simulated time at dt 0.1 ms
//! (6 million steps) of Generic2dOscillator on TVB's 76-region connectome, with
//! a Bold monitor (TVB defaults: period 2 s, 20 s kernel) and a 1 ms
//! TemporalAverage, both written incrementally to `.npy` files. Prints the
//! resident set size every simulated minute and the peak at the end; the issue's
//! bound is 200 MB.
//!
//! ```text
//! cargo run --release -p twin-brain --example bold_memory [-- MINUTES]
//! ```

use std::{path::PathBuf, time::Instant};

use twin_brain::{
    models::Generic2dOscillator,
    monitors::{Bold, TemporalAverage},
    output::OutputWriter,
    Connectome, Coupling, InitialConditions, SimulatorBuilder,
};

/// `VmRSS` and `VmHWM` of this process \[MB\] from `/proc/self/status`.
fn rss_mb() -> (f64, f64) {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |k: &str| {
        s.lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn main() {
    let minutes: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/tvb-data");
    let conn = Connectome::from_zip(dir.join("connectivity_76.zip")).expect("connectome");
    let mut sim = SimulatorBuilder::new(conn, Box::new(Generic2dOscillator::default()))
        .coupling(Coupling::linear(0.0154))
        .speed(4.0)
        .dt(0.1)
        .initial(InitialConditions::Random { seed: 42 })
        .monitor(Bold::new(2000.0))
        .monitor(TemporalAverage::new(1.0))
        .build()
        .expect("simulator");
    let out_dir = std::env::temp_dir().join(format!("twin-bold-memory-{}", std::process::id()));
    let mut out = OutputWriter::create(&out_dir, &sim, false, serde_json::json!({})).expect("out");
    let (rss0, _) = rss_mb();
    println!("after set-up: RSS {rss0:.1} MB");
    let steps_per_minute = 600_000;
    let t0 = Instant::now();
    let mut samples = [0u64; 2];
    for m in 1..=minutes {
        sim.run(steps_per_minute, &mut |k, s| {
            samples[k] += 1;
            out.write(k, &s).expect("write");
        });
        let (rss, _) = rss_mb();
        println!(
            "{m:2} min simulated: RSS {rss:.1} MB, {} BOLD / {} TAVG samples, {:.1} s wall",
            samples[0],
            samples[1],
            t0.elapsed().as_secs_f64()
        );
    }
    out.finish().expect("finish");
    let (_, peak) = rss_mb();
    println!(
        "peak RSS {peak:.1} MB for {minutes} simulated minutes ({} steps); output in {}",
        minutes * steps_per_minute,
        out_dir.display()
    );
    let _ = std::fs::remove_dir_all(&out_dir);
}
