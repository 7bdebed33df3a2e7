//! Errors: starting the server, serving the API, and feed requests.

use std::{io, net::SocketAddr};

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

/// The dashboard could not start. Every variant is fatal for that call to
/// [`crate::serve`]; nothing keeps running.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// The address is not a loopback address; the dashboard has no
    /// authentication and is reachable only from this machine by design.
    #[error("refusing to serve on {addr}: the dashboard binds loopback addresses only")]
    NotLoopback {
        /// The requested address.
        addr: SocketAddr,
    },
    /// The address could not be bound (in use, or not permitted). Pick
    /// another port, or port 0 for a free one.
    #[error("cannot bind {addr}")]
    Bind {
        /// The requested address.
        addr: SocketAddr,
        /// The system's reason.
        #[source]
        source: io::Error,
    },
    /// The server thread or its async runtime could not be started.
    #[error("cannot start the dashboard runtime")]
    Runtime(#[source] io::Error),
    /// A bus reader or writer of the dashboard could not be created.
    #[error("bus: {0}")]
    Bus(#[from] twin_bus::CreateError),
    /// The control-command sender could not be created.
    #[error("federation: {0}")]
    Federation(#[from] twin_federation::FederationError),
}

/// A feed request a client made that cannot be served. The connection
/// stays open; the client gets an error frame with [`FeedError::code`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum FeedError {
    /// No topic of that name exists on the bus (yet).
    #[error("no topic `{topic}` on the bus")]
    UnknownTopic { topic: String },
    /// The topic exists but its type has no decoder in the registry.
    #[error("topic `{topic}` has type `{type_name}`, which the dashboard cannot decode")]
    NoDecoder { topic: String, type_name: String },
    /// The bus refused to create a reader.
    #[error("cannot read `{topic}`: {reason}")]
    Bus { topic: String, reason: String },
}

impl FeedError {
    /// Stable error code for the client.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            FeedError::UnknownTopic { .. } => "unknown_topic",
            FeedError::NoDecoder { .. } => "no_decoder",
            FeedError::Bus { .. } => "bus",
        }
    }
}

/// A REST request that failed; the one mapping to HTTP responses.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// Not one of run, freeze, resume, end, pacing.
    #[error("unknown command `{0}` (expected run, freeze, resume, end or pacing)")]
    UnknownCommand(String),
    /// The pacing body is missing or not a finite ratio ≥ 0.
    #[error("{0}")]
    BadPacing(String),
    /// The federation has ended; commands have no effect.
    #[error("the federation has ended")]
    Ended,
    /// The request came from another site (Origin or Host not local).
    #[error("cross-origin request refused")]
    Forbidden,
    /// The bus did not take the command.
    #[error("sending the command failed: {0}")]
    Send(String),
    /// The assistant question is missing, empty, too long, or not JSON.
    #[error("{0}")]
    BadQuestion(String),
    /// No member reads `twin/assistant/ask`.
    #[error("no assistant member is reading twin/assistant/ask; start one (kind `assistant`) and ask again")]
    NoAssistant,
    /// The assistant did not answer in time.
    #[error("no answer to question `{id}` within {secs} s")]
    AssistantTimeout { id: String, secs: f64 },
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::UnknownCommand(_) => (StatusCode::NOT_FOUND, "unknown_command"),
            ApiError::BadPacing(_) => (StatusCode::UNPROCESSABLE_ENTITY, "bad_pacing"),
            ApiError::Ended => (StatusCode::CONFLICT, "ended"),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Send(_) => (StatusCode::INTERNAL_SERVER_ERROR, "send_failed"),
            ApiError::BadQuestion(_) => (StatusCode::UNPROCESSABLE_ENTITY, "bad_question"),
            ApiError::NoAssistant => (StatusCode::SERVICE_UNAVAILABLE, "no_assistant"),
            ApiError::AssistantTimeout { .. } => (StatusCode::GATEWAY_TIMEOUT, "assistant_timeout"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind) = self.parts();
        let body = json!({ "error": { "message": self.to_string(), "type": kind } });
        (status, Json(body)).into_response()
    }
}
