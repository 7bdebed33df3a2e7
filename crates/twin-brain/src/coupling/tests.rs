use super::*;

/// Two regions, 1 <- 0 with weight 2 and delay 2 steps, 0 <- 1 with weight 1, delay 0.
fn setup() -> (CouplingEngine, History) {
    let w = [0.0, 1.0, 2.0, 0.0];
    let d = [0, 0, 2, 0];
    let eng = CouplingEngine::new(2, 1, &w, &d, 3);
    let mut h = History::new(3, 1, 2);
    for s in 0..3u64 {
        h.update(s, &[10.0 * s as f64, 100.0 + s as f64]);
    }
    (eng, h)
}

#[test]
fn linear_reads_delayed_source_values() {
    let (mut eng, h) = setup();
    let mut out = [0.0; 2];
    // Coupling for step 3 reads x(2 - d).
    eng.compute(&Coupling::Linear { a: 0.5, b: 1.0 }, &h, 3, &mut out);
    assert_eq!(out[0], 0.5 * 102.0 + 1.0); // from region 1, no delay: x1(2) = 102
    assert_eq!(out[1], 0.5 * (2.0 * 0.0) + 1.0); // from region 0, delay 2: x0(0) = 0
    assert_eq!(eng.nnz(), 2);
}

#[test]
fn difference_subtracts_the_current_target_value() {
    let (mut eng, h) = setup();
    let mut out = [0.0; 2];
    eng.compute(&Coupling::Difference { a: 1.0 }, &h, 3, &mut out);
    assert_eq!(out[0], 102.0 - 20.0);
    assert_eq!(out[1], 2.0 * (0.0 - 102.0));
}

#[test]
fn rows_without_afferents_get_the_offset() {
    let eng_w = [0.0, 0.0, 1.0, 0.0];
    let mut eng = CouplingEngine::new(2, 1, &eng_w, &[0; 4], 1);
    let mut h = History::new(1, 1, 2);
    h.update(0, &[3.0, 4.0]);
    let mut out = [0.0; 2];
    eng.compute(&Coupling::Linear { a: 2.0, b: 0.25 }, &h, 1, &mut out);
    assert_eq!(out, [0.25, 6.25]);
}

#[test]
fn sigmoidal_and_tanh_and_jansen_rit_shapes() {
    let (mut eng, h) = setup();
    let mut out = [0.0; 2];
    eng.compute(&Coupling::sigmoidal_default(), &h, 3, &mut out);
    assert!(out.iter().all(|c| c.abs() < 1.0));
    eng.compute(&Coupling::hyperbolic_tangent_default(), &h, 3, &mut out);
    assert!((out[0] - (1.0 + 102f64.tanh())).abs() < 1e-12);
    assert_eq!(Coupling::sigmoidal_jansen_rit_default().n_terms(2), 1);
    assert_eq!(Coupling::linear(1.0).n_terms(2), 2);
    assert_eq!(Coupling::difference(1.0).name(), "Difference");
}

#[test]
fn serde_uses_tvb_names() {
    let c: Coupling = serde_json::from_str(r#"{"kind": "Linear", "a": 0.0154, "b": 0.0}"#).unwrap();
    assert_eq!(c, Coupling::linear(0.0154));
    // Fields left out take TVB's defaults; unknown fields are errors.
    let c: Coupling = serde_json::from_str(r#"{"kind": "Linear", "a": 1}"#).unwrap();
    assert_eq!(c, Coupling::linear(1.0));
    let c: Coupling = serde_json::from_str(r#"{"kind": "Sigmoidal"}"#).unwrap();
    assert_eq!(c, Coupling::sigmoidal_default());
    let c: Coupling = serde_json::from_str(r#"{"kind": "SigmoidalJansenRit"}"#).unwrap();
    assert_eq!(c, Coupling::sigmoidal_jansen_rit_default());
    assert!(serde_json::from_str::<Coupling>(r#"{"kind": "Linear", "c": 1}"#).is_err());
}

/// Deterministic pseudo-random numbers in [0, 1) for the tests below.
fn lcg(state: &mut u64) -> f64 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (*state >> 11) as f64 / (1u64 << 53) as f64
}

/// Runs the blocked path (`compute_next`) and the one-step path side by side on a
/// random sparse network (delays `dmin ..= dmin + 37`; with `self_loops`, even
/// rows also get a zero-delay self-connection) and returns the number of steps
/// served from a cached block; panics on the first bit that differs.
fn blocked_equals_one_step(
    n: usize,
    nc: usize,
    dmin: usize,
    density: f64,
    self_loops: bool,
    cpl: Coupling,
) -> u64 {
    let mut st = (n * 1000 + nc * 100 + dmin) as u64;
    let dmax = dmin + 37;
    let mut w = vec![0.0; n * n];
    let mut d = vec![0; n * n];
    for k in 0..n * n {
        if lcg(&mut st) < density {
            w[k] = lcg(&mut st) * 3.0 - 0.5;
            d[k] = dmin + (lcg(&mut st) * (dmax - dmin + 1) as f64) as usize;
        }
    }
    if self_loops {
        for i in (0..n).step_by(2) {
            w[i * n + i] = 0.75;
            d[i * n + i] = 0;
        }
    }
    let horizon = dmax + 1;
    let mut blocked = CouplingEngine::new(n, nc, &w, &d, horizon);
    let one = blocked.clone();
    blocked.stage_always();
    let mut one = one;
    let mut h = History::new(horizon, nc, n);
    let mut vals = vec![0.0; nc * n];
    for s in 0..horizon as u64 {
        vals.iter_mut().for_each(|v| *v = lcg(&mut st) * 2.0 - 1.0);
        h.update(s, &vals);
    }
    let (mut a, mut b) = (vec![0.0; nc * n], vec![0.0; nc * n]);
    let mut cached = 0;
    for s in horizon as u64..horizon as u64 + 300 {
        let had = blocked.block.clone();
        blocked.compute_next(&cpl, &h, s, &mut a);
        one.compute(&cpl, &h, s, &mut b);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(
                x.to_bits(),
                y.to_bits(),
                "n {n} nc {nc} dmin {dmin} step {s}"
            );
        }
        if blocked.block_len(&cpl).is_some() && had.holds(s) {
            cached += 1;
        }
        vals.iter_mut().for_each(|v| *v = lcg(&mut st) * 2.0 - 1.0);
        h.update(s, &vals);
    }
    cached
}

#[test]
fn blocked_coupling_is_bit_identical_to_one_step() {
    let lin = Coupling::Linear {
        a: 0.0154,
        b: -0.25,
    };
    let sc = Coupling::Scaling { a: 0.01 };
    for nc in [1, 2, 4] {
        // Blocks of 8 / nc steps: all steps but the first of each come from the cache.
        let b = 8 / nc;
        for dmin in [0, 1, 3, 7, 12] {
            let cached = blocked_equals_one_step(40, nc, dmin, 0.4, false, lin);
            if dmin + 1 >= b {
                assert_eq!(
                    cached,
                    300 - 300u64.div_ceil(b as u64),
                    "nc {nc} dmin {dmin}"
                );
            }
            blocked_equals_one_step(40, nc, dmin, 0.4, false, sc);
            // Zero-delay self-connections: those rows go step by step.
            let cached = blocked_equals_one_step(40, nc, dmin, 0.4, true, lin);
            if dmin + 1 >= b {
                assert_eq!(
                    cached,
                    300 - 300u64.div_ceil(b as u64),
                    "nc {nc} dmin {dmin}"
                );
            }
        }
    }
    // Rows longer than 129 edges take NumPy's recursive pairwise split; rows of
    // fewer than 9 edges the sequential sum.
    blocked_equals_one_step(300, 2, 4, 0.9, true, lin);
    blocked_equals_one_step(50, 1, 7, 0.05, false, lin);
    // One zero-delay self-connection in short and medium rows, at every
    // position (first edge, an accumulator, the remainder): blocked along its path.
    for (n, density) in [(50, 0.1), (60, 0.25), (90, 0.6)] {
        for nc in [1, 2] {
            let b = 8 / nc;
            let cached = blocked_equals_one_step(n, nc, 7, density, true, lin);
            assert_eq!(cached, 300 - 300u64.div_ceil(b as u64), "n {n} nc {nc}");
        }
    }
    // Three coupling variables do not divide the lanes, and Difference reads the
    // target's current value: the one-step path is used.
    assert_eq!(blocked_equals_one_step(20, 3, 9, 0.5, false, lin), 0);
    assert_eq!(
        blocked_equals_one_step(20, 1, 9, 0.5, false, Coupling::difference(0.1)),
        0
    );
}

#[test]
fn two_variable_rows_sum_in_numpys_order() {
    // `row_sum2` (eight-lane groups, clamped offsets) against a plain
    // `reduceat` of the same products, for every row length up to 140 and
    // both kinds of `pre`.
    let mut st = 7u64;
    let buf: Vec<f32> = (0..4000)
        .map(|_| (lcg(&mut st) * 4.0 - 2.0) as f32)
        .collect();
    let xi = [0.3f32, -1.7];
    let mut scratch = Vec::new();
    let mut reference = Vec::new();
    for m in 0..=140usize {
        let rel: Vec<u32> = (0..m).map(|_| 2 * (lcg(&mut st) * 1990.0) as u32).collect();
        let mut w: Vec<f32> = (0..m).map(|_| (lcg(&mut st) * 3.0 - 0.5) as f32).collect();
        if m == 1 {
            // A lone product of −0 stays −0 (`reduceat` does not add it to +0).
            w[0] = -0.0;
        }
        let diff = |a: f32, b: f32| b - a;
        let lin = |_: f32, b: f32| b;
        for pre in [&diff as &dyn Fn(f32, f32) -> f32, &lin] {
            let got = row_sum2(&w, &rel, &buf, xi, &pre, &mut scratch);
            let want = reduceat_with(m, &mut reference, |q| {
                let r = rel[q] as usize;
                Lanes([w[q] * pre(xi[0], buf[r]), w[q] * pre(xi[1], buf[r + 1])])
            });
            for k in 0..2 {
                assert_eq!(got[k].to_bits(), want.0[k].to_bits(), "m {m} k {k}");
            }
        }
    }
}

#[test]
fn every_row_prefetches_once_per_line_of_steps() {
    // An edge's reads advance n_cvar values a step; a 64-byte line holds 16.
    for (nc, period) in [(1, 16), (2, 8), (3, 4), (4, 4), (6, 2), (16, 1), (40, 1)] {
        for i in 0..20 {
            let due: Vec<u64> = (0..64u64).filter(|&s| fetch_due(s, nc)(i)).collect();
            assert_eq!(due.len() as u64, 64 / period, "nc {nc} row {i}");
            assert!(due.windows(2).all(|d| d[1] - d[0] == period), "nc {nc}");
        }
    }
}

#[test]
fn staged_difference_is_bit_identical_to_one_step() {
    // Two coupling variables: on CPUs with AVX-512F `compute_next` stages the
    // delayed pairs in step planes (`staged.rs`); every step must give the
    // one-step path's bits. Delays from 0 (copied step by step) through the
    // staging threshold (15) and beyond, zero-delay self-connections, rows of
    // 0 to ~270 edges (the longest take the recursive split), several
    // history cycles.
    let dif = Coupling::difference(0.37);
    for dmin in [0, 3, 6, 7, 8, 14, 15, 16, 40] {
        for self_loops in [false, true] {
            assert_eq!(
                blocked_equals_one_step(45, 2, dmin, 0.3, self_loops, dif),
                0
            );
        }
    }
    for (n, density) in [(30, 0.05), (60, 0.25), (90, 0.6), (300, 0.9)] {
        blocked_equals_one_step(n, 2, 5, density, true, dif);
    }
    #[cfg(target_arch = "x86_64")]
    {
        let (eng, _) = setup();
        let avx512 = std::arch::is_x86_feature_detected!("avx512f");
        let mut two = CouplingEngine::new(2, 2, &[0.0, 1.0, 2.0, 0.0], &[0, 0, 2, 0], 3);
        assert!(two.staged.is_none(), "two edges are below STAGED_MIN_EDGES");
        two.stage_always();
        assert_eq!(two.staged.is_some(), avx512);
        // A dense 60-region network (3,600 edges) is staged by default, with
        // two coupling variables only.
        let (w, d) = (vec![0.5; 3600], vec![3; 3600]);
        assert_eq!(
            CouplingEngine::new(60, 2, &w, &d, 4).staged.is_some(),
            avx512
        );
        assert!(CouplingEngine::new(60, 1, &w, &d, 4).staged.is_none());
        assert!(
            eng.staged.is_none(),
            "one coupling variable is never staged"
        );
    }
}

#[test]
fn staged_difference_restages_after_a_skipped_step() {
    // Steps asked for out of sequence (a skipped or repeated step) stage a
    // new block from the history instead of using the planes.
    let n = 12;
    let (horizon, mut st) = (30usize, 99u64);
    let mut w = vec![0.0; n * n];
    let mut d = vec![0; n * n];
    for k in 0..n * n {
        if lcg(&mut st) < 0.5 {
            w[k] = lcg(&mut st) - 0.3;
            d[k] = (lcg(&mut st) * horizon as f64) as usize % horizon;
        }
    }
    let mut staged = CouplingEngine::new(n, 2, &w, &d, horizon);
    let mut one = staged.clone();
    staged.stage_always();
    let mut h = History::new(horizon, 2, n);
    let mut vals = vec![0.0; 2 * n];
    let (mut a, mut b) = (vec![0.0; 2 * n], vec![0.0; 2 * n]);
    let dif = Coupling::difference(1.0);
    for s in 0..200u64 {
        vals.iter_mut().for_each(|v| *v = lcg(&mut st) * 2.0 - 1.0);
        h.update(s, &vals);
        if s < horizon as u64 || s % 13 == 5 {
            continue;
        }
        for _ in 0..1 + (s % 17 == 0) as usize {
            staged.compute_next(&dif, &h, s + 1, &mut a);
            one.compute(&dif, &h, s + 1, &mut b);
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(x.to_bits(), y.to_bits(), "step {}", s + 1);
            }
        }
    }
}

#[test]
fn staged_difference_on_the_192_region_connectome() {
    // The connectome of the Epileptor 192 benchmark (tvb-data, fetched by
    // scripts/fetch-tvb-data): its own row lengths, zero-length
    // self-connections and delays at 4 mm/ms, dt 0.05 ms; 400 steps of the
    // default (staged, on AVX-512) path against the one-step path.
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tvb-data/connectivity_192.zip");
    let conn = crate::Connectome::from_zip(&path).expect("tvb-data connectome");
    let n = conn.n_regions();
    let d: Vec<usize> = conn
        .tract_lengths()
        .iter()
        .map(|&l| (l / (4.0 * 0.05)).round() as usize)
        .collect();
    let horizon = d.iter().max().unwrap() + 1;
    let mut staged = CouplingEngine::new(n, 2, conn.weights(), &d, horizon);
    let mut one = staged.clone();
    #[cfg(target_arch = "x86_64")]
    assert_eq!(
        staged.staged.is_some(),
        std::arch::is_x86_feature_detected!("avx512f")
    );
    let mut h = History::new(horizon, 2, n);
    let mut st = 5u64;
    let mut vals = vec![0.0; 2 * n];
    let (mut a, mut b) = (vec![0.0; 2 * n], vec![0.0; 2 * n]);
    let dif = Coupling::difference(1.0);
    for s in 0..horizon as u64 + 400 {
        vals.iter_mut().for_each(|v| *v = lcg(&mut st) * 4.0 - 2.0);
        h.update(s, &vals);
        if s + 1 >= horizon as u64 {
            staged.compute_next(&dif, &h, s + 1, &mut a);
            one.compute(&dif, &h, s + 1, &mut b);
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(x.to_bits(), y.to_bits(), "step {}", s + 1);
            }
        }
    }
}
