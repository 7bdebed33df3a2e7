//! Tool calling through the router, with the mock engine scripted to reply with a call.

use super::*;

const WEATHER: &str = r#"[{"type": "function", "function": {"name": "get_weather",
    "description": "Current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}]"#;

/// The mock answers with a call split across pieces, as a model's tokens would be.
fn calling() -> MockConfig {
    MockConfig::default().with_script(&[
        "<tool_",
        "call>{\"name\": \"get_",
        "weather\", \"arguments\": {\"city\": ",
        "\"Oslo\"}}</tool_call>",
    ])
}

fn chat_body(extra: Value) -> String {
    let mut b = json!({
        "messages": [{"role": "user", "content": "Weather in Oslo?"}],
        "tools": serde_json::from_str::<Value>(WEATHER).unwrap(),
    });
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b.to_string()
}

#[tokio::test]
async fn a_call_in_the_reply_becomes_openai_tool_calls() {
    let f = fixture(calling());
    let (s, v) = post(&f.app, "/v1/chat/completions", &chat_body(json!({}))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let c = &v["choices"][0];
    assert_eq!(c["finish_reason"], "tool_calls", "{v}");
    assert_eq!(c["message"]["content"], Value::Null, "{v}");
    let call = &c["message"]["tool_calls"][0];
    assert_eq!(call["type"], "function");
    assert!(call["id"].as_str().unwrap().starts_with("call_"), "{call}");
    assert_eq!(call["function"]["name"], "get_weather");
    let args: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({"city": "Oslo"}));
    // ChatML has no tool support: the tools are described in a system message; with
    // `auto` the output is not constrained.
    let req = f.engine.last_request().unwrap();
    assert!(
        req.prompt
            .starts_with("<|im_start|>system\nYou can call these functions:"),
        "{}",
        req.prompt
    );
    assert!(
        req.prompt.contains("Current weather in a city"),
        "{}",
        req.prompt
    );
    assert_eq!(req.params.constraint, None);
}

#[tokio::test]
async fn a_forced_call_constrains_sampling_to_the_tool_schema() {
    let f = fixture(calling());
    for choice in [
        json!("required"),
        json!({"type": "function", "function": {"name": "get_weather"}}),
    ] {
        let body = chat_body(json!({ "tool_choice": choice }));
        let (s, v) = post(&f.app, "/v1/chat/completions", &body).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let Some(twin_llm::Constraint::JsonSchema(schema)) =
            f.engine.last_request().unwrap().params.constraint
        else {
            panic!("a forced call is constrained")
        };
        let schema: Value = serde_json::from_str(&schema).unwrap();
        assert_eq!(
            schema["properties"]["name"]["const"], "get_weather",
            "{schema}"
        );
        assert_eq!(
            schema["properties"]["arguments"]["required"],
            json!(["city"])
        );
    }
    let body =
        chat_body(json!({ "tool_choice": {"type": "function", "function": {"name": "nope"}} }));
    let (s, v) = post(&f.app, "/v1/chat/completions", &body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["param"], "tool_choice", "{v}");
    let body = chat_body(
        json!({ "tools": [{"type": "function", "function": {"name": "f", "parameters": 3}}] }),
    );
    let (s, v) = post(&f.app, "/v1/chat/completions", &body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["param"], "tools[0].function.parameters", "{v}");
}

#[tokio::test]
async fn streamed_calls_arrive_as_one_tool_calls_delta() {
    let f = fixture(calling());
    let body = chat_body(json!({ "stream": true }));
    let (_, _, text) = call(&f.app, "POST", "/v1/chat/completions", Some(&body)).await;
    assert!(
        !text.contains("tool_call>"),
        "the call's text never leaks: {text}"
    );
    let ev = sse_events(&text);
    assert_eq!(ev.last().unwrap(), "[DONE]");
    let deltas: Vec<&Value> = ev.iter().map(|e| &e["choices"][0]["delta"]).collect();
    let calls: Vec<&Value> = deltas.iter().filter_map(|d| d.get("tool_calls")).collect();
    assert_eq!(calls.len(), 1, "{text}");
    let c = &calls[0][0];
    assert_eq!(c["index"], 0);
    assert_eq!(c["function"]["name"], "get_weather");
    assert_eq!(c["function"]["arguments"], r#"{"city":"Oslo"}"#);
    let content: String = deltas
        .iter()
        .filter_map(|d| d["content"].as_str())
        .collect();
    assert_eq!(content, "");
    let finish: Vec<&Value> = ev
        .iter()
        .map(|e| &e["choices"][0]["finish_reason"])
        .filter(|f| f.is_string())
        .collect();
    assert_eq!(finish, [&json!("tool_calls")]);
}

#[tokio::test]
async fn plain_replies_still_stream_as_text_when_tools_are_offered() {
    let f = fixture(MockConfig::default().with_script(&["It ", "is ", "sunny."]));
    let body = chat_body(json!({ "stream": true }));
    let (_, _, text) = call(&f.app, "POST", "/v1/chat/completions", Some(&body)).await;
    let ev = sse_events(&text);
    let content: Vec<&str> = ev
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
        .collect();
    // The role chunk's "", then the text piece by piece (not held back to the end).
    assert_eq!(content, ["", "It ", "is ", "sunny."], "{text}");
    assert!(!text.contains("tool_calls"), "{text}");
    let (_, v) = post(&f.app, "/v1/chat/completions", &chat_body(json!({}))).await;
    assert_eq!(v["choices"][0]["message"]["content"], "It is sunny.");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn calls_and_results_in_the_history_reach_the_prompt() {
    let f = fixture(MockConfig::default().with_script(&["Sunny."]));
    let body = json!({
        "messages": [
            {"role": "user", "content": "Weather in Oslo?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
              "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"sky\": \"clear\"}"},
        ],
        "tools": serde_json::from_str::<Value>(WEATHER).unwrap(),
    });
    let (s, v) = post(&f.app, "/v1/chat/completions", &body.to_string()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let p = f.engine.last_request().unwrap().prompt;
    assert!(
        p.contains(
            r#"<|im_start|>assistant
<tool_call>{"#
        ) && p.contains(r#""city":"Oslo""#),
        "{p}"
    );
    assert!(
        p.contains("<|im_start|>tool\n{\"sky\": \"clear\"}<|im_end|>"),
        "{p}"
    );
}

#[tokio::test]
async fn ollama_chat_returns_tool_calls_streaming_and_not() {
    let f = fixture(calling());
    let body = chat_body(json!({ "stream": false }));
    let (s, v) = post(&f.app, "/api/chat", &body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["message"]["content"], "");
    assert_eq!(
        v["message"]["tool_calls"],
        json!([{"function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}])
    );
    assert_eq!(v["done"], true);
    let (_, _, text) = call(&f.app, "POST", "/api/chat", Some(&chat_body(json!({})))).await;
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let with_calls: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"]["tool_calls"].is_array())
        .collect();
    assert_eq!(with_calls.len(), 1, "{text}");
    assert_eq!(
        with_calls[0]["message"]["tool_calls"][0]["function"]["arguments"]["city"],
        "Oslo"
    );
    assert!(!text.contains("tool_call>"), "{text}");
    assert_eq!(lines.last().unwrap()["done"], true);
}

/// A tool-aware template (ChatML plus tools, calls and results), as Qwen-style GGUFs carry.
const TOOL_TEMPLATE: &str = "{%- if tools %}<|im_start|>system\n# Tools\n\
{% for t in tools %}{{ t.function.name }}: {{ t.function.parameters | tojson }}\n{% endfor %}\
<|im_end|>\n{% endif %}\
{%- for m in messages %}\
{%- if m.role == 'assistant' and m.tool_calls %}<|im_start|>assistant\n\
{% for c in m.tool_calls %}<call>{{ c.function.name }}({{ c.function.arguments | tojson }})</call>{% endfor %}\
<|im_end|>\n\
{% elif m.role == 'tool' %}<|im_start|>user\n<result>{{ m.content }}</result><|im_end|>\n\
{% else %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endif %}\
{%- endfor %}\
{%- if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

fn tool_aware() -> MockConfig {
    MockConfig {
        chat_template: Some(TOOL_TEMPLATE.into()),
        ..calling()
    }
}

/// The history of a finished call: question, the call, its result, a follow-up.
fn history(call: Value) -> Value {
    json!([
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": null, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "12 C"},
        {"role": "user", "content": "And in Bergen?"},
    ])
}

#[tokio::test]
async fn a_tool_aware_template_renders_the_tools_and_the_call_history_itself() {
    let f = fixture(tool_aware());
    let call = json!({"id": "call_1", "type": "function",
        "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}});
    let body = json!({
        "messages": history(call),
        "tools": serde_json::from_str::<Value>(WEATHER).unwrap(),
        "tool_choice": "required",
    });
    let (s, v) = post(&f.app, "/v1/chat/completions", &body.to_string()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls", "{v}");
    let req = f.engine.last_request().unwrap();
    let p = &req.prompt;
    assert!(
        p.starts_with("<|im_start|>system\n# Tools\nget_weather: {"),
        "the template did not render the tools: {p}"
    );
    // The earlier call reaches the template as structured `tool_calls`, its arguments parsed
    // from the JSON string the client sent.
    assert!(
        p.contains(r#"<call>get_weather({"city": "Oslo"})</call>"#),
        "{p}"
    );
    assert!(p.contains("<result>12 C</result>"), "{p}");
    assert!(
        !p.contains("<tool_call>") && !p.contains("You can call these functions"),
        "{p}"
    );
    // A forced call is still constrained by the call schema (the fallback is kept).
    assert!(
        matches!(
            req.params.constraint,
            Some(twin_llm::Constraint::JsonSchema(_))
        ),
        "{:?}",
        req.params.constraint
    );
}

#[tokio::test]
async fn ollama_history_reaches_a_tool_aware_template_too() {
    let f = fixture(tool_aware());
    let call = json!({"function": {"name": "get_weather", "arguments": {"city": "Oslo"}}});
    let body = json!({
        "messages": history(call),
        "tools": serde_json::from_str::<Value>(WEATHER).unwrap(),
        "stream": false,
    });
    let (s, v) = post(&f.app, "/api/chat", &body.to_string()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["message"]["tool_calls"][0]["function"]["name"], "get_weather",
        "{v}"
    );
    let req = f.engine.last_request().unwrap();
    assert!(
        req.prompt
            .contains(r#"<call>get_weather({"city": "Oslo"})</call>"#),
        "{}",
        req.prompt
    );
    assert!(req.params.constraint.is_none(), "auto is not constrained");
}

#[tokio::test]
async fn without_template_support_the_history_is_written_as_text() {
    let f = fixture(calling());
    let call = json!({"id": "call_1", "type": "function",
        "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}});
    let body = json!({
        "messages": history(call),
        "tools": serde_json::from_str::<Value>(WEATHER).unwrap(),
    });
    let (s, _) = post(&f.app, "/v1/chat/completions", &body.to_string()).await;
    assert_eq!(s, StatusCode::OK);
    let p = f.engine.last_request().unwrap().prompt;
    assert!(
        p.starts_with("<|im_start|>system\nYou can call these functions:"),
        "{p}"
    );
    assert!(
        p.contains(
            r#"<|im_start|>assistant
<tool_call>{"arguments":{"city":"Oslo"},"name":"get_weather"}</tool_call><|im_end|>"#
        ),
        "{p}"
    );
}

#[test]
fn a_template_that_only_mentions_tools_in_a_comment_does_not_support_them() {
    let mention = twin_llm::ChatTemplate::new(
        "{# no tools here #}{% for m in messages %}{{ m.content }}{% endfor %}",
        "",
        "",
    )
    .unwrap();
    assert!(!mention.supports_tools());
    let aware = twin_llm::ChatTemplate::new(TOOL_TEMPLATE, "", "").unwrap();
    assert!(aware.supports_tools());
}
