//! Integration tests of the dashboard against a real bus and real sockets
//! on 127.0.0.1: the REST API (`api`) and the WebSocket feed (`feed`).

mod api;
mod assistant;
mod feed;

use std::{
    net::SocketAddr,
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use twin_bus::Bus;
use twin_dashboard::{DashboardConfig, DashboardHandle, Role};
use twin_federates::demo::{PointPosition, Tick};
use twin_federation::RunSummary;

/// Fails the test instead of hanging it.
macro_rules! within {
    ($secs:expr, $fut:expr) => {
        tokio::time::timeout(std::time::Duration::from_secs($secs), $fut)
            .await
            .expect(concat!("timed out: ", stringify!($fut)))
    };
}
pub(crate) use within;

/// A dashboard on a fresh port that decodes the demo's topics.
pub(crate) fn dashboard(bus: &Bus) -> DashboardHandle {
    let mut cfg = DashboardConfig::new("127.0.0.1:0".parse().unwrap());
    cfg.registry
        .register_durable::<PointPosition>(Role::Positions)
        .register::<Tick>(Role::Data);
    twin_dashboard::serve_with(bus.clone(), cfg).expect("dashboard starts")
}

/// A demo federation (points and ticker) running on its own thread.
pub(crate) fn demo(bus: &Bus, pacing: f64, end: &str) -> thread::JoinHandle<RunSummary> {
    let toml = format!(
        r#"
[federation]
name = "it"
end = "{end}"
dt = "100ms"
pacing = {pacing:?}
seed = 3

[[member]]
name = "points"
kind = "moving-points"
[member.params]
count = 5
radius_m = 200.0
speed_mps = 20.0

[[member]]
name = "ticker"
kind = "event-ticker"
time = "event"
[member.params]
mean_interval = "500ms"
"#
    );
    let scenario = twin_scenario::Scenario::parse(&toml, "it.toml").expect("scenario parses");
    if let Err(d) = scenario.check(&twin_federates::Catalog) {
        panic!("scenario invalid: {d}");
    }
    let mut fed = twin_federates::build(&scenario, bus.clone(), Default::default()).unwrap();
    thread::spawn(move || fed.run(&mut |_| {}).expect("federation runs"))
}

/// A minimal HTTP/1.1 client: returns status and body.
pub(crate) async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
    extra_headers: &[(&str, &str)],
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let body = body.unwrap_or("");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    for (k, v) in extra_headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a full response");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "the test client does not de-chunk: {head}"
    );
    (status, body.to_owned())
}

/// GET `path` and parse JSON.
pub(crate) async fn get_json(addr: SocketAddr, path: &str) -> Value {
    let (status, body) = http(addr, "GET", path, None, &[]).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Polls `GET path` until `pred` holds (10 s at most); returns the value.
pub(crate) async fn until_json(
    addr: SocketAddr,
    path: &str,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let start = Instant::now();
    loop {
        let v = get_json(addr, path).await;
        if pred(&v) {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}; last {path}: {v}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
