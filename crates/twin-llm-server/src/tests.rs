//! Router tests without sockets: `Router::oneshot` against the scripted mock engine.

use std::time::Duration;

use axum::{
    body::Body,
    http::{HeaderMap, Request, StatusCode},
    Router,
};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use twin_llm::{MockConfig, MockEngine};

use super::*;

/// Every test's wall-clock bound.
const LIMIT: Duration = Duration::from_secs(20);

struct Fixture {
    app: Router,
    engine: MockEngine,
    log: Arc<Mutex<Vec<String>>>,
}

fn fixture_with(mock: MockConfig, config: ServerConfig) -> Fixture {
    let engine = MockEngine::new(mock);
    let log = Arc::new(Mutex::new(Vec::new()));
    let config = ServerConfig {
        access_log: AccessLog::Memory(Arc::clone(&log)),
        ..config
    };
    Fixture {
        app: router(Arc::new(engine.clone()), config),
        engine,
        log,
    }
}

fn fixture(mock: MockConfig) -> Fixture {
    fixture_with(mock, ServerConfig::default())
}

fn request(method: &str, path: &str, body: Option<&str>) -> Request<Body> {
    let b = Request::builder().method(method).uri(path);
    match body {
        Some(s) => b
            .header("content-type", "application/json")
            .body(Body::from(s.to_owned())),
        None => b.body(Body::empty()),
    }
    .unwrap()
}

async fn send(
    app: &Router,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> axum::response::Response {
    tokio::time::timeout(LIMIT, app.clone().oneshot(request(method, path, body)))
        .await
        .expect("request timed out")
        .unwrap()
}

async fn call(
    app: &Router,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (StatusCode, HeaderMap, String) {
    let resp = send(app, method, path, body).await;
    let (parts, body) = resp.into_parts();
    let bytes = tokio::time::timeout(LIMIT, body.collect())
        .await
        .expect("body timed out")
        .unwrap();
    (
        parts.status,
        parts.headers,
        String::from_utf8(bytes.to_bytes().to_vec()).unwrap(),
    )
}

async fn json_call(
    app: &Router,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (StatusCode, Value) {
    let (s, _, text) = call(app, method, path, body).await;
    (
        s,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")),
    )
}

/// `POST path` with a JSON `body`.
async fn post(app: &Router, path: &str, body: &str) -> (StatusCode, Value) {
    json_call(app, "POST", path, Some(body)).await
}

/// The JSON payloads of an SSE body, with `[DONE]` as a string.
fn sse_events(text: &str) -> Vec<Value> {
    text.split("\n\n")
        .filter_map(|ev| ev.lines().find_map(|l| l.strip_prefix("data: ")))
        .map(|d| {
            if d == "[DONE]" {
                json!("[DONE]")
            } else {
                serde_json::from_str(d).unwrap()
            }
        })
        .collect()
}

const CHAT: &str = r#"{"model":"mock","messages":[{"role":"user","content":"say hi"}]}"#;

#[tokio::test]
async fn chat_completion_has_openai_shape_and_usage() {
    let f = fixture(MockConfig::default());
    let (s, v) = post(&f.app, "/v1/chat/completions", CHAT).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["choices"][0]["message"]["content"], "Hello, world!");
    assert_eq!(v["choices"][0]["message"]["role"], "assistant");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert!(v["choices"][0]["message"]
        .get("reasoning_content")
        .is_none());
    // ChatML prompt "<|im_start|>user\nsay hi<|im_end|>\n<|im_start|>assistant\n" = 4 words.
    assert_eq!(v["usage"]["prompt_tokens"], 4);
    assert_eq!(v["usage"]["completion_tokens"], 4);
    assert_eq!(v["usage"]["total_tokens"], 8);
    assert!(v["id"].as_str().unwrap().starts_with("chatcmpl-"));
    // llama.cpp's `timings` shape: every generated token counted, times in milliseconds.
    assert_eq!(v["timings"]["prompt_n"], 4);
    assert_eq!(v["timings"]["predicted_n"], 4);
    assert!(v["timings"]["predicted_ms"].as_f64().unwrap() >= 0.0);
}

#[tokio::test]
async fn chat_stream_sends_role_deltas_finish_usage_and_done() {
    let f = fixture(MockConfig::default());
    let body = r#"{"messages":[{"role":"user","content":"x"}],"stream":true,
                  "stream_options":{"include_usage":true},"max_tokens":3}"#;
    let (s, h, text) = call(&f.app, "POST", "/v1/chat/completions", Some(body)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["content-type"], "text/event-stream");
    let ev = sse_events(&text);
    assert_eq!(ev[0]["choices"][0]["delta"]["role"], "assistant");
    let content: String = ev
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(content, "Hello, world");
    let n = ev.len();
    assert_eq!(ev[n - 1], json!("[DONE]"));
    assert_eq!(ev[n - 2]["choices"], json!([]));
    assert_eq!(ev[n - 2]["usage"]["completion_tokens"], 3);
    assert_eq!(ev[n - 2]["timings"]["predicted_n"], 3);
    // Streams carry the handler-side time to first token beside the engine's split of it.
    let t = &ev[n - 2]["timings"];
    assert!(t["server_ttft_ms"].as_f64().unwrap() >= 0.0, "{t}");
    for part in ["step_wait_ms", "prefill_decode_ms", "prefill_skipped_ms"] {
        assert!(t[part].as_f64().is_some(), "{part} missing in {t}");
    }
    assert_eq!(ev[n - 3]["choices"][0]["finish_reason"], "length");
    assert!(ev
        .iter()
        .all(|e| e == "[DONE]" || e["object"] == "chat.completion.chunk"));
}

#[tokio::test]
async fn stream_without_include_usage_has_no_usage_chunk() {
    let f = fixture(MockConfig::default());
    let body = r#"{"messages":[{"role":"user","content":"x"}],"stream":true}"#;
    let (_, _, text) = call(&f.app, "POST", "/v1/chat/completions", Some(body)).await;
    let ev = sse_events(&text);
    assert!(ev.iter().all(|e| e.get("usage").is_none()));
    assert_eq!(ev[ev.len() - 2]["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn completions_stream_and_stop_sequences() {
    let f = fixture(MockConfig::default());
    let body = r#"{"model":"mock","prompt":"Once upon","stop":[" wor"]}"#;
    let (s, v) = post(&f.app, "/v1/completions", body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["object"], "text_completion");
    assert_eq!(v["choices"][0]["text"], "Hello,");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["usage"]["prompt_tokens"], 2);

    let body = r#"{"prompt":"Once","stream":true,"stream_options":{"include_usage":true}}"#;
    let (_, _, text) = call(&f.app, "POST", "/v1/completions", Some(body)).await;
    let ev = sse_events(&text);
    let t: String = ev
        .iter()
        .filter_map(|e| e["choices"][0]["text"].as_str())
        .collect();
    assert_eq!(t, "Hello, world!");
    assert_eq!(ev[ev.len() - 2]["usage"]["total_tokens"], 5);
}

#[tokio::test]
async fn embeddings_have_openai_shape_and_check_input() {
    let f = fixture(MockConfig::default());
    let body = r#"{"model": "mock", "input": ["red apple pie", "apple pie red", "tax law"]}"#;
    let (s, v) = post(&f.app, "/v1/embeddings", body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["object"], "list");
    assert_eq!(v["model"], "mock");
    assert_eq!(v["usage"]["prompt_tokens"], 8);
    let vecs: Vec<Vec<f64>> = (0..3)
        .map(|i| {
            assert_eq!(v["data"][i]["index"], i);
            assert_eq!(v["data"][i]["object"], "embedding");
            serde_json::from_value(v["data"][i]["embedding"].clone()).unwrap()
        })
        .collect();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    assert!((dot(&vecs[0], &vecs[0]) - 1.0).abs() < 1e-6, "unit length");
    assert!(
        (dot(&vecs[0], &vecs[1]) - 1.0).abs() < 1e-6,
        "same words, same vector"
    );
    let (s, v) = post(&f.app, "/v1/embeddings", r#"{"input": "one"}"#).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
    // base64: the same vector as little-endian f32 bytes (8 dimensions × 4 bytes).
    let body = r#"{"input": "red apple pie", "encoding_format": "base64"}"#;
    let (s, v) = post(&f.app, "/v1/embeddings", body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(v["data"][0]["embedding"].as_str().unwrap())
        .unwrap();
    let floats: Vec<f64> = bytes
        .chunks(4)
        .map(|c| f64::from(f32::from_le_bytes(c.try_into().unwrap())))
        .collect();
    assert_eq!(floats.len(), 8);
    assert!(floats
        .iter()
        .zip(&vecs[0])
        .all(|(a, b)| (a - b).abs() < 1e-6));
    for (body, param) in [
        (r#"{"input": []}"#, "input"),
        (
            r#"{"input": "x", "encoding_format": "hex"}"#,
            "encoding_format",
        ),
        (r#"{"input": 5}"#, "input"),
    ] {
        let (s, v) = post(&f.app, "/v1/embeddings", body).await;
        assert!(s.is_client_error(), "{body}: {s} {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(param) || v["error"]["param"] == param,
            "{body}: {v}"
        );
    }
    let (s, _) = post(
        &f.app,
        "/v1/embeddings",
        r#"{"model": "nope", "input": "x"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn model_lists_have_openai_and_ollama_shapes() {
    let f = fixture(MockConfig::default());
    let (_, v) = json_call(&f.app, "GET", "/v1/models", None).await;
    assert_eq!(v["object"], "list");
    assert_eq!(v["data"][0]["id"], "mock");
    assert_eq!(v["data"][0]["object"], "model");
    assert!(v["data"][0]["owned_by"].is_string() && v["data"][0]["created"].is_u64());
    let (_, v) = json_call(&f.app, "GET", "/api/tags", None).await;
    assert_eq!(v["models"][0]["name"], "mock");
    assert_eq!(v["models"][0]["details"]["format"], "gguf");
    let (_, v) = json_call(&f.app, "GET", "/api/ps", None).await;
    assert_eq!(v["models"][0]["model"], "mock");
    let (s, v) = post(&f.app, "/api/show", r#"{"model":"mock"}"#).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["template"].as_str().unwrap().contains("im_start"));
    assert_eq!(v["model_info"]["general.architecture"], "mock");
    let (s, v) = post(&f.app, "/api/show", r#"{"model":"other"}"#).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (_, v) = json_call(&f.app, "GET", "/api/version", None).await;
    assert!(v["version"].is_string());
}

#[tokio::test]
async fn ollama_chat_streams_ndjson_and_ends_with_counts() {
    let f = fixture(MockConfig::default());
    let body = r#"{"model":"mock:latest","messages":[{"role":"user","content":"hi"}],
                  "options":{"num_predict":2,"temperature":0}}"#;
    let (s, h, text) = call(&f.app, "POST", "/api/chat", Some(body)).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    assert_eq!(h["content-type"], "application/x-ndjson");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let content: String = lines
        .iter()
        .filter_map(|l| l["message"]["content"].as_str())
        .collect();
    assert_eq!(content, "Hello,");
    let last = lines.last().unwrap();
    assert_eq!(last["done"], true);
    assert_eq!(last["done_reason"], "length");
    assert_eq!(last["eval_count"], 2);
    assert_eq!(last["prompt_eval_count"], 3);
    assert!(lines[..lines.len() - 1].iter().all(|l| l["done"] == false));
    assert!(last["created_at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn ollama_generate_without_streaming() {
    let f = fixture(MockConfig::default());
    let body = r#"{"model":"mock","prompt":"Why?","stream":false,"system":"be nice"}"#;
    let (s, v) = post(&f.app, "/api/generate", body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["response"], "Hello, world!");
    assert_eq!(v["done"], true);
    assert_eq!(v["done_reason"], "stop");
    let body = r#"{"model":"mock","prompt":"raw text","raw":true,"stream":false}"#;
    let (_, v) = post(&f.app, "/api/generate", body).await;
    assert_eq!(v["prompt_eval_count"], 2);
}

#[tokio::test]
async fn plain_generate_returns_response() {
    let f = fixture(MockConfig::default());
    let (s, v) = post(&f.app, "/generate", r#"{"input_text":"hi"}"#).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v, json!({ "response": "Hello, world!" }));
    let (s, v) = post(&f.app, "/generate", r#"{"text":"hi"}"#).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `text`"),
        "{v}"
    );
}

/// An R1-style template that pre-fills `<think>`, and a script whose `</think>` is split.
fn r1_mock() -> MockConfig {
    MockConfig {
        chat_template: Some(
            "{% for m in messages %}<｜{{ m.role }}｜>{{ m.content }}{% endfor %}\
             <｜Assistant｜><think>\n"
                .into(),
        ),
        ..MockConfig::default().with_script(&["Six", " times seven.</th", "ink", ">\n\n", "42"])
    }
}

#[tokio::test]
async fn r1_reasoning_is_split_without_streaming() {
    let f = fixture(r1_mock());
    let (_, v) = post(&f.app, "/v1/chat/completions", CHAT).await;
    let m = &v["choices"][0]["message"];
    assert_eq!(m["reasoning_content"], "Six times seven.");
    assert_eq!(m["content"], "42");
    let body = r#"{"messages":[{"role":"user","content":"q"}],"reasoning_format":"none"}"#;
    let (_, v) = post(&f.app, "/v1/chat/completions", body).await;
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "Six times seven.</think>\n\n42"
    );
    let body = r#"{"messages":[{"role":"user","content":"q"}],"stream":false}"#;
    let (_, v) = post(&f.app, "/api/chat", body).await;
    assert_eq!(v["message"]["thinking"], "Six times seven.");
    assert_eq!(v["message"]["content"], "42");
}

#[tokio::test]
async fn r1_reasoning_streams_before_content_and_tags_never_leak() {
    let f = fixture(r1_mock());
    let body = r#"{"messages":[{"role":"user","content":"q"}],"stream":true}"#;
    let (_, _, text) = call(&f.app, "POST", "/v1/chat/completions", Some(body)).await;
    assert!(!text.contains("think>"), "{text}");
    let ev = sse_events(&text);
    let deltas: Vec<&Value> = ev.iter().map(|e| &e["choices"][0]["delta"]).collect();
    let reasoning: String = deltas
        .iter()
        .filter_map(|d| d["reasoning_content"].as_str())
        .collect();
    let content: String = deltas
        .iter()
        .filter_map(|d| d["content"].as_str())
        .collect();
    assert_eq!(
        (reasoning.as_str(), content.as_str()),
        ("Six times seven.", "42")
    );
    let first_content = deltas.iter().position(|d| d["content"] == "42").unwrap();
    let last_reasoning = deltas
        .iter()
        .rposition(|d| d["reasoning_content"].is_string())
        .unwrap();
    assert!(last_reasoning < first_content);
}

#[tokio::test]
async fn earlier_reasoning_is_dropped_from_history() {
    let f = fixture(MockConfig {
        slot_context: 10_000,
        ..MockConfig::default()
    });
    let long_chain = "word ".repeat(500);
    let body = json!({ "messages": [
        { "role": "user", "content": "q1" },
        { "role": "assistant", "content": format!("<think>{long_chain}</think>A1") },
        { "role": "user", "content": "q2" },
    ]});
    let (_, v) = post(&f.app, "/v1/chat/completions", &body.to_string()).await;
    // Without stripping the prompt would have over 500 words.
    assert!(v["usage"]["prompt_tokens"].as_u64().unwrap() < 10, "{v}");
}

#[tokio::test]
async fn bad_requests_get_clear_errors_and_the_server_keeps_serving() {
    let f = fixture(MockConfig {
        slot_context: 8,
        ..MockConfig::default()
    });
    let cases: &[(&str, &str, StatusCode, &str, Option<&str>)] = &[
        (
            "/v1/chat/completions",
            "{\"messages\": [",
            StatusCode::BAD_REQUEST,
            "malformed JSON",
            None,
        ),
        (
            "/v1/chat/completions",
            "{}",
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing field `messages`",
            Some("messages"),
        ),
        (
            "/v1/chat/completions",
            r#"{"messages":[{"role":"user","content":"x"}],"temperature":"hot"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid type",
            Some("temperature"),
        ),
        (
            "/v1/chat/completions",
            r#"{"messages":[{"role":"user","content":"x"}],"max_tokens":-5}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "at least 1",
            Some("max_tokens"),
        ),
        (
            "/v1/chat/completions",
            r#"{"messages":[{"role":"user","content":"x"}],"top_p":3}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "(0, 1]",
            Some("top_p"),
        ),
        (
            "/v1/chat/completions",
            r#"{"messages":[{"role":"wizard","content":"x"}]}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown role",
            Some("messages[0].role"),
        ),
        (
            "/v1/chat/completions",
            r#"{"messages":[]}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "at least one",
            Some("messages"),
        ),
        (
            "/v1/chat/completions",
            r#"{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}"#,
            StatusCode::NOT_FOUND,
            "not found",
            Some("model"),
        ),
        (
            "/v1/completions",
            r#"{"prompt":"a b c d e f g h i j"}"#,
            StatusCode::BAD_REQUEST,
            "context",
            Some("messages"),
        ),
        (
            "/api/chat",
            r#"{"messages":[{"role":"user","content":"x"}],"options":{"num_predict":-7}}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "at least 1",
            Some("options.num_predict"),
        ),
        (
            "/api/chat",
            r#"{"messages":[{"role":"user","content":"x"}],"options":{"top_p":0}}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "(0, 1]",
            Some("options.top_p"),
        ),
    ];
    for (path, body, status, needle, param) in cases {
        let (s, v) = json_call(&f.app, "POST", path, Some(body)).await;
        assert_eq!(s, *status, "{path} {body}: {v}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains(needle), "{body}: {msg}");
        assert!(v["error"]["type"].is_string());
        if let Some(p) = param {
            assert_eq!(v["error"]["param"], *p, "{body}: {v}");
        }
    }
    let (s, v) = json_call(&f.app, "GET", "/nope", None).await;
    assert_eq!(
        (s, v["error"]["type"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found_error"))
    );
    let (s, _) = post(&f.app, "/v1/chat/completions", CHAT).await;
    assert_eq!(s, StatusCode::OK, "still serving after errors");
    let (_, _, metrics) = call(&f.app, "GET", "/metrics", None).await;
    assert!(
        metrics.contains("twin_llm_errors_total{type=\"invalid_request_error\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn full_queue_gets_429_with_retry_after() {
    let mock = MockConfig {
        slots: 1,
        token_delay: Duration::from_millis(50),
        ..MockConfig::default()
    };
    let f = fixture_with(
        mock,
        ServerConfig {
            max_queue: 1,
            ..ServerConfig::default()
        },
    );
    let body = r#"{"messages":[{"role":"user","content":"x"}],"stream":true}"#;
    // Two streams hold the one slot and the one queue place while their bodies are unread.
    let a = send(&f.app, "POST", "/v1/chat/completions", Some(body)).await;
    let b = send(&f.app, "POST", "/v1/chat/completions", Some(body)).await;
    assert_eq!((a.status(), b.status()), (StatusCode::OK, StatusCode::OK));
    let started = std::time::Instant::now();
    let (s, h, text) = call(&f.app, "POST", "/v1/chat/completions", Some(body)).await;
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "429 must be immediate"
    );
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{text}");
    assert_eq!(h["retry-after"], "1");
    assert!(text.contains("server_busy"));
    drop((a, b));
    let (_, _, metrics) = call(&f.app, "GET", "/metrics", None).await;
    assert!(metrics.contains("twin_llm_rejected_total 1"), "{metrics}");
}

#[tokio::test]
async fn client_disconnect_cancels_the_generation() {
    let mock = MockConfig {
        slots: 1,
        token_delay: Duration::from_millis(20),
        ..MockConfig::default().with_script(&["tok "; 200])
    };
    let f = fixture(mock);
    let body = r#"{"messages":[{"role":"user","content":"x"}],"stream":true}"#;
    let resp = send(&f.app, "POST", "/v1/chat/completions", Some(body)).await;
    let mut body = resp.into_body();
    // Read two frames, then hang up.
    for _ in 0..2 {
        tokio::time::timeout(LIMIT, body.frame())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
    drop(body);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while f.engine.cancelled() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "generation was not cancelled"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The slot is free again: a new request completes.
    let (s, _) = post(
        &f.app,
        "/v1/chat/completions",
        r#"{"messages":[{"role":"user","content":"x"}],"max_tokens":2}"#,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let log = f.log.lock().unwrap().clone();
    assert!(
        log.iter().any(|l| l.contains("\"status\":\"cancelled\"")),
        "{log:?}"
    );
}

#[tokio::test]
async fn thirty_two_concurrent_streams_over_four_slots_all_complete() {
    let mock = MockConfig {
        slots: 4,
        token_delay: Duration::from_millis(2),
        ..MockConfig::default()
    };
    let f = fixture(mock);
    let body = r#"{"messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}}"#;
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let app = f.app.clone();
            tokio::spawn(
                async move { call(&app, "POST", "/v1/chat/completions", Some(body)).await },
            )
        })
        .collect();
    for t in tasks {
        let (s, _, text) = t.await.unwrap();
        assert_eq!(s, StatusCode::OK);
        let ev = sse_events(&text);
        let content: String = ev
            .iter()
            .filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(content, "Hello, world!");
        assert_eq!(ev[ev.len() - 2]["usage"]["completion_tokens"], 4);
    }
    let (_, _, metrics) = call(&f.app, "GET", "/metrics", None).await;
    assert!(
        metrics.contains("twin_llm_completion_tokens_total 128"),
        "{metrics}"
    );
    assert!(metrics
        .contains("twin_llm_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"} 32"));
    assert!(metrics.contains("twin_llm_time_to_first_token_seconds_count 32"));
}

#[tokio::test]
async fn one_json_log_line_per_request() {
    let f = fixture(MockConfig::default());
    post(&f.app, "/v1/chat/completions", CHAT).await;
    post(&f.app, "/v1/chat/completions", "{").await;
    let log = f.log.lock().unwrap().clone();
    assert_eq!(log.len(), 2, "{log:?}");
    let ok: Value = serde_json::from_str(&log[0]).unwrap();
    assert_eq!(ok["status"], "ok");
    assert_eq!(ok["completion_tokens"], 4);
    assert!(ok["ttft_ms"].is_f64() && ok["duration_ms"].is_f64());
    let bad: Value = serde_json::from_str(&log[1]).unwrap();
    assert_eq!(bad["status"], 400);
    assert_eq!(bad["error_type"], "invalid_request_error");
}

#[tokio::test]
async fn api_keys_are_enforced_when_configured() {
    let config = ServerConfig {
        api_keys: vec!["sekrit".into()],
        ..ServerConfig::default()
    };
    let f = fixture_with(MockConfig::default(), config);
    let (s, v) = post(&f.app, "/v1/chat/completions", CHAT).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["error"]["code"], "invalid_api_key");
    let req = Request::post("/v1/models")
        .method("GET")
        .header("authorization", "Bearer sekrit")
        .body(Body::empty())
        .unwrap();
    let resp = f.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (s, _) = json_call(&f.app, "GET", "/health", None).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn cors_allows_only_listed_origins() {
    let config = ServerConfig {
        cors_origins: vec!["https://ok.example".into()],
        api_keys: vec!["k".into()],
        ..ServerConfig::default()
    };
    let f = fixture_with(MockConfig::default(), config);
    let preflight = |origin: &'static str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/v1/chat/completions")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .body(Body::empty())
            .unwrap()
    };
    let resp = f
        .app
        .clone()
        .oneshot(preflight("https://ok.example"))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "https://ok.example"
    );
    assert!(resp.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("authorization"));
    let resp = f
        .app
        .clone()
        .oneshot(preflight("https://evil.example"))
        .await
        .unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    let req = Request::builder()
        .uri("/v1/models")
        .header("origin", "https://ok.example")
        .header("authorization", "Bearer k")
        .body(Body::empty())
        .unwrap();
    let resp = f.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "https://ok.example"
    );
}

#[tokio::test]
async fn health_and_metrics_report_load() {
    let f = fixture(MockConfig::default());
    let (s, v) = json_call(&f.app, "GET", "/health", None).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("ok")));
    assert_eq!(v["slots"], 2);
    post(&f.app, "/v1/chat/completions", CHAT).await;
    let (_, h, m) = call(&f.app, "GET", "/metrics", None).await;
    assert!(h["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    for name in [
        "twin_llm_queue_depth 0",
        "twin_llm_slots 2",
        "twin_llm_prompt_tokens_total 4",
        "twin_llm_completion_tokens_total 4",
        "twin_llm_decode_tokens_per_second",
        "twin_llm_prompt_tokens_per_second",
        "twin_llm_time_to_first_token_seconds_bucket{le=\"+Inf\"} 1",
        "twin_llm_first_token_seconds_total{part=\"step_wait\"}",
        "twin_llm_first_token_seconds_total{part=\"prefill_decode\"}",
    ] {
        assert!(m.contains(name), "{name} missing in\n{m}");
    }
}

#[path = "tests_tools.rs"]
mod tools;

#[path = "tests_models.rs"]
mod models;
