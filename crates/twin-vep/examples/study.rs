//! The EZ-recovery accuracy study (`validation/vep/run.sh`), the same library
//! call as `twin brain vep study` without building the whole CLI:
//!
//! ```text
//! cargo run -p twin-vep --example study -- --out DIR [--tvb-data DIR] [--only 'A;B'] [--work DIR]
//!   [--patients FIRST..END]   (only patients FIRST..END of each condition, same seeds)
//!   [--likelihood power|onset] (the MAP fits' observation model; default power)
//! ```
//!
//! Writes `results.json` (per patient) and `results.md` (per condition) to `--out`.

use std::path::PathBuf;

use twin_vep::{io::write_json, study};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut tvb = PathBuf::from("crates/twin-brain/tests/data/tvb-data");
    let (mut out, mut work, mut only) = (None, None, Vec::<String>::new());
    let mut range: Option<(usize, usize)> = None;
    let mut likelihood = twin_vep::onset::Likelihood::Power;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--tvb-data" => tvb = PathBuf::from(val()?),
            "--out" => out = Some(PathBuf::from(val()?)),
            "--work" => work = Some(PathBuf::from(val()?)),
            "--only" => only = val()?.split(';').map(str::to_string).collect(),
            "--patients" => {
                let (a, b) = val()?
                    .split_once("..")
                    .map(|(a, b)| (a.parse::<usize>(), b.parse::<usize>()))
                    .ok_or("--patients takes FIRST..END")?;
                range = Some((a?, b?));
            }
            "--likelihood" => {
                likelihood = match val()?.as_str() {
                    "power" => twin_vep::onset::Likelihood::Power,
                    "onset" => twin_vep::onset::Likelihood::Onset,
                    o => return Err(format!("--likelihood `{o}`: expected power or onset").into()),
                }
            }
            _ => return Err(format!("unknown argument `{a}`").into()),
        }
    }
    let out = out.ok_or("--out DIR is required")?;
    let mut conds = study::default_conditions(1);
    for c in &mut conds {
        c.likelihood = likelihood;
    }
    if let Some((first, end)) = range {
        for c in &mut conds {
            c.first_patient = first;
            c.patients = end;
        }
    }
    if !only.is_empty() {
        conds.retain(|c| only.iter().any(|o| c.name.contains(o.as_str())));
        if conds.is_empty() {
            return Err(format!("--only {only:?} matches no condition").into());
        }
    }
    let tmp = std::env::temp_dir().join(format!("twin-vep-study-{}", std::process::id()));
    let work_dir = work.clone().unwrap_or_else(|| tmp.clone());
    let t0 = std::time::Instant::now();
    let (sum, cases) = study::StudyData::with_folder(&tvb, |data| {
        study::run(&conds, data, &work_dir, &mut |c| {
            println!(
                "{:<24} seed {:>5}: true EZ {:?}, fitted EZ {:?} ({:.1} s)",
                c.condition, c.seed, c.ez_true, c.ez_fit, c.seconds
            );
        })
    })?;
    std::fs::create_dir_all(&out)?;
    write_json(
        &out.join("results.json"),
        &serde_json::json!({ "summary": sum, "cases": cases, "seconds": t0.elapsed().as_secs_f64() }),
    )?;
    let md = study::markdown(&sum);
    std::fs::write(out.join("results.md"), &md)?;
    print!("{md}");
    if work.is_none() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    Ok(())
}
