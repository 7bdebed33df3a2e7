//! Long-range coupling: `c_i = post( Σ_j w_ij · pre(x_i, x_j(t − d_ij)) )`.
//!
//! The coupling is evaluated once per integration step, from the delay
//! [`History`], and reused by every stage of the integrator (TVB does the same:
//! the Heun corrector sees the coupling computed before the predictor).
//!
//! # Numerics (TVB parity)
//!
//! * Weights and history are `f32`. For `Linear`, `Scaling`, `Difference` and
//!   `Kuramoto`, `pre` and the products `w · pre` are `f32` and each row is
//!   summed like `np.add.reduceat` over the non-zero weights (row-major,
//!   columns ascending); `post` is then `f64`.
//! * `HyperbolicTangent` evaluates `pre` in `f64`, so products and sums are `f64`.
//! * `Sigmoidal` and `SigmoidalJansenRit` are TVB's *dense* couplings: each row
//!   is summed over all `N` columns (zeros included) like `np.sum`.
//!
//! See [`crate::numpy_sum`] for the summation order.

use serde::{Deserialize, Serialize};

use crate::{
    history::History,
    numpy_sum::{pairwise_sum, reduceat_segment, reduceat_with, Lanes},
    simd::prefetch,
};

/// A coupling function (TVB's `tvb.simulator.coupling`); parameters are scalars,
/// and those left out of a configuration take TVB's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum Coupling {
    /// `post = a·gx + b`, `pre = x_j`. TVB defaults: a = 2⁻⁸ = 0.00390625, b = 0.
    Linear {
        /// Scale.
        #[serde(default = "d_2m8")]
        a: f64,
        /// Offset.
        #[serde(default = "d0")]
        b: f64,
    },
    /// `post = a·gx`, `pre = x_j`. TVB default a = 2⁻⁸.
    Scaling {
        /// Scale.
        #[serde(default = "d_2m8")]
        a: f64,
    },
    /// Diffusive: `pre = x_j − x_i`, `post = a·gx`. TVB default a = 0.1.
    Difference {
        /// Scale.
        #[serde(default = "d01")]
        a: f64,
    },
    /// `pre = sin(x_j − x_i)`, `post = a / n_cvar · gx` (TVB divides by the
    /// number of coupling variables, not regions). TVB default a = 1.
    Kuramoto {
        /// Scale.
        #[serde(default = "d1")]
        a: f64,
    },
    /// `pre = a·(1 + tanh((b·x_j − midpoint)/σ))`, `post = gx`.
    /// TVB defaults: a = 1, b = 1, midpoint = 0, σ = 1.
    HyperbolicTangent {
        /// Amplitude.
        #[serde(default = "d1")]
        a: f64,
        /// Input scale.
        #[serde(default = "d1")]
        b: f64,
        /// Midpoint.
        #[serde(default = "d0")]
        midpoint: f64,
        /// Width σ.
        #[serde(default = "d1")]
        sigma: f64,
    },
    /// `post = cmin + (cmax − cmin) / (1 + exp(−a·((gx − midpoint)/σ)))`, `pre = x_j`.
    /// TVB defaults: cmin = −1, cmax = 1, midpoint = 0, a = 1, σ = 230.
    Sigmoidal {
        /// Minimum.
        #[serde(default = "dm1")]
        cmin: f64,
        /// Maximum.
        #[serde(default = "d1")]
        cmax: f64,
        /// Midpoint.
        #[serde(default = "d0")]
        midpoint: f64,
        /// Steepness.
        #[serde(default = "d1")]
        a: f64,
        /// Width σ.
        #[serde(default = "d230")]
        sigma: f64,
    },
    /// Jansen–Rit sigmoid of the delayed PSP difference `y1_j − y2_j`:
    /// `pre = cmin + (cmax − cmin)/(1 + exp(r·(midpoint − (y1_j − y2_j))))`,
    /// `post = a·gx`; one coupling term. TVB defaults: cmin = 0,
    /// cmax = 0.005, midpoint = 6, r = 0.56, a = 1.
    SigmoidalJansenRit {
        /// Minimum.
        #[serde(default = "d0")]
        cmin: f64,
        /// Maximum.
        #[serde(default = "d0005")]
        cmax: f64,
        /// Midpoint \[mV\].
        #[serde(default = "d6")]
        midpoint: f64,
        /// Steepness \[1/mV\].
        #[serde(default = "d056")]
        r: f64,
        /// Scale.
        #[serde(default = "d1")]
        a: f64,
    },
}

// TVB's defaults, for fields left out of a configuration.
fn d0() -> f64 {
    0.0
}
fn d1() -> f64 {
    1.0
}
fn dm1() -> f64 {
    -1.0
}
fn d01() -> f64 {
    0.1
}
fn d_2m8() -> f64 {
    0.00390625
}
fn d230() -> f64 {
    230.0
}
fn d0005() -> f64 {
    0.005
}
fn d6() -> f64 {
    6.0
}
fn d056() -> f64 {
    0.56
}

impl Coupling {
    /// Linear coupling with TVB's default offset `b = 0`.
    pub fn linear(a: f64) -> Self {
        Coupling::Linear { a, b: 0.0 }
    }

    /// Difference coupling.
    pub fn difference(a: f64) -> Self {
        Coupling::Difference { a }
    }

    /// Sigmoidal coupling with TVB defaults.
    pub fn sigmoidal_default() -> Self {
        Coupling::Sigmoidal {
            cmin: -1.0,
            cmax: 1.0,
            midpoint: 0.0,
            a: 1.0,
            sigma: 230.0,
        }
    }

    /// Hyperbolic-tangent coupling with TVB defaults.
    pub fn hyperbolic_tangent_default() -> Self {
        Coupling::HyperbolicTangent {
            a: 1.0,
            b: 1.0,
            midpoint: 0.0,
            sigma: 1.0,
        }
    }

    /// Jansen–Rit sigmoidal coupling with TVB defaults.
    pub fn sigmoidal_jansen_rit_default() -> Self {
        Coupling::SigmoidalJansenRit {
            cmin: 0.0,
            cmax: 2.0 * 0.0025,
            midpoint: 6.0,
            r: 0.56,
            a: 1.0,
        }
    }

    /// TVB's class name.
    pub fn name(&self) -> &'static str {
        match self {
            Coupling::Linear { .. } => "Linear",
            Coupling::Scaling { .. } => "Scaling",
            Coupling::Difference { .. } => "Difference",
            Coupling::Kuramoto { .. } => "Kuramoto",
            Coupling::HyperbolicTangent { .. } => "HyperbolicTangent",
            Coupling::Sigmoidal { .. } => "Sigmoidal",
            Coupling::SigmoidalJansenRit { .. } => "SigmoidalJansenRit",
        }
    }

    /// Number of coupling terms produced for a model with `n_cvar` coupling variables.
    pub fn n_terms(&self, n_cvar: usize) -> usize {
        match self {
            Coupling::SigmoidalJansenRit { .. } => 1,
            _ => n_cvar,
        }
    }
}

/// Sparse afferent table and scratch space; computes the coupling of one step.
#[derive(Debug, Clone)]
pub(crate) struct CouplingEngine {
    n: usize,
    horizon: usize,
    /// Target region of each non-zero weight (row-major order).
    rows: Vec<usize>,
    /// Source region of each non-zero weight.
    cols: Vec<usize>,
    /// `(j·2H + H − d)·n_cvar`: read offset of edge e relative to the read base.
    rel: Vec<u32>,
    n_cvar: usize,
    w32: Vec<f32>,
    /// CSR row starts (N + 1 entries).
    row_start: Vec<usize>,
    prod32: Vec<f32>,
    prod1: Vec<Lanes<1>>,
    prod2: Vec<Lanes<2>>,
    prod64: Vec<f64>,
    dense32: Vec<f32>,
    dense64: Vec<f64>,
    /// Couplings computed ahead by the blocked path.
    block: block::Block,
    /// Step planes for the two-variable `Difference` coupling (CPUs with AVX-512F).
    staged: Option<staged::Staged2>,
}

impl CouplingEngine {
    /// Builds the table from row-major weights and integer delays (`idelays[i*n+j] < horizon`).
    pub(crate) fn new(
        n: usize,
        n_cvar: usize,
        weights: &[f64],
        idelays: &[usize],
        horizon: usize,
    ) -> Self {
        let (mut rows, mut cols, mut rel, mut w32) = (vec![], vec![], vec![], vec![]);
        let mut delays = vec![];
        let mut row_start = Vec::with_capacity(n + 1);
        for i in 0..n {
            row_start.push(rows.len());
            for j in 0..n {
                let w = weights[i * n + j];
                if w != 0.0 {
                    let d = idelays[i * n + j];
                    debug_assert!(d < horizon);
                    delays.push(d);
                    rows.push(i);
                    cols.push(j);
                    let r = (j * 2 * horizon + horizon - d) * n_cvar;
                    rel.push(u32::try_from(r).expect("history larger than 2^32 entries"));
                    w32.push(w as f32);
                }
            }
        }
        row_start.push(rows.len());
        let nnz = rows.len();
        let block = block::Block::new(n, n_cvar, &row_start, &delays);
        let staged = if n_cvar == 2 && rows.len() >= STAGED_MIN_EDGES {
            staged::Staged2::new(&w32, &delays)
        } else {
            None
        };
        CouplingEngine {
            n,
            horizon,
            rows,
            cols,
            rel,
            n_cvar,
            w32,
            row_start,
            prod32: vec![0.0; nnz],
            prod1: Vec::new(),
            prod2: Vec::new(),
            prod64: vec![0.0; nnz],
            dense32: vec![0.0; n],
            dense64: vec![0.0; n],
            block,
            staged,
        }
    }

    /// Uses the staged path for two coupling variables whatever the
    /// number of edges (tests run it on small networks).
    #[cfg(test)]
    pub(crate) fn stage_always(&mut self) {
        if self.n_cvar == 2 && self.staged.is_none() {
            let mut delays = vec![0; self.rel.len()];
            for (e, d) in delays.iter_mut().enumerate() {
                let r = self.rel[e] as usize / self.n_cvar;
                *d = self.cols[e] * 2 * self.horizon + self.horizon - r;
            }
            self.staged = staged::Staged2::new(&self.w32, &delays);
        }
    }

    /// Number of non-zero weights.
    pub(crate) fn nnz(&self) -> usize {
        self.rows.len()
    }

    /// Computes the coupling for step `step` (reading `x(step − 1 − d)`) into
    /// `out[k * n + i]` for each coupling term `k`.
    #[inline(always)]
    pub(crate) fn compute(&mut self, cpl: &Coupling, hist: &History, step: u64, out: &mut [f64]) {
        debug_assert!(step >= 1);
        debug_assert_eq!(hist.horizon(), self.horizon);
        let n = self.n;
        let now = step - 1;
        let pos = hist.read_base(now);
        let n_cvar = hist.n_cvar();
        let buf = &hist.data()[pos..];
        let nc = self.n_cvar;
        debug_assert_eq!(nc, n_cvar);
        match *cpl {
            Coupling::Linear { a, b } => {
                self.rows32(step, buf, out, |_, xj| xj, |gx| a * gx as f64 + b)
            }
            Coupling::Scaling { a } => self.rows32(step, buf, out, |_, xj| xj, |gx| a * gx as f64),
            Coupling::Difference { a } => {
                self.rows32(step, buf, out, |xi, xj| xj - xi, |gx| a * gx as f64)
            }
            Coupling::Kuramoto { a } => {
                let scale = a / n_cvar as f64;
                let pre = |xi: f32, xj: f32| ((xj - xi) as f64).sin() as f32;
                self.rows32(step, buf, out, pre, |gx| scale * gx as f64);
            }
            Coupling::HyperbolicTangent {
                a,
                b,
                midpoint,
                sigma,
            } => {
                for k in 0..nc {
                    for e in 0..self.rel.len() {
                        let xj = buf[self.rel[e] as usize + k] as f64;
                        let pre = a * (1.0 + ((b * xj - midpoint) / sigma).tanh());
                        self.prod64[e] = self.w32[e] as f64 * pre;
                    }
                    for i in 0..n {
                        let seg = &self.prod64[self.row_start[i]..self.row_start[i + 1]];
                        out[k * n + i] = reduceat_segment(seg);
                    }
                }
            }
            Coupling::Sigmoidal {
                cmin,
                cmax,
                midpoint,
                a,
                sigma,
            } => {
                for k in 0..nc {
                    for (p, (&r, &w)) in self.prod32.iter_mut().zip(self.rel.iter().zip(&self.w32))
                    {
                        *p = w * buf[r as usize + k];
                    }
                    for i in 0..n {
                        let (s, e) = (self.row_start[i], self.row_start[i + 1]);
                        for q in s..e {
                            self.dense32[self.cols[q]] = self.prod32[q];
                        }
                        let gx = pairwise_sum(&self.dense32) as f64;
                        for q in s..e {
                            self.dense32[self.cols[q]] = 0.0;
                        }
                        out[k * n + i] =
                            cmin + ((cmax - cmin) / (1.0 + (-a * ((gx - midpoint) / sigma)).exp()));
                    }
                }
            }
            Coupling::SigmoidalJansenRit {
                cmin,
                cmax,
                midpoint,
                r,
                a,
            } => {
                let k2 = nc.min(2) - 1;
                // Zero-weight entries contribute w·pre = 0 but keep their place in the sum.
                for e in 0..self.rel.len() {
                    let q = self.rel[e] as usize;
                    let d = (buf[q] - buf[q + k2]) as f64;
                    let pre = cmin + (cmax - cmin) / (1.0 + (r * (midpoint - d)).exp());
                    self.prod64[e] = self.w32[e] as f64 * pre;
                }
                for i in 0..n {
                    let (s, e) = (self.row_start[i], self.row_start[i + 1]);
                    for q in s..e {
                        self.dense64[self.cols[q]] = self.prod64[q];
                    }
                    out[i] = a * pairwise_sum(&self.dense64);
                    for q in s..e {
                        self.dense64[self.cols[q]] = 0.0;
                    }
                }
            }
        }
    }

    /// For each row `i`: `prod32[e] = w_e · pre(x_i, x_j)` over its edges, summed
    /// like `np.add.reduceat`, then `out[i] = post(sum)`. `x_i` is the target's
    /// stored current value, `x_j` the delayed source value.
    #[inline(always)]
    fn rows32(
        &mut self,
        step: u64,
        buf: &[f32],
        out: &mut [f64],
        pre: impl Fn(f32, f32) -> f32,
        post: impl Fn(f32) -> f64,
    ) {
        self.rows32_of(step, 0..self.n, buf, out, pre, post);
    }

    /// [`rows32`](Self::rows32) for the rows `rows` only.
    #[inline(always)]
    fn rows32_of(
        &mut self,
        step: u64,
        rows: impl Iterator<Item = usize>,
        buf: &[f32],
        out: &mut [f64],
        pre: impl Fn(f32, f32) -> f32,
        post: impl Fn(f32) -> f64,
    ) {
        let (n, nc) = (self.n, self.n_cvar);
        let cur = (2 * self.horizon, self.horizon);
        let due = fetch_due(step, nc);
        let fetch_row = |i: usize, rel: &[u32]| {
            if due(i) {
                for &r in rel {
                    prefetch(buf, r as usize + FETCH_F32);
                }
            }
        };
        match nc {
            1 => {
                for i in rows {
                    let (s, e) = (self.row_start[i], self.row_start[i + 1]);
                    let (rel, w) = (&self.rel[s..e], &self.w32[s..e]);
                    let xi = [buf[i * cur.0 + cur.1]];
                    fetch_row(i, rel);
                    let gx = row_sum(w, rel, buf, xi, &pre, &mut self.prod1);
                    out[i] = post(gx[0]);
                }
            }
            2 => {
                // Both coupling variables of an edge in one pass (they share a cache line).
                for i in rows {
                    let (s, e) = (self.row_start[i], self.row_start[i + 1]);
                    let (rel, w) = (&self.rel[s..e], &self.w32[s..e]);
                    let xi_at = (i * cur.0 + cur.1) * 2;
                    let xi = [buf[xi_at], buf[xi_at + 1]];
                    fetch_row(i, rel);
                    let gx = row_sum2(w, rel, buf, xi, &pre, &mut self.prod2);
                    out[i] = post(gx[0]);
                    out[n + i] = post(gx[1]);
                }
            }
            _ => {
                for i in rows {
                    let (s, e) = (self.row_start[i], self.row_start[i + 1]);
                    let (rel, w) = (&self.rel[s..e], &self.w32[s..e]);
                    let xi_at = (i * cur.0 + cur.1) * nc;
                    for k in 0..nc {
                        let xi = buf[xi_at + k];
                        let gx = reduceat_with(e - s, &mut self.prod32, |q| {
                            w[q] * pre(xi, buf[rel[q] as usize + k])
                        });
                        out[k * n + i] = post(gx);
                    }
                }
            }
        }
    }
}

/// Edges from which the two-variable `Difference` coupling is staged
/// ([`staged`]). Measured on the tvb-data connectomes (Epileptor, AVX-512):
/// 3,532 edges (192 regions) −14 % CPU time per step, 1,560 edges (76
/// regions) +20 %: the per-step fixed costs of staging outweigh the cheaper
/// row sums while the history's working set still fits the caches. The
/// crossover between the two was not measured.
const STAGED_MIN_EDGES: usize = 2_500;

/// `f32` values in a 64-byte cache line.
const LINE_F32: usize = 16;

/// How far past its current read an edge asks for the history
/// ([`prefetch`]): two cache lines, i.e. `32 / n_cvar` steps. A step takes
/// microseconds, so a line coming from the L3 cache or from memory arrives
/// in time, and it is still in L1/L2 when used.
pub(crate) const FETCH_F32: usize = 2 * LINE_F32;

/// `due(i)`: whether row `i` asks for its lines at step `step` (or at the
/// block starting there). An edge's reads advance `n_cvar` values per step,
/// so one request per line's worth of steps (rounded down to a power of two)
/// covers every line; rows take turns so that each step issues a share.
#[inline(always)]
pub(crate) fn fetch_due(step: u64, n_cvar: usize) -> impl Fn(usize) -> bool {
    let per_line = (LINE_F32 / n_cvar.max(1)).max(1);
    let mask = (1usize << (usize::BITS - 1 - per_line.leading_zeros())) - 1;
    move |i| (step as usize).wrapping_add(i) & mask == 0
}

/// One row of the one-step coupling with `K` coupling variables: the
/// `reduceat` sum (NumPy's order, exactly as [`reduceat_with`]) of
/// `w[q] · pre(x_i[k], x_j[k])` over the row's edges `q`, `x_j` read at
/// `buf[rel[q] + k]`. In the eight-accumulator part each group of eight edges
/// is first gathered, then multiplied and added on fixed-size arrays that the
/// compiler keeps in SIMD registers (the same operations, lane by lane).
#[inline(always)]
fn row_sum<const K: usize>(
    w: &[f32],
    rel: &[u32],
    buf: &[f32],
    xi: [f32; K],
    pre: &impl Fn(f32, f32) -> f32,
    scratch: &mut Vec<Lanes<K>>,
) -> [f32; K] {
    let m = w.len().min(rel.len());
    let x_at = |q: usize| -> [f32; K] {
        let r = rel[q] as usize;
        let mut x = [0.0f32; K];
        x.copy_from_slice(&buf[r..r + K]);
        x
    };
    let f = |q: usize| -> [f32; K] {
        let x = x_at(q);
        let mut p = [0.0f32; K];
        for k in 0..K {
            p[k] = w[q] * pre(xi[k], x[k]);
        }
        p
    };
    let add = |a: [f32; K], b: [f32; K]| -> [f32; K] {
        let mut r = a;
        for k in 0..K {
            r[k] += b[k];
        }
        r
    };
    match m {
        0 => [0.0; K],
        1 => f(0),
        2..=8 => {
            let mut res = [0.0f32; K];
            for q in 1..m {
                res = add(res, f(q));
            }
            add(f(0), res)
        }
        9..=129 => {
            let rest = m - 1;
            let full = rest - rest % 8;
            let mut acc = [[0.0f32; K]; 8];
            for (j, a) in acc.iter_mut().enumerate() {
                *a = f(1 + j);
            }
            let mut i = 8;
            while i < full {
                let mut x = [[0.0f32; K]; 8];
                for (j, xj) in x.iter_mut().enumerate() {
                    *xj = x_at(1 + i + j);
                }
                let wv = &w[1 + i..1 + i + 8];
                for j in 0..8 {
                    for k in 0..K {
                        acc[j][k] += wv[j] * pre(xi[k], x[j][k]);
                    }
                }
                i += 8;
            }
            let mut res = add(
                add(add(acc[0], acc[1]), add(acc[2], acc[3])),
                add(add(acc[4], acc[5]), add(acc[6], acc[7])),
            );
            for k in full..rest {
                res = add(res, f(1 + k));
            }
            add(f(0), res)
        }
        _ => reduceat_with(m, scratch, |q| Lanes(f(q))).0,
    }
}

/// [`row_sum`] for two coupling variables, for rows of up to 129 edges
/// (longer ones go to [`row_sum`]), with every helper a nested function
/// (closures called from several places are not always inlined, and then
/// run without the SIMD clone's features: half the rows of the 192-region
/// connectome have at most eight edges). Each group of eight edges is gathered as two
/// eight-lane arrays (`x_0` and `x_1` of the eight sources, one accumulator
/// per lane), and the read offsets are clamped to the buffer instead of
/// bounds-checked one by one (the clamp is never active: the offsets are in
/// range by construction), which leaves the compiler a branch-free loop.
/// Every lane performs the operations of [`row_sum`] in the same order, so
/// the sums are bit-identical (tested against it on random networks).
#[inline(always)]
fn row_sum2<P: Fn(f32, f32) -> f32>(
    w: &[f32],
    rel: &[u32],
    buf: &[f32],
    xi: [f32; 2],
    pre: &P,
    scratch: &mut Vec<Lanes<2>>,
) -> [f32; 2] {
    /// `w[q] · pre(x_i, x_j)` of edge `q`, both coupling variables.
    #[inline(always)]
    fn one<P: Fn(f32, f32) -> f32>(
        w: &[f32],
        rel: &[u32],
        buf: &[f32],
        xi: [f32; 2],
        pre: &P,
        q: usize,
    ) -> [f32; 2] {
        let r = rel[q] as usize;
        let x = &buf[r..r + 2];
        [w[q] * pre(xi[0], x[0]), w[q] * pre(xi[1], x[1])]
    }
    /// The products of edges `b .. b + 8`: lane `j` of `[k]` is edge `b + j`,
    /// coupling variable `k`.
    #[inline(always)]
    fn group<P: Fn(f32, f32) -> f32>(
        w: &[f32],
        rel: &[u32],
        buf: &[f32],
        xi: [f32; 2],
        pre: &P,
        b: usize,
    ) -> [[f32; 8]; 2] {
        let rel: &[u32; 8] = rel[b..b + 8].try_into().expect("eight edges");
        let w: &[f32; 8] = w[b..b + 8].try_into().expect("eight edges");
        // Offsets are in range by construction; the clamp (never active)
        // replaces eight bounds checks by eight `min`s.
        let last = buf.len().saturating_sub(2);
        let q: [usize; 8] = std::array::from_fn(|j| (rel[j] as usize).min(last));
        let x0: [f32; 8] = std::array::from_fn(|j| buf[q[j]]);
        let x1: [f32; 8] = std::array::from_fn(|j| buf[q[j] + 1]);
        let mut p = [[0.0f32; 8]; 2];
        for j in 0..8 {
            p[0][j] = w[j] * pre(xi[0], x0[j]);
        }
        for j in 0..8 {
            p[1][j] = w[j] * pre(xi[1], x1[j]);
        }
        p
    }
    #[inline(always)]
    fn add(x: [f32; 2], y: [f32; 2]) -> [f32; 2] {
        [x[0] + y[0], x[1] + y[1]]
    }
    let m = w.len().min(rel.len());
    match m {
        0 => return [0.0; 2],
        1 => return one(w, rel, buf, xi, pre, 0),
        2..=8 => {
            // NumPy: the first element, plus the rest added in order from zero.
            let mut res = [0.0f32; 2];
            for q in 1..m {
                res = add(res, one(w, rel, buf, xi, pre, q));
            }
            return add(one(w, rel, buf, xi, pre, 0), res);
        }
        9..=129 => {}
        _ => return row_sum(w, rel, buf, xi, pre, scratch),
    }
    let rest = m - 1;
    let full = rest - rest % 8;
    let mut acc = group(w, rel, buf, xi, pre, 1);
    let mut i = 8;
    while i < full {
        let p = group(w, rel, buf, xi, pre, 1 + i);
        for k in 0..2 {
            for j in 0..8 {
                acc[k][j] += p[k][j];
            }
        }
        i += 8;
    }
    let a: [[f32; 2]; 8] = std::array::from_fn(|j| [acc[0][j], acc[1][j]]);
    let mut res = add(
        add(add(a[0], a[1]), add(a[2], a[3])),
        add(add(a[4], a[5]), add(a[6], a[7])),
    );
    for k in full..rest {
        res = add(res, one(w, rel, buf, xi, pre, 1 + k));
    }
    add(one(w, rel, buf, xi, pre, 0), res)
}

mod block;
mod chain;
mod staged;
#[cfg(test)]
mod tests;
