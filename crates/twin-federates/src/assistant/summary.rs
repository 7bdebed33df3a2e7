//! The assistant's rolling summary of the federation: the latest sample of every instance
//! of every watched topic, rendered as numbered facts the model can cite.

use std::collections::BTreeMap;

use serde_json::Value;
use twin_core::SimTime;
use twin_federation::proto::Citation;

/// The latest sample of one instance.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Fact {
    pub(crate) topic: String,
    /// The instance key as JSON text (`3`, `"tavg"`, `null` for keyless topics).
    pub(crate) key: String,
    pub(crate) sim_time: SimTime,
    pub(crate) excerpt: String,
}

/// Per-topic counters.
#[derive(Clone, Debug, Default)]
struct TopicStats {
    samples: u64,
    last: SimTime,
}

/// Latest value per (topic, instance), and per-topic counts.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    latest: BTreeMap<(String, String), Fact>,
    topics: BTreeMap<String, TopicStats>,
    /// Most instances listed per topic (the most recently updated).
    per_topic: usize,
}

impl Summary {
    pub(crate) fn new(per_topic: usize) -> Self {
        Summary {
            per_topic: per_topic.max(1),
            ..Summary::default()
        }
    }

    /// Records one sample's value.
    pub(crate) fn update(&mut self, topic: &str, key: &Value, t: SimTime, value: &Value) {
        let st = self.topics.entry(topic.to_owned()).or_default();
        st.samples += 1;
        st.last = st.last.max(t);
        let key = key.to_string();
        self.latest.insert(
            (topic.to_owned(), key.clone()),
            Fact {
                topic: topic.to_owned(),
                key,
                sim_time: t,
                excerpt: compact(value, 200),
            },
        );
    }

    /// The newest sample time seen.
    pub(crate) fn latest_time(&self) -> SimTime {
        self.topics
            .values()
            .map(|s| s.last)
            .max()
            .unwrap_or(SimTime::ZERO)
    }

    /// The facts given to the model, in citation order ([1] first).
    pub(crate) fn facts(&self) -> Vec<Fact> {
        let mut out = Vec::new();
        for topic in self.topics.keys() {
            let mut of: Vec<&Fact> = self
                .latest
                .range((topic.clone(), String::new())..)
                .take_while(|((t, _), _)| t == topic)
                .map(|(_, f)| f)
                .collect();
            of.sort_by(|a, b| b.sim_time.cmp(&a.sim_time).then(a.key.cmp(&b.key)));
            out.extend(of.into_iter().take(self.per_topic).cloned());
        }
        out
    }

    /// The summary as prompt text: one line per topic, then numbered facts.
    pub(crate) fn render(&self, facts: &[Fact]) -> String {
        let mut s = String::new();
        for (topic, st) in &self.topics {
            s.push_str(&format!(
                "- {topic}: {} samples, latest at t = {:.3} s\n",
                st.samples,
                st.last.as_secs_f64()
            ));
        }
        for (i, f) in facts.iter().enumerate() {
            s.push_str(&format!(
                "[{}] {}{} at t = {:.3} s: {}\n",
                i + 1,
                f.topic,
                if f.key == "null" {
                    String::new()
                } else {
                    format!(" {}", f.key)
                },
                f.sim_time.as_secs_f64(),
                f.excerpt
            ));
        }
        s
    }
}

/// The facts an answer used: those it cites as `[n]`; failing that, those whose topic or
/// key words the question or answer mention; failing that, all facts (at most `max`).
pub(crate) fn citations(answer: &str, question: &str, facts: &[Fact], max: usize) -> Vec<Citation> {
    let mut picked: Vec<usize> = Vec::new();
    let bytes = answer.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'[' {
            let digits: String = answer[i + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if !digits.is_empty() && answer[i + 1 + digits.len()..].starts_with(']') {
                if let Ok(n) = digits.parse::<usize>() {
                    if (1..=facts.len()).contains(&n) && !picked.contains(&(n - 1)) {
                        picked.push(n - 1);
                    }
                }
            }
        }
        i += 1;
    }
    if picked.is_empty() {
        let text = format!("{question} {answer}").to_lowercase();
        let words: Vec<&str> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() > 2)
            .collect();
        picked = (0..facts.len())
            .filter(|&k| {
                let f = &facts[k];
                let name = f.topic.rsplit('/').take(2).collect::<Vec<_>>().join(" ");
                name.split(|c: char| !c.is_alphanumeric())
                    .filter(|w| w.len() > 2)
                    .any(|w| words.contains(&w.to_lowercase().as_str()))
            })
            .collect();
    }
    if picked.is_empty() {
        picked = (0..facts.len()).collect();
    }
    picked
        .into_iter()
        .take(max)
        .map(|k| Citation {
            topic: facts[k].topic.clone(),
            sim_time: facts[k].sim_time,
            excerpt: facts[k].excerpt.clone(),
        })
        .collect()
}

/// A short rendering of a value: numbers to 4 significant digits, long numeric arrays as
/// `[n values, min …, mean …, max …]`, the whole cut at `limit` characters.
pub(crate) fn compact(v: &Value, limit: usize) -> String {
    let mut s = String::new();
    write_compact(v, &mut s);
    if s.chars().count() > limit {
        s = s.chars().take(limit.saturating_sub(1)).collect();
        s.push('…');
    }
    s
}

fn write_compact(v: &Value, out: &mut String) {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(x) if n.is_f64() => out.push_str(&format_num(x)),
            _ => out.push_str(&n.to_string()),
        },
        Value::Array(a) if a.len() > 6 && a.iter().all(Value::is_number) => {
            let xs: Vec<f64> = a.iter().filter_map(Value::as_f64).collect();
            let (min, max) = xs
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                    (lo.min(x), hi.max(x))
                });
            let mean = xs.iter().sum::<f64>() / xs.len() as f64;
            out.push_str(&format!(
                "[{} values, min {}, mean {}, max {}]",
                xs.len(),
                format_num(min),
                format_num(mean),
                format_num(max)
            ));
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_compact(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push_str(": ");
                write_compact(x, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn format_num(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 9) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn t(ms: u64) -> SimTime {
        SimTime::from_nanos(ms * 1_000_000)
    }

    #[test]
    fn keeps_the_latest_value_per_instance_and_counts_samples() {
        let mut s = Summary::new(2);
        for (k, ms, x) in [(0, 100, 1.0), (1, 100, 2.0), (0, 200, 3.0), (2, 300, 4.0)] {
            s.update("twin/p", &json!(k), t(ms), &json!({ "id": k, "x_m": x }));
        }
        s.update("twin/stats", &Value::Null, t(250), &json!({"rx": 5}));
        let facts = s.facts();
        // Two most recent instances of twin/p (2 at 300 ms, 0 at 200 ms), then the stats.
        let got: Vec<(&str, &str, &str)> = facts
            .iter()
            .map(|f| (f.topic.as_str(), f.key.as_str(), f.excerpt.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("twin/p", "2", "{id: 2, x_m: 4}"),
                ("twin/p", "0", "{id: 0, x_m: 3}"),
                ("twin/stats", "null", "{rx: 5}")
            ]
        );
        assert_eq!(s.latest_time(), t(300));
        let text = s.render(&facts);
        assert!(
            text.contains("- twin/p: 4 samples, latest at t = 0.300 s"),
            "{text}"
        );
        assert!(
            text.contains("[3] twin/stats at t = 0.250 s: {rx: 5}"),
            "{text}"
        );
    }

    #[test]
    fn long_arrays_and_numbers_are_compacted() {
        let v = json!({"values": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.5], "d": 0.000123456, "n": 12});
        assert_eq!(
            compact(&v, 200),
            "{d: 0.0001235, n: 12, values: [7 values, min 1, mean 4.071, max 7.5]}"
        );
        assert_eq!(compact(&json!("abcdefgh"), 5), "\"abc…");
    }

    #[test]
    fn citations_follow_markers_then_words_then_everything() {
        let f = |topic: &str| Fact {
            topic: topic.into(),
            key: "null".into(),
            sim_time: t(1),
            excerpt: "x".into(),
        };
        let facts = [
            f("twin/net/stats"),
            f("twin/demo/tick"),
            f("twin/brain/monitor/tavg"),
        ];
        let topics = |c: Vec<Citation>| c.into_iter().map(|c| c.topic).collect::<Vec<_>>();
        assert_eq!(
            topics(citations("Ticks [2] and stats [1][2] [9]", "?", &facts, 8)),
            ["twin/demo/tick", "twin/net/stats"]
        );
        assert_eq!(
            topics(citations(
                "It is fine.",
                "How are the net stats?",
                &facts,
                8
            )),
            ["twin/net/stats"]
        );
        assert_eq!(topics(citations("Fine.", "Anything?", &facts, 2)).len(), 2);
    }
}
