//! SEEG sensors from files: tvb-data's `seeg_588` / `seeg_39` as a patient's
//! contacts (fetched by `scripts/fetch-tvb-data`), and clear errors for bad
//! sensor files and sensors outside the head.

use std::path::{Path, PathBuf};

use twin_brain::Connectome;
use twin_vep::patient::{default_truth_dir, synthesize, GivenSensors, Patient, SyntheticSpec};
use twin_vep::sensors::{bipolar_pairs, read_sensor_file, Head};
use twin_vep::VepError;

fn tvb(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../twin-brain/tests/data/tvb-data")
        .join(name)
}

fn given(name: &str) -> GivenSensors {
    let path = tvb(name);
    GivenSensors {
        file: path.display().to_string(),
        contacts: read_sensor_file(&path).unwrap(),
    }
}

#[test]
fn tvb_data_seeg_files_are_read_with_their_shafts() {
    let c76 = Connectome::from_path(tvb("connectivity_76.zip")).unwrap();
    let head = Head::around(c76.centres());
    let s588 = given("seeg_588.txt").contacts;
    assert_eq!(s588.names.len(), 588);
    assert_eq!(s588.names[0], "TP1");
    assert_eq!(s588.positions[0], [32.039555, -27.669507, -52.725906]);
    // 64 shafts (`A`, `A'`, …): `A'` is its own shaft, contacts stay in file order.
    assert_eq!(s588.shaft.iter().max(), Some(&63));
    assert_ne!(
        s588.shaft[s588.names.iter().position(|n| n == "A1").unwrap()],
        s588.shaft[s588.names.iter().position(|n| n == "A'1").unwrap()]
    );
    assert_eq!(bipolar_pairs(&s588).len(), 588 - 64);
    // The compressed seeg_39: 103 contacts on 10 shafts with non-ASCII names (`G´1`).
    let s39 = given("seeg_39.txt.bz2").contacts;
    assert_eq!(s39.names.len(), 103);
    assert_eq!(s39.names[0], "G´1");
    assert_eq!(s39.shaft.iter().max(), Some(&9));
    // Both are in connectivity_76's frame: every contact inside the head.
    for s in [&s588, &s39] {
        assert!(s.positions.iter().all(|p| head.contains(p)));
    }
}

#[test]
fn a_patient_on_seeg_588_records_every_contact_and_loads_back() {
    let c76 = Connectome::from_path(tvb("connectivity_76.zip")).unwrap();
    let spec = SyntheticSpec {
        seed: 3,
        duration_s: 6.0,
        sensors: Some(given("seeg_588.txt")),
        ..Default::default()
    };
    let syn = synthesize(&c76, &spec).unwrap();
    assert_eq!(syn.contacts.names.len(), 588);
    assert_eq!(syn.gain.len(), 588 * 76);
    assert_eq!(syn.seeg.cols, 588);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("p");
    syn.write(&dir, &default_truth_dir(&dir)).unwrap();
    let p = Patient::load(&dir).unwrap();
    assert_eq!(p.contacts.names, syn.contacts.names);
    assert_eq!(p.contacts.positions[587], syn.contacts.positions[587]);
    // The contact nearest to each EZ region sees it with the largest gain it has.
    for &e in &syn.truth.ez {
        let col: Vec<f64> = (0..588).map(|s| syn.gain[s * 76 + e]).collect();
        let best = col.iter().cloned().fold(0.0, f64::max);
        let d2 = |s: usize| {
            let (a, b) = (syn.contacts.positions[s], c76.centres()[e]);
            (0..3).map(|k| (a[k] - b[k]).powi(2)).sum::<f64>()
        };
        let nearest = (0..588).min_by(|&a, &b| d2(a).total_cmp(&d2(b))).unwrap();
        assert_eq!(col[nearest], best);
    }
}

#[test]
fn sensors_outside_the_head_are_refused_naming_the_file_and_contact() {
    let c76 = Connectome::from_path(tvb("connectivity_76.zip")).unwrap();
    let mut g = given("seeg_588.txt");
    // A 192-region or misregistered montage: shift one shaft 200 mm up.
    g.contacts.positions[5][2] += 200.0;
    let spec = SyntheticSpec {
        duration_s: 2.0,
        sensors: Some(g),
        ..Default::default()
    };
    let e = synthesize(&c76, &spec).unwrap_err();
    assert!(
        matches!(e, VepError::SensorOutsideHead { index: 5, .. }),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("seeg_588.txt") && msg.contains("sensor 5") && msg.contains("`TP6`"),
        "{msg}"
    );
}

#[test]
fn a_bad_sensor_file_names_the_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        (
            "short.txt",
            "A1 1 2 3\nA2 1 2\n",
            "line 2",
            "found 3 fields",
        ),
        ("nan.txt", "A1 1 2 3\n\nA2 1 nan 3\n", "line 3", "`nan`"),
        ("dup.txt", "A1 1 2 3\nA1 1 2 4\n", "line 2", "twice"),
        ("empty.txt", "\n", ": ", "no contacts"),
        ("bad.txt.bz2", "not bzip2", ": ", "bzip2"),
    ];
    for (name, text, line, why) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        let e = read_sensor_file(&path).unwrap_err().to_string();
        assert!(
            e.contains(name) && e.contains(line) && e.contains(why),
            "{name}: {e}"
        );
    }
    let e = read_sensor_file(&tmp.path().join("absent.txt")).unwrap_err();
    assert!(e.to_string().contains("absent.txt"), "{e}");
}

#[test]
fn an_ez_within_reach_of_the_contacts_is_drawn_only_near_them() {
    let c76 = Connectome::from_path(tvb("connectivity_76.zip")).unwrap();
    let g = given("seeg_588.txt");
    let dist = |r: usize| {
        g.contacts
            .positions
            .iter()
            .map(|p| {
                (0..3)
                    .map(|k| (p[k] - c76.centres()[r][k]).powi(2))
                    .sum::<f64>()
            })
            .fold(f64::INFINITY, f64::min)
            .sqrt()
    };
    // Even seeg_588's 588 contacts leave many regions far from every contact.
    assert!((0..76).filter(|&r| dist(r) > 5.0).count() > 20);
    for seed in 1..6 {
        let spec = SyntheticSpec {
            seed,
            n_ez: 2,
            duration_s: 1.0,
            sensors: Some(g.clone()),
            ez_within_mm: Some(5.0),
            ..Default::default()
        };
        let syn = synthesize(&c76, &spec).unwrap();
        assert!(
            syn.truth.ez.iter().all(|&r| dist(r) <= 5.0),
            "seed {seed}: {:?}",
            syn.truth.ez
        );
    }
    // seeg_39 (one hemisphere) reaches too few regions for a 2-region EZ: said clearly.
    let spec = SyntheticSpec {
        n_ez: 2,
        duration_s: 1.0,
        sensors: Some(given("seeg_39.txt.bz2")),
        ez_within_mm: Some(5.0),
        ..Default::default()
    };
    let e = synthesize(&c76, &spec).unwrap_err().to_string();
    assert!(e.contains("fewer than 2 regions are eligible"), "{e}");
}
