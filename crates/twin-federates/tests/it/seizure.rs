//! Closed-loop stimulation over the federation: brain + seizure-controller,
//! compared with open-loop and no stimulation over seeds.

use std::time::Duration;

use twin_bus::Bus;
use twin_core::{Epoch, SimDuration, SimTime};
use twin_federates::brain::{Brain, Params as BrainParams};
use twin_federates::seizure::{Mode, Params, SeizureController, SeizureStats};
use twin_federation::*;

fn run(mode: Mode, seed: u64) -> SeizureStats {
    let dt = SimDuration::from_millis(100);
    let cfg = FederationConfig {
        controller: ControllerConfig {
            name: "closed-loop".into(),
            end: SimTime::ZERO + SimDuration::from_secs(8),
            pacing: 0.0,
            expected: vec![],
            on_member_lost: LostPolicy::Drop,
            start_frozen: false,
            status_every: Duration::from_secs(1),
            record_grants: false,
        },
        epoch: Epoch::UNIX,
        seed,
        stall_warning: Duration::from_secs(30),
        progress_every: Duration::from_secs(1),
        liveliness_lease: Duration::from_secs(5),
    };
    let brain = BrainParams {
        connectome: "synthetic:6".into(),
        model: "Epileptor2D".into(),
        coupling: 0.0,
        speed_mm_per_ms: 4.0,
        dt_ms: 0.1,
        monitor_period_ms: 10.0,
        stimulus: Vec::new(),
        seeg_shafts: 0,
        eeg: false,
    };
    let ctl = SeizureController::new(Params {
        mode,
        monitor: "tavg".into(),
        variable: "x1".into(),
        threshold: -0.5,
        amplitude: -1.0,
        open_period_ms: 4000.0,
        open_on_ms: 1000.0,
    });
    let stats = ctl.stats();
    let members = vec![
        MemberSpec {
            name: "brain".into(),
            mode: TimeMode::Stepped { dt },
            member: Box::new(Brain::new(brain)),
            threaded: false,
        },
        MemberSpec {
            name: "controller".into(),
            mode: TimeMode::Stepped { dt },
            member: Box::new(ctl),
            threaded: false,
        },
    ];
    let mut fed = Federation::new(Bus::in_memory(), cfg, members).unwrap();
    let s = fed.run(&mut |_| {}).unwrap();
    assert!(s.failures.is_empty(), "{:?}", s.failures);
    let st = stats.lock().unwrap().clone();
    st
}

#[test]
fn closed_loop_stimulation_shortens_seizures_against_open_loop_and_none() {
    for seed in [1, 2] {
        let none = run(Mode::Off, seed);
        let open = run(Mode::Open, seed);
        let closed = run(Mode::Closed, seed);
        for (name, st) in [("none", &none), ("open", &open), ("closed", &closed)] {
            eprintln!(
                "seed {seed} {name:>6}: {} episodes, mean {:.0} ms, {:.0} region-ms seizing, {} regions, {} stimuli",
                st.episodes,
                st.mean_duration_ms(),
                st.seizing_ms,
                st.regions_recruited,
                st.stimuli
            );
        }
        assert!(none.samples > 700 && none.episodes > 0, "{none:?}");
        assert_eq!(none.stimuli, 0);
        assert!(closed.stimuli > 0 && open.stimuli > 0);
        // Mean seizure episode at least halved against both.
        assert!(
            closed.mean_duration_ms() < 0.5 * open.mean_duration_ms(),
            "seed {seed}: closed {closed:?} open {open:?}"
        );
        assert!(
            closed.mean_duration_ms() < 0.5 * none.mean_duration_ms(),
            "seed {seed}: closed {closed:?} none {none:?}"
        );
        // Less time in seizure overall.
        assert!(closed.seizing_ms < none.seizing_ms && closed.seizing_ms < open.seizing_ms);
    }
}
