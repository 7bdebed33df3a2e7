//! The five tvb-data connectomes, read as they ship.

use twin_brain::Connectome;

use crate::common::data;

fn load(n: usize) -> Connectome {
    Connectome::from_zip(data(&format!("tvb-data/connectivity_{n}.zip")))
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn reads_every_tvb_data_connectome() {
    // (regions, non-zero weights, max tract length) as measured with TVB.
    for (n, nnz) in [(76, 1560), (192, 3532), (66, 1377), (68, 1244), (96, 3939)] {
        let c = load(n);
        assert_eq!(c.n_regions(), n);
        assert_eq!(c.n_connections(), nnz, "connectivity_{n}");
        assert_eq!(c.labels().len(), n);
    }
}

#[test]
fn connectivity_76_details() {
    let c = load(76);
    assert_eq!(&c.labels()[..3], ["rA1", "rA2", "rAMYG"]);
    assert!(c.areas().is_some() && c.orientations().is_some() && c.cortical().is_some());
    assert_eq!(c.weights().iter().cloned().fold(0.0, f64::max), 3.0);
    // H at speed 4 mm/ms and dt 0.1 ms is 385 (research notes, TVB).
    assert_eq!(c.idelays(4.0, 0.1).into_iter().max().unwrap() + 1, 385);
}

#[test]
fn bz2_and_subfolder_archives_give_tvb_horizons() {
    assert_eq!(
        load(68).idelays(4.0, 0.1).into_iter().max().unwrap() + 1,
        633
    );
    assert_eq!(
        load(192).idelays(4.0, 0.1).into_iter().max().unwrap() + 1,
        356
    );
    assert_eq!(
        load(66).idelays(4.0, 0.1).into_iter().max().unwrap() + 1,
        596
    );
    assert_eq!(
        load(96).idelays(4.0, 0.1).into_iter().max().unwrap() + 1,
        376
    );
}

#[test]
fn round_trip_of_a_real_connectome() {
    let c = load(76);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c76.zip");
    c.write_zip(&p).unwrap();
    assert_eq!(Connectome::from_zip(&p).unwrap(), c);
}
