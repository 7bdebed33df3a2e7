//! Reproducible random streams, one per (entity, purpose).
//!
//! A simulation that draws all its random numbers from one generator changes
//! every later draw as soon as one model draws one number more (a new node, a
//! retransmission). Common-random-numbers experiments and debugging need
//! better: each entity gets its own stream per purpose ("mobility of node 7",
//! "backoff of node 7"), derived by hashing `(seed, run, entity, purpose)`.
//! Adding an entity, or drawing more from one stream, leaves every other
//! stream bit-for-bit unchanged.
//!
//! * Derivation: the four words are folded through the SplitMix64 finaliser
//!   with a distinct odd constant per position, and the result seeds a
//!   SplitMix64 sequence that fills the 256-bit state (the seeding procedure
//!   recommended by the xoshiro authors).
//! * Generator: xoshiro256++ (Blackman and Vigna, 2019), period 2^256 - 1,
//!   about 1 ns per 64-bit draw. Not cryptographic.
//! * Variates: `uniform_f64` uses the top 53 bits; `exponential` uses
//!   inversion; `normal` uses the Box-Muller transform without caching the
//!   second value, so every call consumes exactly two draws.

use std::f64::consts::TAU;

/// Weyl increment of SplitMix64 (2^64 / golden ratio, odd).
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;
/// Per-position constants for stream derivation (arbitrary odd numbers).
const K_SEED: u64 = 0x6a09_e667_f3bc_c909;
const K_RUN: u64 = 0xbb67_ae85_84ca_a73b;
const K_ENTITY: u64 = 0x3c6e_f372_fe94_f82b;
const K_PURPOSE: u64 = 0xa54f_f53a_5f1d_36f1;

/// The SplitMix64 output function: a bijective 64-bit mixer.
#[inline]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny generator used here to
/// expand one 64-bit seed into generator states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub const fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64-bit output.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix64(self.state)
    }
}

/// A xoshiro256++ generator with the variates a network or brain model needs.
///
/// Obtain one from [`RngStreams::stream`], or from [`Rng::seed_from_u64`] for
/// a standalone generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator whose state is filled from SplitMix64(`seed`).
    pub fn seed_from_u64(seed: u64) -> Self {
        let mut sm = SplitMix64::new(seed);
        let s = [sm.next_u64(), sm.next_u64(), sm.next_u64(), sm.next_u64()];
        // SplitMix64 is a bijection of a counter, so four consecutive outputs
        // are never all zero; the all-zero state would be a fixed point.
        debug_assert!(s != [0; 4]);
        Rng { s }
    }

    /// A generator with exactly this state (for reference vectors). The
    /// all-zero state is invalid and is replaced by `seed_from_u64(0)`.
    pub fn from_state(s: [u64; 4]) -> Self {
        if s == [0; 4] {
            Self::seed_from_u64(0)
        } else {
            Rng { s }
        }
    }

    /// The next 64 uniformly distributed bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let [s0, s1, s2, s3] = self.s;
        let out = s0.wrapping_add(s3).rotate_left(23).wrapping_add(s0);
        let t = s1 << 17;
        let s2 = s2 ^ s0;
        let s3 = s3 ^ s1;
        let s1 = s1 ^ s2;
        let s0 = s0 ^ s3;
        self.s = [s0, s1, s2 ^ t, s3.rotate_left(45)];
        out
    }

    /// A uniform `f64` in `[0, 1)`, with 53 random bits.
    #[inline]
    pub fn uniform_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in `[0, n)`; `n` must be positive.
    ///
    /// Lemire's multiply-and-reject method: unbiased, usually one draw.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "Rng::below needs a positive bound");
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// True with probability `p`; values outside `[0, 1]` act as clamped.
    #[inline]
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform_f64() < p
    }

    /// An exponential variate with the given mean (inversion method).
    /// The result is finite and `>= 0` for a finite, non-negative mean.
    #[inline]
    pub fn exponential(&mut self, mean: f64) -> f64 {
        // 1 - u lies in (0, 1], so the logarithm is finite.
        -mean * (1.0 - self.uniform_f64()).ln()
    }

    /// A normal variate with the given mean and standard deviation
    /// (Box-Muller; two draws per call).
    #[inline]
    pub fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let u1 = 1.0 - self.uniform_f64(); // (0, 1]
        let u2 = self.uniform_f64();
        mean + sd * (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
    }
}

/// The family of random streams of one simulation run.
///
/// ```
/// use twin_des::RngStreams;
/// const MOBILITY: u64 = 1;
/// let streams = RngStreams::new(42, 0);
/// let mut a = streams.stream(7, MOBILITY);
/// let mut b = streams.stream(7, MOBILITY);
/// assert_eq!(a.next_u64(), b.next_u64()); // same inputs, same stream
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RngStreams {
    seed: u64,
    run: u64,
    /// Hash of `(seed, run)`, shared by all streams.
    base: u64,
}

impl RngStreams {
    /// The streams of replication `run` of an experiment with master `seed`.
    pub fn new(seed: u64, run: u64) -> Self {
        let base = mix64(mix64(seed ^ K_SEED).wrapping_add(run ^ K_RUN));
        RngStreams { seed, run, base }
    }

    /// The master seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The replication number.
    pub fn run(&self) -> u64 {
        self.run
    }

    /// The generator for `purpose` of `entity`. Pure: the same arguments
    /// always give a generator in the same initial state, independent of
    /// which other streams exist or how much they have been used.
    pub fn stream(&self, entity: u64, purpose: u64) -> Rng {
        let h = mix64(self.base.wrapping_add(entity ^ K_ENTITY));
        let h = mix64(h.wrapping_add(purpose ^ K_PURPOSE));
        Rng::seed_from_u64(h)
    }
}

#[cfg(test)]
mod tests;
