//! `POST /ask {"text": …}` → the [`AssistantAnswer`] as JSON, on 127.0.0.1.
//!
//! The server runs on its own thread; questions go to the member through a channel, and the
//! member answers them like questions from the bus.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc, Arc, Mutex,
    },
    time::Duration,
};

use axum::{
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};
use serde::Deserialize;
use serde_json::json;
use twin_federation::proto::{AssistantAnswer, AssistantQuestion};

/// A question and where its answer goes.
pub(super) type Asked = (AssistantQuestion, mpsc::Sender<AssistantAnswer>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AskBody {
    text: String,
    #[serde(default)]
    asked_by: Option<String>,
}

#[derive(Clone)]
struct Shared {
    tx: Arc<Mutex<mpsc::Sender<Asked>>>,
    next: Arc<AtomicU64>,
}

/// The running HTTP endpoint.
pub(super) struct Server {
    addr: SocketAddr,
    rx: mpsc::Receiver<Asked>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Server {
    /// Binds 127.0.0.1:`port` and serves on a new thread.
    pub(super) fn start(port: u16) -> std::io::Result<Server> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = rt.block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))?;
        let addr = listener.local_addr()?;
        let (tx, rx) = mpsc::channel();
        let shared = Shared {
            tx: Arc::new(Mutex::new(tx)),
            next: Arc::new(AtomicU64::new(1)),
        };
        let app = Router::new().route("/ask", post(ask)).with_state(shared);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("assistant-http".into())
            .spawn(move || {
                rt.block_on(async move {
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = stopped.await;
                        })
                        .await;
                });
            })?;
        Ok(Server {
            addr,
            rx,
            stop: Some(stop),
        })
    }

    pub(super) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Questions that arrived since the last call.
    pub(super) fn take(&self) -> Vec<Asked> {
        self.rx.try_iter().collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({"error": {"message": message}}))).into_response()
}

async fn ask(State(s): State<Shared>, body: Bytes) -> Response {
    let q: AskBody = match super::from_json(&body) {
        Ok(q) => q,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("invalid body: {e}")),
    };
    if q.text.trim().is_empty() {
        return error(StatusCode::BAD_REQUEST, "`text` is empty".into());
    }
    let n = s.next.fetch_add(1, Ordering::Relaxed);
    let question = AssistantQuestion {
        id: format!("http-{n}").into(),
        asked_by: q.asked_by.unwrap_or_else(|| "http".into()),
        text: q.text,
    };
    let (tx, rx) = mpsc::channel();
    if s.tx.lock().expect("ask lock").send((question, tx)).is_err() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the assistant has stopped".into(),
        );
    }
    let got = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(600))).await;
    match got {
        Ok(Ok(answer)) => Json(answer).into_response(),
        _ => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the assistant ended before answering".into(),
        ),
    }
}
