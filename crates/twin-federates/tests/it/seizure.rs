//! Closed-loop stimulation over the federation: brain + seizure-controller,
//! compared with open-loop and no stimulation over seeds.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use twin_bus::{Bus, ReaderQos};
use twin_core::{Epoch, SimDuration, SimTime};
use twin_federates::brain::{Brain, BrainStimulus, Params as BrainParams, STIMULUS_TOPIC};
use twin_federates::seizure::{Mode, Params, SeizureController, SeizureStats};
use twin_federation::*;

fn run(mode: Mode, seed: u64) -> SeizureStats {
    run_with(mode, seed, Vec::new())
}

/// [`run`] with `extra` members alongside the brain and the controller.
fn run_with(mode: Mode, seed: u64, extra: Vec<MemberSpec>) -> SeizureStats {
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
    let mut members = vec![
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
    members.extend(extra);
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

/// Opens a transient-local stimulus reader once time passes `at`; keeps what
/// it replayed.
struct LateReader {
    at: SimTime,
    got: Arc<Mutex<Option<Vec<BrainStimulus>>>>,
}

impl Member for LateReader {
    fn init(&mut self, _ctx: &mut Ctx) -> Result<(), MemberError> {
        Ok(())
    }

    fn advance(&mut self, ctx: &mut Ctx, to: SimTime) -> Result<Next, MemberError> {
        let mut got = self.got.lock().unwrap();
        if to > self.at && got.is_none() {
            let qos = ReaderQos::default().transient_local().keep_last(1);
            let mut r = ctx.reader::<BrainStimulus>(STIMULUS_TOPIC, qos)?;
            let values = r.take(ctx).into_iter().filter_map(|s| s.value).collect();
            *got = Some(values);
        }
        Ok(Next::Default)
    }
}

#[test]
fn a_member_joining_late_gets_the_controllers_last_stimulus() {
    let got = Arc::new(Mutex::new(None));
    // Open loop: on from 0 s to 1 s, so a stimulus exists by 1.5 s.
    let late = LateReader {
        at: SimTime::ZERO + SimDuration::from_millis(1500),
        got: Arc::clone(&got),
    };
    let st = run_with(
        Mode::Open,
        1,
        vec![MemberSpec {
            name: "late".into(),
            mode: TimeMode::Stepped {
                dt: SimDuration::from_millis(100),
            },
            member: Box::new(late),
            threaded: false,
        }],
    );
    assert!(st.stimuli > 0, "{st:?}");
    let got = got.lock().unwrap().clone().expect("the late reader ran");
    assert_eq!(got.len(), 1, "the last value only: {got:?}");
    assert_eq!(got[0].variable, "x1");
    // The pulse ended at 1 s: what is in force is the switch-off, not the
    // switch-on written first.
    assert!(
        got[0].amplitude.len() == 6 && got[0].amplitude.iter().all(|&a| a == 0.0),
        "{got:?}"
    );
}
