use std::{collections::BTreeMap, time::Duration};

use twin_bus::{Bus, ReaderQos};
use twin_core::{Epoch, SimDuration, SimTime};
use twin_federates::net::{
    NetNodePosition, NetRoute, Network, Params, POSITION_TOPIC, ROUTE_TOPIC,
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
}
