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
    run_with(brain_params(), mode, seed, Vec::new()).unwrap()
}

fn brain_params() -> BrainParams {
    BrainParams {
        connectome: "synthetic:6".into(),
        model: "Epileptor2D".into(),
        coupling: 0.0,
        speed_mm_per_ms: 4.0,
        dt_ms: 0.1,
        monitor_period_ms: 10.0,
        stimulus: Vec::new(),
        seeg_shafts: 0,
        eeg: false,
        model_params: Default::default(),
        coupling_function: None,
        initial_state: vec![],
        seeg_gain: None,
        seeg_labels: vec![],
        seeg_positions: None,
    }
}

/// A federation of `brain` and the controller, with `extra` members alongside.
fn run_with(
    brain: BrainParams,
    mode: Mode,
    seed: u64,
    extra: Vec<MemberSpec>,
) -> Result<SeizureStats, String> {
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
    let s = fed.run(&mut |_| {}).map_err(|e| e.to_string())?;
    if !s.failures.is_empty() {
        return Err(format!("{:?}", s.failures));
    }
    let st = stats.lock().unwrap().clone();
    Ok(st)
}

/// A fitted patient's configuration: per-region x0 (two epileptogenic
/// regions of six), the VEP's difference coupling, the interictal initial
/// state, and a given SEEG gain.
#[test]
fn a_fitted_patient_seizes_only_where_its_x0_is_epileptogenic_and_closed_loop_shortens_it() {
    let tmp = tempfile::tempdir().unwrap();
    let gain = tmp.path().join("gain.npy");
    let g: Vec<f64> = (0..3 * 6).map(|k| 1.0 / (1.0 + k as f64)).collect();
    twin_brain::npy::write_npy_f64(&gain, &[3, 6], &g).unwrap();
    let mut p = brain_params();
    p.model_params
        .insert("x0".into(), vec![-1.6, -2.6, -1.7, -2.6, -2.6, -2.6]);
    p.coupling_function = Some("difference".into());
    p.coupling = 0.5;
    p.model_params.insert("Ks".into(), vec![-1.0]);
    p.initial_state = vec![-1.9, 3.6];
    p.seeg_gain = Some(gain.display().to_string());
    p.seeg_labels = vec!["A1".into(), "A2".into(), "A3".into()];
    let none = run_with(p.clone(), Mode::Off, 1, Vec::new()).unwrap();
    let closed = run_with(p, Mode::Closed, 1, Vec::new()).unwrap();
    eprintln!("fitted patient: none {none:?}, closed {closed:?}");
    // TVB's default x0 = −1.6 everywhere recruits all six regions (the test above).
    assert_eq!(none.regions_recruited, 2, "{none:?}");
    assert!(none.episodes >= 2);
    assert!(closed.stimuli > 0);
    assert!(
        closed.mean_duration_ms() < 0.5 * none.mean_duration_ms(),
        "closed {closed:?} none {none:?}"
    );
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
        brain_params(),
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
    )
    .unwrap();
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
