//! The assistant member inside a real federation, with the scripted mock engine.

use std::{
    io::{Read, Write},
    net::TcpStream,
    sync::Arc,
    time::{Duration, Instant},
};

use twin_bus::{Bus, ReaderQos, WriterQos};
use twin_core::SimTime;
use twin_federates::{build, demo, BuildOptions, Catalog};
use twin_federation::proto::{AssistantAnswer, AssistantQuestion, ANSWER_TOPIC, ASK_TOPIC};
use twin_scenario::Scenario;

fn scenario(extra: &str) -> Scenario {
    let script = if extra.contains("mock_script") {
        ""
    } else {
        r#"mock_script = ["The points ", "move [1]."]"#
    };
    let text = format!(
        r#"[federation]
name = "ask"
end = "2s"
dt = "100ms"
pacing = 1.0

[[member]]
name = "points"
kind = "moving-points"
[member.params]
count = 3
radius_m = 100.0
speed_mps = 10.0

[[member]]
name = "assistant"
kind = "assistant"
[member.params]
topics = ["twin/demo/point/position"]
mock = true
{script}
{extra}
"#
    );
    let s = Scenario::parse(&text, "test").unwrap();
    s.check(&Catalog).unwrap();
    s
}

/// Waits until a position stamped at or after `t` is on the bus.
fn wait_for_positions(bus: &Bus, t: SimTime) {
    let p = bus.participant("watcher");
    let topic = p
        .topic::<demo::PointPosition>(demo::POSITION_TOPIC)
        .unwrap();
    let r = p.reader(&topic, ReaderQos::default().keep_all()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if r.take()
            .iter()
            .any(|s| s.info.sim_time.is_some_and(|st| st >= t))
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no positions at {t:?}");
}

/// Asks `text` once positions at `t_asked` are on the bus; returns every answer sample.
fn ask_on_the_bus(s: &Scenario, t_asked: SimTime, text: &str) -> Vec<AssistantAnswer> {
    let mut fed = build(s, Bus::in_memory(), BuildOptions::default()).unwrap();
    let bus = fed.bus().clone();
    let asker = bus.participant("asker");
    let answers = asker
        .reader(
            &asker.topic::<AssistantAnswer>(ANSWER_TOPIC).unwrap(),
            ReaderQos::default().reliable().keep_all(),
        )
        .unwrap();
    let ask = asker
        .writer(
            &asker.topic::<AssistantQuestion>(ASK_TOPIC).unwrap(),
            WriterQos::default(),
        )
        .unwrap();
    let text = text.to_owned();
    let thread = std::thread::spawn(move || {
        wait_for_positions(&bus, t_asked);
        ask.write(AssistantQuestion {
            id: Arc::from("q1"),
            asked_by: "test".into(),
            text,
        })
        .unwrap();
    });
    let summary = fed.run(&mut |_| {}).unwrap();
    thread.join().unwrap();
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    answers.take().into_iter().filter_map(|s| s.value).collect()
}

/// A slow answer streams in: growing texts with `done: false`, then one final sample.
#[test]
fn a_growing_answer_streams_and_ends_with_done() {
    let s = scenario(
        "mock_script = [\"The \", \"points \", \"move \", \"[1].\"]\n\
         mock_token_ms = 150\nstream_interval_ms = 50",
    );
    let got = ask_on_the_bus(&s, SimTime::from_nanos(300_000_000), "How?");
    let (last, partial) = got.split_last().expect("answers");
    assert!(last.done && !last.error, "{last:?}");
    assert_eq!(last.text, "The points move [1].");
    assert_eq!(last.citations.len(), 1, "{last:?}");
    assert!(partial.len() >= 2, "the answer streamed: {got:?}");
    let mut len = 0;
    for p in partial {
        assert!(!p.done && p.citations.is_empty(), "{p:?}");
        assert!(last.text.starts_with(&p.text), "{p:?}");
        assert!(p.text.len() > len, "each partial answer grows: {got:?}");
        len = p.text.len();
    }
}

#[test]
fn answers_a_bus_question_with_citations_of_the_state() {
    let s = scenario("");
    let mut fed = build(&s, Bus::in_memory(), BuildOptions::default()).unwrap();
    let bus = fed.bus().clone();
    let asker = bus.participant("asker");
    let answers = asker
        .reader(
            &asker.topic::<AssistantAnswer>(ANSWER_TOPIC).unwrap(),
            ReaderQos::default().reliable().keep_all(),
        )
        .unwrap();
    let ask = asker
        .writer(
            &asker.topic::<AssistantQuestion>(ASK_TOPIC).unwrap(),
            WriterQos::default(),
        )
        .unwrap();
    let t_asked = SimTime::from_nanos(500_000_000);
    let thread = std::thread::spawn(move || {
        wait_for_positions(&bus, t_asked);
        ask.write(AssistantQuestion {
            id: Arc::from("q1"),
            asked_by: "test".into(),
            text: "Where are the points?".into(),
        })
        .unwrap();
    });
    let summary = fed.run(&mut |_| {}).unwrap();
    thread.join().unwrap();
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    let got: Vec<AssistantAnswer> = answers
        .take()
        .into_iter()
        .filter_map(|s| s.value)
        .filter(|a| a.done)
        .collect();
    assert_eq!(got.len(), 1, "one final answer: {got:?}");
    let a = &got[0];
    assert_eq!(&*a.id, "q1");
    assert!(!a.error, "{a:?}");
    assert_eq!(a.text, "The points move [1].");
    assert_eq!(a.model, "mock-assistant");
    assert_eq!(a.citations.len(), 1, "{a:?}");
    let c = &a.citations[0];
    assert_eq!(c.topic, demo::POSITION_TOPIC);
    assert!(c.sim_time >= t_asked, "the state when asked: {c:?}");
    assert!(c.excerpt.contains("x_m"), "{c:?}");
    assert!(a.sim_time >= c.sim_time);
}

#[test]
fn answers_over_http() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let s = scenario(&format!("http_port = {port}"));
    let mut fed = build(&s, Bus::in_memory(), BuildOptions::default()).unwrap();
    let bus = fed.bus().clone();
    let client = std::thread::spawn(move || {
        wait_for_positions(&bus, SimTime::from_nanos(300_000_000));
        let post = |body: &str| {
            let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
            write!(
                c,
                "POST /ask HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            let mut text = String::new();
            c.read_to_string(&mut text).unwrap();
            text
        };
        (
            post(r#"{"text": "How do the points move?"}"#),
            post(r#"{"text": 5}"#),
        )
    });
    let summary = fed.run(&mut |_| {}).unwrap();
    let (ok, bad) = client.join().unwrap();
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    assert!(ok.starts_with("HTTP/1.0 200"), "{ok}");
    let body: serde_json::Value =
        serde_json::from_str(ok.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["text"], "The points move [1].");
    assert_eq!(
        body["citations"][0]["topic"],
        demo::POSITION_TOPIC,
        "{body}"
    );
    assert!(bad.starts_with("HTTP/1.0 400"), "{bad}");
    assert!(bad.contains("invalid body"), "{bad}");
}

/// The same with SmolLM2 (llama feature; the model is fetched by scripts/fetch-llm-models).
#[cfg(feature = "llama")]
#[test]
fn answers_with_the_real_model() {
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/models/SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        model.exists(),
        "{} missing: run scripts/fetch-llm-models",
        model.display()
    );
    let text = format!(
        r#"[federation]
name = "ask"
end = "1s"
dt = "100ms"
pacing = 1.0

[[member]]
name = "points"
kind = "moving-points"
[member.params]
count = 2
radius_m = 100.0
speed_mps = 10.0

[[member]]
name = "assistant"
kind = "assistant"
[member.params]
topics = ["twin/demo/point/position"]
model = "{}"
max_tokens = 40
threads = 2
"#,
        model.display()
    );
    let s = Scenario::parse(&text, "test").unwrap();
    s.check(&Catalog).unwrap();
    let mut fed = build(&s, Bus::in_memory(), BuildOptions::default()).unwrap();
    let bus = fed.bus().clone();
    let asker = bus.participant("asker");
    let answers = asker
        .reader(
            &asker.topic::<AssistantAnswer>(ANSWER_TOPIC).unwrap(),
            ReaderQos::default().reliable().keep_all(),
        )
        .unwrap();
    let ask = asker
        .writer(
            &asker.topic::<AssistantQuestion>(ASK_TOPIC).unwrap(),
            WriterQos::default(),
        )
        .unwrap();
    let thread = std::thread::spawn(move || {
        wait_for_positions(&bus, SimTime::from_nanos(300_000_000));
        ask.write(AssistantQuestion {
            id: Arc::from("real"),
            asked_by: "test".into(),
            text: "How many points are there, and where is point 0?".into(),
        })
        .unwrap();
    });
    let summary = fed.run(&mut |_| {}).unwrap();
    thread.join().unwrap();
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    let got: Vec<AssistantAnswer> = answers
        .take()
        .into_iter()
        .filter_map(|s| s.value)
        .filter(|a| a.done)
        .collect();
    assert_eq!(got.len(), 1, "one final answer: {got:?}");
    let a = &got[0];
    assert!(!a.error && !a.text.is_empty(), "{a:?}");
    assert_eq!(a.model, "SmolLM2-135M-Instruct.Q4_1");
    assert!(!a.citations.is_empty(), "{a:?}");
    assert!(
        a.citations.iter().all(|c| c.topic == demo::POSITION_TOPIC),
        "{a:?}"
    );
}
