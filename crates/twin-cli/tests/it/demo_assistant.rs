//! `twin demo --assistant` with SmolLM2 (llama feature; scripts/fetch-llm-models fetches the
//! model): a question through the dashboard's `POST /api/assistant/ask` gets the real model's
//! answer, citing samples that the demo really published.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::PathBuf,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

/// One HTTP/1.1 request to the dashboard; returns status and JSON body.
fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).expect("connect to the dashboard");
    s.set_read_timeout(Some(Duration::from_secs(300))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Kills the demo if the test fails half-way.
struct Demo(std::process::Child);

impl Drop for Demo {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn demo_assistant_answers_from_the_dashboard_citing_published_data() {
    let model = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/models/SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        model.exists(),
        "{} missing: run scripts/fetch-llm-models",
        model.display()
    );
    let d = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_twin"))
        .args(["demo", "--end", "600s", "--dashboard-port", "0", "--quiet"])
        .arg("--assistant")
        .arg(&model)
        .args(["--assistant-threads", "2"])
        .current_dir(d.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut demo = Demo(child);
    let mut stdout = BufReader::new(demo.0.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = line
        .strip_prefix("dashboard: http://")
        .and_then(|r| r.trim().strip_suffix('/'))
        .unwrap_or_else(|| panic!("first line names the dashboard: {line:?}"))
        .to_owned();

    // Let the demo run ≥ 1.5 s of simulated time (network statistics every 1 s, ticks every
    // 0.75 s on average); with the assistant and no --pacing it runs in real time (slower in
    // debug builds, where the brain member lags).
    let start = Instant::now();
    loop {
        let (status, f) = http(&addr, "GET", "/api/federation", "");
        assert_eq!(status, 200, "{f}");
        if f["time_ns"].as_u64().unwrap_or(0) >= 1_500_000_000 {
            assert_eq!(f["state"], "running", "{f}");
            assert!(
                (f["pacing"].as_f64().unwrap_or(0.0) - 1.0).abs() < 1e-9,
                "{f}"
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "demo stuck: {f}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let asked = Instant::now();
    let (status, a) = http(
        &addr,
        "POST",
        "/api/assistant/ask",
        r#"{"question": "What is the number n of the latest demo tick?"}"#,
    );
    let answer_s = asked.elapsed().as_secs_f64();
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["error"], false, "{a}");
    assert_eq!(a["model"], "SmolLM2-135M-Instruct.Q4_1", "{a}");
    assert!(!a["text"].as_str().unwrap().trim().is_empty(), "{a}");
    let answered_at = a["sim_time"].as_u64().unwrap();
    let cites = a["citations"].as_array().unwrap();
    assert!(!cites.is_empty(), "no citations: {a}");

    let (status, _) = http(&addr, "POST", "/api/control/end", "");
    assert_eq!(status, 202);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(demo.0.wait().unwrap().success(), "{rest}");
    assert!(rest.contains("federation `demo` ended"), "{rest}");

    // Every citation is a sample the demo published: ticks are checked against the
    // recorder's file (same time, same event number), the others by their fields.
    let record = std::fs::read_to_string(d.path().join("out/demo-record.jsonl")).unwrap();
    let ticks: Vec<(u64, u64)> = record
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["topic"] == "twin/demo/tick")
        .map(|v| {
            (
                v["t_ns"].as_u64().unwrap(),
                v["data"]["n"].as_u64().unwrap(),
            )
        })
        .collect();
    for c in cites {
        let t = c["sim_time"].as_u64().unwrap();
        let excerpt = c["excerpt"].as_str().unwrap();
        assert!(
            t > 0 && t <= answered_at,
            "{c} (answer at {answered_at} ns)"
        );
        let field = match c["topic"].as_str().unwrap() {
            "twin/demo/tick" => {
                let n: u64 = excerpt
                    .strip_prefix("{n: ")
                    .and_then(|r| r.strip_suffix('}'))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("tick excerpt {excerpt:?}"));
                assert!(ticks.contains(&(t, n)), "{c} is not a recorded tick");
                "n: "
            }
            "twin/net/stats" => "rx_packets: ",
            "twin/net/route" => "hops: ",
            "twin/net/node/position" => "altitude_m: ",
            "twin/brain/monitor/tavg" => "regions: 76",
            other => panic!("cites a topic the demo's assistant does not watch: {other}"),
        };
        assert!(excerpt.contains(field), "{c}");
    }
    eprintln!(
        "answer in {answer_s:.1} s: {} ({} citation(s))",
        a["text"],
        cites.len()
    );
}
