//! The REST API and the guard that keeps other sites out.
//!
//! | method and path | answer |
//! |---|---|
//! | `GET /api/federation` | state, sim time, pacing, lag, wall-clock ratio, stall diagnosis |
//! | `GET /api/members` | every member with its phase, last completed time and last report age |
//! | `GET /api/topics` | every bus topic with type, endpoints, samples, rate, and role |
//! | `POST /api/control/{run,freeze,resume,end}` | sends that command; `202 {"sent": …}` |
//! | `POST /api/control/pacing` | body `{"ratio": R}`, R ≥ 0 (0 = as fast as possible) |
//!
//! Errors are `{"error": {"message", "type"}}` with 404 `unknown_command`,
//! 422 `bad_pacing`, 409 `ended`, 403 `forbidden`, 500 `send_failed`.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{Path, Request, State},
    http::{header, HeaderMap, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::json;
use twin_federation::Command;

use crate::{hub::lock, ApiError, AppState};

/// `GET /api/federation`: the observer's current view of the federation,
/// with the stall diagnosis computed now (so its ages are fresh).
pub(crate) async fn federation(State(app): State<Arc<AppState>>) -> Response {
    Json(lock(&app.observer).federation()).into_response()
}

/// `GET /api/members`: the members of the last status report, in the
/// controller's order.
pub(crate) async fn members(State(app): State<Arc<AppState>>) -> Response {
    Json(lock(&app.observer).members()).into_response()
}

/// `GET /api/topics`: every topic on the bus (sorted by name) with its
/// measured rate, decoder role and dashboard subscriber count.
pub(crate) async fn topics(State(app): State<Arc<AppState>>) -> Response {
    let watched = app.hub.watched();
    Json(lock(&app.observer).topics(app.hub.registry(), &watched)).into_response()
}

/// Body of `POST /api/control/pacing`.
#[derive(Deserialize)]
struct Pacing {
    /// Sim seconds per wall second; 0 = as fast as possible.
    ratio: f64,
}

/// `POST /api/control/{command}`: validates, refuses when the federation
/// has ended, and writes the command on `twin/control/command` signed
/// `dashboard`. The controller applies it (or ignores it when it does not
/// fit the state, e.g. resume while running); the page sees the effect in
/// the next state report.
pub(crate) async fn control(
    State(app): State<Arc<AppState>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let command = match name.as_str() {
        "run" => Command::Run,
        "freeze" => Command::Freeze,
        "resume" => Command::Resume,
        "end" => Command::End,
        "pacing" => {
            let p: Pacing = serde_json::from_slice(&body).map_err(|e| {
                ApiError::BadPacing(format!("body must be {{\"ratio\": number}}: {e}"))
            })?;
            if !(p.ratio.is_finite() && p.ratio >= 0.0) {
                return Err(ApiError::BadPacing(format!(
                    "ratio must be a finite number ≥ 0 (got {})",
                    p.ratio
                )));
            }
            Command::SetPacing { ratio: p.ratio }
        }
        _ => return Err(ApiError::UnknownCommand(name)),
    };
    if lock(&app.observer).federation().state.as_deref() == Some("ended") {
        return Err(ApiError::Ended);
    }
    let sender = app.commands.clone();
    let c = command.clone();
    // A reliable write may block briefly on a full controller queue.
    tokio::task::spawn_blocking(move || sender.send(c))
        .await
        .map_err(|e| ApiError::Send(e.to_string()))?
        .map_err(|e| ApiError::Send(e.to_string()))?;
    tracing::info!("dashboard: sent {command:?}");
    let sent = match command {
        Command::SetPacing { ratio } => json!({ "sent": "pacing", "ratio": ratio }),
        _ => json!({ "sent": name }),
    };
    Ok((StatusCode::ACCEPTED, Json(sent)).into_response())
}

/// True if `host` (a Host header value or an Origin's host part) names this
/// machine's loopback interface.
fn is_local_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name == "localhost" || name == "::1" || name.starts_with("127.")
}

/// Refuses requests that a web page of another site could make through the
/// user's browser: a Host that is not local (DNS rebinding), and state
/// changes or WebSocket upgrades whose Origin is not local.
pub(crate) async fn guard(req: Request, next: Next) -> Response {
    let headers: &HeaderMap = req.headers();
    let host_ok = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_none_or(is_local_host);
    let changes = req.method() != Method::GET || headers.contains_key(header::UPGRADE);
    let origin_ok = !changes
        || headers
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
            .is_none_or(|o| {
                o.strip_prefix("http://")
                    .is_some_and(|rest| is_local_host(rest.trim_end_matches('/')))
            });
    if host_ok && origin_ok {
        next.run(req).await
    } else {
        ApiError::Forbidden.into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::is_local_host;

    #[test]
    fn local_hosts_are_recognised() {
        for h in [
            "127.0.0.1:7878",
            "localhost:80",
            "[::1]:9",
            "localhost",
            "127.0.0.5",
        ] {
            assert!(is_local_host(h), "{h}");
        }
        for h in [
            "example.com",
            "evil.localhost.example:80",
            "10.0.0.1:7878",
            "[::2]:1",
        ] {
            assert!(!is_local_host(h), "{h}");
        }
    }
}
