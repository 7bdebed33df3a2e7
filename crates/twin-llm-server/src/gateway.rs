//! `twin llm gateway`: one address in front of several `twin llm serve` instances.
//!
//! The gateway speaks the same APIs outward and forwards each request to one instance:
//! - **health checks**: every `health_interval` it reads each instance's `GET /health`
//!   (busy slots and queue depth); an instance that refuses a connection or fails a request
//!   is taken out at once and comes back when a health check succeeds again;
//! - **route by queue depth**: a request goes to the healthy instance with the lowest load
//!   per slot, where load = max(requests this gateway has in flight there, busy slots plus
//!   queue depth that instance last reported);
//! - **conversation affinity**: requests of one conversation (same system prompt and first
//!   user message, or the same prompt prefix) go to the instance that served the previous
//!   turn, whose prompt cache already holds the conversation, unless that instance is
//!   busier than the best one by more than `affinity_slack` requests per slot;
//! - **retry**: when an instance cannot be reached, drops the connection before answering,
//!   or answers 429, the request is sent to the next instance (up to `attempts` tries).
//!   A streamed answer that breaks after it started cannot be replayed and ends early.
//!
//! `GET /health` on the gateway reports every instance; all other routes are forwarded.

use std::{
    collections::HashMap,
    hash::{Hash, Hasher},
    sync::{
        atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

use crate::error::ApiError;

/// Gateway options.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Instances as `host:port` (an `http://` prefix is accepted).
    pub backends: Vec<String>,
    /// Time between health checks of every instance.
    pub health_interval: Duration,
    /// Connect and health-check timeout.
    pub connect_timeout: Duration,
    /// Instances tried per request before giving up.
    pub attempts: usize,
    /// Extra load (requests per slot) tolerated on a conversation's instance before the
    /// conversation moves to a less busy one.
    pub affinity_slack: f64,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            backends: Vec::new(),
            health_interval: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(2),
            attempts: 3,
            affinity_slack: 1.0,
        }
    }
}

/// One `twin llm serve` instance as the gateway sees it.
#[derive(Debug)]
struct Backend {
    addr: String,
    healthy: AtomicBool,
    /// Busy slots + queue depth at the last health check.
    reported: AtomicU32,
    slots: AtomicU32,
    /// Requests forwarded by this gateway and not finished.
    in_flight: AtomicU32,
    served: AtomicU64,
    failures: AtomicU64,
}

impl Backend {
    /// Load per slot used for routing.
    fn load(&self) -> f64 {
        let busy = self
            .in_flight
            .load(Ordering::SeqCst)
            .max(self.reported.load(Ordering::SeqCst));
        f64::from(busy) / f64::from(self.slots.load(Ordering::SeqCst).max(1))
    }

    fn mark_down(&self, why: &str) {
        if self.healthy.swap(false, Ordering::SeqCst) {
            tracing::warn!(backend = %self.addr, why, "instance taken out of rotation");
        }
    }
}

/// Most conversations remembered for affinity; the map is cleared when it grows past this.
const AFFINITY_CAP: usize = 65_536;

/// The gateway's shared state.
#[derive(Debug)]
pub struct Gateway {
    backends: Vec<Arc<Backend>>,
    affinity: Mutex<HashMap<u64, usize>>,
    next: AtomicUsize,
    config: GatewayConfig,
}

/// Counts a forwarded request while it is alive (the response body included).
struct InFlight(Arc<Backend>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Why one forwarding attempt failed.
#[derive(Debug)]
enum Attempt {
    /// The instance is unreachable or died before answering: try another, mark it down.
    Dead(String),
    /// The instance answered 429: try another.
    Busy(Response),
}

impl Gateway {
    /// A gateway over `config.backends`; all start healthy until a check says otherwise.
    pub fn new(config: GatewayConfig) -> Arc<Self> {
        let backends = config
            .backends
            .iter()
            .map(|b| {
                let addr = b.trim_start_matches("http://").trim_end_matches('/');
                Arc::new(Backend {
                    addr: addr.to_owned(),
                    healthy: AtomicBool::new(true),
                    reported: AtomicU32::new(0),
                    slots: AtomicU32::new(1),
                    in_flight: AtomicU32::new(0),
                    served: AtomicU64::new(0),
                    failures: AtomicU64::new(0),
                })
            })
            .collect();
        Arc::new(Gateway {
            backends,
            affinity: Mutex::new(HashMap::new()),
            next: AtomicUsize::new(0),
            config,
        })
    }

    /// Checks every instance once.
    pub async fn check_all(&self) {
        let checks = self.backends.iter().map(|b| self.check(b));
        futures_util::future::join_all(checks).await;
    }

    async fn check(&self, b: &Backend) {
        let got = tokio::time::timeout(self.config.connect_timeout, async {
            let resp = send(
                &b.addr,
                Method::GET,
                "/health",
                HeaderMap::new(),
                Bytes::new(),
            )
            .await
            .map_err(|e| format!("{e:?}"))?;
            if !resp.status().is_success() {
                return Err(format!("health status {}", resp.status()));
            }
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            serde_json::from_slice::<Value>(&body).map_err(|e| e.to_string())
        })
        .await;
        match got {
            Ok(Ok(h)) => {
                let n = |k: &str| h[k].as_u64().unwrap_or(0) as u32;
                b.slots.store(n("slots").max(1), Ordering::SeqCst);
                b.reported
                    .store(n("slots_busy") + n("queue_depth"), Ordering::SeqCst);
                if !b.healthy.swap(true, Ordering::SeqCst) {
                    tracing::info!(backend = %b.addr, "instance back in rotation");
                }
            }
            Ok(Err(e)) => b.mark_down(&e),
            Err(_) => b.mark_down("health check timed out"),
        }
    }

    /// Runs health checks forever (spawn it).
    pub async fn health_loop(self: Arc<Self>) {
        loop {
            self.check_all().await;
            tokio::time::sleep(self.config.health_interval).await;
        }
    }

    /// The instance for a request with conversation `key`, not among `tried`.
    fn choose(&self, key: Option<u64>, tried: &[usize]) -> Option<usize> {
        let n = self.backends.len();
        // Ties go round-robin; the turn advances only when a request is placed by load, so
        // that new conversations alternate even while old ones stay put.
        let start = self.next.load(Ordering::Relaxed);
        let mut best: Option<(usize, f64)> = None;
        for k in 0..n {
            let i = (start + k) % n;
            let b = &self.backends[i];
            if tried.contains(&i) || !b.healthy.load(Ordering::SeqCst) {
                continue;
            }
            let l = b.load();
            if best.is_none_or(|(_, bl)| l < bl) {
                best = Some((i, l));
            }
        }
        let (best, best_load) = best?;
        let Some(key) = key else {
            self.next.fetch_add(1, Ordering::Relaxed);
            return Some(best);
        };
        let mut aff = self.affinity.lock().expect("affinity lock");
        if let Some(&i) = aff.get(&key) {
            let b = &self.backends[i];
            if !tried.contains(&i)
                && b.healthy.load(Ordering::SeqCst)
                && b.load() <= best_load + self.config.affinity_slack
            {
                return Some(i);
            }
        }
        if aff.len() >= AFFINITY_CAP {
            aff.clear();
        }
        aff.insert(key, best);
        self.next.fetch_add(1, Ordering::Relaxed);
        Some(best)
    }

    /// Forwards one request, retrying on other instances.
    async fn forward(self: Arc<Self>, req: Request) -> Response {
        let (parts, body) = req.into_parts();
        let body = match body.collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => {
                return ApiError::MalformedJson {
                    message: format!("cannot read the request body: {e}"),
                }
                .into_response()
            }
        };
        let key = conversation_key(&body);
        let path = parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
        let mut tried = Vec::new();
        let mut last_busy = None;
        for _ in 0..self.config.attempts.max(1) {
            let Some(i) = self.choose(key, &tried) else {
                break;
            };
            tried.push(i);
            let b = Arc::clone(&self.backends[i]);
            b.in_flight.fetch_add(1, Ordering::SeqCst);
            let guard = InFlight(Arc::clone(&b));
            match attempt(&b, &parts.method, &path, &parts.headers, body.clone()).await {
                Ok(resp) => {
                    b.served.fetch_add(1, Ordering::Relaxed);
                    return into_axum(resp, guard);
                }
                Err(Attempt::Busy(resp)) => last_busy = Some(resp),
                Err(Attempt::Dead(why)) => {
                    b.failures.fetch_add(1, Ordering::Relaxed);
                    b.mark_down(&why);
                }
            }
        }
        last_busy.unwrap_or_else(|| no_backend(self.backends.len()))
    }

    fn report(&self) -> Value {
        let backends: Vec<Value> = self
            .backends
            .iter()
            .map(|b| {
                json!({
                    "addr": b.addr,
                    "healthy": b.healthy.load(Ordering::SeqCst),
                    "slots": b.slots.load(Ordering::SeqCst),
                    "reported_busy": b.reported.load(Ordering::SeqCst),
                    "in_flight": b.in_flight.load(Ordering::SeqCst),
                    "served": b.served.load(Ordering::Relaxed),
                    "failures": b.failures.load(Ordering::Relaxed),
                })
            })
            .collect();
        let up = self
            .backends
            .iter()
            .filter(|b| b.healthy.load(Ordering::SeqCst))
            .count();
        json!({
            "status": if up > 0 { "ok" } else { "unavailable" },
            "healthy": up,
            "backends": backends,
        })
    }
}

/// The affinity key of a request body: the conversation's opening (messages up to the first
/// user message), or the first 256 characters of a raw prompt.
fn conversation_key(body: &[u8]) -> Option<u64> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    if let Some(msgs) = v.get("messages").and_then(Value::as_array) {
        let end = msgs
            .iter()
            .position(|m| m.get("role").and_then(Value::as_str) == Some("user"))
            .map_or(msgs.len(), |i| i + 1);
        for m in &msgs[..end] {
            m.get("role").map(Value::to_string).hash(&mut h);
            m.get("content").map(Value::to_string).hash(&mut h);
        }
    } else {
        let p = ["prompt", "input_text"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str))?;
        p.chars().take(256).collect::<String>().hash(&mut h);
    }
    Some(h.finish())
}

/// Headers that describe one hop, not the message.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
            | "host"
            | "content-length"
    )
}

/// Sends one request on a fresh HTTP/1.1 connection.
async fn send(
    addr: &str,
    method: Method,
    path: &str,
    headers: HeaderMap,
    body: Bytes,
) -> Result<hyper::Response<hyper::body::Incoming>, Attempt> {
    let dead = |what: &str, e: &dyn std::fmt::Display| Attempt::Dead(format!("{what}: {e}"));
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| dead("connect", &e))?;
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| dead("handshake", &e))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(path.parse::<Uri>().map_err(|e| dead("uri", &e))?)
        .body(Full::new(body))
        .map_err(|e| dead("request", &e))?;
    for (k, v) in &headers {
        if !hop_by_hop(k) {
            req.headers_mut().append(k, v.clone());
        }
    }
    if let Ok(h) = HeaderValue::from_str(addr) {
        req.headers_mut().insert(header::HOST, h);
    }
    sender
        .send_request(req)
        .await
        .map_err(|e| dead("request failed", &e))
}

async fn attempt(
    b: &Backend,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<hyper::Response<hyper::body::Incoming>, Attempt> {
    let resp = send(&b.addr, method.clone(), path, headers.clone(), body).await?;
    if resp.status() == StatusCode::TOO_MANY_REQUESTS {
        return Err(Attempt::Busy(into_axum(resp, ())));
    }
    Ok(resp)
}

/// An instance's response as ours; `guard` lives as long as the body is being sent.
fn into_axum<G: Send + 'static>(
    resp: hyper::Response<hyper::body::Incoming>,
    guard: G,
) -> Response {
    let (parts, body) = resp.into_parts();
    let body = body.map_frame(move |f| {
        let _ = &guard;
        f
    });
    let mut out = Response::new(Body::new(body));
    *out.status_mut() = parts.status;
    for (k, v) in &parts.headers {
        if !hop_by_hop(k) {
            out.headers_mut().append(k, v.clone());
        }
    }
    out
}

fn no_backend(n: usize) -> Response {
    let body = json!({"error": {
        "message": format!("no healthy model service instance (0 of {n} reachable)"),
        "type": "server_error",
        "param": null,
        "code": "no_backend",
    }});
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

/// The gateway's routes: `GET /health` here, everything else forwarded.
pub fn gateway_router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route(
            "/health",
            get(|State(g): State<Arc<Gateway>>| async move { Json(g.report()) }),
        )
        .fallback(|State(g): State<Arc<Gateway>>, req: Request| g.forward(req))
        .with_state(gateway)
}

#[cfg(test)]
mod tests;
