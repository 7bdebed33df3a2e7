use super::*;

fn ctx_conn() -> Connectome {
    Connectome::new(4, vec![0.0; 16], vec![0.0; 16])
        .unwrap()
        .with_hemispheres(vec![false, false, true, true])
        .unwrap()
}

fn configure(m: &mut dyn Monitor, conn: &Connectome, voi: &[String]) {
    m.configure(&MonitorContext {
        dt: 0.1,
        n_nodes: 4,
        voi,
        connectome: conn,
    })
    .unwrap();
}

#[test]
fn temporal_average_is_stamped_mid_window() {
    let conn = ctx_conn();
    let voi = vec!["V".to_string()];
    let mut m = TemporalAverage::new(1.0);
    configure(&mut m, &conn, &voi);
    let mut outs = vec![];
    for s in 1..=20u64 {
        if let Some(o) = m.record(s, &[s as f64; 4]) {
            outs.push((o.step, o.time_ms, o.data[0]));
        }
    }
    assert_eq!(outs.len(), 2);
    assert_eq!(outs[0].0, 10);
    assert!((outs[0].1 - 0.5).abs() < 1e-12);
    assert_eq!(outs[0].2, 5.5); // mean of 1..=10
    assert_eq!(outs[1].2, 15.5);
}

#[test]
fn subsample_and_raw_and_spatial_average() {
    let conn = ctx_conn();
    let voi = vec!["a".to_string(), "b".to_string()];
    let mut sub = SubSample::new(0.3).with_voi(vec![1]);
    configure(&mut sub, &conn, &voi);
    let obs = [1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 30.0, 40.0];
    assert!(sub.record(4, &obs).is_none());
    assert_eq!(sub.record(6, &obs).unwrap().data, &obs[4..]);
    assert_eq!(sub.shape(), (1, 4));
    let mut raw = Raw::new();
    configure(&mut raw, &conn, &voi);
    assert_eq!(raw.record(1, &obs).unwrap().data, &obs);
    let mut sa = SpatialAverage::new(0.1, Mask::Hemispheres);
    configure(&mut sa, &conn, &voi);
    assert_eq!(sa.record(1, &obs).unwrap().data, &[1.5, 3.5, 15.0, 35.0]);
    let mut bad = SpatialAverage::new(0.1, Mask::Cortical);
    assert!(bad
        .configure(&MonitorContext {
            dt: 0.1,
            n_nodes: 4,
            voi: &voi,
            connectome: &conn
        })
        .is_err());
}

#[test]
fn bold_of_a_constant_input_settles_and_is_stamped_at_step_time() {
    let conn = ctx_conn();
    let voi = vec!["S".to_string()];
    let mut b = Bold::new(500.0).with_hrf_length(2000.0);
    configure(&mut b, &conn, &voi);
    let mut last = None;
    for s in 1..=20_000u64 {
        if let Some(o) = b.record(s, &[1.0; 4]) {
            assert!((o.time_ms - s as f64 * 0.1).abs() < 1e-9);
            last = Some(o.data[0]);
        }
    }
    let v = last.unwrap();
    assert!(v.is_finite());
}

#[test]
fn projection_averages_gain_times_state() {
    let conn = ctx_conn();
    let voi = vec!["V".to_string()];
    let gain = vec![1.0, 0.0, 0.0, 0.0, 0.25, 0.25, 0.25, 0.25];
    let mut p = Projection::from_gain("eeg", 0.2, 2, gain);
    configure(&mut p, &conn, &voi);
    assert!(p.record(1, &[1.0, 2.0, 3.0, 4.0]).is_none());
    let o = p.record(2, &[3.0, 2.0, 3.0, 4.0]).unwrap();
    assert_eq!(o.data, &[2.0, 2.75]);
    assert!((o.time_ms - 0.1).abs() < 1e-12);
}

#[test]
fn inverse_square_and_dipole_gains() {
    let g = compute_gain(
        &[[0.0, 0.0, 2.0]],
        &[[0.0, 0.0, 0.0], [0.0, 0.0, 2.0]],
        None,
        &GainModel::InverseSquare,
    )
    .unwrap();
    assert_eq!(g, vec![0.25, 0.0]); // sensor on a centre: TVB zeroes the entry
    let o = [[0.0, 0.0, 1.0]];
    let g = compute_gain(
        &[[0.0, 0.0, 2.0]],
        &[[0.0, 0.0, 0.0]],
        Some(&o),
        &GainModel::Dipole { sigma: 1.0 },
    )
    .unwrap();
    assert!((g[0] - 0.25 / (4.0 * std::f64::consts::PI)).abs() < 1e-15);
    assert!(compute_gain(
        &[[1.0; 3]],
        &[[0.0; 3]],
        None,
        &GainModel::Dipole { sigma: 1.0 }
    )
    .is_err());
}

#[test]
fn period_shorter_than_dt_is_rejected() {
    assert!(istep(0.01, 0.1).is_err());
    assert_eq!(istep(0.9765625, 0.1220703125).unwrap(), 8);
}
