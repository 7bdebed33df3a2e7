//! Staged one-step `Difference` coupling with two coupling variables (the
//! Epileptor's `x1`, `x2`), on CPUs with AVX-512F.
//!
//! `Difference` cannot be blocked over steps (`pre = x_j(t − d) − x_i(t)`
//! needs the target's current state), but its *delayed* operands can: an edge
//! with delay `d ≥ S − 1` reads, at steps `t … t + S − 1`, the history values
//! `x_j(t − 1 − d … t + S − 2 − d)`, all stored by step `t − 1` and
//! time-contiguous in the history ([`crate::history`]). So every `S = 8`
//! steps each edge's sixteen values (eight steps × two variables, one 64-byte
//! load) are loaded, eight edges at a time, transposed in registers
//! (8 × 8 pairs) and stored as eight *step planes*: plane `k` holds the
//! `(x_0, x_1)` pair of every edge (CSR order) for step `t + k`. Edges with a
//! shorter delay (the zero-length self-connections) get their pair copied
//! from the history at each step instead. The row sums of a step then read
//! their plane contiguously: eight edges are one 16-lane load, and one
//! subtraction, one multiplication by the duplicated weights and one addition
//! serve all sixteen lanes. Lane `2j + k` of the accumulator is NumPy's
//! partial sum `j` of coupling variable `k`, so the eight interleaved partial
//! sums of `reduceat` ([`crate::numpy_sum`]) are the register's eight pairs;
//! they are combined as `((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))`
//! in registers, and the remainder edges are added one after another (always
//! seven additions, the pairs past the row's end set to −0, which leaves any
//! sum unchanged: no data-dependent branch per row). Each fill also asks for
//! the line every edge will read at the next fill (`prefetcht0`). Every
//! lane performs the scalar path's operations (`w · (x_j − x_i)` in `f32`,
//! the same additions in the same order), so the sums are bit-identical to
//! it (tested on random networks against the one-step path).
//!
//! This is the crate's only `unsafe` code: whole-register loads and stores
//! from and to slices whose length is checked just before (the slicing
//! panics otherwise, it never reads out of bounds), and the call of the
//! AVX-512 function, made only when the CPU reports AVX-512F
//! ([`Staged2::new`] returns `None` otherwise).
//!
//! (AVX-512 *gathers* of the eight pairs straight from the history were
//! tried first: bit-identical, but 30 % slower than the scalar loads on this
//! AMD EPYC; see `BENCHMARKS.md`.)

#![allow(unsafe_code)]

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m128, __m512, __m512d, _mm512_add_ps, _mm512_castpd_ps, _mm512_castps512_ps128,
    _mm512_castps_pd, _mm512_loadu_pd, _mm512_loadu_ps, _mm512_mask_mov_ps, _mm512_mul_ps,
    _mm512_permute_pd, _mm512_permutexvar_pd, _mm512_set1_epi64, _mm512_set1_pd, _mm512_set1_ps,
    _mm512_setzero_pd, _mm512_shuffle_f64x2, _mm512_storeu_pd, _mm512_sub_ps, _mm512_unpackhi_pd,
    _mm512_unpacklo_pd, _mm_add_ps, _mm_cvtps_pd, _mm_cvtsd_f64, _mm_mul_pd, _mm_set1_pd,
    _mm_setr_ps, _mm_setzero_ps, _mm_unpackhi_pd,
};

use super::row_sum2;
use crate::{numpy_sum::Lanes, simd::prefetch};

/// Edges per register, and steps per block.
const G: usize = 8;

/// Delays below this are "short": their pairs are copied from the history
/// step by step (a block's values are read up to `G − 1` steps ahead).
const LONG: usize = G - 1;

/// Step planes of the delayed `(x_0, x_1)` pairs for a block of [`G`] steps.
#[derive(Debug, Clone)]
pub(super) struct Staged2 {
    /// Each weight twice (one per coupling variable), then `2G` zeros.
    w2: Vec<f32>,
    /// `G` planes of `stride` values: step `k`, edge `e` at `k·stride + 2e`.
    planes: Vec<f32>,
    /// `2 · (edges rounded up to G + G)`.
    stride: usize,
    /// Edges whose delay is below [`LONG`].
    short: Vec<usize>,
    /// First step of the current block.
    start: u64,
    /// The last step computed.
    last: u64,
    /// Whether a block is staged.
    held: bool,
    /// Scratch: the targets' current `(x_0, x_1)` bits.
    xi: Vec<u64>,
}

impl Staged2 {
    /// The tables for edges with weights `w` and delays `delays` (in steps),
    /// or `None` when the CPU has no AVX-512F.
    pub(super) fn new(w: &[f32], delays: &[usize]) -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        {
            if !std::arch::is_x86_feature_detected!("avx512f") {
                return None;
            }
            let padded = w.len().div_ceil(G) * G + G;
            let mut w2: Vec<f32> = w.iter().flat_map(|&x| [x, x]).collect();
            w2.resize(2 * padded, 0.0);
            Some(Staged2 {
                w2,
                planes: vec![0.0; G * 2 * padded],
                stride: 2 * padded,
                short: (0..delays.len()).filter(|&e| delays[e] < LONG).collect(),
                start: 0,
                last: 0,
                held: false,
                xi: Vec::new(),
            })
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (w, delays);
            None
        }
    }

    /// `Difference` coupling of step `step` for every row: `out[i]`,
    /// `out[n + i]` = `a · Σ_q w_q · (x_j − x_i)` for both coupling
    /// variables, in NumPy's order. `buf` is the history from the read base of
    /// step `step − 1`, `cur = (2H, H)`, `row_start`, `rel`, `w` the engine's
    /// CSR tables. Steps must come one after another, each once the state of
    /// `step − 1` is in the history (any other step stages afresh).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn compute(
        &mut self,
        step: u64,
        row_start: &[usize],
        rel: &[u32],
        w: &[f32],
        buf: &[f32],
        cur: (usize, usize),
        a: f64,
        out: &mut [f64],
        scratch: &mut Vec<Lanes<2>>,
    ) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `new` returned `Some`, so the CPU supports AVX-512F.
        unsafe {
            self.compute_avx512(step, row_start, rel, w, buf, cur, a, out, scratch)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (step, row_start, rel, w, buf, cur, a, out, scratch);
    }

    /// Stages every edge: plane `k`, edge `e` gets `buf[rel_e + 2k ..][..2]`,
    /// and asks for the line the next block will read last.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn fill(&mut self, rel: &[u32], buf: &[f32]) {
        let load = |e: usize| -> __m512d {
            let r = match rel.get(e) {
                Some(&r) => r as usize,
                None => return _mm512_setzero_pd(),
            };
            // The line this edge's next fill reads last (its first is this one's last).
            prefetch(buf, r + 4 * G - 1);
            match buf.get(r..r + 2 * G) {
                // SAFETY: `x` is sixteen readable f32 (64 bytes).
                Some(x) => unsafe { _mm512_loadu_pd(x.as_ptr().cast()) },
                None => _mm512_setzero_pd(),
            }
        };
        const LO: i32 = 0b10_00_10_00;
        const HI: i32 = 0b11_01_11_01;
        for g in 0..rel.len().div_ceil(G) {
            let b = g * G;
            let (r0, r1, r2, r3) = (load(b), load(b + 1), load(b + 2), load(b + 3));
            let (r4, r5, r6, r7) = (load(b + 4), load(b + 5), load(b + 6), load(b + 7));
            // 8 × 8 transpose of 64-bit pairs: row j = edge b + j, column k = step k.
            // t0 = (0,0)(1,0) | (0,2)(1,2) | (0,4)(1,4) | (0,6)(1,6), t1 the odd columns …
            let (t0, t1) = (_mm512_unpacklo_pd(r0, r1), _mm512_unpackhi_pd(r0, r1));
            let (t2, t3) = (_mm512_unpacklo_pd(r2, r3), _mm512_unpackhi_pd(r2, r3));
            let (t4, t5) = (_mm512_unpacklo_pd(r4, r5), _mm512_unpackhi_pd(r4, r5));
            let (t6, t7) = (_mm512_unpacklo_pd(r6, r7), _mm512_unpackhi_pd(r6, r7));
            // Rows 0–3 of columns (0, 4), (2, 6), (1, 5), (3, 7); then rows 4–7.
            let u0 = _mm512_shuffle_f64x2::<LO>(t0, t2);
            let u1 = _mm512_shuffle_f64x2::<HI>(t0, t2);
            let u2 = _mm512_shuffle_f64x2::<LO>(t1, t3);
            let u3 = _mm512_shuffle_f64x2::<HI>(t1, t3);
            let u4 = _mm512_shuffle_f64x2::<LO>(t4, t6);
            let u5 = _mm512_shuffle_f64x2::<HI>(t4, t6);
            let u6 = _mm512_shuffle_f64x2::<LO>(t5, t7);
            let u7 = _mm512_shuffle_f64x2::<HI>(t5, t7);
            let cols = [
                _mm512_shuffle_f64x2::<LO>(u0, u4),
                _mm512_shuffle_f64x2::<LO>(u2, u6),
                _mm512_shuffle_f64x2::<LO>(u1, u5),
                _mm512_shuffle_f64x2::<LO>(u3, u7),
                _mm512_shuffle_f64x2::<HI>(u0, u4),
                _mm512_shuffle_f64x2::<HI>(u2, u6),
                _mm512_shuffle_f64x2::<HI>(u1, u5),
                _mm512_shuffle_f64x2::<HI>(u3, u7),
            ];
            for (k, v) in cols.into_iter().enumerate() {
                let at = k * self.stride + 2 * b;
                let dst = &mut self.planes[at..at + 2 * G];
                // SAFETY: `dst` is sixteen writable f32 (64 bytes).
                unsafe { _mm512_storeu_pd(dst.as_mut_ptr().cast(), v) };
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    fn compute_avx512(
        &mut self,
        step: u64,
        row_start: &[usize],
        rel: &[u32],
        w: &[f32],
        buf: &[f32],
        cur: (usize, usize),
        a: f64,
        out: &mut [f64],
        scratch: &mut Vec<Lanes<2>>,
    ) {
        if !self.held || step != self.last + 1 || step == self.start + G as u64 {
            self.fill(rel, buf);
            self.start = step;
            self.held = true;
        }
        self.last = step;
        let k = (step - self.start) as usize;
        let at = k * self.stride;
        let plane = &mut self.planes[at..at + self.stride];
        for &e in &self.short {
            let r = rel[e] as usize;
            plane[2 * e..2 * e + 2].copy_from_slice(&buf[r..r + 2]);
        }
        let plane = &self.planes[at..at + self.stride];
        let w2 = &self.w2;
        // The products `w · (x_j − x_i)` of edges `b … b + 7`, lane `2j + k`
        // for edge `b + j`, coupling variable `k`.
        let prod8 = |b: usize, xi: __m512| -> __m512 {
            let x = &plane[2 * b..2 * b + 2 * G];
            let wv = &w2[2 * b..2 * b + 2 * G];
            // SAFETY: `x` and `wv` are sixteen readable f32 each.
            let (x, wv) = unsafe { (_mm512_loadu_ps(x.as_ptr()), _mm512_loadu_ps(wv.as_ptr())) };
            _mm512_mul_ps(wv, _mm512_sub_ps(x, xi))
        };
        // Pair q of `v` in the low two lanes.
        let pair = |v: __m512, q: usize| -> __m128 {
            let idx = _mm512_set1_epi64(q as i64);
            _mm512_castps512_ps128(_mm512_castpd_ps(_mm512_permutexvar_pd(
                idx,
                _mm512_castps_pd(v),
            )))
        };
        let n = row_start.len() - 1;
        let av = _mm_set1_pd(a);
        // `v` with the pairs from `count` on set to −0 (x + (−0) = x for every x,
        // so trailing additions of such pairs change no bit).
        let negz = _mm512_set1_ps(-0.0);
        let keep = |v: __m512, count: usize| -> __m512 {
            _mm512_mask_mov_ps(negz, ((1u32 << (2 * count)) - 1) as u16, v)
        };
        // The current state of each target, both coupling variables (one
        // load each, ahead of the rows' arithmetic).
        self.xi.clear();
        self.xi.extend((0..n).map(|i| {
            let at = (i * cur.0 + cur.1) * 2;
            u64::from(buf[at].to_bits()) | (u64::from(buf[at + 1].to_bits()) << 32)
        }));
        let xis = &self.xi;
        for i in 0..n {
            let (s, e) = (row_start[i], row_start[i + 1]);
            let m = e - s;
            let xv = _mm512_castpd_ps(_mm512_set1_pd(f64::from_bits(xis[i])));
            let gx: __m128 = match m {
                0 => _mm_setzero_ps(),
                1..=8 => {
                    // 0 + p_1 + … + p_(m−1) in order, then p_0 + that (NumPy's
                    // short run); pairs from m on are −0 and leave the sum alone.
                    let p = prod8(s, xv);
                    let pm = keep(p, m);
                    let mut res = _mm_setzero_ps();
                    res = _mm_add_ps(res, pair(pm, 1));
                    res = _mm_add_ps(res, pair(pm, 2));
                    res = _mm_add_ps(res, pair(pm, 3));
                    res = _mm_add_ps(res, pair(pm, 4));
                    res = _mm_add_ps(res, pair(pm, 5));
                    res = _mm_add_ps(res, pair(pm, 6));
                    res = _mm_add_ps(res, pair(pm, 7));
                    let p0 = pair(p, 0);
                    // A lone product is not added to +0 (it may be −0).
                    if m == 1 {
                        p0
                    } else {
                        _mm_add_ps(p0, res)
                    }
                }
                9..=129 => {
                    let rest = m - 1;
                    let full = rest - rest % G;
                    let mut acc = prod8(s + 1, xv);
                    let mut q = G;
                    while q < full {
                        acc = _mm512_add_ps(acc, prod8(s + 1 + q, xv));
                        q += G;
                    }
                    // ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)), pair j = r_j:
                    // swap neighbouring pairs, then 128-bit lanes, then halves.
                    let sw = _mm512_permute_pd::<0b0101_0101>(_mm512_castps_pd(acc));
                    let t1 = _mm512_add_ps(acc, _mm512_castpd_ps(sw));
                    let t1d = _mm512_castps_pd(t1);
                    let sw = _mm512_shuffle_f64x2::<0b10_11_00_01>(t1d, t1d);
                    let t2 = _mm512_add_ps(t1, _mm512_castpd_ps(sw));
                    let t2d = _mm512_castps_pd(t2);
                    let sw = _mm512_shuffle_f64x2::<0b01_00_11_10>(t2d, t2d);
                    let mut res = _mm512_castps512_ps128(_mm512_add_ps(t2, _mm512_castpd_ps(sw)));
                    // The remainder in order; pairs past it are −0.
                    let pm = keep(prod8(s + 1 + full, xv), rest - full);
                    res = _mm_add_ps(res, pair(pm, 0));
                    res = _mm_add_ps(res, pair(pm, 1));
                    res = _mm_add_ps(res, pair(pm, 2));
                    res = _mm_add_ps(res, pair(pm, 3));
                    res = _mm_add_ps(res, pair(pm, 4));
                    res = _mm_add_ps(res, pair(pm, 5));
                    res = _mm_add_ps(res, pair(pm, 6));
                    _mm_add_ps(pair(prod8(s, xv), 0), res)
                }
                _ => {
                    let xi = [
                        f32::from_bits(xis[i] as u32),
                        f32::from_bits((xis[i] >> 32) as u32),
                    ];
                    let g = row_sum2(&w[s..e], &rel[s..e], buf, xi, &|xi, xj| xj - xi, scratch);
                    _mm_setr_ps(g[0], g[1], 0.0, 0.0)
                }
            };
            let y = _mm_mul_pd(av, _mm_cvtps_pd(gx));
            out[i] = _mm_cvtsd_f64(y);
            out[n + i] = _mm_cvtsd_f64(_mm_unpackhi_pd(y, y));
        }
    }
}
