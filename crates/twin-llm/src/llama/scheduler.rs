//! The continuous-batching loop: the only code that touches the llama context.
//!
//! Each step:
//! 1. take new jobs from the channel (blocking only when there is nothing to do);
//! 2. drop queued jobs whose caller has gone;
//! 3. admit queued jobs into free slots, choosing the slot whose cached tokens share the
//!    longest prefix with the prompt; the rest of that slot's KV cache is removed and only
//!    the prompt's suffix is prefilled (prompt-prefix reuse across conversation turns);
//! 4. build one batch as [`crate::plan`] decides: the pending token of every generating
//!    slot and a chunk of every waiting prompt (at most `prefill_chunk` tokens each while
//!    anything else shares the step, oldest request first); with prefill priority, a step
//!    that carries prompt tokens carries at most `decode_with_prefill` generating tokens,
//!    and a step carries at most `prompts_per_step` prompts;
//! 5. decode it once, then sample every slot whose logits were computed (first tokens
//!    first), stream the text, and finish slots on end-of-generation, stop sequence,
//!    `max_tokens`, full context or a disconnected caller (cancellation takes effect at the
//!    next step).
//!
//! Each request's time to first token is split in its [`Timings`]: the step in progress
//! when it arrived, the wait for a slot, and the decode time of the steps that carried (or
//! skipped) its prompt.

use std::{
    collections::VecDeque,
    sync::{atomic::Ordering, mpsc},
    time::{Duration, Instant},
};

use llama_cpp_2::{
    context::LlamaContext, llama_batch::LlamaBatch, model::LlamaModel, token::LlamaToken,
};

use super::{sampler, Counters, Job};
use crate::{
    engine::{Completion, Event, FinishReason, Timings, Usage},
    error::EngineError,
    plan::{plan, Rule, SlotView},
    text::{Pushed, TextStream},
};

/// Scheduler sizes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Config {
    pub(super) slots: u32,
    pub(super) slot_context: u32,
    pub(super) batch: u32,
    pub(super) prefill_chunk: u32,
    pub(super) decode_with_prefill: u32,
    pub(super) prompts_per_step: u32,
    pub(super) grammar_first: bool,
}

/// A request holding a slot.
struct Active {
    job: Job,
    sampler: sampler::Sampler,
    text: TextStream,
    /// Prompt tokens already in the KV cache.
    prefilled: usize,
    /// Prompt tokens reused from the cache at admission.
    cached: u32,
    /// The sampled token not yet in the KV cache.
    pending: Option<LlamaToken>,
    /// Index of this slot's logits in the current batch.
    logits_at: Option<i32>,
    generated: u32,
    limit: u32,
    /// Intake order (smaller is older).
    order: u64,
    /// When the scheduler took the request from the channel.
    taken: Instant,
    admitted: Instant,
    first_token: Option<Instant>,
    /// Decode time and count of the steps that carried this prompt, and of those that ran
    /// without it, before its first token.
    prefill_decode: Duration,
    prefill_steps: u32,
    prefill_skipped: Duration,
}

/// A request waiting for a slot, with its intake order and time.
struct Queued {
    job: Job,
    order: u64,
    taken: Instant,
}

/// One sequence of the context.
struct Slot {
    seq: i32,
    /// Tokens whose keys and values are in this sequence's cache, in position order.
    cache: Vec<LlamaToken>,
    active: Option<Active>,
    last_used: u64,
}

fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Decodes one token and forgets it, so that the first request does not pay for llama.cpp's
/// lazy initialisation (weight repacking, buffer allocation): about a second on a small CPU.
pub(super) fn warm_up(model: &LlamaModel, ctx: &mut LlamaContext<'_>) {
    let mut batch = LlamaBatch::new(1, 1);
    if batch.add(model.vocab().bos(), 0, &[0], true).is_ok() {
        if let Err(e) = ctx.decode(&mut batch) {
            tracing::warn!(error = %e, "warm-up decode failed");
        }
    }
    let _ = ctx.clear_kv_cache_seq(None, None, None);
}

/// Runs until the engine handle is dropped and no work is left.
pub(super) fn run(
    model: &LlamaModel,
    mut ctx: LlamaContext<'_>,
    config: &Config,
    jobs: &mpsc::Receiver<Job>,
    counters: &Counters,
) {
    let mut slots: Vec<Slot> = (0..config.slots as i32)
        .map(|seq| Slot {
            seq,
            cache: Vec::new(),
            active: None,
            last_used: 0,
        })
        .collect();
    let mut queue: VecDeque<Queued> = VecDeque::new();
    let mut batch = LlamaBatch::new(config.batch as usize, config.slots as i32);
    let mut clock: u64 = 0;
    let mut intake: u64 = 0;
    let mut open = true;
    let mut take_job = |job: Job| {
        intake += 1;
        Queued {
            job,
            order: intake,
            taken: Instant::now(),
        }
    };
    loop {
        clock += 1;
        // 1. Intake.
        let busy = slots.iter().any(|s| s.active.is_some());
        if !busy && queue.is_empty() {
            if !open {
                return;
            }
            match jobs.recv() {
                Ok(job) => queue.push_back(take_job(job)),
                Err(_) => return,
            }
        }
        loop {
            match jobs.try_recv() {
                Ok(job) => queue.push_back(take_job(job)),
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        // 2. Callers that left while queued.
        queue.retain(|q| {
            let keep = !q.job.tx.is_closed();
            if !keep {
                counters.queued.fetch_sub(1, Ordering::SeqCst);
            }
            keep
        });
        // 3. Admission.
        while !queue.is_empty() {
            let Some(i) = pick_slot(&slots, &queue[0].job.tokens) else {
                break;
            };
            let q = queue.pop_front().expect("queue is not empty");
            counters.queued.fetch_sub(1, Ordering::SeqCst);
            admit(model, &mut ctx, &mut slots[i], q, config, clock, counters);
        }
        // 4. One batch.
        let views: Vec<Option<SlotView>> = slots
            .iter()
            .map(|s| {
                s.active.as_ref().map(|a| SlotView {
                    pending: a.pending.is_some(),
                    prompt_left: a.job.tokens.len() - a.prefilled,
                    order: a.order,
                })
            })
            .collect();
        let step = plan(
            &views,
            Rule {
                batch: config.batch as usize,
                prefill_chunk: config.prefill_chunk as usize,
                decode_with_prefill: config.decode_with_prefill as usize,
                prompts_per_step: config.prompts_per_step as usize,
            },
        );
        batch.clear();
        for slot in &mut slots {
            if let Some(a) = &mut slot.active {
                a.logits_at = None;
            }
        }
        for &i in &step.decode {
            let slot = &mut slots[i];
            let Some(a) = &mut slot.active else { continue };
            let Some(t) = a.pending.take() else { continue };
            let pos = slot.cache.len() as i32;
            batch
                .add(t, pos, &[slot.seq], true)
                .expect("batch sized for every slot");
            a.logits_at = Some(batch.n_tokens() - 1);
            slot.cache.push(t);
        }
        for &(i, take) in &step.prefill {
            let slot = &mut slots[i];
            let Some(a) = &mut slot.active else { continue };
            let total = a.job.tokens.len();
            for k in a.prefilled..a.prefilled + take {
                let last = k + 1 == total;
                batch
                    .add(a.job.tokens[k], k as i32, &[slot.seq], last)
                    .expect("batch has room for the chunk");
                if last {
                    a.logits_at = Some(batch.n_tokens() - 1);
                }
            }
            slot.cache
                .extend_from_slice(&a.job.tokens[a.prefilled..a.prefilled + take]);
            a.prefilled += take;
        }
        if batch.n_tokens() == 0 {
            continue;
        }
        // 5. Decode and sample.
        let started = Instant::now();
        let decoded = ctx.decode(&mut batch);
        let took = started.elapsed();
        for (i, slot) in slots.iter_mut().enumerate() {
            let Some(a) = &mut slot.active else { continue };
            if a.first_token.is_none() {
                if step.prefill.iter().any(|&(j, _)| j == i) {
                    a.prefill_decode += took;
                    a.prefill_steps += 1;
                } else {
                    a.prefill_skipped += took;
                }
            }
        }
        if let Err(e) = decoded {
            let err = EngineError::Decode {
                reason: e.to_string(),
            };
            tracing::error!(error = %err, "decode failed; failing the batch's requests");
            for slot in &mut slots {
                if let Some(a) = slot.active.take() {
                    let _ = a.job.tx.send(Event::Error(err.clone()));
                    counters.active.fetch_sub(1, Ordering::SeqCst);
                    let _ = ctx.clear_kv_cache_seq(Some(slot.seq as u32), None, None);
                    slot.cache.clear();
                }
            }
            continue;
        }
        // Slots about to get their first token are sampled (and streamed) first.
        let mut order: Vec<usize> = (0..slots.len()).collect();
        order.sort_by_key(|&i| {
            slots[i]
                .active
                .as_ref()
                .is_some_and(|a| a.first_token.is_some())
        });
        for i in order {
            let slot = &mut slots[i];
            // `Some(None)`: the caller left; `Some(Some(reason))`: generation ended.
            let finished = match &mut slot.active {
                Some(a) if a.job.tx.is_closed() => Some(None),
                Some(a) => a
                    .logits_at
                    .and_then(|i| sample(model, &ctx, a, i, slot.cache.len(), config))
                    .map(Some),
                None => None,
            };
            if let Some(reason) = finished {
                let a = slot.active.take().expect("finishing an active slot");
                counters.active.fetch_sub(1, Ordering::SeqCst);
                slot.last_used = clock;
                if let Some(reason) = reason {
                    complete(a, reason);
                }
            }
        }
    }
}

/// The free slot with the longest cached prefix of `tokens` (least recently used on ties).
fn pick_slot(slots: &[Slot], tokens: &[LlamaToken]) -> Option<usize> {
    slots
        .iter()
        .enumerate()
        .filter(|(_, s)| s.active.is_none())
        .max_by_key(|(_, s)| {
            (
                common_prefix(&s.cache, tokens),
                std::cmp::Reverse(s.last_used),
            )
        })
        .map(|(i, _)| i)
}

fn admit(
    model: &LlamaModel,
    ctx: &mut LlamaContext<'_>,
    slot: &mut Slot,
    queued: Queued,
    config: &Config,
    clock: u64,
    counters: &Counters,
) {
    let Queued { job, order, taken } = queued;
    // Keep the common prefix, but recompute at least the last prompt token for its logits.
    let keep = common_prefix(&slot.cache, &job.tokens).min(job.tokens.len() - 1);
    if ctx
        .clear_kv_cache_seq(Some(slot.seq as u32), Some(keep as u32), None)
        .is_err()
    {
        let _ = ctx.clear_kv_cache_seq(Some(slot.seq as u32), None, None);
        slot.cache.clear();
    }
    slot.cache.truncate(keep);
    let keep = slot.cache.len();
    let sampler = match sampler::build(model, &job.request.params, config.grammar_first) {
        Ok(s) => s,
        Err(e) => {
            let _ = job.tx.send(Event::Error(e));
            return;
        }
    };
    let room = config.slot_context - job.tokens.len() as u32;
    let limit = job.request.params.max_tokens.map_or(room, |m| m.min(room));
    let text = TextStream::new(&job.request.params.stop);
    slot.last_used = clock;
    counters.active.fetch_add(1, Ordering::SeqCst);
    slot.active = Some(Active {
        job,
        sampler,
        text,
        prefilled: keep,
        cached: keep as u32,
        pending: None,
        logits_at: None,
        generated: 0,
        limit,
        order,
        taken,
        admitted: Instant::now(),
        first_token: None,
        prefill_decode: Duration::ZERO,
        prefill_steps: 0,
        prefill_skipped: Duration::ZERO,
    });
}

/// Samples and streams the next token of `a`; `Some(reason)` when the generation ended.
fn sample(
    model: &LlamaModel,
    ctx: &LlamaContext<'_>,
    a: &mut Active,
    i: i32,
    cached: usize,
    config: &Config,
) -> Option<FinishReason> {
    let token = a.sampler.sample(ctx, i);
    a.first_token.get_or_insert_with(Instant::now);
    let vocab = model.vocab();
    if !a.job.request.params.ignore_eos && vocab.is_eog(token) {
        return Some(FinishReason::Stop);
    }
    a.generated += 1;
    let piece = vocab.token_to_piece(token, false, None);
    match a.text.push(&piece) {
        Pushed::Text(t) => {
            if !t.is_empty() {
                let _ = a.job.tx.send(Event::Text(t));
            }
        }
        Pushed::Stop(t) => {
            if !t.is_empty() {
                let _ = a.job.tx.send(Event::Text(t));
            }
            return Some(FinishReason::Stop);
        }
    }
    if a.generated >= a.limit || cached + 1 >= config.slot_context as usize {
        return Some(FinishReason::Length);
    }
    a.pending = Some(token);
    None
}

/// Flushes the text and sends the completion.
fn complete(mut a: Active, finish_reason: FinishReason) {
    // Whatever was held back as a possible stop-sequence prefix is text after all.
    let rest = a.text.finish();
    if !rest.is_empty() {
        let _ = a.job.tx.send(Event::Text(rest));
    }
    let done = Instant::now();
    let first = a.first_token.unwrap_or(done);
    let _ = a.job.tx.send(Event::Done(Completion {
        finish_reason,
        usage: Usage {
            prompt_tokens: a.job.tokens.len() as u32,
            cached_tokens: a.cached,
            completion_tokens: a.generated,
        },
        timings: Timings {
            queued: a.admitted - a.job.submitted,
            prompt: first - a.admitted,
            decode: done - first,
            step_wait: a.taken - a.job.submitted,
            prefill_decode: a.prefill_decode,
            prefill_skipped: a.prefill_skipped,
            prefill_steps: a.prefill_steps,
        },
    }));
}
