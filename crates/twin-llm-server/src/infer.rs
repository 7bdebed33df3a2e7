//! The request pipeline shared by every API: admission, submission, reasoning split,
//! metrics and the per-request log line.
//!
//! A handler validates its request into a prompt and [`SamplingParams`], then calls
//! [`AppState::start`], which takes an admission permit (or fails with 429) and submits to the
//! engine. The returned [`Running`] yields [`Step`]s; dropping it early cancels the
//! generation, and its `Drop` writes the request's JSON log line in every case.

use std::{
    collections::VecDeque,
    sync::atomic::Ordering,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::sync::OwnedSemaphorePermit;
use twin_llm::{Completion, Event, GenerateRequest, Generation, KeepAlive, Lease, SamplingParams};

use crate::{
    error::ApiError,
    reasoning::{Split, Splitter, Start},
    AppState,
};

/// One unit of output.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// Reasoning text (inside `<think>`).
    Reasoning(String),
    /// Answer text.
    Content(String),
    /// The end, with counts.
    Done(Completion),
}

/// The collected output of a non-streaming request.
#[derive(Debug)]
pub(crate) struct Collected {
    pub(crate) reasoning: String,
    pub(crate) content: String,
    pub(crate) completion: Completion,
}

/// An admitted, running generation.
#[derive(Debug)]
pub(crate) struct Running {
    state: AppState,
    endpoint: &'static str,
    pub(crate) id: String,
    generation: Generation,
    _permit: OwnedSemaphorePermit,
    splitter: Option<Splitter>,
    arrived: Instant,
    first_at: Option<Instant>,
    pending: VecDeque<Step>,
    outcome: Option<Result<Completion, ApiError>>,
    /// Keeps the model loaded while the generation runs (dropped last).
    model: Lease,
}

/// The reasoning mode for a rendered prompt, or `None` when splitting is off.
pub(crate) fn reasoning_start(model: &Lease, prompt: &str, split: bool) -> Option<Start> {
    let template_has_think = model.engine().chat_template().source().contains("</think>");
    split.then(|| Splitter::start_for_prompt(prompt, template_has_think))
}

/// Ollama's `keep_alive`: a duration string (`"5m"`, `"-1"`), a number of seconds, or null.
pub(crate) fn keep_alive(v: Option<&serde_json::Value>) -> Result<Option<KeepAlive>, ApiError> {
    use serde_json::Value;
    let parsed = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => KeepAlive::from_seconds(n.as_f64().unwrap_or(f64::NAN)),
        Some(Value::String(t)) => KeepAlive::parse(t),
        Some(other) => Err(format!("expected a duration or seconds, got {other}")),
    };
    parsed
        .map(Some)
        .map_err(|m| ApiError::field("keep_alive", m))
}

impl AppState {
    /// A lease on the requested model (absent or empty: the first one served), loading it
    /// when it is not resident.
    pub(crate) async fn model(
        &self,
        name: Option<&str>,
        keep_alive: Option<KeepAlive>,
    ) -> Result<Lease, ApiError> {
        let models = self.0.models.clone();
        let name = name.map(str::to_owned);
        tokio::task::spawn_blocking(move || models.acquire(name.as_deref(), keep_alive))
            .await
            .map_err(|_| ApiError::Unavailable)?
            .map_err(ApiError::from)
    }

    /// Admits and submits a generation on `model` (which stays loaded until it ends).
    pub(crate) fn start(
        &self,
        model: &Lease,
        endpoint: &'static str,
        id_prefix: &str,
        prompt: String,
        params: SamplingParams,
        reasoning: Option<Start>,
    ) -> Result<Running, ApiError> {
        let arrived = Instant::now();
        let (admission, capacity) = self.admission(model.engine().as_ref());
        let permit = admission.try_acquire_owned().map_err(|_| {
            self.0.metrics.rejected();
            ApiError::Overloaded {
                capacity,
                retry_after: self.0.config.retry_after,
            }
        })?;
        let generation = model.engine().submit(GenerateRequest { prompt, params })?;
        let n = self.0.next_id.fetch_add(1, Ordering::Relaxed);
        Ok(Running {
            state: self.clone(),
            model: model.clone(),
            endpoint,
            id: format!("{id_prefix}-{:x}{n:06x}", self.0.boot_secs),
            generation,
            _permit: permit,
            splitter: reasoning.map(Splitter::new),
            arrived,
            first_at: None,
            pending: VecDeque::new(),
            outcome: None,
        })
    }
}

impl Running {
    fn split(&mut self, parts: Vec<Split>) {
        self.pending.extend(parts.into_iter().map(|p| match p {
            Split::Reasoning(t) => Step::Reasoning(t),
            Split::Content(t) => Step::Content(t),
        }));
    }

    /// The next step; `None` after [`Step::Done`] or an error.
    pub(crate) async fn next(&mut self) -> Option<Result<Step, ApiError>> {
        loop {
            if let Some(step) = self.pending.pop_front() {
                return Some(Ok(step));
            }
            if self.outcome.is_some() {
                return None;
            }
            match self.generation.next().await {
                Some(Event::Text(t)) => {
                    if self.first_at.is_none() {
                        self.first_at = Some(Instant::now());
                        self.state.0.metrics.first_token(self.arrived.elapsed());
                    }
                    match &mut self.splitter {
                        Some(s) => {
                            let parts = s.push(&t);
                            self.split(parts);
                        }
                        None => self.pending.push_back(Step::Content(t)),
                    }
                }
                Some(Event::Done(c)) => {
                    if let Some(s) = &mut self.splitter {
                        let parts = s.finish();
                        self.split(parts);
                    }
                    self.pending.push_back(Step::Done(c));
                    self.state.0.metrics.completed(&c, self.arrived.elapsed());
                    self.outcome = Some(Ok(c));
                }
                Some(Event::Error(e)) => return Some(Err(self.fail(e.into()))),
                None => return Some(Err(self.fail(ApiError::Unavailable))),
            }
        }
    }

    /// Milliseconds from the handler's start to the first generated text, once there is some.
    pub(crate) fn ttft_ms(&self) -> Option<f64> {
        self.first_at
            .map(|t| (t - self.arrived).as_secs_f64() * 1e3)
    }

    fn fail(&mut self, e: ApiError) -> ApiError {
        self.state.0.metrics.error(e.error_type());
        self.outcome = Some(Err(e.clone()));
        e
    }

    /// Runs to the end and collects the output.
    pub(crate) async fn collect(mut self) -> Result<Collected, ApiError> {
        let (mut reasoning, mut content) = (String::new(), String::new());
        while let Some(step) = self.next().await {
            match step? {
                Step::Reasoning(t) => reasoning.push_str(&t),
                Step::Content(t) => content.push_str(&t),
                Step::Done(completion) => {
                    return Ok(Collected {
                        reasoning,
                        content,
                        completion,
                    })
                }
            }
        }
        Err(ApiError::Unavailable)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let m = &self.state.0.metrics;
        let ttft = self.ttft_ms();
        let mut line = json!({
            "ts": unix_seconds(),
            "id": self.id,
            "endpoint": self.endpoint,
            "model": self.model.id(),
            "prompt_tokens": self.generation.prompt_tokens(),
            "ttft_ms": ttft,
            "duration_ms": self.arrived.elapsed().as_secs_f64() * 1e3,
        });
        let fields = line.as_object_mut().expect("a JSON object");
        match &self.outcome {
            Some(Ok(c)) => {
                fields.insert("status".into(), "ok".into());
                fields.insert("finish_reason".into(), c.finish_reason.as_str().into());
                fields.insert("completion_tokens".into(), c.usage.completion_tokens.into());
                fields.insert("cached_tokens".into(), c.usage.cached_tokens.into());
            }
            Some(Err(e)) => {
                fields.insert("status".into(), "error".into());
                fields.insert("error_type".into(), e.error_type().into());
                fields.insert("error".into(), e.to_string().into());
            }
            None => {
                m.cancelled();
                fields.insert("status".into(), "cancelled".into());
            }
        }
        self.state.0.config.access_log.write(&line);
    }
}

/// Seconds since the Unix epoch, with milliseconds.
pub(crate) fn unix_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| (d.as_millis() as f64) / 1e3)
}

/// Whole seconds since the Unix epoch (the OpenAI `created` field).
pub(crate) fn unix_time() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Parses a JSON body; errors name the offending field.
pub(crate) fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::MalformedJson {
                message: inner.to_string(),
            };
        }
        let msg = inner.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
        // `missing field `x`` is reported at the parent; name the field itself.
        let param = match msg
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next())
        {
            Some(field) if path == "." => field.to_owned(),
            Some(field) => format!("{path}.{field}"),
            None if path == "." => "body".to_owned(),
            None => path,
        };
        ApiError::field(param, msg)
    })
}
