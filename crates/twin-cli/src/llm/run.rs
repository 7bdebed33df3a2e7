//! `twin llm run` (chat in the terminal) and `twin llm bench` (throughput and time to
//! first token), both on an engine in this process.

use std::{
    io::{BufRead, Write},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use clap::Args;
use twin_llm::{ChatMessage, Engine, Event, GenerateRequest, SamplingParams};

use super::{load_engine, EngineOpts};

/// Options of `twin llm run`.
#[derive(Args, Debug)]
pub(crate) struct RunOpts {
    #[command(flatten)]
    engine: EngineOpts,
    /// The prompt; without one, chat interactively (one line per turn, `/reset` forgets
    /// the conversation, end with `/exit` or end of input).
    prompt: Option<String>,
    /// System prompt.
    #[arg(long)]
    system: Option<String>,
    /// Sampling temperature (0 = greedy).
    #[arg(long, default_value_t = 0.7)]
    temperature: f32,
    /// Most tokens per answer.
    #[arg(long, default_value_t = 512)]
    max_tokens: u32,
    /// Seed of the sampler.
    #[arg(long)]
    seed: Option<u64>,
}

/// Options of `twin llm bench`.
#[derive(Args, Debug)]
pub(crate) struct BenchOpts {
    #[command(flatten)]
    engine: EngineOpts,
    /// Concurrency levels (simultaneous requests), comma-separated.
    #[arg(long, default_value = "1,4,8,16", value_delimiter = ',')]
    conc: Vec<usize>,
    /// Tokens generated per request (end-of-generation is ignored).
    #[arg(long, default_value_t = 128)]
    tokens: u32,
    /// Repetitions per level (medians are reported).
    #[arg(long, default_value_t = 1)]
    reps: usize,
    /// Print one JSON object per level instead of a table.
    #[arg(long)]
    json: bool,
}

/// Streams one answer to `out`; returns its text.
fn answer(
    engine: &dyn Engine,
    messages: &[ChatMessage],
    params: &SamplingParams,
    out: &mut impl Write,
) -> Result<String> {
    let prompt = engine.render_chat(messages)?;
    let mut g = engine.submit(GenerateRequest {
        prompt,
        params: params.clone(),
    })?;
    let mut text = String::new();
    loop {
        match g.blocking_next() {
            Some(Event::Text(t)) => {
                out.write_all(t.as_bytes())?;
                out.flush()?;
                text.push_str(&t);
            }
            Some(Event::Done(_)) => break,
            Some(Event::Error(e)) => return Err(e).context("generation failed"),
            None => bail!("the engine stopped"),
        }
    }
    writeln!(out)?;
    Ok(text)
}

pub(crate) fn run(opts: &RunOpts) -> Result<()> {
    let engine = load_engine(&opts.engine)?;
    let params = SamplingParams {
        temperature: opts.temperature,
        max_tokens: Some(opts.max_tokens),
        seed: opts.seed,
        ..SamplingParams::default()
    };
    params.validate()?;
    let mut history: Vec<ChatMessage> = opts
        .system
        .iter()
        .map(|s| ChatMessage::new("system", s.clone()))
        .collect();
    let stdout = std::io::stdout();
    if let Some(p) = &opts.prompt {
        history.push(ChatMessage::new("user", p.clone()));
        answer(&*engine, &history, &params, &mut stdout.lock())?;
        return Ok(());
    }
    let base = history.len();
    eprintln!(
        "chatting with {} (/reset forgets, /exit or end of input quits)",
        engine.model().id
    );
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        eprint!("> ");
        let Some(line) = lines.next() else { break };
        let line = line.context("reading standard input")?;
        match line.trim() {
            "" => continue,
            "/exit" | "/quit" => break,
            "/reset" => {
                history.truncate(base);
                eprintln!("(conversation forgotten)");
                continue;
            }
            text => history.push(ChatMessage::new("user", text)),
        }
        let reply = answer(&*engine, &history, &params, &mut stdout.lock())?;
        history.push(ChatMessage::new("assistant", reply));
    }
    Ok(())
}

/// One request's measurements.
struct Sample {
    ttft: Duration,
    tokens: u32,
}

/// Runs `c` simultaneous requests; returns per-request samples and the wall time.
fn level(
    engine: &dyn Engine,
    c: usize,
    tokens: u32,
    round: usize,
) -> Result<(Vec<Sample>, Duration)> {
    let params = SamplingParams {
        max_tokens: Some(tokens),
        ignore_eos: true,
        ..SamplingParams::greedy()
    };
    let start = Instant::now();
    let mut gens = Vec::new();
    for i in 0..c {
        // A distinct first line per request, so that no prompt prefix is reused.
        let prompt = engine.render_chat(&[
            ChatMessage::new(
                "system",
                format!("Request {round}-{i}. You are a helpful assistant."),
            ),
            ChatMessage::new(
                "user",
                "Explain in a few sentences why the sky is blue, then list three reasons to \
                 write servers in Rust.",
            ),
        ])?;
        gens.push(engine.submit(GenerateRequest {
            prompt,
            params: params.clone(),
        })?);
    }
    let handles: Vec<_> = gens
        .into_iter()
        .map(|mut g| {
            std::thread::spawn(move || -> Result<Sample> {
                let mut first = None;
                loop {
                    match g.blocking_next() {
                        Some(Event::Text(_)) => {
                            first.get_or_insert_with(|| start.elapsed());
                        }
                        Some(Event::Done(done)) => {
                            return Ok(Sample {
                                ttft: first.unwrap_or_else(|| start.elapsed()),
                                tokens: done.usage.completion_tokens,
                            })
                        }
                        Some(Event::Error(e)) => return Err(e.into()),
                        None => bail!("the engine stopped"),
                    }
                }
            })
        })
        .collect();
    let mut samples = Vec::new();
    for h in handles {
        samples.push(
            h.join()
                .map_err(|_| anyhow::anyhow!("a bench thread panicked"))??,
        );
    }
    Ok((samples, start.elapsed()))
}

/// The `q` quantile (0..=1) of sorted values, nearest rank.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub(crate) fn bench(opts: &BenchOpts) -> Result<()> {
    if opts.conc.contains(&0) || opts.reps == 0 || opts.tokens == 0 {
        bail!("--conc levels, --reps and --tokens must be at least 1");
    }
    let engine = load_engine(&opts.engine)?;
    let m = engine.model();
    if !opts.json {
        println!(
            "{} ({}, {}), {} slots × {} tokens, {} tokens per request",
            m.id, m.architecture, m.quantization, m.slots, m.slot_context, opts.tokens
        );
        println!("streams  aggregate tok/s  TTFT p50 [ms]  TTFT p99 [ms]");
    }
    // One unmeasured request first (allocation, page faults).
    level(&*engine, 1, opts.tokens.min(8), usize::MAX)?;
    for (k, &c) in opts.conc.iter().enumerate() {
        let mut rates = Vec::new();
        let mut ttfts = Vec::new();
        for rep in 0..opts.reps {
            let (samples, wall) = level(&*engine, c, opts.tokens, k * 1000 + rep)?;
            let total: u32 = samples.iter().map(|s| s.tokens).sum();
            rates.push(f64::from(total) / wall.as_secs_f64());
            ttfts.extend(samples.iter().map(|s| s.ttft.as_secs_f64() * 1e3));
        }
        rates.sort_by(f64::total_cmp);
        ttfts.sort_by(f64::total_cmp);
        let (rate, p50, p99) = (
            quantile(&rates, 0.5),
            quantile(&ttfts, 0.5),
            quantile(&ttfts, 0.99),
        );
        if opts.json {
            println!(
                "{}",
                serde_json::json!({"streams": c, "aggregate_tok_s": rate, "ttft_p50_ms": p50, "ttft_p99_ms": p99})
            );
        } else {
            println!("{c:>7}  {rate:>15.1}  {p50:>13.1}  {p99:>13.1}");
        }
    }
    Ok(())
}
