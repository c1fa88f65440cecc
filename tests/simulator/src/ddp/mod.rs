//! DDP over WebSocket at `/websocket` and `/websocket/` (ROCKETCHAT.md §1–§2): the raw
//! (non-SockJS) Meteor protocol, one JSON text frame per message.
//!
//! - [`session`]: one connection — handshake, heartbeats, methods, subscriptions, faults.
//! - [`login`]: the `login` method (resume, password, 2FA, per-version errors).
//! - [`methods`]: the other methods a bot calls.
//! - [`streams`]: stream publications, read rules and event routing.
//! - [`ratelimit`]: Meteor's `DDPRateLimiter` with Rocket.Chat's rules.

pub mod login;
pub mod methods;
pub mod ratelimit;
pub mod session;
pub mod streams;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::{Extensions, HeaderMap};
use axum::response::Response;

use crate::server::AppState;

/// Upgrade to a DDP session.
///
/// The client address feeds the per-IP rate-limit rules: the peer address when the server
/// records it, else the first `X-Forwarded-For` entry (as behind a proxy), else loopback.
pub async fn ws_handler(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
) -> Response {
    let forwarded = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let ip = forwarded.or(peer).unwrap_or_else(|| "127.0.0.1".to_owned());
    ws.on_upgrade(move |socket| session::run(socket, state, ip))
}
