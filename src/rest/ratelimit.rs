//! Rate-limit headers, the 429 "wait N seconds" text, the per-route pacer and backoff.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use rand::Rng;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

/// Rocket.Chat's `X-RateLimit-*` headers (any case).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimitInfo {
    /// `X-RateLimit-Limit`: calls allowed per window.
    pub limit: Option<u64>,
    /// `X-RateLimit-Remaining`: calls left in this window.
    pub remaining: Option<u64>,
    /// `X-RateLimit-Reset`: absolute epoch milliseconds when the window resets.
    pub reset_epoch_ms: Option<i64>,
}

impl RateLimitInfo {
    /// Read the headers (header names are case-insensitive in `HeaderMap`).
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let num = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v >= 0.0)
        };
        RateLimitInfo {
            limit: num("x-ratelimit-limit").map(|v| v as u64),
            remaining: num("x-ratelimit-remaining").map(|v| v as u64),
            reset_epoch_ms: num("x-ratelimit-reset").map(|v| v as i64),
        }
    }

    /// Time from now until the reset, if the reset lies in the future.
    pub fn until_reset(&self) -> Option<Duration> {
        let reset = self.reset_epoch_ms?;
        let now = chrono::Utc::now().timestamp_millis();
        (reset > now).then(|| Duration::from_millis((reset - now) as u64))
    }
}

/// Parse "… You must wait 52 seconds before trying this endpoint again …".
pub fn parse_wait_seconds(text: &str) -> Option<u64> {
    let lower = text.to_ascii_lowercase();
    let idx = lower.find("wait ")?;
    let rest = &lower[idx + 5..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let n: u64 = digits.parse().ok()?;
    let after = rest.trim_start()[digits.len()..].trim_start();
    after.starts_with("second").then_some(n)
}

/// How long a 429 asks us to wait: until the reset header, else the "wait N seconds"
/// text, else `None` (caller falls back to backoff).
pub fn retry_after(info: &RateLimitInfo, body_text: &str) -> Option<Duration> {
    info.until_reset()
        .or_else(|| parse_wait_seconds(body_text).map(Duration::from_secs))
}

/// Random jitter in `0..=max_ms` milliseconds.
pub fn jitter(max_ms: u64) -> Duration {
    Duration::from_millis(rand::rng().random_range(0..=max_ms))
}

/// Capped exponential backoff with jitter: `min(cap, base·2^attempt)`, scaled by a
/// random factor in `[0.5, 1.0]`.
pub fn backoff(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(16));
    let d = exp.min(cap);
    let f: f64 = rand::rng().random_range(0.5..=1.0);
    d.mul_f64(f)
}

/// Per-account pacer: once a route reports `Remaining: 0` (or answers 429), further
/// calls to that route wait until its reset instead of tripping 429s.
#[derive(Debug, Default)]
pub struct Pacer {
    blocked: Mutex<HashMap<String, Instant>>,
}

impl Pacer {
    /// Wait until `route` may be called.
    pub async fn wait(&self, route: &str) {
        loop {
            let until = {
                let mut map = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
                match map.get(route) {
                    Some(t) if *t > Instant::now() => *t,
                    Some(_) => {
                        map.remove(route);
                        return;
                    }
                    None => return,
                }
            };
            tracing::debug!(route, "pacing: waiting for the rate-limit window to reset");
            tokio::time::sleep_until(until).await;
        }
    }

    /// Record a response's headers for `route`; `max_wait` bounds how long we trust a
    /// reset far in the future (clock skew).
    pub fn observe(&self, route: &str, info: &RateLimitInfo, max_wait: Duration) {
        if info.remaining == Some(0) {
            if let Some(d) = info.until_reset() {
                self.block_for(route, d.min(max_wait));
            }
        }
    }

    /// Hold `route` for `d` (plus up to 250 ms of jitter so a queue does not stampede).
    pub fn block_for(&self, route: &str, d: Duration) {
        let until = Instant::now() + d + jitter(250);
        let mut map = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        let slot = map.entry(route.to_owned()).or_insert(until);
        if *slot < until {
            *slot = until;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn parses_wait_n_seconds() {
        let t = "Error, too many requests. Please slow down. You must wait 52 seconds before \
                 trying this endpoint again. [error-too-many-requests]";
        assert_eq!(parse_wait_seconds(t), Some(52));
        assert_eq!(parse_wait_seconds("must WAIT 1 second"), Some(1));
        assert_eq!(parse_wait_seconds("wait for it"), None);
        assert_eq!(parse_wait_seconds("nothing"), None);
    }

    #[test]
    fn reads_lower_case_headers() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-limit", HeaderValue::from_static("10"));
        h.insert("X-RateLimit-Remaining", HeaderValue::from_static("0"));
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_static("1763980852000"),
        );
        let info = RateLimitInfo::from_headers(&h);
        assert_eq!(info.limit, Some(10));
        assert_eq!(info.remaining, Some(0));
        assert_eq!(info.reset_epoch_ms, Some(1763980852000));
        // in the past: no wait from the header, the text decides
        assert_eq!(
            retry_after(&info, "wait 3 seconds"),
            Some(Duration::from_secs(3))
        );
    }

    #[test]
    fn backoff_is_capped() {
        for a in 0..40 {
            let d = backoff(a, Duration::from_millis(100), Duration::from_secs(2));
            assert!(d <= Duration::from_secs(2));
        }
    }

    #[tokio::test]
    async fn pacer_blocks_until_reset() {
        use std::future::Future;
        use std::task::{Context, Waker};
        let poll_once = |f: std::pin::Pin<&mut dyn Future<Output = ()>>| {
            f.poll(&mut Context::from_waker(Waker::noop()))
        };
        let p = Pacer::default();
        p.block_for("GET x", Duration::from_millis(300));
        let start = Instant::now();
        // Another route is not held: ready at once, whatever the machine's load.
        assert!(poll_once(std::pin::pin!(p.wait("GET y"))).is_ready());
        let mut held = std::pin::pin!(p.wait("GET x"));
        assert!(poll_once(held.as_mut()).is_pending());
        held.await;
        assert!(start.elapsed() >= Duration::from_millis(300));
    }
}
