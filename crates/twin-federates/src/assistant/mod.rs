//! `assistant`: a federation member that answers questions about the running federation
//! with the local model service.
//!
//! It watches the listed topics and keeps a rolling summary (module `summary`): the latest
//! sample of every instance and per-topic counts. A question on `twin/assistant/ask`
//! ([`AssistantQuestion`]) is answered on `twin/assistant/answer` ([`AssistantAnswer`]):
//! the model gets the summary as numbered facts and the question, and the answer carries
//! [`Citation`]s of the facts it used. While the model writes, the text so far is published
//! under the question's id with `done: false` (at most every `stream_interval_ms`); the
//! last sample, with the citations, has `done: true`. With `http_port` set, `POST /ask {"text": …}` on
//! 127.0.0.1 answers the same way (module `http`).
//!
//! The member is untimed: it never holds simulation time back. Generation runs on the
//! engine's own thread; the member polls it, so a slow model delays only answers. Answers
//! still pending when the federation ends are completed (up to `answer_timeout`) before
//! the member finishes.
//!
//! Engines: `model = "FILE.gguf"` loads the llama.cpp engine (a build with the `llama`
//! feature); `mock = true` uses the scripted test engine (`mock_script`).

mod http;
mod summary;

use std::{
    sync::{mpsc, Arc},
    time::{Duration, Instant},
};

use serde::{de::DeserializeOwned, Deserialize};
use serde_json::Value;
use twin_bus::{ReaderQos, TopicType, WriterQos};
use twin_core::SimTime;
use twin_federation::{
    proto::{AssistantAnswer, AssistantQuestion, Citation, ANSWER_TOPIC, ASK_TOPIC},
    Ctx, Member, MemberError, TimedReader, TimedWriter,
};
use twin_llm::{
    ChatMessage, Engine, Event, GenerateRequest, Generation, MockConfig, MockEngine, SamplingParams,
};
use twin_scenario::ParamIssue;

use crate::params::{issues, parse_params};
use summary::Summary;

/// Parameters of `assistant`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Topics to summarise (see [`WATCHABLE`]; `twin/brain/monitor/NAME` for any monitor).
    pub topics: Vec<String>,
    /// GGUF model file (needs a build with the `llama` feature).
    #[serde(default)]
    pub model: Option<std::path::PathBuf>,
    /// Use the scripted mock engine instead of a model.
    #[serde(default)]
    pub mock: bool,
    /// The mock engine's answer, in pieces.
    #[serde(default)]
    pub mock_script: Option<Vec<String>>,
    /// The mock engine's pause before each piece [ms].
    #[serde(default)]
    pub mock_token_ms: u64,
    /// Most tokens per answer.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
    /// Most instances per topic in the summary.
    #[serde(default = "default_per_topic")]
    pub per_topic: usize,
    /// Most citations per answer.
    #[serde(default = "default_citations")]
    pub max_citations: usize,
    /// Wall-clock limit for one answer [s].
    #[serde(default = "default_timeout")]
    pub answer_timeout_s: f64,
    /// Compute threads of the llama.cpp engine (default: all cores).
    #[serde(default)]
    pub threads: Option<u32>,
    /// Serve `POST /ask` on 127.0.0.1 at this port (0 picks one; absent: no HTTP).
    #[serde(default)]
    pub http_port: Option<u16>,
    /// Least wall-clock time between two partial answers on the bus [ms]; 0: final only.
    #[serde(default = "default_stream_interval")]
    pub stream_interval_ms: u64,
}

fn default_stream_interval() -> u64 {
    250
}

fn default_max_tokens() -> u32 {
    160
}
fn default_per_topic() -> usize {
    4
}
fn default_citations() -> usize {
    6
}
fn default_timeout() -> f64 {
    120.0
}

/// Topics the assistant can watch (exact names; plus any `twin/brain/monitor/…`).
pub const WATCHABLE: [&str; 7] = [
    crate::demo::POSITION_TOPIC,
    crate::demo::TICK_TOPIC,
    crate::net::POSITION_TOPIC,
    crate::net::ROUTE_TOPIC,
    crate::net::STATS_TOPIC,
    crate::brain::REGIONS_TOPIC,
    crate::brain::STIMULUS_TOPIC,
];

fn watchable(topic: &str) -> bool {
    WATCHABLE.contains(&topic) || topic.starts_with(crate::brain::MONITOR_PREFIX)
}

impl Params {
    pub(crate) fn check(t: &toml::Table) -> Result<(), Vec<ParamIssue>> {
        let p: Params = parse_params(t)?;
        let mut v = Vec::new();
        for topic in &p.topics {
            if !watchable(topic) {
                v.push(ParamIssue::at(
                    "topics",
                    format!("cannot watch `{topic}`: watchable topics are {WATCHABLE:?} and twin/brain/monitor/*"),
                ));
            }
        }
        match (&p.model, p.mock) {
            (Some(_), true) => v.push(ParamIssue::at("mock", "give either `model` or `mock = true`, not both")),
            (None, false) => v.push(ParamIssue::table("the assistant needs `model = \"FILE.gguf\"` or `mock = true`")),
            (Some(m), false) if !cfg!(feature = "llama") => v.push(ParamIssue::at(
                "model",
                format!("cannot load {}: this build has no llama.cpp engine (build twin with `--features llama`)", m.display()),
            )),
            _ => {}
        }
        if p.max_tokens == 0 {
            v.push(ParamIssue::at(
                "max_tokens",
                "max_tokens must be at least 1",
            ));
        }
        if !(p.answer_timeout_s.is_finite() && p.answer_timeout_s > 0.0) {
            v.push(ParamIssue::at(
                "answer_timeout_s",
                "answer_timeout_s must be > 0",
            ));
        }
        issues(v)
    }
}

/// Samples of one topic, as JSON, for the summary.
trait Source: Send {
    fn drain(&mut self, ctx: &Ctx, summary: &mut Summary);
}

struct Typed<T: TopicType> {
    topic: String,
    reader: TimedReader<T>,
}

impl<T: TopicType> Source for Typed<T> {
    fn drain(&mut self, ctx: &Ctx, summary: &mut Summary) {
        for s in self.reader.take(ctx) {
            let Some(v) = s.value else { continue };
            let key = serde_json::to_value(v.key()).unwrap_or(Value::Null);
            let value = serde_json::to_value(&v).unwrap_or(Value::Null);
            let t = s.info.sim_time.unwrap_or(SimTime::ZERO);
            summary.update(&self.topic, &key, t, &value);
        }
    }
}

fn typed<T: TopicType>(ctx: &Ctx, topic: &str) -> Result<Box<dyn Source>, MemberError> {
    let qos = ReaderQos::default().keep_all();
    Ok(Box::new(Typed::<T> {
        topic: topic.to_owned(),
        reader: ctx.reader(topic, qos)?,
    }))
}

fn source(ctx: &Ctx, topic: &str) -> Result<Box<dyn Source>, MemberError> {
    use crate::{brain, demo, net};
    match topic {
        demo::POSITION_TOPIC => typed::<demo::PointPosition>(ctx, topic),
        demo::TICK_TOPIC => typed::<demo::Tick>(ctx, topic),
        net::POSITION_TOPIC => typed::<net::NetNodePosition>(ctx, topic),
        net::ROUTE_TOPIC => typed::<net::NetRoute>(ctx, topic),
        net::STATS_TOPIC => typed::<net::NetStats>(ctx, topic),
        brain::REGIONS_TOPIC => typed::<brain::BrainRegions>(ctx, topic),
        brain::STIMULUS_TOPIC => typed::<brain::BrainStimulus>(ctx, topic),
        t if t.starts_with(brain::MONITOR_PREFIX) => typed::<brain::BrainSample>(ctx, topic),
        t => Err(MemberError::Failed(format!("cannot watch `{t}`"))),
    }
}

/// Where an answer goes.
enum Reply {
    Bus,
    Http(mpsc::Sender<AssistantAnswer>),
}

/// A question being answered.
struct Pending {
    question: AssistantQuestion,
    facts: Vec<summary::Fact>,
    generation: Generation,
    text: String,
    started: Instant,
    reply: Reply,
    /// When the last partial answer went out, and how long its text was.
    streamed: Option<(Instant, usize)>,
}

/// The `assistant` member.
pub struct Assistant {
    p: Params,
    engine: Option<Arc<dyn Engine>>,
    sources: Vec<Box<dyn Source>>,
    summary: Summary,
    questions: Option<TimedReader<AssistantQuestion>>,
    answers: Option<TimedWriter<AssistantAnswer>>,
    pending: Vec<Pending>,
    http: Option<http::Server>,
}

impl std::fmt::Debug for Assistant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assistant")
            .field("topics", &self.p.topics)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl Assistant {
    /// A member with these parameters (the engine is loaded in `init`).
    pub fn new(p: Params) -> Self {
        Assistant {
            summary: Summary::new(p.per_topic),
            p,
            engine: None,
            sources: Vec::new(),
            questions: None,
            answers: None,
            pending: Vec::new(),
            http: None,
        }
    }

    /// The address of the HTTP endpoint, once initialised with `http_port`.
    pub fn http_addr(&self) -> Option<std::net::SocketAddr> {
        self.http.as_ref().map(http::Server::addr)
    }

    fn load_engine(&self) -> Result<Arc<dyn Engine>, MemberError> {
        if self.p.mock {
            let mut cfg = MockConfig {
                id: "mock-assistant".into(),
                slot_context: 8192,
                token_delay: Duration::from_millis(self.p.mock_token_ms),
                ..MockConfig::default()
            };
            if let Some(script) = &self.p.mock_script {
                cfg = cfg.with_script(script);
            }
            return Ok(Arc::new(MockEngine::new(cfg)));
        }
        let path = self
            .p
            .model
            .as_ref()
            .ok_or_else(|| MemberError::Failed("no model configured".into()))?;
        load_llama(path, &self.p)
    }

    /// Starts answering `question`.
    fn ask(&mut self, question: AssistantQuestion, reply: Reply) {
        let engine = self.engine.as_ref().expect("engine loaded in init");
        let facts = self.summary.facts();
        let system = format!(
            "You are the assistant of Twin, a federated digital twin. Answer in a few sentences \
             using only the facts below, and cite the facts you use as [n].\n\
             Federation state at simulation time {:.3} s:\n{}",
            self.summary.latest_time().as_secs_f64(),
            self.summary.render(&facts)
        );
        let messages = [
            ChatMessage::new("system", system),
            ChatMessage::new("user", question.text.clone()),
        ];
        let params = SamplingParams {
            max_tokens: Some(self.p.max_tokens),
            ..SamplingParams::greedy()
        };
        let submitted = engine
            .render_chat(&messages)
            .and_then(|prompt| engine.submit(GenerateRequest { prompt, params }));
        match submitted {
            Ok(generation) => self.pending.push(Pending {
                question,
                facts,
                generation,
                text: String::new(),
                started: Instant::now(),
                reply,
                streamed: None,
            }),
            Err(e) => {
                let answer = self.failed(&question, format!("the model refused the question: {e}"));
                self.send(answer, reply);
            }
        }
    }

    fn failed(&self, q: &AssistantQuestion, text: String) -> AssistantAnswer {
        AssistantAnswer {
            id: Arc::clone(&q.id),
            text,
            citations: Vec::<Citation>::new(),
            model: self.model_id(),
            sim_time: self.summary.latest_time(),
            error: true,
            done: true,
        }
    }

    fn model_id(&self) -> String {
        self.engine
            .as_ref()
            .map_or_else(String::new, |e| e.model().id.clone())
    }

    fn send(&self, answer: AssistantAnswer, reply: Reply) {
        match reply {
            Reply::Http(tx) => {
                let _ = tx.send(answer);
            }
            Reply::Bus => {
                let t = answer.sim_time;
                if let Err(e) = self.answers.as_ref().expect("init").write_at(answer, t) {
                    tracing::warn!(error = %e, "assistant: cannot publish an answer");
                }
            }
        }
    }

    /// Moves every pending generation forward; `wait` blocks until each is done.
    fn poll_pending(&mut self, wait: bool) {
        let timeout = Duration::from_secs_f64(self.p.answer_timeout_s);
        let mut k = 0;
        while k < self.pending.len() {
            let outcome = loop {
                let p = &mut self.pending[k];
                if p.started.elapsed() > timeout {
                    break Some(Err("no answer within answer_timeout_s".to_owned()));
                }
                match p.generation.try_next() {
                    Ok(Event::Text(t)) => p.text.push_str(&t),
                    Ok(Event::Done(_)) => break Some(Ok(())),
                    Ok(Event::Error(e)) => break Some(Err(e.to_string())),
                    Err(false) => break Some(Err("the engine stopped".to_owned())),
                    Err(true) if wait => std::thread::sleep(Duration::from_millis(5)),
                    Err(true) => break None,
                }
            };
            let Some(outcome) = outcome else {
                self.stream_partial(k);
                k += 1;
                continue;
            };
            let p = self.pending.swap_remove(k);
            let answer = match outcome {
                Ok(()) => {
                    let text = twin_llm_text(&p.text);
                    AssistantAnswer {
                        id: Arc::clone(&p.question.id),
                        citations: summary::citations(
                            &text,
                            &p.question.text,
                            &p.facts,
                            self.p.max_citations,
                        ),
                        text,
                        model: self.model_id(),
                        sim_time: self.summary.latest_time(),
                        error: false,
                        done: true,
                    }
                }
                Err(why) => self.failed(&p.question, why),
            };
            self.send(answer, p.reply);
        }
    }

    /// Publishes the text so far of bus question `k` when it grew and the interval passed.
    fn stream_partial(&mut self, k: usize) {
        let interval = Duration::from_millis(self.p.stream_interval_ms);
        let p = &self.pending[k];
        if interval.is_zero() || !matches!(p.reply, Reply::Bus) {
            return;
        }
        let text = partial_text(&p.text);
        let due = match p.streamed {
            None => true,
            Some((at, len)) => at.elapsed() >= interval && text.len() != len,
        };
        if !due || text.is_empty() {
            return;
        }
        let answer = AssistantAnswer {
            id: Arc::clone(&p.question.id),
            citations: Vec::new(),
            model: self.model_id(),
            sim_time: self.summary.latest_time(),
            error: false,
            done: false,
            text,
        };
        self.pending[k].streamed = Some((Instant::now(), answer.text.len()));
        self.send(answer, Reply::Bus);
    }

    fn drain_inputs(&mut self, ctx: &Ctx) {
        for s in &mut self.sources {
            s.drain(ctx, &mut self.summary);
        }
        let questions = self.questions.as_mut().expect("init").take(ctx);
        for q in questions.into_iter().filter_map(|s| s.value) {
            self.ask(q, Reply::Bus);
        }
        let from_http: Vec<_> = self.http.as_ref().map_or_else(Vec::new, http::Server::take);
        for (q, tx) in from_http {
            self.ask(q, Reply::Http(tx));
        }
    }
}

/// The answer text without reasoning (`<think>…</think>`) and surrounding space.
fn twin_llm_text(raw: &str) -> String {
    let body = match raw.rfind("</think>") {
        Some(i) => &raw[i + "</think>".len()..],
        None => raw,
    };
    body.trim().to_owned()
}

/// The visible part of an answer still being written: nothing inside an unclosed
/// `<think>` section, the final text after a closed one.
fn partial_text(raw: &str) -> String {
    if raw.trim_start().starts_with("<think>") && !raw.contains("</think>") {
        return String::new();
    }
    twin_llm_text(raw)
}

#[cfg(feature = "llama")]
fn load_llama(path: &std::path::Path, p: &Params) -> Result<Arc<dyn Engine>, MemberError> {
    let o = twin_llm::LlamaOptions {
        slots: 2,
        slot_context: 4096,
        threads: p.threads,
        ..Default::default()
    };
    twin_llm::LlamaEngine::load(path, &o)
        .map(|e| Arc::new(e) as Arc<dyn Engine>)
        .map_err(|e| MemberError::Failed(format!("assistant model: {e}")))
}

#[cfg(not(feature = "llama"))]
fn load_llama(path: &std::path::Path, _p: &Params) -> Result<Arc<dyn Engine>, MemberError> {
    Err(MemberError::Failed(format!(
        "cannot load {}: this build has no llama.cpp engine (build twin with `--features llama`)",
        path.display()
    )))
}

impl Member for Assistant {
    fn init(&mut self, ctx: &mut Ctx) -> Result<(), MemberError> {
        self.engine = Some(self.load_engine()?);
        for topic in self.p.topics.clone() {
            self.sources.push(source(ctx, &topic)?);
        }
        let qos = ReaderQos::default().reliable().keep_all();
        self.questions = Some(ctx.reader(ASK_TOPIC, qos)?);
        self.answers = Some(ctx.writer(ANSWER_TOPIC, WriterQos::default())?);
        if let Some(port) = self.p.http_port {
            let server = http::Server::start(port)
                .map_err(|e| MemberError::Failed(format!("assistant HTTP on port {port}: {e}")))?;
            tracing::info!(addr = %server.addr(), "assistant answers POST /ask");
            self.http = Some(server);
        }
        Ok(())
    }

    fn react(&mut self, ctx: &mut Ctx) -> Result<(), MemberError> {
        self.drain_inputs(ctx);
        self.poll_pending(false);
        Ok(())
    }

    fn finish(&mut self, ctx: &mut Ctx) -> Result<(), MemberError> {
        self.drain_inputs(ctx);
        self.poll_pending(true);
        Ok(())
    }
}

/// Parses a typed value (shared with the HTTP module).
pub(crate) fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasoning_is_removed_from_answers() {
        assert_eq!(twin_llm_text("<think>hmm</think>\n\n42 [1]"), "42 [1]");
        assert_eq!(twin_llm_text("  plain  "), "plain");
        assert_eq!(partial_text("<think>still thinking"), "");
        assert_eq!(partial_text("<think>a</think> The"), "The");
        assert_eq!(partial_text("The points"), "The points");
    }

    #[test]
    fn parameters_are_checked() {
        let check = |s: &str| Params::check(&toml::from_str(s).unwrap());
        assert!(check("topics = [\"twin/net/stats\"]\nmock = true").is_ok());
        let e = check("topics = [\"twin/nope\"]\nmock = true").unwrap_err();
        assert!(e[0].message.contains("cannot watch `twin/nope`"), "{e:?}");
        let e = check("topics = []").unwrap_err();
        assert!(e[0].message.contains("needs `model"), "{e:?}");
        assert!(
            check("topics = [\"twin/brain/monitor/tavg\"]\nmock = true\nmax_tokens = 0").is_err()
        );
    }
}
