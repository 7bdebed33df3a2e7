//! Opt-in fast normal variates: xoshiro256++ and the ziggurat method.
//!
//! **Not** TVB's stream: runs with `generator = "fast"` have the same noise
//! statistics as TVB's but different numbers. The generator is xoshiro256++
//! (Blackman & Vigna 2018, "Scrambled linear pseudorandom number generators")
//! seeded through SplitMix64; normals come from the 128-layer ziggurat of
//! Marsaglia & Tsang (2000, *J. Stat. Softw.* 5(8)) in Doornik's formulation
//! (2005, "An improved ziggurat method to generate normal random samples"):
//! one 64-bit draw gives the layer (low 7 bits) and a uniform in (−1, 1)
//! (top 53 bits); about 99 % of variates are `u · x_i` after one comparison,
//! the rest come from the wedges or the tail (`|z| > R = 3.442619855899`).
//! No logarithm, square root or trigonometric call on the common path, where
//! NumPy's polar method needs a logarithm and a square root per pair and
//! MT19937 needs four 32-bit words.

/// Number of ziggurat layers.
const C: usize = 128;
/// Start of the tail.
const R: f64 = 3.442_619_855_899;
/// Area of each layer.
const V: f64 = 9.912_563_035_262_17e-3;

/// A fast standard-normal generator (see the module docs); reproducible per seed.
#[derive(Debug, Clone)]
pub struct FastNormal {
    s: [u64; 4],
    /// Layer edges `x_0 … x_C` (`x_0 = V / f(R)`, `x_1 = R`, `x_C = 0`).
    x: Box<[f64; C + 1]>,
    /// `x_{i+1} / x_i`: below it a uniform in layer `i` is inside the rectangle.
    ratio: Box<[f64; C]>,
}

impl FastNormal {
    /// A generator seeded from `seed` (SplitMix64 expansion to 256 bits).
    pub fn new(seed: u64) -> Self {
        let mut sm = seed;
        let mut next = || {
            sm = sm.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = sm;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let s = [next(), next(), next(), next()];
        let mut x = Box::new([0.0; C + 1]);
        let mut f = (-0.5 * R * R).exp();
        x[0] = V / f;
        x[1] = R;
        for i in 2..C {
            x[i] = (-2.0 * (V / x[i - 1] + f).ln()).sqrt();
            f = (-0.5 * x[i] * x[i]).exp();
        }
        x[C] = 0.0;
        let ratio = Box::new(std::array::from_fn(|i| x[i + 1] / x[i]));
        FastNormal { s, x, ratio }
    }

    /// Next 64-bit output of xoshiro256++.
    #[inline(always)]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let out = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }

    /// A uniform double in (0, 1) (never 0, so its logarithm is finite).
    #[inline]
    fn open01(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A standard normal variate.
    #[inline(always)]
    pub fn normal(&mut self) -> f64 {
        loop {
            let bits = self.next_u64();
            let i = (bits & 0x7f) as usize;
            // Top 53 bits: u uniform in [−1, 1).
            let u = (bits >> 11) as f64 * (2.0 / 9_007_199_254_740_992.0) - 1.0;
            if u.abs() < self.ratio[i] {
                return u * self.x[i];
            }
            if let Some(z) = self.slow(i, u) {
                return z;
            }
        }
    }

    /// The bottom layer's tail (`i = 0`) or a wedge; `None`: rejected, draw again.
    /// `eta[k] = scale · z_k · g[k]` for every `g[k] ≠ 0` (a fresh normal
    /// `z_k` each, drawn in order) and 0 where `g[k] = 0`: the same numbers
    /// as calling [`normal`](Self::normal) in a loop, with the generator's
    /// state held in registers on the common path (it goes back to `self`
    /// only around the rare wedge and tail draws, which use it too).
    #[inline(always)]
    pub fn fill_scaled(&mut self, eta: &mut [f64], g: &[f64], scale: f64) {
        let mut s = self.s;
        for (e, &gk) in eta.iter_mut().zip(g) {
            if gk == 0.0 {
                *e = 0.0;
                continue;
            }
            let z = loop {
                let bits = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
                let t = s[1] << 17;
                s[2] ^= s[0];
                s[3] ^= s[1];
                s[1] ^= s[2];
                s[0] ^= s[3];
                s[2] ^= t;
                s[3] = s[3].rotate_left(45);
                let i = (bits & 0x7f) as usize;
                let u = (bits >> 11) as f64 * (2.0 / 9_007_199_254_740_992.0) - 1.0;
                if u.abs() < self.ratio[i] {
                    break u * self.x[i];
                }
                self.s = s;
                let z = self.slow(i, u);
                s = self.s;
                if let Some(z) = z {
                    break z;
                }
            };
            *e = scale * z * gk;
        }
        self.s = s;
    }

    #[cold]
    fn slow(&mut self, i: usize, u: f64) -> Option<f64> {
        if i == 0 {
            // Marsaglia's tail method beyond R.
            loop {
                let a = self.open01().ln() / R;
                let b = self.open01().ln();
                if -2.0 * b >= a * a {
                    return Some(if u < 0.0 { a - R } else { R - a });
                }
            }
        }
        let z = u * self.x[i];
        let f0 = (-0.5 * (self.x[i] * self.x[i] - z * z)).exp();
        let f1 = (-0.5 * (self.x[i + 1] * self.x[i + 1] - z * z)).exp();
        (f1 + self.open01() * (f0 - f1) < 1.0).then_some(z)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoshiro_matches_reference_output() {
        // xoshiro256++ reference (Vigna's C code) from the state s = {1, 2, 3, 4}:
        // first outputs 41943041, 58720359, 3588806011781223.
        let mut g = FastNormal::new(0);
        g.s = [1, 2, 3, 4];
        assert_eq!(g.next_u64(), 41_943_041);
        assert_eq!(g.next_u64(), 58_720_359);
        assert_eq!(g.next_u64(), 3_588_806_011_781_223);
    }

    #[test]
    fn fill_scaled_gives_the_numbers_of_normal() {
        // 200,000 draws (about 2,000 go through the wedges or the tail), with
        // zero gains skipped, against `normal()` one by one.
        let (mut a, mut b) = (FastNormal::new(11), FastNormal::new(11));
        let g: Vec<f64> = (0..1000)
            .map(|k| if k % 7 == 3 { 0.0 } else { 0.5 + k as f64 })
            .collect();
        let mut eta = vec![f64::NAN; g.len()];
        let mut slow = 0;
        for _ in 0..233 {
            a.fill_scaled(&mut eta, &g, 0.1);
            for (k, &gk) in g.iter().enumerate() {
                let want = if gk == 0.0 {
                    0.0
                } else {
                    0.1 * b.normal() * gk
                };
                assert_eq!(eta[k].to_bits(), want.to_bits(), "entry {k}");
                slow += usize::from(gk != 0.0 && (eta[k] / (0.1 * gk)).abs() > R);
            }
        }
        assert!(slow > 20, "tail draws {slow}");
        assert_eq!(a.s, b.s);
    }

    #[test]
    fn layers_close_at_zero() {
        let g = FastNormal::new(1);
        // The recursion's last edge x_{C−1} must be just above 0 (the top layer).
        assert!(g.x[C - 1] > 0.0 && g.x[C - 1] < 0.3, "{}", g.x[C - 1]);
        assert!(g.x.windows(2).skip(1).all(|w| w[0] > w[1]));
    }

    /// Moments and tail fractions of 4 million variates against N(0, 1).
    #[test]
    fn normal_statistics() {
        let mut g = FastNormal::new(42);
        let n = 4_000_000usize;
        let (mut s1, mut s2, mut s4) = (0.0, 0.0, 0.0);
        let (mut in1, mut in2, mut tail, mut neg) = (0usize, 0usize, 0usize, 0usize);
        for _ in 0..n {
            let z = g.normal();
            s1 += z;
            s2 += z * z;
            s4 += z * z * z * z;
            in1 += usize::from(z.abs() < 1.0);
            in2 += usize::from(z.abs() < 2.0);
            tail += usize::from(z.abs() > R);
            neg += usize::from(z < 0.0);
        }
        let nf = n as f64;
        let (mean, var, kurt) = (s1 / nf, s2 / nf, s4 / nf);
        // Standard errors: mean 1/√n = 5e-4, var √(2/n) = 7e-4, 4th moment √(96/n) = 5e-3.
        assert!(mean.abs() < 3e-3, "mean {mean}");
        assert!((var - 1.0).abs() < 4e-3, "variance {var}");
        assert!((kurt - 3.0).abs() < 3e-2, "fourth moment {kurt}");
        // P(|z| < 1) = 0.682689, P(|z| < 2) = 0.954500, P(|z| > R) = 5.7628e-4.
        let frac = |k: usize| k as f64 / nf;
        assert!((frac(in1) - 0.682_689).abs() < 1.5e-3, "{}", frac(in1));
        assert!((frac(in2) - 0.954_500).abs() < 7e-4, "{}", frac(in2));
        assert!((frac(tail) - 5.7628e-4).abs() < 8e-5, "{}", frac(tail));
        assert!((frac(neg) - 0.5).abs() < 2e-3, "{}", frac(neg));
        // Reproducible per seed, different across seeds.
        let (mut a, mut b, mut c) = (FastNormal::new(7), FastNormal::new(7), FastNormal::new(8));
        let za: Vec<f64> = (0..100).map(|_| a.normal()).collect();
        assert_eq!(za, (0..100).map(|_| b.normal()).collect::<Vec<_>>());
        assert_ne!(za, (0..100).map(|_| c.normal()).collect::<Vec<_>>());
    }
}
