//! DCF behaviour on two-node topologies.

use twin_core::SimDuration;

use crate::testutil::{flow, id, line, run_to, secs};

#[test]
fn unicast_is_acknowledged_and_delivered() {
    let sc = line("greedy", 2, 100.0, "10s", &flow(0, 1, 20.0, "2s", "10s"));
    let sim = run_to(&sc, 10.0);
    let st = sim.stats();
    assert_eq!(st.totals.delivery_ratio, 1.0, "{:?}", st.totals);
    assert_eq!(st.mac.retries, 0);
    // One ACK per data frame (beacons are broadcast and never acknowledged).
    assert_eq!(st.mac.acks, st.totals.rx_packets);
}

#[test]
fn broadcast_is_not_acknowledged() {
    let sc = line("greedy", 3, 100.0, "5s", "");
    let sim = run_to(&sc, 5.0);
    let st = sim.stats();
    assert!(st.mac.tx_frames >= 12, "{:?}", st.mac);
    assert_eq!((st.mac.acks, st.mac.retries), (0, 0));
}

#[test]
fn retry_limit_drops_and_reports_a_broken_link() {
    let sc = line("aodv", 2, 100.0, "6s", &flow(0, 1, 10.0, "1s", "6s"));
    let mut sim = run_to(&sc, 3.0);
    sim.set_position(id(1), [5_000.0, 0.0, 0.0], [0.0; 3])
        .unwrap();
    sim.step_until(secs(6.0)).unwrap();
    let st = sim.stats();
    assert!(st.mac.drop_retry >= 1, "{:?}", st.mac);
    // 7 retransmissions per dropped frame.
    assert!(st.mac.retries >= 7 * st.mac.drop_retry, "{:?}", st.mac);
    assert!(sim.aodv(id(0)).unwrap().counters().link_breaks >= 1);
}

/// Two nodes 150 km apart with a long-range radio; `mac` is extra TOML.
fn long_link(mac: &str) -> crate::Scenario {
    let radio = r#"
[radios.wifi]
standard = "generic"
rate_mbps = 1.0
tx_power_dbm = 40.0
antenna_gain_dbi = 3.0
frequency_hz = 1.0e9
noise_figure_db = 5.0
preamble_min_rssi_dbm = -100.0
cca_threshold_dbm = -95.0
preamble = "100us"
"#;
    let text = format!(
        "[simulation]\nname = \"long\"\nduration = \"20s\"\nseed = 3\n{radio}\n{mac}\n\
         [routing]\nprotocol = \"greedy\"\n\
         [[nodes]]\nname = \"n0\"\nmobility = {{ model = \"constant\", position = [0, 0, 10000] }}\n\
         [[nodes]]\nname = \"n1\"\nmobility = {{ model = \"constant\", position = [150000, 0, 10000] }}\n{}",
        flow(0, 1, 2.0, "3s", "20s")
    );
    crate::Scenario::parse(&text, None).expect("valid")
}

#[test]
fn long_propagation_delay_is_tolerated_with_coverage_timing() {
    let sim = run_to(&long_link(""), 20.0);
    let st = sim.stats();
    assert_eq!(st.totals.delivery_ratio, 1.0, "{:?}", st.totals);
    assert_eq!(st.mac.retries, 0, "{:?}", st.mac);
}

#[test]
fn long_link_without_coverage_timing_times_out_every_ack() {
    let sim = run_to(&long_link("[mac]\nmax_range_m = 300.0\n"), 20.0);
    let st = sim.stats();
    // The ACK comes back 1 ms after the frame: always too late.
    assert!(st.mac.drop_retry >= 5, "{:?}", st.mac);
    // Receivers still get the data (and drop the duplicates).
    assert!(
        st.mac.duplicates > 0 && st.totals.rx_packets > 0,
        "{:?}",
        st.mac
    );
}

/// Hidden terminals: n0 and n2 are 500 m apart (out of each other's
/// preamble-detection range, ≈ 300 m) and both send 1000-byte packets to
/// n1 in the middle; `mac` is extra TOML.
fn hidden(mac: &str) -> crate::Scenario {
    let flows = format!(
        "{}{}",
        flow(0, 1, 150.0, "1s", "10s").replace("size = 512", "size = 1000"),
        flow(2, 1, 150.0, "1s", "10s").replace("size = 512", "size = 1000")
    );
    line("greedy", 3, 250.0, "10s", &format!("{flows}\n{mac}\n"))
}

#[test]
fn rts_cts_protects_against_hidden_terminals() {
    let plain = run_to(&hidden(""), 10.0).stats();
    let rts = run_to(&hidden("[mac]\nrts_threshold = 500\n"), 10.0).stats();
    assert_eq!((plain.mac.rts, plain.mac.cts), (0, 0), "{:?}", plain.mac);
    // Without RTS/CTS the long data frames of n0 and n2 collide at n1; with
    // it only the short RTSs do, and data goes out once per packet.
    assert!(
        rts.totals.delivery_ratio > plain.totals.delivery_ratio + 0.1,
        "with RTS {:?}\nwithout {:?}",
        rts.totals,
        plain.totals
    );
    assert!(rts.totals.delivery_ratio > 0.95, "{:?}", rts.totals);
    let data_frames = |st: &crate::StatsSnapshot| st.mac.tx_frames;
    assert!(
        data_frames(&rts) < data_frames(&plain),
        "data frames with RTS {} vs without {}",
        data_frames(&rts),
        data_frames(&plain)
    );
    // Each data frame followed a CTS; each CTS answered an RTS.
    assert!(
        rts.mac.rts >= rts.mac.cts && rts.mac.cts >= rts.mac.acks,
        "{:?}",
        rts.mac
    );
    assert_eq!(rts.mac.duplicates, 0, "{:?}", rts.mac);
}

#[test]
fn short_frames_skip_rts() {
    let sc = line(
        "greedy",
        2,
        100.0,
        "5s",
        &format!(
            "{}\n[mac]\nrts_threshold = 1000\n",
            flow(0, 1, 20.0, "1s", "5s")
        ),
    );
    let st = run_to(&sc, 5.0).stats();
    assert_eq!((st.mac.rts, st.mac.cts), (0, 0));
    assert_eq!(st.totals.delivery_ratio, 1.0, "{:?}", st.totals);
}

/// `n` nodes on a line 100 m apart with TDMA slots of `slot`, extra TOML.
fn tdma_line(n: u32, slot: &str, extra: &str) -> crate::Scenario {
    line(
        "greedy",
        n,
        100.0,
        "6s",
        &format!("{extra}\n[mac]\nkind = \"tdma\"\n[mac.tdma]\nslot = \"{slot}\"\n"),
    )
}

#[test]
fn tdma_sends_only_in_own_slot_without_collisions() {
    // Three nodes in range of each other all send 512-byte packets to n1
    // (0.43 ms each at 11 Mb/s): DCF would contend; TDMA never collides.
    let flows = format!(
        "{}{}",
        flow(0, 1, 20.0, "1s", "6s"),
        flow(2, 1, 20.0, "1s", "6s")
    );
    let sc = tdma_line(3, "5ms", &flows);
    let dir = tempfile::tempdir().unwrap();
    let mut sim = crate::Simulation::from_scenario(&sc).unwrap();
    sim.enable_pcap(dir.path()).unwrap();
    sim.run().unwrap();
    sim.finish_pcap().unwrap();
    let st = sim.stats();
    assert_eq!(st.totals.delivery_ratio, 1.0, "{:?}", st.totals);
    assert_eq!((st.mac.acks, st.mac.retries), (0, 0), "{:?}", st.mac);
    assert_eq!(st.phy_rx_errors, 0);
    // Every transmission of node i starts inside slot i of the 15 ms frame.
    for i in 0..3u32 {
        let bytes = std::fs::read(dir.path().join(format!("n{i}.pcap"))).unwrap();
        let mut off = 24;
        let mut sent = 0;
        while off + 16 <= bytes.len() {
            let rd = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
            let t_us = u64::from(rd(off)) * 1_000_000 + u64::from(rd(off + 4));
            let len = rd(off + 8) as usize;
            let rec = &bytes[off + 16..off + 16 + len];
            // Radiotap is 16 bytes; the transmitter address follows at +10.
            let ta = &rec[16 + 10..16 + 16];
            if ta[5] == i as u8 + 1 {
                sent += 1;
                let in_frame = t_us % 15_000;
                assert!(
                    (u64::from(i) * 5_000..u64::from(i + 1) * 5_000).contains(&in_frame),
                    "n{i} sent at {t_us} µs, {in_frame} µs into the frame"
                );
            }
            off += 16 + len;
        }
        assert!(sent > 0, "n{i} sent nothing");
    }
}

#[test]
fn tdma_queues_what_does_not_fit_in_a_slot() {
    // 1 ms slots hold one 1000-byte frame (0.95 ms) at most: a 2-frame
    // burst each frame period waits for the next slot.
    let flows = flow(0, 1, 400.0, "1s", "2s").replace("size = 512", "size = 1000");
    let sc = tdma_line(2, "1.2ms", &format!("{flows}\n"));
    let st = run_to(&sc, 6.0).stats();
    // 400 pkt/s offered, at most one per 2.4 ms frame (≈ 417/s) can go:
    // all delivered, with queueing delay.
    assert!(st.totals.delivery_ratio > 0.95, "{:?}", st.totals);
    assert!(st.totals.mean_delay_ms > 1.2, "{:?}", st.totals);
}

#[test]
fn tdma_back_to_back_frames_reach_a_closing_receiver() {
    // n1 closes in on n0 at 500 m/s while n0 sends ~10 frames per slot:
    // the propagation delay shrinks between consecutive frames, so without
    // an inter-frame gap the next preamble arrives a nanosecond before the
    // previous frame ends and the still-locked receiver misses it.
    use crate::scenario::{MobilitySpec, WaypointSpec};
    let run = |ifs: SimDuration| {
        let mut sc = tdma_line(2, "10ms", &flow(0, 1, 500.0, "1s", "1.5s"));
        sc.mac.tdma.ifs = ifs;
        let at = |s: f64, x: f64| WaypointSpec {
            at: SimDuration::from_millis((s * 1e3) as u64),
            position: [x, 0.0, 0.0],
        };
        sc.nodes[1].mobility = MobilitySpec::Waypoints {
            points: vec![at(0.0, 295.0), at(1.0, 295.0), at(1.5, 45.0)],
        };
        run_to(&sc, 3.0).stats()
    };
    let gap = run(SimDuration::from_micros(10));
    assert!(gap.accounting.sent > 200, "{:?}", gap.accounting);
    assert_eq!(gap.totals.delivery_ratio, 1.0, "{:?}", gap.accounting);
    assert!(gap.air_losses.is_empty(), "{:?}", gap.air_losses);
    let none = run(SimDuration::ZERO);
    assert!(
        none.air_losses.get("air/rx-busy").is_some_and(|&n| n > 10),
        "{:?}",
        none.accounting
    );
    assert!(none.accounting.balanced, "{:?}", none.accounting);
}
