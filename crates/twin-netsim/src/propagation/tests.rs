use super::*;

fn spec(model: LossModel) -> PropagationSpec {
    PropagationSpec {
        model,
        ..PropagationSpec::default()
    }
}

const LAMBDA_1GHZ: f64 = SPEED_OF_LIGHT / 1e9;

#[test]
fn friis_matches_free_space_table() {
    // Values of the research report's table (1 GHz): 92.4 dB at 1 km, 132.4 at 100 km.
    let p = Propagation::new(&spec(LossModel::Friis));
    assert!((p.loss_db(1_000.0, LAMBDA_1GHZ, 0.0, 0.0) - 92.4).abs() < 0.05);
    assert!((p.loss_db(100_000.0, LAMBDA_1GHZ, 0.0, 0.0) - 132.4).abs() < 0.05);
    // Doubling the distance costs 6 dB.
    let d = p.loss_db(2_000.0, LAMBDA_1GHZ, 0.0, 0.0) - p.loss_db(1_000.0, LAMBDA_1GHZ, 0.0, 0.0);
    assert!((d - 6.0206).abs() < 1e-3);
}

#[test]
fn range_inverts_the_loss() {
    for model in [LossModel::Friis, LossModel::LogDistance] {
        let p = Propagation::new(&spec(model));
        let r = p.range_for_loss(100.0, LAMBDA_1GHZ);
        assert!(
            (p.loss_db(r, LAMBDA_1GHZ, 0.0, 0.0) - 100.0).abs() < 1e-9,
            "{model:?}"
        );
    }
}

#[test]
fn two_ray_is_friis_before_crossover_and_steeper_after() {
    let mut s = spec(LossModel::TwoRay);
    s.antenna_height_m = 2.0;
    let p = Propagation::new(&s);
    let f = Propagation::new(&spec(LossModel::Friis));
    let lambda = SPEED_OF_LIGHT / 2.4e9;
    let dc = 4.0 * std::f64::consts::PI * 4.0 / lambda; // ~402 m, as in the report
    assert!((dc - 402.0).abs() < 1.0);
    assert_eq!(
        p.loss_db(100.0, lambda, 0.0, 0.0),
        f.loss_db(100.0, lambda, 0.0, 0.0)
    );
    // Continuous at the crossover, 40 dB per decade after it.
    let at = |d| p.loss_db(d, lambda, 0.0, 0.0);
    assert!((at(dc * 1.000_001) - f.loss_db(dc, lambda, 0.0, 0.0)).abs() < 1e-3);
    assert!((at(10.0 * dc) - at(dc * 1.000_001) - 40.0).abs() < 1e-3);
    assert!(p.range_for_loss(at(5_000.0), lambda) >= 5_000.0);
}

#[test]
fn log_distance_uses_reference_loss() {
    let p = Propagation::new(&spec(LossModel::LogDistance));
    assert_eq!(p.loss_db(0.5, LAMBDA_1GHZ, 0.0, 0.0), 46.6777);
    assert!((p.loss_db(10.0, LAMBDA_1GHZ, 0.0, 0.0) - 76.6777).abs() < 1e-9);
}

#[test]
fn radio_horizon_blocks_low_long_links() {
    let mut s = spec(LossModel::Friis);
    s.earth_curvature = true;
    let p = Propagation::new(&s);
    let at = |alt| Position::local(0.0, 0.0, alt);
    // Two aircraft at 10 km see each other up to ~824 km (report table).
    assert!(p.line_of_sight(820e3, &at(10_000.0), &at(10_000.0)));
    assert!(!p.line_of_sight(830e3, &at(10_000.0), &at(10_000.0)));
    // At 100 m the limit is ~82 km.
    assert!(p.line_of_sight(81e3, &at(100.0), &at(100.0)));
    assert!(!p.line_of_sight(84e3, &at(100.0), &at(100.0)));
    assert!(p
        .rx_power_dbm(
            30.0,
            LAMBDA_1GHZ,
            &at(100.0),
            &Position::local(90e3, 0.0, 100.0)
        )
        .is_none());
}

#[test]
fn delay_is_distance_over_c() {
    assert_eq!(
        Propagation::delay(100_000.0),
        SimDuration::from_nanos(333_564)
    );
    assert_eq!(Propagation::delay(0.0), SimDuration::ZERO);
}
