//! A deterministic scripted engine for testing callers without a model.
//!
//! [`MockEngine`] "generates" a fixed script of byte pieces (so tests can split characters
//! and tags across tokens), one piece per `token_delay`, over `slots` simulated sequence
//! slots. It honours `max_tokens`, stop sequences, the context window and cancellation
//! exactly like a real engine, and counts prompt tokens as whitespace-separated words.

use std::{
    sync::{
        atomic::{AtomicU32, AtomicU64, Ordering},
        Arc, Condvar, Mutex,
    },
    thread,
    time::{Duration, Instant},
};

use crate::{
    chat::ChatTemplate,
    engine::{
        Completion, Engine, Event, FinishReason, GenerateRequest, Generation, Load, ModelInfo,
        Timings, Usage,
    },
    error::EngineError,
    text::{Pushed, TextStream},
};

/// How a [`MockEngine`] behaves.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// Model id reported to clients.
    pub id: String,
    /// The pieces generated, in order; generation ends with `stop` after the last one.
    pub script: Vec<Vec<u8>>,
    /// Simulated sequence slots.
    pub slots: u32,
    /// Context window per slot, in (word) tokens.
    pub slot_context: u32,
    /// Pause before each piece.
    pub token_delay: Duration,
    /// Chat template source; ChatML when `None`.
    pub chat_template: Option<String>,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            id: "mock".into(),
            script: ["Hello", ",", " world", "!"]
                .iter()
                .map(|s| s.as_bytes().to_vec())
                .collect(),
            slots: 2,
            slot_context: 512,
            token_delay: Duration::ZERO,
            chat_template: None,
        }
    }
}

impl MockConfig {
    /// Replaces the script with these text pieces.
    pub fn with_script<S: AsRef<str>>(mut self, pieces: &[S]) -> Self {
        self.script = pieces
            .iter()
            .map(|p| p.as_ref().as_bytes().to_vec())
            .collect();
        self
    }
}

/// Slot bookkeeping shared with the generation threads.
#[derive(Debug, Default)]
struct Shared {
    free: Mutex<u32>,
    freed: Condvar,
    queued: AtomicU32,
    active: AtomicU32,
    cancelled: AtomicU64,
    last: Mutex<Option<GenerateRequest>>,
}

/// The scripted engine.
#[derive(Debug, Clone)]
pub struct MockEngine {
    config: Arc<MockConfig>,
    info: ModelInfo,
    template: ChatTemplate,
    shared: Arc<Shared>,
}

impl MockEngine {
    /// An engine following `config`.
    ///
    /// # Panics
    /// If `config.chat_template` does not compile.
    pub fn new(config: MockConfig) -> Self {
        let template = match &config.chat_template {
            Some(src) => ChatTemplate::new(src, "", "").expect("mock chat template compiles"),
            None => ChatTemplate::chatml(),
        };
        let info = ModelInfo {
            id: config.id.clone(),
            architecture: "mock".into(),
            quantization: "F32".into(),
            context_length: u64::from(config.slot_context),
            slot_context: config.slot_context,
            slots: config.slots,
            parameter_count: 0,
            size_bytes: 0,
            chat_template: Some(template.source().to_owned()),
        };
        let shared = Shared {
            free: Mutex::new(config.slots),
            ..Shared::default()
        };
        MockEngine {
            config: Arc::new(config),
            info,
            template,
            shared: Arc::new(shared),
        }
    }

    /// The last request submitted (its prompt and parameters), for tests of callers.
    pub fn last_request(&self) -> Option<GenerateRequest> {
        self.shared.last.lock().ok().and_then(|l| l.clone())
    }

    /// Requests abandoned by their caller so far (the engine noticed and freed the slot).
    pub fn cancelled(&self) -> u64 {
        self.shared.cancelled.load(Ordering::SeqCst)
    }
}

fn count_words(text: &str) -> u32 {
    text.split_whitespace().count().max(1) as u32
}

impl Engine for MockEngine {
    fn model(&self) -> &ModelInfo {
        &self.info
    }

    fn chat_template(&self) -> &ChatTemplate {
        &self.template
    }

    fn count_tokens(&self, text: &str) -> Result<u32, EngineError> {
        Ok(count_words(text))
    }

    fn submit(&self, request: GenerateRequest) -> Result<Generation, EngineError> {
        request.params.validate()?;
        if let Ok(mut last) = self.shared.last.lock() {
            *last = Some(request.clone());
        }
        let prompt_tokens = count_words(&request.prompt);
        let n_ctx = self.config.slot_context;
        if prompt_tokens >= n_ctx {
            return Err(EngineError::ContextOverflow {
                prompt_tokens,
                n_ctx,
            });
        }
        let (tx, generation) = Generation::channel(prompt_tokens);
        let config = Arc::clone(&self.config);
        let shared = Arc::clone(&self.shared);
        shared.queued.fetch_add(1, Ordering::SeqCst);
        thread::spawn(move || {
            let submitted = Instant::now();
            // Wait for a slot, giving up if the caller leaves meanwhile.
            {
                let mut free = shared.free.lock().expect("mock slot lock");
                while *free == 0 {
                    if tx.is_closed() {
                        shared.queued.fetch_sub(1, Ordering::SeqCst);
                        shared.cancelled.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                    free = shared
                        .freed
                        .wait_timeout(free, Duration::from_millis(5))
                        .expect("mock slot lock")
                        .0;
                }
                *free -= 1;
            }
            shared.queued.fetch_sub(1, Ordering::SeqCst);
            shared.active.fetch_add(1, Ordering::SeqCst);
            let admitted = Instant::now();
            let outcome = run_script(&config, &request, prompt_tokens, &tx);
            shared.active.fetch_sub(1, Ordering::SeqCst);
            *shared.free.lock().expect("mock slot lock") += 1;
            shared.freed.notify_one();
            match outcome {
                None => {
                    shared.cancelled.fetch_add(1, Ordering::SeqCst);
                }
                Some((finish_reason, completion_tokens, first)) => {
                    let done = Instant::now();
                    let first = first.unwrap_or(done);
                    let _ = tx.send(Event::Done(Completion {
                        finish_reason,
                        usage: Usage {
                            prompt_tokens,
                            cached_tokens: 0,
                            completion_tokens,
                        },
                        timings: Timings {
                            queued: admitted - submitted,
                            prompt: first - admitted,
                            decode: done - first,
                            ..Timings::default()
                        },
                    }));
                }
            }
        });
        Ok(generation)
    }

    /// A deterministic 8-dimensional bag-of-words vector per input: texts sharing words
    /// point the same way.
    fn embed(&self, inputs: &[String]) -> Result<(Vec<Vec<f32>>, u32), EngineError> {
        let mut tokens = 0;
        let vectors = inputs
            .iter()
            .map(|text| {
                let mut v = [0f32; 8];
                for w in text.split_whitespace() {
                    tokens += 1;
                    let h = w.to_lowercase().bytes().fold(2166136261u32, |h, b| {
                        (h ^ u32::from(b)).wrapping_mul(16777619)
                    });
                    v[(h % 8) as usize] += 1.0;
                }
                let norm = v
                    .iter()
                    .map(|x| x * x)
                    .sum::<f32>()
                    .sqrt()
                    .max(f32::MIN_POSITIVE);
                v.iter().map(|x| x / norm).collect()
            })
            .collect();
        Ok((vectors, tokens))
    }

    fn load(&self) -> Load {
        Load {
            queued: self.shared.queued.load(Ordering::SeqCst),
            active: self.shared.active.load(Ordering::SeqCst),
            slots: self.config.slots,
        }
    }
}

/// Plays the script; `None` when the caller went away.
fn run_script(
    config: &MockConfig,
    request: &GenerateRequest,
    prompt_tokens: u32,
    tx: &tokio::sync::mpsc::UnboundedSender<Event>,
) -> Option<(FinishReason, u32, Option<Instant>)> {
    let room = config.slot_context - prompt_tokens;
    let limit = request.params.max_tokens.map_or(room, |m| m.min(room));
    let mut text = TextStream::new(&request.params.stop);
    let mut first = None;
    let mut n = 0;
    for piece in &config.script {
        if n == limit {
            return Some((FinishReason::Length, n, first));
        }
        thread::sleep(config.token_delay);
        if tx.is_closed() {
            return None;
        }
        n += 1;
        first.get_or_insert_with(Instant::now);
        match text.push(piece) {
            Pushed::Text(t) => {
                if !t.is_empty() {
                    let _ = tx.send(Event::Text(t));
                }
            }
            Pushed::Stop(t) => {
                if !t.is_empty() {
                    let _ = tx.send(Event::Text(t));
                }
                return Some((FinishReason::Stop, n, first));
            }
        }
    }
    let rest = text.finish();
    if !rest.is_empty() {
        let _ = tx.send(Event::Text(rest));
    }
    Some((FinishReason::Stop, n, first))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SamplingParams;

    fn req(prompt: &str, params: SamplingParams) -> GenerateRequest {
        GenerateRequest {
            prompt: prompt.into(),
            params,
        }
    }

    #[test]
    fn plays_the_script_with_usage() {
        let e = MockEngine::new(MockConfig::default());
        let g = e
            .submit(req("one two three", SamplingParams::greedy()))
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (text, c) = rt.block_on(g.collect()).unwrap();
        assert_eq!(text, "Hello, world!");
        assert_eq!(c.finish_reason, FinishReason::Stop);
        assert_eq!(
            c.usage,
            Usage {
                prompt_tokens: 3,
                cached_tokens: 0,
                completion_tokens: 4
            }
        );
    }

    #[test]
    fn max_tokens_and_stop_sequences_apply() {
        let e = MockEngine::new(MockConfig::default());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let p = SamplingParams {
            max_tokens: Some(2),
            ..SamplingParams::greedy()
        };
        let (text, c) = rt
            .block_on(e.submit(req("x", p)).unwrap().collect())
            .unwrap();
        assert_eq!(
            (text.as_str(), c.finish_reason),
            ("Hello,", FinishReason::Length)
        );
        let p = SamplingParams {
            stop: vec!["wor".into()],
            ..SamplingParams::greedy()
        };
        let (text, c) = rt
            .block_on(e.submit(req("x", p)).unwrap().collect())
            .unwrap();
        assert_eq!(
            (text.as_str(), c.finish_reason),
            ("Hello, ", FinishReason::Stop)
        );
    }

    #[test]
    fn long_prompts_and_bad_parameters_are_refused() {
        let e = MockEngine::new(MockConfig {
            slot_context: 4,
            ..MockConfig::default()
        });
        let err = e
            .submit(req("a b c d e", SamplingParams::default()))
            .unwrap_err();
        assert!(matches!(
            err,
            EngineError::ContextOverflow {
                prompt_tokens: 5,
                n_ctx: 4
            }
        ));
        let p = SamplingParams {
            top_p: 0.0,
            ..SamplingParams::default()
        };
        let err = e.submit(req("a", p)).unwrap_err();
        assert!(err.to_string().contains("`top_p`"), "{err}");
    }
}
