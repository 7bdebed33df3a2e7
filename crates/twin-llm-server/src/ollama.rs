//! The Ollama-compatible surface: `/api/chat`, `/api/generate` (NDJSON streaming by default),
//! `/api/tags`, `/api/show`, `/api/ps`, `/api/version`.
//!
//! Durations are nanoseconds and timestamps RFC 3339, as Ollama sends them. Reasoning goes to
//! `message.thinking` / `thinking` unless the request says `think: false`.

use std::{
    collections::{BTreeMap, VecDeque},
    convert::Infallible,
    time::Duration,
};

use axum::{
    body::{Body, Bytes},
    extract::State,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
    Json,
};
use futures_util::stream;
use serde::Deserialize;
use serde_json::{json, Value};
use twin_llm::{ChatMessage, Completion, Constraint, KeepAlive, ModelEntry, SamplingParams};

use crate::{
    error::ApiError,
    generation_failed,
    infer::{keep_alive, parse_body, reasoning_start, unix_time, Running, Step},
    openai::{to_chat, Stop},
    respond,
    tools::{self, Holder, Out, Tools},
    AppState, Generating,
};

/// The subset of Ollama's `options` that maps to sampling; others are accepted and ignored.
#[derive(Debug, Default, Deserialize)]
struct Options {
    temperature: Option<f32>,
    top_k: Option<i64>,
    top_p: Option<f32>,
    min_p: Option<f32>,
    num_predict: Option<i64>,
    seed: Option<i64>,
    stop: Option<Stop>,
    repeat_penalty: Option<f32>,
    repeat_last_n: Option<i64>,
    presence_penalty: Option<f32>,
    frequency_penalty: Option<f32>,
}

/// Ollama's `format`: `"json"` or a JSON schema object.
fn constraint(format: Option<Value>) -> Result<Option<Constraint>, ApiError> {
    match format {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) if s == "json" => Ok(Some(Constraint::Json)),
        Some(v @ Value::Object(_)) => Ok(Some(Constraint::JsonSchema(v.to_string()))),
        Some(other) => Err(ApiError::field(
            "format",
            format!("expected \"json\" or a schema, got {other}"),
        )),
    }
}

impl Options {
    fn into_params(self, format: Option<Value>) -> Result<SamplingParams, ApiError> {
        // -1 is "no limit", -2 "fill the context"; both mean no explicit limit here.
        let max_tokens = match self.num_predict {
            None | Some(-1 | -2) => None,
            Some(n) if n >= 1 => Some(u32::try_from(n).unwrap_or(u32::MAX)),
            Some(n) => {
                return Err(ApiError::field(
                    "options.num_predict",
                    format!("must be at least 1 (or -1 for no limit), got {n}"),
                ))
            }
        };
        let mut p = SamplingParams {
            max_tokens,
            ..SamplingParams::default()
        };
        let non_negative = |field: &'static str, v: i64| {
            u32::try_from(v)
                .map_err(|_| ApiError::field(field, format!("must be 0 or more, got {v}")))
        };
        if let Some(v) = self.temperature {
            p.temperature = v;
        }
        if let Some(k) = self.top_k {
            p.top_k = non_negative("options.top_k", k)?;
        }
        if let Some(v) = self.top_p {
            p.top_p = v;
        }
        if let Some(v) = self.min_p {
            p.min_p = v;
        }
        if let Some(v) = self.repeat_penalty {
            p.repeat_penalty = v;
        }
        if let Some(v) = self.repeat_last_n {
            p.repeat_last_n = non_negative("options.repeat_last_n", v)?;
        }
        if let Some(v) = self.presence_penalty {
            p.presence_penalty = v;
        }
        if let Some(v) = self.frequency_penalty {
            p.frequency_penalty = v;
        }
        p.seed = self.seed.map(|s| s as u64);
        p.stop = self.stop.map(Stop::into_vec).unwrap_or_default();
        p.constraint = constraint(format)?;
        p.validate().map_err(|e| match ApiError::from(e) {
            ApiError::InvalidField { param, message } => ApiError::InvalidField {
                param: format!("options.{param}"),
                message,
            },
            other => other,
        })?;
        Ok(p)
    }
}

/// A chat message (images are not supported and ignored).
#[derive(Debug, Deserialize)]
struct OllamaMessage {
    role: String,
    /// Text; absent or null (Ollama's Go decoder takes null as empty) is empty.
    #[serde(default)]
    content: Option<String>,
    /// An earlier assistant turn's calls (`[{function: {name, arguments}}]`).
    #[serde(default)]
    tool_calls: Option<Vec<Value>>,
}

fn default_true() -> bool {
    true
}

/// `POST /api/chat` body.
#[derive(Debug, Deserialize)]
struct ChatRequest {
    model: Option<String>,
    /// How long the model stays loaded after this request (`"5m"`, seconds, `-1`, `0`).
    keep_alive: Option<Value>,
    #[serde(default)]
    messages: Vec<OllamaMessage>,
    #[serde(default = "default_true")]
    stream: bool,
    format: Option<Value>,
    #[serde(default)]
    options: Option<Options>,
    think: Option<Value>,
    /// Functions the model may call (module `tools`; Ollama has no `tool_choice`).
    tools: Option<Value>,
}

/// `POST /api/generate` body: `prompt` is templated as one user turn (after `system`) unless
/// `raw` is set.
#[derive(Debug, Deserialize)]
struct GenerateRequest {
    model: Option<String>,
    /// How long the model stays loaded after this request.
    keep_alive: Option<Value>,
    #[serde(default)]
    prompt: String,
    system: Option<String>,
    #[serde(default)]
    raw: bool,
    #[serde(default = "default_true")]
    stream: bool,
    format: Option<Value>,
    #[serde(default)]
    options: Option<Options>,
    think: Option<Value>,
}

/// `think: false` turns the split off; `true`, levels and absence keep it.
fn thinks(think: Option<&Value>) -> bool {
    !matches!(think, Some(Value::Bool(false)))
}

/// `POST /api/chat`.
pub(crate) async fn chat(State(state): State<AppState>, body: Bytes) -> Response {
    respond(
        async {
            let req: ChatRequest = parse_body(&body)?;
            let keep = keep_alive(req.keep_alive.as_ref())?;
            let model = state.model(req.model.as_deref(), keep).await?;
            if req.messages.is_empty() {
                // Ollama loads (or, with keep_alive 0, unloads) the model on an empty chat.
                let reason = if keep == Some(KeepAlive::For(Duration::ZERO)) {
                    "unload"
                } else {
                    "load"
                };
                return Ok(Json(json!({
                    "model": model.id(), "created_at": rfc3339_now(),
                    "message": {"role": "assistant", "content": ""},
                    "done": true, "done_reason": reason,
                }))
                .into_response());
            }
            let params = req.options.unwrap_or_default().into_params(req.format)?;
            let messages = to_chat(
                req.messages
                    .into_iter()
                    .map(|m| (m.role, m.content.unwrap_or_default(), m.tool_calls))
                    .collect(),
            )?;
            let tools = Tools::parse(req.tools, None)?;
            let prompt = match &tools {
                Some(t) => t.render(model.engine().chat_template(), &messages)?,
                None => model.engine().render_chat(&tools::flatten(&messages))?,
            };
            let split = reasoning_start(&model, &prompt, thinks(req.think.as_ref()));
            let run = state.start(&model, "/api/chat", "ollama", prompt, params, split)?;
            reply(model.id(), run, req.stream, Kind::Chat, tools).await
        }
        .await,
    )
}

/// `POST /api/generate`.
pub(crate) async fn generate(State(state): State<AppState>, body: Bytes) -> Response {
    respond(
        async {
            let req: GenerateRequest = parse_body(&body)?;
            let keep = keep_alive(req.keep_alive.as_ref())?;
            let model = state.model(req.model.as_deref(), keep).await?;
            if req.prompt.is_empty() {
                // Ollama loads (or, with keep_alive 0, unloads) the model on an empty prompt.
                let reason = if keep == Some(KeepAlive::For(Duration::ZERO)) {
                    "unload"
                } else {
                    "load"
                };
                return Ok(Json(json!({
                    "model": model.id(), "created_at": rfc3339_now(), "response": "",
                    "done": true, "done_reason": reason,
                }))
                .into_response());
            }
            let params = req.options.unwrap_or_default().into_params(req.format)?;
            let prompt = if req.raw {
                req.prompt
            } else {
                let mut messages = Vec::new();
                if let Some(system) = req.system {
                    messages.push(ChatMessage::new("system", system));
                }
                messages.push(ChatMessage::new("user", req.prompt));
                model.engine().render_chat(&messages)?
            };
            let split = reasoning_start(&model, &prompt, !req.raw && thinks(req.think.as_ref()));
            let run = state.start(&model, "/api/generate", "ollama", prompt, params, split)?;
            reply(model.id(), run, req.stream, Kind::Generate, None).await
        }
        .await,
    )
}

/// Which Ollama reply shape to produce.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// `/api/chat`: text under `message.content`, reasoning under `message.thinking`.
    Chat,
    /// `/api/generate`: text under `response`, reasoning under `thinking`.
    Generate,
}

impl Kind {
    /// A partial or complete reply object.
    fn object(self, model: &str, content: &str, thinking: &str, done: bool) -> Value {
        let mut v = match self {
            Kind::Chat => {
                let mut m = json!({ "role": "assistant", "content": content });
                if !thinking.is_empty() {
                    m["thinking"] = thinking.into();
                }
                json!({ "model": model, "created_at": rfc3339_now(), "message": m, "done": done })
            }
            Kind::Generate => {
                let mut v = json!({
                    "model": model, "created_at": rfc3339_now(), "response": content, "done": done,
                });
                if !thinking.is_empty() {
                    v["thinking"] = thinking.into();
                }
                v
            }
        };
        if matches!(self, Kind::Generate) && done {
            v["context"] = json!([]);
        }
        v
    }
}

/// Adds Ollama's final counters to `v`.
fn finish(v: &mut Value, c: &Completion) {
    let ns = |d: std::time::Duration| d.as_nanos() as u64;
    let t = &c.timings;
    v["done_reason"] = c.finish_reason.as_str().into();
    v["total_duration"] = ns(t.queued + t.prompt + t.decode).into();
    v["load_duration"] = 0.into();
    v["prompt_eval_count"] = c.usage.prompt_tokens.into();
    v["prompt_eval_duration"] = ns(t.prompt).into();
    v["eval_count"] = c.usage.completion_tokens.into();
    v["eval_duration"] = ns(t.decode).into();
}

/// A reply object whose message is these tool calls.
fn calls_object(kind: Kind, model: &str, calls: &[tools::Call], done: bool) -> Value {
    let mut v = kind.object(model, "", "", done);
    v["message"]["tool_calls"] = tools::ollama_calls(calls);
    v
}

async fn reply(
    model: &str,
    run: Running,
    stream: bool,
    kind: Kind,
    tools: Option<Tools>,
) -> Result<Response, ApiError> {
    let model = model.to_owned();
    if !stream {
        let out = match run.collect().await {
            Ok(out) => out,
            Err(e) => return Ok(generation_failed(e)),
        };
        let calls = tools.as_ref().and_then(|t| t.parse_reply(&out.content));
        let mut v = match &calls {
            Some(calls) => calls_object(kind, &model, calls, true),
            None => kind.object(&model, &out.content, &out.reasoning, true),
        };
        if calls.is_some() && !out.reasoning.is_empty() {
            v["message"]["thinking"] = out.reasoning.into();
        }
        finish(&mut v, &out.completion);
        let mut resp = Json(v).into_response();
        resp.extensions_mut().insert(Generating);
        return Ok(resp);
    }
    let start = (Some(run), Holder::new(tools), VecDeque::<Bytes>::new());
    let lines = stream::unfold(start, move |(mut run, mut holder, mut queue)| {
        let model = model.clone();
        async move {
            loop {
                if let Some(l) = queue.pop_front() {
                    return Some((Ok::<_, Infallible>(l), (run, holder, queue)));
                }
                let r = run.as_mut()?;
                let step = match r.next().await {
                    Some(Ok(step)) => step,
                    Some(Err(e)) => {
                        queue.push_back(line(&json!({ "error": e.to_string() })));
                        run = None;
                        continue;
                    }
                    None => return None,
                };
                for out in holder.feed(step) {
                    let v = match out {
                        Out::Step(Step::Content(t)) => kind.object(&model, &t, "", false),
                        Out::Step(Step::Reasoning(t)) => kind.object(&model, "", &t, false),
                        Out::Calls(calls) => calls_object(kind, &model, &calls, false),
                        Out::Step(Step::Done(c)) => {
                            let mut v = kind.object(&model, "", "", true);
                            finish(&mut v, &c);
                            run = None;
                            v
                        }
                    };
                    queue.push_back(line(&v));
                }
            }
        }
    });
    let mut resp = Response::new(Body::from_stream(lines));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    resp.extensions_mut().insert(Generating);
    Ok(resp)
}

fn line(v: &Value) -> Bytes {
    let mut s = v.to_string();
    s.push('\n');
    Bytes::from(s)
}

/// Ollama's `details` object.
fn details(m: &ModelEntry) -> Value {
    json!({
        "parent_model": "",
        "format": "gguf",
        "family": m.architecture,
        "families": [m.architecture],
        "parameter_size": parameter_size(m.parameter_count),
        "quantization_level": m.quantization,
    })
}

/// `135M`, `1.5B`, … as Ollama prints parameter counts.
fn parameter_size(n: u64) -> String {
    match n {
        0 => "unknown".into(),
        n if n >= 1_000_000_000 => format!("{:.1}B", n as f64 / 1e9),
        n => format!("{:.0}M", n as f64 / 1e6),
    }
}

fn digest(m: &ModelEntry) -> String {
    // Not a content hash: a stable identifier of this model and file size.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in m.id.bytes().chain(m.size_bytes.to_le_bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    format!("{h:016x}")
}

fn modified_secs(m: &ModelEntry, fallback: u64) -> u64 {
    m.modified
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(fallback, |d| d.as_secs())
}

/// `GET /api/tags`: every model served, loaded or not.
pub(crate) async fn tags(State(state): State<AppState>) -> Response {
    let models: Vec<Value> = state
        .models()
        .entries()
        .iter()
        .map(|m| {
            json!({
                "name": m.id,
                "model": m.id,
                "modified_at": rfc3339(modified_secs(m, state.0.boot_secs)),
                "size": m.size_bytes,
                "digest": digest(m),
                "details": details(m),
            })
        })
        .collect();
    Json(json!({ "models": models })).into_response()
}

/// `GET /api/ps`: the resident models, with their accounted memory and expiry.
pub(crate) async fn ps(State(state): State<AppState>) -> Response {
    let models = state.models().clone();
    let resident = tokio::task::spawn_blocking(move || {
        models.reap();
        models.resident()
    })
    .await
    .unwrap_or_default();
    let list: Vec<Value> = resident
        .iter()
        .filter_map(|r| {
            let m = state.models().entries().iter().find(|e| e.id == r.id)?;
            // Forever shows as far in the future, as Ollama does.
            let expires = r.expires_at.map_or(unix_time() + 100 * 365 * 86_400, |t| {
                t.duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            });
            Some(json!({
                "name": m.id,
                "model": m.id,
                "size": r.memory_bytes,
                "digest": digest(m),
                "details": details(m),
                "expires_at": rfc3339(expires),
                "size_vram": 0,
                "context_length": m.context_length,
                "requests_in_flight": r.in_use,
                "slots": r.load.slots,
            }))
        })
        .collect();
    Json(json!({ "models": list })).into_response()
}

/// `POST /api/show` body (`name` is the older spelling of `model`).
#[derive(Debug, Deserialize)]
struct ShowRequest {
    model: Option<String>,
    name: Option<String>,
}

/// `POST /api/show`.
pub(crate) async fn show(State(state): State<AppState>, body: Bytes) -> Response {
    respond(
        async {
            let req: ShowRequest = parse_body(&body)?;
            let name = req.model.or(req.name);
            if name.as_deref().is_none_or(str::is_empty) {
                return Err(ApiError::field("model", "missing field `model`"));
            }
            let m = state.models().resolve(name.as_deref())?.clone();
            let mut info = BTreeMap::new();
            info.insert("general.architecture".to_owned(), json!(m.architecture));
            info.insert(
                "general.parameter_count".to_owned(),
                json!(m.parameter_count),
            );
            info.insert(
                format!("{}.context_length", m.architecture),
                json!(m.context_length),
            );
            Ok(Json(json!({
                "license": "",
                "modelfile": format!("FROM {}\n", m.id),
                "parameters": "",
                "template": m.chat_template.clone().unwrap_or_default(),
                "details": details(&m),
                "model_info": info,
                "capabilities": ["completion"],
                "modified_at": rfc3339(modified_secs(&m, state.0.boot_secs)),
            }))
            .into_response())
        }
        .await,
    )
}

/// `GET /api/version`.
pub(crate) async fn version() -> Response {
    Json(json!({ "version": "0.12.0" })).into_response()
}

fn rfc3339_now() -> String {
    rfc3339(unix_time())
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time.
fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn parameter_sizes_read_like_ollama() {
        assert_eq!(parameter_size(134_515_008), "135M");
        assert_eq!(parameter_size(1_540_000_000), "1.5B");
    }
}
