//! Errors of the engine layer.

use std::path::PathBuf;

use crate::gguf::GgufError;

/// Why the engine refused or failed a request.
///
/// Variants before [`EngineError::Stopped`] are about one request: the engine keeps serving.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    /// A sampling or request parameter is out of range; the caller should fix the request.
    #[error("invalid `{field}`: {reason}")]
    InvalidParameter {
        /// Request field, as spelled in the public APIs (`max_tokens`, `top_p`, …).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The prompt does not fit into a sequence slot's context window.
    #[error(
        "the prompt has {prompt_tokens} tokens but a sequence holds at most {n_ctx} tokens \
         (prompt plus generated)"
    )]
    ContextOverflow {
        /// Tokens in the templated prompt.
        prompt_tokens: u32,
        /// Context window of one sequence slot.
        n_ctx: u32,
    },
    /// The chat template could not be rendered for these messages.
    #[error("chat template failed: {reason}")]
    Template {
        /// Renderer message.
        reason: String,
    },
    /// A grammar or JSON schema could not be compiled into a sampler constraint.
    #[error("invalid grammar or JSON schema: {reason}")]
    Grammar {
        /// Compiler message.
        reason: String,
    },
    /// The model failed while computing a batch; the affected requests end with this error.
    #[error("model evaluation failed: {reason}")]
    Decode {
        /// Backend message.
        reason: String,
    },
    /// The engine's scheduler has stopped (fatal: every later request fails the same way).
    #[error("the engine has stopped")]
    Stopped,
    /// The engine cannot do this (e.g. embeddings with a model that has no pooling).
    #[error("{what} is not supported by this engine")]
    Unsupported {
        /// The operation.
        what: &'static str,
    },
}

/// Why a model could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file is not a readable, complete GGUF file.
    #[error(transparent)]
    Gguf(#[from] GgufError),
    /// The backend rejected the model or could not create its context.
    #[error("backend could not load {path}: {reason}")]
    Backend {
        /// Model file.
        path: PathBuf,
        /// Backend message.
        reason: String,
    },
    /// A load option is out of range.
    #[error("invalid engine option `{field}`: {reason}")]
    InvalidOption {
        /// Option name (`slots`, `ctx`, `threads`, …).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// This build has no backend for real models.
    #[error("this build of twin-llm has no model backend; rebuild with the `llama` feature")]
    NoBackend,
}
