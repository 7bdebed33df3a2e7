//! Several real GGUF models behind one server (feature `llama`): SmolLM2 and the tiny
//! random-weight DeepSeek-architecture files of `scripts/fetch-llm-models`, loaded on first
//! request, switched between, unloaded after their keep-alive and evicted for the budget.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use twin_llm::{KeepAlive, LlamaEngine, LlamaOptions, Registry, RegistryConfig};
use twin_llm_server::{router_with_state, AppState};

use super::*;

const SMOL: &str = "SmolLM2-135M-Instruct.Q4_1";
const TINY: &str = "tiny-qwen2";

/// A directory linking the test models (and a file that is not a model).
fn models_dir() -> tempfile::TempDir {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/models");
    let d = tempfile::tempdir().unwrap();
    for name in [SMOL, TINY, "tiny-deepseek2"] {
        let from = src.join(format!("{name}.gguf"));
        if name == "tiny-deepseek2" && !from.exists() {
            continue;
        }
        assert!(
            from.exists(),
            "{} missing: run scripts/fetch-llm-models",
            from.display()
        );
        std::os::unix::fs::symlink(&from, d.path().join(format!("{name}.gguf"))).unwrap();
    }
    std::fs::write(d.path().join("notes.gguf"), b"not a model").unwrap();
    d
}

fn registry(dir: &Path, budget: Option<u64>) -> Registry {
    let loader: twin_llm::registry::Loader = Box::new(|e| {
        let o = LlamaOptions {
            slots: 1,
            slot_context: 512,
            threads: Some(2),
            id: Some(e.id.clone()),
            ..Default::default()
        };
        Ok(Arc::new(LlamaEngine::load(&e.path, &o)?))
    });
    let config = RegistryConfig {
        budget_bytes: budget,
        default_keep_alive: KeepAlive::default(),
    };
    Registry::scan(dir, 512, loader, config).unwrap()
}

async fn start_models(models: Registry) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = bind_local(0).await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let config = ServerConfig {
        access_log: AccessLog::Off,
        ..ServerConfig::default()
    };
    let app = router_with_state(AppState::with_models(models, config));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, app, async {
        let _ = rx.await;
    }));
    (addr, tx)
}

async fn get(addr: &str, path: &str) -> Value {
    let (s, _, text) = http(addr, "GET", path, "").await;
    assert_eq!(s, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn ps(addr: &str) -> Vec<String> {
    get(addr, "/api/ps").await["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn generate(addr: &str, model: &str, keep_alive: &str) -> Value {
    let body = json!({
        "model": model, "prompt": "Say hello.", "stream": false, "keep_alive": keep_alive,
        "options": {"temperature": 0, "num_predict": 6},
    });
    let (s, _, text) = http(addr, "POST", "/api/generate", &body.to_string()).await;
    assert_eq!(s, 200, "{model}: {text}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_models_load_lazily_switch_and_expire() {
    let dir = models_dir();
    let models = registry(dir.path(), None);
    let (addr, _stop) = start_models(models.clone()).await;
    let tags = get(&addr, "/api/tags").await;
    let names: Vec<&str> = tags["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&SMOL) && names.contains(&TINY), "{names:?}");
    assert!(
        !names.contains(&"notes"),
        "a file that is not GGUF is listed"
    );
    let smol = tags["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == SMOL)
        .unwrap();
    assert_eq!(smol["details"]["family"], "llama");
    assert_eq!(smol["details"]["quantization_level"], "Q4_1");
    let tiny = tags["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == TINY)
        .unwrap();
    assert_eq!(tiny["details"]["family"], "qwen2");
    assert!(
        ps(&addr).await.is_empty(),
        "a model loaded before any request"
    );

    let v = generate(&addr, SMOL, "5m").await;
    assert!(v["eval_count"].as_u64().unwrap() >= 1, "{v}");
    assert_eq!(ps(&addr).await, [SMOL]);
    let v = generate(&addr, TINY, "1s").await;
    assert_eq!(v["model"], TINY);
    assert!(v["eval_count"].as_u64().unwrap() >= 1, "{v}");
    let mut resident = ps(&addr).await;
    resident.sort();
    assert_eq!(resident, [SMOL, TINY]);
    let listed = get(&addr, "/api/ps").await;
    let entry = listed["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == SMOL)
        .unwrap();
    let expected = models
        .entries()
        .iter()
        .find(|e| e.id == SMOL)
        .unwrap()
        .memory_bytes;
    assert_eq!(entry["size"], expected);
    assert!(entry["expires_at"].as_str().unwrap().ends_with('Z'));

    // The tiny model's one-second keep-alive passes; SmolLM2's five minutes do not.
    let deadline = Instant::now() + Duration::from_secs(20);
    while ps(&addr).await.len() > 1 {
        assert!(Instant::now() < deadline, "{TINY} never unloaded");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(ps(&addr).await, [SMOL]);
    // Asked again, it loads again and answers.
    let v = generate(&addr, TINY, "0").await;
    assert!(v["eval_count"].as_u64().unwrap() >= 1, "{v}");
    assert_eq!(ps(&addr).await, [SMOL], "keep_alive 0 unloads right after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_models_are_evicted_to_stay_within_the_budget() {
    let dir = models_dir();
    let scan = registry(dir.path(), None);
    let need = |id: &str| {
        scan.entries()
            .iter()
            .find(|e| e.id == id)
            .unwrap()
            .memory_bytes
    };
    // Room for either model, not both.
    let budget = need(SMOL).max(need(TINY)) + need(SMOL).min(need(TINY)) / 2;
    drop(scan);
    let (addr, _stop) = start_models(registry(dir.path(), Some(budget))).await;
    generate(&addr, SMOL, "-1").await;
    assert_eq!(ps(&addr).await, [SMOL]);
    generate(&addr, TINY, "-1").await;
    assert_eq!(ps(&addr).await, [TINY], "SmolLM2 was not evicted");
    generate(&addr, SMOL, "-1").await;
    assert_eq!(ps(&addr).await, [SMOL]);
}
