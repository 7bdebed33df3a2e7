//! The OpenAI-compatible surface: `/v1/chat/completions`, `/v1/completions`, `/v1/models`.
//!
//! Streaming uses server-sent events: `data: {chunk}` lines, a final chunk with
//! `finish_reason`, an optional usage chunk (`stream_options.include_usage`) and
//! `data: [DONE]`. Reasoning models stream `delta.reasoning_content` before `delta.content`.

use std::{collections::VecDeque, convert::Infallible};

use axum::{
    body::Bytes,
    extract::State,
    response::{
        sse::{Event as SseEvent, KeepAlive, Sse},
        IntoResponse, Response,
    },
    Json,
};
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use serde_json::{json, Value};
use twin_llm::{ChatMessage, Completion, Constraint, SamplingParams};

use crate::{
    error::ApiError,
    generation_failed,
    infer::{keep_alive, parse_body, reasoning_start, unix_time, Running, Step},
    reasoning::strip_reasoning,
    respond,
    tools::{self, Holder, Out, Tools},
    AppState, Generating,
};

/// Message content: a string, or a list of parts of which the text parts are used.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Content {
    Text(String),
    Parts(Vec<Part>),
    Null(()),
}

/// One part of a multi-part message content.
#[derive(Debug, Deserialize)]
pub(crate) struct Part {
    /// `text` is supported; `image_url` and others are refused with 422.
    #[serde(rename = "type")]
    kind: String,
    /// The text of a `text` part.
    #[serde(default)]
    text: Option<String>,
}

impl Content {
    fn into_text(self, param: &str) -> Result<String, ApiError> {
        match self {
            Content::Text(t) => Ok(t),
            Content::Null(()) => Ok(String::new()),
            Content::Parts(parts) => {
                let mut out = String::new();
                for p in parts {
                    match (p.kind.as_str(), p.text) {
                        ("text", Some(t)) => out.push_str(&t),
                        (kind, _) => {
                            return Err(ApiError::field(
                                param,
                                format!("content part of type `{kind}` is not supported"),
                            ))
                        }
                    }
                }
                Ok(out)
            }
        }
    }
}

/// A chat message as OpenAI clients send it (extra fields such as `reasoning_content` or
/// `name` are ignored).
#[derive(Debug, Deserialize)]
pub(crate) struct InMessage {
    /// `system`, `developer`, `user`, `assistant` or `tool`.
    role: String,
    /// Text, parts, or null (assistant turns with tool calls).
    #[serde(default = "null_content")]
    content: Content,
    /// An earlier assistant turn's calls (`[{id, type, function: {name, arguments}}]`).
    #[serde(default)]
    tool_calls: Option<Vec<Value>>,
}

fn null_content() -> Content {
    Content::Null(())
}

/// `stop`: one string or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Stop {
    One(String),
    Many(Vec<String>),
}

impl Stop {
    pub(crate) fn into_vec(self) -> Vec<String> {
        match self {
            Stop::One(s) => vec![s],
            Stop::Many(v) => v,
        }
    }
}

/// `stream_options`.
#[derive(Debug, Deserialize)]
struct StreamOptions {
    /// Send a last chunk with `usage` and empty `choices` before `[DONE]`.
    #[serde(default)]
    include_usage: bool,
}

/// `response_format`: free text, any JSON object, or JSON valid against a schema.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ResponseFormat {
    /// No constraint.
    Text,
    /// Any JSON value.
    JsonObject,
    /// JSON valid against `json_schema.schema`.
    JsonSchema {
        /// The schema wrapper (`name`, `strict` are accepted and ignored).
        json_schema: JsonSchemaSpec,
    },
}

/// `response_format.json_schema`.
#[derive(Debug, Deserialize)]
struct JsonSchemaSpec {
    /// The JSON schema itself.
    schema: Value,
}

/// Sampling fields shared by both OpenAI endpoints, parsed from the same body as the request
/// (not flattened, so that a type error names its field). Extensions beyond OpenAI's set
/// (`top_k`, `min_p`, `repeat_penalty`, `ignore_eos`) follow llama.cpp's server.
#[derive(Debug, Default, Deserialize)]
struct Sampling {
    max_tokens: Option<i64>,
    max_completion_tokens: Option<i64>,
    temperature: Option<f32>,
    top_p: Option<f32>,
    top_k: Option<i64>,
    min_p: Option<f32>,
    frequency_penalty: Option<f32>,
    presence_penalty: Option<f32>,
    repeat_penalty: Option<f32>,
    seed: Option<i64>,
    stop: Option<Stop>,
    n: Option<i64>,
    ignore_eos: Option<bool>,
    response_format: Option<ResponseFormat>,
}

/// Checks a token limit field.
pub(crate) fn max_tokens(field: &'static str, v: Option<i64>) -> Result<Option<u32>, ApiError> {
    match v {
        None => Ok(None),
        Some(n) if n >= 1 => Ok(Some(u32::try_from(n).unwrap_or(u32::MAX))),
        Some(n) => Err(ApiError::field(
            field,
            format!("must be at least 1, got {n}"),
        )),
    }
}

impl Sampling {
    fn into_params(self) -> Result<SamplingParams, ApiError> {
        let max_tokens = match max_tokens("max_completion_tokens", self.max_completion_tokens)? {
            Some(n) => Some(n),
            None => max_tokens("max_tokens", self.max_tokens)?,
        };
        let mut p = SamplingParams {
            max_tokens,
            ..SamplingParams::default()
        };
        if let Some(n) = self.n.filter(|&n| n != 1) {
            return Err(ApiError::field(
                "n",
                format!("only n = 1 is supported, got {n}"),
            ));
        }
        if let Some(t) = self.temperature {
            p.temperature = t;
        }
        if let Some(v) = self.top_p {
            p.top_p = v;
        }
        if let Some(k) = self.top_k {
            p.top_k = u32::try_from(k)
                .map_err(|_| ApiError::field("top_k", format!("must be 0 or more, got {k}")))?;
        }
        if let Some(v) = self.min_p {
            p.min_p = v;
        }
        if let Some(v) = self.frequency_penalty {
            p.frequency_penalty = v;
        }
        if let Some(v) = self.presence_penalty {
            p.presence_penalty = v;
        }
        if let Some(v) = self.repeat_penalty {
            p.repeat_penalty = v;
        }
        p.seed = self.seed.map(|s| s as u64);
        p.stop = self.stop.map(Stop::into_vec).unwrap_or_default();
        p.ignore_eos = self.ignore_eos.unwrap_or(false);
        p.constraint = match self.response_format {
            None | Some(ResponseFormat::Text) => None,
            Some(ResponseFormat::JsonObject) => Some(Constraint::Json),
            Some(ResponseFormat::JsonSchema { json_schema }) => {
                Some(Constraint::JsonSchema(json_schema.schema.to_string()))
            }
        };
        p.validate()?;
        Ok(p)
    }
}

/// `POST /v1/chat/completions` body (sampling fields: [`Sampling`]).
#[derive(Debug, Deserialize)]
struct ChatRequest {
    model: Option<String>,
    messages: Vec<InMessage>,
    #[serde(default)]
    stream: bool,
    stream_options: Option<StreamOptions>,
    /// `deepseek` (default) splits `<think>` into `reasoning_content`; `none` leaves it.
    reasoning_format: Option<String>,
    /// Functions the model may call (module `tools`).
    tools: Option<Value>,
    /// `none`, `auto` (default), `required` or `{"type": "function", "function": {"name"}}`.
    tool_choice: Option<Value>,
    /// Extension (Ollama semantics): how long the model stays loaded after this request.
    keep_alive: Option<Value>,
}

/// Converts API messages, dropping earlier turns' reasoning (DeepSeek API behaviour).
/// Each message is (role, text, an assistant turn's tool calls as the API sent them).
pub(crate) fn to_chat(
    messages: Vec<(String, String, Option<Vec<Value>>)>,
) -> Result<Vec<ChatMessage>, ApiError> {
    if messages.is_empty() {
        return Err(ApiError::field(
            "messages",
            "must contain at least one message",
        ));
    }
    messages
        .into_iter()
        .enumerate()
        .map(|(i, (role, content, calls))| {
            let mut m = match role.as_str() {
                "system" | "user" | "tool" | "developer" => ChatMessage::new(role, content),
                "assistant" => ChatMessage::new(role, strip_reasoning(&content)),
                other => {
                    return Err(ApiError::field(
                        format!("messages[{i}].role"),
                        format!("unknown role `{other}` (system, user, assistant or tool)"),
                    ))
                }
            };
            m.tool_calls = calls
                .filter(|c| !c.is_empty())
                .map(|c| tools::structured_calls(&c));
            Ok(m)
        })
        .collect()
}

fn usage_json(c: &Completion) -> Value {
    json!({
        "prompt_tokens": c.usage.prompt_tokens,
        "completion_tokens": c.usage.completion_tokens,
        "total_tokens": c.usage.prompt_tokens + c.usage.completion_tokens,
        "prompt_tokens_details": { "cached_tokens": c.usage.cached_tokens },
    })
}

/// The server-side time split in llama.cpp's server's `timings` shape (milliseconds), so
/// that a benchmark reads the same fields from both servers: prompt processing is admission
/// to first token, prediction is first token to last; as there, `predicted_n` counts every
/// generated token, the first included. Twin's own fields split the time to first token
/// (see [`twin_llm::Timings`]); streams add `server_ttft_ms`, handler start to first text.
fn timings_json(c: &Completion) -> Value {
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    let (prompt_ms, predicted_ms) = (ms(c.timings.prompt), ms(c.timings.decode));
    let prompt_n = c.usage.prompt_tokens - c.usage.cached_tokens;
    let predicted_n = c.usage.completion_tokens;
    let per_second = |n: u32, ms: f64| {
        if ms > 0.0 {
            f64::from(n) * 1e3 / ms
        } else {
            0.0
        }
    };
    json!({
        "cache_n": c.usage.cached_tokens,
        "queued_ms": ms(c.timings.queued),
        "step_wait_ms": ms(c.timings.step_wait),
        "prefill_decode_ms": ms(c.timings.prefill_decode),
        "prefill_skipped_ms": ms(c.timings.prefill_skipped),
        "prefill_steps": c.timings.prefill_steps,
        "prompt_n": prompt_n,
        "prompt_ms": prompt_ms,
        "prompt_per_second": per_second(prompt_n, prompt_ms),
        "predicted_n": predicted_n,
        "predicted_ms": predicted_ms,
        "predicted_per_second": per_second(predicted_n, predicted_ms),
    })
}

/// `POST /v1/chat/completions`.
pub(crate) async fn chat_completions(State(state): State<AppState>, body: Bytes) -> Response {
    respond(
        async {
            let req: ChatRequest = parse_body(&body)?;
            // Parsed apart (not flattened) so that errors keep the field path.
            let sampling: Sampling = parse_body(&body)?;
            let model = state
                .model(req.model.as_deref(), keep_alive(req.keep_alive.as_ref())?)
                .await?;
            let messages = req
                .messages
                .into_iter()
                .enumerate()
                .map(|(i, m)| {
                    let text = m.content.into_text(&format!("messages[{i}].content"))?;
                    Ok((m.role, text, m.tool_calls))
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            let tools = Tools::parse(req.tools, req.tool_choice)?;
            let chat = to_chat(messages)?;
            let prompt = match &tools {
                Some(t) => t.render(model.engine().chat_template(), &chat)?,
                None => model.engine().render_chat(&tools::flatten(&chat))?,
            };
            let mut params = sampling.into_params()?;
            if let Some(c) = tools.as_ref().and_then(Tools::constraint) {
                params.constraint = Some(c);
            }
            let split = match req.reasoning_format.as_deref() {
                None | Some("deepseek" | "auto") => true,
                Some("none") => false,
                Some(other) => {
                    return Err(ApiError::field(
                        "reasoning_format",
                        format!("`{other}` is not one of deepseek, none"),
                    ))
                }
            };
            let reasoning = reasoning_start(&model, &prompt, split);
            let run = state.start(
                &model,
                "/v1/chat/completions",
                "chatcmpl",
                prompt,
                params,
                reasoning,
            )?;
            let model = model.id().to_owned();
            if req.stream {
                let usage = req.stream_options.is_some_and(|o| o.include_usage);
                return Ok(sse(chat_stream(run, model, usage, tools)));
            }
            let id = run.id.clone();
            let out = match run.collect().await {
                Ok(out) => out,
                Err(e) => return Ok(generation_failed(e)),
            };
            let calls = tools.as_ref().and_then(|t| t.parse_reply(&out.content));
            let mut finish = out.completion.finish_reason.as_str();
            let mut message = json!({ "role": "assistant", "content": out.content });
            if let Some(calls) = &calls {
                message["content"] = Value::Null;
                message["tool_calls"] = tools::openai_calls(calls);
                finish = "tool_calls";
            }
            if !out.reasoning.is_empty() {
                message["reasoning_content"] = out.reasoning.into();
            }
            Ok(generated(json!({
                "id": id,
                "object": "chat.completion",
                "created": unix_time(),
                "model": model,
                "choices": [{
                    "index": 0,
                    "message": message,
                    "logprobs": null,
                    "finish_reason": finish,
                }],
                "usage": usage_json(&out.completion),
                "timings": timings_json(&out.completion),
            })))
        }
        .await,
    )
}

/// A JSON response from a generation (its log line is written by the generation).
fn generated(body: Value) -> Response {
    let mut resp = Json(body).into_response();
    resp.extensions_mut().insert(Generating);
    resp
}

/// Wraps an event stream as an SSE response.
fn sse(events: impl Stream<Item = Result<SseEvent, Infallible>> + Send + 'static) -> Response {
    let mut resp = Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response();
    resp.extensions_mut().insert(Generating);
    resp
}

/// What the SSE streams still have to send after the generation.
enum Tail {
    Running,
    Usage(Value),
    Done,
    Closed,
}

/// Builds the chunks of one chat completion stream.
struct Chunks {
    id: String,
    created: u64,
    model: String,
}

impl Chunks {
    fn make(&self, delta: Value, finish: Option<&str>) -> Value {
        json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model,
            "choices": [{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish }],
        })
    }
}

/// The state of a chat completion stream.
struct ChatStream {
    run: Running,
    holder: Holder,
    chunks: Chunks,
    queue: VecDeque<SseEvent>,
    tail: Tail,
    include_usage: bool,
}

impl ChatStream {
    /// Queues the events for one piece of output.
    fn push(&mut self, out: Out) {
        let ev = match out {
            Out::Step(Step::Content(t)) => self.chunks.make(json!({ "content": t }), None),
            Out::Step(Step::Reasoning(t)) => {
                self.chunks.make(json!({ "reasoning_content": t }), None)
            }
            Out::Calls(calls) => {
                let mut list = tools::openai_calls(&calls);
                for (i, c) in list.as_array_mut().into_iter().flatten().enumerate() {
                    c["index"] = i.into();
                }
                self.chunks.make(json!({ "tool_calls": list }), None)
            }
            Out::Step(Step::Done(c)) => {
                let reason = if self.holder.called {
                    "tool_calls"
                } else {
                    c.finish_reason.as_str()
                };
                let last = self.chunks.make(json!({}), Some(reason));
                let mut u = self.chunks.make(json!({}), None);
                u["choices"] = json!([]);
                u["usage"] = usage_json(&c);
                u["timings"] = timings_json(&c);
                u["timings"]["server_ttft_ms"] = self.run.ttft_ms().into();
                self.tail = if self.include_usage {
                    Tail::Usage(u)
                } else {
                    Tail::Done
                };
                last
            }
        };
        self.queue.push_back(data(&ev));
    }
}

/// SSE events of a chat completion; with tools, text that may be a call is held back until
/// the end and sent as `delta.tool_calls` when it is one.
fn chat_stream(
    run: Running,
    model: String,
    include_usage: bool,
    tools: Option<Tools>,
) -> impl Stream<Item = Result<SseEvent, Infallible>> + Send {
    let chunks = Chunks {
        id: run.id.clone(),
        created: unix_time(),
        model,
    };
    let first = chunks.make(json!({ "role": "assistant", "content": "" }), None);
    let st = ChatStream {
        run,
        holder: Holder::new(tools),
        chunks,
        queue: VecDeque::from([data(&first)]),
        tail: Tail::Running,
        include_usage,
    };
    stream::unfold(st, |mut st| async move {
        loop {
            if let Some(ev) = st.queue.pop_front() {
                return Some((Ok(ev), st));
            }
            match std::mem::replace(&mut st.tail, Tail::Running) {
                Tail::Running => match st.run.next().await {
                    Some(Ok(step)) => {
                        for out in st.holder.feed(step) {
                            st.push(out);
                        }
                    }
                    Some(Err(e)) => {
                        st.queue.push_back(data(&e.body()));
                        st.tail = Tail::Done;
                    }
                    None => {
                        st.queue.push_back(SseEvent::default().data("[DONE]"));
                        st.tail = Tail::Closed;
                    }
                },
                Tail::Usage(u) => {
                    st.queue.push_back(data(&u));
                    st.tail = Tail::Done;
                }
                Tail::Done => {
                    st.queue.push_back(SseEvent::default().data("[DONE]"));
                    st.tail = Tail::Closed;
                }
                Tail::Closed => return None,
            }
        }
    })
}

fn data(v: &Value) -> SseEvent {
    SseEvent::default().data(v.to_string())
}

/// `prompt`: a string or a one-element list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum PromptField {
    One(String),
    Many(Vec<String>),
}

/// `POST /v1/completions` body (sampling fields: [`Sampling`]).
#[derive(Debug, Deserialize)]
struct CompletionRequest {
    model: Option<String>,
    prompt: PromptField,
    #[serde(default)]
    stream: bool,
    stream_options: Option<StreamOptions>,
    #[serde(default)]
    echo: bool,
    /// Extension (Ollama semantics): how long the model stays loaded after this request.
    keep_alive: Option<Value>,
}

/// `POST /v1/completions` (raw prompt, no template, no reasoning split).
pub(crate) async fn completions(State(state): State<AppState>, body: Bytes) -> Response {
    respond(
        async {
            let req: CompletionRequest = parse_body(&body)?;
            let sampling: Sampling = parse_body(&body)?;
            let model = state
                .model(req.model.as_deref(), keep_alive(req.keep_alive.as_ref())?)
                .await?;
            let prompt = match req.prompt {
                PromptField::One(p) => p,
                PromptField::Many(mut v) if v.len() == 1 => v.remove(0),
                PromptField::Many(v) => {
                    return Err(ApiError::field(
                        "prompt",
                        format!("exactly one prompt is supported, got {}", v.len()),
                    ))
                }
            };
            if req.echo {
                return Err(ApiError::field("echo", "echo is not supported"));
            }
            let params = sampling.into_params()?;
            let run = state.start(&model, "/v1/completions", "cmpl", prompt, params, None)?;
            let model = model.id().to_owned();
            if req.stream {
                let usage = req.stream_options.is_some_and(|o| o.include_usage);
                return Ok(sse(completion_stream(run, model, usage)));
            }
            let id = run.id.clone();
            let out = match run.collect().await {
                Ok(out) => out,
                Err(e) => return Ok(generation_failed(e)),
            };
            Ok(generated(json!({
                "id": id,
                "object": "text_completion",
                "created": unix_time(),
                "model": model,
                "choices": [{
                    "index": 0,
                    "text": out.content,
                    "logprobs": null,
                    "finish_reason": out.completion.finish_reason.as_str(),
                }],
                "usage": usage_json(&out.completion),
                "timings": timings_json(&out.completion),
            })))
        }
        .await,
    )
}

/// SSE events of a text completion.
fn completion_stream(
    run: Running,
    model: String,
    include_usage: bool,
) -> impl Stream<Item = Result<SseEvent, Infallible>> + Send {
    let created = unix_time();
    let id = run.id.clone();
    let chunk = move |text: &str, finish: Option<&str>| {
        json!({
            "id": id, "object": "text_completion", "created": created, "model": model,
            "choices": [{ "index": 0, "text": text, "logprobs": null, "finish_reason": finish }],
        })
    };
    stream::unfold(
        (run, Tail::Running, chunk),
        move |(mut run, tail, chunk)| async move {
            let ev = match tail {
                Tail::Running => match run.next().await {
                    Some(Ok(Step::Content(t) | Step::Reasoning(t))) => data(&chunk(&t, None)),
                    Some(Ok(Step::Done(c))) => {
                        let last = data(&chunk("", Some(c.finish_reason.as_str())));
                        let mut u = chunk("", None);
                        u["choices"] = json!([]);
                        u["usage"] = usage_json(&c);
                        u["timings"] = timings_json(&c);
                        u["timings"]["server_ttft_ms"] = run.ttft_ms().into();
                        let next = if include_usage {
                            Tail::Usage(u)
                        } else {
                            Tail::Done
                        };
                        return Some((Ok(last), (run, next, chunk)));
                    }
                    Some(Err(e)) => return Some((Ok(data(&e.body())), (run, Tail::Done, chunk))),
                    None => {
                        let done = SseEvent::default().data("[DONE]");
                        return Some((Ok(done), (run, Tail::Closed, chunk)));
                    }
                },
                Tail::Usage(u) => return Some((Ok(data(&u)), (run, Tail::Done, chunk))),
                Tail::Done => {
                    return Some((
                        Ok(SseEvent::default().data("[DONE]")),
                        (run, Tail::Closed, chunk),
                    ))
                }
                Tail::Closed => return None,
            };
            Some((Ok(ev), (run, Tail::Running, chunk)))
        },
    )
}

/// `GET /v1/models`: every model served, loaded or not.
pub(crate) async fn models(State(state): State<AppState>) -> Response {
    let resident: Vec<String> = state
        .models()
        .resident()
        .into_iter()
        .map(|r| r.id)
        .collect();
    let data: Vec<Value> = state
        .models()
        .entries()
        .iter()
        .map(|m| {
            json!({
                "id": m.id,
                "object": "model",
                "created": m
                    .modified
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(state.0.boot_secs, |d| d.as_secs()),
                "owned_by": "twin",
                "meta": {
                    "architecture": m.architecture,
                    "quantization": m.quantization,
                    "n_ctx_train": m.context_length,
                    "n_params": m.parameter_count,
                    "size": m.size_bytes,
                    "loaded": resident.contains(&m.id),
                },
            })
        })
        .collect();
    Json(json!({ "object": "list", "data": data })).into_response()
}
