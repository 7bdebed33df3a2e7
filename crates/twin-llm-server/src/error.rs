//! The one mapping from failures to HTTP statuses and OpenAI-shaped error bodies.
//!
//! Every handler returns [`ApiError`]; [`ApiError::status`] and [`ApiError::error_type`] are
//! the only places that decide the status code and the stable `type` string. Errors after a
//! stream has started are sent in-band with [`ApiError::body`] (SSE `data:` or an NDJSON line).

use std::time::Duration;

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::{json, Value};
use twin_llm::{EngineError, RegistryError};

/// Everything a request can fail with.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// The body is not valid JSON.
    #[error("malformed JSON body: {message}")]
    MalformedJson {
        /// Parser message with line and column.
        message: String,
    },
    /// A field is missing, has the wrong type, or is out of range.
    #[error("invalid `{param}`: {message}")]
    InvalidField {
        /// Field path (`messages[0].role`, `temperature`).
        param: String,
        /// What is wrong.
        message: String,
    },
    /// The requested model is not served here.
    #[error("model `{model}` not found; this server serves {served}")]
    ModelNotFound {
        /// The name asked for.
        model: String,
        /// The models available (`a`, `b`).
        served: String,
    },
    /// The model needs more memory than the whole budget (`--memory-budget`).
    #[error("{0}")]
    ModelTooLarge(String),
    /// The model would fit the memory budget, but models serving requests hold it now.
    #[error("{message}")]
    NoRoom {
        /// What is loaded and busy.
        message: String,
        /// Suggested wait.
        retry_after: Duration,
    },
    /// The model file could not be loaded.
    #[error("{0}")]
    ModelLoad(String),
    /// The prompt is longer than a sequence slot's context.
    #[error(
        "this model's context is {n_ctx} tokens per request, but the prompt has \
         {prompt_tokens} tokens; shorten the messages"
    )]
    ContextLength {
        /// Prompt tokens.
        prompt_tokens: u32,
        /// Slot context.
        n_ctx: u32,
    },
    /// Queue full: the client should retry after the given time.
    #[error("server busy: all {capacity} request places are taken; retry after {}s", retry_after.as_secs())]
    Overloaded {
        /// Slots plus queue places.
        capacity: usize,
        /// Suggested wait.
        retry_after: Duration,
    },
    /// Missing or wrong API key.
    #[error("missing or invalid API key (send `Authorization: Bearer <key>`)")]
    Unauthorized,
    /// No such route.
    #[error("no route for {method} {path}")]
    NotFound {
        /// HTTP method.
        method: String,
        /// Request path.
        path: String,
    },
    /// The engine failed while generating.
    #[error("generation failed: {0}")]
    Engine(String),
    /// The engine is not running.
    #[error("the model engine has stopped")]
    Unavailable,
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson { .. } | ApiError::ContextLength { .. } => {
                StatusCode::BAD_REQUEST
            }
            ApiError::InvalidField { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::ModelNotFound { .. } | ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Overloaded { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Engine(_) | ApiError::ModelLoad(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable | ApiError::NoRoom { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::ModelTooLarge(_) => StatusCode::INSUFFICIENT_STORAGE,
        }
    }

    /// The stable OpenAI-style `type` string.
    pub fn error_type(&self) -> &'static str {
        match self {
            ApiError::MalformedJson { .. }
            | ApiError::InvalidField { .. }
            | ApiError::ContextLength { .. } => "invalid_request_error",
            ApiError::ModelNotFound { .. } | ApiError::NotFound { .. } => "not_found_error",
            ApiError::Overloaded { .. } | ApiError::NoRoom { .. } => "overloaded_error",
            ApiError::Unauthorized => "authentication_error",
            ApiError::Engine(_)
            | ApiError::Unavailable
            | ApiError::ModelTooLarge(_)
            | ApiError::ModelLoad(_) => "server_error",
        }
    }

    /// The OpenAI `code` string, where one applies.
    fn code(&self) -> Option<&'static str> {
        match self {
            ApiError::ContextLength { .. } => Some("context_length_exceeded"),
            ApiError::ModelNotFound { .. } => Some("model_not_found"),
            ApiError::Overloaded { .. } => Some("server_busy"),
            ApiError::NoRoom { .. } => Some("memory_budget_busy"),
            ApiError::ModelTooLarge(_) => Some("model_exceeds_memory_budget"),
            ApiError::ModelLoad(_) => Some("model_load_failed"),
            ApiError::Unauthorized => Some("invalid_api_key"),
            _ => None,
        }
    }

    /// The field at fault, where one is known.
    fn param(&self) -> Option<&str> {
        match self {
            ApiError::InvalidField { param, .. } => Some(param),
            ApiError::ModelNotFound { .. }
            | ApiError::ModelTooLarge(_)
            | ApiError::NoRoom { .. }
            | ApiError::ModelLoad(_) => Some("model"),
            ApiError::ContextLength { .. } => Some("messages"),
            _ => None,
        }
    }

    /// `{"error": {"message", "type", "param", "code"}}`.
    pub fn body(&self) -> Value {
        json!({ "error": {
            "message": self.to_string(),
            "type": self.error_type(),
            "param": self.param(),
            "code": self.code(),
        }})
    }

    /// A field error.
    pub(crate) fn field(param: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::InvalidField {
            param: param.into(),
            message: message.into(),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::InvalidParameter { field, reason } => ApiError::field(field, reason),
            EngineError::ContextOverflow {
                prompt_tokens,
                n_ctx,
            } => ApiError::ContextLength {
                prompt_tokens,
                n_ctx,
            },
            EngineError::Template { reason } => ApiError::field("messages", reason),
            EngineError::Grammar { reason } => ApiError::field("response_format", reason),
            EngineError::Decode { reason } => ApiError::Engine(reason),
            EngineError::Stopped => ApiError::Unavailable,
            EngineError::Unsupported { what } => {
                ApiError::field("model", format!("{what} is not supported by this model"))
            }
        }
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::UnknownModel { model, available } => ApiError::ModelNotFound {
                model,
                served: available
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            },
            e @ RegistryError::TooLarge { .. } => ApiError::ModelTooLarge(e.to_string()),
            e @ RegistryError::NoRoom { .. } => ApiError::NoRoom {
                message: e.to_string(),
                retry_after: Duration::from_secs(5),
            },
            e @ (RegistryError::Load { .. } | RegistryError::Directory { .. }) => {
                ApiError::ModelLoad(e.to_string())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status(), Json(self.body())).into_response();
        if let ApiError::Overloaded { retry_after, .. } | ApiError::NoRoom { retry_after, .. } =
            &self
        {
            let secs = retry_after.as_secs().max(1).to_string();
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_str(&secs).expect("digits are a valid header value"),
            );
        }
        if let ApiError::Unauthorized = self {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}
