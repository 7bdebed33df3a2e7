//! The engine's own ceiling: time of one `llama_decode` step over S sequences (one token
//! each) in this build of llama.cpp, with no server, scheduler, sampler chain or HTTP around
//! it, and the cost of picking the next token from the logits.
//!
//! ```text
//! RUSTFLAGS="-C target-cpu=native" cargo run --release -p twin-llm --features llama \
//!     --example batched_decode -- MODEL.gguf[,MODEL2.gguf…] [THREADS] [STEPS] [PASSES] \
//!     [unified|split] [THREADS_BATCH]
//! ```
//!
//! For S = 1, 2, 4, 8: S prompts of 60 tokens are prefilled (timed: prompt tokens/s), then
//! STEPS decode steps each add one greedy token to every sequence (timed per step). The sizes
//! and the models (a comma-separated list, e.g. one file per quantisation) are run in turn
//! for PASSES passes, so that load swings on a shared machine hit every size and model alike.
//! Printed per model and S: median step time, aggregate tokens/s, and the aggregate relative
//! to S = 1: the most that continuous batching can give on this model and machine.
//! `THREADS_BATCH` (default THREADS) is llama.cpp's `n_threads_batch`, used for batches of
//! more than one token. With `TWIN_LLAMA_LOG=1` llama.cpp's load log goes to stderr (it names
//! the weight buffers, e.g. `CPU_REPACK` when weights were repacked for batched GEMM).
//! Environment knobs for finding where the batched step's time goes (all optional):
//! `BD_SIZES=1,4` (the sizes to run, default 1,2,4,8), `BD_FLASH=auto|on|off` (llama.cpp's
//! flash-attention policy, default auto), `BD_UBATCH=N` (`n_ubatch`, default 512) and
//! `BD_KV=f16|q8_0|f32` (the KV cache's element type for K and V, default f16).
//! Last, the time to pick a greedy token from one row of logits two ways: a plain argmax
//! over the logits slice (what Twin does) and llama.cpp's greedy sampler through
//! `llama_sampler_sample`, which first copies every vocabulary entry into a candidate array.

use std::{num::NonZeroU32, time::Instant};

use llama_cpp_2::{
    context::{
        params::{KvCacheType, LlamaContextParams},
        LlamaContext,
    },
    llama_backend::LlamaBackend,
    llama_batch::LlamaBatch,
    model::{params::LlamaModelParams, LlamaModel},
    sampling::LlamaSampler,
    token::LlamaToken,
};

const PROMPT: &str = "<|im_start|>user\nExplain in a few sentences why the sky is blue, then \
                      list three reasons to write servers in Rust.<|im_end|>\n<|im_start|>\
                      assistant\n";
const SIZES: [usize; 4] = [1, 2, 4, 8];

/// The environment knobs of the module docs, with their defaults.
struct Knobs {
    sizes: Vec<usize>,
    flash: i32,
    ubatch: u32,
    kv: KvCacheType,
    label: String,
}

fn knobs() -> Result<Knobs, Box<dyn std::error::Error>> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let sizes = match var("BD_SIZES") {
        None => SIZES.to_vec(),
        Some(v) => v
            .split(',')
            .map(str::parse)
            .collect::<Result<Vec<usize>, _>>()?,
    };
    if sizes.is_empty() || sizes.iter().any(|&s| s == 0 || s > 8) {
        return Err("BD_SIZES: sizes must be 1..=8".into());
    }
    let flash_name = var("BD_FLASH").unwrap_or_else(|| "auto".into());
    let flash = match flash_name.as_str() {
        "auto" => -1,
        "off" => 0,
        "on" => 1,
        other => return Err(format!("BD_FLASH: unknown policy {other}").into()),
    };
    let ubatch = var("BD_UBATCH").map_or(Ok(512), |v| v.parse())?;
    let kv_name = var("BD_KV").unwrap_or_else(|| "f16".into());
    let kv = match kv_name.as_str() {
        "f16" => KvCacheType::F16,
        "f32" => KvCacheType::F32,
        "q8_0" => KvCacheType::Q8_0,
        other => return Err(format!("BD_KV: unknown type {other}").into()),
    };
    let label = format!("flash {flash_name}, n_ubatch {ubatch}, KV {kv_name}");
    Ok(Knobs {
        sizes,
        flash,
        ubatch,
        kv,
        label,
    })
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn argmax(logits: &[f32]) -> LlamaToken {
    let mut best = 0;
    for (i, &l) in logits.iter().enumerate() {
        if l > logits[best] {
            best = i;
        }
    }
    LlamaToken(best as i32)
}

/// Prefills `s` unique prompts in one batch, then runs `steps` decode steps of one token per
/// sequence; returns (median step seconds, prompt tokens/s).
fn run_size(
    model: &LlamaModel,
    ctx: &mut LlamaContext,
    batch: &mut LlamaBatch,
    s: usize,
    steps: usize,
) -> Result<(f64, f64), Box<dyn std::error::Error>> {
    ctx.clear_kv_cache();
    let base = model.vocab().tokenize(PROMPT.as_bytes(), false, true);
    let bos = model.vocab().bos();
    // Prefill: S prompts, each made unique by its first tokens, in one batch.
    batch.clear();
    let mut n_prompt = 0;
    let mut pos = vec![0i32; s];
    let mut logits_at = vec![0i32; s];
    for (seq, p) in pos.iter_mut().enumerate() {
        let mut tokens = vec![bos];
        let unique = format!("Request {seq}.\n");
        tokens.extend(model.vocab().tokenize(unique.as_bytes(), false, true));
        tokens.extend_from_slice(&base);
        for (j, &t) in tokens.iter().enumerate() {
            batch.add(t, j as i32, &[seq as i32], j + 1 == tokens.len())?;
        }
        *p = tokens.len() as i32;
        logits_at[seq] = batch.n_tokens() - 1;
        n_prompt += tokens.len();
    }
    let t0 = Instant::now();
    ctx.decode(batch)?;
    let prefill = t0.elapsed().as_secs_f64();
    let mut next: Vec<LlamaToken> = logits_at
        .iter()
        .map(|&i| argmax(ctx.get_logits_ith(i)))
        .collect();
    let mut times = Vec::with_capacity(steps);
    for _ in 0..steps {
        batch.clear();
        for seq in 0..s {
            batch.add(next[seq], pos[seq], &[seq as i32], true)?;
            pos[seq] += 1;
        }
        let t0 = Instant::now();
        ctx.decode(batch)?;
        times.push(t0.elapsed().as_secs_f64());
        for (seq, t) in next.iter_mut().enumerate() {
            *t = argmax(ctx.get_logits_ith(seq as i32));
        }
    }
    Ok((median(times), n_prompt as f64 / prefill))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: batched_decode MODEL.gguf[,MODEL2.gguf…] [THREADS] [STEPS] [PASSES] \
                 [unified|split] [THREADS_BATCH]";
    let paths: Vec<String> = args
        .next()
        .ok_or(usage)?
        .split(',')
        .map(str::to_owned)
        .collect();
    let threads: i32 = args.next().map_or(Ok(2), |a| a.parse())?;
    let steps: usize = args.next().map_or(Ok(64), |a| a.parse())?;
    let passes: usize = args.next().map_or(Ok(3), |a| a.parse())?;
    let unified = match args.next().as_deref() {
        None | Some("split") => false,
        Some("unified") => true,
        Some(other) => return Err(format!("{usage}: unknown KV mode {other}").into()),
    };
    let threads_batch: i32 = args.next().map_or(Ok(threads), |a| a.parse())?;
    let knobs = knobs()?;
    let sizes = &knobs.sizes;
    let mut backend = LlamaBackend::init()?;
    if std::env::var_os("TWIN_LLAMA_LOG").is_none() {
        backend.void_logs();
    }
    let models = paths
        .iter()
        .map(|p| LlamaModel::load_from_file(&backend, p, &LlamaModelParams::default()))
        .collect::<Result<Vec<_>, _>>()?;
    let max = *SIZES.iter().max().expect("sizes") as u32;
    // The same context shape as `twin llm serve --slots 8 --ctx 1024`.
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(1024 * max))
        .with_n_batch(512)
        .with_n_ubatch(knobs.ubatch)
        .with_flash_attention_policy(knobs.flash)
        .with_type_k(knobs.kv)
        .with_type_v(knobs.kv)
        .with_n_seq_max(max)
        .with_kv_unified(unified)
        .with_n_threads(threads)
        .with_n_threads_batch(threads_batch);
    let mut ctxs = models
        .iter()
        .map(|m| m.new_context(&backend, params.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut batch = LlamaBatch::new(512, max as i32);

    // [model][size] → per-pass medians.
    let mut step_s = vec![vec![Vec::new(); sizes.len()]; models.len()];
    let mut prompt_tps = vec![vec![Vec::new(); sizes.len()]; models.len()];
    // One warm-up pass of the smallest size per model, not recorded.
    for pass in 0..=passes {
        for (k, &s) in sizes.iter().enumerate() {
            if pass == 0 && k > 0 {
                break;
            }
            for (m, (model, ctx)) in models.iter().zip(ctxs.iter_mut()).enumerate() {
                let (step, tps) = run_size(model, ctx, &mut batch, s, steps)?;
                if pass > 0 {
                    step_s[m][k].push(step);
                    prompt_tps[m][k].push(tps);
                }
            }
        }
    }
    println!(
        "threads {threads} (batch {threads_batch}), {steps} steps, {passes} passes, KV {}, {}",
        if unified { "unified" } else { "split" },
        knobs.label
    );
    for (m, path) in paths.iter().enumerate() {
        println!("{path}");
        println!(
            "S  step ms  aggregate tok/s  vs S={}  prompt tok/s",
            sizes[0]
        );
        let single = sizes[0] as f64 / median(step_s[m][0].clone());
        for (k, &s) in sizes.iter().enumerate() {
            let step = median(step_s[m][k].clone());
            let agg = s as f64 / step;
            println!(
                "{s}  {:7.2}  {agg:15.1}  {:5.2}x  {:12.1}",
                step * 1e3,
                agg / single,
                median(prompt_tps[m][k].clone())
            );
        }
    }
    let (model, ctx) = (&models[0], &ctxs[0]);

    // Sampling cost on the last row of logits.
    let reps = 2000;
    let t0 = Instant::now();
    let mut sink = 0;
    for _ in 0..reps {
        sink ^= argmax(std::hint::black_box(ctx.get_logits_ith(0))).0;
    }
    let ours = t0.elapsed().as_secs_f64() / reps as f64;
    let mut greedy = LlamaSampler::greedy();
    let t0 = Instant::now();
    for _ in 0..reps {
        sink ^= greedy.sample(ctx, 0).0;
    }
    let theirs = t0.elapsed().as_secs_f64() / reps as f64;
    std::hint::black_box(sink);
    println!(
        "greedy pick over {} logits: argmax {:.1} us, llama_sampler_sample {:.1} us",
        model.n_vocab(),
        ours * 1e6,
        theirs * 1e6,
    );
    Ok(())
}
