//! Blocking rows that have one short delay, by their addition path.
//!
//! A row with an edge of delay `d < B − 1` (a zero-length self-connection)
//! cannot have its sum computed ahead: that edge's value `b` steps on is not
//! known yet when `b > d`. But NumPy's `reduceat` adds in a fixed binary tree,
//! and only the additions on the path from that edge to the root depend on it.
//! Their other operands ("siblings": partial sums and products of the other
//! edges) are computed ahead in lanes; each step then adds them, in path order,
//! to the short edge's product. IEEE addition is commutative, so each sum is
//! bit-identical to the full one-step sum. Rows with several short edges, or
//! more than 129 edges, stay on the one-step path.

use crate::history::LANES;

type L = [f32; LANES];

#[inline]
fn add(a: L, b: L) -> L {
    std::array::from_fn(|l| a[l] + b[l])
}

/// A row with one short edge: its index in the row and the siblings along
/// its path to the root (lanes of the current block).
#[derive(Debug, Clone)]
pub(super) struct Chain {
    /// The row (target region).
    pub(super) row: usize,
    /// The short edge (index within the row).
    pub(super) short: usize,
    /// Number of edges of the row.
    m: usize,
    sibs: Vec<L>,
}

impl Chain {
    /// A chain for row `row` of `m ≤ 129` edges with short edge `short`.
    pub(super) fn new(row: usize, m: usize, short: usize) -> Option<Self> {
        (m <= 129 && short < m).then(|| Chain {
            row,
            short,
            m,
            sibs: Vec::new(),
        })
    }

    /// Computes the siblings from the lanes `f(q)` of every edge `q ≠ short`
    /// (block time), following [`crate::numpy_sum::reduceat_with`]'s order.
    #[inline(always)]
    pub(super) fn fill(&mut self, f: impl Fn(usize) -> L) {
        let (m, q) = (self.m, self.short);
        let sibs = &mut self.sibs;
        sibs.clear();
        if m == 1 {
            return;
        }
        let rest = m - 1;
        // `reduceat` = f(0) + (pairwise sum of f(1..m)); rest index t is edge t + 1.
        if rest < 8 {
            // 0 + f(1) + f(2) + … in sequence.
            if q == 0 {
                let mut res = [0.0; LANES];
                for k in 1..m {
                    res = add(res, f(k));
                }
                sibs.push(res);
                return;
            }
            let mut prefix = [0.0; LANES];
            for k in 1..q {
                prefix = add(prefix, f(k));
            }
            sibs.push(prefix);
            for k in q + 1..m {
                sibs.push(f(k));
            }
            sibs.push(f(0));
            return;
        }
        let full = rest - rest % 8;
        let mut acc = [[0.0; LANES]; 8];
        for (j, a) in acc.iter_mut().enumerate() {
            *a = f(1 + j);
        }
        let mut i = 8;
        while i < full {
            for (j, a) in acc.iter_mut().enumerate() {
                *a = add(*a, f(1 + i + j));
            }
            i += 8;
        }
        let pair = |p: usize| add(acc[2 * p], acc[2 * p + 1]);
        let quad = |h: usize| add(pair(2 * h), pair(2 * h + 1));
        if q == 0 {
            let mut res = add(quad(0), quad(1));
            for k in full..rest {
                res = add(res, f(1 + k));
            }
            sibs.push(res);
            return;
        }
        let t = q - 1;
        if t < full {
            // Accumulator j, round r: its sum before round r, its later terms,
            // then the combination ((a0+a1)+(a2+a3))+((a4+a5)+(a6+a7)).
            let (j, r) = (t % 8, t / 8);
            if r > 0 {
                let mut before = f(1 + j);
                for rr in 1..r {
                    before = add(before, f(1 + rr * 8 + j));
                }
                sibs.push(before);
            }
            for rr in r + 1..full / 8 {
                sibs.push(f(1 + rr * 8 + j));
            }
            sibs.push(acc[j ^ 1]);
            sibs.push(pair((j / 2) ^ 1));
            sibs.push(quad(1 - j / 4));
            for k in full..rest {
                sibs.push(f(1 + k));
            }
        } else {
            // In the sequential remainder.
            let mut res = add(quad(0), quad(1));
            for k in full..t {
                res = add(res, f(1 + k));
            }
            sibs.push(res);
            for k in t + 1..rest {
                sibs.push(f(1 + k));
            }
        }
        sibs.push(f(0));
    }

    /// The row sum in lane `lane` given the short edge's product this step.
    #[inline(always)]
    pub(super) fn replay(&self, lane: usize, short_product: f32) -> f32 {
        let mut acc = short_product;
        for s in &self.sibs {
            acc += s[lane];
        }
        acc
    }
}
