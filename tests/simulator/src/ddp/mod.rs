//! DDP over WebSocket at `/websocket` (being written).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Upgrade to a DDP session.
pub async fn ws_handler() -> Response {
    StatusCode::NOT_FOUND.into_response()
}
