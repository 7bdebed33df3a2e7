use std::io::Write;

use super::*;

const W3: &str = "0 1 2\n1 0 0.5\n2 0.5 0\n";
const L3: &str = "0 10 20\n10 0 30\n20 30 0\n";
const C3: &str = "rA 1 2 3\nrB 4 5 6\nlC 7 8 9\n";

fn zip_with(files: &[(&str, &[u8])]) -> tempfile::NamedTempFile {
    let f = tempfile::Builder::new().suffix(".zip").tempfile().unwrap();
    let mut z = zip::ZipWriter::new(f.reopen().unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    for (name, content) in files {
        if name.ends_with('/') {
            z.add_directory(name.trim_end_matches('/'), opts).unwrap();
        } else {
            z.start_file(*name, opts).unwrap();
            z.write_all(content).unwrap();
        }
    }
    z.finish().unwrap();
    f
}

fn bz2(text: &str) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

#[test]
fn reads_top_level_members_with_labels() {
    let z = zip_with(&[
        ("weights.txt", W3.as_bytes()),
        ("tract_lengths.txt", L3.as_bytes()),
        ("centres.txt", C3.as_bytes()),
        ("cortical.txt", b"1\n1\n0\n"),
    ]);
    let c = Connectome::from_zip(z.path()).unwrap();
    assert_eq!(c.n_regions(), 3);
    assert_eq!(c.weight(0, 2), 2.0);
    assert_eq!(c.labels(), ["rA", "rB", "lC"]);
    assert_eq!(c.centres()[2], [7.0, 8.0, 9.0]);
    assert_eq!(c.cortical(), Some(&[true, true, false][..]));
    assert_eq!(c.areas(), None);
    assert_eq!(c.n_connections(), 6);
}

#[test]
fn reads_bz2_members_in_a_subfolder_without_labels() {
    let z = zip_with(&[
        ("conn/", b""),
        ("conn/weights.txt.bz2", &bz2(W3)),
        ("conn/tract_lengths.txt.bz2", &bz2(L3)),
        ("conn/centres.txt", b"1 2 3\n4 5 6\n7 8 9\n"),
        ("__MACOSX/conn/._weights.txt", b"junk"),
    ]);
    let c = Connectome::from_zip(z.path()).unwrap();
    assert_eq!(c.tract_lengths()[5], 30.0);
    assert_eq!(c.labels(), ["0", "1", "2"]);
}

#[test]
fn missing_weights_names_the_archive_and_member() {
    let z = zip_with(&[("tract_lengths.txt", L3.as_bytes())]);
    let err = Connectome::from_zip(z.path()).unwrap_err();
    assert!(matches!(&err, ConnectomeError::MissingMember { name, .. } if name == "weights"));
    assert!(err.to_string().contains("tract_lengths.txt"), "{err}");
}

#[test]
fn members_in_different_folders_are_a_layout_error() {
    let z = zip_with(&[
        ("a/weights.txt", W3.as_bytes()),
        ("b/tract_lengths.txt", L3.as_bytes()),
    ]);
    let err = Connectome::from_zip(z.path()).unwrap_err();
    assert!(matches!(err, ConnectomeError::Layout { .. }), "{err}");
}

#[test]
fn two_weight_files_are_ambiguous() {
    let z = zip_with(&[
        ("a/weights.txt", W3.as_bytes()),
        ("b/weights.txt", W3.as_bytes()),
        ("a/tract_lengths.txt", L3.as_bytes()),
    ]);
    let err = Connectome::from_zip(z.path()).unwrap_err();
    assert!(err.to_string().contains("several members"), "{err}");
}

#[test]
fn nan_weight_names_file_and_entry() {
    let z = zip_with(&[
        ("weights.txt", b"0 1 2\n1 0 nan\n2 0.5 0\n"),
        ("tract_lengths.txt", L3.as_bytes()),
    ]);
    let err = Connectome::from_zip(z.path()).unwrap_err();
    match &err {
        ConnectomeError::NonFinite { file, row, col, .. } => {
            assert!(file.ends_with(":weights.txt"), "{file}");
            assert_eq!((*row, *col), (1, 2));
        }
        other => panic!("unexpected {other}"),
    }
    assert!(err.to_string().contains("row 1, column 2"), "{err}");
}

#[test]
fn negative_tract_length_names_entry() {
    let z = zip_with(&[
        ("weights.txt", W3.as_bytes()),
        ("tract_lengths.txt", b"0 10 20\n10 0 30\n20 -3 0\n"),
    ]);
    let err = Connectome::from_zip(z.path()).unwrap_err();
    assert!(
        matches!(&err, ConnectomeError::Negative { row: 2, col: 1, file, .. } if file.contains("tract_lengths")),
        "{err}"
    );
}

#[test]
fn non_square_and_ragged_matrices_are_rejected() {
    let z = zip_with(&[
        ("weights.txt", b"0 1 2\n1 0 3\n"),
        ("tract_lengths.txt", L3.as_bytes()),
    ]);
    let err = Connectome::from_zip(z.path()).unwrap_err();
    assert!(
        matches!(
            err,
            ConnectomeError::NotSquare {
                rows: 2,
                cols: 3,
                ..
            }
        ),
        "{err}"
    );
    let z = zip_with(&[
        ("weights.txt", b"0 1 2\n1 0\n2 0.5 0\n"),
        ("tract_lengths.txt", L3.as_bytes()),
    ]);
    let err = Connectome::from_zip(z.path()).unwrap_err();
    assert!(
        matches!(
            err,
            ConnectomeError::Ragged {
                line: 2,
                expected: 3,
                got: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn size_mismatch_between_weights_and_tracts_and_centres() {
    let z = zip_with(&[
        ("weights.txt", W3.as_bytes()),
        ("tract_lengths.txt", b"0 1\n1 0\n"),
    ]);
    let err = Connectome::from_zip(z.path()).unwrap_err();
    assert!(
        matches!(
            err,
            ConnectomeError::SizeMismatch {
                expected: 3,
                got: 2,
                ..
            }
        ),
        "{err}"
    );
    let z = zip_with(&[
        ("weights.txt", W3.as_bytes()),
        ("tract_lengths.txt", L3.as_bytes()),
        ("centres.txt", b"rA 1 2 3\nrB 4 5 6\n"),
    ]);
    let err = Connectome::from_zip(z.path()).unwrap_err();
    assert!(err.to_string().contains("centres.txt"), "{err}");
}

#[test]
fn unparsable_token_names_line_and_column() {
    let z = zip_with(&[
        ("weights.txt", b"0 1 2\n1 zero 3\n2 0.5 0\n"),
        ("tract_lengths.txt", L3.as_bytes()),
    ]);
    let err = Connectome::from_zip(z.path()).unwrap_err();
    assert!(
        matches!(
            err,
            ConnectomeError::Parse {
                line: 2,
                column: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn not_a_zip_is_a_zip_error() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(b"plain text").unwrap();
    let err = Connectome::from_zip(f.path()).unwrap_err();
    assert!(matches!(err, ConnectomeError::Zip { .. }), "{err}");
}

#[test]
fn write_and_read_back_is_identical() {
    let z = zip_with(&[
        ("weights.txt", b"0 0.1 2e-7\n1 0 0.5\n2 0.5 0\n"),
        ("tract_lengths.txt", L3.as_bytes()),
        ("centres.txt", C3.as_bytes()),
        ("hemispheres.txt", b"1\n1\n0\n"),
        ("areas.txt", b"1.5\n2.5\n3.5\n"),
        ("average_orientations.txt", b"1 0 0\n0 1 0\n0 0 1\n"),
    ]);
    let c = Connectome::from_zip(z.path()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.zip");
    c.write_zip(&out).unwrap();
    assert_eq!(Connectome::from_zip(&out).unwrap(), c);
    c.write_dir(dir.path().join("d")).unwrap();
    assert_eq!(Connectome::from_dir(dir.path().join("d")).unwrap(), c);
}

#[test]
fn plain_matrix_files_text_and_npy() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("w.csv");
    std::fs::write(&w, "0,1,2\n1,0,0.5\n2,0.5,0\n").unwrap();
    let l = dir.path().join("l.npy");
    let lv: Vec<f64> = parse_matrix_text(L3, "l").unwrap().values;
    crate::npy::write_npy_f64(&l, &[3, 3], &lv).unwrap();
    let c = Connectome::from_matrix_files(&w, &l).unwrap();
    assert_eq!(c.tract_lengths(), &lv[..]);
    let missing = Connectome::from_matrix_files(dir.path().join("nope.txt"), &l).unwrap_err();
    assert!(matches!(missing, ConnectomeError::Io { .. }));
    assert!(missing.to_string().contains("nope.txt"));
}

#[test]
fn idelays_round_half_to_even() {
    let c = Connectome::new(2, vec![0.0, 1.0, 1.0, 0.0], vec![0.0, 0.25, 0.35, 0.0]).unwrap();
    // 0.25 / 1 / 0.1 = 2.5 -> 2 (half to even); 0.35 / 0.1 = 3.4999999999999996 -> 3
    assert_eq!(c.idelays(1.0, 0.1), vec![0, 2, 3, 0]);
}

#[test]
fn disconnect_zeroes_rows_and_columns() {
    let (n, w) = read::parse_square(W3, "w").unwrap();
    let mut c = Connectome::new(n, w, parse_matrix_text(L3, "l").unwrap().values).unwrap();
    c.disconnect(&[1]);
    assert_eq!(c.weights(), &[0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0]);
    assert!(c.set_weight(0, 1, -1.0).is_err());
}
