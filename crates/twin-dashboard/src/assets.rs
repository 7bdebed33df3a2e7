//! The page, embedded at build time from the committed front-end build
//! output in `web/dist/` (regenerate it with `npm ci && npm run build` in
//! `web/`; Rust builds never need npm).

use axum::{
    extract::Path,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};

/// `(path under /assets/, content type, bytes)`.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/dist/assets/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../web/dist/assets/app.css"),
    ),
];

const INDEX: &[u8] = include_bytes!("../../../web/dist/index.html");

/// A response with the asset's type; `no-cache` so that a rebuilt binary's
/// page is never mixed with a cached script.
fn asset(content_type: &'static str, body: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// The file at `rel` under `$TWIN_DASHBOARD_WEB`, if that is set.
fn from_disk(rel: &str) -> Option<&'static [u8]> {
    let dir = std::env::var_os("TWIN_DASHBOARD_WEB")?;
    let bytes = std::fs::read(std::path::Path::new(&dir).join(rel)).ok()?;
    Some(Vec::leak(bytes))
}

/// `GET /`: the page.
pub(crate) async fn index() -> Response {
    asset(
        "text/html; charset=utf-8",
        from_disk("index.html").unwrap_or(INDEX),
    )
}

/// `GET /assets/{name}`: one of [`ASSETS`]; anything else is 404 (no paths
/// are resolved, so nothing outside the embedded set can be reached).
pub(crate) async fn file(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((n, ct, body)) => asset(ct, from_disk(&format!("assets/{n}")).unwrap_or(body)),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
