//! Closed-loop stimulation over the federation: brain + seizure-controller,
//! compared with open-loop and no stimulation over seeds.

use std::time::Duration;

use twin_bus::Bus;
use twin_core::{Epoch, SimDuration, SimTime};
use twin_federates::brain::{Brain, Params as BrainParams};
use twin_federates::seizure::{Mode, Params, SeizureController, SeizureStats};
use twin_federation::*;

fn run(mode: Mode, seed: u64) -> SeizureStats {
    run_with(brain_params(), mode, seed).unwrap()
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
        model_params: Default::default(),
        coupling_function: None,
        initial_state: vec![],
        seeg_gain: None,
        seeg_labels: vec![],
        seeg_positions: None,
    }
}

fn run_with(brain: BrainParams, mode: Mode, seed: u64) -> Result<SeizureStats, String> {
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
    let none = run_with(p.clone(), Mode::Off, 1).unwrap();
    let closed = run_with(p, Mode::Closed, 1).unwrap();
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
