//! End-to-end tests of the VEP workflow on small synthetic patients.

use std::path::Path;

use twin_vep::fit::{fit_hmc, fit_laplace, FitSettings};
use twin_vep::hmc::{HmcSettings, Sampler};
use twin_vep::onset::Likelihood;
use twin_vep::patient::{
    default_truth_dir, synthesize, toy_connectome, Patient, Synthetic, SyntheticSpec,
};
use twin_vep::predict::{recruitment, Intervention};

fn small_patient(dir: &Path, seed: u64) -> Synthetic {
    let conn = toy_connectome(12, 3);
    let spec = SyntheticSpec {
        seed,
        n_ez: 2,
        n_pz: 2,
        n_shafts: 6,
        contacts_per_shaft: 8,
        duration_s: 24.0,
        ..Default::default()
    };
    let syn = synthesize(&conn, &spec).unwrap();
    syn.write(dir, &default_truth_dir(dir)).unwrap();
    syn
}

fn sorted(mut v: Vec<usize>) -> Vec<usize> {
    v.sort();
    v
}

#[test]
fn two_region_ez_is_recovered_by_map_and_laplace() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("p");
    let syn = small_patient(&dir, 5);
    assert_eq!(syn.truth.ez.len(), 2);
    let pat = Patient::load(&dir).unwrap();
    let (fit, _) = fit_laplace(&pat, &FitSettings::default()).unwrap();
    assert_eq!(sorted(fit.ez()), syn.truth.ez, "{:#?}", fit.regions);
    for r in &fit.regions {
        assert!(r.q05 <= r.mean && r.mean <= r.q95);
    }
}

fn recovered_by_sampler(sampler: Sampler) -> twin_vep::fit::Diagnostics {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("p");
    let syn = small_patient(&dir, 5);
    let pat = Patient::load(&dir).unwrap();
    let hs = HmcSettings {
        sampler,
        chains: 2,
        warmup: 150,
        draws: 80,
        ..Default::default()
    };
    let (fit, draws) = fit_hmc(&pat, &FitSettings::default(), &hs).unwrap();
    assert_eq!(draws.len(), 160);
    assert_eq!(sorted(fit.ez()), syn.truth.ez);
    let d = fit.diagnostics.unwrap();
    assert_eq!(d.sampler, sampler);
    assert!(d.max_rhat < 1.1, "{sampler:?}: R-hat {}", d.max_rhat);
    assert!(d.min_ess > 10.0, "{sampler:?}: ESS {}", d.min_ess);
    assert!(d.accept > 0.3, "{sampler:?}: acceptance {}", d.accept);
    d
}

#[test]
fn two_region_ez_is_recovered_by_static_hmc_with_converged_chains() {
    recovered_by_sampler(Sampler::Static);
}

#[test]
fn two_region_ez_is_recovered_by_nuts_with_converged_chains() {
    let d = recovered_by_sampler(Sampler::Nuts);
    eprintln!("{d:?}");
    // Adapted to the target acceptance (0.95), with at most 2.5 % divergent
    // draws. Divergences here are seizure cliffs of the likelihood (a region
    // pushed past its bifurcation), never overflowing simulations; trajectories
    // stop on a U-turn well before the depth cap (255 steps).
    assert!(d.accept > 0.85, "acceptance {}", d.accept);
    assert!(d.divergences <= 4, "{} divergences", d.divergences);
    assert!(d.divergence_sites.iter().all(|s| s.finite));
    assert_eq!(
        d.divergence_sites.iter().filter(|s| !s.warmup).count(),
        d.divergences
    );
    let per_draw = d.leapfrogs as f64 / 160.0;
    assert!(
        (1.0..100.0).contains(&per_draw),
        "{per_draw} leapfrog steps per draw"
    );
    assert!(d.min_ess > 40.0, "ESS {}", d.min_ess);
}

/// The censored onset likelihood (`twin_vep::onset`) removes the 10³–10⁶-nat
/// seizure cliffs of the window-by-window one: NUTS on it converges (R-hat
/// < 1.05 over 4 chains) with at most 1 % divergent draws, and MAP and NUTS
/// on it recover the 2-region EZ.
#[test]
fn nuts_on_the_onset_likelihood_converges_and_recovers_a_two_region_ez() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("p");
    let syn = small_patient(&dir, 5);
    let pat = Patient::load(&dir).unwrap();
    let s = FitSettings {
        likelihood: Likelihood::Onset,
        ..Default::default()
    };
    let (map, _) = fit_laplace(&pat, &s).unwrap();
    assert_eq!(sorted(map.ez()), syn.truth.ez, "MAP: {:#?}", map.regions);
    let hs = HmcSettings {
        chains: 4,
        warmup: 150,
        draws: 100,
        ..Default::default()
    };
    let (fit, draws) = fit_hmc(&pat, &s, &hs).unwrap();
    assert_eq!(draws.len(), 400);
    assert_eq!(sorted(fit.ez()), syn.truth.ez, "NUTS: {:#?}", fit.regions);
    let d = fit.diagnostics.unwrap();
    eprintln!(
        "R-hat {:.3}, ESS {:.0}, divergences {}, leapfrogs {}",
        d.max_rhat, d.min_ess, d.divergences, d.leapfrogs
    );
    assert!(d.max_rhat < 1.05, "R-hat {}", d.max_rhat);
    assert!(d.min_ess > 100.0, "ESS {}", d.min_ess);
    assert!(d.divergences <= 4, "{} divergent of 400", d.divergences);
    // The EZ regions are pinned by their onsets; P(EZ) is decisive.
    for &r in &syn.truth.ez {
        assert!(fit.regions[r].p_ez > 0.9, "{:?}", fit.regions[r]);
    }
}

#[test]
fn resecting_the_true_ez_stops_recruitment_and_a_healthy_region_does_not() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("p");
    let syn = small_patient(&dir, 5);
    let pat = Patient::load(&dir).unwrap();
    let net = pat.network();
    let t = &syn.truth;
    let steps = 1200;
    let model = &pat.meta.model;
    let none = recruitment(model, &net, &t.x0, t.k, steps, &Intervention::default());
    let mut seized = none.seized();
    assert!(t.ez.iter().all(|e| seized.contains(e)));
    let ez = Intervention {
        name: "EZ".into(),
        resect: t.ez.clone(),
        ..Default::default()
    };
    assert!(recruitment(model, &net, &t.x0, t.k, steps, &ez)
        .seized()
        .is_empty());
    let healthy = (0..t.x0.len()).find(|i| !seized.contains(i)).unwrap();
    let h = Intervention {
        name: "healthy".into(),
        resect: vec![healthy],
        ..Default::default()
    };
    let after = recruitment(model, &net, &t.x0, t.k, steps, &h).seized();
    seized.retain(|&r| r != healthy);
    assert!(t.ez.iter().all(|e| after.contains(e)), "{after:?}");
}

mod bad_input {
    use super::*;
    use twin_vep::io::{read_matrix_npy, write_matrix_npy};
    use twin_vep::patient::load_truth;

    fn patient() -> (tempfile::TempDir, std::path::PathBuf, Synthetic) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("p");
        let syn = small_patient(&dir, 6);
        (tmp, dir, syn)
    }

    #[test]
    fn gain_of_the_wrong_shape_names_the_file_and_shape() {
        let (_t, dir, syn) = patient();
        let m = syn.contacts.names.len();
        write_matrix_npy(&dir.join("gain.npy"), m, 11, &vec![0.1; m * 11]).unwrap();
        let e = Patient::load(&dir).unwrap_err().to_string();
        assert!(
            e.contains("gain.npy")
                && e.contains(&format!("[{m}, 11]"))
                && e.contains(&format!("[{m}, 12]")),
            "{e}"
        );
    }

    #[test]
    fn nan_in_the_recording_names_the_file_and_entry() {
        let (_t, dir, _) = patient();
        let path = dir.join("seeg.npy");
        let mut a = read_matrix_npy(&path, "seeg").unwrap();
        a.data[10 * a.cols + 3] = f64::NAN;
        write_matrix_npy(&path, a.rows, a.cols, &a.data).unwrap();
        let e = Patient::load(&dir).unwrap_err().to_string();
        assert!(
            e.contains("seeg.npy") && e.contains("[10, 3]") && e.contains("NaN"),
            "{e}"
        );
    }

    #[test]
    fn a_sensor_outside_the_head_is_named() {
        let (_t, dir, syn) = patient();
        let path = dir.join("sensors.npy");
        let mut a = read_matrix_npy(&path, "sensors").unwrap();
        a.data[2 * 3] = 400.0;
        write_matrix_npy(&path, a.rows, 3, &a.data).unwrap();
        let e = Patient::load(&dir).unwrap_err().to_string();
        let name = &syn.contacts.names[2];
        assert!(
            e.contains("sensors.npy") && e.contains("sensor 2") && e.contains(name.as_str()),
            "{e}"
        );
    }

    #[test]
    fn missing_truth_for_an_accuracy_run_names_the_path() {
        let (t, dir, _) = patient();
        let nowhere = t.path().join("no-truth");
        let e = load_truth(&nowhere, &dir).unwrap_err().to_string();
        assert!(
            e.contains("no-truth/truth.json") && e.contains("no ground truth"),
            "{e}"
        );
        assert!(load_truth(&default_truth_dir(&dir), &dir).is_ok());
    }
}

#[test]
fn regions_sharing_a_centre_are_grouped_and_kept_out_of_an_own_centre_ez() {
    use twin_vep::sensors::{centre_groups, has_own_centre, inverse_square_gain, shafts_through};
    // A 16-region toy connectome whose regions 8..16 all sit on region 8's
    // centre, as 116 regions of tvb-data's connectivity_192 do.
    let base = toy_connectome(16, 3);
    let mut centres = base.centres().to_vec();
    for r in 9..16 {
        centres[r] = centres[8];
    }
    let conn =
        twin_brain::Connectome::new(16, base.weights().to_vec(), base.tract_lengths().to_vec())
            .unwrap()
            .with_centres(centres.clone())
            .unwrap();
    let groups = centre_groups(&centres);
    assert_eq!(&groups[..8], &[0, 1, 2, 3, 4, 5, 6, 7]);
    assert!(groups[8..].iter().all(|&g| g == 8));
    assert!(has_own_centre(&groups, 3) && !has_own_centre(&groups, 12));
    // Their gain columns are identical: no sensor can tell them apart.
    let mut rng = twin_vep::rng::Rng::new(1, 2);
    let c = shafts_through(&centres, &[8, 2], 6, 3.5, &mut rng);
    let g = inverse_square_gain(&c, &centres);
    for s in 0..c.names.len() {
        assert_eq!(g[s * 16 + 9], g[s * 16 + 15]);
    }
    for seed in 1..12 {
        let spec = SyntheticSpec {
            seed,
            n_ez: 2,
            n_pz: 2,
            n_shafts: 4,
            duration_s: 5.0,
            ez_own_centre: true,
            ..Default::default()
        };
        let syn = synthesize(&conn, &spec).unwrap();
        assert!(
            syn.truth.ez.iter().all(|&r| r < 8),
            "seed {seed}: {:?}",
            syn.truth.ez
        );
    }
}

#[test]
fn a_study_condition_fits_with_the_onset_likelihood_it_names() {
    use twin_vep::study::{default_conditions, run, Condition, StudyData};
    let cond = Condition {
        name: "toy, onset".into(),
        regions: 12,
        shafts: 6,
        patients: 2,
        likelihood: Likelihood::Onset,
        ..default_conditions(1)[1].clone()
    };
    let conn = |_: usize| Ok(toy_connectome(12, 3));
    let sensors = |name: &str| -> Result<_, twin_vep::VepError> {
        panic!("no sensor file is read here, asked for {name}")
    };
    let data = StudyData {
        connectome: &conn,
        sensors: &sensors,
    };
    let tmp = tempfile::tempdir().unwrap();
    let (sum, cases) = run(&[cond], &data, tmp.path(), &mut |_| {}).unwrap();
    assert_eq!(cases.len(), 2);
    // 1- and 2-region EZ, both recovered exactly through onset times alone.
    for c in &cases {
        assert_eq!(sorted(c.ez_fit.clone()), sorted(c.ez_true.clone()), "{c:?}");
    }
    assert_eq!((sum[0].precision, sum[0].recall), (1.0, 1.0));
    // The summary records which observation model produced it.
    let json = serde_json::to_string(&sum[0]).unwrap();
    assert!(json.contains(r#""likelihood":"onset""#), "{json}");
}
