//! The REST rate limiter (ROCKETCHAT.md §5): `calls` per `window` keyed by client IP + route +
//! HTTP method, `X-RateLimit-*` headers on every response of a limited caller, 429 when over.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::json;

use super::auth::header_user;
use super::envelope::json_response;
use crate::server::AppState;
use crate::time::now_ms;

/// Per-route REST rate limiter buckets.
#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    /// When the current window started (epoch ms).
    start: i64,
    /// Calls in the window, this one included.
    count: u32,
}

/// The outcome of one call against a bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Whether the call may proceed.
    pub allowed: bool,
    /// `X-RateLimit-Limit`.
    pub limit: u32,
    /// `X-RateLimit-Remaining`.
    pub remaining: u32,
    /// `X-RateLimit-Reset`: absolute epoch ms when the window ends.
    pub reset_ms: i64,
}

impl RateLimiter {
    /// Count one call for `key` at `now` and decide.
    pub fn check(&self, key: &str, calls: u32, window_ms: u64, now: i64) -> Decision {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let b = buckets.entry(key.to_owned()).or_insert(Bucket {
            start: now,
            count: 0,
        });
        // A window that has run out starts over with this call.
        if now - b.start >= window_ms as i64 {
            *b = Bucket {
                start: now,
                count: 0,
            };
        }
        b.count = b.count.saturating_add(1);
        Decision {
            allowed: b.count <= calls,
            limit: calls,
            remaining: calls.saturating_sub(b.count),
            reset_ms: b.start + window_ms as i64,
        }
    }

    /// Forget every bucket.
    pub fn clear(&self) {
        self.buckets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// Routes Rocket.Chat registers with `rateLimiterOptions: false`.
fn exempt(route: &str) -> bool {
    route.starts_with("/api/v1/method.call")
}

/// Routes that never authenticate, so their limit is per IP even for bypassing users.
fn anonymous(route: &str) -> bool {
    matches!(route, "/api/v1/login" | "/api/v1/users.register")
}

/// The 429 body of §5.
pub fn too_many_requests_text(wait_ms: i64) -> String {
    let wait_s = (wait_ms.max(0) + 999) / 1000;
    format!(
        "Error, too many requests. Please slow down. You must wait {wait_s} seconds before trying this endpoint again. [error-too-many-requests]"
    )
}

fn put_headers(h: &mut HeaderMap, d: &Decision) {
    for (k, v) in [
        ("x-ratelimit-limit", d.limit.to_string()),
        ("x-ratelimit-remaining", d.remaining.to_string()),
        ("x-ratelimit-reset", d.reset_ms.to_string()),
    ] {
        h.insert(k, HeaderValue::from_str(&v).expect("digits"));
    }
}

/// Route-layer middleware: runs after routing (so the route pattern is known) and before the
/// handler, as Rocket.Chat checks the limit before the endpoint's action.
pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let settings = &state.store.settings;
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| req.uri().path().to_owned());
    if route == "/api/v1/login" {
        state.stats.count_login();
    }
    if !settings.rest_rate_limiter || !route.starts_with("/api/v1/") || exempt(&route) {
        return next.run(req).await;
    }
    if !anonymous(&route) {
        let bypass =
            header_user(&state, req.headers()).is_some_and(|(u, _)| u.bypasses_rate_limit());
        if bypass {
            return next.run(req).await;
        }
    }
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let key = format!(
        "{ip} {} {}",
        route.trim_start_matches("/api/v1"),
        req.method().as_str().to_lowercase()
    );
    let now = now_ms();
    let d = state.rest_limiter.check(
        &key,
        settings.rest_rate_limit_calls,
        settings.rest_rate_limit_window_ms,
        now,
    );
    let mut res = if d.allowed {
        next.run(req).await
    } else {
        state.stats.count_refused("rest", &route);
        json_response(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"success": false, "error": too_many_requests_text(d.reset_ms - now)}),
        )
    };
    put_headers(res.headers_mut(), &d);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_down_then_refuses_then_resets() {
        let rl = RateLimiter::default();
        let d = rl.check("k", 2, 1000, 0);
        assert_eq!((d.allowed, d.remaining, d.reset_ms), (true, 1, 1000));
        assert!(rl.check("k", 2, 1000, 10).allowed);
        let d = rl.check("k", 2, 1000, 20);
        assert_eq!((d.allowed, d.remaining), (false, 0));
        assert!(rl.check("k", 2, 1000, 1000).allowed);
        assert!(rl.check("other", 2, 1000, 20).allowed);
    }

    #[test]
    fn wait_is_rounded_up() {
        assert!(too_many_requests_text(41_001).contains("wait 42 seconds"));
        assert!(too_many_requests_text(41_000).contains("wait 41 seconds"));
    }
}
