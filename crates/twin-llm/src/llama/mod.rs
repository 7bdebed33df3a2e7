//! The llama.cpp engine (feature `llama`), through the `llama-cpp-2` bindings.
//!
//! One model and one llama context per engine. The context holds `slots` sequences, each with
//! its own KV cache of `slot_context` tokens. A single scheduler thread owns the context and
//! runs the continuous-batching loop (see `scheduler`); [`LlamaEngine`] is the cheap handle
//! that tokenizes, validates and queues requests.

mod embed;
mod sampler;
mod scheduler;

use std::{
    num::NonZeroU32,
    path::Path,
    sync::{
        atomic::{AtomicU32, Ordering},
        mpsc, Arc, Mutex, OnceLock,
    },
    thread,
    time::Instant,
};

use llama_cpp_2::{
    context::params::LlamaContextParams,
    llama_backend::LlamaBackend,
    model::{params::LlamaModelParams, LlamaModel},
    token::LlamaToken,
};

use crate::{
    chat::ChatTemplate,
    engine::{Engine, GenerateRequest, Generation, Load, ModelInfo},
    error::{EngineError, LoadError},
    gguf::GgufInfo,
};

/// Engine options; the defaults suit a desktop CPU.
#[derive(Debug, Clone)]
pub struct LlamaOptions {
    /// Sequence slots decoded together (continuous batching width).
    pub slots: u32,
    /// Context window of each slot in tokens (capped at the model's training context).
    pub slot_context: u32,
    /// Compute threads; `None` uses the available parallelism.
    pub threads: Option<u32>,
    /// Most tokens in one decode step (prompt chunks plus one token per generating slot).
    pub batch: u32,
    /// Most tokens of one prompt prefilled in one step while other slots generate or other
    /// prompts wait (chunked prefill); a lone prompt gets the whole `batch`. Every waiting
    /// prompt gets a chunk of the next step, oldest first, until the batch is full (see
    /// `plan`). Smaller chunks give shorter stalls of running generations; the total work is
    /// the same.
    pub prefill_chunk: u32,
    /// Prefill priority: most generating sequences' tokens in a step that carries prompt
    /// tokens (oldest requests first; the others skip that step). `u32::MAX` puts every
    /// generating sequence in every step; 0 gives an arriving prompt a step of its own, so
    /// its first token comes sooner while the running streams stall for that step (see
    /// `plan`). Default 0 (BENCHMARKS.md, LLM round 6: the lower p99 time to first token
    /// at 8 streams in each of four runs).
    pub decode_with_prefill: u32,
    /// Most waiting prompts with tokens in one step, oldest first; the others wait for the
    /// next step. 1 (the default) serves colliding prompts one after the other, so the
    /// older one's first token does not wait for the younger one's prefill; `u32::MAX`
    /// prefills every waiting prompt in the next step (see `plan`; BENCHMARKS.md, LLM
    /// round 7: lower time to first token at every quantile at 8 streams).
    pub prompts_per_step: u32,
    /// Layers offloaded to a GPU (GPU builds only).
    pub gpu_layers: u32,
    /// Model id for the APIs; the file stem when `None`.
    pub id: Option<String>,
    /// Mask the logits with a request's grammar before every draw instead of checking the
    /// drawn token first (slower; for comparison, see `sampler`).
    pub grammar_first: bool,
}

impl Default for LlamaOptions {
    fn default() -> Self {
        LlamaOptions {
            slots: 4,
            slot_context: 4096,
            threads: None,
            batch: 512,
            prefill_chunk: 128,
            decode_with_prefill: 0,
            prompts_per_step: 1,
            gpu_layers: 0,
            id: None,
            grammar_first: false,
        }
    }
}

/// Occupancy counters shared with the scheduler thread.
#[derive(Debug, Default)]
struct Counters {
    queued: AtomicU32,
    active: AtomicU32,
}

/// A queued request.
struct Job {
    tokens: Vec<LlamaToken>,
    request: GenerateRequest,
    tx: tokio::sync::mpsc::UnboundedSender<crate::engine::Event>,
    submitted: Instant,
}

/// The llama.cpp engine handle.
pub struct LlamaEngine {
    info: ModelInfo,
    template: ChatTemplate,
    model: Arc<LlamaModel>,
    jobs: Mutex<mpsc::Sender<Job>>,
    counters: Arc<Counters>,
    threads: u32,
    embedder: Mutex<Option<mpsc::Sender<embed::Job>>>,
}

impl std::fmt::Debug for LlamaEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlamaEngine")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// llama.cpp's process-wide backend, initialised once.
fn backend() -> Result<&'static LlamaBackend, LoadError> {
    static BACKEND: OnceLock<LlamaBackend> = OnceLock::new();
    static INIT: Mutex<()> = Mutex::new(());
    let _guard = INIT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(b) = BACKEND.get() {
        return Ok(b);
    }
    llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
    let b = LlamaBackend::init().map_err(|e| LoadError::Backend {
        path: Default::default(),
        reason: e.to_string(),
    })?;
    Ok(BACKEND.get_or_init(|| b))
}

/// Warns when llama.cpp was compiled for less SIMD than this CPU has.
///
/// The `llama-cpp-sys-2` build script derives ggml's SIMD level from the Rust target features,
/// which this crate sees too: without `-C target-cpu=native` (or `-C target-feature=+avx2,…`)
/// ggml is built for baseline x86-64 (SSE2) and runs several times slower.
fn check_simd() {
    #[cfg(target_arch = "x86_64")]
    {
        let built = if cfg!(target_feature = "avx512f") {
            "AVX-512"
        } else if cfg!(target_feature = "avx2") {
            "AVX2"
        } else {
            "SSE2"
        };
        let cpu = if std::arch::is_x86_feature_detected!("avx512f") {
            "AVX-512"
        } else if std::arch::is_x86_feature_detected!("avx2") {
            "AVX2"
        } else {
            "SSE2"
        };
        if built != cpu {
            tracing::warn!(
                built,
                cpu,
                "llama.cpp was compiled for {built} but this CPU has {cpu}: rebuild with \
                 RUSTFLAGS=\"-C target-cpu=native\" for much faster inference"
            );
        }
    }
}

impl LlamaEngine {
    /// Loads `path` and starts the scheduler thread.
    ///
    /// The file is checked with [`GgufInfo::read`] first, so a truncated or corrupt file is
    /// refused with a [`crate::GgufError`] naming the problem.
    pub fn load(path: impl AsRef<Path>, options: &LlamaOptions) -> Result<Self, LoadError> {
        let path = path.as_ref();
        let gguf = GgufInfo::read(path)?;
        if options.slots == 0 || options.slots > 64 {
            return Err(LoadError::InvalidOption {
                field: "slots",
                reason: format!("must be 1..=64, got {}", options.slots),
            });
        }
        if options.slot_context < 16 {
            return Err(LoadError::InvalidOption {
                field: "ctx",
                reason: format!("must be at least 16 tokens, got {}", options.slot_context),
            });
        }
        check_simd();
        let backend = backend()?;
        let backend_err = |reason: String| LoadError::Backend {
            path: path.to_owned(),
            reason,
        };
        let params = LlamaModelParams::default().with_n_gpu_layers(options.gpu_layers);
        let model = Arc::new(
            LlamaModel::load_from_file(backend, path, &params)
                .map_err(|e| backend_err(e.to_string()))?,
        );
        let train_ctx = model.n_ctx_train().max(16);
        let slot_context = options.slot_context.min(train_ctx);
        let threads = options
            .threads
            .unwrap_or_else(|| thread::available_parallelism().map_or(1, |n| n.get() as u32));
        let batch = options.batch.max(options.slots).max(32);
        let ctx_params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(slot_context * options.slots))
            .with_n_batch(batch)
            .with_n_ubatch(batch)
            .with_n_seq_max(options.slots)
            .with_kv_unified(false)
            .with_n_threads(threads as i32)
            .with_n_threads_batch(threads as i32);

        let template = {
            let vocab = model.vocab();
            let text = |t: LlamaToken| {
                String::from_utf8_lossy(&vocab.token_to_piece(t, true, None)).into_owned()
            };
            let (bos, eos) = (text(vocab.bos()), text(vocab.eos()));
            match gguf.chat_template() {
                Some(src) => ChatTemplate::new(src, bos, eos)
                    .map_err(|e| backend_err(format!("chat template: {e}")))?,
                None => ChatTemplate::chatml(),
            }
        };
        let id = options.id.clone().unwrap_or_else(|| {
            path.file_stem()
                .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned())
        });
        let info = ModelInfo {
            id,
            architecture: gguf.architecture().unwrap_or("unknown").to_owned(),
            quantization: gguf.quantization(),
            context_length: gguf.context_length().unwrap_or(u64::from(train_ctx)),
            slot_context,
            slots: options.slots,
            parameter_count: gguf.parameter_count(),
            size_bytes: gguf.file_len,
            chat_template: Some(template.source().to_owned()),
        };

        let counters = Arc::new(Counters::default());
        let (jobs_tx, jobs_rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        let sched = scheduler::Config {
            slots: options.slots,
            slot_context,
            batch,
            prefill_chunk: options.prefill_chunk.clamp(1, batch),
            decode_with_prefill: options.decode_with_prefill,
            prompts_per_step: options.prompts_per_step,
            grammar_first: options.grammar_first,
        };
        let model2 = Arc::clone(&model);
        let counters2 = Arc::clone(&counters);
        thread::Builder::new()
            .name("twin-llm-scheduler".into())
            .spawn(move || {
                let ctx = match model2.new_context(backend, ctx_params) {
                    Ok(mut ctx) => {
                        scheduler::warm_up(&model2, &mut ctx);
                        let _ = ready_tx.send(Ok(()));
                        ctx
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                scheduler::run(&model2, ctx, &sched, &jobs_rx, &counters2);
            })
            .map_err(|e| backend_err(format!("cannot start the scheduler thread: {e}")))?;
        ready_rx
            .recv()
            .map_err(|_| backend_err("the scheduler thread died".into()))?
            .map_err(|e| backend_err(format!("cannot create a context: {e}")))?;
        tracing::info!(
            model = %info.id, arch = %info.architecture, quant = %info.quantization,
            slots = options.slots, slot_context, threads, "model loaded"
        );
        Ok(LlamaEngine {
            info,
            template,
            model,
            jobs: Mutex::new(jobs_tx),
            counters,
            threads,
            embedder: Mutex::new(None),
        })
    }

    fn tokenize(&self, text: &str) -> Vec<LlamaToken> {
        let vocab = self.model.vocab();
        let bos = vocab.token_to_piece(vocab.bos(), true, None);
        let add_bos = vocab.should_add_bos() && !text.as_bytes().starts_with(&bos);
        vocab.tokenize(text.as_bytes(), add_bos, true)
    }
}

impl Engine for LlamaEngine {
    fn model(&self) -> &ModelInfo {
        &self.info
    }

    fn chat_template(&self) -> &ChatTemplate {
        &self.template
    }

    fn count_tokens(&self, text: &str) -> Result<u32, EngineError> {
        Ok(self.tokenize(text).len() as u32)
    }

    fn submit(&self, request: GenerateRequest) -> Result<Generation, EngineError> {
        request.params.validate()?;
        let tokens = self.tokenize(&request.prompt);
        let prompt_tokens = tokens.len() as u32;
        if tokens.is_empty() {
            return Err(EngineError::InvalidParameter {
                field: "prompt",
                reason: "the prompt is empty".into(),
            });
        }
        if prompt_tokens >= self.info.slot_context {
            return Err(EngineError::ContextOverflow {
                prompt_tokens,
                n_ctx: self.info.slot_context,
            });
        }
        // Compile the constraint now so that a bad schema is a request error, not a stream one.
        sampler::build(&self.model, &request.params, false)?;
        let (tx, generation) = Generation::channel(prompt_tokens);
        self.counters.queued.fetch_add(1, Ordering::SeqCst);
        let job = Job {
            tokens,
            request,
            tx,
            submitted: Instant::now(),
        };
        if self.jobs.lock().expect("job queue lock").send(job).is_err() {
            self.counters.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(EngineError::Stopped);
        }
        Ok(generation)
    }

    fn embed(&self, inputs: &[String]) -> Result<(Vec<Vec<f32>>, u32), EngineError> {
        let tokens: Vec<Vec<LlamaToken>> = inputs.iter().map(|t| self.tokenize(t)).collect();
        let n_ctx = self.info.slot_context;
        for (i, t) in tokens.iter().enumerate() {
            if t.is_empty() {
                return Err(EngineError::InvalidParameter {
                    field: "input",
                    reason: format!("input {i} is empty"),
                });
            }
            if t.len() as u32 > n_ctx {
                return Err(EngineError::ContextOverflow {
                    prompt_tokens: t.len() as u32,
                    n_ctx,
                });
            }
        }
        let total = tokens.iter().map(|t| t.len() as u32).sum();
        let (reply, rx) = mpsc::channel();
        {
            let mut guard = self.embedder.lock().expect("embedder lock");
            if guard.is_none() {
                let backend = backend().map_err(|e| EngineError::Decode {
                    reason: e.to_string(),
                })?;
                *guard = Some(embed::start(
                    backend,
                    Arc::clone(&self.model),
                    n_ctx,
                    self.threads,
                )?);
            }
            let job = embed::Job {
                inputs: tokens,
                reply,
            };
            guard
                .as_ref()
                .expect("started above")
                .send(job)
                .map_err(|_| EngineError::Stopped)?;
        }
        let vectors = rx.recv().map_err(|_| EngineError::Stopped)??;
        Ok((vectors, total))
    }

    fn load(&self) -> Load {
        Load {
            queued: self.counters.queued.load(Ordering::SeqCst),
            active: self.counters.active.load(Ordering::SeqCst),
            slots: self.info.slots,
        }
    }
}

#[cfg(test)]
mod tests;
