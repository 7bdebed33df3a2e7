use std::{
    sync::{mpsc, Arc, Mutex},
    thread,
    time::Duration,
};

use twin_bus::{Bus, GuardCondition, ReaderQos, StatusEvent, StatusMask, WaitSet, WriterQos};
use twin_testkit::with_timeout;

use crate::common::{pt, Pt};

#[test]
fn blocking_take_wakes_on_write() {
    with_timeout("blocking take", Duration::from_secs(5), || {
        let bus = Bus::in_memory();
        let p = bus.participant("p");
        let t = p.topic::<Pt>("twin/test/block").unwrap();
        let r = p.reader(&t, ReaderQos::default().keep_all()).unwrap();
        let w = p.writer(&t, WriterQos::default()).unwrap();
        assert!(r.take_timeout(Duration::from_millis(10)).is_err());
        let h = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            w.write(pt(1, 0, 7)).unwrap();
            w
        });
        let got = r.take_timeout(Duration::from_secs(3)).unwrap();
        assert_eq!(got[0].value, Some(pt(1, 0, 7)));
        h.join().unwrap();
    });
}

#[test]
fn async_recv_resolves_on_write() {
    with_timeout("async recv", Duration::from_secs(5), || {
        let bus = Bus::in_memory();
        let p = bus.participant("p");
        let t = p.topic::<Pt>("twin/test/async").unwrap();
        let r = p.reader(&t, ReaderQos::default().keep_all()).unwrap();
        let w = p.writer(&t, WriterQos::default()).unwrap();
        let h = thread::spawn(move || {
            for s in 0..3 {
                thread::sleep(Duration::from_millis(5));
                w.write(pt(2, 0, s)).unwrap();
            }
        });
        let seqs = futures_executor::block_on(async {
            let mut v = Vec::new();
            for _ in 0..3 {
                v.push(r.recv().await.value.unwrap().seq);
            }
            v
        });
        assert_eq!(seqs, vec![0, 1, 2]);
        h.join().unwrap();
    });
}

#[test]
fn waitset_reports_which_condition_fired() {
    with_timeout("waitset", Duration::from_secs(5), || {
        let bus = Bus::in_memory();
        let p = bus.participant("p");
        let ta = p.topic::<Pt>("twin/test/ws-a").unwrap();
        let tb = p.topic::<Pt>("twin/test/ws-b").unwrap();
        let ra = p.reader(&ta, ReaderQos::default()).unwrap();
        let rb = p.reader(&tb, ReaderQos::default()).unwrap();
        let guard = GuardCondition::new();
        let mut ws = WaitSet::new();
        let ia = ws.attach(ra.read_condition());
        let ib = ws.attach(rb.read_condition());
        let ig = ws.attach(guard.condition());
        assert!(ws.wait(Duration::from_millis(10)).is_err());
        let wb = p.writer(&tb, WriterQos::default()).unwrap();
        let h = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            wb.write(pt(1, 0, 0)).unwrap();
            wb
        });
        assert_eq!(ws.wait(Duration::from_secs(3)).unwrap(), vec![ib]);
        let _wb = h.join().unwrap();
        rb.take();
        guard.set(true);
        assert_eq!(ws.wait(Duration::from_secs(1)).unwrap(), vec![ig]);
        let _ = ia;
    });
}

#[test]
fn listener_gets_samples_and_statuses_and_may_write() {
    with_timeout("listener", Duration::from_secs(5), || {
        let bus = Bus::in_memory();
        let p = bus.participant("p");
        let t = p.topic::<Pt>("twin/test/listener").unwrap();
        let echo = p.topic::<Pt>("twin/test/listener-echo").unwrap();
        let echo_w = Arc::new(p.writer(&echo, WriterQos::default()).unwrap());
        let echo_r = p.reader(&echo, ReaderQos::default().keep_all()).unwrap();
        let (tx, rx) = mpsc::channel();
        struct L {
            tx: mpsc::Sender<String>,
            echo: Arc<twin_bus::Writer<Pt>>,
        }
        impl twin_bus::ReaderListener<Pt> for L {
            fn on_sample(&mut self, s: twin_bus::Sample<Pt>) {
                let Some(v) = s.value else { return }; // writer left: state change
                self.tx.send(format!("sample {}", v.seq)).unwrap();
                // Writing from inside a listener must not deadlock.
                self.echo.write(pt(v.id, 9, v.seq)).unwrap();
            }
            fn on_status(&mut self, e: StatusEvent) {
                if let StatusEvent::Matched { current } = e {
                    self.tx.send(format!("matched {current}")).unwrap();
                }
            }
        }
        let _r = p
            .reader_with_listener(&t, ReaderQos::default().keep_all(), L { tx, echo: echo_w })
            .unwrap();
        let w = p.writer(&t, WriterQos::default()).unwrap();
        w.write(pt(1, 0, 1)).unwrap();
        w.write(pt(1, 0, 2)).unwrap();
        let got: Vec<String> = rx.try_iter().collect();
        assert_eq!(got, vec!["matched 1", "sample 1", "sample 2"]);
        assert_eq!(echo_r.take_data().len(), 2);
    });
}

#[test]
fn closure_listener_receives_in_order_from_threads() {
    let bus = Bus::in_memory();
    let p = bus.participant("p");
    let t = p.topic::<Pt>("twin/test/listener-threads").unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = Arc::clone(&seen);
    let _r = p
        .reader_with_listener(
            &t,
            ReaderQos::default().reliable().keep_all(),
            move |s: twin_bus::Sample<Pt>| {
                if let Some(v) = s.value {
                    s2.lock().unwrap().push((v.writer, v.seq));
                }
            },
        )
        .unwrap();
    let hs: Vec<_> = (0..2)
        .map(|k| {
            let w = p.writer(&t, WriterQos::default()).unwrap();
            thread::spawn(move || {
                for s in 0..2000 {
                    w.write(pt(k, k, s)).unwrap();
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 4000);
    for k in 0..2 {
        let seqs: Vec<u64> = seen.iter().filter(|x| x.0 == k).map(|x| x.1).collect();
        assert_eq!(seqs, (0..2000).collect::<Vec<_>>());
    }
}

#[test]
fn matched_status_condition_fires_on_new_writer() {
    let bus = Bus::in_memory();
    let p = bus.participant("p");
    let t = p.topic::<Pt>("twin/test/matched-cond").unwrap();
    let r = p.reader(&t, ReaderQos::default()).unwrap();
    let mut ws = WaitSet::new();
    ws.attach(r.status_condition(StatusMask::MATCHED));
    let _w = p.writer(&t, WriterQos::default()).unwrap();
    assert_eq!(ws.wait(Duration::from_millis(100)).unwrap(), vec![0]);
}

#[test]
fn matched_writer_names_follow_matching_and_partitions() {
    let bus = Bus::in_memory();
    let (a, b, c) = (
        bus.participant("a"),
        bus.participant("b"),
        bus.participant("c"),
    );
    let r = a
        .reader(
            &a.topic::<Pt>("twin/test/names").unwrap(),
            ReaderQos::default().partitions(["p1"]),
        )
        .unwrap();
    assert!(r.matched_writer_names().is_empty());
    let wb = b
        .writer(
            &b.topic::<Pt>("twin/test/names").unwrap(),
            WriterQos::default().partitions(["p1"]),
        )
        .unwrap();
    let _wc = c
        .writer(
            &c.topic::<Pt>("twin/test/names").unwrap(),
            WriterQos::default().partitions(["p2"]),
        )
        .unwrap();
    assert_eq!(r.matched_writer_names(), vec!["b".to_string()]);
    drop(wb);
    assert!(r.matched_writer_names().is_empty());
}
