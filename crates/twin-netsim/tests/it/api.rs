//! The public API a federation member wraps: stepping, positions, routes,
//! statistics, process states and externally driven nodes.

use twin_core::NodeId;
use twin_netsim::{DcfState, PhyState, Scenario, SimError, Simulation};

use crate::secs;

const LINE: &str = r#"
[simulation]
name = "api"
duration = "20s"
seed = 11

[radios.wifi]
tx_power_dbm = 7.5

[routing]
protocol = "aodv"

[[nodes]]
name = "n"
count = 4
mobility = { model = "line", start = [0, 0, 0], spacing = [200, 0, 0] }

[[nodes]]
name = "drone"
mobility = { model = "external", position = [700, 100, 50] }

[[flows]]
src = "n0"
dst = "n3"
rate = 5.0
size = 256
start = "1s"

[[flows]]
src = "n0"
dst = "drone"
kind = "poisson"
rate = 2.0
size = 128
start = "1s"
"#;

fn sim() -> Simulation {
    Simulation::from_scenario(&Scenario::parse(LINE, None).unwrap()).unwrap()
}

#[test]
fn positions_are_observable_and_external_nodes_can_be_moved() {
    let mut s = sim();
    s.step_until(secs(2)).unwrap();
    let p = s.positions();
    assert_eq!(p.len(), 5);
    assert_eq!(p[2].xyz, [400.0, 0.0, 0.0]);
    assert_eq!((p[4].name.as_str(), p[4].altitude), ("drone", 50.0));
    let drone = s.node_id("drone").unwrap();
    s.set_position(drone, [600.0, 0.0, 60.0], [10.0, 0.0, 0.0])
        .unwrap();
    s.step_until(secs(4)).unwrap();
    let d = &s.positions()[4];
    assert_eq!(
        d.xyz,
        [620.0, 0.0, 60.0],
        "extrapolated with the given velocity"
    );
    assert_eq!(d.velocity, [10.0, 0.0, 0.0]);
    // Only external nodes accept positions, and coordinates must be finite.
    assert!(matches!(
        s.set_position(NodeId(1), [0.0; 3], [0.0; 3]),
        Err(SimError::NotExternal { .. })
    ));
    assert!(matches!(
        s.set_position(drone, [f64::NAN, 0.0, 0.0], [0.0; 3]),
        Err(SimError::InvalidPosition { .. })
    ));
    assert!(matches!(
        s.set_position(NodeId(99), [0.0; 3], [0.0; 3]),
        Err(SimError::UnknownNode { .. })
    ));
}

#[test]
fn routes_follow_next_hops_per_flow() {
    let mut s = sim();
    s.step_until(secs(5)).unwrap();
    let r = s.routes();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].hops, vec![NodeId(0), NodeId(1), NodeId(2), NodeId(3)]);
    assert!(r[0].complete);
    // The drone (700, 100, 50) is reached via n3 or n2.
    assert!(r[1].complete, "{:?}", r[1]);
    assert_eq!(*r[1].hops.last().unwrap(), s.node_id("drone").unwrap());
}

#[test]
fn stats_snapshot_serialises_to_json_and_csv() {
    let mut s = sim();
    s.run().unwrap();
    let st = s.stats();
    assert_eq!(st.flows.len(), 2);
    assert!(st.flows[0].delivery_ratio > 0.95, "{:?}", st.flows[0]);
    assert!(st.flows[0].delay_p95_ms >= st.flows[0].delay_p50_ms);
    assert!((st.flows[0].hops_mean - 3.0).abs() < 0.1);
    assert!(st.routing.control_packets > 0);
    let json: serde_json::Value = serde_json::from_str(&st.to_json()).unwrap();
    assert_eq!(json["flows"][0]["src"], 0);
    let csv = st.flows_csv();
    assert_eq!(csv.lines().count(), 3);
    assert!(csv.starts_with("flow,src,dst,tx_packets"));
}

#[test]
fn process_states_are_observable() {
    let mut s = sim();
    s.step_until(secs(3)).unwrap();
    let st = s.node_state(NodeId(1)).unwrap();
    assert_eq!(st.stack, vec!["udp", "aodv", "dcf", "802.11b"]);
    assert_eq!(st.mobility, "constant");
    assert!(matches!(
        st.phy,
        PhyState::Idle | PhyState::Rx | PhyState::CcaBusy | PhyState::Tx
    ));
    assert!(matches!(
        st.mac,
        DcfState::Idle | DcfState::Contend | DcfState::TxData | DcfState::WaitAck | DcfState::TxAck
    ));
    assert!(st.routing.neighbors.contains(&NodeId(0)) && st.routing.neighbors.contains(&NodeId(2)));
    assert!(s.node_state(NodeId(42)).is_none());
}

#[test]
fn time_never_goes_back() {
    let mut s = sim();
    s.step_until(secs(3)).unwrap();
    assert_eq!(s.now(), secs(3));
    assert!(matches!(
        s.step_until(secs(1)),
        Err(SimError::InPast { .. })
    ));
    assert!(s.next_event_time().unwrap() >= secs(3));
}

#[test]
fn simulation_can_move_to_another_thread() {
    fn is_send<T: Send>(_: &T) {}
    let s = sim();
    is_send(&s);
    let h = std::thread::spawn(move || {
        let mut s = s;
        s.step_until(secs(2)).unwrap();
        s.events_executed()
    });
    assert!(h.join().unwrap() > 0);
}
