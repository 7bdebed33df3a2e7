//! Delay history: a ring buffer of the coupling variables, in `f32` like TVB.
//!
//! TVB keeps `buffer[H, n_cvar, N]` in single precision and stores step `s` in
//! slot `s % H`, where the horizon `H = max(idelays) + 1`. The values are the
//! same here, laid out differently for speed:
//!
//! * **region-major, cvars interleaved** (`[region][2H][cvar]`): the history of
//!   one region is contiguous in time, so an edge that reads `x_j(s − 1 − d)` at
//!   step `s` reads the neighbouring values at step `s + 1` (one cache line
//!   serves several steps), and all coupling variables of one edge share a line;
//! * **doubled**: step `s` is written at slot `s % H + H` (the upper half),
//!   and after each step with `s % H = H − 1` the upper half of every region is
//!   copied onto its lower half. A delayed read for any `d < H` is then one add
//!   and one load with no wrap-around, slot `(s − 1) % H + H − d`: it falls in
//!   the lower half only when `d > (s − 1) % H`, i.e. for a step of the
//!   previous cycle, which the copy put there. (Writing both halves every step
//!   gives the same reads but touches two cache lines per region and step;
//!   the copy costs one contiguous `H`-slot move per region every `H` steps.)
//! * **time-contiguous in blocks**: reading at that slot `b` further on gives
//!   the value of `b` steps later (for `b ≤ d`), so a run of consecutive steps of
//!   one delayed source is one contiguous read (the blocked coupling uses this).

/// Values read at once by the blocked coupling ([`crate::coupling`]): the
/// buffer carries this many extra entries at its end.
pub(crate) const LANES: usize = 8;

/// Ring buffer of coupling variables, `f32`, layout `[region][2H][cvar]`.
#[derive(Debug, Clone)]
pub struct History {
    horizon: usize,
    n: usize,
    n_cvar: usize,
    data: Vec<f32>,
}

impl History {
    /// A zero-filled history of `horizon` slots for `n_cvar` variables of `n` regions.
    pub fn new(horizon: usize, n_cvar: usize, n: usize) -> Self {
        let horizon = horizon.max(1);
        History {
            horizon,
            n,
            n_cvar,
            // Padded so that a block read of `LANES` values at any read offset stays in bounds.
            data: vec![0.0; n_cvar * 2 * horizon * n + LANES],
        }
    }

    /// The horizon `H` (number of distinct slots).
    pub fn horizon(&self) -> usize {
        self.horizon
    }

    /// Number of regions.
    pub fn n_nodes(&self) -> usize {
        self.n
    }

    /// Number of coupling variables.
    pub fn n_cvar(&self) -> usize {
        self.n_cvar
    }

    /// Stores the coupling variables of step `step` (`values[k * n + i]` for cvar `k`),
    /// rounding to `f32`.
    pub fn update(&mut self, step: u64, values: &[f64]) {
        update_dispatch(self, step, values);
    }

    #[inline(always)]
    fn update_inner(&mut self, step: u64, values: &[f64]) {
        let slot = (step % self.horizon as u64) as usize;
        let (n, nc, h, h2) = (self.n, self.n_cvar, self.horizon, 2 * self.horizon);
        for i in 0..n {
            let base = (i * h2 + h + slot) * nc;
            for k in 0..nc {
                self.data[base + k] = values[k * n + i] as f32;
            }
        }
        if slot == h - 1 {
            // A cycle is complete: its steps become the lower half's.
            for i in 0..n {
                let lower = i * h2 * nc;
                self.data
                    .copy_within(lower + h * nc..lower + h2 * nc, lower);
            }
        }
    }

    /// The stored value of cvar `k`, region `i`, at step `step` (must be within the horizon).
    pub fn get(&self, step: u64, k: usize, i: usize) -> f32 {
        let slot = (step % self.horizon as u64) as usize;
        self.data[(i * 2 * self.horizon + self.horizon + slot) * self.n_cvar + k]
    }

    /// The whole doubled buffer, `N × 2H × n_cvar`, then [`LANES`] padding entries.
    #[inline]
    pub(crate) fn data(&self) -> &[f32] {
        &self.data
    }

    /// `(step % H) · n_cvar`: cvar `k` of region `j` delayed by `d` is then at
    /// `read_base + (j·2H + H − d)·n_cvar + k` in [`data`](Self::data).
    #[inline]
    pub(crate) fn read_base(&self, step: u64) -> usize {
        (step % self.horizon as u64) as usize * self.n_cvar
    }
}

crate::simd::kernel! {
    /// [`History::update`], compiled per CPU feature set ([`crate::simd`]).
    fn update_dispatch(h: &mut History, step: u64, values: &[f64]) {
        h.update_inner(step, values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubled_slots_give_delayed_values_without_wrap() {
        let mut h = History::new(3, 1, 2);
        for s in 0..7u64 {
            h.update(s, &[s as f64, 10.0 + s as f64]);
        }
        // At "now" = step 6, delay 2 reads step 4.
        let buf = h.data();
        let base = h.read_base(6);
        assert_eq!(buf[base + 6 + 3 - 2], 14.0);
        assert_eq!(buf[base + 3], 6.0);
        assert_eq!(h.get(5, 0, 0), 5.0);
    }

    #[test]
    fn every_delay_reads_its_step_across_cycles() {
        // Horizon 5, two regions, two cvars: at each step every delay 0..5 of
        // every region must read the value written d steps before (steps
        // before 0 hold the initial fill, −1 − t for slot t).
        let (hz, n) = (5usize, 2usize);
        let mut h = History::new(hz, 2, n);
        let val = |s: i64, k: usize, i: usize| (s * 10 + (k * n + i) as i64) as f64;
        for t in 0..hz as u64 {
            let s = t as i64 - hz as i64;
            h.update(t, &[val(s, 0, 0), val(s, 0, 1), val(s, 1, 0), val(s, 1, 1)]);
        }
        for now in hz as u64..hz as u64 + 23 {
            let s = now as i64 - hz as i64;
            h.update(
                now,
                &[val(s, 0, 0), val(s, 0, 1), val(s, 1, 0), val(s, 1, 1)],
            );
            let base = h.read_base(now);
            for d in 0..hz {
                for (i, k) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let at = base + (i * 2 * hz + hz - d) * 2 + k;
                    assert_eq!(
                        h.data()[at] as f64,
                        val(s - d as i64, k, i),
                        "now {now} d {d}"
                    );
                }
                assert_eq!(h.get(now - d as u64, 1, 1) as f64, val(s - d as i64, 1, 1));
            }
        }
    }

    #[test]
    fn values_are_rounded_to_f32() {
        let mut h = History::new(1, 1, 1);
        h.update(0, &[0.1]);
        assert_eq!(h.get(0, 0, 0), 0.1f32);
    }
}
