//! `twin brain simulate` and `twin brain sweep` through the binary.

use std::{fs, path::Path};

use twin_brain::npy::read_npy;

use crate::twin;

const G2D: &str = r#"connectome = "synthetic:12"
speed = 4.0
dt = 0.1
duration_ms = 100.0
integrator = "Heun"
initial = { kind = "Random", seed = 5 }

[model]
name = "Generic2dOscillator"

[coupling]
kind = "Linear"
a = 0.01

[[monitors]]
kind = "TemporalAverage"
period = 1.0
"#;

const PULSE: &str = r#"
[[stimulus]]
temporal = { kind = "PulseTrain", T = 20.0, tau = 2.0, amp = 3.0, onset = 50.0 }
regions = [3]
"#;

fn tavg(dir: &Path) -> (Vec<usize>, Vec<f64>) {
    let a = read_npy(dir.join("tavg.npy")).unwrap();
    (a.shape.clone(), a.to_f64().unwrap())
}

#[test]
fn simulate_writes_npy_csv_png_and_metadata_and_the_stimulus_acts_from_onset() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("plain.toml"), G2D).unwrap();
    fs::write(d.path().join("stim.toml"), format!("{G2D}{PULSE}")).unwrap();
    let (code, out, err) = twin(
        d.path(),
        &["brain", "simulate", "plain.toml", "-o", "a", "-q"],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let args = [
        "brain",
        "simulate",
        "stim.toml",
        "-o",
        "b",
        "--csv",
        "--plot",
        "-q",
    ];
    let (code, out, err) = twin(d.path(), &args);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("12 regions, 1000 steps"), "{out}");
    let b = d.path().join("b");
    for f in [
        "metadata.json",
        "tavg.npy",
        "tavg_time.npy",
        "tavg.csv",
        "tavg.png",
    ] {
        assert!(b.join(f).is_file(), "{f} missing");
    }
    assert_eq!(&fs::read(b.join("tavg.png")).unwrap()[1..4], b"PNG");
    let meta: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(b.join("metadata.json")).unwrap()).unwrap();
    assert_eq!(meta["model"], "Generic2dOscillator");
    assert_eq!(meta["samples"]["tavg"], 100);
    assert_eq!(meta["run"]["config"]["stimulus"][0]["regions"][0], 3);
    let csv = fs::read_to_string(b.join("tavg.csv")).unwrap();
    assert_eq!(csv.lines().count(), 101);
    assert!(csv.starts_with("time_ms,V_0,V_1"));
    let ((shape, plain), (_, stim)) = (tavg(&d.path().join("a")), tavg(&b));
    assert_eq!(shape, [100, 1, 12]);
    // Windows end at 1, 2, … ms: the first 50 are untouched, then region 3 moves first.
    assert_eq!(plain[..50 * 12], stim[..50 * 12]);
    assert_ne!(plain[50 * 12 + 3], stim[50 * 12 + 3]);
    assert_eq!(plain[50 * 12 + 4], stim[50 * 12 + 4]);
}

#[test]
fn flags_alone_describe_a_run_on_a_tvb_connectome() {
    let conn = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../twin-brain/tests/data/tvb-data/connectivity_76.zip");
    let d = tempfile::tempdir().unwrap();
    let conn = conn.to_str().unwrap();
    let args = [
        "brain",
        "simulate",
        "--connectome",
        conn,
        "--model",
        "Epileptor",
        "--param",
        "x0=-1.8",
        "--coupling",
        "difference:a=1",
        "--integrator",
        "heun",
        "--dt",
        "0.05",
        "--speed",
        "4",
        "--duration-ms",
        "20",
        "--nsig",
        "0,0,0,3e-4,3e-4,0",
        "--seed",
        "9",
        "--monitor",
        "tavg:period=2",
        "--monitor",
        "raw",
        "-o",
        "out",
        "-q",
    ];
    let with_voi: Vec<&str> = args
        .iter()
        .map(|&a| if a == "out" { "voi" } else { a })
        .chain(["--voi", "x1,z,y2"])
        .collect();
    let (code, out, err) = twin(d.path(), &args);
    assert_eq!(code, 0, "{out}\n{err}");
    let (shape, v) = tavg(&d.path().join("out"));
    assert_eq!(shape, [10, 2, 76]); // Epileptor's default VOI: x2 - x1, z
    assert!(v.iter().all(|x| x.is_finite()));
    let raw = read_npy(d.path().join("out/raw.npy")).unwrap();
    assert_eq!(raw.shape, [400, 2, 76]);
    let meta = fs::read_to_string(d.path().join("out/metadata.json")).unwrap();
    assert!(meta.contains("\"x0\""), "{meta}");
    let (code, out, err) = twin(d.path(), &with_voi);
    assert_eq!(code, 0, "{out}\n{err}");
    let (shape, _) = tavg(&d.path().join("voi"));
    assert_eq!(shape, [10, 3, 76]);
}

#[test]
fn bad_specs_fail_with_the_file_line_or_flag_named() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("g.toml"), G2D).unwrap();
    let bad = G2D.replace("speed = 4.0", "speed = 4.0\nsped = 1.0");
    fs::write(d.path().join("typo.toml"), bad).unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["brain", "simulate", "typo.toml"],
            "typo.toml:3: unknown field `sped`",
        ),
        (
            &["brain", "simulate", "g.toml", "--model", "Nope"],
            "unknown model `Nope`",
        ),
        (
            &["brain", "simulate", "--model", "Epileptor"],
            "no `connectome`",
        ),
        (
            &["brain", "simulate", "missing.toml"],
            "cannot read missing.toml",
        ),
        (
            &[
                "brain",
                "simulate",
                "g.toml",
                "--stimulus",
                "temporal={kind=\"Sinusoid\"},regions=[40]",
            ],
            "stimulus 0: region 40 is out of range",
        ),
        (
            &["brain", "simulate", "g.toml", "--coupling", "magic"],
            "unknown kind `magic`",
        ),
        (
            &["brain", "simulate", "g.toml", "--connectome", "nowhere.zip"],
            "nowhere.zip",
        ),
        (
            &["brain", "sweep", "g.toml", "--vary", "coupling.a=1:2"],
            "start:stop:count",
        ),
    ];
    for (args, want) in cases {
        let (code, out, err) = twin(d.path(), args);
        assert_ne!(code, 0, "{args:?} succeeded: {out}");
        assert!(err.contains(want), "{args:?}: want `{want}` in:\n{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn sweep_writes_one_row_per_grid_point_independent_of_threads() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("g.toml"), G2D).unwrap();
    let run = |threads: &str, out: &str| {
        let args = [
            "brain",
            "sweep",
            "g.toml",
            "--vary",
            "coupling.a=0:0.04:3",
            "--vary",
            "noise.nsig=1e-5,1e-3",
            "--threads",
            threads,
            "-o",
            out,
        ];
        let (code, stdout, err) = twin(d.path(), &args);
        assert_eq!(code, 0, "{stdout}\n{err}");
        assert!(stdout.contains("6 runs (0 failed)"), "{stdout}");
        let text = fs::read_to_string(d.path().join(out)).unwrap();
        // Drop the wall-time column: everything else must be reproducible.
        text.lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string())
            .collect::<Vec<_>>()
    };
    let one = run("1", "one.csv");
    let two = run("2", "two.csv");
    assert_eq!(one, two);
    assert_eq!(one.len(), 7);
    assert_eq!(one[0], "run,coupling.a,noise.nsig,tavg.V.mean,tavg.V.var");
    assert!(one[1].starts_with("0,0.0,1e-5,"));
    assert!(one[6].starts_with("5,0.04,0.001,"));
    let var = |l: &str| l.split(',').nth(4).unwrap().parse::<f64>().unwrap();
    assert_ne!(var(&one[1]), var(&one[2]), "noise had no effect");
}

#[test]
fn the_bundled_stimulation_scenario_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cfg = root.join("scenarios/brain/epileptor-stimulation.toml");
    let d = tempfile::tempdir().unwrap();
    let args = [
        "brain",
        "simulate",
        cfg.to_str().unwrap(),
        "--duration-ms",
        "5",
        "-o",
        "o",
        "-q",
    ];
    let (code, out, err) = twin(d.path(), &args);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("76 regions, 100 steps"), "{out}");
    let (shape, _) = tavg(&d.path().join("o"));
    assert_eq!(shape, [5, 2, 76]);
}

#[test]
fn the_output_table_of_a_config_sets_folder_csv_and_plot() {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir(d.path().join("cfg")).unwrap();
    let text = format!("{G2D}\n[output]\ndir = \"results\"\ncsv = true\nplot = true\n");
    fs::write(d.path().join("cfg/g.toml"), text).unwrap();
    let (code, out, err) = twin(d.path(), &["brain", "simulate", "cfg/g.toml", "-q"]);
    assert_eq!(code, 0, "{out}\n{err}");
    for f in ["tavg.npy", "tavg.csv", "tavg.png", "metadata.json"] {
        assert!(d.path().join("cfg/results").join(f).is_file(), "{f}");
    }
    let bad = format!("{G2D}\n[output]\nfolder = \"x\"\n");
    fs::write(d.path().join("bad.toml"), bad).unwrap();
    let (code, _, err) = twin(d.path(), &["brain", "simulate", "bad.toml"]);
    assert_ne!(code, 0);
    assert!(err.contains("[output]") && err.contains("folder"), "{err}");
}

#[test]
fn a_fitted_patient_runs_in_its_closed_loop_scenario() {
    let d = tempfile::tempdir().unwrap();
    let ok = |args: &[&str]| {
        let (code, out, err) = twin(d.path(), args);
        assert_eq!(code, 0, "{args:?}\n{out}\n{err}");
        (out, err)
    };
    ok(&[
        "brain",
        "vep",
        "patient",
        "--connectome",
        "toy:8",
        "--out",
        "p",
        "--n-ez",
        "1",
        "--n-pz",
        "1",
        "--shafts",
        "4",
        "--duration-s",
        "20",
    ]);
    ok(&["brain", "vep", "fit", "--patient", "p"]);
    ok(&[
        "brain",
        "vep",
        "scenario",
        "--patient",
        "p",
        "--out",
        "s.toml",
        "--duration-s",
        "30",
    ]);
    let text = std::fs::read_to_string(d.path().join("s.toml")).unwrap();
    assert!(text.contains("x0 = [") && text.contains("coupling_function = \"difference\""));
    let summary = |mode: &str| -> (u64, f64, u64) {
        let t = text.replace("mode = \"closed\"", &format!("mode = \"{mode}\""));
        std::fs::write(d.path().join("m.toml"), t).unwrap();
        let (_, err) = ok(&["run", "m.toml", "--log", "info"]);
        // Drop the log's colour escapes (ESC [ … m).
        let mut plain = String::new();
        let mut esc = false;
        for c in err.chars() {
            match (esc, c) {
                (false, '\u{1b}') => esc = true,
                (true, 'm') => esc = false,
                (false, c) => plain.push(c),
                _ => {}
            }
        }
        let line = plain
            .lines()
            .find(|l| l.contains("seizure controller summary"))
            .unwrap_or_else(|| panic!("{err}"))
            .to_string();
        let field = |k: &str| -> f64 {
            let s = line.split(&format!("{k}=")).nth(1).unwrap();
            let v: String = s
                .chars()
                .skip_while(|c| !c.is_ascii_digit())
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            v.parse().unwrap()
        };
        (
            field("regions_recruited") as u64,
            field("mean_duration_ms"),
            field("stimuli") as u64,
        )
    };
    let (regions, off_ms, _) = summary("off");
    let (_, closed_ms, stimuli) = summary("closed");
    // Only the fitted EZ seizes; responsive stimulation cuts its episodes short.
    assert_eq!(regions, 1);
    assert!(
        stimuli > 0 && closed_ms < 0.5 * off_ms,
        "{closed_ms} vs {off_ms}"
    );
}
