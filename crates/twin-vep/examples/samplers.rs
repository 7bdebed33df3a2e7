//! NUTS against static HMC on one synthetic patient: ESS per second.
//!
//! ```text
//! cargo run -p twin-vep --example samplers -- REGIONS CHAINS WARMUP DRAWS
//! ```
//!
//! REGIONS is 76 or 192 (tvb-data connectome under
//! crates/twin-brain/tests/data/tvb-data) or a toy size otherwise.

use twin_brain::Connectome;
use twin_vep::fit::{laplace, map, problem, FitSettings};
use twin_vep::hmc::{sample, HmcSettings, Sampler};
use twin_vep::patient::{default_truth_dir, synthesize, toy_connectome, Patient, SyntheticSpec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<usize> = std::env::args()
        .skip(1)
        .map(|s| s.parse())
        .collect::<Result<_, _>>()?;
    let [regions, chains, warmup, draws] = a[..] else {
        return Err("usage: samplers REGIONS CHAINS WARMUP DRAWS".into());
    };
    let conn = if regions == 76 || regions == 192 {
        Connectome::from_path(format!(
            "crates/twin-brain/tests/data/tvb-data/connectivity_{regions}.zip"
        ))?
    } else {
        toy_connectome(regions, 3)
    };
    let tmp = std::env::temp_dir().join(format!("twin-vep-samplers-{}", std::process::id()));
    let spec = SyntheticSpec {
        seed: 1002,
        n_ez: 2,
        ez_own_centre: true,
        ..Default::default()
    };
    synthesize(&conn, &spec)?.write(&tmp, &default_truth_dir(&tmp))?;
    let pat = Patient::load(&tmp)?;
    let s = FitSettings::default();
    let (p, feats) = problem(&pat, &s)?;
    let lap = laplace(&p, &map(&p, &feats, &s).x);
    println!("| sampler | chains × draws | sampling [s] | leapfrog steps | min ESS | median ESS | min ESS / s | max R-hat | accept | divergences |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for sampler in [Sampler::Static, Sampler::Nuts] {
        let hs = HmcSettings {
            sampler,
            chains,
            warmup,
            draws,
            ..Default::default()
        };
        let t0 = std::time::Instant::now();
        let (_, d) = sample(&p, &lap, &hs);
        let secs = t0.elapsed().as_secs_f64();
        let mut ess = d.ess.clone();
        ess.sort_by(f64::total_cmp);
        println!(
            "| {sampler:?} | {chains} × {draws} | {secs:.1} | {} | {:.0} | {:.0} | {:.2} | {:.3} | {:.2} | {} |",
            d.leapfrogs,
            d.min_ess,
            ess[ess.len() / 2],
            d.min_ess / secs,
            d.max_rhat,
            d.accept,
            d.divergences,
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);
    let _ = std::fs::remove_dir_all(default_truth_dir(&tmp));
    Ok(())
}
