use super::*;

#[test]
fn f64_round_trip_through_bytes() {
    let data: Vec<f64> = (0..12).map(|i| i as f64 * 0.1 - 0.3).collect();
    let bytes = encode_npy_f64(&[3, 4], &data);
    assert_eq!((bytes.len() - 12 * 8) % 64, 0);
    let arr = parse_npy(&bytes, "mem").unwrap();
    assert_eq!(arr.shape, vec![3, 4]);
    assert_eq!(arr.data, NpyData::F64(data));
}

#[test]
fn one_dimensional_shape_has_trailing_comma() {
    let bytes = encode_npy_f64(&[5], &[1.0; 5]);
    let text = String::from_utf8_lossy(&bytes[10..]);
    assert!(text.contains("'shape': (5,)"), "{text}");
    assert_eq!(parse_npy(&bytes, "mem").unwrap().shape, vec![5]);
}

#[test]
fn scalar_shape_parses() {
    let bytes = encode_npy_f64(&[], &[2.5]);
    let arr = parse_npy(&bytes, "mem").unwrap();
    assert!(arr.shape.is_empty());
    assert_eq!(arr.to_f64().unwrap(), vec![2.5]);
}

#[test]
fn bad_magic_is_rejected() {
    let err = parse_npy(b"not an npy file at all", "x.npy").unwrap_err();
    assert!(err.to_string().contains("x.npy"), "{err}");
}

#[test]
fn incremental_writer_is_valid_after_each_flush() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("out.npy");
    let mut w = NpyWriter::create(&p, &[2, 3]).unwrap();
    w.flush().unwrap();
    assert_eq!(read_npy(&p).unwrap().shape, vec![0, 2, 3]);
    w.push_row(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    w.flush().unwrap();
    let a = read_npy(&p).unwrap();
    assert_eq!(a.shape, vec![1, 2, 3]);
    for _ in 0..11 {
        w.push_row(&[0.5; 6]);
    }
    w.flush().unwrap();
    let a = read_npy(&p).unwrap();
    assert_eq!(a.shape, vec![12, 2, 3]);
    assert_eq!(a.to_f64().unwrap()[..6], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
}
