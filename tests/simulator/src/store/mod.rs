//! The in-memory server state and the operations both transports share.
//!
//! Every change that Rocket.Chat would broadcast is published on the [`Bus`] as a
//! [`BusEvent`]; each DDP connection filters the bus for its subscriptions.
//! Errors are [`ApiError`]s (a Meteor.Error: code, reason, details) that the REST and
//! DDP layers render in their own envelope.

pub mod emoji;
mod messages;
pub mod model;
mod rooms;
mod streams_open;
pub mod text;
mod uploads;
mod users;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::broadcast;

pub use model::{render, LoginToken, Room, Subscription, TokenKind, User};

use crate::profile::Profile;
use crate::seed::Seed;
use crate::time::now_ms;

use rooms::add_subscription;

/// Server settings that change behaviour (Rocket.Chat admin settings with their defaults).
#[derive(Clone, Debug)]
pub struct Settings {
    /// `Message_MaxAllowedSize`.
    pub message_max_allowed_size: usize,
    /// `Accounts_LoginExpiration`, days.
    pub login_expiration_days: i64,
    /// `FileUpload_MaxFileSize`, bytes.
    pub file_upload_max_size: usize,
    /// `API_Enable_Rate_Limiter` (REST).
    pub rest_rate_limiter: bool,
    /// `API_Enable_Rate_Limiter_Limit_Calls_Default`.
    pub rest_rate_limit_calls: u32,
    /// `API_Enable_Rate_Limiter_Limit_Time_Default`, ms.
    pub rest_rate_limit_window_ms: u64,
    /// DDP rate limiter (Meteor `DDPRateLimiter` rules of §1.9).
    pub ddp_rate_limiter: bool,
    /// Emit a second delivery for messages with links (the URL preview enrichment).
    pub url_previews: bool,
    /// `__my_messages__` carries private groups and DMs, as on every current server. `false`
    /// reproduces a server whose all-rooms stream carries public channels only, where a bot
    /// needs the per-room streams of its private rooms.
    pub my_messages_private_rooms: bool,
    /// The workspace's retention policy (`RetentionPolicy_*`): off by default, as on a new
    /// server.
    pub retention: Retention,
}

/// `RetentionPolicy_*`: messages older than a room type's maximum age are pruned. The
/// simulator applies it when history is read, as if the pruning job had just run.
#[derive(Clone, Debug, Default)]
pub struct Retention {
    /// `RetentionPolicy_Enabled`.
    pub enabled: bool,
    /// `RetentionPolicy_FilesOnly`: only files are pruned, never messages.
    pub files_only: bool,
    /// `RetentionPolicy_MaxAge_Channels` when `RetentionPolicy_AppliesToChannels`, in ms
    /// (the unit of Rocket.Chat 7.0 and later).
    pub channels_ms: Option<i64>,
    /// The same for private groups.
    pub groups_ms: Option<i64>,
    /// The same for DMs.
    pub dms_ms: Option<i64>,
}

impl Retention {
    /// The maximum age of messages in a room of type `t` (`c`, `p`, `d`), if they are pruned.
    pub fn max_age_ms(&self, t: &str) -> Option<i64> {
        if !self.enabled || self.files_only {
            return None;
        }
        match t {
            "c" => self.channels_ms,
            "p" => self.groups_ms,
            "d" => self.dms_ms,
            _ => None,
        }
    }

    /// The public settings that describe it, as `settings.public` lists them.
    pub fn settings(&self) -> Vec<(&'static str, serde_json::Value)> {
        use serde_json::json;
        const THIRTY_DAYS_MS: i64 = 2_592_000_000;
        vec![
            ("RetentionPolicy_Enabled", json!(self.enabled)),
            ("RetentionPolicy_FilesOnly", json!(self.files_only)),
            (
                "RetentionPolicy_AppliesToChannels",
                json!(self.channels_ms.is_some()),
            ),
            (
                "RetentionPolicy_AppliesToGroups",
                json!(self.groups_ms.is_some()),
            ),
            ("RetentionPolicy_AppliesToDMs", json!(self.dms_ms.is_some())),
            (
                "RetentionPolicy_MaxAge_Channels",
                json!(self.channels_ms.unwrap_or(THIRTY_DAYS_MS)),
            ),
            (
                "RetentionPolicy_MaxAge_Groups",
                json!(self.groups_ms.unwrap_or(THIRTY_DAYS_MS)),
            ),
            (
                "RetentionPolicy_MaxAge_DMs",
                json!(self.dms_ms.unwrap_or(THIRTY_DAYS_MS)),
            ),
        ]
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            message_max_allowed_size: 5000,
            login_expiration_days: 90,
            file_upload_max_size: 100 * 1024 * 1024,
            rest_rate_limiter: true,
            rest_rate_limit_calls: 10,
            rest_rate_limit_window_ms: 60_000,
            ddp_rate_limiter: true,
            url_previews: true,
            my_messages_private_rooms: true,
            retention: Retention::default(),
        }
    }
}

/// A Meteor.Error as a server method throws it. `code` is the `error` field
/// (`error-not-allowed`, `403`, …), `reason` the human text.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// `error`: a string code or a number (as a string here; see [`ApiError::numeric`]).
    pub code: String,
    /// `reason`.
    pub reason: Option<String>,
    /// `details`.
    pub details: Option<Value>,
    /// The error is a plain `Error("text")`, not a Meteor.Error: REST shows only `error: text`.
    pub plain: bool,
}

impl ApiError {
    /// A Meteor.Error with a string code and a reason.
    pub fn new(code: &str, reason: &str) -> Self {
        ApiError {
            code: code.into(),
            reason: Some(reason.into()),
            details: None,
            plain: false,
        }
    }

    /// A plain error: REST shows `{"success":false,"error":"<text>"}` with no `errorType`.
    pub fn plain(text: &str) -> Self {
        ApiError {
            code: text.into(),
            reason: None,
            details: None,
            plain: true,
        }
    }

    /// Attach `details`.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// The numeric code, when the code is a number (`403`, `404`, `500`).
    pub fn numeric(&self) -> Option<i64> {
        self.code.parse().ok()
    }

    /// Meteor's `message`: `"<reason> [<error>]"`, or `"[<error>]"` without a reason.
    pub fn message(&self) -> String {
        match &self.reason {
            Some(r) => format!("{r} [{}]", self.code),
            None => format!("[{}]", self.code),
        }
    }

    /// The Meteor.Error object as DDP sends it (§1.7 field order).
    pub fn to_ddp(&self) -> Value {
        let mut obj = serde_json::Map::new();
        obj.insert("isClientSafe".into(), json!(true));
        obj.insert(
            "error".into(),
            match self.numeric() {
                Some(n) => json!(n),
                None => json!(self.code),
            },
        );
        if let Some(r) = &self.reason {
            obj.insert("reason".into(), json!(r));
        }
        if let Some(d) = &self.details {
            obj.insert("details".into(), d.clone());
        }
        obj.insert("message".into(), json!(self.message()));
        obj.insert("errorType".into(), json!("Meteor.Error"));
        Value::Object(obj)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ApiError {}

/// What the store publishes. Each DDP connection decides what its subscriptions see.
#[derive(Clone, Debug)]
pub enum BusEvent {
    /// A message was created or changed (edit, reaction, thread counters, preview): the
    /// current stored document, EJSON dates. Delivered to `stream-room-messages` `<rid>` and
    /// `__my_messages__` subscribers that can access the room.
    RoomMessage {
        /// The message document.
        message: Arc<Value>,
        /// Room type (`c`, `p`, `d`, `l`).
        room_type: String,
        /// Room name (none for DMs).
        room_name: Option<String>,
    },
    /// `stream-notify-room` `<rid>/<event>`.
    NotifyRoom {
        /// The full event name, e.g. `GENERAL/user-activity`.
        event: String,
        /// The event args.
        args: Vec<Value>,
        /// The writing connection, which does not receive its own event.
        origin: Option<u64>,
    },
    /// `stream-notify-user` `<uid>/<event>`.
    NotifyUser {
        /// The full event name, e.g. `<uid>/rooms-changed`.
        event: String,
        /// The event args.
        args: Vec<Value>,
    },
    /// A flood's message encoded beforehand (`crate::flood`): the same bytes for every reader.
    Replay(Arc<crate::flood::ReplayFrame>),
    /// Fault: close every WebSocket now.
    DropSockets,
    /// Fault: send this text as a frame on every WebSocket.
    MalformedFrame(String),
    /// A user's tokens were revoked or expired: their DDP sessions are logged out.
    TokensRevoked {
        /// The user.
        user_id: String,
    },
}

/// A message being sent.
#[derive(Clone, Debug, Default)]
pub struct NewMessage {
    /// Client-chosen `_id`.
    pub id: Option<String>,
    /// Room id.
    pub rid: String,
    /// Text.
    pub msg: String,
    /// Thread root.
    pub tmid: Option<String>,
    /// Also show in the channel.
    pub tshow: Option<bool>,
    /// Slack-style attachments.
    pub attachments: Option<Value>,
    /// Display name override.
    pub alias: Option<String>,
    /// Emoji avatar override.
    pub emoji: Option<String>,
    /// Avatar URL override.
    pub avatar: Option<String>,
    /// System message type (`uj`, `au`, …): only the server itself posts these.
    pub t: Option<String>,
    /// Extra fields for file messages (`file`, `files`, `groupable`).
    pub extra: Option<Value>,
    /// The `ts` to store (epoch ms) instead of now. Rocket.Chat does not make `ts` unique:
    /// bursts from bots and integrations share a millisecond, and this reproduces them.
    pub ts: Option<i64>,
}

/// A file uploaded with `rooms.media` (temporary until confirmed) or `rooms.upload`.
#[derive(Clone, Debug)]
pub struct Upload {
    /// File id.
    pub id: String,
    /// Room id.
    pub rid: String,
    /// Uploader.
    pub user_id: String,
    /// File name.
    pub name: String,
    /// MIME type.
    pub mime: String,
    /// Content.
    pub bytes: Arc<Vec<u8>>,
    /// Confirmed into a message.
    pub confirmed: bool,
}

/// The publish side of the event bus. Capacity is large: a lagging connection is closed
/// (as Rocket.Chat closes slow consumers) rather than silently skipping events.
#[derive(Clone)]
pub struct Bus(broadcast::Sender<BusEvent>);

impl Bus {
    /// Publish; nobody listening is fine.
    pub fn publish(&self, event: BusEvent) {
        let _ = self.0.send(event);
    }

    /// Events not yet seen by every receiver: how far the slowest connection is behind.
    pub fn queued(&self) -> usize {
        self.0.len()
    }

    /// A new receiver.
    pub fn subscribe(&self) -> broadcast::Receiver<BusEvent> {
        self.0.subscribe()
    }
}

/// The mutable state behind the store's lock.
#[derive(Default)]
pub struct State {
    /// Users by id.
    pub users: HashMap<String, User>,
    /// Rooms by id.
    pub rooms: HashMap<String, Room>,
    /// Subscriptions by (user id, room id).
    pub subscriptions: HashMap<(String, String), Subscription>,
    /// Messages in insertion order (`None` once hard-deleted).
    pub messages: Vec<Option<Value>>,
    /// Message id → index in `messages`.
    pub message_index: HashMap<String, usize>,
    /// Deleted messages as (room id, message id, deleted at ms): Rocket.Chat's trash, which
    /// `chat.syncMessages` reports as `deleted`.
    pub trash: Vec<(String, String, i64)>,
    /// Uploads by file id.
    pub uploads: HashMap<String, Upload>,
    /// Last `ts` handed out, so two messages share a timestamp only when asked to.
    last_ts: i64,
}

/// The simulator's state and the operations on it.
pub struct Store {
    state: Mutex<State>,
    bus: Bus,
    /// The version profile.
    pub profile: Profile,
    /// Server settings.
    pub settings: Settings,
    /// The stream subscriptions each live DDP connection holds (`GET /_sim/subscriptions`).
    open_streams: streams_open::OpenStreams,
}

/// sha-256 of a password as lowercase hex (the DDP `digest` form and the REST 2FA `password` method).
pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

impl Store {
    /// A store holding the seed.
    pub fn new(seed: &Seed, profile: Profile, settings: Settings) -> Self {
        let (tx, _) = broadcast::channel(1 << 16);
        let store = Store {
            state: Mutex::new(State::default()),
            bus: Bus(tx),
            profile,
            settings,
            open_streams: Default::default(),
        };
        store.load_seed(seed);
        store
    }

    fn load_seed(&self, seed: &Seed) {
        let now = now_ms();
        let mut st = self.lock();
        for u in &seed.users {
            let mut tokens: Vec<LoginToken> = u
                .login_tokens
                .iter()
                .map(|t| LoginToken {
                    token: t.clone(),
                    kind: TokenKind::Login,
                    when: now,
                    expired: false,
                })
                .collect();
            tokens.extend(u.personal_access_tokens.iter().map(|t| LoginToken {
                token: t.clone(),
                kind: TokenKind::PersonalAccess,
                when: now,
                expired: false,
            }));
            st.users.insert(
                u.id.clone(),
                User {
                    id: u.id.clone(),
                    username: u.username.clone(),
                    name: u.name.clone(),
                    password: u.password.clone(),
                    roles: u.roles.clone(),
                    tokens,
                    totp_code: u.totp_code.clone(),
                    active: true,
                },
            );
        }
        for r in &seed.rooms {
            let members: BTreeSet<String> = r
                .members
                .iter()
                .filter_map(|name| st.users.values().find(|u| &u.username == name))
                .map(|u| u.id.clone())
                .collect();
            st.rooms.insert(
                r.id.clone(),
                Room {
                    id: r.id.clone(),
                    t: r.t.clone(),
                    name: r.name.clone(),
                    members: members.clone(),
                    read_only: r.read_only,
                    topic: None,
                    ts: now - 86_400_000,
                    updated_at: now - 86_400_000,
                    lm: None,
                    msgs: 0,
                },
            );
            for uid in members {
                add_subscription(&mut st, &r.id, &uid, now - 86_400_000);
            }
        }
    }

    /// Lock the state. Keep the guard short: never hold it across an await.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The event bus.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }
}

/// Percent-encode a file name for a URL path segment.
pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests;
