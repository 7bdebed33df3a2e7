//! Runs the hold model for a fixed number of events and prints events/s.
//!
//! ```text
//! cargo run --release -p twin-des --example hold -- [PENDING] [EVENTS] [QUEUE] [FANOUT]
//!   PENDING  events kept pending (default 1000)
//!   EVENTS   events to execute (default 20000000)
//!   QUEUE    binary | quaternary | fifo_binary | fifo_quaternary | all (default all)
//!   FANOUT   zero-delay secondaries per primary event (default 0)
//! ```
//!
//! Timing covers the whole run after a warm-up of 4 x PENDING events and is
//! reported both as wall-clock and as thread CPU time (Linux `schedstat`,
//! scheduler-tick resolution of a few ms, so run at least ~10^7 events; the
//! CPU figure is the one to compare on a shared machine).

use std::{process::ExitCode, time::Instant};

use twin_des::{hold::Hold, BinaryHeapQueue, FifoFront, QuaternaryHeap, Queue};

/// CPU time of this thread [s], from `/proc/thread-self/schedstat`.
fn thread_cpu_secs() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 * 1e-9)
}

fn run<Q: Queue>(name: &str, pending: usize, events: u64, fanout: u32) {
    let mut hold = Hold::<Q>::with_fanout(pending, 100.0, fanout, 1);
    hold.run(4 * pending as u64);
    let cpu0 = thread_cpu_secs();
    let start = Instant::now();
    let checksum = hold.run(events);
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu0.zip(thread_cpu_secs()).map(|(a, b)| b - a);
    let rate = |secs: f64| events as f64 / secs / 1e6;
    let cpu_text = cpu.map_or("cpu n/a".to_owned(), |c| {
        format!("cpu={c:.3}s {:.2} M events/cpu-s", rate(c))
    });
    println!(
        "{name:<16} pending={pending:<8} fanout={fanout} events={events} \
         wall={wall:.3}s {:.2} M events/s  {cpu_text}  (checksum {checksum:016x})",
        rate(wall)
    );
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, default: u64| -> Option<u64> {
        args.get(i)
            .map_or(Some(default), |s| s.replace('_', "").parse().ok())
    };
    let (Some(pending), Some(events), Some(fanout)) =
        (num(0, 1_000), num(1, 20_000_000), num(3, 0))
    else {
        eprintln!("usage: hold [PENDING] [EVENTS] [QUEUE] [FANOUT]  (numbers are integers)");
        return ExitCode::from(2);
    };
    let (pending, fanout) = (pending as usize, fanout as u32);
    let queue = args.get(2).map_or("all", String::as_str);
    let all = queue == "all";
    let mut matched = false;
    if all || queue == "binary" {
        run::<BinaryHeapQueue>("binary", pending, events, fanout);
        matched = true;
    }
    if all || queue == "quaternary" {
        run::<QuaternaryHeap>("quaternary", pending, events, fanout);
        matched = true;
    }
    if all || queue == "fifo_binary" {
        run::<FifoFront<BinaryHeapQueue>>("fifo_binary", pending, events, fanout);
        matched = true;
    }
    if all || queue == "fifo_quaternary" {
        run::<FifoFront<QuaternaryHeap>>("fifo_quaternary", pending, events, fanout);
        matched = true;
    }
    if !matched {
        eprintln!("unknown queue `{queue}`: binary, quaternary, fifo_binary, fifo_quaternary, all");
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}
