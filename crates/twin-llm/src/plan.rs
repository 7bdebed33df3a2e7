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
//!
//! **Prefill priority** (`decode_with_prefill`, vLLM v0's rule when it is 0): a step that
//! carries prompt tokens carries at most that many generating sequences' tokens (the oldest
//! requests' first); the others wait one step. A prompt arriving while `D` sequences
//! generate then waits for the step in progress and one step of `t₀ + L·c` instead of
//! `t₀ + (L + D)·c`, and the step in progress is never a mixed one, so the time to first
//! token approaches that of a lone request; the price is a stall of one prefill step in
//! every running stream per arriving prompt (a longer inter-token gap, less batching).
//! `usize::MAX` keeps every generating sequence in every step.
//!
//! **Prompts per step** (`prompts_per_step`): at most that many waiting prompts get a chunk
//! of a step (oldest submission first); the others wait for the next step. When prompt
//! steps cost `t₀ + n·c` (no saving from batching prompts, as for llama.cpp's CPU kernels
//! without a repacked GEMM), two prompts that collide finish at `t₀ + 2L·c` together if
//! they share a step, but at `t₀ + L·c` and `2(t₀ + L·c)` one after the other: the older
//! one's first token comes a whole prompt step sooner and the younger one's `t₀` later.
//! First come, first served is the order that minimises the largest time to first token
//! on one server. The engine's default is 1; `usize::MAX` keeps every waiting prompt in
//! the next step.

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

/// The planning rule's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rule {
    /// Most tokens in one step.
    pub(crate) batch: usize,
    /// Most tokens of one prompt in a step that it shares.
    pub(crate) prefill_chunk: usize,
    /// Most generating sequences' tokens in a step that carries prompt tokens.
    pub(crate) decode_with_prefill: usize,
    /// Most prompts with tokens in one step (oldest first).
    pub(crate) prompts_per_step: usize,
}

/// Plans one step over `slots` (`None`: free slot).
pub(crate) fn plan(slots: &[Option<SlotView>], rule: Rule) -> Plan {
    let Rule {
        batch,
        prefill_chunk,
        decode_with_prefill,
        prompts_per_step,
    } = rule;
    let mut out = Plan::default();
    let mut generating: Vec<(u64, usize)> = slots
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.filter(|s| s.pending).map(|s| (s.order, i)))
        .collect();
    let mut waiting: Vec<(u64, usize, usize)> = slots
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            s.filter(|s| !s.pending && s.prompt_left > 0)
                .map(|s| (s.order, i, s.prompt_left))
        })
        .collect();
    waiting.sort_unstable();
    waiting.truncate(prompts_per_step.max(1));
    let alone = generating.is_empty() && waiting.len() == 1;
    if !waiting.is_empty() && generating.len() > decode_with_prefill {
        // Prefill priority: only the oldest requests keep their token in this step.
        generating.sort_unstable();
        generating.truncate(decode_with_prefill);
    }
    out.decode = generating.into_iter().map(|(_, i)| i).collect();
    out.decode.sort_unstable();
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

    /// Every generating sequence in every step (the mixed rule).
    fn rule(batch: usize, prefill_chunk: usize) -> Rule {
        Rule {
            batch,
            prefill_chunk,
            decode_with_prefill: usize::MAX,
            prompts_per_step: usize::MAX,
        }
    }

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
        let p = plan(&slots, rule(512, 128));
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
        let p = plan(&slots, rule(512, 128));
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
        let p = plan(&slots, rule(512, 128));
        assert_eq!(p.prefill, vec![(1, 128), (2, 128), (3, 40)]);
        // A batch smaller than the chunks: the oldest prompt fills it, the rest wait.
        let p = plan(&slots, rule(100, 128));
        assert_eq!(p.decode, vec![0]);
        assert_eq!(p.prefill, vec![(1, 99)]);
        assert_eq!(p.tokens(), 100);
    }

    #[test]
    fn a_lone_prompt_gets_the_whole_batch() {
        let slots = vec![None, prompt(7, 1000), None];
        assert_eq!(plan(&slots, rule(512, 128)).prefill, vec![(1, 512)]);
        // Not alone: another prompt waits, so both are capped at the chunk.
        let slots = vec![prompt(8, 50), prompt(7, 1000), None];
        assert_eq!(
            plan(&slots, rule(512, 128)).prefill,
            vec![(1, 128), (0, 50)]
        );
    }

    #[test]
    fn generating_slots_always_get_their_token_and_finished_prompts_are_skipped() {
        let slots = vec![
            generating(4),
            // Prefilled but not yet sampled (its logits are being read): nothing to add.
            prompt(1, 0),
            generating(2),
        ];
        let p = plan(&slots, rule(2, 128));
        assert_eq!(p.decode, vec![0, 2]);
        assert!(p.prefill.is_empty());
        assert!(plan(&[None, None], rule(512, 128)).decode.is_empty());
    }

    fn priority(batch: usize, prefill_chunk: usize, decode_with_prefill: usize) -> Rule {
        Rule {
            batch,
            prefill_chunk,
            decode_with_prefill,
            prompts_per_step: usize::MAX,
        }
    }

    #[test]
    fn prefill_priority_leaves_the_generating_tokens_out_while_a_prompt_waits() {
        let mut slots: Vec<_> = (0..8).map(generating).collect();
        slots[3] = prompt(9, 60);
        let p = plan(&slots, priority(512, 128, 0));
        assert!(p.decode.is_empty());
        assert_eq!(p.prefill, vec![(3, 60)]);
        // A cap of 2: the two oldest requests keep their token (orders 0 and 1).
        let p = plan(&slots, priority(512, 128, 2));
        assert_eq!(p.decode, vec![0, 1]);
        assert_eq!(p.prefill, vec![(3, 60)]);
        // No prompt waits: every generating sequence decodes.
        slots[3] = generating(9);
        assert_eq!(plan(&slots, priority(512, 128, 0)).decode.len(), 8);
        // A long prompt beside generating sequences is still chunked.
        slots[3] = prompt(9, 1000);
        assert_eq!(plan(&slots, priority(512, 128, 0)).prefill, vec![(3, 128)]);
    }

    #[test]
    fn one_prompt_per_step_serves_waiting_prompts_oldest_first() {
        let mut r = priority(512, 128, 0);
        r.prompts_per_step = 1;
        let slots = vec![generating(0), prompt(5, 60), prompt(3, 60), prompt(4, 60)];
        let p = plan(&slots, r);
        assert!(p.decode.is_empty());
        assert_eq!(p.prefill, vec![(2, 60)], "only the oldest prompt");
        // Nothing generates and one prompt is served: it is alone, so not chunked.
        let slots = vec![prompt(2, 1000), prompt(1, 1000), None];
        assert_eq!(plan(&slots, r).prefill, vec![(1, 512)]);
        // Two per step: the two oldest, chunked.
        r.prompts_per_step = 2;
        let slots = vec![prompt(3, 300), prompt(1, 1000), prompt(2, 40)];
        assert_eq!(plan(&slots, r).prefill, vec![(1, 128), (2, 40)]);
    }

    /// A mock engine for the planner: 8 closed-loop clients on 8 slots, each sending a
    /// 60-token prompt, generating 16–47 tokens, waiting a think time, and again; a step of
    /// `p` prompt and `d` generating tokens takes `T0 + p·CP + d·CD` µs (compute-bound CPU:
    /// a decode token costs more than a prompt token, which runs as a matrix product).
    /// Returns the times to first token (without each client's first request) and the gaps
    /// between a stream's tokens, in µs, and the aggregate generated tokens per second.
    fn simulate(rule: Rule) -> (Vec<u64>, Vec<u64>, f64) {
        simulate_n(rule, 6)
    }

    fn simulate_n(rule: Rule, per_client: usize) -> (Vec<u64>, Vec<u64>, f64) {
        const T0: u64 = 5_000;
        const CP: u64 = 3_500;
        const CD: u64 = 6_000;
        const PROMPT: usize = 60;
        const CLIENTS: usize = 8;
        struct Req {
            view: SlotView,
            client: usize,
            arrived: u64,
            target: u32,
            generated: u32,
            last: u64,
        }
        let mut seed: u64 = 12345;
        let mut rand = move |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let mut next_at: Vec<u64> = (0..CLIENTS).map(|_| rand(220_000)).collect();
        let mut sent = [0usize; CLIENTS];
        let mut slots: Vec<Option<Req>> = (0..CLIENTS).map(|_| None).collect();
        let (mut ttfts, mut gaps, mut tokens, mut now, mut order) = (vec![], vec![], 0u64, 0, 0);
        loop {
            for c in 0..CLIENTS {
                if sent[c] < per_client && next_at[c] <= now && slots[c].is_none() {
                    order += 1;
                    slots[c] = Some(Req {
                        view: SlotView {
                            pending: false,
                            prompt_left: PROMPT,
                            order,
                        },
                        client: c,
                        arrived: next_at[c],
                        target: 16 + rand(32) as u32,
                        generated: 0,
                        last: 0,
                    });
                    sent[c] += 1;
                }
            }
            let views: Vec<_> = slots.iter().map(|s| s.as_ref().map(|r| r.view)).collect();
            let step = plan(&views, rule);
            if step.tokens() == 0 {
                let waiting = (0..CLIENTS).filter(|&c| sent[c] < per_client);
                match waiting.map(|c| next_at[c]).min() {
                    Some(t) => now = now.max(t),
                    None => break,
                }
                continue;
            }
            let prompt_tokens: usize = step.prefill.iter().map(|&(_, n)| n).sum();
            now += T0 + prompt_tokens as u64 * CP + step.decode.len() as u64 * CD;
            for &(i, n) in &step.prefill {
                let r = slots[i].as_mut().expect("planned slot");
                r.view.prompt_left -= n;
                if r.view.prompt_left == 0 {
                    if sent[r.client] > 1 {
                        ttfts.push(now - r.arrived);
                    }
                    (r.view.pending, r.generated, r.last) = (true, 1, now);
                }
            }
            for &i in &step.decode {
                let r = slots[i].as_mut().expect("planned slot");
                gaps.push(now - r.last);
                (r.generated, r.last) = (r.generated + 1, now);
            }
            for s in &mut slots {
                if s.as_ref().is_some_and(|r| r.generated == r.target) {
                    let r = s.take().expect("finished");
                    tokens += u64::from(r.target);
                    next_at[r.client] = now + rand(60_000);
                }
            }
        }
        (ttfts, gaps, tokens as f64 * 1e6 / now as f64)
    }

    fn p99(mut xs: Vec<u64>) -> u64 {
        xs.sort_unstable();
        xs[(xs.len() - 1) * 99 / 100]
    }

    #[test]
    fn prefill_priority_cuts_the_tail_time_to_first_token_at_eight_streams() {
        let single = 5_000 + 60 * 3_500; // A lone 60-token prompt's step [µs].
        let (mixed, mixed_gaps, mixed_tps) = simulate(rule(512, 128));
        let (first, first_gaps, first_tps) = simulate(priority(512, 128, 0));
        assert_eq!(mixed.len(), 8 * 5);
        assert_eq!(first.len(), 8 * 5);
        let (m99, f99) = (p99(mixed), p99(first));
        eprintln!(
            "p99 TTFT mixed {:.2}x single, prefill first {:.2}x; p99 token gap {} / {} µs; \
             {mixed_tps:.0} / {first_tps:.0} tok/s",
            m99 as f64 / single as f64,
            f99 as f64 / single as f64,
            p99(mixed_gaps.clone()),
            p99(first_gaps.clone()),
        );
        assert!(
            f99 * 10 < m99 * 9,
            "prefill first {f99} µs vs mixed {m99} µs"
        );
        // The price: running streams stall for prompts' steps.
        assert!(p99(first_gaps) > p99(mixed_gaps));
    }

    /// The `q`-quantile of `xs` in units of `unit`.
    fn quantile(mut xs: Vec<u64>, q: f64, unit: u64) -> f64 {
        xs.sort_unstable();
        xs[((xs.len() - 1) as f64 * q).round() as usize] as f64 / unit as f64
    }

    #[test]
    fn one_prompt_per_step_cuts_the_collision_tail_under_prefill_priority() {
        // 8 clients × 100 requests each (792 steady ones): enough for a p99 that is not the
        // maximum. Every rule has the same work, hence the same throughput.
        let single = 5_000 + 60 * 3_500;
        let all = priority(512, 128, 0);
        let one = Rule {
            prompts_per_step: 1,
            ..all
        };
        let (shared, shared_gaps, shared_tps) = simulate_n(all, 100);
        let (fifo, fifo_gaps, fifo_tps) = simulate_n(one, 100);
        assert_eq!(fifo.len(), 8 * 99);
        let q = |xs: &Vec<u64>, p| quantile(xs.clone(), p, single);
        eprintln!(
            "prefill priority, TTFT / lone prompt step, every waiting prompt in one step vs one \
             prompt per step: p50 {:.2} / {:.2}, p95 {:.2} / {:.2}, p99 {:.2} / {:.2}, max \
             {:.2} / {:.2}; p99 token gap {} / {} µs; {shared_tps:.0} / {fifo_tps:.0} tok/s",
            q(&shared, 0.5),
            q(&fifo, 0.5),
            q(&shared, 0.95),
            q(&fifo, 0.95),
            q(&shared, 0.99),
            q(&fifo, 0.99),
            q(&shared, 1.0),
            q(&fifo, 1.0),
            p99(shared_gaps),
            p99(fifo_gaps),
        );
        assert!(q(&fifo, 0.95) < 0.9 * q(&shared, 0.95));
        assert!(q(&fifo, 0.99) <= q(&shared, 0.99));
        assert!(q(&fifo, 0.5) <= q(&shared, 0.5));
        assert!((fifo_tps - shared_tps).abs() < 0.02 * shared_tps);
    }
}
