//! Noise: a NumPy-compatible random stream and TVB's additive noise.
//!
//! [`RandomState`] reproduces `numpy.random.RandomState(seed)` exactly: the
//! MT19937 generator seeded like `init_genrand`, doubles from two 32-bit draws
//! (53 bits), and `normal()` by the polar Box–Muller method that keeps the
//! second variate for the next call (NumPy's `legacy_gauss`). TVB draws its
//! noise, and its random initial conditions, from such a stream seeded with
//! `noise_seed` (default 42), so a seeded run here reproduces TVB's stochastic
//! runs number for number.
//!
//! # `nsig`
//!
//! TVB's additive noise adds `sqrt(dt) · z · sqrt(2 · nsig)` per step, with
//! `z ~ N(0, 1)`: the per-step standard deviation is `sqrt(2 · nsig · dt)`, so
//! `nsig` is the diffusion coefficient D of `dX = f dt + sqrt(2D) dW` (its
//! docstring calls it a standard deviation, which it is not).

use serde::{Deserialize, Serialize};

use crate::error::BrainError;

pub use fast::FastNormal;

mod fast;

const N: usize = 624;
const M: usize = 397;

/// NumPy's legacy `RandomState` (MT19937 + polar Box–Muller), bit-compatible.
#[derive(Clone)]
pub struct RandomState {
    mt: Box<[u32; N]>,
    /// The tempered outputs of the current `mt` (computed in one pass per twist).
    out: Box<[u32; N]>,
    pos: usize,
    gauss: Option<f64>,
}

impl std::fmt::Debug for RandomState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RandomState")
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}

impl RandomState {
    /// Seeds like `numpy.random.RandomState(seed)` for an integer seed.
    pub fn new(seed: u32) -> Self {
        let mut mt = Box::new([0u32; N]);
        mt[0] = seed;
        for i in 1..N {
            mt[i] = 1_812_433_253u32
                .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        RandomState {
            mt,
            out: Box::new([0u32; N]),
            pos: N,
            gauss: None,
        }
    }

    /// Regenerates the 624 words (`genrand` reference order), in three runs so
    /// that no index needs a modulo: the first `N − M` words mix in words not yet
    /// regenerated, the rest mix in words regenerated earlier in this twist.
    fn twist(&mut self) {
        #[inline(always)]
        fn mix(cur: u32, next: u32, far: u32) -> u32 {
            let y = (cur & 0x8000_0000) | (next & 0x7fff_ffff);
            far ^ (y >> 1) ^ (0u32.wrapping_sub(y & 1) & 0x9908_b0df)
        }
        let mt = &mut self.mt;
        for i in 0..N - M {
            mt[i] = mix(mt[i], mt[i + 1], mt[i + M]);
        }
        for i in N - M..N - 1 {
            mt[i] = mix(mt[i], mt[i + 1], mt[i + M - N]);
        }
        mt[N - 1] = mix(mt[N - 1], mt[0], mt[M - 1]);
        // Tempering of all 624 words in one loop the compiler vectorises.
        for (o, &m) in self.out.iter_mut().zip(mt.iter()) {
            let mut y = m;
            y ^= y >> 11;
            y ^= (y << 7) & 0x9d2c_5680;
            y ^= (y << 15) & 0xefc6_0000;
            *o = y ^ (y >> 18);
        }
        self.pos = 0;
    }

    /// Next 32-bit output of MT19937.
    pub fn next_u32(&mut self) -> u32 {
        if self.pos >= N {
            self.twist();
        }
        let y = self.out[self.pos];
        self.pos += 1;
        y
    }

    /// A double in [0, 1) with 53 random bits (`random_sample()`).
    pub fn next_f64(&mut self) -> f64 {
        let a = (self.next_u32() >> 5) as f64;
        let b = (self.next_u32() >> 6) as f64;
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// `uniform(lo, hi)`: `lo + (hi − lo) · random_sample()`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next_f64()
    }

    /// A standard normal variate (`standard_normal()` / `normal()`).
    pub fn normal(&mut self) -> f64 {
        if let Some(g) = self.gauss.take() {
            return g;
        }
        loop {
            let x1 = 2.0 * self.next_f64() - 1.0;
            let x2 = 2.0 * self.next_f64() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                let f = (-2.0 * r2.ln() / r2).sqrt();
                self.gauss = Some(f * x1);
                return f * x2;
            }
        }
    }
}

/// Additive white noise (TVB's `noise.Additive`), per integrated state variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Noise {
    /// Diffusion coefficient D ("nsig"): one value, one per state variable,
    /// one per region, or one per (state variable, region) row-major.
    pub nsig: Vec<f64>,
    /// Seed of the random stream (TVB's `noise_seed`, default 42).
    #[serde(default = "default_seed")]
    pub seed: u32,
    /// Which normal generator draws the noise (default: TVB's stream).
    #[serde(default)]
    pub generator: NoiseGenerator,
}

/// The source of the noise's normal variates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoiseGenerator {
    /// NumPy's `RandomState` (MT19937, polar Box–Muller): TVB's numbers exactly.
    #[default]
    Numpy,
    /// [`FastNormal`] (xoshiro256++, ziggurat): same statistics, different
    /// numbers, about 5× cheaper per variate; state variables with `nsig = 0`
    /// draw nothing.
    Fast,
}

/// The normal stream of a stochastic run.
#[derive(Debug, Clone)]
pub(crate) enum NormalStream {
    /// TVB's stream.
    Numpy(RandomState),
    /// The opt-in fast generator.
    Fast(FastNormal),
}

impl NormalStream {
    /// Fills `eta[k] = scale · z_k · g[k]` for fresh normals `z_k`, in TVB's
    /// order (the fast stream skips the entries with `g[k] = 0`).
    #[inline(always)]
    pub(crate) fn fill(&mut self, eta: &mut [f64], g: &[f64], scale: f64) {
        match self {
            NormalStream::Numpy(r) => {
                for (e, &gk) in eta.iter_mut().zip(g) {
                    *e = scale * r.normal() * gk;
                }
            }
            NormalStream::Fast(r) => r.fill_scaled(eta, g, scale),
        }
    }
}

fn default_seed() -> u32 {
    42
}

impl Noise {
    /// Additive noise with one `nsig` for every state variable and region.
    pub fn additive(nsig: f64, seed: u32) -> Self {
        Noise {
            nsig: vec![nsig],
            seed,
            generator: NoiseGenerator::Numpy,
        }
    }

    /// Additive noise with one `nsig` per state variable (zero: no noise on it).
    pub fn per_state_variable(nsig: Vec<f64>, seed: u32) -> Self {
        Noise {
            nsig,
            seed,
            generator: NoiseGenerator::Numpy,
        }
    }

    /// The same noise drawn from the fast generator ([`NoiseGenerator::Fast`]).
    pub fn fast(self) -> Self {
        Noise {
            generator: NoiseGenerator::Fast,
            ..self
        }
    }

    /// `sqrt(2·nsig)` broadcast to `nsv × n` (row-major), following TVB's shape rules.
    pub fn gfun(&self, nsv: usize, n: usize) -> Result<Vec<f64>, BrainError> {
        let g: Vec<f64> = self.nsig.iter().map(|&s| (2.0 * s).sqrt()).collect();
        if let Some(bad) = self.nsig.iter().find(|s| !(s.is_finite() && **s >= 0.0)) {
            return Err(BrainError::Invalid {
                what: "noise nsig",
                reason: format!("{bad} is not a finite non-negative number"),
            });
        }
        let k = g.len();
        let out = if k == 1 {
            vec![g[0]; nsv * n]
        } else if k == nsv * n {
            g
        } else if k == nsv {
            g.iter().flat_map(|&v| std::iter::repeat_n(v, n)).collect()
        } else if k == n {
            (0..nsv).flat_map(|_| g.iter().copied()).collect()
        } else {
            return Err(BrainError::Shape {
                what: "noise nsig",
                expected: vec![nsv, n],
                got: vec![k],
            });
        };
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_random_state_42() {
        // numpy.random.RandomState(42).random_sample(2)
        let mut r = RandomState::new(42);
        assert_eq!(r.next_f64(), 0.3745401188473625);
        assert_eq!(r.next_f64(), 0.9507143064099162);
        // numpy.random.RandomState(42).normal(size=3)
        let mut r = RandomState::new(42);
        let z: Vec<f64> = (0..3).map(|_| r.normal()).collect();
        assert_eq!(
            z,
            [0.4967141530112327, -0.13826430117118466, 0.6476885381006925]
        );
    }

    #[test]
    fn matches_numpy_across_many_twists() {
        // numpy.random.RandomState(42).random_sample(5000)[[1247, 4999]]
        let mut r = RandomState::new(42);
        let u: Vec<f64> = (0..5000).map(|_| r.next_f64()).collect();
        assert_eq!(u[1247], 0.032526179491251916);
        assert_eq!(u[4999], 0.5973123783307118);
        // z = numpy.random.RandomState(7).normal(size=3001): z[3000], z.sum()
        let mut r = RandomState::new(7);
        let z: Vec<f64> = (0..3001).map(|_| r.normal()).collect();
        assert_eq!(z[3000], 1.7202889319076085);
        let sum = z.iter().fold(0.0, |a, b| a + b);
        assert!((sum - -59.184758086621045).abs() < 1e-9, "{sum}");
    }

    #[test]
    fn gfun_shapes() {
        let n = Noise::per_state_variable(vec![0.0, 0.5], 1);
        assert_eq!(n.gfun(2, 2).unwrap(), vec![0.0, 0.0, 1.0, 1.0]);
        assert!(Noise::per_state_variable(vec![1.0; 3], 1)
            .gfun(2, 2)
            .is_err());
        assert!(Noise::additive(-1.0, 1).gfun(2, 2).is_err());
    }
}
