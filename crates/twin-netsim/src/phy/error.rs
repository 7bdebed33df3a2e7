//! Bit and symbol error rates in additive white Gaussian noise, by
//! modulation. Interference is treated as noise (SINR).
//!
//! | mode | rate | error model |
//! |---|---|---|
//! | DSSS DBPSK | 1 Mb/s | `BER = ½ exp(−Eb/N0)`, `Eb/N0 = SINR · 22` (processing gain) |
//! | DSSS DQPSK | 2 Mb/s | `BER ≈ (√2+1)/√(8π√2) · x^-½ · e^(−(2−√2) x)`, `x = SINR · 11` |
//! | CCK | 5.5 Mb/s | 16-ary biorthogonal symbols (4 bits), `Es/N0 = 8 SINR` |
//! | CCK | 11 Mb/s | two 16-ary biorthogonal halves per 8-bit symbol, `Es/N0 = 4 SINR` each |
//! | BPSK / QPSK | any | `BER = Q(√(2 Eb/N0))` |
//! | 16-QAM | any | `BER ≈ ¾ Q(√(0.8 Eb/N0))` |
//!
//! The DSSS/CCK mapping from SINR to `Eb/N0` and `Es/N0` is the one of
//! ns-3's `DsssErrorRateModel` (its GSL variant), so that validation against
//! ns-3 compares like with like. The biorthogonal symbol error probability
//! `1 − ∫_{−β}^{∞} φ(y) (2Φ(y+β) − 1)^{7} dy`, `β = √(2 Es/N0)` (Proakis,
//! *Digital Communications*, §4.4) is integrated numerically once into a
//! table over SINR and interpolated.

use std::sync::OnceLock;

/// `erfc(x)` with fractional error below 1.2e-7 (Chebyshev fit of the
/// complementary error function, Press et al., *Numerical Recipes*, §6.2).
pub(crate) fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Gaussian tail probability `Q(x) = P(N(0,1) > x)`.
pub(crate) fn q(x: f64) -> f64 {
    0.5 * erfc(x / std::f64::consts::SQRT_2)
}

/// Standard normal density.
fn phi(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Probability that `bits` bits all survive a bit error rate `ber`.
pub(crate) fn survive(ber: f64, bits: f64) -> f64 {
    if ber <= 0.0 || bits <= 0.0 {
        return 1.0;
    }
    if ber >= 0.5 {
        return 0.5f64.powf(bits);
    }
    (bits * (-ber).ln_1p()).exp()
}

/// DBPSK bit error rate at 1 Mb/s.
pub(crate) fn dbpsk_ber(sinr: f64) -> f64 {
    0.5 * (-sinr * 22.0).exp()
}

/// DQPSK bit error rate at 2 Mb/s.
pub(crate) fn dqpsk_ber(sinr: f64) -> f64 {
    let x = sinr * 11.0;
    if x <= 0.0 {
        return 0.5;
    }
    let k = (std::f64::consts::SQRT_2 + 1.0)
        / (8.0 * std::f64::consts::PI * std::f64::consts::SQRT_2).sqrt();
    (k / x.sqrt() * (-(2.0 - std::f64::consts::SQRT_2) * x).exp()).min(0.5)
}

/// Symbol error probability of 16-ary biorthogonal signalling at `Es/N0`.
///
/// Integrates the error directly, `Q(β) + ∫_{−β}^{∞} φ(y) (1 − (1 − 2Q(y+β))^7) dy`,
/// so that small error probabilities keep their relative precision.
fn biorthogonal16_sep(es_n0: f64) -> f64 {
    let beta = (2.0 * es_n0).sqrt();
    let lo = -beta;
    let hi = (lo + 1.0).max(9.0);
    let n = 800; // even, Simpson's rule
    let h = (hi - lo) / n as f64;
    let f = |y: f64| {
        let two_q = (2.0 * q(y + beta)).min(1.0);
        // 1 − (1 − 2q)^7 without cancellation.
        phi(y) * -(7.0 * (-two_q).ln_1p()).exp_m1()
    };
    let mut s = f(lo) + f(hi);
    for i in 1..n {
        let w = if i % 2 == 1 { 4.0 } else { 2.0 };
        s += w * f(lo + h * i as f64);
    }
    (q(beta) + s * h / 3.0).clamp(0.0, 1.0)
}

/// Table of 16-ary biorthogonal SEP over `Es/N0` in dB.
struct SepTable {
    lo_db: f64,
    step_db: f64,
    sep: Vec<f64>,
}

fn sep_table() -> &'static SepTable {
    static TABLE: OnceLock<SepTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let (lo_db, hi_db, step_db) = (-20.0, 30.0, 0.05);
        let n = ((hi_db - lo_db) / step_db) as usize + 1;
        let sep = (0..n)
            .map(|i| biorthogonal16_sep(10f64.powf((lo_db + step_db * i as f64) / 10.0)))
            .collect();
        SepTable {
            lo_db,
            step_db,
            sep,
        }
    })
}

/// Interpolated 16-ary biorthogonal SEP (log-linear in the SEP).
pub(crate) fn sep16(es_n0: f64) -> f64 {
    if es_n0 <= 0.0 {
        return 15.0 / 16.0;
    }
    let t = sep_table();
    let x = (10.0 * es_n0.log10() - t.lo_db) / t.step_db;
    if x <= 0.0 {
        return t.sep[0];
    }
    let i = x as usize;
    if i + 1 >= t.sep.len() {
        return 0.0;
    }
    let f = x - i as f64;
    let (a, b) = (t.sep[i], t.sep[i + 1]);
    if a <= 0.0 || b <= 0.0 {
        return a + (b - a) * f;
    }
    (a.ln() + (b.ln() - a.ln()) * f).exp()
}

/// Success probability of `bits` bits of CCK at 5.5 Mb/s.
pub(crate) fn cck55_success(sinr: f64, bits: f64) -> f64 {
    let sep = sep16(8.0 * sinr);
    (1.0 - sep).max(0.0).powf(bits / 4.0)
}

/// Success probability of `bits` bits of CCK at 11 Mb/s.
pub(crate) fn cck11_success(sinr: f64, bits: f64) -> f64 {
    let half = 1.0 - sep16(4.0 * sinr);
    (half * half).max(0.0).powf(bits / 8.0)
}

/// Uncoded BPSK/QPSK bit error rate at `Eb/N0`.
pub(crate) fn psk_ber(eb_n0: f64) -> f64 {
    q((2.0 * eb_n0.max(0.0)).sqrt())
}

/// Uncoded Gray-coded 16-QAM bit error rate at `Eb/N0`.
pub(crate) fn qam16_ber(eb_n0: f64) -> f64 {
    (0.75 * q((0.8 * eb_n0.max(0.0)).sqrt())).min(0.5)
}
