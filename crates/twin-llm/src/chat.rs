//! Chat messages and chat templates.
//!
//! GGUF files carry their model's Jinja chat template (`tokenizer.chat_template`); it is
//! rendered with minijinja the way Hugging Face `transformers` renders it (`trim_blocks`,
//! `lstrip_blocks`, Python string methods, `raise_exception`). Models without a template get
//! ChatML, which SmolLM2, Qwen and many others use.

use std::sync::Arc;

use minijinja::{Environment, ErrorKind};
use serde::{Deserialize, Serialize};

use crate::error::EngineError;

/// ChatML, the fallback template.
pub const CHATML: &str = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + \
'\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}\
{{ '<|im_start|>assistant\n' }}{% endif %}";

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user`, `assistant` or `tool`.
    pub role: String,
    /// Plain-text content.
    pub content: String,
    /// An assistant turn's function calls, for templates that render them
    /// (`[{"type": "function", "function": {"name", "arguments": {…}}}]`, arguments as an
    /// object); absent in the template context when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<serde_json::Value>,
}

impl ChatMessage {
    /// A message with this role and content.
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        ChatMessage {
            role: role.into(),
            content: content.into(),
            tool_calls: None,
        }
    }
}

/// A compiled chat template plus the special-token texts it may reference.
#[derive(Clone)]
pub struct ChatTemplate {
    env: Arc<Environment<'static>>,
    source: String,
    bos_token: String,
    eos_token: String,
}

impl std::fmt::Debug for ChatTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatTemplate")
            .field("source_len", &self.source.len())
            .field("bos_token", &self.bos_token)
            .field("eos_token", &self.eos_token)
            .finish()
    }
}

impl ChatTemplate {
    /// Compiles `source`; a syntax error is reported with minijinja's message.
    pub fn new(
        source: &str,
        bos_token: impl Into<String>,
        eos_token: impl Into<String>,
    ) -> Result<Self, EngineError> {
        let template_err = |e: minijinja::Error| EngineError::Template {
            reason: e.to_string(),
        };
        let mut env = Environment::new();
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .build()
                .map_err(template_err)?,
        );
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function(
            "raise_exception",
            |msg: String| -> Result<String, minijinja::Error> {
                Err(minijinja::Error::new(ErrorKind::InvalidOperation, msg))
            },
        );
        env.add_function("strftime_now", |_fmt: String| today());
        env.add_template_owned("chat", source.to_owned())
            .map_err(template_err)?;
        Ok(ChatTemplate {
            env: Arc::new(env),
            source: source.to_owned(),
            bos_token: bos_token.into(),
            eos_token: eos_token.into(),
        })
    }

    /// ChatML with `<|im_end|>` as end of sequence.
    pub fn chatml() -> Self {
        Self::new(CHATML, "", "<|im_end|>").expect("the built-in ChatML template compiles")
    }

    /// The template text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the template renders a `tools` list itself (tool-calling templates): it reads
    /// a variable named `tools` (a mention in text or a comment does not count).
    pub fn supports_tools(&self) -> bool {
        self.env
            .get_template("chat")
            .is_ok_and(|t| t.undeclared_variables(false).contains("tools"))
    }

    /// Renders `messages`; with `add_generation_prompt` the result ends where the assistant's
    /// reply begins.
    pub fn render(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<String, EngineError> {
        self.render_with_tools(messages, &serde_json::Value::Null, add_generation_prompt)
    }

    /// [`render`](Self::render) with `tools` (OpenAI's request shape: a list of
    /// `{"type": "function", "function": {...}}`) in the template's context; `Null` for none.
    pub fn render_with_tools(
        &self,
        messages: &[ChatMessage],
        tools: &serde_json::Value,
        add_generation_prompt: bool,
    ) -> Result<String, EngineError> {
        let tmpl = self
            .env
            .get_template("chat")
            .map_err(|e| EngineError::Template {
                reason: e.to_string(),
            })?;
        tmpl.render(minijinja::context! {
            messages => minijinja::value::Serde(messages),
            add_generation_prompt => add_generation_prompt,
            bos_token => &self.bos_token,
            eos_token => &self.eos_token,
            tools => minijinja::value::Serde(tools),
        })
        .map_err(|e| EngineError::Template {
            reason: e.to_string(),
        })
    }
}

/// Today's date as `DD Mon YYYY` (what templates that call `strftime_now` print).
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!("{d:02} {} {y}", MONTHS[(m - 1) as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chatml_renders_a_conversation() {
        let t = ChatTemplate::chatml();
        let out = t
            .render(
                &[
                    ChatMessage::new("system", "Be brief."),
                    ChatMessage::new("user", "Hi"),
                ],
                true,
            )
            .unwrap();
        assert_eq!(
            out,
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n\
             <|im_start|>assistant\n"
        );
    }

    /// A DeepSeek-R1-style template: Python string methods, namespaces, `raise_exception`.
    #[test]
    fn deepseek_style_template_features_work() {
        let src = "{{ bos_token }}{% set ns = namespace(sys='') %}{% for m in messages %}\
            {% if m['role'] == 'system' %}{% set ns.sys = m['content'] %}{% endif %}{% endfor %}\
            {{ ns.sys }}{% for m in messages %}{% if m['role'] == 'user' %}<｜User｜>{{ m['content'] }}\
            {% elif m['role'] == 'assistant' %}{% set c = m['content'] %}\
            {% if '</think>' in c %}{% set c = c.split('</think>')[-1] %}{% endif %}\
            <｜Assistant｜>{{ c.strip() }}<｜end▁of▁sentence｜>\
            {% elif m['role'] != 'system' %}{{ raise_exception('bad role ' + m['role']) }}\
            {% endif %}{% endfor %}{% if add_generation_prompt %}<｜Assistant｜><think>\n{% endif %}";
        let t = ChatTemplate::new(src, "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>").unwrap();
        let out = t
            .render(
                &[
                    ChatMessage::new("system", "S"),
                    ChatMessage::new("user", "Q1"),
                    ChatMessage::new("assistant", "hidden</think>  A1 "),
                    ChatMessage::new("user", "Q2"),
                ],
                true,
            )
            .unwrap();
        assert_eq!(
            out,
            "<｜begin▁of▁sentence｜>S<｜User｜>Q1<｜Assistant｜>A1<｜end▁of▁sentence｜>\
             <｜User｜>Q2<｜Assistant｜><think>\n"
        );
        let err = t
            .render(&[ChatMessage::new("robot", "x")], false)
            .unwrap_err();
        assert!(err.to_string().contains("bad role robot"), "{err}");
    }

    #[test]
    fn syntax_errors_are_reported() {
        let err = ChatTemplate::new("{% for m in messages %}", "", "").unwrap_err();
        assert!(matches!(err, EngineError::Template { .. }), "{err}");
    }

    #[test]
    fn today_is_a_plausible_date() {
        let d = today();
        assert_eq!(d.len(), 11, "{d}");
    }
}
