//! Real-socket tests: the server on 127.0.0.1:0 with the mock engine, and a minimal HTTP/1.0
//! client (close-delimited bodies, so streams read naturally to the end).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use twin_llm::{MockConfig, MockEngine};
use twin_llm_server::{bind_local, router, serve, AccessLog, ServerConfig};

#[cfg(feature = "llama")]
mod real;
#[cfg(feature = "llama")]
mod real_models;

/// Every request's wall-clock bound (grammar-constrained sampling with the real model takes
/// over 1 s per token on a busy 2-core machine).
const LIMIT: Duration = Duration::from_secs(120);

/// Starts a server; it stops when the returned sender is dropped.
async fn start(
    mock: MockConfig,
    config: ServerConfig,
) -> (String, MockEngine, tokio::sync::oneshot::Sender<()>) {
    let engine = MockEngine::new(mock);
    let listener = bind_local(0).await.unwrap();
    let addr = listener.local_addr().unwrap();
    assert!(addr.ip().is_loopback());
    let app = router(
        Arc::new(engine.clone()),
        ServerConfig {
            access_log: AccessLog::Off,
            ..config
        },
    );
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, app, async {
        let _ = stop_rx.await;
    }));
    (addr.to_string(), engine, stop_tx)
}

async fn open(addr: &str, method: &str, path: &str, body: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    s
}

/// Sends a request and reads the whole response: (status, head, body).
async fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String, String) {
    let mut s = open(addr, method, path, body).await;
    let mut buf = Vec::new();
    tokio::time::timeout(LIMIT, s.read_to_end(&mut buf))
        .await
        .expect("response timed out")
        .unwrap();
    let text = String::from_utf8(buf).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_owned())
}

const STREAM: &str = r#"{"messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}"#;

#[tokio::test]
async fn sse_stream_over_a_socket() {
    let (addr, _e, _stop) = start(MockConfig::default(), ServerConfig::default()).await;
    let (status, head, body) = http(&addr, "POST", "/v1/chat/completions", STREAM).await;
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    assert!(body.trim_end().ends_with("data: [DONE]"), "{body}");
    assert!(body.contains("\"usage\""));
    let content: String = body
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(content, "Hello, world!");
    let (status, _, body) = http(&addr, "GET", "/v1/models", "").await;
    assert_eq!(status, 200);
    assert!(body.contains("\"mock\""));
}

#[tokio::test]
async fn ollama_ndjson_over_a_socket() {
    let (addr, _e, _stop) = start(MockConfig::default(), ServerConfig::default()).await;
    let body = r#"{"model":"mock","prompt":"hi"}"#;
    let (status, head, body) = http(&addr, "POST", "/api/generate", body).await;
    assert_eq!(status, 200);
    assert!(head.contains("application/x-ndjson"));
    let lines: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.last().unwrap()["done"], true);
    let text: String = lines
        .iter()
        .filter_map(|l| l["response"].as_str())
        .collect();
    assert_eq!(text, "Hello, world!");
}

#[tokio::test]
async fn disconnecting_client_frees_its_slot() {
    let mock = MockConfig {
        slots: 1,
        token_delay: Duration::from_millis(20),
        ..MockConfig::default().with_script(&["word "; 500])
    };
    let (addr, engine, _stop) = start(mock, ServerConfig::default()).await;
    let mut s = open(&addr, "POST", "/v1/chat/completions", STREAM).await;
    let mut buf = [0u8; 512];
    let n = tokio::time::timeout(LIMIT, s.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(n > 0);
    drop(s);
    let deadline = Instant::now() + Duration::from_secs(5);
    while engine.cancelled() == 0 {
        assert!(Instant::now() < deadline, "slot not freed after disconnect");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let body = r#"{"messages":[{"role":"user","content":"x"}],"max_tokens":2}"#;
    let (status, _, _) = http(&addr, "POST", "/v1/chat/completions", body).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn full_server_answers_429_quickly_and_recovers() {
    let mock = MockConfig {
        slots: 1,
        token_delay: Duration::from_millis(10),
        ..MockConfig::default().with_script(&["w "; 100])
    };
    let config = ServerConfig {
        max_queue: 1,
        ..ServerConfig::default()
    };
    let (addr, _e, _stop) = start(mock, config).await;
    // One generating, one queued.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = open(&addr, "POST", "/v1/chat/completions", STREAM).await;
        let mut b = [0u8; 64];
        let _ = tokio::time::timeout(LIMIT, s.read(&mut b)).await.unwrap();
        held.push(s);
    }
    let t = Instant::now();
    let (status, head, body) = http(&addr, "POST", "/v1/chat/completions", STREAM).await;
    assert_eq!(status, 429, "{body}");
    assert!(head.contains("retry-after: 1"), "{head}");
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "429 took {:?}",
        t.elapsed()
    );
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, _, _) = http(&addr, "GET", "/health", "").await;
        assert_eq!(status, 200);
        let body = r#"{"messages":[{"role":"user","content":"x"}],"max_tokens":1}"#;
        if http(&addr, "POST", "/v1/chat/completions", body).await.0 == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "server did not recover");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
