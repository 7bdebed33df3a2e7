//! `POST /api/assistant/ask` against a small assistant member on the bus.

use std::{
    sync::Arc,
    thread,
    time::{Duration, Instant},
};

use twin_bus::{Bus, ReaderQos, WriterQos};
use twin_core::SimTime;
use twin_federation::proto::{
    AssistantAnswer, AssistantQuestion, Citation, ANSWER_TOPIC, ASK_TOPIC,
};

use crate::{http, within};

/// Answers every question with its text reversed, citing one sample, after
/// a partial answer (the first half, `done: false`); stops after `secs`.
fn fake_assistant(bus: &Bus, secs: u64) -> thread::JoinHandle<Vec<AssistantQuestion>> {
    let p = bus.participant("assistant");
    let asks = p
        .reader(
            &p.topic::<AssistantQuestion>(ASK_TOPIC).unwrap(),
            ReaderQos::default().reliable().keep_all(),
        )
        .unwrap();
    let answers = p
        .writer(
            &p.topic::<AssistantAnswer>(ANSWER_TOPIC).unwrap(),
            WriterQos::default().reliable(),
        )
        .unwrap();
    thread::spawn(move || {
        let _p = p;
        let mut seen = Vec::new();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(secs) {
            for q in asks.take().into_iter().filter_map(|s| s.value) {
                let reversed: String = q.text.chars().rev().collect();
                answers
                    .write(AssistantAnswer {
                        id: Arc::clone(&q.id),
                        text: reversed
                            .chars()
                            .take(reversed.chars().count() / 2)
                            .collect(),
                        citations: Vec::new(),
                        model: "fake".into(),
                        sim_time: SimTime::from_nanos(1_900_000_000),
                        error: false,
                        done: false,
                    })
                    .unwrap();
                thread::sleep(Duration::from_millis(150));
                answers
                    .write(AssistantAnswer {
                        id: Arc::clone(&q.id),
                        text: reversed,
                        citations: vec![Citation {
                            topic: "twin/demo/point/position".into(),
                            sim_time: SimTime::from_nanos(1_500_000_000),
                            excerpt: "point 3 at (10 m, 20 m)".into(),
                        }],
                        model: "fake".into(),
                        sim_time: SimTime::from_nanos(2_000_000_000),
                        error: false,
                        done: true,
                    })
                    .unwrap();
                seen.push(q);
            }
            thread::sleep(Duration::from_millis(10));
        }
        seen
    })
}

#[tokio::test]
async fn questions_reach_the_assistant_and_answers_come_back() {
    let bus = Bus::in_memory();
    let mut cfg = twin_dashboard::DashboardConfig::new("127.0.0.1:0".parse().unwrap());
    cfg.assistant_timeout = Duration::from_millis(800);
    let dash = twin_dashboard::serve_with(bus.clone(), cfg).unwrap();
    let addr = dash.local_addr();
    let ask = |body: &'static str| http(addr, "POST", "/api/assistant/ask", Some(body), &[]);

    // Nobody listens yet: a clear refusal, not a wait.
    let (status, body) = within!(5, ask(r#"{"question":"how many nodes?"}"#));
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("no_assistant"), "{body}");

    let member = fake_assistant(&bus, 3);
    let (status, body) = within!(5, ask(r#"{"question":"how many nodes?"}"#));
    assert_eq!(status, 200, "{body}");
    let a: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        a["text"], "?sedon ynam woh",
        "the final answer, not the partial one"
    );
    assert_eq!(a["done"], true);
    assert_eq!(a["model"], "fake");
    assert_eq!(a["error"], false);
    assert_eq!(a["citations"][0]["topic"], "twin/demo/point/position");
    assert_eq!(a["citations"][0]["excerpt"], "point 3 at (10 m, 20 m)");
    let first_id = a["id"].as_str().unwrap().to_owned();

    // Without waiting: the id comes back at once, the answer later.
    let (status, body) = within!(5, ask(r#"{"question":"status?","wait":false}"#));
    assert_eq!(status, 202, "{body}");
    let id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(id, first_id, "every question gets its own id");

    // Bad questions.
    for (body, needle) in [
        (r#"{"question":"   "}"#, "empty"),
        (r#"{"text":"x"}"#, "question"),
        ("not json", "body must be"),
    ] {
        let (status, reply) = within!(5, ask(body));
        assert_eq!(status, 422, "{body}: {reply}");
        assert!(
            reply.contains("bad_question") && reply.contains(needle),
            "{body}: {reply}"
        );
    }
    let long = format!(
        r#"{{"question":"{}"}}"#,
        "x".repeat(twin_dashboard::MAX_QUESTION_CHARS + 1)
    );
    let (status, reply) = within!(
        5,
        http(addr, "POST", "/api/assistant/ask", Some(&long), &[])
    );
    assert_eq!(status, 422, "{reply}");
    assert!(reply.contains("at most 4000"), "{reply}");

    let seen = member.join().unwrap();
    let texts: Vec<&str> = seen.iter().map(|q| q.text.as_str()).collect();
    assert_eq!(texts, ["how many nodes?", "status?"]);
    assert!(seen.iter().all(|q| q.asked_by == "dashboard"));

    // The member is gone but its reader may linger until dropped; a silent
    // assistant times out with 504.
    let p = bus.participant("mute");
    let _mute = p
        .reader(
            &p.topic::<AssistantQuestion>(ASK_TOPIC).unwrap(),
            ReaderQos::default().reliable(),
        )
        .unwrap();
    let (status, reply) = within!(5, ask(r#"{"question":"anyone?"}"#));
    assert_eq!(status, 504, "{reply}");
    assert!(
        reply.contains("assistant_timeout") && reply.contains("0.8 s"),
        "{reply}"
    );
}
