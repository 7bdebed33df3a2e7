//! Registry logic over mock engines: lazy loading, keep-alive, expiry, budget eviction.

use std::sync::atomic::{AtomicU32, Ordering};

use super::*;
use crate::{MockConfig, MockEngine};

fn entry(id: &str, memory_bytes: u64) -> ModelEntry {
    ModelEntry {
        id: id.into(),
        path: PathBuf::from(format!("{id}.gguf")),
        size_bytes: memory_bytes,
        architecture: "llama".into(),
        quantization: "Q4_1".into(),
        parameter_count: 1,
        context_length: 512,
        modified: SystemTime::UNIX_EPOCH,
        memory_bytes,
        chat_template: None,
    }
}

/// A registry of `models` (id, bytes) whose loader makes mock engines and counts loads.
fn registry(models: &[(&str, u64)], budget: Option<u64>) -> (Registry, Arc<AtomicU32>) {
    let loads = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&loads);
    let loader: Loader = Box::new(move |e| {
        counter.fetch_add(1, Ordering::SeqCst);
        if e.id == "broken" {
            return Err(LoadError::NoBackend);
        }
        Ok(Arc::new(MockEngine::new(MockConfig {
            id: e.id.clone(),
            ..MockConfig::default()
        })))
    });
    let entries = models.iter().map(|(id, b)| entry(id, *b)).collect();
    let config = RegistryConfig {
        budget_bytes: budget,
        default_keep_alive: KeepAlive::default(),
    };
    (Registry::new(entries, loader, config), loads)
}

fn resident_ids(r: &Registry) -> Vec<String> {
    r.resident().into_iter().map(|m| m.id).collect()
}

#[test]
fn models_load_on_first_use_only() {
    let (r, loads) = registry(&[("a", 10), ("b", 10)], None);
    assert!(r.resident().is_empty());
    let l = r.acquire(Some("b"), None).unwrap();
    assert_eq!(l.id(), "b");
    assert_eq!(l.engine().model().id, "b");
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    drop(l);
    let again = r.acquire(Some("b:latest"), None).unwrap();
    assert_eq!(loads.load(Ordering::SeqCst), 1, "resident model reloaded");
    let a = r.acquire(None, None).unwrap();
    assert_eq!(a.id(), "a", "no name picks the first model");
    assert_eq!(resident_ids(&r), ["a", "b"]);
    drop((again, a));
}

#[test]
fn unknown_model_names_the_available_ones() {
    let (r, _) = registry(&[("a", 10), ("b", 10)], None);
    let e = r.acquire(Some("c"), None).unwrap_err();
    assert!(matches!(e, RegistryError::UnknownModel { .. }));
    assert_eq!(e.to_string(), "model `c` not found; available: a, b");
}

#[test]
fn keep_alive_zero_unloads_when_the_last_lease_ends() {
    let (r, loads) = registry(&[("a", 10)], None);
    let zero = Some(KeepAlive::For(Duration::ZERO));
    let first = r.acquire(Some("a"), zero).unwrap();
    let second = first.clone();
    let third = r.acquire(Some("a"), zero).unwrap();
    drop(first);
    drop(third);
    assert_eq!(resident_ids(&r), ["a"], "a lease is still alive");
    drop(second);
    assert!(r.resident().is_empty());
    r.acquire(Some("a"), None).unwrap();
    assert_eq!(loads.load(Ordering::SeqCst), 2);
}

#[test]
fn idle_models_unload_after_their_keep_alive() {
    let (r, _) = registry(&[("a", 10), ("b", 10)], None);
    let t0 = Instant::now();
    drop(
        r.acquire(Some("a"), Some(KeepAlive::For(Duration::from_secs(2))))
            .unwrap(),
    );
    drop(r.acquire(Some("b"), Some(KeepAlive::Forever)).unwrap());
    let ps = r.resident();
    assert!(ps[0].expires_at.is_some() && ps[1].expires_at.is_none());
    assert!(r.reap_at(t0 + Duration::from_millis(500)).is_empty());
    assert_eq!(r.reap_at(t0 + Duration::from_secs(3)), ["a"]);
    assert!(r.reap_at(t0 + Duration::from_secs(86_400 * 365)).is_empty());
    assert_eq!(resident_ids(&r), ["b"]);
}

#[test]
fn a_model_in_use_is_not_unloaded() {
    let (r, _) = registry(&[("a", 10)], None);
    let held = r
        .acquire(Some("a"), Some(KeepAlive::For(Duration::from_millis(1))))
        .unwrap();
    assert!(r
        .reap_at(Instant::now() + Duration::from_secs(60))
        .is_empty());
    assert_eq!(r.resident()[0].in_use, 1);
    drop(held);
    assert_eq!(r.reap_at(Instant::now() + Duration::from_secs(60)), ["a"]);
}

#[test]
fn the_latest_request_sets_the_keep_alive() {
    let (r, _) = registry(&[("a", 10)], None);
    drop(r.acquire(Some("a"), Some(KeepAlive::Forever)).unwrap());
    drop(
        r.acquire(Some("a"), Some(KeepAlive::For(Duration::from_secs(1))))
            .unwrap(),
    );
    assert_eq!(r.reap_at(Instant::now() + Duration::from_secs(5)), ["a"]);
}

#[test]
fn the_least_recently_used_idle_model_is_evicted_for_room() {
    let (r, loads) = registry(&[("a", 100), ("b", 100), ("c", 100)], Some(250));
    drop(r.acquire(Some("a"), None).unwrap());
    drop(r.acquire(Some("b"), None).unwrap());
    std::thread::sleep(Duration::from_millis(2));
    drop(r.acquire(Some("a"), None).unwrap()); // a is now the more recent
    assert_eq!(loads.load(Ordering::SeqCst), 2);
    drop(r.acquire(Some("c"), None).unwrap());
    assert_eq!(
        resident_ids(&r),
        ["a", "c"],
        "b was the least recently used"
    );
    assert_eq!(loads.load(Ordering::SeqCst), 3);
}

#[test]
fn busy_models_are_not_evicted_and_the_request_is_refused() {
    let (r, _) = registry(&[("a", 100), ("b", 100)], Some(150));
    let held = r.acquire(Some("a"), None).unwrap();
    let e = r.acquire(Some("b"), None).unwrap_err();
    match &e {
        RegistryError::NoRoom { model, busy, .. } => {
            assert_eq!(model, "b");
            assert_eq!(busy, &["a"]);
        }
        other => panic!("expected NoRoom, got {other}"),
    }
    assert_eq!(resident_ids(&r), ["a"]);
    drop(held);
    let b = r.acquire(Some("b"), None).unwrap();
    assert_eq!(b.id(), "b");
    assert_eq!(resident_ids(&r), ["b"]);
}

#[test]
fn a_model_larger_than_the_budget_is_refused() {
    let (r, loads) = registry(&[("big", 300 << 20)], Some(200 << 20));
    let e = r.acquire(Some("big"), None).unwrap_err();
    assert!(matches!(e, RegistryError::TooLarge { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "model `big` needs about 300 MiB but the memory budget is 200 MiB"
    );
    assert_eq!(loads.load(Ordering::SeqCst), 0);
}

#[test]
fn a_failed_load_leaves_nothing_resident() {
    let (r, _) = registry(&[("a", 10), ("broken", 10)], None);
    let e = r.acquire(Some("broken"), None).unwrap_err();
    assert!(
        e.to_string().starts_with("cannot load model `broken`"),
        "{e}"
    );
    assert!(r.resident().is_empty());
    assert_eq!(r.acquire(Some("a"), None).unwrap().id(), "a");
}

#[test]
fn a_single_pinned_engine_never_unloads() {
    let r = Registry::single(Arc::new(MockEngine::new(MockConfig::default())));
    drop(
        r.acquire(Some("mock"), Some(KeepAlive::For(Duration::ZERO)))
            .unwrap(),
    );
    assert!(r
        .reap_at(Instant::now() + Duration::from_secs(86_400))
        .is_empty());
    assert_eq!(resident_ids(&r), ["mock"]);
    assert_eq!(r.load().slots, 2);
}

#[test]
fn keep_alive_reads_ollama_spellings() {
    let s = |t| KeepAlive::parse(t).unwrap();
    assert_eq!(s("5m"), KeepAlive::For(Duration::from_secs(300)));
    assert_eq!(s("1h30m"), KeepAlive::For(Duration::from_secs(5400)));
    assert_eq!(s("250ms"), KeepAlive::For(Duration::from_millis(250)));
    assert_eq!(s("10"), KeepAlive::For(Duration::from_secs(10)));
    assert_eq!(s("0"), KeepAlive::For(Duration::ZERO));
    assert_eq!(s("-1"), KeepAlive::Forever);
    assert_eq!(s("-5m"), KeepAlive::Forever);
    for bad in ["", "5x", "m", "five minutes", "-"] {
        assert!(KeepAlive::parse(bad).is_err(), "{bad:?} accepted");
    }
    assert_eq!(KeepAlive::from_seconds(-1.0), Ok(KeepAlive::Forever));
}

#[test]
fn a_directory_without_usable_models_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.gguf"), b"GGUF\x03\0\0\0").unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"not a model").unwrap();
    let loader: Loader = Box::new(|_| Err(LoadError::NoBackend));
    let e = Registry::scan(dir.path(), 512, loader, RegistryConfig::default()).unwrap_err();
    assert!(
        e.to_string().contains("holds no readable .gguf file"),
        "{e}"
    );
}
