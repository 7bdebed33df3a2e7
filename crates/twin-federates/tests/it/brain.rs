use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use twin_brain::{RegionStimulus, Temporal};
use twin_bus::{Bus, ReaderQos, WriterQos};
use twin_core::{Epoch, SimDuration, SimTime};
use twin_federates::brain::{
    Brain, BrainSample, BrainStimulus, Params, MONITOR_PREFIX, STIMULUS_TOPIC,
};
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
}

impl Member for Probe {
    fn init(&mut self, ctx: &mut Ctx) -> Result<(), MemberError> {
        let topic = format!("{MONITOR_PREFIX}tavg");
        self.r = Some(ctx.reader(
            &topic,
            ReaderQos::default().reliable().keep_all().transient_local(),
        )?);
        self.w = Some(ctx.writer(STIMULUS_TOPIC, WriterQos::default().reliable().keep_all())?);
        Ok(())
    }
    fn advance(&mut self, ctx: &mut Ctx, to: SimTime) -> Result<Next, MemberError> {
        for s in self.r.as_mut().unwrap().take(ctx) {
            let v = s.value.unwrap();
            assert_eq!(v.regions, 20);
            self.seen.lock().unwrap().push((v.t, v.values));
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
    let seen: Seen = Arc::default();
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
            }),
            threaded: false,
        },
    ];
    let mut fed = Federation::new(Bus::in_memory(), cfg, members).unwrap();
    let s = fed.run(&mut |_| {}).unwrap();
    assert!(s.failures.is_empty(), "{:?}", s.failures);
    let v = seen.lock().unwrap().clone();
    v
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
