//! Builds a llama.cpp sampler from [`SamplingParams`].
//!
//! The chain: penalties → (greedy | top-k → top-p → min-p → temperature → seeded draw).
//! Temperature 0 is pure argmax and ignores the seed. Without penalties the argmax is taken
//! straight from the logits slice: llama.cpp's `llama_sampler_sample` would first copy every
//! vocabulary entry into a candidate array (49 k entries for SmolLM2, each token).
//!
//! A grammar constraint (JSON, JSON schema, GBNF) is checked *after* the chain by default:
//! the chain picks a token from the raw logits, the grammar checks that one token, and only
//! when the grammar rejects it are all logits masked by the grammar and the chain run again.
//! Masking costs one grammar check per vocabulary entry (49 k for SmolLM2) while the check
//! costs one, and a model asked for JSON usually proposes a valid token already, so most
//! steps skip the mask. The result is the same token as masking first whenever the first
//! pick is valid: greedy picks the argmax either way, and a seeded draw differs only in the
//! random numbers it consumed. llama.cpp's own server samples this way (`grammar_first`
//! false); [`super::LlamaOptions::grammar_first`] restores masking first.

use llama_cpp_2::{
    context::LlamaContext,
    model::LlamaModel,
    sampling::LlamaSampler,
    token::{data::LlamaTokenData, data_array::LlamaTokenDataArray, LlamaToken},
};

use crate::{
    engine::{Constraint, SamplingParams},
    error::EngineError,
};

/// The sampler of one request.
pub(super) struct Sampler {
    chain: LlamaSampler,
    grammar: Option<LlamaSampler>,
    grammar_first: bool,
    /// The chain is a bare argmax (temperature 0, no penalties): sample with [`argmax`].
    argmax: bool,
}

/// The index of the largest logit, the first on ties (as llama.cpp's greedy sampler).
pub(super) fn argmax(logits: &[f32]) -> LlamaToken {
    let mut best = 0;
    for (i, &l) in logits.iter().enumerate() {
        if l > logits[best] {
            best = i;
        }
    }
    LlamaToken(best as i32)
}

impl Sampler {
    /// Samples the next token from the logits at batch index `i` and accepts it.
    pub(super) fn sample(&mut self, ctx: &LlamaContext<'_>, i: i32) -> LlamaToken {
        let Some(grammar) = &mut self.grammar else {
            if self.argmax {
                return argmax(ctx.get_logits_ith(i));
            }
            return self.chain.sample(ctx, i);
        };
        let logits = || LlamaTokenDataArray::from_iter(ctx.candidates_ith(i), false);
        let pick = |chain: &mut LlamaSampler, mut cur: LlamaTokenDataArray| {
            chain.apply(&mut cur);
            cur.selected_token()
        };
        let mut token = None;
        if !self.grammar_first {
            let first = if self.argmax {
                Some(argmax(ctx.get_logits_ith(i)))
            } else {
                pick(&mut self.chain, logits())
            };
            if let Some(t) = first {
                let mut one =
                    LlamaTokenDataArray::new(vec![LlamaTokenData::new(t, 0.0, 0.0)], false);
                grammar.apply(&mut one);
                if one.data[0].logit().is_finite() {
                    token = Some(t);
                }
            }
        }
        let token = token.unwrap_or_else(|| {
            let mut cur = logits();
            grammar.apply(&mut cur);
            // A grammar that allows nothing leaves all logits at -inf; the chain still picks.
            pick(&mut self.chain, cur).unwrap_or(LlamaToken(0))
        });
        grammar.accept(token);
        self.chain.accept(token);
        token
    }
}

/// The sampler for one request; `grammar_first` masks the logits with the grammar before
/// every draw (see the module docs).
pub(super) fn build(
    model: &LlamaModel,
    p: &SamplingParams,
    grammar_first: bool,
) -> Result<Sampler, EngineError> {
    let mut chain = Vec::new();
    let mut grammar = None;
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
        grammar = Some(
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
    let argmax = p.temperature <= 0.0 && !penalised;
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
    Ok(Sampler {
        chain: LlamaSampler::chain_simple(chain),
        grammar,
        grammar_first,
        argmax,
    })
}
