//! Which parameters form a slow-mixing ridge of the VEP posterior: the
//! Laplace covariance at the MAP against the draws of NUTS chains.
//!
//! ```text
//! cargo run --release -p twin-vep --example nuts_ridge -- PATIENT CHAINS WARMUP DRAWS [K_LOG_SD [TARGET [OUT.json]]]
//! ```
//!
//! PATIENT is the 0-based index of a toy patient (20 regions, the settings of
//! `76, moderate noise`, as `nuts_vs_map toy:20`); the fit uses the onset
//! likelihood. Prints the Laplace correlations of the EZ regions and ln K,
//! the loosest Laplace direction, then for the parameters with the largest
//! split R-hat their per-chain means and the draws' correlations.
//! CHAINS = 0 skips sampling. With `PROFILE=K1,K2,…` in the environment it
//! first prints the profile of the posterior along K: for each K, the
//! minimum over x0 with K held (an L-BFGS warm-started at the MAP, K's
//! prior sd shrunk to 10⁻³), its −ln posterior above the MAP's under the
//! original prior, and the x0 of the true EZ regions, beside their
//! effective excitability `φ_i = x0_i + (K/4) s_i`, `s_i = Σ_j C_ij (x̄_j − x̄_i)`
//! with `x̄` the MAP trajectory's mean over its first tenth (the coupling
//! moves the z-nullcline as a shift of x0 would, `model.rs`).

use twin_vep::fit::{laplace, map, problem, FitSettings};
use twin_vep::hmc::{sample, HmcSettings};
use twin_vep::onset::Likelihood;
use twin_vep::optim::lbfgs;
use twin_vep::patient::{default_truth_dir, synthesize, toy_connectome, Patient};
use twin_vep::study::{default_conditions, patient_spec};

fn corr(cov: &[f64], d: usize, i: usize, j: usize) -> f64 {
    cov[i * d + j] / (cov[i * d + i] * cov[j * d + j]).sqrt()
}

fn name(i: usize, d: usize) -> String {
    if i + 1 == d {
        "lnK".into()
    } else {
        format!("x0[{i}]")
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() < 4 {
        return Err(
            "usage: nuts_ridge PATIENT CHAINS WARMUP DRAWS [K_LOG_SD [TARGET [OUT]]]".into(),
        );
    }
    let num = |i: usize| a[i].parse::<usize>();
    let (patient, chains, warmup, draws) = (num(0)?, num(1)?, num(2)?, num(3)?);
    let mut s = FitSettings {
        likelihood: Likelihood::Onset,
        ..Default::default()
    };
    if let Some(v) = a.get(4) {
        s.k_log_sd = v.parse()?;
    }
    let target_accept = a.get(5).map_or(Ok(0.95), |v| v.parse())?;
    let cond = default_conditions(1)
        .into_iter()
        .find(|c| c.name == "76, moderate noise")
        .ok_or("no study condition")?;
    let conn = toy_connectome(20, 3);
    let mut spec = patient_spec(&cond, patient, None);
    spec.n_shafts = spec.n_shafts.min(6);
    spec.duration_s = 24.0;
    let dir = std::env::temp_dir().join(format!("twin-vep-ridge-{}", std::process::id()));
    let syn = synthesize(&conn, &spec)?;
    syn.write(&dir, &default_truth_dir(&dir))?;
    let pat = Patient::load(&dir)?;
    let (p, feats) = problem(&pat, &s)?;
    let m = map(&p, &feats, &s);
    let lap = laplace(&p, &m.x);
    let d = lap.mean.len();
    let mut cov = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            cov[i * d + j] = (0..d)
                .map(|k| lap.factor[i * d + k] * lap.factor[j * d + k])
                .sum();
        }
    }
    println!(
        "seed {} true EZ {:?} true K {:.3}; k_log_sd {}",
        spec.seed, syn.truth.ez, syn.truth.k, s.k_log_sd
    );
    println!(
        "MAP: K {:.3}, x0 of the true EZ {:?}",
        m.x[d - 1].exp(),
        syn.truth
            .ez
            .iter()
            .map(|&i| (m.x[i] * 1e3).round() / 1e3)
            .collect::<Vec<_>>()
    );
    let mut pairs: Vec<(f64, usize, usize)> = (0..d)
        .flat_map(|i| (0..i).map(move |j| (i, j)))
        .map(|(i, j)| (corr(&cov, d, i, j), i, j))
        .collect();
    pairs.sort_by(|x, y| y.0.abs().total_cmp(&x.0.abs()));
    println!("Laplace: strongest correlations");
    for (c, i, j) in pairs.iter().take(8) {
        println!("  {} ~ {}: {c:+.3}", name(*i, d), name(*j, d));
    }
    // The loosest direction: the factor column of largest norm.
    let col = (0..d)
        .max_by(|&x, &y| {
            let n = |k: usize| (0..d).map(|i| lap.factor[i * d + k].powi(2)).sum::<f64>();
            n(x).total_cmp(&n(y))
        })
        .unwrap_or(0);
    let mut dir_v: Vec<(f64, usize)> = (0..d).map(|i| (lap.factor[i * d + col], i)).collect();
    dir_v.sort_by(|x, y| y.0.abs().total_cmp(&x.0.abs()));
    let top: Vec<String> = dir_v
        .iter()
        .take(5)
        .map(|(v, i)| format!("{}:{v:+.3}", name(*i, d)))
        .collect();
    println!("Laplace loosest direction (sd units): {}", top.join(" "));
    println!(
        "Laplace sd: {}",
        (0..d)
            .map(|i| format!("{}={:.3}", name(i, d), lap.sd[i]))
            .collect::<Vec<_>>()
            .join(" ")
    );
    if let Ok(ks) = std::env::var("PROFILE") {
        let tr = p.trajectory(&m.x);
        let early = (tr.len() / 10).max(1);
        let n = d - 1;
        let xbar: Vec<f64> = (0..n)
            .map(|i| (0..early).map(|t| tr.x_at(t)[i]).sum::<f64>() / early as f64)
            .collect();
        let shift: Vec<f64> = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| p.net.c[i * n + j] * (xbar[j] - xbar[i]))
                    .sum::<f64>()
            })
            .collect();
        println!(
            "profile along K: K, U - U_MAP [nats], x0 (φ) of the true EZ, largest other x0 move"
        );
        for k in ks.split(',') {
            let k: f64 = k.trim().parse()?;
            let mut held = p.clone();
            held.k_prior = k;
            held.k_log_sd = 1e-3;
            let mut start = m.x.clone();
            start[d - 1] = k.ln();
            let mut f = |th: &[f64]| held.value_grad(th);
            let r = lbfgs(&mut f, &start, 10, 300, 1e-5);
            let ez: Vec<String> = syn
                .truth
                .ez
                .iter()
                .map(|&i| format!("{:.3} ({:.3})", r.x[i], r.x[i] + k / 4.0 * shift[i]))
                .collect();
            let other = (0..d - 1)
                .filter(|i| !syn.truth.ez.contains(i))
                .max_by(|&x, &y| (r.x[x] - m.x[x]).abs().total_cmp(&(r.x[y] - m.x[y]).abs()))
                .unwrap_or(0);
            println!(
                "  K {k:.2} (held {:.3}): {:+.2}; EZ x0 {}; x0[{other}] {:+.3}",
                r.x[d - 1].exp(),
                p.value(&r.x) - m.value,
                ez.join(" "),
                r.x[other] - m.x[other]
            );
        }
    }
    if chains == 0 {
        return Ok(());
    }
    let hs = HmcSettings {
        chains,
        warmup,
        draws,
        target_accept,
        ..Default::default()
    };
    let t0 = std::time::Instant::now();
    let (all, diag) = sample(&p, &lap, &hs);
    println!(
        "NUTS {chains}x({warmup}+{draws}): max R-hat {:.3}, min ESS {:.0}, divergences {}, leapfrogs {}, step {:.3}, accept {:.3}, {:.0} s",
        diag.max_rhat,
        diag.min_ess,
        diag.divergences,
        diag.leapfrogs,
        diag.step_size,
        diag.accept,
        t0.elapsed().as_secs_f64()
    );
    let mut worst: Vec<usize> = (0..d).collect();
    worst.sort_by(|&x, &y| diag.rhat[y].total_cmp(&diag.rhat[x]));
    let show: Vec<usize> = worst.iter().take(5).copied().collect();
    for &j in &show {
        let means: Vec<String> = (0..chains)
            .map(|c| {
                let ch = &all[c * draws..(c + 1) * draws];
                format!("{:.3}", ch.iter().map(|t| t[j]).sum::<f64>() / draws as f64)
            })
            .collect();
        println!(
            "  {}: R-hat {:.3} ESS {:.0}, MAP {:.3}, chain means {}",
            name(j, d),
            diag.rhat[j],
            diag.ess[j],
            m.x[j],
            means.join(" ")
        );
    }
    let n = all.len() as f64;
    let mean: Vec<f64> = (0..d)
        .map(|j| all.iter().map(|t| t[j]).sum::<f64>() / n)
        .collect();
    let dcov = |i: usize, j: usize| {
        all.iter()
            .map(|t| (t[i] - mean[i]) * (t[j] - mean[j]))
            .sum::<f64>()
            / (n - 1.0)
    };
    let mut dpairs: Vec<(f64, usize, usize)> = (0..d)
        .flat_map(|i| (0..i).map(move |j| (i, j)))
        .map(|(i, j)| (dcov(i, j) / (dcov(i, i) * dcov(j, j)).sqrt(), i, j))
        .collect();
    dpairs.sort_by(|x, y| y.0.abs().total_cmp(&x.0.abs()));
    println!("draws: strongest correlations");
    for (c, i, j) in dpairs.iter().take(8) {
        println!(
            "  {} ~ {}: {c:+.3} (sd {:.3}, {:.3}; Laplace sd {:.3}, {:.3})",
            name(*i, d),
            name(*j, d),
            dcov(*i, *i).sqrt(),
            dcov(*j, *j).sqrt(),
            lap.sd[*i],
            lap.sd[*j]
        );
    }
    if let Some(out) = a.get(6) {
        let v = serde_json::json!({
            "seed": spec.seed, "ez_true": syn.truth.ez, "k_log_sd": s.k_log_sd,
            "chains": chains, "warmup": warmup, "draws": draws, "target_accept": target_accept,
            "max_rhat": diag.max_rhat, "min_ess": diag.min_ess, "rhat": diag.rhat, "ess": diag.ess,
            "divergences": diag.divergences, "leapfrogs": diag.leapfrogs,
            "step_size": diag.step_size, "accept": diag.accept,
        });
        std::fs::write(out, serde_json::to_string_pretty(&v)?)?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
