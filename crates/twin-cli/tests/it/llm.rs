//! `twin llm …` end to end: real processes on 127.0.0.1, the mock engine (no model needed).

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `twin ARGS` and waits for the `http://127.0.0.1:PORT` it prints.
fn spawn(args: &[&str]) -> (Proc, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_twin"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run twin");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .trim()
        .to_owned();
    (Proc(child), addr)
}

/// One HTTP/1.0 request; returns status and JSON body.
fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: t\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn mock_instance(id: &str) -> (Proc, String) {
    spawn(&[
        "llm",
        "serve",
        "--mock",
        "--id",
        id,
        "--port",
        "0",
        "--slots",
        "2",
        "--mock-token-ms",
        "40",
        "--no-access-log",
    ])
}

#[test]
fn gateway_survives_an_instance_killed_mid_run() {
    let (mut a, a_addr) = mock_instance("a");
    let (_b, b_addr) = mock_instance("b");
    let (_g, gw) = spawn(&[
        "llm",
        "gateway",
        "--backend",
        &a_addr,
        "--backend",
        &b_addr,
        "--port",
        "0",
        "--health-ms",
        "100",
    ]);
    // 16 requests at once: 4 slots in all, 4 pieces × 40 ms each, so about four waves.
    let started = Instant::now();
    let clients: Vec<_> = (0..16)
        .map(|i| {
            let gw = gw.clone();
            std::thread::spawn(move || {
                let body = format!(r#"{{"prompt": "request {i}", "max_tokens": 8}}"#);
                http(&gw, "POST", "/v1/completions", &body)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(250));
    a.0.kill().unwrap();
    a.0.wait().unwrap();
    let mut by = std::collections::HashMap::new();
    for c in clients {
        let (status, body) = c.join().unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["choices"][0]["text"], "Hello, world!", "{body}");
        *by.entry(body["model"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    assert!(
        by.get("a").copied().unwrap_or(0) >= 1,
        "a served before it died: {by:?}"
    );
    assert!(by["b"] >= 8, "b took over a's share: {by:?}");
    assert!(started.elapsed() < Duration::from_secs(20));
    // After the kill: everything goes to b, and the gateway reports a as down.
    for i in 0..4 {
        let (status, body) = http(
            &gw,
            "POST",
            "/v1/chat/completions",
            &format!(r#"{{"messages": [{{"role": "user", "content": "after {i}"}}]}}"#),
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["model"], "b");
    }
    let (status, health) = http(&gw, "GET", "/health", "");
    assert_eq!(status, 200);
    assert_eq!(health["healthy"], 1, "{health}");
    assert_eq!(health["backends"][0]["healthy"], false, "{health}");
}

fn twin_with_input(args: &[&str], input: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_twin"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run twin");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn run_answers_one_prompt_or_chats_line_by_line() {
    let (code, out, err) = twin_with_input(&["llm", "run", "--mock", "Hi there"], "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "Hello, world!\n");
    let (code, out, err) = twin_with_input(
        &["llm", "run", "--mock"],
        "first question\n\n/reset\nsecond question\n/exit\nnever asked\n",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out, "Hello, world!\nHello, world!\n",
        "two answers, then /exit"
    );
    assert!(err.contains("(conversation forgotten)"), "{err}");
    let (code, _, err) = twin_with_input(&["llm", "run", "--mock", "--temperature=-1", "x"], "");
    assert_ne!(code, 0);
    assert!(err.contains("temperature"), "{err}");
}

#[test]
fn bench_reports_every_concurrency_level() {
    let (code, out, err) = twin_with_input(
        &[
            "llm",
            "bench",
            "--mock",
            "--slots",
            "2",
            "--mock-token-ms",
            "5",
            "--conc",
            "1,3",
            "--tokens",
            "4",
            "--json",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert_eq!(rows[0]["streams"], 1);
    assert_eq!(rows[1]["streams"], 3);
    for r in &rows {
        let rate = r["aggregate_tok_s"].as_f64().unwrap();
        // 4 pieces 5 ms apart: at most 200 tok/s per stream.
        assert!(rate > 10.0 && rate < 200.0 * 3.0, "{r}");
        assert!(r["ttft_p50_ms"].as_f64().unwrap() >= 5.0, "{r}");
        assert!(r["ttft_p99_ms"].as_f64().unwrap() >= r["ttft_p50_ms"].as_f64().unwrap());
    }
    // Three streams over two slots: the third waits a whole generation for its first token.
    assert!(
        rows[1]["ttft_p99_ms"].as_f64().unwrap() >= 20.0,
        "{}",
        rows[1]
    );
}

/// A minimal valid GGUF (v3, no tensors, one metadata entry).
fn tiny_gguf() -> Vec<u8> {
    let mut b = b"GGUF".to_vec();
    b.extend(3u32.to_le_bytes());
    b.extend(0u64.to_le_bytes());
    b.extend(1u64.to_le_bytes());
    let key = b"general.architecture";
    b.extend((key.len() as u64).to_le_bytes());
    b.extend(key);
    b.extend(8u32.to_le_bytes());
    b.extend(5u64.to_le_bytes());
    b.extend(b"llama");
    b
}

/// A hub on 127.0.0.1 serving `org/repo` with `files` (path, bytes, published sha256).
fn hub(files: Vec<(&'static str, Vec<u8>, String)>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut c) = conn else { continue };
            let mut req = Vec::new();
            let mut byte = [0u8; 1];
            while !req.ends_with(b"\r\n\r\n") && c.read(&mut byte).unwrap_or(0) == 1 {
                req.push(byte[0]);
            }
            let line = String::from_utf8_lossy(&req)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned();
            let path = line.split(' ').nth(1).unwrap_or("");
            let (status, body) = if path == "/api/models/org/repo/tree/main" {
                let list: Vec<Value> = files
                    .iter()
                    .map(|(p, b, sha)| {
                        serde_json::json!({"type": "file", "path": p, "size": 134,
                            "lfs": {"oid": sha, "size": b.len()}})
                    })
                    .collect();
                ("200 OK", serde_json::to_vec(&list).unwrap())
            } else if let Some((_, b, _)) = files
                .iter()
                .find(|(p, _, _)| path == format!("/org/repo/resolve/main/{p}"))
            {
                ("200 OK", b.clone())
            } else {
                ("404 Not Found", b"not found".to_vec())
            };
            let _ = write!(
                c,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = c.write_all(&body);
        }
    });
    format!("http://{addr}")
}

fn sha256_hex(b: &[u8]) -> String {
    // Checked against the `sha256sum` of the same bytes in the test below.
    let out = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(b)?;
            c.wait_with_output()
        })
        .expect("sha256sum (coreutils)");
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

#[test]
fn pull_downloads_checks_and_refuses_bad_files() {
    let good = tiny_gguf();
    let mut not_gguf = good.clone();
    not_gguf[0] = b'X';
    let hub = hub(vec![
        ("tiny.gguf", good.clone(), sha256_hex(&good)),
        ("sub/dir/tampered.gguf", good.clone(), "0".repeat(64)),
        ("broken.gguf", not_gguf.clone(), sha256_hex(&not_gguf)),
    ]);
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_str().unwrap();
    let pull = |spec: &str| {
        twin_with_input(
            &["llm", "pull", spec, "--hub", &hub, "--dir", dir, "--quiet"],
            "",
        )
    };
    let (code, out, err) = pull("org/repo/tiny.gguf");
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(d.path().join("tiny.gguf")).unwrap(), good);
    assert!(
        out.contains(&sha256_hex(&good)) && out.contains("llama"),
        "{out}"
    );

    let (code, _, err) = pull("org/repo/sub/dir/tampered.gguf");
    assert_ne!(code, 0);
    assert!(err.contains("checksum mismatch"), "{err}");
    let (code, _, err) = pull("org/repo/broken.gguf");
    assert_ne!(code, 0);
    assert!(err.contains("not a usable GGUF"), "{err}");
    let (code, _, err) = pull("org/repo/missing.gguf");
    assert_ne!(code, 0);
    assert!(
        err.contains("has no file `missing.gguf`") && err.contains("tiny.gguf"),
        "{err}"
    );
    let (code, _, err) = pull("org/other/x.gguf");
    assert_ne!(code, 0);
    assert!(err.contains("HTTP 404"), "{err}");
    let (code, _, err) = pull("just-a-name");
    assert_ne!(code, 0);
    assert!(err.contains("expected ORG/REPO/FILE.gguf"), "{err}");
    // Nothing but the good file is left behind (no .part files).
    let left: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["tiny.gguf"]);
}

#[test]
fn serve_models_lists_a_directory_and_reports_load_failures() {
    let d = tempfile::tempdir().unwrap();
    let good = tiny_gguf();
    std::fs::write(d.path().join("beta.gguf"), &good).unwrap();
    std::fs::write(d.path().join("alpha.gguf"), &good).unwrap();
    std::fs::write(d.path().join("broken.gguf"), &good[..10]).unwrap();
    std::fs::write(d.path().join("README.txt"), b"not a model").unwrap();
    let dir = d.path().to_str().unwrap();
    let (_p, addr) = spawn(&[
        "llm",
        "serve",
        "--models",
        dir,
        "--port",
        "0",
        "--memory-budget",
        "1G",
        "--keep-alive",
        "10s",
        "--no-access-log",
    ]);
    let (status, v) = http(&addr, "GET", "/v1/models", "");
    assert_eq!(status, 200);
    let ids: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["alpha", "beta"], "the truncated file is skipped");
    let (_, v) = http(&addr, "GET", "/api/tags", "");
    assert_eq!(v["models"][0]["details"]["family"], "llama");
    assert_eq!(v["models"][0]["size"], good.len());
    let (_, v) = http(&addr, "GET", "/api/ps", "");
    assert_eq!(v["models"], serde_json::json!([]));
    // These files hold no weights: loading fails with a clear error and the server goes on.
    let (status, v) = http(
        &addr,
        "POST",
        "/api/generate",
        r#"{"model":"beta","prompt":"hi","stream":false}"#,
    );
    assert_eq!(status, 500, "{v}");
    assert_eq!(v["error"]["code"], "model_load_failed");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot load model `beta`"),
        "{v}"
    );
    let (status, v) = http(
        &addr,
        "POST",
        "/api/generate",
        r#"{"model":"gamma","prompt":"hi"}"#,
    );
    assert_eq!(status, 404, "{v}");
    let (status, _) = http(&addr, "GET", "/health", "");
    assert_eq!(status, 200);
}
