//! An account's status: connection state, identity, and counters that answer
//! "why doesn't the bot answer?" (every dropped message is counted by reason).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::event::DropReason;

/// Where an account's connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ConnectionState {
    /// Started, not yet connected.
    Starting,
    /// Opening the WebSocket.
    Connecting,
    /// WebSocket open, logging in.
    Connected,
    /// Logged in and subscribed: messages flow.
    Ready,
    /// Lost; a reconnect is scheduled.
    Disconnected,
    /// The server refused the credentials; retrying slowly.
    AuthFailed,
    /// Stopped by the host.
    Stopped,
}

/// A snapshot of one account, as hosts show it (serialised camelCase).
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountStatus {
    /// Account id.
    pub account_id: String,
    /// Whether the account is enabled in the configuration.
    pub enabled: bool,
    /// Server base URL.
    pub base_url: String,
    /// Connection state.
    pub state: ConnectionState,
    /// The bot's user id, once known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The bot's username, once known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The last connection or auth problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Epoch ms of the last inbound message delivered to the host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_inbound_at: Option<u64>,
    /// Epoch ms of the last message sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_outbound_at: Option<u64>,
    /// Times the realtime connection was re-established.
    pub reconnects: u64,
    /// Messages delivered to the host (live and catch-up).
    pub delivered: u64,
    /// Of those, fetched by catch-up after a reconnect.
    pub caught_up: u64,
    /// Edits delivered.
    pub edits: u64,
    /// Messages sent.
    pub sent: u64,
    /// Pairing requests raised for unknown DM senders.
    pub pairing_requests: u64,
    /// Replies not posted because another instance of the bot (a second gateway on this
    /// account) answered the message first.
    pub claimed_elsewhere: u64,
    /// Dropped messages by reason.
    pub dropped: BTreeMap<String, u64>,
}

impl AccountStatus {
    /// A fresh status.
    pub fn new(account_id: &str, base_url: &str, enabled: bool) -> Self {
        AccountStatus {
            account_id: account_id.to_owned(),
            enabled,
            base_url: base_url.to_owned(),
            state: ConnectionState::Starting,
            user_id: None,
            username: None,
            last_error: None,
            last_inbound_at: None,
            last_outbound_at: None,
            reconnects: 0,
            delivered: 0,
            caught_up: 0,
            edits: 0,
            sent: 0,
            pairing_requests: 0,
            claimed_elsewhere: 0,
            dropped: BTreeMap::new(),
        }
    }

    /// Count a dropped message.
    pub fn count_drop(&mut self, reason: DropReason) {
        let key = serde_json::to_value(reason)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "other".into());
        *self.dropped.entry(key).or_default() += 1;
    }
}
