//! The [`Engine`] trait: what the HTTP layer (or any caller) needs from an inference engine.
//!
//! A caller renders a prompt ([`Engine::render_chat`]), submits it with its sampling
//! parameters ([`Engine::submit`]) and reads [`Event`]s from the returned [`Generation`]:
//! text pieces, then exactly one [`Event::Done`] or [`Event::Error`]. Dropping the
//! [`Generation`] cancels the request; the engine frees its sequence slot within one step.

use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;

use crate::{
    chat::{ChatMessage, ChatTemplate},
    error::EngineError,
};

/// An output constraint applied while sampling.
#[derive(Debug, Clone, PartialEq)]
pub enum Constraint {
    /// Any syntactically valid JSON value (OpenAI `response_format: json_object`, Ollama
    /// `format: "json"`).
    Json,
    /// JSON valid against this JSON schema (serialised schema text).
    JsonSchema(String),
    /// A llama.cpp GBNF grammar whose start rule is `root`.
    Gbnf(String),
}

/// Sampling and stopping parameters of one request.
///
/// The defaults follow llama.cpp's server: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05,
/// no penalties.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingParams {
    /// Most tokens to generate; `None` means until the end of the slot's context.
    pub max_tokens: Option<u32>,
    /// Softmax temperature; `0` selects greedy decoding (argmax, seed-independent).
    pub temperature: f32,
    /// Keep only the `k` most likely tokens; `0` disables.
    pub top_k: u32,
    /// Nucleus sampling threshold in (0, 1]; `1` disables.
    pub top_p: f32,
    /// Drop tokens whose probability is under `min_p` × the top probability; `0` disables.
    pub min_p: f32,
    /// Multiplicative penalty on recently seen tokens (> 0); `1` disables.
    pub repeat_penalty: f32,
    /// How many recent tokens the penalties look at.
    pub repeat_last_n: u32,
    /// Additive penalty proportional to a token's count so far (OpenAI semantics, −2..2).
    pub frequency_penalty: f32,
    /// Additive penalty for any token seen so far (OpenAI semantics, −2..2).
    pub presence_penalty: f32,
    /// Seed of the sampling RNG; `None` picks one per request.
    pub seed: Option<u64>,
    /// Generation stops before the first occurrence of any of these strings.
    pub stop: Vec<String>,
    /// Keep generating past end-of-generation tokens (benchmarks).
    pub ignore_eos: bool,
    /// Optional output constraint.
    pub constraint: Option<Constraint>,
}

impl Default for SamplingParams {
    fn default() -> Self {
        SamplingParams {
            max_tokens: None,
            temperature: 0.8,
            top_k: 40,
            top_p: 0.95,
            min_p: 0.05,
            repeat_penalty: 1.0,
            repeat_last_n: 64,
            frequency_penalty: 0.0,
            presence_penalty: 0.0,
            seed: None,
            stop: Vec::new(),
            ignore_eos: false,
            constraint: None,
        }
    }
}

impl SamplingParams {
    /// Greedy decoding with no other filter.
    pub fn greedy() -> Self {
        SamplingParams {
            temperature: 0.0,
            top_k: 0,
            top_p: 1.0,
            min_p: 0.0,
            ..Self::default()
        }
    }

    /// Checks every field's range; the error names the field as the public APIs spell it.
    pub fn validate(&self) -> Result<(), EngineError> {
        let bad = |field, reason: &str| {
            Err(EngineError::InvalidParameter {
                field,
                reason: reason.to_owned(),
            })
        };
        if self.max_tokens == Some(0) {
            return bad("max_tokens", "must be at least 1");
        }
        if !(self.temperature.is_finite() && (0.0..=100.0).contains(&self.temperature)) {
            return bad("temperature", "must be between 0 and 100");
        }
        if !(self.top_p.is_finite() && self.top_p > 0.0 && self.top_p <= 1.0) {
            return bad("top_p", "must be in (0, 1]");
        }
        if !(self.min_p.is_finite() && (0.0..=1.0).contains(&self.min_p)) {
            return bad("min_p", "must be in [0, 1]");
        }
        if !(self.repeat_penalty.is_finite() && self.repeat_penalty > 0.0) {
            return bad("repeat_penalty", "must be greater than 0");
        }
        for (field, v) in [
            ("frequency_penalty", self.frequency_penalty),
            ("presence_penalty", self.presence_penalty),
        ] {
            if !(v.is_finite() && (-2.0..=2.0).contains(&v)) {
                return bad(field, "must be between -2 and 2");
            }
        }
        if self.stop.len() > 16 {
            return bad("stop", "at most 16 stop sequences");
        }
        if self.stop.iter().any(String::is_empty) {
            return bad("stop", "stop sequences must not be empty");
        }
        Ok(())
    }
}

/// One generation request: an already-templated prompt and its parameters.
#[derive(Debug, Clone)]
pub struct GenerateRequest {
    /// Prompt text; special tokens written in it (`<|im_start|>`) are parsed as such.
    pub prompt: String,
    /// Sampling and stopping.
    pub params: SamplingParams,
}

/// Why a generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// End-of-generation token or a stop sequence.
    Stop,
    /// `max_tokens` reached, or the slot's context is full.
    Length,
}

impl FinishReason {
    /// The OpenAI / Ollama spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
        }
    }
}

/// Token counts of one generation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Tokens in the prompt.
    pub prompt_tokens: u32,
    /// Of those, tokens reused from the slot's KV cache (not recomputed).
    pub cached_tokens: u32,
    /// Tokens generated.
    pub completion_tokens: u32,
}

/// Where one generation spent its time.
///
/// Time to first token inside the engine is `queued + prompt`; the other fields split it:
/// `queued = step_wait + (waiting for a free slot)` and
/// `prompt = prefill_decode + prefill_skipped + (batch building and sampling)`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// From submission to admission into a sequence slot.
    pub queued: Duration,
    /// Prompt processing (prefill), from admission to the first token.
    pub prompt: Duration,
    /// Generating tokens after the first.
    pub decode: Duration,
    /// Of `queued`: submission until the scheduler took the request (the decode step in
    /// progress when it arrived).
    pub step_wait: Duration,
    /// Of `prompt`: `llama_decode` time of the steps that carried this prompt's tokens.
    pub prefill_decode: Duration,
    /// Of `prompt`: `llama_decode` time of steps that ran after admission without any of
    /// this prompt's tokens (no room left in the batch).
    pub prefill_skipped: Duration,
    /// Decode calls (steps) that carried this prompt's tokens.
    pub prefill_steps: u32,
}

/// The end of a successful generation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Completion {
    /// Why it stopped.
    pub finish_reason: FinishReason,
    /// Token counts.
    pub usage: Usage,
    /// Time split.
    pub timings: Timings,
}

/// What a [`Generation`] yields.
#[derive(Debug, Clone)]
pub enum Event {
    /// The next piece of text: valid UTF-8, with stop sequences already removed.
    Text(String),
    /// The generation ended normally; nothing follows.
    Done(Completion),
    /// The generation failed; nothing follows.
    Error(EngineError),
}

/// A running request. Dropping it cancels the request.
#[derive(Debug)]
pub struct Generation {
    prompt_tokens: u32,
    events: mpsc::UnboundedReceiver<Event>,
}

impl Generation {
    /// Creates the pair: the engine keeps the sender, the caller gets the generation.
    pub fn channel(prompt_tokens: u32) -> (mpsc::UnboundedSender<Event>, Generation) {
        let (tx, events) = mpsc::unbounded_channel();
        (
            tx,
            Generation {
                prompt_tokens,
                events,
            },
        )
    }

    /// Tokens in the prompt (known at submission).
    pub fn prompt_tokens(&self) -> u32 {
        self.prompt_tokens
    }

    /// The next event; `None` after the final one (or if the engine died).
    pub async fn next(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// The next event if one is ready, without waiting (polling callers such as federation
    /// members). `Err(true)` when nothing is ready yet, `Err(false)` when the stream is over.
    pub fn try_next(&mut self) -> Result<Event, bool> {
        use mpsc::error::TryRecvError;
        self.events.try_recv().map_err(|e| e == TryRecvError::Empty)
    }

    /// Blocking variant of [`Generation::next`] for threads outside an async runtime.
    pub fn blocking_next(&mut self) -> Option<Event> {
        self.events.blocking_recv()
    }

    /// Collects the whole text, for callers that do not stream.
    pub async fn collect(mut self) -> Result<(String, Completion), EngineError> {
        let mut text = String::new();
        while let Some(ev) = self.next().await {
            match ev {
                Event::Text(t) => text.push_str(&t),
                Event::Done(c) => return Ok((text, c)),
                Event::Error(e) => return Err(e),
            }
        }
        Err(EngineError::Stopped)
    }
}

/// Static facts about the loaded model.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    /// Identifier clients use in the `model` field (the file stem by default).
    pub id: String,
    /// `general.architecture` (`llama`, `qwen2`, `deepseek2`, …).
    pub architecture: String,
    /// Quantisation name (`Q4_K_M`, `Q8_0`, …).
    pub quantization: String,
    /// Training context length from the metadata.
    pub context_length: u64,
    /// Context window of one sequence slot in this engine.
    pub slot_context: u32,
    /// Number of sequence slots decoded together.
    pub slots: u32,
    /// Number of weights.
    pub parameter_count: u64,
    /// File size in bytes.
    pub size_bytes: u64,
    /// The Jinja chat template shipped with the model, if any.
    pub chat_template: Option<String>,
}

/// Current occupancy of the engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Load {
    /// Requests waiting for a slot.
    pub queued: u32,
    /// Requests holding a slot.
    pub active: u32,
    /// Slots in total.
    pub slots: u32,
}

/// An inference engine. Implementations own their scheduling loop; all methods are cheap
/// and non-blocking, and can be called from async code.
pub trait Engine: Send + Sync + 'static {
    /// Facts about the loaded model.
    fn model(&self) -> &ModelInfo;

    /// The chat template used by [`Engine::render_chat`].
    fn chat_template(&self) -> &ChatTemplate;

    /// Renders chat messages into a prompt with the model's template, ending with the
    /// assistant's turn.
    fn render_chat(&self, messages: &[ChatMessage]) -> Result<String, EngineError> {
        self.chat_template().render(messages, true)
    }

    /// Counts the tokens `text` would occupy as a prompt.
    fn count_tokens(&self, text: &str) -> Result<u32, EngineError>;

    /// Queues a request. Fails at once when the parameters are invalid or the prompt does not
    /// fit a slot; otherwise the request waits for a slot and streams its events.
    fn submit(&self, request: GenerateRequest) -> Result<Generation, EngineError>;

    /// Current occupancy.
    fn load(&self) -> Load;

    /// One L2-normalised embedding per input text (mean pooling over the model's last
    /// hidden states), and the number of tokens read. Blocking; call it off async threads.
    fn embed(&self, inputs: &[String]) -> Result<(Vec<Vec<f32>>, u32), EngineError> {
        let _ = inputs;
        Err(EngineError::Unsupported { what: "embeddings" })
    }
}
