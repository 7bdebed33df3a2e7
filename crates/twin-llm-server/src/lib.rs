//! HTTP layer of Twin's local model service.
//!
//! [`router`] builds an axum [`Router`] over any [`twin_llm::Engine`]:
//!
//! | surface | routes |
//! |---|---|
//! | OpenAI | `POST /v1/chat/completions`, `POST /v1/completions` (SSE with `stream: true`), `GET /v1/models`, `POST /v1/embeddings` |
//! | Ollama | `POST /api/chat`, `POST /api/generate` (NDJSON unless `stream: false`), `GET /api/tags`, `POST /api/show`, `GET /api/ps`, `GET /api/version` |
//! | plain | `POST /generate {"input_text": …} → {"response": …}` |
//! | operations | `GET /health`, `GET /metrics` (Prometheus) |
//!
//! Every request passes the same pipeline (module `infer`): the body is parsed with errors that
//! name the field, validated into sampling parameters, admitted against a bounded number of
//! places (slots + queue; beyond that 429 with `Retry-After`), and submitted. Streams end
//! with the client: a dropped connection drops the generation, which frees the engine slot.
//! DeepSeek-R1 output is split into `reasoning_content` / `content` (module `reasoning`).
//! Errors map to statuses in one place ([`ApiError`]); one JSON line per request goes to the
//! [`AccessLog`].
//!
//! Models come from a [`twin_llm::Registry`]: one engine resident for good ([`router`]), or a
//! directory of GGUF files ([`AppState::with_models`]) loaded on first request, kept for the
//! request's `keep_alive` (Ollama semantics) and evicted least-recently-used within a memory
//! budget. A request holds its model loaded until its response ends.
//!
//! ```
//! use std::sync::Arc;
//! use twin_llm::{MockConfig, MockEngine};
//! use twin_llm_server::{router, ServerConfig};
//!
//! let app = router(Arc::new(MockEngine::new(MockConfig::default())), ServerConfig::default());
//! # let _ = app;
//! ```

mod embeddings;
mod error;
pub mod gateway;
mod infer;
mod metrics;
mod ollama;
mod openai;
pub mod reasoning;
mod tools;

use std::{
    collections::HashMap,
    io::Write,
    net::SocketAddr,
    sync::{atomic::AtomicU64, Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{header, HeaderValue, Method},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Semaphore;
use twin_llm::{ChatMessage, Engine, Registry, SamplingParams};

use crate::infer::reasoning_start;

pub use error::ApiError;
pub use gateway::{gateway_router, Gateway, GatewayConfig};
pub use metrics::Metrics;

/// Where the per-request JSON lines go.
#[derive(Debug, Clone, Default)]
pub enum AccessLog {
    /// Nowhere.
    Off,
    /// Standard error, one line per request.
    #[default]
    Stderr,
    /// An in-memory list (tests).
    Memory(Arc<Mutex<Vec<String>>>),
}

impl AccessLog {
    fn write(&self, line: &serde_json::Value) {
        match self {
            AccessLog::Off => {}
            AccessLog::Stderr => {
                let _ = writeln!(std::io::stderr().lock(), "{line}");
            }
            AccessLog::Memory(v) => v.lock().expect("log lock").push(line.to_string()),
        }
    }
}

/// Server options.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Requests that may wait for a slot beyond those generating; more get 429.
    pub max_queue: usize,
    /// The `Retry-After` sent with 429.
    pub retry_after: Duration,
    /// Accepted API keys; empty means no authentication (`Authorization` is ignored).
    pub api_keys: Vec<String>,
    /// Per-request log destination.
    pub access_log: AccessLog,
    /// Browser origins allowed by CORS (`https://app.example`, or `*` for any); empty allows
    /// none, so browser pages on other origins cannot call the service.
    pub cors_origins: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_queue: 64,
            retry_after: Duration::from_secs(1),
            api_keys: Vec::new(),
            access_log: AccessLog::Stderr,
            cors_origins: Vec::new(),
        }
    }
}

struct Inner {
    models: Registry,
    config: ServerConfig,
    /// Admission per model id: that model's slots plus the queue places.
    admission: Mutex<HashMap<String, (Arc<Semaphore>, usize)>>,
    metrics: Metrics,
    next_id: AtomicU64,
    boot_secs: u64,
}

/// Shared state of all handlers.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("models", &self.0.models)
            .field("config", &self.0.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State for one engine, resident for good, with `config`.
    pub fn new(engine: Arc<dyn Engine>, config: ServerConfig) -> Self {
        Self::with_models(Registry::single(engine), config)
    }

    /// State over a model registry (`twin llm serve --models DIR`).
    pub fn with_models(models: Registry, config: ServerConfig) -> Self {
        AppState(Arc::new(Inner {
            models,
            admission: Mutex::new(HashMap::new()),
            metrics: Metrics::default(),
            next_id: AtomicU64::new(0),
            boot_secs: infer::unix_time(),
            config,
        }))
    }

    /// The model registry.
    pub fn models(&self) -> &Registry {
        &self.0.models
    }

    /// The admission semaphore of a model and its capacity.
    fn admission(&self, engine: &dyn Engine) -> (Arc<Semaphore>, usize) {
        let capacity = engine.model().slots as usize + self.0.config.max_queue;
        let mut map = self.0.admission.lock().expect("admission lock");
        let (sem, cap) = map
            .entry(engine.model().id.clone())
            .or_insert_with(|| (Arc::new(Semaphore::new(capacity)), capacity));
        (Arc::clone(sem), *cap)
    }

    /// Requests admitted and not finished, over all models.
    fn in_flight(&self) -> usize {
        let map = self.0.admission.lock().expect("admission lock");
        map.values()
            .map(|(s, cap)| cap - s.available_permits())
            .sum()
    }
}

/// Unloads models past their keep-alive while the state lives.
fn spawn_reaper(state: &AppState) {
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let weak = Arc::downgrade(&state.0);
    rt.spawn(async move {
        loop {
            tokio::time::sleep(REAP_EVERY).await;
            let Some(inner) = weak.upgrade() else { return };
            let models = inner.models.clone();
            drop(inner);
            // Dropping an engine may wait for its threads: off the async workers.
            let _ = tokio::task::spawn_blocking(move || models.reap()).await;
        }
    });
}

/// How often idle models are checked against their keep-alive.
const REAP_EVERY: Duration = Duration::from_millis(250);

/// The service's routes over `engine`.
pub fn router(engine: Arc<dyn Engine>, config: ServerConfig) -> Router {
    router_with_state(AppState::new(engine, config))
}

/// The service's routes over existing state (to share metrics between routers).
pub fn router_with_state(state: AppState) -> Router {
    spawn_reaper(&state);
    Router::new()
        .route("/v1/chat/completions", post(openai::chat_completions))
        .route("/v1/completions", post(openai::completions))
        .route("/v1/models", get(openai::models))
        .route("/v1/embeddings", post(embeddings::embeddings))
        .route("/api/chat", post(ollama::chat))
        .route("/api/generate", post(ollama::generate))
        .route("/api/tags", get(ollama::tags))
        .route("/api/show", post(ollama::show))
        .route("/api/ps", get(ollama::ps))
        .route("/api/version", get(ollama::version))
        .route("/generate", post(generate))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/", get(|| async { "Twin model service is running" }))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

/// Serves `router` on `addr` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Binds `127.0.0.1:port` (port 0 picks a free one).
pub async fn bind_local(port: u16) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await
}

/// The error type and message of an error response, for the tracking middleware.
#[derive(Debug, Clone)]
pub(crate) struct ErrorNote(&'static str, String);

/// Marks a response whose generation writes its own log line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Generating;

/// Authentication, request counting, and log lines for requests that did not generate.
async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let endpoint = endpoint_label(&path);
    let origin = allowed_origin(&state.0.config.cors_origins, &req);
    if method == Method::OPTIONS {
        // A CORS preflight: answered here, before authentication (browsers send no key).
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = axum::http::StatusCode::NO_CONTENT;
        if let Some(o) = origin {
            let h = resp.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, OPTIONS"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("authorization, content-type"),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
        }
        return resp;
    }
    let authorised = state.0.config.api_keys.is_empty()
        || matches!(path.as_str(), "/health" | "/")
        || req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|k| state.0.config.api_keys.iter().any(|a| a == k.trim()));
    let resp = if authorised {
        next.run(req).await
    } else {
        with_note(ApiError::Unauthorized)
    };
    let mut resp = resp;
    if let Some(o) = origin {
        resp.headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
    }
    let status = resp.status().as_u16();
    state.0.metrics.request(endpoint, status);
    let note = resp.extensions().get::<ErrorNote>().cloned();
    let generated = resp.extensions().get::<Generating>().is_some();
    if let (Some(ErrorNote(ty, _)), false) = (&note, generated) {
        state.0.metrics.error(ty);
    }
    if !generated && method != Method::GET {
        let mut line = json!({
            "ts": infer::unix_seconds(),
            "endpoint": endpoint,
            "method": method.as_str(),
            "status": status,
            "duration_ms": started.elapsed().as_secs_f64() * 1e3,
        });
        if let Some(ErrorNote(ty, msg)) = note {
            line["error_type"] = ty.into();
            line["error"] = msg.into();
        }
        state.0.config.access_log.write(&line);
    }
    resp
}

/// The `Access-Control-Allow-Origin` value for this request, if its origin is allowed.
fn allowed_origin(allowed: &[String], req: &Request) -> Option<HeaderValue> {
    let origin = req.headers().get(header::ORIGIN)?;
    let text = origin.to_str().ok()?;
    allowed
        .iter()
        .any(|a| a == "*" || a == text)
        .then(|| origin.clone())
}

/// A bounded label set for metrics.
fn endpoint_label(path: &str) -> &'static str {
    const KNOWN: [&str; 14] = [
        "/v1/chat/completions",
        "/v1/embeddings",
        "/v1/completions",
        "/v1/models",
        "/api/chat",
        "/api/generate",
        "/api/tags",
        "/api/show",
        "/api/ps",
        "/api/version",
        "/generate",
        "/health",
        "/metrics",
        "/",
    ];
    KNOWN.into_iter().find(|k| *k == path).unwrap_or("other")
}

/// An error response carrying its note for the middleware.
pub(crate) fn with_note(e: ApiError) -> Response {
    let note = ErrorNote(e.error_type(), e.to_string());
    let mut resp = e.into_response();
    resp.extensions_mut().insert(note);
    resp
}

/// The error response of a generation that failed after admission (its log line and error
/// count come from the generation itself).
pub(crate) fn generation_failed(e: ApiError) -> Response {
    let mut resp = with_note(e);
    resp.extensions_mut().insert(Generating);
    resp
}

/// Converts a handler result into a response, attaching error notes.
pub(crate) fn respond(r: Result<Response, ApiError>) -> Response {
    r.unwrap_or_else(with_note)
}

async fn not_found(method: Method, uri: axum::http::Uri) -> Response {
    with_note(ApiError::NotFound {
        method: method.to_string(),
        path: uri.path().to_owned(),
    })
}

async fn health(State(state): State<AppState>) -> Response {
    let models = state.models();
    let load = models.load();
    Json(json!({
        "status": "ok",
        "model": models.entries().first().map(|e| e.id.as_str()),
        "models_available": models.entries().len(),
        "models_loaded": models.resident().len(),
        "slots": load.slots,
        "slots_busy": load.active,
        "queue_depth": load.queued,
    }))
    .into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    let body = state
        .0
        .metrics
        .render(state.models().load(), state.in_flight());
    let mut resp = Response::new(Body::from(body));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}

/// `POST /generate` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlainRequest {
    input_text: String,
    #[serde(default)]
    max_tokens: Option<i64>,
    #[serde(default)]
    temperature: Option<f32>,
    /// Use `input_text` as the raw prompt instead of one user message.
    #[serde(default)]
    raw: bool,
    /// Which model (default: the first one served).
    #[serde(default)]
    model: Option<String>,
}

/// `POST /generate {"input_text": …}` → `{"response": …}` (reasoning, if any, apart).
async fn generate(State(state): State<AppState>, body: Bytes) -> Response {
    respond(
        async {
            let req: PlainRequest = infer::parse_body(&body)?;
            let mut params = SamplingParams {
                max_tokens: openai::max_tokens("max_tokens", req.max_tokens)?,
                ..SamplingParams::default()
            };
            if let Some(t) = req.temperature {
                params.temperature = t;
            }
            params.validate()?;
            let model = state.model(req.model.as_deref(), None).await?;
            let prompt = if req.raw {
                req.input_text
            } else {
                model
                    .engine()
                    .render_chat(&[ChatMessage::new("user", req.input_text)])?
            };
            let split = reasoning_start(&model, &prompt, !req.raw);
            let run = state.start(&model, "/generate", "gen", prompt, params, split)?;
            let out = match run.collect().await {
                Ok(out) => out,
                Err(e) => return Ok(generation_failed(e)),
            };
            let mut body = json!({ "response": out.content });
            if !out.reasoning.is_empty() {
                body["reasoning"] = out.reasoning.into();
            }
            let mut resp = Json(body).into_response();
            resp.extensions_mut().insert(Generating);
            Ok(resp)
        }
        .await,
    )
}

#[cfg(test)]
mod tests;
