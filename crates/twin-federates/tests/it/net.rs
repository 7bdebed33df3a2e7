use std::{collections::BTreeMap, time::Duration};

use twin_bus::{Bus, ReaderQos};
use twin_core::{Epoch, SimDuration, SimTime};
use twin_federates::net::{
    NetLinks, NetNodePosition, NetRoute, NetTransmissions, Network, Params, LINKS_TOPIC,
    MIN_LINK_PDR, POSITION_TOPIC, ROUTE_TOPIC, TX_TOPIC,
};
use twin_federation::*;

#[test]
fn network_publishes_positions_at_the_configured_rate_and_routes() {
    let bus = Bus::in_memory();
    let p = bus.participant("observer");
    let pos_t = p.topic::<NetNodePosition>(POSITION_TOPIC).unwrap();
    let pos = p
        .reader(&pos_t, ReaderQos::default().reliable().keep_all())
        .unwrap();
    let route_t = p.topic::<NetRoute>(ROUTE_TOPIC).unwrap();
    let routes = p
        .reader(&route_t, ReaderQos::default().reliable().keep_all())
        .unwrap();
    let links = p
        .reader(
            &p.topic::<NetLinks>(LINKS_TOPIC).unwrap(),
            ReaderQos::default().reliable().keep_all(),
        )
        .unwrap();
    let tx = p
        .reader(
            &p.topic::<NetTransmissions>(TX_TOPIC).unwrap(),
            ReaderQos::default().reliable().keep_all(),
        )
        .unwrap();
    let cfg = FederationConfig {
        controller: ControllerConfig {
            name: "net-test".into(),
            end: SimTime::ZERO + SimDuration::from_secs(30),
            pacing: 0.0,
            expected: vec![],
            on_member_lost: LostPolicy::Drop,
            start_frozen: false,
            status_every: Duration::from_secs(1),
            record_grants: false,
        },
        epoch: Epoch::UNIX,
        seed: 1,
        stall_warning: Duration::from_secs(30),
        progress_every: Duration::from_secs(1),
        liveliness_lease: Duration::from_secs(5),
    };
    let params = Params {
        scenario: "builtin:aanet-small".into(),
        position_period: SimDuration::from_millis(250),
        stats_period: SimDuration::from_secs(1),
        out: None,
        pacing: 0.0,
    };
    let member = MemberSpec {
        name: "network".into(),
        mode: TimeMode::Stepped {
            dt: SimDuration::from_millis(500),
        },
        member: Box::new(Network::new(params)),
        threaded: false,
    };
    let mut fed = Federation::new(bus, cfg, vec![member]).unwrap();
    let s = fed.run(&mut |_| {}).unwrap();
    assert!(s.failures.is_empty(), "{:?}", s.failures);

    let mut per_node: BTreeMap<u32, Vec<SimTime>> = BTreeMap::new();
    for smp in pos.take() {
        let v = smp.value.unwrap();
        per_node
            .entry(v.node)
            .or_default()
            .push(smp.info.sim_time.unwrap());
        assert!(v.lat_lon_deg.is_some(), "the AANET scenario is on WGS84");
    }
    assert_eq!(per_node.len(), 22);
    for (node, ts) in &per_node {
        // 4 Hz over 30 s, t = 0 … 30 s inclusive.
        assert_eq!(ts.len(), 121, "node {node}");
        assert!(
            ts.windows(2)
                .all(|w| w[1] - w[0] == SimDuration::from_millis(250)),
            "node {node}"
        );
    }
    let rs: Vec<NetRoute> = routes.take().into_iter().filter_map(|s| s.value).collect();
    assert!(!rs.is_empty(), "no route published");
    for r in &rs {
        assert_eq!(r.hops.first(), Some(&r.src), "{r:?}");
        if r.complete {
            assert_eq!(r.hops.last(), Some(&r.dst), "{r:?}");
        }
    }

    // Links every stats period (1 s): usable, ordered pairs, the weaker
    // direction's figures, nearer links no worse than much farther ones.
    let ls: Vec<NetLinks> = links.take().into_iter().filter_map(|s| s.value).collect();
    assert_eq!(ls.len(), 30, "one link set per second");
    let last = &ls[ls.len() - 1].links;
    assert!(!last.is_empty(), "the AANET has usable links");
    for l in last {
        assert!(l.a < l.b && l.b < 22, "{l:?}");
        assert!((MIN_LINK_PDR..=1.0).contains(&l.pdr), "{l:?}");
        assert!(l.distance_m > 0.0 && l.snr_db.is_finite(), "{l:?}");
    }
    let best = last
        .iter()
        .min_by(|x, y| x.distance_m.total_cmp(&y.distance_m))
        .unwrap();
    let worst = last
        .iter()
        .max_by(|x, y| x.distance_m.total_cmp(&y.distance_m))
        .unwrap();
    assert!(best.snr_db > worst.snr_db, "{best:?} vs {worst:?}");
    // Frame counts only grow, and some node transmits.
    let txs: Vec<NetTransmissions> = tx.take().into_iter().filter_map(|s| s.value).collect();
    assert!(txs.len() > 2, "frame counts published as they change");
    for w in txs.windows(2) {
        assert_eq!(w[0].frames.len(), 22);
        assert!(w[0].frames.iter().zip(&w[1].frames).all(|(a, b)| a <= b));
        assert_ne!(w[0].frames, w[1].frames, "published only when changed");
    }
    assert!(txs[txs.len() - 1].frames.iter().sum::<u64>() > 0);
}

/// A federation of the network member alone, ending at `end_s`.
fn network_only(params: Params, end_s: u64) -> Federation {
    let cfg = FederationConfig {
        controller: ControllerConfig {
            name: "net-probes".into(),
            end: SimTime::ZERO + SimDuration::from_secs(end_s),
            pacing: 0.0,
            expected: vec![],
            on_member_lost: LostPolicy::Drop,
            start_frozen: false,
            status_every: Duration::from_secs(1),
            record_grants: false,
        },
        epoch: Epoch::UNIX,
        seed: 1,
        stall_warning: Duration::from_secs(30),
        progress_every: Duration::from_secs(1),
        liveliness_lease: Duration::from_secs(5),
    };
    let member = MemberSpec {
        name: "network".into(),
        mode: TimeMode::Stepped {
            dt: SimDuration::from_secs(2),
        },
        member: Box::new(Network::new(params)),
        threaded: false,
    };
    Federation::new(Bus::in_memory(), cfg, vec![member]).unwrap()
}

#[test]
fn network_writes_probe_csvs_and_paces_against_the_wall_clock() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/net/aanet-small.toml"
    ))
    .unwrap()
    .replace("start = \"30s\"", "start = \"1s\"")
        + "\n[[probes]]\nkind = \"flows\"\nevery = \"1s\"\n\n[[probes]]\nkind = \"links\"\nevery = \"1s\"\n";
    let sc = dir.path().join("aanet-probes.toml");
    std::fs::write(&sc, text).unwrap();
    let out = dir.path().join("out");
    let params = |pacing: f64| Params {
        scenario: sc.clone(),
        position_period: SimDuration::from_millis(500),
        stats_period: SimDuration::from_secs(1),
        out: Some(out.clone()),
        pacing,
    };

    // Unpaced: probe rows every simulated second, 0 … 20 s (the federation's end).
    let s = network_only(params(0.0), 20).run(&mut |_| {}).unwrap();
    assert!(s.failures.is_empty(), "{:?}", s.failures);
    let csv = std::fs::read_to_string(out.join("probe-flows.csv")).unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("time_s,flow,"));
    let times: std::collections::BTreeSet<u64> = lines
        .map(|l| l.split(',').next().unwrap().parse::<f64>().unwrap().round() as u64)
        .collect();
    assert_eq!(times.first(), Some(&0), "{times:?}");
    assert_eq!(times.last(), Some(&20), "{times:?}");
    assert_eq!(times.len(), 21, "{times:?}");
    let links = std::fs::read_to_string(out.join("link-durations.csv")).unwrap();
    assert!(
        links.lines().count() > 1,
        "links probe wrote no interval: {links}"
    );
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("stats.json")).unwrap()).unwrap();
    assert!(
        stats["totals"]["tx_packets"].as_u64().unwrap() > 0,
        "{stats}"
    );
    assert!(out.join("flows.csv").exists());

    // Paced at 4x real time: 6 simulated seconds take at least 1.5 s.
    let t0 = std::time::Instant::now();
    let s = network_only(params(4.0), 6).run(&mut |_| {}).unwrap();
    assert!(s.failures.is_empty(), "{:?}", s.failures);
    let wall = t0.elapsed().as_secs_f64();
    assert!(wall >= 1.45, "paced run took only {wall:.2} s");
}
