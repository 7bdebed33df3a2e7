//! The WebSocket feed at `/ws`: compact JSON frames of bus topics.
//!
//! Client → server (text frames, one JSON object each):
//!
//! ```text
//! {"op":"subscribe","topic":"twin/demo/point/position","rate_hz":10}
//! {"op":"unsubscribe","topic":"twin/demo/point/position"}
//! {"op":"ping"}
//! ```
//!
//! Server → client:
//!
//! ```text
//! {"type":"hello","version":1,"default_rate_hz":10,"max_rate_hz":30,"max_subscriptions":64}
//! {"type":"subscribed","topic":"…","rate_hz":10,"role":"positions"}
//! {"type":"data","topic":"…","seq":812,"received":812,"samples":[[key,sim_ns,value],…]}
//! {"type":"unsubscribed","topic":"…"}
//! {"type":"pong"}
//! {"type":"error","code":"bad_message","message":"…","topic":null}
//! ```
//!
//! A data frame holds the newest value of every instance that changed since
//! the client's previous frame of that topic (`value` is `null` for an
//! instance that was disposed or lost its writers); `received` counts the
//! samples the dashboard took from the bus, so gaps show what was conflated.
//! Each subscription sends at most `rate_hz` frames per second. Control
//! messages are limited per client too ([`MSG_RATE`] per second, bursts of
//! [`MSG_BURST`]); excess ones get an `error` frame with code
//! `rate_limited`. Every error leaves the connection usable.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::{sync::watch, time::sleep_until};

use crate::{hub::Channel, AppState, Role};

/// Control messages per second a client may send on average.
pub const MSG_RATE: f64 = 20.0;
/// Control messages a client may send in a burst.
pub const MSG_BURST: f64 = 40.0;
/// Protocol version announced in `hello`.
const VERSION: u32 = 1;

/// A message from the client.
#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
enum ClientMsg {
    Subscribe { topic: String, rate_hz: Option<f64> },
    Unsubscribe { topic: String },
    Ping,
}

/// A control frame to the client (data frames are written by the hub).
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ServerMsg<'a> {
    Hello {
        version: u32,
        default_rate_hz: f64,
        max_rate_hz: f64,
        max_subscriptions: usize,
    },
    Subscribed {
        topic: &'a str,
        rate_hz: f64,
        role: Role,
    },
    Unsubscribed {
        topic: &'a str,
    },
    Pong,
    Error {
        code: &'static str,
        message: String,
        topic: Option<&'a str>,
    },
}

impl ServerMsg<'_> {
    fn text(&self) -> Message {
        // Plain data; serialising it cannot fail.
        Message::Text(serde_json::to_string(self).unwrap_or_default().into())
    }
}

/// One subscription of one client.
struct Sub {
    /// The shared channel of the topic.
    channel: Arc<Channel>,
    /// 1 / rate.
    period: Duration,
    /// When the next frame may be sent.
    due: Instant,
    /// The channel sequence this client has seen.
    last_seq: u64,
}

/// A token bucket for the client's control messages.
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// Takes a token if there is one, after refilling for the time passed.
    fn take(&mut self) -> bool {
        let now = Instant::now();
        let dt = now.duration_since(self.at).as_secs_f64();
        self.at = now;
        self.tokens = (self.tokens + dt * MSG_RATE).min(MSG_BURST);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// An error frame.
fn error(code: &'static str, message: impl Into<String>, topic: Option<&str>) -> Message {
    ServerMsg::Error {
        code,
        message: message.into(),
        topic,
    }
    .text()
}

/// Serves one WebSocket client until it closes or the dashboard stops.
pub(crate) async fn client(socket: WebSocket, app: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    let (mut tx, mut rx) = socket.split();
    let mut subs: HashMap<String, Sub> = HashMap::new();
    let mut bucket = Bucket {
        tokens: MSG_BURST,
        at: Instant::now(),
    };
    let cfg = &app.config;
    let hello = ServerMsg::Hello {
        version: VERSION,
        default_rate_hz: cfg.default_rate_hz,
        max_rate_hz: cfg.max_rate_hz,
        max_subscriptions: cfg.max_subscriptions,
    };
    let mut ok = tx.send(hello.text()).await.is_ok();
    let mut frame = String::new();
    while ok {
        let next_due = subs.values().map(|s| s.due).min();
        let replies: Vec<Message> = tokio::select! {
            _ = stop.changed() => {
                let _ = tx.send(Message::Close(None)).await;
                break;
            }
            () = async {
                match next_due {
                    Some(t) => sleep_until(t.into()).await,
                    None => std::future::pending().await,
                }
            } => {
                let now = Instant::now();
                let mut out = Vec::new();
                for s in subs.values_mut().filter(|s| s.due <= now) {
                    // Keep the cadence, but never queue catch-up frames.
                    s.due = (s.due + s.period).max(now);
                    frame.clear();
                    if s.channel.frame_since(&mut s.last_seq, &mut frame) > 0 {
                        out.push(Message::Text(frame.as_str().into()));
                    }
                }
                out
            }
            msg = rx.next() => match msg {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(Message::Text(t))) => {
                    if bucket.take() {
                        handle(&app, &mut subs, t.as_str())
                    } else {
                        vec![error("rate_limited", format!(
                            "more than {MSG_RATE} messages per second; message dropped"), None)]
                    }
                }
                Some(Ok(Message::Binary(_))) => vec![error(
                    "bad_message", "binary frames are not accepted; send JSON text", None)],
                Some(Ok(_)) => Vec::new(),
            },
        };
        for m in replies {
            if tx.send(m).await.is_err() {
                ok = false;
                break;
            }
        }
    }
    for topic in subs.keys() {
        app.hub.unsubscribe(topic);
    }
}

/// Handles one control message; returns the replies.
fn handle(app: &AppState, subs: &mut HashMap<String, Sub>, text: &str) -> Vec<Message> {
    let msg: ClientMsg = match serde_json::from_str(text) {
        Ok(m) => m,
        Err(e) => return vec![error("bad_message", e.to_string(), None)],
    };
    let cfg = &app.config;
    match msg {
        ClientMsg::Ping => vec![ServerMsg::Pong.text()],
        ClientMsg::Subscribe { topic, rate_hz } => {
            let rate = rate_hz.unwrap_or(cfg.default_rate_hz);
            if !(rate.is_finite() && rate > 0.0) {
                return vec![error(
                    "bad_rate",
                    format!("rate_hz must be a positive number (got {rate})"),
                    Some(&topic),
                )];
            }
            let rate = rate.min(cfg.max_rate_hz);
            let period = Duration::from_secs_f64(1.0 / rate);
            if let Some(s) = subs.get_mut(&topic) {
                s.period = period;
                let role = s.channel.role;
                return vec![ServerMsg::Subscribed {
                    topic: &topic,
                    rate_hz: rate,
                    role,
                }
                .text()];
            }
            if subs.len() >= cfg.max_subscriptions {
                return vec![error(
                    "too_many_subscriptions",
                    format!("at most {} subscriptions per client", cfg.max_subscriptions),
                    Some(&topic),
                )];
            }
            match app.hub.subscribe(&topic) {
                Ok(channel) => {
                    let role = channel.role;
                    subs.insert(
                        topic.clone(),
                        Sub {
                            channel,
                            period,
                            due: Instant::now(),
                            last_seq: 0,
                        },
                    );
                    vec![ServerMsg::Subscribed {
                        topic: &topic,
                        rate_hz: rate,
                        role,
                    }
                    .text()]
                }
                Err(e) => vec![error(e.code(), e.to_string(), Some(&topic))],
            }
        }
        ClientMsg::Unsubscribe { topic } => {
            if subs.remove(&topic).is_some() {
                app.hub.unsubscribe(&topic);
                vec![ServerMsg::Unsubscribed { topic: &topic }.text()]
            } else {
                vec![error(
                    "not_subscribed",
                    format!("not subscribed to `{topic}`"),
                    Some(&topic),
                )]
            }
        }
    }
}
