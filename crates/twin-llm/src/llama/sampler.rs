//! Builds a llama.cpp sampler chain from [`SamplingParams`].
//!
//! Order: grammar constraint → penalties → (greedy | top-k → top-p → min-p → temperature →
//! seeded draw). Temperature 0 is pure argmax and ignores the seed.

use llama_cpp_2::{model::LlamaModel, sampling::LlamaSampler};

use crate::{
    engine::{Constraint, SamplingParams},
    error::EngineError,
};

/// The sampler for one request.
pub(super) fn build(model: &LlamaModel, p: &SamplingParams) -> Result<LlamaSampler, EngineError> {
    let mut chain = Vec::new();
    if let Some(c) = &p.constraint {
        let grammar_err = |reason: String| EngineError::Grammar { reason };
        let gbnf = match c {
            Constraint::Json => {
                llama_cpp_2::json_schema_to_grammar("{}").map_err(|e| grammar_err(e.to_string()))?
            }
            Constraint::JsonSchema(schema) => llama_cpp_2::json_schema_to_grammar(schema)
                .map_err(|e| grammar_err(e.to_string()))?,
            Constraint::Gbnf(g) => g.clone(),
        };
        chain.push(
            LlamaSampler::grammar(model, &gbnf, "root").map_err(|e| grammar_err(e.to_string()))?,
        );
    }
    let penalised =
        p.repeat_penalty != 1.0 || p.frequency_penalty != 0.0 || p.presence_penalty != 0.0;
    if penalised {
        chain.push(LlamaSampler::penalties(
            model.n_vocab(),
            p.repeat_last_n as i32,
            p.repeat_penalty,
            p.frequency_penalty,
            p.presence_penalty,
        ));
    }
    if p.temperature <= 0.0 {
        chain.push(LlamaSampler::greedy());
    } else {
        if p.top_k > 0 {
            chain.push(LlamaSampler::top_k(p.top_k as i32));
        }
        if p.top_p < 1.0 {
            chain.push(LlamaSampler::top_p(p.top_p, 1));
        }
        if p.min_p > 0.0 {
            chain.push(LlamaSampler::min_p(p.min_p, 1));
        }
        chain.push(LlamaSampler::temp(p.temperature));
        let seed = p.seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
        });
        chain.push(LlamaSampler::dist(seed as u32));
    }
    Ok(LlamaSampler::chain_simple(chain))
}
