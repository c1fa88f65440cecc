//! Conversation windows: after the bot is addressed (or speaks), it keeps
//! answering in the same room and thread without a mention for a while.
//!
//! A window is keyed by room **and** thread (`None` = the room's main
//! timeline), like OpenClaw's sessions (`…:thread:<tmid>` is its own session):
//! a conversation in a thread does not open the main timeline, and the other
//! way round. A window opened at `t` for `m` minutes covers message times in
//! `[t, t + m·60 000)`: at exactly `t + m·60 000` it has expired. Extending
//! never shortens a window.

use std::collections::HashMap;

/// Entries kept before expired ones are swept.
const SWEEP_AT: usize = 1024;

/// Open conversation windows: `(room, thread)` → end time (epoch ms, exclusive).
#[derive(Debug, Clone, Default)]
pub struct Windows {
    until: HashMap<(String, Option<String>), u64>,
}

impl Windows {
    /// Extend the window of `room`/`thread` to at least `at_ms + minutes`.
    /// `minutes == 0` (windows off) does nothing.
    pub fn extend(&mut self, room: &str, thread: Option<&str>, at_ms: u64, minutes: u64) {
        if minutes == 0 {
            return;
        }
        let end = at_ms.saturating_add(minutes.saturating_mul(60_000));
        if self.until.len() >= SWEEP_AT {
            self.until.retain(|_, until| *until > at_ms);
        }
        let slot = self
            .until
            .entry((room.to_owned(), thread.map(str::to_owned)))
            .or_insert(end);
        *slot = (*slot).max(end);
    }

    /// Whether a message at `at_ms` in `room`/`thread` falls in an open window.
    pub fn is_active(&self, room: &str, thread: Option<&str>, at_ms: u64) -> bool {
        self.until
            .get(&(room.to_owned(), thread.map(str::to_owned)))
            .is_some_and(|until| at_ms < *until)
    }

    /// When the window of `room`/`thread` ends (epoch ms, exclusive), if one was opened.
    pub fn until(&self, room: &str, thread: Option<&str>) -> Option<u64> {
        self.until
            .get(&(room.to_owned(), thread.map(str::to_owned)))
            .copied()
    }
}
