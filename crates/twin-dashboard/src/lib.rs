//! A live web view of a running federation, served from the `twin` binary.
//!
//! The dashboard is a bus consumer only: it reads topics and sends control
//! commands, and never links a simulator. [`serve`] starts it on its own
//! thread and async runtime; it stops when the returned [`DashboardHandle`]
//! is dropped.
//!
//! ```text
//!  bus topics ──► Hub (one best-effort reader per watched topic, last value
//!                 per instance) ──► /ws clients, each at its own rate
//!  twin/control/state, twin/federation/status ──► Observer ──► /api/federation,
//!                                                             /api/members
//!  bus.topics() ──► /api/topics (counts and rates)
//!  POST /api/control/… ──► CommandSender ──► twin/control/command
//!  GET / and /assets/… ──► the page built from web/ (embedded)
//! ```
//!
//! Which topics can be shown, and how, is decided by a [`Registry`] of topic
//! decoders; register the types of new topics there.
//!
//! ```no_run
//! use twin_bus::Bus;
//!
//! let bus = Bus::in_memory();
//! let dash = twin_dashboard::serve(bus.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
//! println!("dashboard: {}", dash.url());
//! // … run the federation on `bus` …
//! drop(dash); // stops the server
//! ```
//!
//! # REST API
//!
//! | method and path | answer |
//! |---|---|
//! | `GET /api/federation` | state, sim time, pacing, lag, wall-clock ratio, stall diagnosis |
//! | `GET /api/members` | members: phase, completed time, request, last report age, lag |
//! | `GET /api/topics` | topics: type, writers, readers, samples, rate, role, subscribers |
//! | `POST /api/control/{run,freeze,resume,end}` | sends the command (`202`) |
//! | `POST /api/control/pacing` | body `{"ratio": R}` with R ≥ 0 |
//! | `POST /api/assistant/ask` | body `{"question": "…", "wait"?: bool}`: the assistant's answer |
//! | `GET /ws` | the WebSocket feed |
//!
//! The server accepts loopback addresses only and refuses requests whose
//! `Host`, or (for commands and WebSocket upgrades) `Origin`, is not local.

mod api;
mod assets;
mod assistant;
mod error;
mod feed;
mod hub;
mod observe;
mod registry;
mod view;

use std::{
    net::{SocketAddr, TcpListener},
    sync::{Arc, Mutex},
    thread::JoinHandle,
    time::Duration,
};

use axum::{
    extract::{State, WebSocketUpgrade},
    response::Response,
    routing::{get, post},
    Router,
};
use tokio::sync::watch;
use twin_bus::Bus;
use twin_federation::CommandSender;

pub use assistant::MAX_QUESTION_CHARS;
pub use error::DashboardError;
pub use feed::{MSG_BURST, MSG_RATE};
pub use registry::{Registry, Role, SNAPSHOT_EVERY};
pub use view::{NodeView, Projector};

use crate::{error::ApiError, error::FeedError, hub::Hub, observe::Observer};

/// The default port of `twin demo` and `twin run`.
pub const DEFAULT_PORT: u16 = 7878;

/// Settings of a dashboard server.
#[derive(Clone, Debug)]
pub struct DashboardConfig {
    /// Where to listen; must be a loopback address (port 0 picks a free port).
    pub addr: SocketAddr,
    /// Topic decoders.
    pub registry: Registry,
    /// Frames per second per subscription when the client names no rate.
    pub default_rate_hz: f64,
    /// Largest frame rate a client may ask for; higher requests are clamped.
    pub max_rate_hz: f64,
    /// Subscriptions one client may hold.
    pub max_subscriptions: usize,
    /// How long `POST /api/assistant/ask` waits for an answer.
    pub assistant_timeout: Duration,
}

impl DashboardConfig {
    /// Defaults: protocol topics decoded, 10 Hz default, 30 Hz maximum, 64
    /// subscriptions per client, assistant answers awaited for 120 s (a
    /// local model on a CPU is slow).
    pub fn new(addr: SocketAddr) -> Self {
        DashboardConfig {
            addr,
            registry: Registry::with_protocol(),
            default_rate_hz: 10.0,
            max_rate_hz: 30.0,
            max_subscriptions: 64,
            assistant_timeout: Duration::from_secs(120),
        }
    }
}

/// Shared by every request handler.
struct AppState {
    config: DashboardConfig,
    hub: Hub,
    observer: Mutex<Observer>,
    commands: CommandSender,
    assistant: assistant::AssistantLink,
}

/// A running dashboard; dropping it stops the server and joins its thread.
#[derive(Debug)]
pub struct DashboardHandle {
    addr: SocketAddr,
    stop: Option<watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl DashboardHandle {
    /// The address it listens on (with the actual port when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The page's address, `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Stops the server; open WebSocket clients get a close frame. Returns
    /// when the server thread has finished (within about a second).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for DashboardHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Serves the dashboard of the federation on `bus` at `addr` with the
/// default settings and the protocol decoders only.
pub fn serve(bus: Bus, addr: SocketAddr) -> Result<DashboardHandle, DashboardError> {
    serve_with(bus, DashboardConfig::new(addr))
}

/// Serves the dashboard with explicit settings.
pub fn serve_with(bus: Bus, config: DashboardConfig) -> Result<DashboardHandle, DashboardError> {
    let addr = config.addr;
    if !addr.ip().is_loopback() {
        return Err(DashboardError::NotLoopback { addr });
    }
    let listener =
        TcpListener::bind(addr).map_err(|source| DashboardError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .and_then(|a| listener.set_nonblocking(true).map(|()| a))
        .map_err(|source| DashboardError::Bind { addr, source })?;
    let app = Arc::new(AppState {
        hub: Hub::new(bus.clone(), config.registry.clone()),
        observer: Mutex::new(Observer::new(&bus)?),
        commands: CommandSender::new(&bus, "dashboard")?,
        assistant: assistant::AssistantLink::new(&bus)?,
        config,
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(DashboardError::Runtime)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let thread = std::thread::Builder::new()
        .name("twin-dashboard".into())
        .spawn(move || runtime.block_on(run(listener, app, stop_rx)))
        .map_err(DashboardError::Runtime)?;
    tracing::info!("dashboard listening on http://{bound}/");
    Ok(DashboardHandle {
        addr: bound,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

fn router(app: Arc<AppState>, stop: watch::Receiver<bool>) -> Router {
    let ws = move |State(app): State<Arc<AppState>>, up: WebSocketUpgrade| {
        let stop = stop.clone();
        async move {
            let r: Response = up
                .max_message_size(16 * 1024)
                .on_upgrade(move |socket| feed::client(socket, app, stop));
            r
        }
    };
    Router::new()
        .route("/", get(assets::index))
        .route("/assets/{name}", get(assets::file))
        .route("/api/federation", get(api::federation))
        .route("/api/members", get(api::members))
        .route("/api/topics", get(api::topics))
        .route("/api/control/{command}", post(api::control))
        .route("/api/assistant/ask", post(assistant::ask))
        .route("/ws", get(ws))
        .layer(axum::middleware::from_fn(api::guard))
        .with_state(app)
}

async fn run(listener: TcpListener, app: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("dashboard: cannot listen: {e}");
            return;
        }
    };
    // The observer keeps the federation view fresh for the REST handlers.
    let observed = Arc::clone(&app);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            hub::lock(&observed.observer).poll();
        }
    });
    let app = router(Arc::clone(&app), stop.clone());
    let mut graceful = stop.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = graceful.changed().await;
    });
    // Graceful shutdown waits for open connections; give them a second.
    let deadline = async move {
        let _ = stop.changed().await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    tokio::select! {
        r = server => if let Err(e) = r {
            tracing::error!("dashboard: server failed: {e}");
        },
        () = deadline => {}
    }
}
