//! Summation in NumPy's order, for bit-level parity with TVB.
//!
//! NumPy reduces a contiguous run with *pairwise summation*
//! (`numpy/_core/src/umath/loops_utils.h.src`): runs shorter than 8 are added
//! one after another from zero; runs of 8 to 128 use eight interleaved partial
//! sums combined as `((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7))`, then add the
//! remainder in order; longer runs split in two halves (the first a multiple
//! of 8 long) and recurse. `np.add.reduceat` starts each segment from its first
//! element and adds the pairwise sum of the rest; `np.sum` sums everything
//! pairwise from zero. TVB's sparse coupling uses the former, its dense
//! couplings (`Sigmoidal`, `SigmoidalJansenRit`) the latter.

/// Numeric type summed in NumPy's pairwise order (`f32` or `f64`).
pub trait PwFloat: Copy + std::ops::Add<Output = Self> {
    /// Additive identity.
    const ZERO: Self;
}

impl PwFloat for f32 {
    const ZERO: f32 = 0.0;
}

impl PwFloat for f64 {
    const ZERO: f64 = 0.0;
}

/// `K` `f32` sums carried side by side (the coupling variables of one edge, or
/// several steps of them); each lane is rounded exactly as a lone `f32` sum,
/// and the fixed-size lanes let the compiler use SIMD registers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lanes<const K: usize>(pub [f32; K]);

impl<const K: usize> std::ops::Add for Lanes<K> {
    type Output = Lanes<K>;
    #[inline]
    fn add(self, o: Lanes<K>) -> Lanes<K> {
        let mut r = self.0;
        for (a, b) in r.iter_mut().zip(o.0) {
            *a += b;
        }
        Lanes(r)
    }
}

impl<const K: usize> PwFloat for Lanes<K> {
    const ZERO: Lanes<K> = Lanes([0.0; K]);
}

/// NumPy's `pairwise_sum` of `a`.
#[inline]
pub fn pairwise_sum<T: PwFloat>(a: &[T]) -> T {
    let n = a.len();
    if n < 8 {
        let mut res = T::ZERO;
        for &x in a {
            res = res + x;
        }
        res
    } else if n <= 128 {
        let mut r = [a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]];
        let full = n - n % 8;
        let mut i = 8;
        while i < full {
            for j in 0..8 {
                r[j] = r[j] + a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &a[full..] {
            res = res + x;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&a[..n2]) + pairwise_sum(&a[n2..])
    }
}

/// [`reduceat_segment`] of the values `f(0), f(1), …, f(n − 1)`, computed on the
/// fly (no intermediate array for the common case `n ≤ 129`), in exactly
/// NumPy's order.
#[inline(always)]
pub fn reduceat_with<T: PwFloat>(n: usize, scratch: &mut Vec<T>, f: impl Fn(usize) -> T) -> T {
    match n {
        0 => T::ZERO,
        1 => f(0),
        2..=8 => {
            let first = f(0);
            let mut res = T::ZERO;
            for k in 1..n {
                res = res + f(k);
            }
            first + res
        }
        9..=129 => {
            // The rest, f(1)..f(n-1), has m = n - 1 elements (8 ≤ m ≤ 128).
            let m = n - 1;
            let mut r = [f(1), f(2), f(3), f(4), f(5), f(6), f(7), f(8)];
            let full = m - m % 8;
            let mut i = 8;
            while i < full {
                for j in 0..8 {
                    r[j] = r[j] + f(1 + i + j);
                }
                i += 8;
            }
            let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for k in full..m {
                res = res + f(1 + k);
            }
            f(0) + res
        }
        _ => {
            scratch.clear();
            scratch.extend((0..n).map(f));
            reduceat_segment(scratch)
        }
    }
}

/// One segment of `np.add.reduceat`: the first element plus the pairwise sum of the rest.
#[inline]
pub fn reduceat_segment<T: PwFloat>(a: &[T]) -> T {
    match a {
        [] => T::ZERO,
        [first] => *first,
        [first, rest @ ..] => *first + pairwise_sum(rest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_runs_are_sequential() {
        let a = [1e8f32, 1.0, -1e8, 1.0];
        assert_eq!(pairwise_sum(&a), ((1e8f32 + 1.0) + -1e8) + 1.0);
    }

    #[test]
    fn eight_accumulators_for_medium_runs() {
        // With 16 elements, element k goes to accumulator k % 8.
        let mut a = [0.0f32; 16];
        a[0] = 1e8;
        a[8] = -1e8;
        a[1] = 1.0;
        // Sequential summation would lose the 1.0 against 1e8; pairwise keeps it.
        assert_eq!(pairwise_sum(&a), 1.0);
        assert_eq!(reduceat_segment(&[5.0f64]), 5.0);
        assert_eq!(reduceat_segment::<f64>(&[]), 0.0);
    }

    #[test]
    fn reduceat_with_matches_reduceat_segment() {
        let mut scratch = Vec::new();
        for n in 0..300 {
            let v: Vec<f32> = (0..n)
                .map(|k| ((k * 7919 % 1000) as f32 - 500.0) * 1.37e-3)
                .collect();
            let want = reduceat_segment(&v);
            let got = reduceat_with(n, &mut scratch, |k| v[k]);
            assert_eq!(got.to_bits(), want.to_bits(), "n = {n}");
        }
    }

    #[test]
    fn long_runs_split() {
        let a: Vec<f64> = (0..300).map(|k| (k as f64).sqrt()).collect();
        let expected = pairwise_sum(&a[..144]) + pairwise_sum(&a[144..]);
        assert_eq!(pairwise_sum(&a), expected);
    }
}
