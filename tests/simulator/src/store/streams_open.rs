//! Which stream subscriptions each live DDP connection holds: what a server operator sees as
//! a client's load, and what tests check when a client should subscribe to less.

use std::collections::HashMap;
use std::sync::Mutex;

use super::Store;

/// A `(stream name, event name)` subscription.
type Stream = (String, String);

/// One connection's logged-in user id and subscriptions.
type Held = (Option<String>, Vec<Stream>);

/// Per connection id, what it holds.
#[derive(Default)]
pub(super) struct OpenStreams(Mutex<HashMap<u64, Held>>);

impl Store {
    /// Record a connection's current subscriptions (replacing what it had).
    pub fn set_open_streams(&self, conn: u64, user_id: Option<&str>, subs: Vec<Stream>) {
        let mut map = self
            .open_streams
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.insert(conn, (user_id.map(str::to_owned), subs));
    }

    /// A connection closed: its subscriptions are gone.
    pub fn close_open_streams(&self, conn: u64) {
        let mut map = self
            .open_streams
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.remove(&conn);
    }

    /// The `(stream name, event name)` subscriptions of every live connection of a user,
    /// sorted.
    pub fn open_streams_of(&self, user_id: &str) -> Vec<Stream> {
        let map = self
            .open_streams
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<_> = map
            .values()
            .filter(|(uid, _)| uid.as_deref() == Some(user_id))
            .flat_map(|(_, subs)| subs.iter().cloned())
            .collect();
        out.sort();
        out
    }
}
