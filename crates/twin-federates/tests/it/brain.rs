use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use twin_brain::{RegionStimulus, Temporal};
use twin_bus::{Bus, ReaderQos, WriterQos};
use twin_core::{Epoch, SimDuration, SimTime};
use twin_federates::brain::{
    Brain, BrainChannels, BrainSample, BrainStimulus, Params, MONITOR_PREFIX, SEEG_TOPIC,
    STIMULUS_TOPIC,
};
use twin_federates::eeg::{eeg_gain, eeg_sensors, EEG_TOPIC};
use twin_federates::Catalog;
use twin_federation::*;
use twin_scenario::KindCatalog as _;

type Seen = Arc<Mutex<Vec<(SimTime, Vec<f32>)>>>;

/// Reads the brain's samples; optionally injects a stimulus at `stim_at`.
struct Probe {
    seen: Seen,
    stim_at: Option<SimTime>,
    r: Option<TimedReader<BrainSample>>,
    w: Option<TimedWriter<BrainStimulus>>,
    /// SEEG channel samples, when the brain records them.
    seeg: Arc<Mutex<Vec<BrainChannels>>>,
    seeg_r: Option<TimedReader<BrainChannels>>,
    /// EEG channel samples, when the brain records them.
    eeg: Arc<Mutex<Vec<BrainChannels>>>,
    eeg_r: Option<TimedReader<BrainChannels>>,
}

impl Member for Probe {
    fn init(&mut self, ctx: &mut Ctx) -> Result<(), MemberError> {
        let topic = format!("{MONITOR_PREFIX}tavg");
        self.r = Some(ctx.reader(
            &topic,
            ReaderQos::default().reliable().keep_all().transient_local(),
        )?);
        self.w = Some(ctx.writer(STIMULUS_TOPIC, WriterQos::default().reliable().keep_all())?);
        self.seeg_r = Some(ctx.reader(
            SEEG_TOPIC,
            ReaderQos::default().reliable().keep_all().transient_local(),
        )?);
        self.eeg_r = Some(ctx.reader(
            EEG_TOPIC,
            ReaderQos::default().reliable().keep_all().transient_local(),
        )?);
        Ok(())
    }
    fn advance(&mut self, ctx: &mut Ctx, to: SimTime) -> Result<Next, MemberError> {
        for s in self.r.as_mut().unwrap().take(ctx) {
            let v = s.value.unwrap();
            assert_eq!(v.regions, 20);
            self.seen.lock().unwrap().push((v.t, v.values));
        }
        for s in self.seeg_r.as_mut().unwrap().take(ctx) {
            self.seeg.lock().unwrap().push(s.value.unwrap());
        }
        for s in self.eeg_r.as_mut().unwrap().take(ctx) {
            self.eeg.lock().unwrap().push(s.value.unwrap());
        }
        if Some(to) == self.stim_at {
            let amp = vec![0.5; 20];
            self.w.as_ref().unwrap().write(
                ctx,
                BrainStimulus {
                    variable: "V".into(),
                    amplitude: amp,
                },
            )?;
        }
        Ok(Next::Default)
    }
}

fn run(stim_at: Option<SimTime>, scheduled: Vec<RegionStimulus>) -> Vec<(SimTime, Vec<f32>)> {
    run_with(stim_at, scheduled, 0, false).0
}

/// tavg, SEEG and EEG samples as the probe saw them.
type Runs = (
    Vec<(SimTime, Vec<f32>)>,
    Vec<BrainChannels>,
    Vec<BrainChannels>,
);

fn run_with(
    stim_at: Option<SimTime>,
    scheduled: Vec<RegionStimulus>,
    seeg_shafts: u32,
    eeg: bool,
) -> Runs {
    let seen: Seen = Arc::default();
    let seeg: Arc<Mutex<Vec<BrainChannels>>> = Arc::default();
    let eeg_seen: Arc<Mutex<Vec<BrainChannels>>> = Arc::default();
    let dt = SimDuration::from_millis(100);
    let cfg = FederationConfig {
        controller: ControllerConfig {
            name: "brain-test".into(),
            end: SimTime::ZERO + SimDuration::from_millis(500),
            pacing: 0.0,
            expected: vec![],
            on_member_lost: LostPolicy::Drop,
            start_frozen: false,
            status_every: Duration::from_secs(1),
            record_grants: false,
        },
        epoch: Epoch::UNIX,
        seed: 11,
        stall_warning: Duration::from_secs(30),
        progress_every: Duration::from_secs(1),
        liveliness_lease: Duration::from_secs(5),
    };
    let params = Params {
        connectome: "synthetic:20".into(),
        model: "Generic2dOscillator".into(),
        coupling: 0.0154,
        speed_mm_per_ms: 4.0,
        dt_ms: 0.1,
        monitor_period_ms: 10.0,
        stimulus: scheduled,
        seeg_shafts,
        eeg,
        model_params: Default::default(),
        coupling_function: None,
        initial_state: vec![],
        seeg_gain: None,
        seeg_labels: vec![],
        seeg_positions: None,
    };
    let members = vec![
        MemberSpec {
            name: "brain".into(),
            mode: TimeMode::Stepped { dt },
            member: Box::new(Brain::new(params)),
            threaded: false,
        },
        MemberSpec {
            name: "probe".into(),
            mode: TimeMode::Stepped { dt },
            member: Box::new(Probe {
                seen: Arc::clone(&seen),
                stim_at,
                r: None,
                w: None,
                seeg: Arc::clone(&seeg),
                seeg_r: None,
                eeg: Arc::clone(&eeg_seen),
                eeg_r: None,
            }),
            threaded: false,
        },
    ];
    let mut fed = Federation::new(Bus::in_memory(), cfg, members).unwrap();
    let s = fed.run(&mut |_| {}).unwrap();
    assert!(s.failures.is_empty(), "{:?}", s.failures);
    let v = seen.lock().unwrap().clone();
    let c = seeg.lock().unwrap().clone();
    let e = eeg_seen.lock().unwrap().clone();
    (v, c, e)
}

#[test]
fn virtual_seeg_contacts_record_through_the_inverse_square_gain() {
    let (tavg, seeg, eeg) = run_with(None, vec![], 2, false);
    assert!(eeg.is_empty(), "no EEG unless asked for");
    // One channel sample per temporal-average sample, 2 shafts × 6 contacts.
    assert_eq!(seeg.len(), tavg.len());
    let first = &seeg[0];
    assert_eq!(first.monitor, "seeg");
    assert_eq!(first.variable, "V");
    let want: Vec<String> = ["A", "B"]
        .iter()
        .flat_map(|s| (1..=6).map(move |k| format!("{s}{k}")))
        .collect();
    assert_eq!(first.labels, want);
    assert_eq!(first.positions_mm.len(), 12);
    // Each value is the gain-weighted sum of the regions' first variable,
    // averaged over the window: check it against the tavg sample (the
    // window averages of a linear map commute).
    let centres = twin_federates::brain::synthetic_connectome(20, 11)
        .centres()
        .to_vec();
    for (c, (t, x)) in seeg.iter().zip(&tavg) {
        assert_eq!(c.t, *t);
        for (k, p) in c.positions_mm.iter().enumerate() {
            let want: f64 = centres
                .iter()
                .zip(x.iter().take(20))
                .map(|(r, &v)| {
                    let d2: f64 = (0..3).map(|i| (p[i] - r[i]).powi(2)).sum();
                    if d2 > 0.0 {
                        f64::from(v) / d2
                    } else {
                        0.0
                    }
                })
                .sum();
            let got = f64::from(c.values[k]);
            assert!(
                (got - want).abs() <= 1e-3 * want.abs().max(1e-3),
                "{} at {t}: {got} vs {want}",
                c.labels[k]
            );
        }
    }
    // The signal changes over time.
    assert_ne!(seeg[0].values, seeg[seeg.len() - 1].values);
}

#[test]
fn scalp_eeg_records_the_10_20_montage_through_the_dipole_lead_field() {
    // With SEEG too, so both sensor monitors are routed to their topics.
    let (tavg, seeg, eeg) = run_with(None, vec![], 1, true);
    assert_eq!(seeg.len(), tavg.len());
    assert_eq!(eeg.len(), tavg.len());
    assert!(seeg
        .iter()
        .all(|c| c.monitor == "seeg" && c.labels.len() == 6));
    let centres = twin_federates::brain::synthetic_connectome(20, 11)
        .centres()
        .to_vec();
    let (labels, positions) = eeg_sensors(&centres);
    let gain = eeg_gain(&centres, &positions);
    let first = &eeg[0];
    assert_eq!(first.monitor, "eeg");
    assert_eq!(first.variable, "V");
    assert_eq!(first.labels, labels);
    assert_eq!(first.labels.len(), 19);
    assert_eq!(first.positions_mm, positions);
    for (c, (t, x)) in eeg.iter().zip(&tavg) {
        assert_eq!(c.t, *t);
        // Average reference: the channels sum to zero.
        let sum: f64 = c.values.iter().map(|&v| f64::from(v)).sum();
        let scale = c
            .values
            .iter()
            .fold(0.0f64, |m, &v| m.max(f64::from(v).abs()));
        assert!(sum.abs() <= 1e-4 * scale.max(1e-9), "sum {sum} at {t}");
        for (s, &got) in c.values.iter().enumerate() {
            let want: f64 = (0..20).map(|i| gain[s * 20 + i] * f64::from(x[i])).sum();
            assert!(
                (f64::from(got) - want).abs() <= 1e-3 * want.abs().max(1e-6),
                "{} at {t}: {got} vs {want}",
                c.labels[s]
            );
        }
    }
    assert_ne!(eeg[0].values, eeg[eeg.len() - 1].values);
}

#[test]
fn brain_publishes_at_the_monitor_rate_and_reacts_to_a_stimulus_within_one_step() {
    let ms = |n: u64| SimTime::ZERO + SimDuration::from_millis(n);
    let base = run(None, vec![]);
    // 10 ms monitor period: 10 samples per 100 ms step over 5 grants; the
    // temporal average is stamped mid-window (5, 15, …, 495 ms), so every
    // sample is visible to the probe by its last grant at 500 ms.
    assert_eq!(base.len(), 50, "samples seen: {}", base.len());
    assert_eq!(base[0].0, ms(5));
    assert!(base
        .windows(2)
        .all(|w| w[1].0 - w[0].0 == SimDuration::from_millis(10)));
    let stim = run(Some(ms(200)), vec![]);
    assert_eq!(stim.len(), base.len());
    for (a, b) in base.iter().zip(&stim) {
        assert_eq!(a.0, b.0);
        if a.0 <= ms(200) {
            assert_eq!(a.1, b.1, "changed before the stimulus at {}", a.0);
        }
    }
    // Injected at 200 ms, applied from the brain's next step: the first
    // sample after 200 ms already differs.
    let first_after = stim.iter().position(|s| s.0 > ms(200)).unwrap();
    assert_ne!(
        base[first_after].1, stim[first_after].1,
        "no reaction within one step"
    );
}

#[test]
fn scheduled_pulse_train_from_the_scenario_drives_its_region_from_onset() {
    let ms = |n: u64| SimTime::ZERO + SimDuration::from_millis(n);
    let base = run(None, vec![]);
    // 1 ms pulses every 5 ms from 300 ms on, at region 3 only.
    let pulse =
        RegionStimulus::at_regions(Temporal::pulse_train(5.0, 1.0, 2.0, 300.0), vec![3], 1.0);
    let stim = run(None, vec![pulse]);
    assert_eq!(stim.len(), base.len());
    for (a, b) in base.iter().zip(&stim) {
        if a.0 < ms(300) {
            assert_eq!(a.1, b.1, "changed before the onset at {}", a.0);
        }
    }
    // The first window after onset: region 3 moved, uncoupled regions did not
    // yet (delays of several ms separate them).
    let k = stim.iter().position(|s| s.0 > ms(300)).unwrap();
    assert_ne!(base[k].1[3], stim[k].1[3]);
    let changed = (0..20).filter(|&i| base[k].1[i] != stim[k].1[i]).count();
    assert!(changed < 20, "every region changed in the first window");
}

#[test]
fn stimulus_params_are_checked_with_their_location() {
    let table: toml::Table = toml::from_str(
        r#"
connectome = "synthetic:20"
model = "Generic2dOscillator"
coupling = 0.01
[[stimulus]]
temporal = { kind = "PulseTrain", T = 0.0, tau = 1.0 }
regions = [25]
"#,
    )
    .unwrap();
    let issues = Catalog.check_params("brain", &table).unwrap_err();
    let text = format!("{issues:?}");
    assert!(text.contains("`T`") && text.contains("region 25"), "{text}");
}
