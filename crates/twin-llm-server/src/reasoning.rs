//! DeepSeek-R1 reasoning split: `…reasoning…</think>answer` → `reasoning_content` + `content`.
//!
//! R1 templates usually pre-fill `<think>\n` at the start of the assistant turn, so the model's
//! output starts *inside* the reasoning block and only the closing tag appears. R1-0528 and
//! others emit both tags. The splitter therefore starts in one of two modes:
//! - [`Start::Reasoning`]: the prompt opened a think block (or the template is a reasoning
//!   template): everything up to `</think>` is reasoning; a leading `<think>` is dropped.
//! - [`Start::Detect`]: content, unless the output *begins* with `<think>`.
//!
//! Tags may be split across tokens: any tail that could still become a tag is held back until
//! the next piece decides it.

/// How the output starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Inside a think block.
    Reasoning,
    /// Content, unless the output begins with `<think>`.
    Detect,
}

/// A split piece of output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Split {
    /// Part of the reasoning.
    Reasoning(String),
    /// Part of the answer.
    Content(String),
}

const OPEN: &str = "<think>";
const CLOSE: &str = "</think>";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the beginning: leading whitespace and a possible `<think>` are undecided.
    Begin,
    Reasoning,
    /// Just after `</think>`: leading whitespace of the answer is dropped.
    AfterClose,
    Content,
}

/// Incremental splitter; feed it text pieces in order, then call [`Splitter::finish`].
#[derive(Debug)]
pub struct Splitter {
    start: Start,
    state: State,
    held: String,
}

impl Splitter {
    /// A splitter for output that starts as `start` says.
    pub fn new(start: Start) -> Self {
        Splitter {
            start,
            state: State::Begin,
            held: String::new(),
        }
    }

    /// The mode for a prompt: reasoning if it ends inside an opened think block.
    pub fn start_for_prompt(prompt: &str, template_has_think: bool) -> Start {
        let tail = prompt.trim_end();
        let opened = tail
            .rfind(OPEN)
            .is_some_and(|o| tail.rfind(CLOSE).is_none_or(|c| c < o));
        if opened || template_has_think {
            Start::Reasoning
        } else {
            Start::Detect
        }
    }

    /// Splits the next piece; returns what is decided so far.
    pub fn push(&mut self, piece: &str) -> Vec<Split> {
        self.held.push_str(piece);
        let mut out = Vec::new();
        loop {
            match self.state {
                State::Begin => {
                    let t = self.held.trim_start();
                    if let Some(rest) = t.strip_prefix(OPEN) {
                        self.held = rest.to_owned();
                        self.state = State::Reasoning;
                    } else if OPEN.starts_with(t) {
                        return out; // empty or a partial `<think>`: wait
                    } else {
                        self.state = match self.start {
                            Start::Reasoning => State::Reasoning,
                            Start::Detect => State::Content,
                        };
                    }
                }
                State::Reasoning => {
                    if let Some(at) = self.held.find(CLOSE) {
                        let rest = self.held.split_off(at + CLOSE.len());
                        self.held.truncate(at);
                        let reasoning = std::mem::replace(&mut self.held, rest);
                        if !reasoning.is_empty() {
                            out.push(Split::Reasoning(reasoning));
                        }
                        self.state = State::AfterClose;
                    } else {
                        let keep = partial_tail(&self.held, CLOSE);
                        let rest = self.held.split_off(self.held.len() - keep);
                        let done = std::mem::replace(&mut self.held, rest);
                        if !done.is_empty() {
                            out.push(Split::Reasoning(done));
                        }
                        return out;
                    }
                }
                State::AfterClose => {
                    let t = self.held.trim_start();
                    if t.is_empty() {
                        self.held.clear();
                        return out;
                    }
                    self.held = t.to_owned();
                    self.state = State::Content;
                }
                State::Content => {
                    if !self.held.is_empty() {
                        out.push(Split::Content(std::mem::take(&mut self.held)));
                    }
                    return out;
                }
            }
        }
    }

    /// Flushes what is held at the end of generation.
    pub fn finish(&mut self) -> Vec<Split> {
        let held = std::mem::take(&mut self.held);
        match self.state {
            State::Reasoning if !held.is_empty() => vec![Split::Reasoning(held)],
            State::Begin | State::Content if !held.is_empty() => vec![Split::Content(held)],
            _ => Vec::new(),
        }
    }
}

/// Length of the longest tail of `s` that is a proper prefix of `tag`.
fn partial_tail(s: &str, tag: &str) -> usize {
    (1..tag.len().min(s.len() + 1))
        .rev()
        .find(|&n| s.is_char_boundary(s.len() - n) && tag.starts_with(&s[s.len() - n..]))
        .unwrap_or(0)
}

/// Removes reasoning from an earlier assistant turn, as DeepSeek's API does: everything up to
/// and including the last `</think>`, and any remaining `<think>…` block.
pub fn strip_reasoning(content: &str) -> String {
    let after = content
        .rfind(CLOSE)
        .map_or(content, |at| &content[at + CLOSE.len()..]);
    let kept = after.find(OPEN).map_or(after, |at| &after[..at]);
    kept.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs pieces through a splitter and joins consecutive parts of the same kind.
    fn split(start: Start, pieces: &[&str]) -> (String, String) {
        let mut s = Splitter::new(start);
        let mut parts: Vec<Split> = pieces.iter().flat_map(|p| s.push(p)).collect();
        parts.extend(s.finish());
        let (mut r, mut c) = (String::new(), String::new());
        for p in parts {
            match p {
                Split::Reasoning(t) => r.push_str(&t),
                Split::Content(t) => c.push_str(&t),
            }
        }
        (r, c)
    }

    #[test]
    fn missing_opening_tag_with_prefilled_prompt() {
        let (r, c) = split(
            Start::Reasoning,
            &["Let me", " think.", "</think>", "\n\nAnswer."],
        );
        assert_eq!((r.as_str(), c.as_str()), ("Let me think.", "Answer."));
    }

    #[test]
    fn closing_tag_split_across_tokens() {
        for cut in 1..CLOSE.len() {
            let (a, b) = CLOSE.split_at(cut);
            let first = format!("hmm{a}");
            let pieces = [first.as_str(), b, " 42"];
            let (r, c) = split(Start::Reasoning, &pieces);
            assert_eq!((r.as_str(), c.as_str()), ("hmm", "42"), "cut at {cut}");
        }
        // Every byte its own token.
        let text = "a<b</think>x";
        let pieces: Vec<String> = text.chars().map(String::from).collect();
        let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
        assert_eq!(split(Start::Reasoning, &refs), ("a<b".into(), "x".into()));
    }

    #[test]
    fn both_tags_present_and_opening_split() {
        let (r, c) = split(
            Start::Detect,
            &["\n<thi", "nk>\nwhy", "</think>", "because"],
        );
        assert_eq!((r.as_str(), c.as_str()), ("\nwhy", "because"));
    }

    #[test]
    fn no_think_model_is_all_content() {
        let (r, c) = split(Start::Detect, &["Hello", " <b>", "world</b>"]);
        assert_eq!((r.as_str(), c.as_str()), ("", "Hello <b>world</b>"));
        let (r, c) = split(Start::Detect, &["<", "thinking is fun"]);
        assert_eq!((r.as_str(), c.as_str()), ("", "<thinking is fun"));
    }

    #[test]
    fn streaming_releases_reasoning_before_the_close_tag() {
        let mut s = Splitter::new(Start::Reasoning);
        assert_eq!(
            s.push("step one"),
            vec![Split::Reasoning("step one".into())]
        );
        assert_eq!(s.push(" </th"), vec![Split::Reasoning(" ".into())]);
        assert_eq!(s.push("ink>ok"), vec![Split::Content("ok".into())]);
    }

    #[test]
    fn unterminated_reasoning_stays_reasoning() {
        let (r, c) = split(Start::Reasoning, &["still thinking </thi"]);
        assert_eq!((r.as_str(), c.as_str()), ("still thinking </thi", ""));
    }

    #[test]
    fn prompt_decides_the_start() {
        assert_eq!(
            Splitter::start_for_prompt("<|Assistant|><think>\n", false),
            Start::Reasoning
        );
        assert_eq!(
            Splitter::start_for_prompt("<think>a</think>b", false),
            Start::Detect
        );
        assert_eq!(Splitter::start_for_prompt("plain", true), Start::Reasoning);
    }

    #[test]
    fn history_reasoning_is_stripped() {
        assert_eq!(
            strip_reasoning("<think>long\nchain</think>\n\nThe answer."),
            "The answer."
        );
        assert_eq!(strip_reasoning("chain only</think>A"), "A");
        assert_eq!(strip_reasoning("no tags"), "no tags");
    }
}
