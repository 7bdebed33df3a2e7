//! WebSocket feed: subscribe, rate, unsubscribe, many clients, slow
//! clients, malformed messages, disposal, shutdown.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread,
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::{connect_async, tungstenite::Message, MaybeTlsStream, WebSocketStream};
use twin_bus::{Bus, WriterQos};
use twin_federates::demo::{PointPosition, POSITION_TOPIC};

use crate::{dashboard, get_json, within};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(addr: SocketAddr) -> Ws {
    let (mut ws, _) = connect_async(format!("ws://{addr}/ws")).await.expect("ws");
    let hello = next_json(&mut ws).await;
    assert_eq!(hello["type"], "hello", "{hello}");
    ws
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

/// The next text frame as JSON.
async fn next_json(ws: &mut Ws) -> Value {
    loop {
        match within!(5, ws.next()).expect("open").expect("frame") {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            Message::Close(_) => panic!("closed"),
            _ => {}
        }
    }
}

/// The next frame that is not data.
async fn next_control(ws: &mut Ws) -> Value {
    loop {
        let v = next_json(ws).await;
        if v["type"] != "data" {
            return v;
        }
    }
}

fn point(id: u32, x: f64) -> PointPosition {
    PointPosition {
        id,
        x_m: x,
        y_m: 0.0,
        z_m: 100.0,
        vx_mps: 1.0,
        vy_mps: 0.0,
    }
}

/// Publishes `n` points every `period` until dropped.
struct Publisher {
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<(u64, Duration)>>,
}

impl Publisher {
    fn start(bus: &Bus, n: u32, period: Duration) -> Publisher {
        let p = bus.participant("points");
        let w = p
            .writer(
                &p.topic::<PointPosition>(POSITION_TOPIC).unwrap(),
                WriterQos::default().transient_local(),
            )
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let mut rounds = 0u64;
            let mut blocked = Duration::ZERO;
            while !s.load(Ordering::Relaxed) {
                let t = Instant::now();
                for id in 0..n {
                    w.write(point(id, rounds as f64)).unwrap();
                }
                blocked += t.elapsed();
                rounds += 1;
                thread::sleep(period);
            }
            drop(p);
            (rounds, blocked)
        });
        Publisher {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops; returns rounds written and the time spent writing.
    fn finish(mut self) -> (u64, Duration) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[tokio::test]
async fn subscribe_receives_frames_at_the_requested_rate_then_unsubscribe_stops_them() {
    let bus = Bus::in_memory();
    let pubr = Publisher::start(&bus, 5, Duration::from_millis(10));
    let dash = dashboard(&bus);
    let mut ws = connect(dash.local_addr()).await;
    send(
        &mut ws,
        json!({"op": "subscribe", "topic": POSITION_TOPIC, "rate_hz": 5}),
    )
    .await;
    let ack = next_json(&mut ws).await;
    assert_eq!(
        ack,
        json!({"type": "subscribed", "topic": POSITION_TOPIC, "rate_hz": 5.0, "role": "positions"})
    );
    let start = Instant::now();
    let mut frames = 0;
    let mut ids = std::collections::BTreeSet::new();
    while start.elapsed() < Duration::from_secs(2) {
        let f = next_json(&mut ws).await;
        assert_eq!(f["type"], "data");
        assert_eq!(f["topic"], POSITION_TOPIC);
        for s in f["samples"].as_array().unwrap() {
            let [key, _t, v] = &s.as_array().unwrap()[..] else {
                panic!("sample is [key, sim_ns, value]: {s}")
            };
            assert_eq!(key, &v["id"]);
            ids.insert(key.as_u64().unwrap());
        }
        frames += 1;
    }
    // 5 Hz for 2 s: 10 frames (the first one at once).
    assert!((9..=12).contains(&frames), "{frames} frames in 2 s at 5 Hz");
    assert_eq!(ids.len(), 5, "{ids:?}");

    send(
        &mut ws,
        json!({"op": "unsubscribe", "topic": POSITION_TOPIC}),
    )
    .await;
    let ack = next_control(&mut ws).await;
    assert_eq!(
        ack,
        json!({"type": "unsubscribed", "topic": POSITION_TOPIC})
    );
    let quiet = tokio::time::timeout(Duration::from_millis(600), ws.next()).await;
    assert!(quiet.is_err(), "no frames after unsubscribe: {quiet:?}");
    // The shared reader closes with the last subscriber.
    let topics = get_json(dash.local_addr(), "/api/topics").await;
    let t = topics
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == POSITION_TOPIC)
        .unwrap();
    assert_eq!(t["subscribers"], 0);
    pubr.finish();
}

#[tokio::test]
async fn a_late_subscriber_gets_every_instance_and_disposals_arrive_as_null() {
    let bus = Bus::in_memory();
    let p = bus.participant("points");
    let w = p
        .writer(
            &p.topic::<PointPosition>(POSITION_TOPIC).unwrap(),
            WriterQos::default().transient_local(),
        )
        .unwrap();
    for id in 0..3 {
        w.write(point(id, 1.0)).unwrap();
    }
    let dash = dashboard(&bus);
    let mut ws = connect(dash.local_addr()).await;
    send(&mut ws, json!({"op": "subscribe", "topic": POSITION_TOPIC})).await;
    let ack = next_json(&mut ws).await;
    assert_eq!(ack["rate_hz"], 10.0, "the default rate");
    let f = next_json(&mut ws).await;
    assert_eq!(f["samples"].as_array().unwrap().len(), 3, "{f}");
    assert!(w.dispose(&1));
    let f = next_json(&mut ws).await;
    assert_eq!(f["samples"], json!([[1, null, null]]), "{f}");
}

#[tokio::test]
async fn many_clients_share_one_reader() {
    let bus = Bus::in_memory();
    let pubr = Publisher::start(&bus, 20, Duration::from_millis(20));
    let dash = dashboard(&bus);
    let addr = dash.local_addr();
    let mut clients = Vec::new();
    for _ in 0..25 {
        let mut ws = connect(addr).await;
        send(
            &mut ws,
            json!({"op": "subscribe", "topic": POSITION_TOPIC, "rate_hz": 20}),
        )
        .await;
        clients.push(ws);
    }
    for ws in &mut clients {
        assert_eq!(next_json(ws).await["type"], "subscribed");
        let f = next_json(ws).await;
        assert_eq!(f["type"], "data");
    }
    let topics = get_json(addr, "/api/topics").await;
    let t = topics
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == POSITION_TOPIC)
        .unwrap();
    assert_eq!(t["subscribers"], 25);
    // Positions are transient-local: snapshots attach a reader only
    // briefly, and one channel serves every client.
    assert!(t["readers"].as_u64().unwrap() <= 1, "{t}");
    for ws in &mut clients {
        ws.close(None).await.unwrap();
    }
    drop(clients);
    let start = Instant::now();
    loop {
        let topics = get_json(addr, "/api/topics").await;
        let t = topics
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == POSITION_TOPIC)
            .unwrap()
            .clone();
        if t["subscribers"] == 0 && t["readers"] == 0 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "released: {t}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    pubr.finish();
}

#[tokio::test]
async fn a_client_that_never_reads_slows_neither_the_bus_nor_other_clients() {
    let bus = Bus::in_memory();
    let dash = dashboard(&bus);
    let addr = dash.local_addr();
    // Baseline: writing 1,000 points every 5 ms without any client.
    let alone = Publisher::start(&bus, 1000, Duration::from_millis(5));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (rounds0, busy0) = alone.finish();
    // A stalled client (subscribed at the highest rate, never reads) and a
    // healthy one.
    let mut stalled = connect(addr).await;
    let mut healthy = connect(addr).await;
    let pubr = Publisher::start(&bus, 1000, Duration::from_millis(5));
    tokio::time::sleep(Duration::from_millis(100)).await;
    send(
        &mut stalled,
        json!({"op": "subscribe", "topic": POSITION_TOPIC, "rate_hz": 1000}),
    )
    .await;
    send(
        &mut healthy,
        json!({"op": "subscribe", "topic": POSITION_TOPIC, "rate_hz": 10}),
    )
    .await;
    assert_eq!(next_json(&mut healthy).await["type"], "subscribed");
    let start = Instant::now();
    let mut frames = 0;
    while start.elapsed() < Duration::from_secs(3) {
        let f = next_json(&mut healthy).await;
        if f["type"] == "data" {
            frames += 1;
        }
    }
    let (rounds, busy) = pubr.finish();
    assert!(
        frames >= 24,
        "healthy client at 10 Hz got {frames} frames in 3 s"
    );
    // Time spent inside write() per round must not grow because of the
    // stalled client (generous bound against noise on a shared machine).
    let per0 = busy0.as_secs_f64() / rounds0 as f64;
    let per = busy.as_secs_f64() / rounds as f64;
    assert!(
        per < per0 * 3.0 + 0.002,
        "write time per round {per:.6} s vs {per0:.6} s without clients"
    );
    drop(stalled);
}

#[tokio::test]
async fn malformed_messages_get_error_frames_and_the_connection_stays_usable() {
    let bus = Bus::in_memory();
    let _pubr = Publisher::start(&bus, 2, Duration::from_millis(20));
    let dash = dashboard(&bus);
    let mut ws = connect(dash.local_addr()).await;
    let cases: Vec<(Message, &str)> = vec![
        (Message::Text("not json".into()), "bad_message"),
        (Message::Text(r#"{"op":"dance"}"#.into()), "bad_message"),
        (Message::Text(r#"{"op":"subscribe"}"#.into()), "bad_message"),
        (Message::Binary(vec![1, 2, 3].into()), "bad_message"),
        (
            Message::Text(r#"{"op":"subscribe","topic":"twin/nope"}"#.into()),
            "unknown_topic",
        ),
        (
            Message::Text(
                r#"{"op":"subscribe","topic":"twin/demo/point/position","rate_hz":-1}"#.into(),
            ),
            "bad_rate",
        ),
        (
            Message::Text(r#"{"op":"unsubscribe","topic":"twin/demo/point/position"}"#.into()),
            "not_subscribed",
        ),
    ];
    for (msg, code) in cases {
        let shown = format!("{msg:?}");
        ws.send(msg).await.unwrap();
        let e = next_json(&mut ws).await;
        assert_eq!(e["type"], "error", "{shown}: {e}");
        assert_eq!(e["code"], code, "{shown}: {e}");
    }
    // A topic whose type has no decoder.
    let p = bus.participant("other");
    let _w = p
        .writer(
            &p.topic::<twin_federation::proto::ControlCommand>("twin/x/commands")
                .unwrap(),
            WriterQos::default(),
        )
        .unwrap();
    send(
        &mut ws,
        json!({"op": "subscribe", "topic": "twin/x/commands"}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["code"], "no_decoder");
    // Still usable.
    send(&mut ws, json!({"op": "ping"})).await;
    assert_eq!(next_json(&mut ws).await, json!({"type": "pong"}));
    send(
        &mut ws,
        json!({"op": "subscribe", "topic": POSITION_TOPIC, "rate_hz": 500}),
    )
    .await;
    let ack = next_json(&mut ws).await;
    assert_eq!(ack["rate_hz"], 30.0, "clamped to the maximum: {ack}");
    assert_eq!(next_json(&mut ws).await["type"], "data");
}

#[tokio::test]
async fn a_flood_of_control_messages_is_rate_limited() {
    let bus = Bus::in_memory();
    let dash = dashboard(&bus);
    let mut ws = connect(dash.local_addr()).await;
    for _ in 0..100 {
        send(&mut ws, json!({"op": "ping"})).await;
    }
    let mut pongs = 0;
    let mut limited = 0;
    for _ in 0..100 {
        let v = next_json(&mut ws).await;
        match v["type"].as_str().unwrap() {
            "pong" => pongs += 1,
            "error" if v["code"] == "rate_limited" => limited += 1,
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert!(
        (40..=50).contains(&pongs),
        "a burst of 40 plus refill: {pongs}"
    );
    assert_eq!(pongs + limited, 100);
    tokio::time::sleep(Duration::from_millis(200)).await;
    send(&mut ws, json!({"op": "ping"})).await;
    assert_eq!(next_json(&mut ws).await["type"], "pong", "tokens refill");
}

#[tokio::test]
async fn stopping_the_dashboard_closes_clients() {
    let bus = Bus::in_memory();
    let dash = dashboard(&bus);
    let addr = dash.local_addr();
    let mut ws = connect(addr).await;
    let start = Instant::now();
    tokio::task::spawn_blocking(move || dash.stop())
        .await
        .unwrap();
    assert!(start.elapsed() < Duration::from_secs(3));
    match within!(3, ws.next()) {
        None | Some(Ok(Message::Close(_))) | Some(Err(_)) => {}
        other => panic!("expected close, got {other:?}"),
    }
    assert!(TcpStream::connect(addr).await.is_err(), "port released");
}

#[tokio::test]
async fn volatile_topics_stream_every_sample_with_its_sim_time() {
    use twin_federates::demo::{Tick, TICK_TOPIC};
    let bus = Bus::in_memory();
    let p = bus.participant("ticker");
    let w = p
        .writer(&p.topic::<Tick>(TICK_TOPIC).unwrap(), WriterQos::default())
        .unwrap();
    let dash = dashboard(&bus);
    let mut ws = connect(dash.local_addr()).await;
    send(
        &mut ws,
        json!({"op": "subscribe", "topic": TICK_TOPIC, "rate_hz": 30}),
    )
    .await;
    let ack = next_json(&mut ws).await;
    assert_eq!(ack["role"], "data", "{ack}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A reader stays attached to a volatile topic while it is watched.
    let topics = get_json(dash.local_addr(), "/api/topics").await;
    let t = topics
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == TICK_TOPIC)
        .unwrap();
    assert_eq!(t["readers"], 1, "{t}");
    w.write_at(Tick { n: 7 }, twin_core::SimTime::from_nanos(1_500_000_000))
        .unwrap();
    let f = next_json(&mut ws).await;
    assert_eq!(
        f["samples"],
        json!([[null, 1_500_000_000u64, {"n": 7}]]),
        "{f}"
    );
    assert_eq!(f["received"], 1);
}

#[tokio::test]
async fn a_stimulus_sent_before_the_page_opened_reaches_a_late_subscriber() {
    use twin_federates::brain::{stimulus_writer_qos, BrainStimulus, STIMULUS_TOPIC};
    let bus = Bus::in_memory();
    let p = bus.participant("seizure");
    // The writer QoS every stimulus writer uses (the seizure controller's).
    let w = p
        .writer(
            &p.topic::<BrainStimulus>(STIMULUS_TOPIC).unwrap(),
            stimulus_writer_qos(),
        )
        .unwrap();
    let stim = |on: usize| BrainStimulus {
        variable: "x1".into(),
        amplitude: (0..4).map(|i| if i == on { 0.5 } else { 0.0 }).collect(),
    };
    w.write_at(stim(1), twin_core::SimTime::from_nanos(1_000_000))
        .unwrap();
    w.write_at(stim(3), twin_core::SimTime::from_nanos(2_000_000))
        .unwrap();
    // The dashboard (as `twin run` registers it) and the client come later.
    let mut cfg = twin_dashboard::DashboardConfig::new("127.0.0.1:0".parse().unwrap());
    cfg.registry
        .register_durable::<BrainStimulus>(twin_dashboard::Role::BrainStimulus);
    let dash = twin_dashboard::serve_with(bus.clone(), cfg).unwrap();
    let mut ws = connect(dash.local_addr()).await;
    send(&mut ws, json!({"op": "subscribe", "topic": STIMULUS_TOPIC})).await;
    let ack = next_json(&mut ws).await;
    assert_eq!(ack["role"], "brain_stimulus", "{ack}");
    let f = next_json(&mut ws).await;
    // The stimulus in force is the last one sent.
    assert_eq!(
        f["samples"],
        json!([[null, 2_000_000u64, {"variable": "x1", "amplitude": [0.0, 0.0, 0.0, 0.5]}]]),
        "{f}"
    );
    // A stimulus sent while the page is open arrives too.
    w.write_at(stim(0), twin_core::SimTime::from_nanos(3_000_000))
        .unwrap();
    let f = within!(5, async {
        loop {
            let f = next_json(&mut ws).await;
            if f["samples"][0][1] == 3_000_000u64 {
                return f;
            }
        }
    });
    assert_eq!(
        f["samples"][0][2]["amplitude"],
        json!([0.5, 0.0, 0.0, 0.0]),
        "{f}"
    );
}
