use super::*;

fn dot11b() -> Radio {
    Radio::new(&RadioSpec {
        tx_power_dbm: 7.5,
        ..RadioSpec::default()
    })
}

#[test]
fn dot11b_frame_durations() {
    let r = dot11b();
    // 512 B payload + 28 B IP/UDP + 36 B MAC = 576 B: 419 us at 11 Mb/s + 192 us PLCP.
    assert_eq!(r.duration(Mode::Cck11, 576), 611_000);
    // ACK at 11 Mb/s: 14 B -> 11 us + 192 us.
    assert_eq!(r.duration(Mode::Cck11, 14), 203_000);
    assert_eq!(r.duration(Mode::Dbpsk1, 14), 304_000);
}

#[test]
fn noise_floor_of_22_mhz_with_7_db_figure() {
    let r = dot11b();
    let dbm = 10.0 * r.noise_mw.log10();
    assert!((dbm - (-93.58)).abs() < 0.01, "{dbm}");
}

#[test]
fn error_rates_fall_with_sinr_and_rate_ordering_holds() {
    let bits = 4608.0;
    let db = |x: f64| 10f64.powf(x / 10.0);
    for mode in [Mode::Dbpsk1, Mode::Dqpsk2, Mode::Cck55, Mode::Cck11] {
        let mut last = 0.0;
        for k in -10..=20 {
            let p = mode.success(db(f64::from(k)), bits);
            assert!((0.0..=1.0).contains(&p));
            assert!(p >= last - 1e-12, "{mode:?} not monotone at {k} dB");
            last = p;
        }
        assert!(last > 0.999, "{mode:?} at 20 dB: {last}");
    }
    // At 4 dB the robust modes get through, 11 Mb/s CCK does not.
    assert!(Mode::Dbpsk1.success(db(4.0), bits) > 0.99);
    assert!(Mode::Cck11.success(db(4.0), bits) < 0.01);
    assert!(Mode::Cck11.success(db(10.0), bits) > 0.95);
}

#[test]
fn erfc_matches_known_values() {
    assert!((error::erfc(0.0) - 1.0).abs() < 1e-7);
    assert!((error::erfc(1.0) - 0.157_299_207).abs() < 1e-7);
    assert!((error::erfc(-1.0) - 1.842_700_793).abs() < 1e-7);
    assert!((error::q(3.0) - 1.349_898e-3).abs() < 1e-8);
}

#[test]
fn interference_in_part_of_a_frame_only_hurts_that_part() {
    let r = dot11b();
    let mut scratch = Vec::new();
    let s = mw(-70.0);
    let clean = r.success_probability(Mode::Cck11, 0, 611_000, s, &[], &mut scratch);
    assert!(clean > 0.999);
    // A strong interferer over the whole payload kills the frame ...
    let all = [(100_000, 700_000, mw(-65.0))];
    assert!(r.success_probability(Mode::Cck11, 0, 611_000, s, &all, &mut scratch) < 1e-3);
    // ... but one during the (error-free) preamble only does not.
    let pre = [(0, 100_000, mw(-65.0))];
    assert!(r.success_probability(Mode::Cck11, 0, 611_000, s, &pre, &mut scratch) > 0.999);
    // Interference that ends before the frame is ignored.
    let before = [(0, 10, mw(0.0))];
    assert!(r.success_probability(Mode::Cck11, 100, 611_100, s, &before, &mut scratch) > 0.999);
}

#[test]
fn phy_process_locks_and_reports_carrier_sense_edges() {
    let r = dot11b();
    let mut phy = Phy::new(0);
    assert_eq!(phy.state(&r, 0), PhyState::Idle);
    let lock = Lock {
        tx: 1,
        start: 0,
        end: 10,
        power_mw: mw(-70.0),
    };
    phy.signal_start(1, lock.power_mw, 10, Some(lock));
    assert_eq!(phy.state(&r, 0), PhyState::Rx);
    assert_eq!(phy.cca_edge(&r, 0), Some(true));
    assert_eq!(phy.cca_edge(&r, 1), None);
    // A second, weak signal does not change the lock.
    phy.signal_start(2, mw(-80.0), 8, None);
    assert_eq!(phy.signal_end(2), None);
    assert_eq!(phy.signal_end(1), Some(lock));
    assert_eq!(phy.cca_edge(&r, 10), Some(false));
    // Strong energy without a lock is CCA busy, until the signal ends.
    phy.signal_start(3, mw(-50.0), 20, None);
    assert_eq!(phy.state(&r, 12), PhyState::CcaBusy);
    assert_eq!(phy.state(&r, 20), PhyState::Idle);
    assert_eq!(phy.start_tx(), None);
    assert_eq!(phy.state(&r, 12), PhyState::Tx);
}
