//! REST under `/api` (being written).

use axum::Router;

use crate::server::AppState;

/// Per-route REST rate limiter buckets (being written).
#[derive(Default)]
pub struct RateLimiter;

/// The REST routes.
pub fn router() -> Router<AppState> {
    Router::new()
}
