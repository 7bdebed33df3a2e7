//! Tool (function) calling for the OpenAI and Ollama chat APIs.
//!
//! The request's `tools` reach the model in one of two ways. A chat template that refers to
//! `tools` (Qwen 2.5, Llama 3.1, DeepSeek-R1 distills…) renders them itself; for any other
//! template a system message lists them and asks for a reply of the form
//! `<tool_call>{"name": …, "arguments": {…}}</tool_call>`. When a call is forced
//! (`tool_choice: "required"` or a named function), sampling is constrained by a JSON schema
//! over `{"name", "arguments"}` built from the tools' parameter schemas, so even a small model
//! produces a call that parses and validates.
//!
//! The reply is parsed into calls when it consists of `<tool_call>` blocks, or is one JSON
//! object (or a list of them) naming a tool with `arguments` (or `parameters`).

use serde::Deserialize;
use serde_json::{json, Value};
use twin_llm::{ChatMessage, ChatTemplate, Constraint};

use crate::{error::ApiError, infer::Step};

/// One function the model may call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tool {
    pub(crate) name: String,
    pub(crate) description: String,
    /// JSON schema of the arguments object.
    pub(crate) parameters: Value,
}

/// `tool_choice`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Choice {
    /// Never call (the tools are not shown to the model).
    None,
    /// The model decides.
    Auto,
    /// Some tool must be called.
    Required,
    /// This tool must be called.
    Named(String),
}

/// The tools of one request and how they may be used.
#[derive(Debug, Clone)]
pub(crate) struct Tools {
    pub(crate) tools: Vec<Tool>,
    pub(crate) choice: Choice,
}

/// A call the model made.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    pub(crate) name: String,
    /// The arguments object.
    pub(crate) arguments: Value,
}

/// `{"type": "function", "function": {...}}` as both APIs send it.
#[derive(Deserialize)]
struct ToolIn {
    #[serde(rename = "type", default = "function")]
    kind: String,
    function: FunctionIn,
}

fn function() -> String {
    "function".into()
}

#[derive(Deserialize)]
struct FunctionIn {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    parameters: Option<Value>,
}

impl Tools {
    /// Parses `tools` and `tool_choice`; `None` when no tools are given or the choice is `none`.
    pub(crate) fn parse(
        tools: Option<Value>,
        choice: Option<Value>,
    ) -> Result<Option<Self>, ApiError> {
        let list = match tools {
            None | Some(Value::Null) => Vec::new(),
            Some(v) => {
                let items: Vec<ToolIn> = serde_json::from_value(v)
                    .map_err(|e| ApiError::field("tools", format!("must be a list of {{\"type\": \"function\", \"function\": {{\"name\", \"description\", \"parameters\"}}}}: {e}")))?;
                let mut out: Vec<Tool> = Vec::new();
                for (i, t) in items.into_iter().enumerate() {
                    if t.kind != "function" {
                        return Err(ApiError::field(
                            format!("tools[{i}].type"),
                            format!("`{}` is not supported (only `function`)", t.kind),
                        ));
                    }
                    let f = t.function;
                    if f.name.is_empty() || out.iter().any(|o| o.name == f.name) {
                        return Err(ApiError::field(
                            format!("tools[{i}].function.name"),
                            format!("must be a unique non-empty name, got `{}`", f.name),
                        ));
                    }
                    let parameters = f
                        .parameters
                        .unwrap_or_else(|| json!({"type": "object", "properties": {}}));
                    if !parameters.is_object() {
                        return Err(ApiError::field(
                            format!("tools[{i}].function.parameters"),
                            "must be a JSON schema object",
                        ));
                    }
                    out.push(Tool {
                        name: f.name,
                        description: f.description,
                        parameters,
                    });
                }
                out
            }
        };
        let choice = match choice {
            None | Some(Value::Null) => Choice::Auto,
            Some(Value::String(s)) => match s.as_str() {
                "none" => Choice::None,
                "auto" => Choice::Auto,
                "required" => Choice::Required,
                other => return Err(ApiError::field("tool_choice", format!("`{other}` is not one of none, auto, required or {{\"type\": \"function\", \"function\": {{\"name\"}}}}"))),
            },
            Some(v) => match v.pointer("/function/name").and_then(Value::as_str) {
                Some(name) => Choice::Named(name.to_owned()),
                None => return Err(ApiError::field("tool_choice", "must be none, auto, required or {\"type\": \"function\", \"function\": {\"name\": …}}")),
            },
        };
        if let Choice::Named(n) = &choice {
            if !list.iter().any(|t| &t.name == n) {
                return Err(ApiError::field(
                    "tool_choice",
                    format!("names `{n}`, which is not among the tools"),
                ));
            }
        }
        if list.is_empty() {
            return match choice {
                Choice::Required | Choice::Named(_) => Err(ApiError::field(
                    "tool_choice",
                    "a tool call is required but no tools are given",
                )),
                _ => Ok(None),
            };
        }
        Ok((choice != Choice::None).then_some(Tools {
            tools: list,
            choice,
        }))
    }

    /// The tools the model sees: only the named one when one is forced.
    fn offered(&self) -> impl Iterator<Item = &Tool> + '_ {
        self.tools.iter().filter(move |t| match &self.choice {
            Choice::Named(n) => &t.name == n,
            _ => true,
        })
    }

    /// The tools in OpenAI's request shape (what tool-aware templates expect).
    fn as_json(&self) -> Value {
        Value::Array(
            self.offered()
                .map(|t| json!({"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}))
                .collect(),
        )
    }

    /// The prompt: through the template's own tool support when it has one (earlier calls
    /// as the messages' `tool_calls`), else with a system message that describes the tools
    /// and the reply format (earlier calls as `<tool_call>` text).
    pub(crate) fn render(
        &self,
        template: &ChatTemplate,
        messages: &[ChatMessage],
    ) -> Result<String, ApiError> {
        if template.supports_tools() {
            return Ok(template.render_with_tools(messages, &self.as_json(), true)?);
        }
        let messages = &flatten(messages)[..];
        let mut list = String::new();
        for t in self.offered() {
            list.push_str(&format!(
                "{}\n",
                json!({"name": t.name, "description": t.description, "parameters": t.parameters})
            ));
        }
        let must = match &self.choice {
            Choice::Auto => "If a function helps, call it; otherwise answer normally.".to_owned(),
            Choice::Required => "You must call one of them.".to_owned(),
            Choice::Named(n) => format!("You must call `{n}`."),
            Choice::None => String::new(),
        };
        let text = format!(
            "You can call these functions:\n{list}{must} To call a function, reply with only \
             <tool_call>{{\"name\": \"FUNCTION\", \"arguments\": {{...}}}}</tool_call>"
        );
        let mut all = Vec::with_capacity(messages.len() + 1);
        match messages.first() {
            Some(m) if m.role == "system" => {
                all.push(ChatMessage::new(
                    "system",
                    format!("{}\n\n{text}", m.content),
                ));
                all.extend_from_slice(&messages[1..]);
            }
            _ => {
                all.push(ChatMessage::new("system", text));
                all.extend_from_slice(messages);
            }
        }
        Ok(template.render(&all, true)?)
    }

    /// The sampling constraint: a JSON schema of one call when a call is forced.
    pub(crate) fn constraint(&self) -> Option<Constraint> {
        let call = |t: &Tool| {
            json!({
                "type": "object",
                "properties": {"name": {"const": t.name}, "arguments": t.parameters},
                "required": ["name", "arguments"],
            })
        };
        let schema = match &self.choice {
            Choice::None | Choice::Auto => return None,
            Choice::Named(_) => call(self.offered().next()?),
            Choice::Required if self.tools.len() == 1 => call(&self.tools[0]),
            Choice::Required => json!({"anyOf": self.tools.iter().map(call).collect::<Vec<_>>()}),
        };
        Some(Constraint::JsonSchema(schema.to_string()))
    }

    /// The calls in a reply, or `None` when it is plain text (or names no known tool).
    pub(crate) fn parse_reply(&self, text: &str) -> Option<Vec<Call>> {
        let body = text.trim();
        let mut calls = Vec::new();
        if body.contains("<tool_call>") {
            let mut rest = body;
            while let Some(i) = rest.find("<tool_call>") {
                if !rest[..i].trim().is_empty() {
                    return None;
                }
                let after = &rest[i + "<tool_call>".len()..];
                let end = after.find("</tool_call>").unwrap_or(after.len());
                calls.push(self.call_of(&serde_json::from_str(after[..end].trim()).ok()?)?);
                rest = after.get(end + "</tool_call>".len()..).unwrap_or("");
            }
            return rest.trim().is_empty().then_some(calls);
        }
        match serde_json::from_str::<Value>(body).ok()? {
            Value::Array(items) => {
                for v in &items {
                    calls.push(self.call_of(v)?);
                }
                (!calls.is_empty()).then_some(calls)
            }
            v => Some(vec![self.call_of(&v)?]),
        }
    }

    fn call_of(&self, v: &Value) -> Option<Call> {
        let name = v.get("name")?.as_str()?;
        self.tools.iter().find(|t| t.name == name)?;
        let arguments = match v.get("arguments").or_else(|| v.get("parameters")) {
            Some(Value::String(s)) => serde_json::from_str(s).ok()?,
            Some(a @ Value::Object(_)) => a.clone(),
            None => json!({}),
            Some(_) => return None,
        };
        Some(Call {
            name: name.to_owned(),
            arguments,
        })
    }

    /// Whether a reply that starts with `prefix` may still turn out to be a call (streaming
    /// holds such text back until the end).
    pub(crate) fn may_be_call(prefix: &str) -> bool {
        let p = prefix.trim_start();
        p.is_empty()
            || p.starts_with('{')
            || p.starts_with('[')
            || "<tool_call>".starts_with(p)
            || p.starts_with("<tool_call>")
    }
}

/// What a streaming reply sends next, once tool calls are told apart from text.
#[derive(Debug)]
pub(crate) enum Out {
    /// A step as the generation produced it.
    Step(Step),
    /// The reply was these calls (sent before the final step).
    Calls(Vec<Call>),
}

/// Holds a streaming reply back while it may still be a tool call: text that cannot start a
/// call streams at once; a reply that parses as calls at the end becomes [`Out::Calls`].
#[derive(Debug)]
pub(crate) struct Holder {
    tools: Option<Tools>,
    buf: String,
    holding: bool,
    /// Whether the reply turned out to be calls (its finish reason is then `tool_calls`).
    pub(crate) called: bool,
}

impl Holder {
    /// A holder for a request with these tools (`None`: everything passes through).
    pub(crate) fn new(tools: Option<Tools>) -> Self {
        Holder {
            holding: tools.is_some(),
            tools,
            buf: String::new(),
            called: false,
        }
    }

    /// Takes one step; returns what to send now, in order.
    pub(crate) fn feed(&mut self, step: Step) -> Vec<Out> {
        match step {
            Step::Content(t) if self.holding => {
                self.buf.push_str(&t);
                if Tools::may_be_call(&self.buf) {
                    return Vec::new();
                }
                self.holding = false;
                vec![Out::Step(Step::Content(std::mem::take(&mut self.buf)))]
            }
            Step::Done(c) if self.holding => {
                self.holding = false;
                let text = std::mem::take(&mut self.buf);
                let calls = self.tools.as_ref().and_then(|t| t.parse_reply(&text));
                let mut out = Vec::new();
                match calls {
                    Some(calls) => {
                        self.called = true;
                        out.push(Out::Calls(calls));
                    }
                    None if !text.is_empty() => out.push(Out::Step(Step::Content(text))),
                    None => {}
                }
                out.push(Out::Step(Step::Done(c)));
                out
            }
            other => vec![Out::Step(other)],
        }
    }
}

/// Calls as a request sent them, in the shape tool-aware templates read:
/// `[{"type": "function", "function": {"name", "arguments": {…}}}]` (arguments sent as a
/// JSON string are parsed; templates print them with `tojson`).
pub(crate) fn structured_calls(calls: &[Value]) -> Value {
    Value::Array(
        calls
            .iter()
            .map(|c| {
                let f = c.get("function").unwrap_or(c);
                let arguments = match f.get("arguments") {
                    Some(Value::String(s)) => {
                        serde_json::from_str(s).unwrap_or(Value::String(s.clone()))
                    }
                    Some(v) => v.clone(),
                    None => json!({}),
                };
                let mut out = json!({"type": "function", "function": {
                    "name": f.get("name").cloned().unwrap_or(Value::Null),
                    "arguments": arguments,
                }});
                if let Some(id) = c.get("id") {
                    out["id"] = id.clone();
                }
                out
            })
            .collect(),
    )
}

/// The messages with earlier calls written into the text (for templates that do not render
/// `tool_calls`).
pub(crate) fn flatten(messages: &[ChatMessage]) -> Vec<ChatMessage> {
    messages
        .iter()
        .map(|m| match &m.tool_calls {
            Some(Value::Array(calls)) => {
                ChatMessage::new(m.role.clone(), m.content.clone() + &history_text(calls))
            }
            _ => m.clone(),
        })
        .collect()
}

/// The text an earlier assistant turn's `tool_calls` stand for in the history (the format
/// the model is asked to use).
pub(crate) fn history_text(calls: &[Value]) -> String {
    let mut out = String::new();
    for c in calls {
        let f = c.get("function").unwrap_or(c);
        let args = match f.get("arguments") {
            Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(Value::String(s.clone())),
            Some(v) => v.clone(),
            None => json!({}),
        };
        let name = f.get("name").cloned().unwrap_or(Value::Null);
        out.push_str(&format!(
            "<tool_call>{}</tool_call>",
            json!({"name": name, "arguments": args})
        ));
    }
    out
}

/// A call id, unique within the process (`call_` + 24 hex digits, like OpenAI's).
pub(crate) fn call_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let n = n as u32;
    format!("call_{t:016x}{n:08x}")
}

/// Calls in OpenAI's response shape (`arguments` is a JSON string).
pub(crate) fn openai_calls(calls: &[Call]) -> Value {
    Value::Array(
        calls
            .iter()
            .map(|c| json!({"id": call_id(), "type": "function", "function": {"name": c.name, "arguments": c.arguments.to_string()}}))
            .collect(),
    )
}

/// Calls in Ollama's response shape (`arguments` is an object).
pub(crate) fn ollama_calls(calls: &[Call]) -> Value {
    Value::Array(
        calls
            .iter()
            .map(|c| json!({"function": {"name": c.name, "arguments": c.arguments}}))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weather(choice: Option<Value>) -> Tools {
        let tools = json!([
            {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
            {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
        ]);
        Tools::parse(Some(tools), choice).unwrap().unwrap()
    }

    #[test]
    fn replies_are_parsed_into_calls() {
        let t = weather(None);
        let want = vec![Call {
            name: "get_weather".into(),
            arguments: json!({"city": "Oslo"}),
        }];
        for reply in [
            r#"<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}</tool_call>"#,
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>\n",
            r#" {"name": "get_weather", "parameters": {"city": "Oslo"}}"#,
            r#"{"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}"#,
            r#"[{"name": "get_weather", "arguments": {"city": "Oslo"}}]"#,
        ] {
            assert_eq!(t.parse_reply(reply), Some(want.clone()), "{reply}");
        }
        let two = t.parse_reply(r#"<tool_call>{"name":"get_time","arguments":{}}</tool_call><tool_call>{"name":"get_weather","arguments":{"city":"Rome"}}</tool_call>"#).unwrap();
        assert_eq!(two.len(), 2);
        assert_eq!(two[1].arguments["city"], "Rome");
        for plain in [
            "It is sunny.",
            r#"{"name": "unknown_tool", "arguments": {}}"#,
            r#"{"answer": 42}"#,
            r#"Sure: <tool_call>{"name": "get_time", "arguments": {}}</tool_call>"#,
            r#"<tool_call>{"name": "get_time", "arguments": 5}</tool_call>"#,
        ] {
            assert_eq!(t.parse_reply(plain), None, "{plain}");
        }
    }

    #[test]
    fn choices_are_parsed_and_checked() {
        assert_eq!(weather(Some(json!("required"))).choice, Choice::Required);
        let named = weather(Some(
            json!({"type": "function", "function": {"name": "get_time"}}),
        ));
        assert_eq!(named.choice, Choice::Named("get_time".into()));
        assert!(Tools::parse(Some(json!([])), None).unwrap().is_none());
        let tools = json!([{"type": "function", "function": {"name": "f"}}]);
        assert!(Tools::parse(Some(tools.clone()), Some(json!("none")))
            .unwrap()
            .is_none());
        for (tools, choice, needle) in [
            (Some(tools.clone()), Some(json!("sometimes")), "tool_choice"),
            (
                Some(tools),
                Some(json!({"type": "function", "function": {"name": "g"}})),
                "not among the tools",
            ),
            (None, Some(json!("required")), "no tools are given"),
            (
                Some(json!([{"type": "retrieval", "function": {"name": "f"}}])),
                None,
                "tools[0].type",
            ),
            (
                Some(
                    json!([{"type": "function", "function": {"name": "f"}}, {"type": "function", "function": {"name": "f"}}]),
                ),
                None,
                "tools[1].function.name",
            ),
            (Some(json!({"name": "f"})), None, "must be a list"),
        ] {
            let e = Tools::parse(tools, choice).unwrap_err();
            assert!(format!("{e:?}").contains(needle), "{needle}: {e:?}");
        }
    }

    #[test]
    fn forced_calls_are_constrained_by_the_tools_schemas() {
        assert_eq!(weather(None).constraint(), None);
        let Some(Constraint::JsonSchema(s)) = weather(Some(
            json!({"type": "function", "function": {"name": "get_weather"}}),
        ))
        .constraint() else {
            panic!("named tool: a schema")
        };
        let s: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(s["properties"]["name"]["const"], "get_weather");
        assert_eq!(s["properties"]["arguments"]["required"][0], "city");
        let Some(Constraint::JsonSchema(s)) = weather(Some(json!("required"))).constraint() else {
            panic!("required: a schema")
        };
        let s: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(s["anyOf"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn prompts_describe_the_tools_or_use_the_template() {
        let t = weather(Some(json!("required")));
        let msgs = [
            ChatMessage::new("system", "Be brief."),
            ChatMessage::new("user", "Oslo?"),
        ];
        let p = t.render(&ChatTemplate::chatml(), &msgs).unwrap();
        assert!(
            p.starts_with("<|im_start|>system\nBe brief.\n\nYou can call these functions:"),
            "{p}"
        );
        assert!(
            p.contains(r#""name":"get_weather""#) && p.contains("You must call one of them."),
            "{p}"
        );
        assert_eq!(p.matches("<|im_start|>system").count(), 1, "{p}");
        let aware = ChatTemplate::new(
            "{% for t in tools %}[{{ t.function.name }}]{% endfor %}{% for m in messages %}{{ m.content }}{% endfor %}",
            "",
            "",
        )
        .unwrap();
        assert!(aware.supports_tools());
        assert_eq!(
            t.render(&aware, &msgs).unwrap(),
            "[get_weather][get_time]Be brief.Oslo?"
        );
    }

    #[test]
    fn history_and_stream_prefixes() {
        let h = history_text(&[
            json!({"id": "c1", "type": "function", "function": {"name": "get_time", "arguments": "{\"tz\":\"UTC\"}"}}),
        ]);
        let t = weather(None);
        let inner = h
            .strip_prefix("<tool_call>")
            .and_then(|r| r.strip_suffix("</tool_call>"));
        let v: Value = serde_json::from_str(inner.unwrap()).unwrap();
        assert_eq!(v, json!({"name": "get_time", "arguments": {"tz": "UTC"}}));
        assert!(
            t.parse_reply(&h).is_some(),
            "the history format is what the parser reads"
        );
        assert!(Tools::may_be_call("  <tool"));
        assert!(Tools::may_be_call("{\"na"));
        assert!(!Tools::may_be_call("The weather"));
        assert!(call_id().starts_with("call_") && call_id() != call_id());
    }
}
