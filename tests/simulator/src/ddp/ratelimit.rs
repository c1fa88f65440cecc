//! Meteor's `DDPRateLimiter` with Rocket.Chat's rules (ROCKETCHAT.md §1.9).
//!
//! Every method call and every subscription is counted against each rule that matches it;
//! Meteor increments first and then checks, so the call that makes a counter exceed its limit
//! is the first one refused. A counter's window starts at its first call and resets once the
//! window has passed (Meteor's `RateLimiter` keeps one "last reset" time per rule key).
//!
//! The limiter is shared by every connection of one simulator (user and IP rules span
//! connections). `AppState` has no slot for it, so [`for_store`] keeps one limiter per
//! store in a small registry keyed by the store's address and pruned of dead stores.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use serde_json::json;

use crate::store::{ApiError, Store};
use crate::time::now_ms;

/// A limit: at most `calls` within `window_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Calls allowed per window.
    pub calls: u32,
    /// Window length in milliseconds.
    pub window_ms: i64,
}

/// Per client IP, every method and sub: 120000 per minute (`DDP_Rate_Limit_IP_*`).
/// Connections from 127.0.0.1 are exempt from this rule only.
pub const PER_IP: Limit = Limit {
    calls: 120_000,
    window_ms: 60_000,
};
/// Per user, every method and sub: 1200 per minute.
pub const PER_USER: Limit = Limit {
    calls: 1_200,
    window_ms: 60_000,
};
/// Per connection, every method and sub: 600 per minute.
pub const PER_CONNECTION: Limit = Limit {
    calls: 600,
    window_ms: 60_000,
};
/// Per user and method (or publication): 20 per 10 s.
pub const PER_USER_METHOD: Limit = Limit {
    calls: 20,
    window_ms: 10_000,
};
/// Per connection and method (or publication): 10 per 10 s.
pub const PER_CONNECTION_METHOD: Limit = Limit {
    calls: 10,
    window_ms: 10_000,
};
/// Names starting with `stream-` get both per-method limits multiplied by this
/// (calls and window alike: 80/40 s and 40/40 s).
pub const STREAM_FACTOR: u32 = 4;
/// `sendMessage` per user unless the user may `send-many-messages` (role `bot`): 5 per second.
pub const SEND_MESSAGE: Limit = Limit {
    calls: 5,
    window_ms: 1_000,
};
/// Meteor's own default rule for `login`: 5 per 10 s per *connection*. ROCKETCHAT.md §1.9
/// says "per IP", but Meteor's rule keys on the connection id (its docs: "5 attempts every
/// 10 seconds per connection"), which also spares clients that reconnect and resume often.
pub const LOGIN: Limit = Limit {
    calls: 5,
    window_ms: 10_000,
};

/// What is being counted.
pub struct Call<'a> {
    /// `method` or `subscription`.
    pub kind: &'a str,
    /// Method or publication name.
    pub name: &'a str,
    /// DDP connection id.
    pub connection: u64,
    /// Logged-in user, if any.
    pub user_id: Option<&'a str>,
    /// Whether that user may send many messages (role `bot`).
    pub send_many: bool,
    /// Client IP.
    pub ip: &'a str,
}

#[derive(Default)]
struct Counter {
    reset_at: i64,
    count: u32,
}

/// The counters of one simulator.
#[derive(Default)]
pub struct DdpRateLimiter {
    counters: Mutex<HashMap<String, Counter>>,
}

impl DdpRateLimiter {
    /// Forget every counter (Meteor keeps them in memory: a restart starts over).
    pub fn clear(&self) {
        self.counters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Count a call; `Err` with Meteor's `too-many-requests` error when a rule refuses it.
    pub fn check(&self, call: &Call<'_>) -> Result<(), ApiError> {
        let stream = call.name.starts_with("stream-");
        let scale = |l: Limit| {
            if stream {
                Limit {
                    calls: l.calls * STREAM_FACTOR,
                    window_ms: l.window_ms * i64::from(STREAM_FACTOR),
                }
            } else {
                l
            }
        };
        let mut rules: Vec<(String, Limit)> = Vec::with_capacity(7);
        if call.ip != "127.0.0.1" && call.ip != "::1" {
            rules.push((format!("ip|{}", call.ip), PER_IP));
        }
        rules.push((format!("conn|{}", call.connection), PER_CONNECTION));
        rules.push((
            format!("conn-name|{}|{}|{}", call.connection, call.kind, call.name),
            scale(PER_CONNECTION_METHOD),
        ));
        if let Some(uid) = call.user_id {
            rules.push((format!("user|{uid}"), PER_USER));
            rules.push((
                format!("user-name|{uid}|{}|{}", call.kind, call.name),
                scale(PER_USER_METHOD),
            ));
            if call.kind == "method" && call.name == "sendMessage" && !call.send_many {
                rules.push((format!("send|{uid}"), SEND_MESSAGE));
            }
        }
        if call.kind == "method" && call.name == "login" {
            rules.push((format!("login|{}", call.connection), LOGIN));
        }
        let now = now_ms();
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        // Meteor increments every matching rule, then reports the first one over its limit
        // with the longest wait among the violated ones.
        let mut wait: Option<i64> = None;
        for (key, limit) in rules {
            let c = counters.entry(key).or_default();
            if now >= c.reset_at {
                c.reset_at = now + limit.window_ms;
                c.count = 0;
            }
            c.count += 1;
            if c.count > limit.calls {
                let left = c.reset_at - now;
                wait = Some(wait.map_or(left, |w| w.max(left)));
            }
        }
        match wait {
            None => Ok(()),
            Some(ms) => Err(too_many_requests(ms)),
        }
    }
}

/// Meteor's rate-limit error: `too-many-requests`, "wait N seconds", `details.timeToReset`.
pub fn too_many_requests(time_to_reset_ms: i64) -> ApiError {
    let secs = (time_to_reset_ms.max(0) + 999) / 1000;
    ApiError::new(
        "too-many-requests",
        &format!(
            "Error, too many requests. Please slow down. You must wait {secs} seconds before trying again."
        ),
    )
    .with_details(json!({ "timeToReset": time_to_reset_ms }))
}

type Registry = Mutex<Vec<(Weak<Store>, Arc<DdpRateLimiter>)>>;

/// The limiter of the simulator that owns `store`.
pub fn for_store(store: &Arc<Store>) -> Arc<DdpRateLimiter> {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    let mut reg = REGISTRY
        .get_or_init(Registry::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    reg.retain(|(w, _)| w.strong_count() > 0);
    if let Some((_, l)) = reg
        .iter()
        .find(|(w, _)| std::ptr::eq(w.as_ptr(), Arc::as_ptr(store)))
    {
        return l.clone();
    }
    let limiter = Arc::new(DdpRateLimiter::default());
    reg.push((Arc::downgrade(store), limiter.clone()));
    limiter
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call<'a>(name: &'a str, user: Option<&'a str>, send_many: bool) -> Call<'a> {
        Call {
            kind: "method",
            name,
            connection: 1,
            user_id: user,
            send_many,
            ip: "127.0.0.1",
        }
    }

    #[test]
    fn connection_method_rule_refuses_the_eleventh_call() {
        let l = DdpRateLimiter::default();
        for _ in 0..10 {
            l.check(&call("rooms/get", Some("u"), false)).unwrap();
        }
        let err = l.check(&call("rooms/get", Some("u"), false)).unwrap_err();
        assert_eq!(err.code, "too-many-requests");
        assert!(err.reason.unwrap().contains("wait 10 seconds"));
    }

    #[test]
    fn stream_writes_get_four_times_the_budget_and_bots_send_many() {
        let l = DdpRateLimiter::default();
        for _ in 0..40 {
            l.check(&call("stream-notify-room", Some("u"), false))
                .unwrap();
        }
        assert!(l
            .check(&call("stream-notify-room", Some("u"), false))
            .is_err());
        for _ in 0..10 {
            l.check(&call("sendMessage", Some("bot"), true)).unwrap();
        }
        let l = DdpRateLimiter::default();
        for _ in 0..5 {
            l.check(&call("sendMessage", Some("u"), false)).unwrap();
        }
        let err = l.check(&call("sendMessage", Some("u"), false)).unwrap_err();
        assert!(err.reason.unwrap().contains("wait 1 seconds"));
    }
}
