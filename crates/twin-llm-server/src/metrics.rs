//! Prometheus metrics, rendered in the text exposition format at `/metrics`.
//!
//! Names follow llama.cpp's `--metrics` set where one exists (prompt and generated token
//! totals, throughput, queue depth, busy slots), prefixed `twin_llm_`.

use std::{collections::BTreeMap, fmt::Write, sync::Mutex, time::Duration};

use twin_llm::{Completion, Load};

/// Upper bounds of the latency histograms [s].
const BUCKETS: [f64; 12] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// The parts of the engine-side time to first token (see [`twin_llm::Timings`]).
const TTFT_PARTS: [&str; 5] = [
    "step_wait",
    "slot_wait",
    "prefill_decode",
    "prefill_skipped",
    "other",
];

/// [`TTFT_PARTS`] of one completion [s]; `other` is batch building and sampling.
fn ttft_parts(c: &Completion) -> [f64; TTFT_PARTS.len()] {
    let t = &c.timings;
    let s = |d: Duration| d.as_secs_f64();
    let slot_wait = t.queued.saturating_sub(t.step_wait);
    let other = t
        .prompt
        .saturating_sub(t.prefill_decode)
        .saturating_sub(t.prefill_skipped);
    [
        s(t.step_wait),
        s(slot_wait),
        s(t.prefill_decode),
        s(t.prefill_skipped),
        s(other),
    ]
}

/// A cumulative histogram.
#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, v: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if v <= *b {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += v;
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (b, c) in BUCKETS.iter().zip(self.counts) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {c}");
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum {}\n{name}_count {}", self.sum, self.count);
    }
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(&'static str, u16), u64>,
    errors: BTreeMap<&'static str, u64>,
    rejected: u64,
    cancelled: u64,
    prompt_tokens: u64,
    cached_tokens: u64,
    completion_tokens: u64,
    prompt_seconds: f64,
    decode_seconds: f64,
    decoded_after_first: u64,
    /// Engine-side time to first token by part, summed over completed requests [s].
    ttft_parts: [f64; TTFT_PARTS.len()],
    ttft: Histogram,
    duration: Histogram,
}

/// Server-wide counters. Cheap to update from handlers (one short lock).
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut self.inner.lock().expect("metrics lock poisoned"))
    }

    /// A finished request (any outcome) with its HTTP status.
    pub(crate) fn request(&self, endpoint: &'static str, status: u16) {
        self.with(|m| *m.requests.entry((endpoint, status)).or_default() += 1);
    }

    /// An error, by its stable type string.
    pub(crate) fn error(&self, error_type: &'static str) {
        self.with(|m| *m.errors.entry(error_type).or_default() += 1);
    }

    /// A request refused because the queue was full.
    pub(crate) fn rejected(&self) {
        self.with(|m| m.rejected += 1);
    }

    /// A generation abandoned by its client.
    pub(crate) fn cancelled(&self) {
        self.with(|m| m.cancelled += 1);
    }

    /// Time from request arrival to the first generated text.
    pub(crate) fn first_token(&self, ttft: Duration) {
        self.with(|m| m.ttft.observe(ttft.as_secs_f64()));
    }

    /// A completed generation and its total duration.
    pub(crate) fn completed(&self, c: &Completion, total: Duration) {
        self.with(|m| {
            m.prompt_tokens += u64::from(c.usage.prompt_tokens);
            m.cached_tokens += u64::from(c.usage.cached_tokens);
            m.completion_tokens += u64::from(c.usage.completion_tokens);
            m.prompt_seconds += c.timings.prompt.as_secs_f64();
            m.decode_seconds += c.timings.decode.as_secs_f64();
            m.decoded_after_first += u64::from(c.usage.completion_tokens.saturating_sub(1));
            for (sum, v) in m.ttft_parts.iter_mut().zip(ttft_parts(c)) {
                *sum += v;
            }
            m.duration.observe(total.as_secs_f64());
        });
    }

    /// The exposition text, with the engine's current load.
    pub(crate) fn render(&self, load: Load, in_flight: usize) -> String {
        let m = self.inner.lock().expect("metrics lock poisoned");
        let mut o = String::with_capacity(4096);
        let mut line = |name: &str, kind: &str, help: &str, v: String| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        };
        line(
            "twin_llm_requests_in_flight",
            "gauge",
            "Requests admitted and not finished.",
            in_flight.to_string(),
        );
        line(
            "twin_llm_queue_depth",
            "gauge",
            "Requests waiting for a sequence slot.",
            load.queued.to_string(),
        );
        line(
            "twin_llm_slots_busy",
            "gauge",
            "Sequence slots generating.",
            load.active.to_string(),
        );
        line(
            "twin_llm_slots",
            "gauge",
            "Sequence slots in total.",
            load.slots.to_string(),
        );
        line(
            "twin_llm_rejected_total",
            "counter",
            "Requests refused with 429 (queue full).",
            m.rejected.to_string(),
        );
        line(
            "twin_llm_cancelled_total",
            "counter",
            "Generations abandoned by their client.",
            m.cancelled.to_string(),
        );
        line(
            "twin_llm_prompt_tokens_total",
            "counter",
            "Prompt tokens of completed requests.",
            m.prompt_tokens.to_string(),
        );
        line(
            "twin_llm_prompt_tokens_cached_total",
            "counter",
            "Prompt tokens reused from the KV cache.",
            m.cached_tokens.to_string(),
        );
        line(
            "twin_llm_completion_tokens_total",
            "counter",
            "Generated tokens.",
            m.completion_tokens.to_string(),
        );
        line(
            "twin_llm_prompt_seconds_total",
            "counter",
            "Time spent in prompt processing.",
            m.prompt_seconds.to_string(),
        );
        line(
            "twin_llm_decode_seconds_total",
            "counter",
            "Time spent generating after the first token.",
            m.decode_seconds.to_string(),
        );
        let rate = |tokens: u64, secs: f64| {
            if secs > 0.0 {
                tokens as f64 / secs
            } else {
                0.0
            }
        };
        let computed = m.prompt_tokens - m.cached_tokens.min(m.prompt_tokens);
        line(
            "twin_llm_prompt_tokens_per_second",
            "gauge",
            "Average prompt throughput per request.",
            rate(computed, m.prompt_seconds).to_string(),
        );
        line(
            "twin_llm_decode_tokens_per_second",
            "gauge",
            "Average decode throughput per request.",
            rate(m.decoded_after_first, m.decode_seconds).to_string(),
        );
        let _ = writeln!(o, "# HELP twin_llm_requests_total Finished HTTP requests.\n# TYPE twin_llm_requests_total counter");
        for ((ep, status), n) in &m.requests {
            let _ = writeln!(
                o,
                "twin_llm_requests_total{{endpoint=\"{ep}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(
            o,
            "# HELP twin_llm_errors_total Errors by type.\n# TYPE twin_llm_errors_total counter"
        );
        for (ty, n) in &m.errors {
            let _ = writeln!(o, "twin_llm_errors_total{{type=\"{ty}\"}} {n}");
        }
        let _ = writeln!(
            o,
            "# HELP twin_llm_first_token_seconds_total Engine-side time to first token of \
             completed requests, by part: the decode step in progress at arrival, waiting for \
             a slot, decode steps carrying the prompt, decode steps without it, the rest.\n\
             # TYPE twin_llm_first_token_seconds_total counter"
        );
        for (part, v) in TTFT_PARTS.iter().zip(m.ttft_parts) {
            let _ = writeln!(
                o,
                "twin_llm_first_token_seconds_total{{part=\"{part}\"}} {v}"
            );
        }
        m.ttft.render(
            &mut o,
            "twin_llm_time_to_first_token_seconds",
            "Request arrival to first generated text.",
        );
        m.duration.render(
            &mut o,
            "twin_llm_request_duration_seconds",
            "Duration of completed generations.",
        );
        o
    }
}
