//! The local inference engine of Twin's model service.
//!
//! The crate knows nothing of HTTP. Callers program against the [`Engine`] trait:
//!
//! ```
//! use twin_llm::{ChatMessage, Engine, GenerateRequest, MockConfig, MockEngine, SamplingParams};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let engine = MockEngine::new(MockConfig::default().with_script(&["4", "2"]));
//! let prompt = engine.render_chat(&[ChatMessage::new("user", "6 × 7?")]).unwrap();
//! let generation = engine
//!     .submit(GenerateRequest { prompt, params: SamplingParams::greedy() })
//!     .unwrap();
//! let (text, done) = generation.collect().await.unwrap();
//! assert_eq!(text, "42");
//! assert_eq!(done.usage.completion_tokens, 2);
//! # });
//! ```
//!
//! Implementations:
//! - [`MockEngine`]: a deterministic script, for testing callers (always built);
//! - `LlamaEngine` (feature `llama`): llama.cpp through `llama-cpp-2`, with continuous
//!   batching over sequence slots, prompt-prefix reuse and llama.cpp's samplers.
//!
//! Supporting pieces: [`gguf`] reads and checks model metadata without a backend, [`chat`]
//! renders the model's Jinja chat template, [`text`] turns token bytes into streamable text
//! with stop sequences.
//!
//! # Features
//! - `llama`: the llama.cpp engine. Building it needs cmake, a C++17 compiler and libclang.
//!   Build with `RUSTFLAGS="-C target-cpu=native"` (or explicit `-C target-feature`s): without
//!   them llama.cpp is compiled for baseline x86-64 (SSE2) and runs several times slower.
//! - `cuda`, `vulkan`: the llama.cpp GPU backends.

pub mod chat;
mod engine;
mod error;
pub mod gguf;
mod mock;
#[cfg_attr(not(feature = "llama"), allow(dead_code))]
mod plan;
pub mod registry;
pub mod text;

#[cfg(feature = "llama")]
mod llama;

pub use chat::{ChatMessage, ChatTemplate};
pub use engine::{
    Completion, Constraint, Engine, Event, FinishReason, GenerateRequest, Generation, Load,
    ModelInfo, SamplingParams, Timings, Usage,
};
pub use error::{EngineError, LoadError};
pub use gguf::{GgufError, GgufInfo};
#[cfg(feature = "llama")]
pub use llama::{LlamaEngine, LlamaOptions};
pub use mock::{MockConfig, MockEngine};
pub use registry::{KeepAlive, Lease, ModelEntry, Registry, RegistryConfig, RegistryError};

/// The SmolLM2 test model (`TWIN_LLM_TEST_MODEL`, else `target/models/` of the workspace).
#[cfg(test)]
pub(crate) fn test_model_path() -> std::path::PathBuf {
    std::env::var_os("TWIN_LLM_TEST_MODEL").map_or_else(
        || {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/models/SmolLM2-135M-Instruct.Q4_1.gguf")
        },
        Into::into,
    )
}
