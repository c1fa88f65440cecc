//! Pending pairing requests: an unknown DM sender is asked once, not on every
//! message, until approved or until the request is older than the TTL.

use std::collections::HashMap;

/// How long a pairing request stays pending (OpenClaw's pairing codes live one hour).
pub const DEFAULT_PAIRING_TTL_MS: u64 = 60 * 60 * 1000;

/// A sender who was asked to pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPairing {
    /// The sender's username when asked.
    pub username: String,
    /// When the request was issued (epoch ms).
    pub since_ms: u64,
}

/// Pending requests by sender id.
#[derive(Debug, Clone, Default)]
pub struct Pending {
    by_sender: HashMap<String, PendingPairing>,
}

impl Pending {
    /// Whether `sender_id` has a request younger than `ttl_ms` at `now_ms`.
    pub fn is_pending(&self, sender_id: &str, now_ms: u64, ttl_ms: u64) -> bool {
        self.by_sender
            .get(sender_id)
            .is_some_and(|p| now_ms < p.since_ms.saturating_add(ttl_ms))
    }

    /// Record a request issued at `now_ms`, sweeping expired ones.
    pub fn insert(&mut self, sender_id: &str, username: &str, now_ms: u64, ttl_ms: u64) {
        self.by_sender
            .retain(|_, p| now_ms < p.since_ms.saturating_add(ttl_ms));
        self.by_sender.insert(
            sender_id.to_owned(),
            PendingPairing {
                username: username.to_owned(),
                since_ms: now_ms,
            },
        );
    }

    /// Forget the requests of senders `admits` says yes to.
    pub fn remove_where(&mut self, mut admits: impl FnMut(&str, &str) -> bool) {
        self.by_sender.retain(|id, p| !admits(id, &p.username));
    }

    /// The pending requests (sender id → request), expired ones included until swept.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &PendingPairing)> {
        self.by_sender.iter().map(|(k, v)| (k.as_str(), v))
    }
}
