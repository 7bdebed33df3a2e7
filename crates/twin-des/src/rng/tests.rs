use super::*;

#[test]
fn splitmix64_matches_reference_vector() {
    // Reference outputs of SplitMix64 seeded with 1234567.
    let mut sm = SplitMix64::new(1_234_567);
    assert_eq!(sm.next_u64(), 6_457_827_717_110_365_317);
    assert_eq!(sm.next_u64(), 3_203_168_211_198_807_973);
    assert_eq!(sm.next_u64(), 9_817_491_932_198_370_423);
}

#[test]
fn xoshiro256pp_matches_reference_vector() {
    // Reference outputs of xoshiro256++ from state [1, 2, 3, 4].
    let mut r = Rng::from_state([1, 2, 3, 4]);
    let got: Vec<u64> = (0..5).map(|_| r.next_u64()).collect();
    assert_eq!(
        got,
        [
            41_943_041,
            58_720_359,
            3_588_806_011_781_223,
            3_591_011_842_654_386,
            9_228_616_714_210_784_205
        ]
    );
}

#[test]
fn zero_state_is_replaced() {
    let mut r = Rng::from_state([0; 4]);
    assert_ne!(r.next_u64(), 0);
}

#[test]
fn streams_do_not_depend_on_creation_order_or_use() {
    let streams = RngStreams::new(42, 3);
    let first: Vec<u64> = {
        let mut a = streams.stream(1, 0);
        (0..8).map(|_| a.next_u64()).collect()
    };
    // Create other streams first, draw from them, add a brand-new entity...
    let mut other = streams.stream(2, 0);
    let mut newcomer = streams.stream(1_000_000, 5);
    for _ in 0..100 {
        other.next_u64();
        newcomer.next_u64();
    }
    // ...and entity 1's stream is unchanged.
    let mut again = streams.stream(1, 0);
    let second: Vec<u64> = (0..8).map(|_| again.next_u64()).collect();
    assert_eq!(first, second);
}

#[test]
fn streams_differ_by_every_input() {
    let base = RngStreams::new(1, 0).stream(0, 0).next_u64();
    let variants = [
        RngStreams::new(2, 0).stream(0, 0).next_u64(),
        RngStreams::new(1, 1).stream(0, 0).next_u64(),
        RngStreams::new(1, 0).stream(1, 0).next_u64(),
        RngStreams::new(1, 0).stream(0, 1).next_u64(),
    ];
    for v in variants {
        assert_ne!(v, base);
    }
    // Swapping entity and purpose gives a different stream too.
    let a = RngStreams::new(1, 0).stream(3, 4).next_u64();
    let b = RngStreams::new(1, 0).stream(4, 3).next_u64();
    assert_ne!(a, b);
    let s = RngStreams::new(7, 8);
    assert_eq!((s.seed(), s.run()), (7, 8));
}

#[test]
fn neighbouring_streams_are_uncorrelated() {
    // Crude check: streams of consecutive entities agree on about half of
    // their bits, as independent streams would.
    let streams = RngStreams::new(0, 0);
    let mut same_bits = 0u64;
    let n = 4_000;
    for e in 0..n {
        let x = streams.stream(e, 0).next_u64();
        let y = streams.stream(e + 1, 0).next_u64();
        same_bits += u64::from((!(x ^ y)).count_ones());
    }
    let frac = same_bits as f64 / (64 * n) as f64;
    assert!((frac - 0.5).abs() < 0.01, "fraction of equal bits {frac}");
}

#[test]
fn uniform_is_in_unit_interval_with_right_mean() {
    let mut r = Rng::seed_from_u64(5);
    let n = 100_000;
    let mut sum = 0.0;
    for _ in 0..n {
        let u = r.uniform_f64();
        assert!((0.0..1.0).contains(&u));
        sum += u;
    }
    let mean = sum / f64::from(n);
    assert!((mean - 0.5).abs() < 0.005, "mean {mean}");
}

#[test]
fn exponential_mean_within_tolerance() {
    let mut r = RngStreams::new(11, 0).stream(0, 0);
    let n = 100_000;
    let mean = 100.0;
    let mut sum = 0.0;
    for _ in 0..n {
        let x = r.exponential(mean);
        assert!(x.is_finite() && x >= 0.0);
        sum += x;
    }
    // Standard error is mean / sqrt(n) = 0.32; allow about 5 of them.
    let got = sum / f64::from(n);
    assert!((got - mean).abs() < 1.6, "sample mean {got}");
}

#[test]
fn normal_mean_and_sd_within_tolerance() {
    let mut r = Rng::seed_from_u64(12);
    let n = 100_000;
    let (mut s1, mut s2) = (0.0, 0.0);
    for _ in 0..n {
        let x = r.normal(3.0, 2.0);
        s1 += x;
        s2 += x * x;
    }
    let mean = s1 / f64::from(n);
    let sd = (s2 / f64::from(n) - mean * mean).sqrt();
    assert!((mean - 3.0).abs() < 0.035, "mean {mean}");
    assert!((sd - 2.0).abs() < 0.03, "sd {sd}");
}

#[test]
fn below_is_unbiased_and_in_range() {
    let mut r = Rng::seed_from_u64(13);
    let mut counts = [0u32; 6];
    for _ in 0..60_000 {
        counts[r.below(6) as usize] += 1;
    }
    for c in counts {
        assert!((9_500..10_500).contains(&c), "{counts:?}");
    }
    assert_eq!(r.below(1), 0);
    assert!(r.below(u64::MAX) < u64::MAX);
}

#[test]
fn bernoulli_extremes() {
    let mut r = Rng::seed_from_u64(14);
    assert!((0..1_000).all(|_| !r.bernoulli(0.0)));
    assert!((0..1_000).all(|_| r.bernoulli(1.0)));
}
