//! Blocked coupling: the coupling of several consecutive steps in one pass.
//!
//! For couplings whose `pre` does not involve the target's current value
//! (`Linear`, `Scaling`: `pre = x_j`), the coupling of step `t` reads only
//! `x_j(t − 1 − d_e)`. If every afferent edge of row `i` has `d_e ≥ B − 1`, the
//! couplings of row `i` for steps `t … t + B − 1` need states up to step `t − 1`
//! only, so they can all be computed once the state of `t − 1` is in the history.
//!
//! Each edge of such a row then reads `B · n_cvar` consecutive history values
//! (the history is time-contiguous per region, see [`crate::history`]) instead
//! of `n_cvar` scattered ones, and the row sum runs in eight `f32` lanes
//! (step-major, coupling variable minor), so the per-row and per-edge overheads
//! are paid once per `B` steps. Every lane performs exactly the operations of
//! the one-step path in the same order (`f32` product `w · x_j`, NumPy's
//! `reduceat` pairwise order, then `post` in `f64`), so the results are
//! bit-identical to it; [`super::tests`] checks that on random networks.
//!
//! Rows with one shorter delay (in the tvb-data connectomes: a zero-length
//! self-connection) are blocked along their addition path ([`super::chain`]);
//! rows with several are computed step by step by the one-step path.

use super::{chain::Chain, fetch_due, Coupling, CouplingEngine, FETCH_F32};
use crate::{
    history::{History, LANES},
    numpy_sum::{reduceat_with, Lanes},
    simd::prefetch,
};

/// Couplings computed ahead: steps `start … start + len − 1`.
#[derive(Debug, Clone, Default)]
pub(super) struct Block {
    /// Steps per block (`LANES / n_cvar`), 0 when blocking is not possible.
    steps: usize,
    /// Rows whose afferent delays are all ≥ `steps − 1`.
    clean: Vec<usize>,
    /// Rows with one short edge, blocked along its addition path.
    chains: Vec<Chain>,
    /// The other rows, computed one step at a time.
    dirty: Vec<usize>,
    /// First step of the block.
    start: u64,
    /// Steps held (0: nothing cached).
    len: usize,
    /// `len × terms × N`: the coupling of step `start + b` at `b · terms · N`
    /// (clean rows only).
    c: Vec<f64>,
    scratch: Vec<Lanes<LANES>>,
}

impl Block {
    /// Plans blocks for `n` rows (CSR `row_start`), `n_cvar` coupling variables
    /// and the edges' delays (CSR order).
    pub(super) fn new(n: usize, n_cvar: usize, row_start: &[usize], delays: &[usize]) -> Self {
        let steps = match n_cvar {
            0 => 0,
            nc if LANES.is_multiple_of(nc) => LANES / nc,
            _ => 0,
        };
        let steps = if steps >= 2 { steps } else { 0 };
        let (mut clean, mut chains, mut dirty) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..n {
            let ds = &delays[row_start[i]..row_start[i + 1]];
            let short: Vec<usize> = (0..ds.len()).filter(|&q| ds[q] + 1 < steps).collect();
            match short[..] {
                [] => clean.push(i),
                [q] => match Chain::new(i, ds.len(), q) {
                    Some(c) => chains.push(c),
                    None => dirty.push(i),
                },
                _ => dirty.push(i),
            }
        }
        Block {
            steps,
            clean,
            chains,
            dirty,
            ..Block::default()
        }
    }

    /// Whether the cached block holds the coupling of `step`.
    pub(super) fn holds(&self, step: u64) -> bool {
        self.len > 0 && step >= self.start && step < self.start + self.len as u64
    }
}

impl CouplingEngine {
    /// Steps per block for coupling `cpl`, or `None` when the one-step path must
    /// be used (`pre` involves `x_i`, no row can be blocked, or a number of
    /// coupling variables that does not divide the lanes).
    pub(super) fn block_len(&self, cpl: &Coupling) -> Option<usize> {
        let kind = matches!(cpl, Coupling::Linear { .. } | Coupling::Scaling { .. });
        let blk = &self.block;
        let some = !blk.clean.is_empty() || !blk.chains.is_empty();
        (kind && blk.steps >= 2 && some).then_some(blk.steps)
    }

    /// The coupling of step `step` into `out` (`terms × N`), equal to
    /// [`Self::compute`]: clean rows from the cached block (computing a new
    /// block starting at `step` when it does not hold `step`), the others now.
    /// Steps must be asked for in increasing order, each once the state of
    /// `step − 1` is in `hist`. Runs in the widest SIMD clone the CPU supports
    /// ([`crate::simd`]).
    pub(crate) fn compute_next(
        &mut self,
        cpl: &Coupling,
        hist: &History,
        step: u64,
        out: &mut [f64],
    ) {
        compute_next_dispatch(self, cpl, hist, step, out);
    }

    #[inline(always)]
    fn compute_next_inner(&mut self, cpl: &Coupling, hist: &History, step: u64, out: &mut [f64]) {
        let Some(b) = self.block_len(cpl) else {
            self.block.len = 0;
            if let (Coupling::Difference { a }, Some(st)) = (*cpl, self.staged.as_mut()) {
                let buf = &hist.data()[hist.read_base(step - 1)..];
                let cur = (2 * self.horizon, self.horizon);
                let (rs, rel, w) = (&self.row_start, &self.rel, &self.w32);
                return st.compute(step, rs, rel, w, buf, cur, a, out, &mut self.prod2);
            }
            return self.compute(cpl, hist, step, out);
        };
        if !self.block.holds(step) {
            match *cpl {
                Coupling::Linear { a, b: off } => {
                    self.block_rows(hist, step, b, |gx| a * gx as f64 + off)
                }
                Coupling::Scaling { a } => self.block_rows(hist, step, b, |gx| a * gx as f64),
                _ => unreachable!("block_len admits only Linear and Scaling"),
            }
        }
        let (n, m) = (self.n, out.len());
        let at = (step - self.block.start) as usize * m;
        let c = &self.block.c[at..at + m];
        for k in 0..m / n {
            for &i in &self.block.clean {
                out[k * n + i] = c[k * n + i];
            }
        }
        let buf = &hist.data()[hist.read_base(step - 1)..];
        if !self.block.chains.is_empty() {
            let lane = (step - self.block.start) as usize * self.n_cvar;
            let post = |gx: f32| match *cpl {
                Coupling::Linear { a, b } => a * gx as f64 + b,
                Coupling::Scaling { a } => a * gx as f64,
                _ => unreachable!("block_len admits only Linear and Scaling"),
            };
            let (nc, rel, w) = (self.n_cvar, &self.rel, &self.w32);
            for ch in &self.block.chains {
                let e = self.row_start[ch.row] + ch.short;
                let x = &buf[rel[e] as usize..rel[e] as usize + nc];
                for (k, &xk) in x.iter().enumerate() {
                    out[k * n + ch.row] = post(ch.replay(lane + k, w[e] * xk));
                }
            }
        }
        if self.block.dirty.is_empty() {
            return;
        }
        let dirty = std::mem::take(&mut self.block.dirty);
        match *cpl {
            Coupling::Linear { a, b } => self.rows32_of(
                step,
                dirty.iter().copied(),
                buf,
                out,
                |_, xj| xj,
                |gx| a * gx as f64 + b,
            ),
            Coupling::Scaling { a } => self.rows32_of(
                step,
                dirty.iter().copied(),
                buf,
                out,
                |_, xj| xj,
                |gx| a * gx as f64,
            ),
            _ => unreachable!("block_len admits only Linear and Scaling"),
        }
        self.block.dirty = dirty;
    }

    /// Fills the block with the couplings of the clean rows for steps
    /// `step … step + b − 1`.
    #[inline(always)]
    fn block_rows(&mut self, hist: &History, step: u64, b: usize, post: impl Fn(f32) -> f64) {
        let (n, nc) = (self.n, self.n_cvar);
        let buf = &hist.data()[hist.read_base(step - 1)..];
        // Blocks of `b` steps: row `i` asks for its lines in a share of them.
        let due = fetch_due(step / b as u64, nc * b);
        let blk = &mut self.block;
        blk.c.resize(b * nc * n, 0.0);
        for &i in &blk.clean {
            let (s, e) = (self.row_start[i], self.row_start[i + 1]);
            let (rel, w) = (&self.rel[s..e], &self.w32[s..e]);
            if due(i) {
                for &r in rel {
                    prefetch(buf, r as usize + FETCH_F32);
                }
            }
            let gx = reduceat_with(e - s, &mut blk.scratch, |q| {
                let r = rel[q] as usize;
                let x = &buf[r..r + LANES];
                let wq = w[q];
                let mut p = [0.0f32; LANES];
                for l in 0..LANES {
                    p[l] = wq * x[l];
                }
                Lanes(p)
            });
            // Lane `step_b · nc + k` is coupling variable k of step `step + step_b`.
            for (lane, &g) in gx.0[..b * nc].iter().enumerate() {
                blk.c[lane * n + i] = post(g);
            }
        }
        for ch in &mut blk.chains {
            let s = self.row_start[ch.row];
            let (rel, w) = (&self.rel[s..], &self.w32[s..]);
            if due(ch.row) {
                for &r in &rel[..self.row_start[ch.row + 1] - s] {
                    prefetch(buf, r as usize + FETCH_F32);
                }
            }
            ch.fill(|q| {
                let r = rel[q] as usize;
                let x = &buf[r..r + LANES];
                std::array::from_fn(|l| w[q] * x[l])
            });
        }
        blk.start = step;
        blk.len = b;
    }
}

crate::simd::kernel! {
    /// [`CouplingEngine::compute_next`], compiled per CPU feature set.
    fn compute_next_dispatch(
        e: &mut CouplingEngine,
        cpl: &Coupling,
        hist: &History,
        step: u64,
        out: &mut [f64],
    ) {
        e.compute_next_inner(cpl, hist, step, out)
    }
}
