//! MAP + Laplace against NUTS on the first patients of one study condition
//! (the same synthetic patients as `validation/vep/run.sh`):
//!
//! ```text
//! cargo run -p twin-vep --example nuts_vs_map -- CONDITION PATIENTS CHAINS WARMUP DRAWS [OUT.json [TARGET_ACCEPT [dense|diag [power|onset]]]]
//! ```
//!
//! PATIENTS is a count N (the first N) or a range A..B (0-based).
//! CONDITION is a study condition name (e.g. `76, moderate noise`) or `toy:N`
//! for patients of that condition's settings on an N-region toy connectome.
//! Prints one Markdown row per patient (EZ by each method, fit seconds, max
//! R-hat, min ESS, divergences) and writes the rows as JSON to OUT.json.

use twin_brain::Connectome;
use twin_vep::fit::{fit_hmc, fit_laplace, FitSettings};
use twin_vep::hmc::{HmcSettings, Metric};
use twin_vep::onset::Likelihood;
use twin_vep::patient::{default_truth_dir, synthesize, toy_connectome, Patient};
use twin_vep::study::{default_conditions, patient_spec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() < 5 {
        return Err("usage: nuts_vs_map CONDITION PATIENTS CHAINS WARMUP DRAWS [OUT.json]".into());
    }
    let num = |i: usize| -> Result<usize, String> {
        a[i].parse()
            .map_err(|_| format!("`{}` is not a count", a[i]))
    };
    // PATIENTS is a count N (patients 0..N) or a range A..B.
    let (first, patients) = match a[1].split_once("..") {
        Some((x, y)) => (x.parse::<usize>()?, y.parse::<usize>()?),
        None => (0, num(1)?),
    };
    let (chains, warmup, draws) = (num(2)?, num(3)?, num(4)?);
    let (cond_name, toy) = match a[0].strip_prefix("toy:") {
        Some(n) => ("76, moderate noise", Some(n.parse::<usize>()?)),
        None => (a[0].as_str(), None),
    };
    let cond = default_conditions(1)
        .into_iter()
        .find(|c| c.name == cond_name)
        .ok_or(format!("no study condition `{cond_name}`"))?;
    let conn = match toy {
        Some(n) => toy_connectome(n, 3),
        None => Connectome::from_path(format!(
            "crates/twin-brain/tests/data/tvb-data/connectivity_{}.zip",
            cond.regions
        ))?,
    };
    let tmp = std::env::temp_dir().join(format!("twin-vep-nuts-{}", std::process::id()));
    let target_accept: f64 = a.get(6).map_or(Ok(0.95), |v| v.parse())?;
    let metric = match a.get(7).map(String::as_str) {
        Some("dense") => Metric::Dense,
        None | Some("diag") => Metric::Diagonal,
        Some(o) => return Err(format!("metric `{o}`: expected dense or diag").into()),
    };
    let likelihood = match a.get(8).map(String::as_str) {
        None | Some("power") => Likelihood::Power,
        Some("onset") => Likelihood::Onset,
        Some(o) => return Err(format!("likelihood `{o}`: expected power or onset").into()),
    };
    let hs = HmcSettings {
        chains,
        warmup,
        draws,
        target_accept,
        metric,
        ..Default::default()
    };
    println!("| seed | true EZ | MAP EZ | MAP [s] | NUTS EZ | NUTS [s] | max R-hat | min ESS | leapfrogs | divergences |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for p in first..patients {
        let mut spec = patient_spec(&cond, p, None);
        if toy.is_some() {
            spec.n_shafts = spec.n_shafts.min(6);
            spec.duration_s = 24.0;
        }
        let dir = tmp.join(format!("s{}", spec.seed));
        let syn = synthesize(&conn, &spec)?;
        syn.write(&dir, &default_truth_dir(&dir))?;
        let pat = Patient::load(&dir)?;
        let s = FitSettings {
            likelihood,
            ..Default::default()
        };
        let (map, _) = fit_laplace(&pat, &s)?;
        let (nuts, _) = fit_hmc(&pat, &s, &hs)?;
        let d = nuts
            .diagnostics
            .clone()
            .ok_or("NUTS fit without diagnostics")?;
        println!(
            "| {} | {:?} | {:?} | {:.1} | {:?} | {:.1} | {:.3} | {:.0} | {} | {} |",
            spec.seed,
            syn.truth.ez,
            map.ez(),
            map.seconds,
            nuts.ez(),
            nuts.seconds,
            d.max_rhat,
            d.min_ess,
            d.leapfrogs,
            d.divergences
        );
        rows.push(serde_json::json!({
            "seed": spec.seed, "ez_true": syn.truth.ez, "ez_map": map.ez(), "map_s": map.seconds,
            "ez_nuts": nuts.ez(), "nuts_s": nuts.seconds, "max_rhat": d.max_rhat,
            "min_ess": d.min_ess, "leapfrogs": d.leapfrogs, "divergences": d.divergences,
            "divergences_warmup": d.divergence_sites.iter().filter(|s| s.warmup).count(),
            "divergences_overflow": d.divergence_sites.iter().filter(|s| !s.finite).count(),
            "accept": d.accept, "step_size": d.step_size,
        }));
    }
    if let Some(out) = a.get(5) {
        let v = serde_json::json!({
            "condition": a[0], "chains": chains, "warmup": warmup, "draws": draws, "patients": rows,
            "target_accept": target_accept, "metric": format!("{metric:?}"),
            "likelihood": format!("{likelihood:?}"),
        });
        std::fs::write(out, serde_json::to_string_pretty(&v)?)?;
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}
