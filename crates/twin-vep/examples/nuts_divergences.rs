//! Where NUTS diverges on one study patient (20-region toy connectome):
//!
//! ```text
//! cargo run -p twin-vep --example nuts_divergences -- PATIENT CHAINS WARMUP DRAWS TARGET_ACCEPT [dense|diag [power|onset]]
//! ```
//!
//! Prints, per divergent transition, the energy error, whether the simulation
//! overflowed, the parameters that moved most (whitened units) and their
//! values at the start and at the divergent step.

use twin_vep::fit::{laplace, map, problem, FitSettings};
use twin_vep::hmc::{sample, HmcSettings, Metric};
use twin_vep::onset::Likelihood;
use twin_vep::patient::{default_truth_dir, synthesize, toy_connectome, Patient};
use twin_vep::study::{default_conditions, patient_spec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() < 5 {
        return Err("usage: nuts_divergences PATIENT CHAINS WARMUP DRAWS TARGET_ACCEPT".into());
    }
    let (pi, chains, warmup, draws): (usize, usize, usize, usize) =
        (a[0].parse()?, a[1].parse()?, a[2].parse()?, a[3].parse()?);
    let target_accept: f64 = a[4].parse()?;
    let cond = default_conditions(1)
        .into_iter()
        .find(|c| c.name == "76, moderate noise")
        .ok_or("no condition")?;
    let conn = toy_connectome(20, 3);
    let mut spec = patient_spec(&cond, pi, None);
    spec.n_shafts = spec.n_shafts.min(6);
    spec.duration_s = 24.0;
    let tmp = std::env::temp_dir().join(format!("twin-vep-div-{}", std::process::id()));
    let dir = tmp.join("p");
    let syn = synthesize(&conn, &spec)?;
    syn.write(&dir, &default_truth_dir(&dir))?;
    let pat = Patient::load(&dir)?;
    let likelihood = match a.get(6).map(String::as_str) {
        None | Some("power") => Likelihood::Power,
        Some("onset") => Likelihood::Onset,
        Some(o) => return Err(format!("likelihood `{o}`: expected power or onset").into()),
    };
    let s = FitSettings {
        likelihood,
        ..Default::default()
    };
    let (p, feats) = problem(&pat, &s)?;
    let m = map(&p, &feats, &s);
    let lap = laplace(&p, &m.x);
    println!(
        "seed {} truth EZ {:?} x0 {:?} K {}",
        spec.seed, syn.truth.ez, syn.truth.x0, syn.truth.k
    );
    println!(
        "MAP {:?}",
        m.x.iter().map(|v| format!("{v:.3}")).collect::<Vec<_>>()
    );
    println!(
        "Laplace sd {:?}",
        lap.sd.iter().map(|v| format!("{v:.3}")).collect::<Vec<_>>()
    );
    // The shape of U along each region's x0, the others at the MAP.
    for i in (0..p.net.n).filter(|_| std::env::var_os("SCAN").is_some()) {
        let mut row = Vec::new();
        for dir in [1.0f64, -1.0] {
            let mut found = [f64::NAN; 3];
            for k in 1..=150 {
                let mut th = m.x.clone();
                th[i] += dir * 0.005 * k as f64;
                let prior = 0.5 * ((th[i] - p.prior_mu[i]) / p.prior_sd[i]).powi(2)
                    - 0.5 * ((m.x[i] - p.prior_mu[i]) / p.prior_sd[i]).powi(2);
                let du = p.value(&th) - m.value - prior;
                for (f, lim) in found.iter_mut().zip([10.0, 100.0, 1000.0]) {
                    if f.is_nan() && du > lim {
                        *f = th[i];
                    }
                }
            }
            row.push(format!(
                "{}: {:?}",
                if dir > 0.0 { "up" } else { "down" },
                found.map(|v| (v * 1000.0).round() / 1000.0)
            ));
        }
        println!(
            "region {i:>2} MAP {:.3}: ΔU_lik > 10/100/1000 at {}",
            m.x[i],
            row.join("  ")
        );
    }
    if std::env::var_os("SCAN").is_some() {
        return Ok(());
    }
    let metric = match a.get(5).map(String::as_str) {
        Some("diag") => Metric::Diagonal,
        _ => Metric::Dense,
    };
    let hs = HmcSettings {
        chains,
        warmup,
        draws,
        target_accept,
        metric,
        ..Default::default()
    };
    let t0 = std::time::Instant::now();
    let (_, d) = sample(&p, &lap, &hs);
    println!(
        "{:.1} s: max R-hat {:.3}, min ESS {:.0}, accept {:.2}, step {:.3}, leapfrogs {}, divergences (kept) {}, sites (all) {}",
        t0.elapsed().as_secs_f64(), d.max_rhat, d.min_ess, d.accept, d.step_size, d.leapfrogs, d.divergences, d.divergence_sites.len()
    );
    let n = p.net.n;
    for site in &d.divergence_sites {
        let mut moved: Vec<usize> = (0..=n).collect();
        let dist = |k: usize| (site.at[k] - site.from[k]).abs() / lap.sd[k];
        moved.sort_by(|x, y| dist(*y).total_cmp(&dist(*x)));
        let top: Vec<String> = moved[..3]
            .iter()
            .map(|&k| format!("θ{k}: {:.3}→{:.3}", site.from[k], site.at[k]))
            .collect();
        let over: Vec<usize> = (0..n).filter(|&k| site.at[k] > -2.05).collect();
        println!(
            "chain {} it {:>4}{} ΔH {:>9.1} finite {} |u| {:.2}→{:.2} K {:.2}→{:.2} x0>crit at {:?} | {}",
            site.chain,
            site.iteration,
            if site.warmup { "w" } else { " " },
            site.energy_error,
            site.finite,
            site.from_whitened.iter().map(|v| v * v).sum::<f64>().sqrt(),
            site.at_whitened.iter().map(|v| v * v).sum::<f64>().sqrt(),
            site.from[n].exp(),
            site.at[n].exp(),
            over,
            top.join(", ")
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}
