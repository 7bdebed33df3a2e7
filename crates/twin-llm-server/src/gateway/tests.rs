//! Gateway tests over real sockets with mock-engine instances.

use std::time::Duration;

use serde_json::Value;
use twin_llm::{MockConfig, MockEngine};

use super::*;
use crate::{bind_local, router, serve, AccessLog, ServerConfig};

/// Starts a mock instance named `id`; it stops when the sender is dropped.
async fn instance(
    id: &str,
    slots: u32,
    delay_ms: u64,
    max_queue: usize,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let mock = MockConfig {
        id: id.into(),
        slots,
        token_delay: Duration::from_millis(delay_ms),
        ..MockConfig::default()
    };
    let app = router(
        Arc::new(MockEngine::new(mock)),
        ServerConfig {
            max_queue,
            access_log: AccessLog::Off,
            ..ServerConfig::default()
        },
    );
    let listener = bind_local(0).await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, app, async {
        let _ = rx.await;
    }));
    (addr, tx)
}

async fn start_gateway(backends: Vec<String>) -> (Arc<Gateway>, String) {
    let g = Gateway::new(GatewayConfig {
        backends,
        health_interval: Duration::from_millis(100),
        ..GatewayConfig::default()
    });
    g.check_all().await;
    tokio::spawn(Arc::clone(&g).health_loop());
    let listener = bind_local(0).await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(serve(
        listener,
        gateway_router(Arc::clone(&g)),
        std::future::pending(),
    ));
    (g, addr)
}

/// POSTs JSON through `addr`; returns status and body.
async fn post(addr: &str, path: &str, body: &Value) -> (u16, Value) {
    let resp = send(
        addr,
        Method::POST,
        path,
        {
            let mut h = HeaderMap::new();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            h
        },
        Bytes::from(body.to_string()),
    )
    .await
    .expect("gateway reachable");
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn chat(opening: &str, turns: usize) -> Value {
    let mut messages = vec![json!({"role": "user", "content": opening})];
    for t in 1..turns {
        messages.push(json!({"role": "assistant", "content": "Hello, world!"}));
        messages.push(json!({"role": "user", "content": format!("and then {t}?")}));
    }
    json!({ "messages": messages, "max_tokens": 4 })
}

#[tokio::test]
async fn concurrent_requests_spread_by_load() {
    let (a, _ka) = instance("a", 1, 30, 8).await;
    let (b, _kb) = instance("b", 1, 30, 8).await;
    let (_, gw) = start_gateway(vec![a, b]).await;
    // Four distinct conversations at once over two one-slot instances: two each.
    let reqs = (0..4).map(|i| {
        let gw = gw.clone();
        async move { post(&gw, "/v1/chat/completions", &chat(&format!("topic {i}"), 1)).await }
    });
    let out = futures_util::future::join_all(reqs).await;
    let mut by = HashMap::new();
    for (status, body) in &out {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body["choices"][0]["message"]["content"], "Hello, world!");
        *by.entry(body["model"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    assert_eq!(by.get("a"), Some(&2), "{by:?}");
    assert_eq!(by.get("b"), Some(&2), "{by:?}");
}

#[tokio::test]
async fn a_conversation_stays_on_its_instance() {
    let (a, _ka) = instance("a", 2, 0, 8).await;
    let (b, _kb) = instance("b", 2, 0, 8).await;
    let (_, gw) = start_gateway(vec![a, b]).await;
    let mut homes = Vec::new();
    for conv in 0..6 {
        let opening = format!("conversation {conv}");
        let mut served = Vec::new();
        for turn in 1..=4 {
            let (s, body) = post(&gw, "/v1/chat/completions", &chat(&opening, turn)).await;
            assert_eq!(s, 200, "{body}");
            served.push(body["model"].as_str().unwrap().to_owned());
        }
        assert!(
            served.iter().all(|m| *m == served[0]),
            "conversation {conv}: {served:?}"
        );
        homes.push(served[0].clone());
    }
    // Without load, conversations still spread over both instances (round-robin ties).
    assert!(
        homes.iter().any(|h| h == "a") && homes.iter().any(|h| h == "b"),
        "{homes:?}"
    );
}

#[tokio::test]
async fn unreachable_instance_is_skipped_and_reported() {
    let (a, _ka) = instance("a", 2, 0, 8).await;
    // A port that was just free: nothing listens there.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let (g, gw) = start_gateway(vec![dead.clone(), a]).await;
    for i in 0..6 {
        let (s, body) = post(&gw, "/v1/completions", &json!({"prompt": format!("p{i}")})).await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(body["model"], "a");
    }
    let report = g.report();
    assert_eq!(report["healthy"], 1, "{report}");
    assert_eq!(report["backends"][0]["addr"], dead);
    assert_eq!(report["backends"][0]["healthy"], false);
}

#[tokio::test]
async fn a_full_instance_answering_429_is_retried_elsewhere() {
    // `a` has one slot and no queue and is kept busy; `b` is free.
    let (a, _ka) = instance("a", 1, 200, 0).await;
    let (b, _kb) = instance("b", 1, 0, 8).await;
    let busy = tokio::spawn({
        let a = a.clone();
        async move { post(&a, "/v1/completions", &json!({"prompt": "hold"})).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Only `a` in rotation at first, so the gateway sends there and gets 429.
    let g = Gateway::new(GatewayConfig {
        backends: vec![a.clone(), b.clone()],
        ..GatewayConfig::default()
    });
    g.backends[1].healthy.store(false, Ordering::SeqCst);
    let listener = bind_local(0).await.unwrap();
    let gw = listener.local_addr().unwrap().to_string();
    tokio::spawn(serve(
        listener,
        gateway_router(Arc::clone(&g)),
        std::future::pending(),
    ));
    let (s, body) = post(&gw, "/v1/completions", &json!({"prompt": "x"})).await;
    assert_eq!(s, 429, "only a full instance: its 429 is passed on; {body}");
    g.backends[1].healthy.store(true, Ordering::SeqCst);
    g.backends[0].reported.store(0, Ordering::SeqCst);
    // Affinity pins the prompt to `a` (the earlier choice); its 429 makes the gateway retry `b`.
    let (s, body) = post(&gw, "/v1/completions", &json!({"prompt": "x"})).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["model"], "b");
    assert_eq!(busy.await.unwrap().0, 200);
}

#[tokio::test]
async fn no_instance_gives_503_with_an_openai_error_body() {
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let (_, gw) = start_gateway(vec![dead]).await;
    let (s, body) = post(&gw, "/v1/chat/completions", &chat("hi", 1)).await;
    assert_eq!(s, 503);
    assert_eq!(body["error"]["code"], "no_backend", "{body}");
}

#[test]
fn conversation_keys_follow_the_opening() {
    let k = |v: Value| conversation_key(v.to_string().as_bytes());
    assert_eq!(k(chat("x", 1)), k(chat("x", 3)), "later turns keep the key");
    assert_ne!(k(chat("x", 1)), k(chat("y", 1)));
    let long = "a".repeat(300);
    assert_eq!(
        k(json!({"prompt": format!("{long} more")})),
        k(json!({"prompt": long}))
    );
    assert_eq!(k(json!({"no": "prompt"})), None);
    assert_eq!(conversation_key(b"not json"), None);
}
