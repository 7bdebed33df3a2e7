//! The continuous-batching loop: the only code that touches the llama context.
//!
//! Each step:
//! 1. take new jobs from the channel (blocking only when there is nothing to do);
//! 2. drop queued jobs whose caller has gone;
//! 3. admit queued jobs into free slots, choosing the slot whose cached tokens share the
//!    longest prefix with the prompt; the rest of that slot's KV cache is removed and only
//!    the prompt's suffix is prefilled (prompt-prefix reuse across conversation turns);
//! 4. build one batch: the pending token of every generating slot, then prompt chunks of
//!    prefilling slots, oldest request first; while any slot generates or more than one
//!    prompt waits, prompts get at most `prefill_chunk` tokens per step (chunked prefill:
//!    the first request of a burst gets its first token after its own prefill rather than
//!    after everyone's, and running generations are not stalled by a long prompt), a lone
//!    prompt gets the whole batch;
//! 5. decode it once, then sample every slot whose logits were computed, stream the text,
//!    and finish slots on end-of-generation, stop sequence, `max_tokens`, full context or a
//!    disconnected caller (cancellation takes effect at the next step).

use std::{
    collections::VecDeque,
    sync::{atomic::Ordering, mpsc},
    time::Instant,
};

use llama_cpp_2::{
    context::LlamaContext, llama_batch::LlamaBatch, model::LlamaModel, token::LlamaToken,
};

use super::{sampler, Counters, Job};
use crate::{
    engine::{Completion, Event, FinishReason, Timings, Usage},
    error::EngineError,
    text::{Pushed, TextStream},
};

/// Scheduler sizes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Config {
    pub(super) slots: u32,
    pub(super) slot_context: u32,
    pub(super) batch: u32,
    pub(super) prefill_chunk: u32,
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
    admitted: Instant,
    first_token: Option<Instant>,
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
    let mut queue: VecDeque<Job> = VecDeque::new();
    let mut batch = LlamaBatch::new(config.batch as usize, config.slots as i32);
    let mut clock: u64 = 0;
    let mut open = true;
    loop {
        clock += 1;
        // 1. Intake.
        let busy = slots.iter().any(|s| s.active.is_some());
        if !busy && queue.is_empty() {
            if !open {
                return;
            }
            match jobs.recv() {
                Ok(job) => queue.push_back(job),
                Err(_) => return,
            }
        }
        loop {
            match jobs.try_recv() {
                Ok(job) => queue.push_back(job),
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        // 2. Callers that left while queued.
        queue.retain(|j| {
            let keep = !j.tx.is_closed();
            if !keep {
                counters.queued.fetch_sub(1, Ordering::SeqCst);
            }
            keep
        });
        // 3. Admission.
        while !queue.is_empty() {
            let Some(i) = pick_slot(&slots, &queue[0].tokens) else {
                break;
            };
            let job = queue.pop_front().expect("queue is not empty");
            counters.queued.fetch_sub(1, Ordering::SeqCst);
            admit(model, &mut ctx, &mut slots[i], job, config, clock, counters);
        }
        // 4. One batch.
        batch.clear();
        let mut room = config.batch as usize;
        for slot in &mut slots {
            let Some(a) = &mut slot.active else { continue };
            a.logits_at = None;
            if let Some(t) = a.pending.take() {
                let pos = slot.cache.len() as i32;
                batch
                    .add(t, pos, &[slot.seq], true)
                    .expect("batch sized for every slot");
                a.logits_at = Some(batch.n_tokens() - 1);
                slot.cache.push(t);
                room -= 1;
            }
        }
        let mut prefilling: Vec<usize> = (0..slots.len())
            .filter(|&i| {
                slots[i]
                    .active
                    .as_ref()
                    .is_some_and(|a| a.prefilled < a.job.tokens.len())
            })
            .collect();
        prefilling.sort_by_key(|&i| slots[i].active.as_ref().map(|a| a.job.submitted));
        if batch.n_tokens() > 0 || prefilling.len() > 1 {
            room = room.min(config.prefill_chunk as usize);
        }
        for i in prefilling {
            let slot = &mut slots[i];
            let Some(a) = &mut slot.active else { continue };
            let total = a.job.tokens.len();
            if room == 0 {
                break;
            }
            let take = (total - a.prefilled).min(room);
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
            room -= take;
        }
        if batch.n_tokens() == 0 {
            continue;
        }
        // 5. Decode and sample.
        if let Err(e) = ctx.decode(&mut batch) {
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
        for slot in &mut slots {
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
    job: Job,
    config: &Config,
    clock: u64,
    counters: &Counters,
) {
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
        admitted: Instant::now(),
        first_token: None,
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
        },
    }));
}
