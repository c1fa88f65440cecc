//! Counters a benchmark or test reads back through `GET /_sim/stats`: logins, the calls
//! Rocket.Chat's rate limiters refused (DDP and REST), history reads a `denyHistory` fault
//! refused, restarts.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde_json::{json, Value};

/// Shared by every connection and route of one simulator; survives restarts.
#[derive(Default)]
pub struct Stats {
    logins: AtomicU64,
    restarts: AtomicU64,
    history_refused: AtomicU64,
    /// `"method login"`, `"subscription stream-room-messages"`, `"rest /api/v1/login"` → refusals.
    refused: Mutex<BTreeMap<String, u64>>,
}

impl Stats {
    /// A DDP `login` call or a `POST /api/v1/login` reached the server.
    pub fn count_login(&self) {
        self.logins.fetch_add(1, Ordering::Relaxed);
    }

    /// A rate limiter refused a call: `kind` is `method`, `subscription` or `rest`.
    pub fn count_refused(&self, kind: &str, name: &str) {
        let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        *refused.entry(format!("{kind} {name}")).or_default() += 1;
    }

    /// A history read was refused by a `denyHistory` fault.
    pub fn count_history_refused(&self) {
        self.history_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// History reads refused by a `denyHistory` fault so far.
    pub fn histories_refused(&self) -> u64 {
        self.history_refused.load(Ordering::Relaxed)
    }

    /// The server was restarted.
    pub fn count_restart(&self) {
        self.restarts.fetch_add(1, Ordering::Relaxed);
    }

    /// Logins refused by a rate limit, over DDP and REST.
    pub fn logins_refused(&self) -> u64 {
        let refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        ["method login", "rest /api/v1/login"]
            .iter()
            .filter_map(|k| refused.get(*k))
            .sum()
    }

    /// The control API's view.
    pub fn to_json(&self) -> Value {
        let refused = self
            .refused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        json!({
            "logins": self.logins.load(Ordering::Relaxed),
            "loginsRefused": self.logins_refused(),
            "rateLimited": refused,
            "historyRefused": self.histories_refused(),
            "restarts": self.restarts.load(Ordering::Relaxed),
        })
    }
}
