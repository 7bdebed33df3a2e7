use std::{collections::HashMap, thread, time::Duration};

use twin_bus::{Bus, PublishError, ReaderQos, ResourceLimits, WriterQos};
use twin_testkit::with_timeout;

use crate::common::{pt, Pt};

/// 1,000,000 samples from two writers through a small reliable keep-all
/// queue drained by a slow reader: nothing lost, nothing duplicated, in
/// order per writer. The queue bound forces the writers to block often.
#[test]
fn reliable_keep_all_slow_reader_million_samples() {
    with_timeout("million samples", Duration::from_secs(120), || {
        const PER_WRITER: u64 = 500_000;
        let bus = Bus::in_memory();
        let sub = bus.participant("sub");
        let t = sub.topic::<Pt>("twin/test/million").unwrap();
        let limits = ResourceLimits {
            max_samples: 1024,
            ..ResourceLimits::default()
        };
        let r = sub
            .reader(
                &t,
                ReaderQos::default()
                    .reliable()
                    .keep_all()
                    .resource_limits(limits),
            )
            .unwrap();
        let writers: Vec<_> = (0..2u32)
            .map(|k| {
                let p = bus.participant(&format!("pub{k}"));
                let w = p
                    .writer(
                        &t,
                        WriterQos::default()
                            .reliable_blocking(Duration::from_secs(30))
                            .keep_all(),
                    )
                    .unwrap();
                thread::spawn(move || {
                    for s in 0..PER_WRITER {
                        w.write(pt((s % 16) as u32, k, s)).unwrap();
                    }
                    drop(p);
                })
            })
            .collect();
        let mut next: HashMap<u32, u64> = HashMap::new();
        let mut total = 0u64;
        let mut buf = Vec::with_capacity(256);
        let mut batches = 0u64;
        while total < 2 * PER_WRITER {
            buf.clear();
            if r.take_into(&mut buf, 256) == 0 {
                let _ = r
                    .take_timeout(Duration::from_millis(50))
                    .map(|v| buf.extend(v));
            }
            for s in buf.drain(..) {
                let Some(p) = s.value else { continue };
                let want = next.entry(p.writer).or_insert(0);
                assert_eq!(
                    p.seq, *want,
                    "writer {} out of order, lost or duplicated",
                    p.writer
                );
                assert_eq!(p.payload, [p.seq; 6], "payload corrupted");
                *want += 1;
                total += 1;
            }
            batches += 1;
            if batches % 64 == 0 {
                thread::sleep(Duration::from_micros(200)); // a slow reader
            }
        }
        for w in writers {
            w.join().unwrap();
        }
        assert_eq!(
            next.values().copied().collect::<Vec<_>>(),
            vec![PER_WRITER; 2]
        );
        assert_eq!(r.status().sample_lost.total, 0);
    });
}

#[test]
fn blocked_writer_times_out_and_gets_the_sample_back() {
    let bus = Bus::in_memory();
    let p = bus.participant("p");
    let t = p.topic::<Pt>("twin/test/backpressure").unwrap();
    let limits = ResourceLimits {
        max_samples: 4,
        ..ResourceLimits::default()
    };
    let _r = p
        .reader(
            &t,
            ReaderQos::default()
                .reliable()
                .keep_all()
                .resource_limits(limits),
        )
        .unwrap();
    let w = p
        .writer(
            &t,
            WriterQos::default().reliable_blocking(Duration::from_millis(20)),
        )
        .unwrap();
    for s in 0..4 {
        w.write(pt(1, 0, s)).unwrap();
    }
    match w.write(pt(1, 0, 4)) {
        Err(PublishError::Timeout { sample, waited, .. }) => {
            assert_eq!(sample, pt(1, 0, 4));
            assert!(waited >= Duration::from_millis(20));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[test]
fn best_effort_reader_drops_and_counts_when_full() {
    let bus = Bus::in_memory();
    let p = bus.participant("p");
    let t = p.topic::<Pt>("twin/test/besteffort").unwrap();
    let limits = ResourceLimits {
        max_samples: 10,
        ..ResourceLimits::default()
    };
    let r = p
        .reader(
            &t,
            ReaderQos::default()
                .best_effort()
                .keep_all()
                .resource_limits(limits),
        )
        .unwrap();
    let w = p.writer(&t, WriterQos::default()).unwrap();
    for s in 0..25 {
        w.write(pt(1, 0, s)).unwrap();
    }
    assert_eq!(r.take().len(), 10);
    assert_eq!(r.status().sample_lost.total, 15);
}

#[test]
fn killed_participant_cannot_write_or_create() {
    let bus = Bus::in_memory();
    let p = bus.participant("p");
    let t = p.topic::<Pt>("twin/test/killed").unwrap();
    let w = p.writer(&t, WriterQos::default()).unwrap();
    p.kill();
    let err = w.write(pt(1, 0, 0)).unwrap_err();
    assert!(matches!(err, PublishError::Closed { .. }));
    assert_eq!(err.into_sample(), pt(1, 0, 0));
    assert!(p.writer(&t, WriterQos::default()).is_err());
}
