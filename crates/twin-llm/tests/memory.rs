//! The registry's memory estimate against the resident memory a loaded model really takes.
//!
//! Its own test binary (one process, one test), so that no other test's engine shares the
//! resident set. Needs the SmolLM2 GGUF that `scripts/test-llm` fetches.
#![cfg(all(feature = "llama", target_os = "linux"))]

use std::path::PathBuf;

use twin_llm::{Engine, Event, GenerateRequest, LlamaEngine, LlamaOptions, ModelEntry};

/// Resident set size of this process [bytes], from `/proc/self/status`.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS line");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("VmRSS value in kB");
    kib * 1024
}

fn model_path() -> PathBuf {
    let p = std::env::var_os("TWIN_LLM_TEST_MODEL").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/models/SmolLM2-135M-Instruct.Q4_1.gguf")
        },
        Into::into,
    );
    assert!(
        p.exists(),
        "{} is missing: run scripts/test-llm",
        p.display()
    );
    p
}

#[test]
fn resident_memory_of_a_loaded_model_is_within_the_registry_estimate() {
    let path = model_path();
    let (slots, ctx) = (4u32, 1024u32);
    let entry = ModelEntry::read(&path, u64::from(slots * ctx)).expect("metadata");
    let before = rss_bytes();
    let opts = LlamaOptions {
        slots,
        slot_context: ctx,
        threads: Some(1),
        ..Default::default()
    };
    let engine = LlamaEngine::load(&path, &opts).expect("SmolLM2 loads");
    // One generation touches every weight page (the file is memory-mapped).
    let request = GenerateRequest {
        prompt: "The sky is blue because".into(),
        params: twin_llm::SamplingParams {
            temperature: 0.0,
            max_tokens: Some(4),
            ..Default::default()
        },
    };
    let mut generation = engine.submit(request).expect("submit");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        while let Some(ev) = generation.next().await {
            if let Event::Error(e) = ev {
                panic!("generation failed: {e}");
            }
        }
    });
    let used = rss_bytes().saturating_sub(before);
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    println!(
        "file {:.1} MiB, estimate {:.1} MiB, measured RSS growth {:.1} MiB ({:.2} of the estimate)",
        mib(entry.size_bytes),
        mib(entry.memory_bytes),
        mib(used),
        used as f64 / entry.memory_bytes as f64
    );
    // The weights are paged in, so the growth is at least most of the file …
    assert!(
        used as f64 > 0.8 * entry.size_bytes as f64,
        "RSS grew by {:.1} MiB, less than the {:.1} MiB file: weights not resident?",
        mib(used),
        mib(entry.size_bytes)
    );
    // … and the estimate, which the memory budget relies on, does not fall short of it.
    assert!(
        used <= entry.memory_bytes,
        "RSS grew by {:.1} MiB, more than the {:.1} MiB estimate",
        mib(used),
        mib(entry.memory_bytes)
    );
    drop(engine);
}
