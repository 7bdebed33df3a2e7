//! DDS benchmarks of the Twin bus, to compare with Cyclone's `ddsperf` in the
//! same network namespace (see BENCHMARKS.md for the commands).
//!
//!   dds_perf ping SIZE N [take]  round trips with a `pong` process: median, p99 [µs]
//!   dds_perf pong [take]         echoes `ping`'s samples
//!   dds_perf pub SIZE N [batch]  N reliable keep-all samples as fast as possible
//!   dds_perf sub N [take]        receives them: rate [samples/s], lost, out of order
//!   dds_perf codec DOUBLES N     CDR encode + decode of `DOUBLES` f64 as `Vec<f64>`
//!                                and as [`twin_bus::F64s`] (no bus): µs per sample each way
//!
//! By default the receiving side works in a reader listener, on the DDS
//! delivery thread, as `ddsperf` does (its default "listener" mode); `take`
//! instead blocks an application thread in `Reader::take_timeout`, which
//! costs a thread wake-up per sample. `batch` turns on writer batching, as
//! `ddsperf`'s data writer has it. `vec` carries the payload as a plain
//! `Vec<u8>` (serde encodes it byte by byte) instead of [`twin_bus::Bytes`]
//! (one copy); the wire format is the same.
use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc, Arc, Mutex,
    },
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};
use twin_bus::{
    Bus, Bytes, DdsConfig, Participant, ReaderQos, Sample, TopicType, Writer, WriterQos,
};

/// The payload, as `twin_bus::Bytes`.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Blob {
    seq: u64,
    data: Bytes,
}

impl TopicType for Blob {
    const TYPE_NAME: &'static str = "bench::Blob";
    type Key = ();
    fn key(&self) {}
}

/// The same on the wire, as a plain `Vec<u8>`.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct VecBlob {
    seq: u64,
    data: Vec<u8>,
}

impl TopicType for VecBlob {
    const TYPE_NAME: &'static str = "bench::Blob";
    type Key = ();
    fn key(&self) {}
}

trait Payload: TopicType + std::fmt::Debug {
    fn make(seq: u64, size: usize) -> Self;
    fn seq(&self) -> u64;
}

impl Payload for Blob {
    fn make(seq: u64, size: usize) -> Self {
        Blob {
            seq,
            data: Bytes(vec![0; size.saturating_sub(12)]),
        }
    }
    fn seq(&self) -> u64 {
        self.seq
    }
}

impl Payload for VecBlob {
    fn make(seq: u64, size: usize) -> Self {
        VecBlob {
            seq,
            data: vec![0; size.saturating_sub(12)],
        }
    }
    fn seq(&self) -> u64 {
        self.seq
    }
}

fn wq() -> WriterQos {
    WriterQos::default().reliable_blocking(Duration::from_secs(10))
}

fn rq() -> ReaderQos {
    ReaderQos::default().reliable()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, d: u64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let flag = |f: &str| args.iter().any(|a| a == f);
    if args.first().map(String::as_str) == Some("codec") {
        return codec(arg(1, 4096) as usize, arg(2, 20_000));
    }
    let bus = Bus::dds(DdsConfig::from_env().expect("TWIN_DDS_* settings")).expect("DDS");
    let p = bus.participant(&args[0]);
    let (size, n) = (arg(1, 64) as usize, arg(2, 10_000));
    match (args[0].as_str(), flag("vec")) {
        ("pong", false) => pong::<Blob>(&p, flag("take")),
        ("pong", true) => pong::<VecBlob>(&p, flag("take")),
        ("ping", false) => ping::<Blob>(&p, size, n, flag("take")),
        ("ping", true) => ping::<VecBlob>(&p, size, n, flag("take")),
        ("pub", false) => publish::<Blob>(&p, size, n, flag("batch")),
        ("pub", true) => publish::<VecBlob>(&p, size, n, flag("batch")),
        ("sub", false) => subscribe::<Blob>(&p, arg(1, 1_000_000), flag("take")),
        ("sub", true) => subscribe::<VecBlob>(&p, arg(1, 1_000_000), flag("take")),
        (m, _) => eprintln!("unknown mode {m}"),
    }
}

fn pong<B: Payload + Clone>(p: &Participant, take: bool) {
    let w = Arc::new(
        p.writer(&p.topic::<B>("bench/pong").unwrap(), wq().keep_last(16))
            .unwrap(),
    );
    let t = p.topic::<B>("bench/ping").unwrap();
    if take {
        let r = p.reader(&t, rq().keep_last(16)).unwrap();
        while let Ok(v) = r.take_timeout(Duration::from_secs(10)) {
            v.into_iter()
                .filter_map(|s| s.value)
                .for_each(|b| w.write(b).unwrap());
        }
        return;
    }
    let last = Arc::new(AtomicU64::new(0));
    let (l, w2) = (Arc::clone(&last), Arc::clone(&w));
    let _r = p
        .reader_with_listener(&t, rq().keep_last(16), move |s: Sample<B>| {
            if let Some(b) = s.value {
                l.fetch_add(1, Ordering::Relaxed);
                let _ = w2.write(b);
            }
        })
        .unwrap();
    // Ends after 10 s without a ping.
    let mut seen = 0;
    loop {
        std::thread::sleep(Duration::from_secs(10));
        let now = last.load(Ordering::Relaxed);
        if now == seen {
            return;
        }
        seen = now;
    }
}

struct PingState {
    next: u64,
    sent: Instant,
    rtt: Vec<f64>,
}

fn ping<B: Payload>(p: &Participant, size: usize, n: u64, take: bool) {
    let w = Arc::new(
        p.writer(&p.topic::<B>("bench/ping").unwrap(), wq().keep_last(16))
            .unwrap(),
    );
    let t = p.topic::<B>("bench/pong").unwrap();
    let warm = n / 10;
    let total = n + warm;
    let blob = move |seq| B::make(seq, size);
    let mut rtt = Vec::with_capacity(n as usize);
    if take {
        let r = p.reader(&t, rq().keep_last(16)).unwrap();
        while w.status().matched_current == 0 || r.status().matched_current == 0 {
            std::thread::sleep(Duration::from_millis(10));
        }
        for i in 0..total {
            let t0 = Instant::now();
            w.write(blob(i)).unwrap();
            'wait: loop {
                let got = r
                    .take_timeout(Duration::from_secs(5))
                    .expect("pong answers");
                for s in got {
                    if s.value.is_some_and(|b| b.seq() == i) {
                        break 'wait;
                    }
                }
            }
            if i >= warm {
                rtt.push(t0.elapsed().as_nanos() as f64 / 1e3);
            }
        }
    } else {
        // The reply's listener sends the next ping, so the whole exchange
        // runs on DDS delivery threads, like ddsperf's ping/pong.
        let st = Arc::new(Mutex::new(PingState {
            next: 0,
            sent: Instant::now(),
            rtt: Vec::with_capacity(n as usize),
        }));
        let (done_tx, done_rx) = mpsc::channel();
        let (st2, w2) = (Arc::clone(&st), Arc::clone(&w));
        let r = p
            .reader_with_listener(&t, rq().keep_last(16), move |s: Sample<B>| {
                let mut g = st2.lock().unwrap();
                if s.value.is_none_or(|b| b.seq() != g.next) {
                    return;
                }
                let dt = g.sent.elapsed().as_nanos() as f64 / 1e3;
                if g.next >= warm {
                    g.rtt.push(dt);
                }
                g.next += 1;
                if g.next == total {
                    let _ = done_tx.send(());
                    return;
                }
                g.sent = Instant::now();
                let next = g.next;
                drop(g);
                w2.write(blob(next)).unwrap();
            })
            .unwrap();
        while w.status().matched_current == 0 || r.status().matched_current == 0 {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(200));
        st.lock().unwrap().sent = Instant::now();
        w.write(blob(0)).unwrap();
        done_rx
            .recv_timeout(Duration::from_secs(120))
            .expect("pong answers");
        rtt = std::mem::take(&mut st.lock().unwrap().rtt);
    }
    rtt.sort_by(f64::total_cmp);
    let pct = |q: f64| rtt[((rtt.len() as f64 - 1.0) * q) as usize];
    println!(
        "ping size {size} B ({}): {} round trips, median {:.1} us, p99 {:.1} us",
        if take { "take" } else { "listener" },
        rtt.len(),
        pct(0.5),
        pct(0.99)
    );
}

fn publish<B: Payload>(p: &Participant, size: usize, n: u64, batch: bool) {
    let w: Writer<B> = p
        .writer(
            &p.topic::<B>("bench/tp").unwrap(),
            wq().keep_all().batching(batch),
        )
        .unwrap();
    while w.status().matched_current == 0 {
        std::thread::sleep(Duration::from_millis(10));
    }
    for seq in 0..n {
        w.write(B::make(seq, size)).unwrap();
    }
    w.flush();
    std::thread::sleep(Duration::from_secs(3));
}

struct SubState {
    next: u64,
    bad: u64,
    start: Option<Instant>,
    end: Option<Instant>,
}

fn subscribe<B: Payload>(p: &Participant, n: u64, take: bool) {
    let t = p.topic::<B>("bench/tp").unwrap();
    let st = Arc::new(Mutex::new(SubState {
        next: 0,
        bad: 0,
        start: None,
        end: None,
    }));
    let count = {
        let st = Arc::clone(&st);
        move |s: &Sample<B>| {
            let mut g = st.lock().unwrap();
            g.start.get_or_insert_with(Instant::now);
            if s.value.as_ref().map(|b| b.seq()) != Some(g.next) {
                g.bad += 1;
            }
            g.next += 1;
            if g.next == n {
                g.end = Some(Instant::now());
            }
        }
    };
    let progress = || st.lock().unwrap().next;
    if take {
        let r = p.reader(&t, rq().keep_all()).unwrap();
        let mut buf = Vec::new();
        while progress() < n {
            buf.clear();
            if r.take_into(&mut buf, 4096) == 0
                && r.take_timeout(Duration::from_secs(10))
                    .map(|v| buf.extend(v))
                    .is_err()
            {
                break;
            }
            buf.iter().for_each(&count);
        }
    } else {
        let _r = p
            .reader_with_listener(&t, rq().keep_all(), move |s: Sample<B>| count(&s))
            .unwrap();
        // Ends when all arrived, or after 2 s without progress (30 s
        // before the first sample).
        let (mut seen, mut idle) = (0, 0);
        loop {
            std::thread::sleep(Duration::from_millis(100));
            let now = progress();
            idle = if now == seen { idle + 1 } else { 0 };
            if now >= n || (idle >= 20 && now > 0) || idle >= 300 {
                break;
            }
            seen = now;
        }
    }
    let g = st.lock().unwrap();
    let secs = match (g.start, g.end) {
        (Some(s), Some(e)) => (e - s).as_secs_f64(),
        (Some(s), None) => s.elapsed().as_secs_f64(),
        _ => 0.0,
    };
    println!(
        "sub ({}): {} of {n} samples in {secs:.2} s = {:.0} samples/s, {} out of order",
        if take { "take" } else { "listener" },
        g.next,
        g.next as f64 / secs,
        g.bad
    );
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Doubles<V> {
    id: u32,
    v: V,
}
impl<V: Clone + Serialize + serde::de::DeserializeOwned + Send + Sync + 'static> TopicType
    for Doubles<V>
{
    const TYPE_NAME: &'static str = "bench::Doubles";
    const KEY_FIELDS: &'static [&'static str] = &["id"];
    type Key = u32;
    fn key(&self) -> u32 {
        self.id
    }
}

/// Median over 5 batches of `n` encodes (decodes) of `k` doubles [µs each].
fn codec_time<V>(value: &Doubles<V>, n: u64) -> (f64, f64)
where
    V: Clone + Serialize + serde::de::DeserializeOwned + PartialEq + Send + Sync + 'static,
{
    let (mut enc, mut dec) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let t = Instant::now();
        let mut bytes = Vec::new();
        for _ in 0..n {
            bytes = std::hint::black_box(twin_bus::dds::cdr_of(value).unwrap());
        }
        enc.push(t.elapsed().as_secs_f64() * 1e6 / n as f64);
        let t = Instant::now();
        for _ in 0..n {
            let d = twin_bus::dds::from_cdr::<Doubles<V>>(std::hint::black_box(&bytes)).unwrap();
            std::hint::black_box(d);
        }
        dec.push(t.elapsed().as_secs_f64() * 1e6 / n as f64);
        assert!(twin_bus::dds::from_cdr::<Doubles<V>>(&bytes).unwrap() == *value);
    }
    enc.sort_by(f64::total_cmp);
    dec.sort_by(f64::total_cmp);
    (enc[2], dec[2])
}

fn codec(k: usize, n: u64) {
    let v: Vec<f64> = (0..k).map(|i| (i as f64).sqrt()).collect();
    let plain = codec_time(
        &Doubles {
            id: 1,
            v: v.clone(),
        },
        n,
    );
    let one = codec_time(
        &Doubles {
            id: 1,
            v: twin_bus::F64s(v),
        },
        n,
    );
    println!(
        "codec {k} doubles: Vec<f64> encode {:.2} us, decode {:.2} us; F64s encode {:.2} us, \
         decode {:.2} us ({:.1}x / {:.1}x)",
        plain.0,
        plain.1,
        one.0,
        one.1,
        plain.0 / one.0,
        plain.1 / one.1
    );
}
