//! Decode speed of JSON-schema-constrained generation, grammar checked after the draw (the
//! default) against the grammar masking all logits first, on one GGUF in the same run.
//!
//! ```text
//! cargo run --release -p twin-llm --features llama --example grammar_speed -- MODEL.gguf [REPS]
//! ```
//!
//! Prints, per mode, generated tokens, decode time after the first token and decode tokens/s
//! (median over REPS), and
//! checks that greedy output is identical in both modes.

use std::time::Duration;

use twin_llm::{
    ChatMessage, Constraint, Engine, GenerateRequest, LlamaEngine, LlamaOptions, SamplingParams,
};

const SCHEMA: &str = r#"{"type": "object", "properties": {
    "city": {"type": "string"}, "temperature_c": {"type": "number"},
    "conditions": {"type": "string", "enum": ["sunny", "cloudy", "rain", "snow"]},
    "wind_kmh": {"type": "integer"}},
    "required": ["city", "temperature_c", "conditions", "wind_kmh"]}"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let model = args
        .next()
        .ok_or("usage: grammar_speed MODEL.gguf [REPS]")?;
    let reps: usize = args.next().map_or(Ok(3), |r| r.parse())?;
    // Both engines loaded, requests alternated, so that load swings hit both modes alike.
    let mut engines = Vec::new();
    for grammar_first in [true, false] {
        let opts = LlamaOptions {
            slots: 1,
            slot_context: 1024,
            threads: Some(2),
            grammar_first,
            ..Default::default()
        };
        engines.push(LlamaEngine::load(&model, &opts)?);
    }
    let prompt = engines[0].render_chat(&[ChatMessage::new(
        "user",
        "Report the weather in Oslo as JSON with city, temperature_c, conditions, wind_kmh.",
    )])?;
    let mut times = [Vec::new(), Vec::new()];
    let mut outputs = [(String::new(), 0), (String::new(), 0)];
    for _ in 0..reps {
        for (k, engine) in engines.iter().enumerate() {
            let params = SamplingParams {
                max_tokens: Some(64),
                constraint: Some(Constraint::JsonSchema(SCHEMA.into())),
                ..SamplingParams::greedy()
            };
            let g = engine.submit(GenerateRequest {
                prompt: prompt.clone(),
                params,
            })?;
            let (text, done) = block_on(g.collect())?;
            times[k].push(done.timings.decode);
            outputs[k] = (text, done.usage.completion_tokens);
        }
    }
    for (k, mode) in ["grammar first (mask all logits)", "grammar after the draw"]
        .iter()
        .enumerate()
    {
        times[k].sort();
        let median: Duration = times[k][times[k].len() / 2];
        let tokens = outputs[k].1;
        println!(
            "{mode:32} tokens {tokens:3}  decode seconds {:7.3}  decode tok/s {:7.2}",
            median.as_secs_f64(),
            f64::from(tokens.saturating_sub(1)) / median.as_secs_f64()
        );
        serde_json::from_str::<serde_json::Value>(&outputs[k].0)
            .map_err(|e| format!("{mode}: output is not JSON ({e}): {}", outputs[k].0))?;
    }
    if outputs[0].0 != outputs[1].0 {
        return Err(format!("greedy outputs differ:\n{}\n{}", outputs[0].0, outputs[1].0).into());
    }
    println!("identical greedy output: {}", outputs[0].0);
    Ok(())
}

/// Runs a future on a fresh current-thread runtime.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(f)
}
