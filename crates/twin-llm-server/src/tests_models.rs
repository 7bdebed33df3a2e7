//! Several models behind one server (a registry of mock engines): listing, lazy loading,
//! `keep_alive`, `/api/ps`, and the memory-budget errors.

use std::sync::atomic::{AtomicU32, Ordering};

use twin_llm::{KeepAlive, LoadError, ModelEntry, Registry, RegistryConfig};

use super::*;

fn entry(id: &str, arch: &str, memory_bytes: u64) -> ModelEntry {
    ModelEntry {
        id: id.into(),
        path: format!("{id}.gguf").into(),
        size_bytes: memory_bytes / 2,
        architecture: arch.into(),
        quantization: "Q4_1".into(),
        parameter_count: 134_515_008,
        context_length: 2048,
        modified: std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        memory_bytes,
        chat_template: None,
    }
}

/// A server over models `alpha` (llama, 100 B) and `beta` (qwen2, 100 B) whose mock engines
/// answer with their own name; returns the app, the registry and the load counter.
fn models_app(budget: Option<u64>) -> (Router, Registry, Arc<AtomicU32>) {
    let loads = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&loads);
    let loader: twin_llm::registry::Loader = Box::new(move |e| {
        counter.fetch_add(1, Ordering::SeqCst);
        if e.id == "gamma" {
            return Err(LoadError::NoBackend);
        }
        let cfg = MockConfig::default().with_script(&[format!("I am {}", e.id)]);
        Ok(Arc::new(MockEngine::new(MockConfig {
            id: e.id.clone(),
            ..cfg
        })))
    });
    let entries = vec![
        entry("beta", "qwen2", 100),
        entry("alpha", "llama", 100),
        entry("gamma", "deepseek2", 10),
    ];
    let config = RegistryConfig {
        budget_bytes: budget,
        default_keep_alive: KeepAlive::default(),
    };
    let registry = Registry::new(entries, loader, config);
    let state = AppState::with_models(
        registry.clone(),
        ServerConfig {
            access_log: AccessLog::Off,
            ..ServerConfig::default()
        },
    );
    (router_with_state(state), registry, loads)
}

fn resident(r: &Registry) -> Vec<String> {
    r.resident().into_iter().map(|m| m.id).collect()
}

#[tokio::test]
async fn every_model_is_listed_before_any_is_loaded() {
    let (app, registry, loads) = models_app(None);
    let (s, v) = json_call(&app, "GET", "/v1/models", None).await;
    assert_eq!(s, StatusCode::OK);
    let ids: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["alpha", "beta", "gamma"]);
    assert_eq!(v["data"][1]["meta"]["architecture"], "qwen2");
    let (_, v) = json_call(&app, "GET", "/api/tags", None).await;
    let beta = &v["models"][1];
    assert_eq!(beta["name"], "beta");
    assert_eq!(beta["size"], 50);
    assert_eq!(beta["details"]["family"], "qwen2");
    assert_eq!(beta["details"]["quantization_level"], "Q4_1");
    assert_eq!(beta["details"]["parameter_size"], "135M");
    assert_eq!(beta["modified_at"], "2023-11-14T22:13:20Z");
    let (_, v) = json_call(&app, "GET", "/api/ps", None).await;
    assert_eq!(v["models"], json!([]));
    assert_eq!(loads.load(Ordering::SeqCst), 0);
    assert!(resident(&registry).is_empty());
}

#[tokio::test]
async fn requests_load_their_model_and_switch_between_models() {
    let (app, registry, loads) = models_app(None);
    let ask =
        |m: &str| format!(r#"{{"model":"{m}","messages":[{{"role":"user","content":"who?"}}]}}"#);
    let (s, v) = post(&app, "/v1/chat/completions", &ask("beta")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["model"], "beta");
    assert_eq!(v["choices"][0]["message"]["content"], "I am beta");
    assert_eq!(resident(&registry), ["beta"]);
    let (_, v) = post(&app, "/v1/chat/completions", &ask("alpha")).await;
    assert_eq!(v["choices"][0]["message"]["content"], "I am alpha");
    let (_, v) = post(&app, "/v1/chat/completions", &ask("beta:latest")).await;
    assert_eq!(v["choices"][0]["message"]["content"], "I am beta");
    assert_eq!(
        loads.load(Ordering::SeqCst),
        2,
        "a resident model was reloaded"
    );
    let (_, v) = json_call(&app, "GET", "/api/ps", None).await;
    let names: Vec<&str> = v["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpha", "beta"]);
    assert_eq!(v["models"][0]["size"], 100);
    let (s, v) = post(&app, "/v1/chat/completions", &ask("delta")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(
        v["error"]["message"],
        "model `delta` not found; this server serves `alpha`, `beta`, `gamma`"
    );
}

#[tokio::test]
async fn keep_alive_zero_unloads_after_the_request() {
    let (app, registry, _) = models_app(None);
    let body = r#"{"model":"alpha","prompt":"hi","stream":false,"keep_alive":0}"#;
    let (s, v) = post(&app, "/api/generate", body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["response"], "I am alpha");
    assert!(resident(&registry).is_empty(), "{:?}", resident(&registry));
    // An empty prompt loads; keep_alive 0 with an empty prompt unloads (Ollama).
    let (_, v) = post(
        &app,
        "/api/generate",
        r#"{"model":"beta","keep_alive":"-1"}"#,
    )
    .await;
    assert_eq!(v["done_reason"], "load");
    assert_eq!(resident(&registry), ["beta"]);
    let (_, v) = json_call(&app, "GET", "/api/ps", None).await;
    let expires = v["models"][0]["expires_at"].as_str().unwrap();
    assert!(expires > "2100", "forever shows far ahead: {expires}");
    let (_, v) = post(
        &app,
        "/api/chat",
        r#"{"model":"beta","messages":[],"keep_alive":0}"#,
    )
    .await;
    assert_eq!(v["done_reason"], "unload");
    assert!(resident(&registry).is_empty());
}

#[tokio::test]
async fn idle_models_expire_after_a_short_keep_alive() {
    let (app, registry, _) = models_app(None);
    let body = r#"{"model":"alpha","messages":[{"role":"user","content":"hi"}],"stream":false,"keep_alive":"300ms"}"#;
    let (s, _) = post(&app, "/api/chat", body).await;
    assert_eq!(s, StatusCode::OK);
    let (_, v) = json_call(&app, "GET", "/api/ps", None).await;
    assert_eq!(v["models"][0]["name"], "alpha");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !resident(&registry).is_empty() {
        assert!(std::time::Instant::now() < deadline, "alpha never unloaded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, v) = json_call(&app, "GET", "/api/ps", None).await;
    assert_eq!(v["models"], json!([]));
}

#[tokio::test]
async fn a_bad_keep_alive_is_a_field_error() {
    let (app, _, loads) = models_app(None);
    let body = r#"{"model":"alpha","prompt":"hi","keep_alive":"soon"}"#;
    let (s, v) = post(&app, "/api/generate", body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["param"], "keep_alive");
    assert_eq!(loads.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn the_budget_evicts_idle_models_and_refuses_when_all_are_busy() {
    let (app, registry, _) = models_app(Some(150));
    let gen = |m: &str| format!(r#"{{"model":"{m}","prompt":"hi","stream":false}}"#);
    let (s, _) = post(&app, "/api/generate", &gen("alpha")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = post(&app, "/api/generate", &gen("beta")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(resident(&registry), ["beta"], "alpha was evicted for beta");
    // A request in flight holds beta: alpha cannot be loaded now.
    let held = registry.acquire(Some("beta"), None).unwrap();
    let (s, headers, text) = call(&app, "POST", "/api/generate", Some(&gen("alpha"))).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert!(headers.contains_key("retry-after"));
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["error"]["code"], "memory_budget_busy");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("(beta)"),
        "{v}"
    );
    drop(held);
    let (s, _) = post(&app, "/api/generate", &gen("alpha")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(resident(&registry), ["alpha"]);
}

#[tokio::test]
async fn a_model_over_the_budget_or_failing_to_load_is_a_clear_error() {
    let (app, registry, _) = models_app(Some(50));
    let (s, v) = post(
        &app,
        "/api/generate",
        r#"{"model":"alpha","prompt":"hi","stream":false}"#,
    )
    .await;
    assert_eq!(s, StatusCode::INSUFFICIENT_STORAGE);
    assert_eq!(v["error"]["code"], "model_exceeds_memory_budget");
    let (s, v) = post(
        &app,
        "/api/generate",
        r#"{"model":"gamma","prompt":"hi","stream":false}"#,
    )
    .await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(v["error"]["code"], "model_load_failed");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("cannot load model `gamma`"));
    assert!(resident(&registry).is_empty());
    let (s, _) = json_call(&app, "GET", "/health", None).await;
    assert_eq!(s, StatusCode::OK, "the server keeps serving");
}

#[tokio::test]
async fn a_streaming_request_keeps_its_model_loaded() {
    let (app, registry, _) = models_app(None);
    let body = r#"{"model":"alpha","prompt":"hi","keep_alive":0}"#;
    let resp = send(&app, "POST", "/api/generate", Some(body)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resident(&registry),
        ["alpha"],
        "unloaded while its stream is open"
    );
    let text = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&text).contains("\"done\":true"));
    assert!(
        resident(&registry).is_empty(),
        "keep_alive 0 unloads at the end"
    );
}
