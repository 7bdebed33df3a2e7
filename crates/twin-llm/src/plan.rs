//! What goes into the next decode step: the batch-planning rule of the continuous-batching
//! scheduler, kept free of llama.cpp so that it can be tested on its own.
//!
//! Every step carries, in one `llama_decode`:
//! 1. the pending token of every generating sequence (one token each);
//! 2. a chunk of **every** prompt still waiting for its first token, oldest submission
//!    first, each chunk at most `prefill_chunk` tokens while anything else shares the step
//!    (a lone prompt with nothing generating gets the whole batch), until the batch is full.
//!
//! Why every waiting prompt at once: on a compute-bound CPU a step's time grows with its
//! token count `n` roughly as `t(n) ≈ t₀ + n·c`, so prefilling `k` prompts of `L` tokens
//! beside `D` generating sequences one prompt per step gives the last of them its first
//! token after `k·(t₀ + (L + D)·c)`, while one shared step gives every one of them its first
//! token after `t₀ + (k·L + D)·c`. The per-prompt cap still bounds how long a single long
//! prompt can stall the generating sequences (it is then spread over several steps).

/// The planner's view of one occupied sequence slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SlotView {
    /// A sampled token waits to be fed back (the sequence is generating).
    pub(crate) pending: bool,
    /// Prompt tokens not yet in the KV cache.
    pub(crate) prompt_left: usize,
    /// Submission order of the request (smaller is older).
    pub(crate) order: u64,
}

/// One step's contents, as slot indices into the planner's input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Slots that feed their pending token.
    pub(crate) decode: Vec<usize>,
    /// Slots that prefill, with the number of prompt tokens each takes, oldest first.
    pub(crate) prefill: Vec<(usize, usize)>,
}

#[cfg(test)]
impl Plan {
    /// Tokens in the step.
    pub(crate) fn tokens(&self) -> usize {
        self.decode.len() + self.prefill.iter().map(|&(_, n)| n).sum::<usize>()
    }
}

/// Plans one step over `slots` (`None`: free slot) for a batch of `batch` tokens.
pub(crate) fn plan(slots: &[Option<SlotView>], batch: usize, prefill_chunk: usize) -> Plan {
    let mut out = Plan::default();
    for (i, s) in slots.iter().enumerate() {
        if s.is_some_and(|s| s.pending) {
            out.decode.push(i);
        }
    }
    let mut waiting: Vec<(u64, usize, usize)> = slots
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            s.filter(|s| !s.pending && s.prompt_left > 0)
                .map(|s| (s.order, i, s.prompt_left))
        })
        .collect();
    waiting.sort_unstable();
    let alone = out.decode.is_empty() && waiting.len() == 1;
    let cap = if alone { batch } else { prefill_chunk.max(1) };
    let mut room = batch.saturating_sub(out.decode.len());
    for (_, i, left) in waiting {
        if room == 0 {
            break;
        }
        let take = left.min(cap).min(room);
        out.prefill.push((i, take));
        room -= take;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generating(order: u64) -> Option<SlotView> {
        Some(SlotView {
            pending: true,
            prompt_left: 0,
            order,
        })
    }

    fn prompt(order: u64, left: usize) -> Option<SlotView> {
        Some(SlotView {
            pending: false,
            prompt_left: left,
            order,
        })
    }

    #[test]
    fn a_prompt_arriving_while_others_decode_joins_the_next_step() {
        // Seven sequences generate; one 60-token prompt was admitted into slot 3.
        let mut slots: Vec<_> = (0..8).map(generating).collect();
        slots[3] = prompt(9, 60);
        let p = plan(&slots, 512, 128);
        assert_eq!(p.decode, vec![0, 1, 2, 4, 5, 6, 7]);
        assert_eq!(p.prefill, vec![(3, 60)]);
        assert_eq!(p.tokens(), 67);
    }

    #[test]
    fn every_waiting_prompt_shares_the_next_step() {
        // Three arrivals during one step: all three prompts (180 tokens, more than one
        // chunk in total) go into the next decode beside the running sequences.
        let slots = vec![
            generating(0),
            prompt(5, 60),
            generating(1),
            prompt(3, 60),
            prompt(4, 60),
            None,
        ];
        let p = plan(&slots, 512, 128);
        assert_eq!(p.decode, vec![0, 2]);
        assert_eq!(p.prefill, vec![(3, 60), (4, 60), (1, 60)], "oldest first");
    }

    #[test]
    fn long_prompts_are_chunked_per_prompt_and_the_batch_bounds_the_step() {
        let slots = vec![
            generating(0),
            prompt(1, 1000),
            prompt(2, 300),
            prompt(3, 40),
        ];
        let p = plan(&slots, 512, 128);
        assert_eq!(p.prefill, vec![(1, 128), (2, 128), (3, 40)]);
        // A batch smaller than the chunks: the oldest prompt fills it, the rest wait.
        let p = plan(&slots, 100, 128);
        assert_eq!(p.decode, vec![0]);
        assert_eq!(p.prefill, vec![(1, 99)]);
        assert_eq!(p.tokens(), 100);
    }

    #[test]
    fn a_lone_prompt_gets_the_whole_batch() {
        let slots = vec![None, prompt(7, 1000), None];
        assert_eq!(plan(&slots, 512, 128).prefill, vec![(1, 512)]);
        // Not alone: another prompt waits, so both are capped at the chunk.
        let slots = vec![prompt(8, 50), prompt(7, 1000), None];
        assert_eq!(plan(&slots, 512, 128).prefill, vec![(1, 128), (0, 50)]);
    }

    #[test]
    fn generating_slots_always_get_their_token_and_finished_prompts_are_skipped() {
        let slots = vec![
            generating(4),
            // Prefilled but not yet sampled (its logits are being read): nothing to add.
            prompt(1, 0),
            generating(2),
        ];
        let p = plan(&slots, 2, 128);
        assert_eq!(p.decode, vec![0, 2]);
        assert!(p.prefill.is_empty());
        assert!(plan(&[None, None], 512, 128).decode.is_empty());
    }
}
