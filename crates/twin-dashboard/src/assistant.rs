//! `POST /api/assistant/ask`: puts a question to the federation's assistant
//! member on `twin/assistant/ask` and, unless told not to wait, answers
//! with the final [`AssistantAnswer`] (`done: true`) of that question id on
//! `twin/assistant/answer`; partial answers (`done: false`) are skipped.
//!
//! Body: `{"question": "…", "wait": true}`; `wait` defaults to true.
//!
//! | outcome | status | body |
//! |---|---|---|
//! | answered | 200 | the answer: `{id, text, citations, model, sim_time, error, done}` |
//! | `wait: false` | 202 | `{"id": …}`; the answer arrives on the WebSocket feed |
//! | empty or over-long question, bad JSON | 422 | `bad_question` |
//! | nobody reads `twin/assistant/ask` | 503 | `no_assistant` |
//! | no final answer in time | 504 | `assistant_timeout` |
//!
//! Pages use `wait: false` and follow the answer on the feed, where an
//! assistant that republishes a growing answer under the same id streams in.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use axum::{
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::json;
use twin_bus::{Bus, Participant, Reader, ReaderQos, Writer, WriterQos};
use twin_federation::proto::{AssistantAnswer, AssistantQuestion, ANSWER_TOPIC, ASK_TOPIC};

use crate::{hub::lock, ApiError, AppState, DashboardError};

/// Longest question accepted [characters].
pub const MAX_QUESTION_CHARS: usize = 4000;
/// Answers held for waiting requests; older unclaimed ones are dropped.
const MAX_PENDING: usize = 256;
/// How often a waiting request looks for its answer.
const POLL: Duration = Duration::from_millis(40);

/// The dashboard's side of the assistant protocol.
pub(crate) struct AssistantLink {
    bus: Bus,
    questions: Writer<AssistantQuestion>,
    answers: Mutex<Reader<AssistantAnswer>>,
    /// Answers to this dashboard's questions not yet claimed, by id.
    pending: Mutex<HashMap<Arc<str>, AssistantAnswer>>,
    next: AtomicU64,
    /// Keeps the endpoints' participant alive.
    _participant: Participant,
}

/// Body of `POST /api/assistant/ask`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ask {
    question: String,
    #[serde(default = "yes")]
    wait: bool,
}

fn yes() -> bool {
    true
}

impl AssistantLink {
    /// Opens the question writer and answer reader as participant
    /// `dashboard-assistant`.
    pub(crate) fn new(bus: &Bus) -> Result<Self, DashboardError> {
        let p = bus.participant("dashboard-assistant");
        let questions = p.writer(
            &p.topic::<AssistantQuestion>(ASK_TOPIC)?,
            WriterQos::default().reliable(),
        )?;
        let answers = p.reader(
            &p.topic::<AssistantAnswer>(ANSWER_TOPIC)?,
            ReaderQos::default().reliable().keep_last(1),
        )?;
        Ok(AssistantLink {
            bus: bus.clone(),
            questions,
            answers: Mutex::new(answers),
            pending: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
            _participant: p,
        })
    }

    /// Whether some member reads questions.
    fn assistant_present(&self) -> bool {
        self.bus
            .topics()
            .iter()
            .any(|t| t.descriptor.name == ASK_TOPIC && t.readers > 0)
    }

    /// Moves arrived answers to our questions into `pending` (the latest
    /// sample per id); returns the one for `id` once it is final.
    fn claim(&self, id: &str) -> Option<AssistantAnswer> {
        let arrived = lock(&self.answers).take();
        let mut pending = lock(&self.pending);
        for a in arrived.into_iter().filter_map(|s| s.value) {
            if a.id.starts_with("dashboard-") {
                if pending.len() >= MAX_PENDING {
                    pending.clear();
                }
                pending.insert(Arc::clone(&a.id), a);
            }
        }
        if pending.get(id).is_some_and(|a| a.done) {
            pending.remove(id)
        } else {
            None
        }
    }
}

/// `POST /api/assistant/ask`.
pub(crate) async fn ask(
    State(app): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ask: Ask = serde_json::from_slice(&body).map_err(|e| {
        ApiError::BadQuestion(format!(
            "body must be {{\"question\": text, \"wait\"?: bool}}: {e}"
        ))
    })?;
    let text = ask.question.trim();
    if text.is_empty() {
        return Err(ApiError::BadQuestion("the question is empty".into()));
    }
    let chars = text.chars().count();
    if chars > MAX_QUESTION_CHARS {
        return Err(ApiError::BadQuestion(format!(
            "the question has {chars} characters; at most {MAX_QUESTION_CHARS} are accepted"
        )));
    }
    let link = &app.assistant;
    // Drains answers that arrived since the last request (those to
    // questions asked without waiting are not claimed otherwise).
    let _ = link.claim("");
    if !link.assistant_present() {
        return Err(ApiError::NoAssistant);
    }
    let n = link.next.fetch_add(1, Ordering::Relaxed);
    let id: Arc<str> = format!("dashboard-{n}").into();
    let q = AssistantQuestion {
        id: Arc::clone(&id),
        asked_by: "dashboard".into(),
        text: text.to_owned(),
    };
    let app2 = Arc::clone(&app);
    // A reliable write may block briefly on a full reader queue.
    tokio::task::spawn_blocking(move || {
        app2.assistant.questions.write(q).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| ApiError::Send(e.to_string()))?
    .map_err(ApiError::Send)?;
    tracing::info!("dashboard: asked the assistant ({id})");
    if !ask.wait {
        return Ok((StatusCode::ACCEPTED, Json(json!({ "id": id }))).into_response());
    }
    let deadline = Instant::now() + app.config.assistant_timeout;
    loop {
        if let Some(a) = link.claim(&id) {
            return Ok(Json(a).into_response());
        }
        if Instant::now() >= deadline {
            return Err(ApiError::AssistantTimeout {
                id: id.to_string(),
                secs: app.config.assistant_timeout.as_secs_f64(),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}
