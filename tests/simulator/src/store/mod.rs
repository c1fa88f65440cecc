//! The in-memory server state and the operations both transports share.
//!
//! Every change that Rocket.Chat would broadcast is published on the [`Bus`] as a
//! [`BusEvent`]; each DDP connection filters the bus for its subscriptions.
//! Errors are [`ApiError`]s (a Meteor.Error: code, reason, details) that the REST and
//! DDP layers render in their own envelope.

pub mod model;
pub mod text;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::broadcast;

pub use model::{render, LoginToken, Room, Subscription, TokenKind, User};

use crate::ids::{random_id, random_token};
use crate::profile::Profile;
use crate::seed::Seed;
use crate::time::{now_ms, DateForm};

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
    /// Last `ts` handed out, so two messages never share a timestamp.
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

    // ---- users and tokens ----------------------------------------------------------------

    /// A user by id.
    pub fn user(&self, id: &str) -> Option<User> {
        self.lock().users.get(id).cloned()
    }

    /// A user by username (case-insensitive, as Rocket.Chat's lookup).
    pub fn user_by_username(&self, username: &str) -> Option<User> {
        let username = username.trim_start_matches('@');
        self.lock()
            .users
            .values()
            .find(|u| u.username.eq_ignore_ascii_case(username))
            .cloned()
    }

    /// A user by username or e-mail (`<username>@example.com`), as `/login`'s `user` field.
    pub fn user_by_login(&self, login: &str) -> Option<User> {
        let name = login.strip_suffix("@example.com").unwrap_or(login);
        self.user_by_username(name)
    }

    /// Resolve a resume token (login token or PAT). Errors are the Meteor ones of §1.10.
    pub fn user_by_token(&self, token: &str) -> Result<(User, TokenKind), ApiError> {
        let st = self.lock();
        let expiry_ms = self.settings.login_expiration_days * 86_400_000;
        for u in st.users.values() {
            if let Some(t) = u.tokens.iter().find(|t| t.token == token) {
                let expired =
                    t.expired || (t.kind == TokenKind::Login && t.when + expiry_ms < now_ms());
                if expired {
                    return Err(ApiError::new(
                        "403",
                        "Your session has expired. Please log in again.",
                    ));
                }
                return Ok((u.clone(), t.kind));
            }
        }
        Err(ApiError::new(
            "403",
            "You've been logged out by the server. Please log in again.",
        ))
    }

    /// REST auth: the user whose id and token match (`X-User-Id` / `X-Auth-Token`).
    /// Rocket.Chat does not re-check expiry here, but an expired-by-fault token is gone.
    pub fn authenticate(&self, user_id: &str, token: &str) -> Option<User> {
        let st = self.lock();
        let u = st.users.get(user_id)?;
        u.tokens
            .iter()
            .any(|t| t.token == token && !t.expired)
            .then(|| u.clone())
    }

    /// Whether a password (plain, or its sha-256 hex digest) is the user's.
    pub fn check_password(&self, user: &User, plain: Option<&str>, digest: Option<&str>) -> bool {
        match (plain, digest) {
            (Some(p), _) => p == user.password,
            (None, Some(d)) => d.eq_ignore_ascii_case(&sha256_hex(&user.password)),
            _ => false,
        }
    }

    /// A new login token for the user; returns `(token, tokenExpires ms)`.
    pub fn create_login_token(&self, user_id: &str) -> (String, i64) {
        let token = random_token();
        let when = now_ms();
        let mut st = self.lock();
        if let Some(u) = st.users.get_mut(user_id) {
            u.tokens.push(LoginToken {
                token: token.clone(),
                kind: TokenKind::Login,
                when,
                expired: false,
            });
        }
        (
            token,
            when + self.settings.login_expiration_days * 86_400_000,
        )
    }

    /// A new personal access token for the user.
    pub fn create_personal_access_token(&self, user_id: &str) -> String {
        let token = random_token();
        let mut st = self.lock();
        if let Some(u) = st.users.get_mut(user_id) {
            u.tokens.push(LoginToken {
                token: token.clone(),
                kind: TokenKind::PersonalAccess,
                when: now_ms(),
                expired: false,
            });
        }
        token
    }

    /// `tokenExpires` for a token: `when` + expiration for login tokens; far future for PATs
    /// (the real value derives from an invalid date, §10).
    pub fn token_expires(&self, token: &str) -> i64 {
        let st = self.lock();
        st.users
            .values()
            .flat_map(|u| u.tokens.iter())
            .find(|t| t.token == token)
            .map(|t| match t.kind {
                TokenKind::Login => t.when + self.settings.login_expiration_days * 86_400_000,
                TokenKind::PersonalAccess => 253_402_300_799_000,
            })
            .unwrap_or(0)
    }

    /// Remove one token (logout).
    pub fn remove_token(&self, token: &str) {
        let mut st = self.lock();
        for u in st.users.values_mut() {
            u.tokens.retain(|t| t.token != token);
        }
    }

    /// Register a new account (REST `users.create`/`users.register`). Usernames are unique
    /// case-insensitively, as Rocket.Chat's index.
    pub fn create_user(
        &self,
        username: &str,
        name: &str,
        password: &str,
        roles: Vec<String>,
    ) -> Result<User, ApiError> {
        let mut st = self.lock();
        if st
            .users
            .values()
            .any(|u| u.username.eq_ignore_ascii_case(username))
        {
            return Err(ApiError::new(
                "error-field-unavailable",
                &format!("{username} is already in use :("),
            )
            .with_details(json!({"field": "username"})));
        }
        let user = User {
            id: random_id(),
            username: username.into(),
            name: name.into(),
            password: password.into(),
            roles,
            tokens: Vec::new(),
            totp_code: None,
            active: true,
        };
        st.users.insert(user.id.clone(), user.clone());
        Ok(user)
    }

    /// Fault: mark a token expired. Returns whether it existed.
    pub fn expire_token(&self, token: &str) -> bool {
        let mut owner = None;
        {
            let mut st = self.lock();
            for u in st.users.values_mut() {
                for t in u.tokens.iter_mut().filter(|t| t.token == token) {
                    t.expired = true;
                    owner = Some(u.id.clone());
                }
            }
        }
        if let Some(user_id) = &owner {
            self.bus.publish(BusEvent::TokensRevoked {
                user_id: user_id.clone(),
            });
        }
        owner.is_some()
    }

    /// Fault: revoke every token of a user (login tokens and PATs). Returns how many.
    pub fn revoke_tokens(&self, username: &str) -> usize {
        let Some(user) = self.user_by_username(username) else {
            return 0;
        };
        let n = {
            let mut st = self.lock();
            let u = st.users.get_mut(&user.id).expect("user exists");
            let n = u.tokens.len();
            u.tokens.clear();
            n
        };
        self.bus
            .publish(BusEvent::TokensRevoked { user_id: user.id });
        n
    }

    // ---- rooms and subscriptions ---------------------------------------------------------

    /// A room by id.
    pub fn room(&self, rid: &str) -> Option<Room> {
        self.lock().rooms.get(rid).cloned()
    }

    /// A room by name (or id), as `getRoomIdByNameOrId` and `#name` targets resolve.
    pub fn room_by_name_or_id(&self, name_or_id: &str) -> Option<Room> {
        let key = name_or_id.trim_start_matches('#');
        let st = self.lock();
        st.rooms
            .get(key)
            .or_else(|| st.rooms.values().find(|r| r.name.as_deref() == Some(key)))
            .cloned()
    }

    /// Whether the user can read the room: members always; public channels for anyone
    /// (`preview-c-room`, which role `user` has).
    pub fn can_access(&self, rid: &str, user_id: &str) -> bool {
        let st = self.lock();
        st.rooms
            .get(rid)
            .is_some_and(|r| r.t == "c" || r.members.contains(user_id))
    }

    /// Whether the user has a subscription to the room.
    pub fn is_member(&self, rid: &str, user_id: &str) -> bool {
        self.lock()
            .subscriptions
            .contains_key(&(user_id.to_owned(), rid.to_owned()))
    }

    /// The room document in a date form.
    pub fn room_document(&self, rid: &str, form: DateForm) -> Option<Value> {
        let st = self.lock();
        let room = st.rooms.get(rid)?;
        Some(room_doc(&st, room, form))
    }

    /// Rooms the user is subscribed to.
    pub fn rooms_of(&self, user_id: &str) -> Vec<Room> {
        let st = self.lock();
        let mut rooms: Vec<Room> = st
            .subscriptions
            .keys()
            .filter(|(uid, _)| uid == user_id)
            .filter_map(|(_, rid)| st.rooms.get(rid).cloned())
            .collect();
        rooms.sort_by(|a, b| a.id.cmp(&b.id));
        rooms
    }

    /// Room documents of the user's rooms, in a date form.
    pub fn room_documents_of(&self, user_id: &str, form: DateForm) -> Vec<Value> {
        let rooms = self.rooms_of(user_id);
        let st = self.lock();
        rooms.iter().map(|r| room_doc(&st, r, form)).collect()
    }

    /// The user's subscription documents, in a date form.
    pub fn subscriptions_of(&self, user_id: &str, form: DateForm) -> Vec<Value> {
        let st = self.lock();
        let mut subs: Vec<&Subscription> = st
            .subscriptions
            .iter()
            .filter(|((uid, _), _)| uid == user_id)
            .map(|(_, s)| s)
            .collect();
        subs.sort_by(|a, b| a.rid.cmp(&b.rid));
        let u = st
            .users
            .get(user_id)
            .map(User::brief)
            .unwrap_or(Value::Null);
        subs.iter().map(|s| s.document(&u, form)).collect()
    }

    /// One subscription document.
    pub fn subscription(&self, user_id: &str, rid: &str, form: DateForm) -> Option<Value> {
        let st = self.lock();
        let s = st
            .subscriptions
            .get(&(user_id.to_owned(), rid.to_owned()))?;
        let u = st
            .users
            .get(user_id)
            .map(User::brief)
            .unwrap_or(Value::Null);
        Some(s.document(&u, form))
    }

    /// Open (or find) the DM between two users; DM id = the two ids sorted and joined.
    /// New rooms are announced on both users' `rooms-changed` / `subscriptions-changed`.
    pub fn create_direct_message(
        &self,
        from_id: &str,
        to_username: &str,
    ) -> Result<Room, ApiError> {
        let to = self.user_by_username(to_username).ok_or_else(|| {
            ApiError::new("error-invalid-user", "Invalid user")
                .with_details(json!({"method": "createDirectMessage"}))
        })?;
        let mut ids = [from_id.to_owned(), to.id.clone()];
        ids.sort();
        let rid = if ids[0] == ids[1] {
            ids[0].clone()
        } else {
            ids.concat()
        };
        if let Some(room) = self.room(&rid) {
            return Ok(room);
        }
        let now = now_ms();
        let room = Room {
            id: rid.clone(),
            t: "d".into(),
            name: None,
            members: ids.iter().cloned().collect(),
            read_only: false,
            topic: None,
            ts: now,
            updated_at: now,
            lm: None,
            msgs: 0,
        };
        {
            let mut st = self.lock();
            st.rooms.insert(rid.clone(), room.clone());
            for uid in &room.members {
                add_subscription(&mut st, &rid, uid, now);
            }
        }
        for uid in room.members.clone() {
            self.announce_membership(&rid, &uid, "inserted");
        }
        Ok(room)
    }

    /// Create a channel or group (control API and tests).
    pub fn create_room(&self, t: &str, name: &str, member_ids: &[String]) -> Room {
        let now = now_ms();
        let room = Room {
            id: random_id(),
            t: t.into(),
            name: Some(name.into()),
            members: member_ids.iter().cloned().collect(),
            read_only: false,
            topic: None,
            ts: now,
            updated_at: now,
            lm: None,
            msgs: 0,
        };
        {
            let mut st = self.lock();
            st.rooms.insert(room.id.clone(), room.clone());
            for uid in member_ids {
                add_subscription(&mut st, &room.id, uid, now);
            }
        }
        for uid in member_ids {
            self.announce_membership(&room.id, uid, "inserted");
        }
        room
    }

    /// Add a user to a room (join, or added by someone). Posts the `uj`/`au` system message.
    pub fn add_member(
        &self,
        rid: &str,
        user_id: &str,
        added_by: Option<&str>,
    ) -> Result<(), ApiError> {
        let now = now_ms();
        {
            let mut st = self.lock();
            let room = st
                .rooms
                .get_mut(rid)
                .ok_or_else(|| ApiError::new("error-invalid-room", "Invalid room"))?;
            if !room.members.insert(user_id.to_owned()) {
                return Ok(());
            }
            add_subscription(&mut st, rid, user_id, now);
        }
        self.announce_membership(rid, user_id, "inserted");
        let user = self
            .user(user_id)
            .ok_or_else(|| ApiError::new("error-invalid-user", "Invalid user"))?;
        let (author, t) = match added_by {
            Some(by) if by != user_id => (by.to_owned(), "au"),
            _ => (user_id.to_owned(), "uj"),
        };
        self.send_message(
            &author,
            NewMessage {
                rid: rid.into(),
                msg: user.username,
                t: Some(t.into()),
                ..Default::default()
            },
        )?;
        Ok(())
    }

    /// Remove a user from a room (leave). Posts the `ul` system message.
    pub fn remove_member(&self, rid: &str, user_id: &str) -> Result<(), ApiError> {
        let username = self.user(user_id).map(|u| u.username).unwrap_or_default();
        {
            let mut st = self.lock();
            let room = st
                .rooms
                .get_mut(rid)
                .ok_or_else(|| ApiError::new("error-invalid-room", "Invalid room"))?;
            if !room.members.remove(user_id) {
                return Ok(());
            }
            st.subscriptions
                .remove(&(user_id.to_owned(), rid.to_owned()));
        }
        self.bus.publish(BusEvent::NotifyUser {
            event: format!("{user_id}/subscriptions-changed"),
            args: vec![json!("removed"), json!({"_id": rid, "rid": rid})],
        });
        self.bus.publish(BusEvent::NotifyUser {
            event: format!("{user_id}/rooms-changed"),
            args: vec![json!("removed"), json!({"_id": rid})],
        });
        self.send_message(
            user_id,
            NewMessage {
                rid: rid.into(),
                msg: username,
                t: Some("ul".into()),
                ..Default::default()
            },
        )?;
        Ok(())
    }

    fn announce_membership(&self, rid: &str, user_id: &str, action: &str) {
        let (room, sub) = {
            let st = self.lock();
            let Some(room) = st.rooms.get(rid) else {
                return;
            };
            let room = room_doc(&st, room, DateForm::Ejson);
            let u = st
                .users
                .get(user_id)
                .map(User::brief)
                .unwrap_or(Value::Null);
            let sub = st
                .subscriptions
                .get(&(user_id.to_owned(), rid.to_owned()))
                .map(|s| s.document(&u, DateForm::Ejson));
            (room, sub)
        };
        if let Some(sub) = sub {
            self.bus.publish(BusEvent::NotifyUser {
                event: format!("{user_id}/subscriptions-changed"),
                args: vec![json!(action), sub],
            });
        }
        self.bus.publish(BusEvent::NotifyUser {
            event: format!("{user_id}/rooms-changed"),
            args: vec![json!(action), room],
        });
    }

    // ---- messages ------------------------------------------------------------------------

    /// Send a message as a user (REST `chat.sendMessage`/`postMessage`, DDP `sendMessage`,
    /// control API). Applies Rocket.Chat's rules, stores, broadcasts, and returns the stored
    /// document (EJSON dates).
    pub fn send_message(&self, user_id: &str, new: NewMessage) -> Result<Value, ApiError> {
        let user = self
            .user(user_id)
            .ok_or_else(|| ApiError::new("error-invalid-user", "Invalid user"))?;
        let room = self
            .room(&new.rid)
            .ok_or_else(|| ApiError::plain("error-not-allowed"))?;
        if new.t.is_none() {
            if room.t != "c" && !room.members.contains(user_id) {
                return Err(ApiError::plain("error-not-allowed"));
            }
            if room.read_only && !user.has_role("admin") {
                return Err(ApiError::plain("error-not-allowed"));
            }
            if new.msg.chars().count() > self.settings.message_max_allowed_size {
                return Err(ApiError::new(
                    "error-message-size-exceeded",
                    "Message size exceeds Message_MaxAllowedSize",
                )
                .with_details(json!({"method": "sendMessage"})));
            }
        }
        let mut st = self.lock();
        if let Some(id) = &new.id {
            if st.message_index.contains_key(id) {
                // Mongo's duplicate-key error surfaces as a plain error (§10: exact body unverified).
                return Err(ApiError::plain(&format!(
                    "E11000 duplicate key error collection: rocketchat.rocketchat_message index: _id_ dup key: {{ _id: \"{id}\" }}"
                )));
            }
        }
        // No nested threads: a tmid pointing at a reply is rewritten to its root.
        let tmid = match &new.tmid {
            Some(tmid) => {
                let parent = st
                    .message_index
                    .get(tmid)
                    .and_then(|&i| st.messages[i].as_ref())
                    .ok_or_else(|| ApiError::new("error-invalid-message", "Invalid thread"))?;
                Some(
                    parent
                        .get("tmid")
                        .and_then(Value::as_str)
                        .unwrap_or(tmid)
                        .to_owned(),
                )
            }
            None => None,
        };
        let ts = now_ms().max(st.last_ts + 1);
        st.last_ts = ts;
        let id = new.id.clone().unwrap_or_else(random_id);
        let mut doc = json!({
            "_id": id,
            "rid": room.id,
            "msg": new.msg,
            "ts": {"$date": ts},
            "u": user.brief(),
            "_updatedAt": {"$date": ts},
        });
        let obj = doc.as_object_mut().expect("object");
        if let Some(t) = &new.t {
            obj.insert("t".into(), json!(t));
            obj.insert("groupable".into(), json!(false));
        } else {
            if let Some(tmid) = &tmid {
                obj.insert("tmid".into(), json!(tmid));
                obj.insert("tshow".into(), json!(new.tshow.unwrap_or(false)));
            }
            let names = text::mentioned_names(&new.msg);
            let mentions: Vec<Value> = names
                .iter()
                .filter_map(|n| match n.as_str() {
                    "all" | "here" => Some(json!({"_id": n, "username": n, "type": "user"})),
                    _ => st
                        .users
                        .values()
                        .find(|u| u.username.eq_ignore_ascii_case(n))
                        .map(|u| json!({"_id": u.id, "username": u.username, "name": u.name, "type": "user"})),
                })
                .collect();
            let channels: Vec<Value> = text::channel_names(&new.msg)
                .iter()
                .filter_map(|n| {
                    st.rooms
                        .values()
                        .find(|r| r.name.as_deref() == Some(n.as_str()))
                })
                .map(|r| json!({"_id": r.id, "name": r.name}))
                .collect();
            let known = |n: &str| {
                st.users
                    .values()
                    .any(|u| u.username.eq_ignore_ascii_case(n))
            };
            obj.insert("urls".into(), json!(text::urls(&new.msg)));
            obj.insert("mentions".into(), json!(mentions));
            obj.insert("channels".into(), json!(channels));
            obj.insert("md".into(), text::markdown_ast(&new.msg, known));
            for (k, v) in [
                ("alias", &new.alias),
                ("emoji", &new.emoji),
                ("avatar", &new.avatar),
            ] {
                if let Some(v) = v {
                    obj.insert(k.into(), json!(v));
                }
            }
            if let Some(a) = &new.attachments {
                obj.insert("attachments".into(), a.clone());
            }
        }
        if let Some(Value::Object(extra)) = &new.extra {
            obj.extend(extra.clone());
        }
        let idx = st.messages.len();
        st.messages.push(Some(doc.clone()));
        st.message_index.insert(id.clone(), idx);
        if let Some(r) = st.rooms.get_mut(&room.id) {
            r.msgs += 1;
            r.lm = Some(ts);
            r.updated_at = ts;
        }
        // Unread counters for the other members.
        let mentioned: Vec<String> = doc["mentions"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter_map(|m| m["_id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        for ((uid, rid), sub) in st.subscriptions.iter_mut() {
            if rid == &room.id && uid != user_id {
                sub.unread += 1;
                if mentioned.contains(uid) {
                    sub.user_mentions += 1;
                }
                sub.updated_at = ts;
            }
        }
        // Thread root counters: the root is delivered again (§2.2).
        let root = tmid.as_ref().and_then(|tmid| {
            let i = *st.message_index.get(tmid)?;
            let root = st.messages[i].as_mut()?;
            let r = root.as_object_mut()?;
            let tcount = r.get("tcount").and_then(Value::as_u64).unwrap_or(0) + 1;
            r.insert("tcount".into(), json!(tcount));
            r.insert("tlm".into(), json!({"$date": ts}));
            let mut replies: Vec<Value> = r
                .get("replies")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if !replies.contains(&json!(user_id)) {
                replies.push(json!(user_id));
            }
            r.insert("replies".into(), json!(replies));
            r.insert("_updatedAt".into(), json!({"$date": ts}));
            Some(root.clone())
        });
        drop(st);
        self.broadcast_message(&doc, &room);
        if let Some(root) = root {
            self.broadcast_message(&root, &room);
        }
        if self.settings.url_previews && doc["urls"].as_array().is_some_and(|u| !u.is_empty()) {
            self.enrich_previews(&id, &room);
        }
        Ok(self.message(&id).unwrap_or(doc))
    }

    /// The URL preview pass: fills `urls[].meta` and delivers the message again.
    fn enrich_previews(&self, id: &str, room: &Room) {
        let doc = self.modify_message(id, |m| {
            if let Some(urls) = m.get_mut("urls").and_then(Value::as_array_mut) {
                for u in urls {
                    u["meta"] = json!({"pageTitle": "Preview"});
                    u["headers"] = json!({"contentType": "text/html"});
                }
            }
        });
        if let Some(doc) = doc {
            self.broadcast_message(&doc, room);
        }
    }

    fn broadcast_message(&self, doc: &Value, room: &Room) {
        self.bus.publish(BusEvent::RoomMessage {
            message: Arc::new(doc.clone()),
            room_type: room.t.clone(),
            room_name: room.name.clone(),
        });
    }

    fn modify_message(&self, id: &str, f: impl FnOnce(&mut Value)) -> Option<Value> {
        let mut st = self.lock();
        let i = *st.message_index.get(id)?;
        let m = st.messages[i].as_mut()?;
        f(m);
        Some(m.clone())
    }

    /// A stored message (EJSON dates).
    pub fn message(&self, id: &str) -> Option<Value> {
        let st = self.lock();
        st.message_index
            .get(id)
            .and_then(|&i| st.messages[i].clone())
    }

    /// Edit a message's text as `editor`; delivers the message again with `editedAt/editedBy`.
    pub fn update_message(
        &self,
        editor_id: &str,
        rid: Option<&str>,
        msg_id: &str,
        text: &str,
    ) -> Result<Value, ApiError> {
        let current = self.message(msg_id).ok_or_else(|| {
            ApiError::plain(&format!("No message found with the id of \"{msg_id}\"."))
        })?;
        if rid.is_some_and(|r| current["rid"] != r) {
            return Err(ApiError::plain(
                "The room id provided does not match where the message is from.",
            ));
        }
        let editor = self
            .user(editor_id)
            .ok_or_else(|| ApiError::new("error-invalid-user", "Invalid user"))?;
        if current["u"]["_id"] != editor_id && !editor.has_role("admin") {
            return Err(ApiError::new(
                "error-action-not-allowed",
                "Message editing not allowed",
            ));
        }
        let room = self
            .room(current["rid"].as_str().unwrap_or_default())
            .ok_or_else(|| ApiError::plain("error-not-allowed"))?;
        let now = now_ms();
        let known: Vec<String> = {
            let st = self.lock();
            st.users
                .values()
                .map(|u| u.username.to_lowercase())
                .collect()
        };
        let doc = self
            .modify_message(msg_id, |m| {
                m["msg"] = json!(text);
                m["md"] = text::markdown_ast(text, |n| known.contains(&n.to_lowercase()));
                m["urls"] = json!(text::urls(text));
                m["editedAt"] = json!({"$date": now});
                m["editedBy"] = json!({"_id": editor.id, "username": editor.username});
                m["_updatedAt"] = json!({"$date": now});
            })
            .expect("message exists");
        self.broadcast_message(&doc, &room);
        Ok(doc)
    }

    /// Toggle (or set) a reaction; delivers the message again.
    pub fn react(
        &self,
        user_id: &str,
        msg_id: &str,
        emoji: &str,
        should_react: Option<bool>,
    ) -> Result<Value, ApiError> {
        let current = self.message(msg_id).ok_or_else(|| {
            ApiError::new(
                "error-message-not-found",
                "The provided \"messageId\" does not match any existing message.",
            )
        })?;
        let rid = current["rid"].as_str().unwrap_or_default().to_owned();
        if !self.can_access(&rid, user_id) {
            return Err(ApiError::new("error-not-allowed", "Not allowed"));
        }
        let user = self.user(user_id).expect("caller exists");
        let room = self.room(&rid).expect("room exists");
        let key = format!(":{}:", emoji.trim_matches(':'));
        let now = now_ms();
        let doc = self
            .modify_message(msg_id, |m| {
                let reactions = m
                    .as_object_mut()
                    .expect("object")
                    .entry("reactions")
                    .or_insert_with(|| json!({}));
                let entry = reactions
                    .as_object_mut()
                    .expect("object")
                    .entry(key.clone())
                    .or_insert_with(|| json!({"usernames": [], "names": []}));
                let has = entry["usernames"]
                    .as_array()
                    .is_some_and(|a| a.contains(&json!(user.username)));
                let want = should_react.unwrap_or(!has);
                if want && !has {
                    entry["usernames"]
                        .as_array_mut()
                        .expect("array")
                        .push(json!(user.username));
                    entry["names"]
                        .as_array_mut()
                        .expect("array")
                        .push(json!(user.name));
                } else if !want && has {
                    let i = entry["usernames"]
                        .as_array()
                        .and_then(|a| a.iter().position(|u| u == &json!(user.username)))
                        .unwrap_or(0);
                    entry["usernames"].as_array_mut().expect("array").remove(i);
                    if let Some(names) = entry["names"].as_array_mut() {
                        if i < names.len() {
                            names.remove(i);
                        }
                    }
                }
                if entry["usernames"].as_array().is_some_and(|a| a.is_empty()) {
                    reactions.as_object_mut().expect("object").remove(&key);
                }
                m["_updatedAt"] = json!({"$date": now});
            })
            .expect("message exists");
        self.broadcast_message(&doc, &room);
        Ok(doc)
    }

    /// Hard-delete a message: no room-messages event, but `<rid>/deleteMessage` on notify-room.
    pub fn delete_message(
        &self,
        user_id: &str,
        rid: &str,
        msg_id: &str,
    ) -> Result<Value, ApiError> {
        let current = self.message(msg_id).ok_or_else(|| {
            ApiError::plain(&format!("No message found with the id of \"{msg_id}\"."))
        })?;
        if current["rid"] != rid {
            return Err(ApiError::plain(
                "The room id provided does not match where the message is from.",
            ));
        }
        let user = self
            .user(user_id)
            .ok_or_else(|| ApiError::new("error-invalid-user", "Invalid user"))?;
        if current["u"]["_id"] != user_id && !user.has_role("admin") {
            return Err(ApiError::new("error-action-not-allowed", "Not allowed"));
        }
        {
            let mut st = self.lock();
            if let Some(i) = st.message_index.remove(msg_id) {
                st.messages[i] = None;
            }
            st.trash.push((rid.to_owned(), msg_id.to_owned(), now_ms()));
        }
        self.bus.publish(BusEvent::NotifyRoom {
            event: format!("{rid}/deleteMessage"),
            args: vec![json!({"_id": msg_id})],
            origin: None,
        });
        Ok(current)
    }

    /// Messages of a room, oldest first, optionally only those with `ts` (or `_updatedAt` when
    /// `by_update`) after `since_ms`.
    pub fn messages_in(&self, rid: &str, since_ms: Option<i64>, by_update: bool) -> Vec<Value> {
        let st = self.lock();
        st.messages
            .iter()
            .flatten()
            .filter(|m| m["rid"] == rid)
            .filter(|m| {
                let key = if by_update { "_updatedAt" } else { "ts" };
                since_ms.is_none_or(|s| m[key]["$date"].as_i64().unwrap_or(0) > s)
            })
            .cloned()
            .collect()
    }

    /// Ids and deletion times (ms) of the messages of a room deleted after `since_ms`.
    pub fn deleted_in(&self, rid: &str, since_ms: i64) -> Vec<(String, i64)> {
        self.lock()
            .trash
            .iter()
            .filter(|(r, _, at)| r == rid && *at > since_ms)
            .map(|(_, id, at)| (id.clone(), *at))
            .collect()
    }

    /// Every stored message, oldest first (control API: "what did the bot send").
    pub fn all_messages(&self) -> Vec<Value> {
        self.lock().messages.iter().flatten().cloned().collect()
    }

    /// Publish a `stream-notify-room` event (typing). `origin` is excluded from delivery.
    pub fn notify_room(&self, event: String, args: Vec<Value>, origin: Option<u64>) {
        self.bus.publish(BusEvent::NotifyRoom {
            event,
            args,
            origin,
        });
    }

    // ---- uploads -------------------------------------------------------------------------

    /// Store an upload (temporary until confirmed). Checks access and size.
    pub fn add_upload(
        &self,
        user_id: &str,
        rid: &str,
        name: &str,
        mime: &str,
        bytes: Vec<u8>,
    ) -> Result<Upload, ApiError> {
        if !self.can_access(rid, user_id) {
            return Err(ApiError::plain("unauthorized"));
        }
        if bytes.len() > self.settings.file_upload_max_size {
            return Err(ApiError::new(
                "error-file-too-large",
                "File size exceeds the allowed limit",
            ));
        }
        let up = Upload {
            id: random_id(),
            rid: rid.into(),
            user_id: user_id.into(),
            name: name.into(),
            mime: mime.into(),
            bytes: Arc::new(bytes),
            confirmed: false,
        };
        self.lock().uploads.insert(up.id.clone(), up.clone());
        Ok(up)
    }

    /// An upload by id.
    pub fn upload(&self, file_id: &str) -> Option<Upload> {
        self.lock().uploads.get(file_id).cloned()
    }

    /// Post the file message for an upload (`rooms.mediaConfirm`, or the second half of
    /// `rooms.upload`). Not idempotent: every call posts a new message, as the real server.
    pub fn confirm_upload(
        &self,
        user_id: &str,
        rid: &str,
        file_id: &str,
        msg: Option<String>,
        description: Option<String>,
        tmid: Option<String>,
    ) -> Result<Value, ApiError> {
        let up = self
            .upload(file_id)
            .filter(|u| u.rid == rid)
            .ok_or_else(|| ApiError::new("invalid-file", "Invalid file"))?;
        let now = now_ms();
        let ext = up
            .name
            .rsplit_once('.')
            .map(|(_, e)| e)
            .unwrap_or("")
            .to_owned();
        let file = json!({"_id": up.id, "name": up.name, "type": up.mime, "size": up.bytes.len(), "format": ext});
        let link = format!("/file-upload/{}/{}", up.id, urlencode(&up.name));
        let mut attachment = json!({
            "title": up.name,
            "type": "file",
            "title_link": link,
            "title_link_download": true,
            "fileId": up.id,
            "ts": {"$date": now},
        });
        if let Some(d) = &description {
            attachment["description"] = json!(d);
        }
        let kind = up.mime.split('/').next().unwrap_or("");
        match kind {
            "image" => {
                attachment["image_url"] = json!(link);
                attachment["image_type"] = json!(up.mime);
                attachment["image_size"] = json!(up.bytes.len());
            }
            "audio" | "video" => {
                attachment[format!("{kind}_url")] = json!(link);
                attachment[format!("{kind}_type")] = json!(up.mime);
                attachment[format!("{kind}_size")] = json!(up.bytes.len());
            }
            _ => {
                attachment["format"] = json!(ext.to_uppercase());
                attachment["size"] = json!(up.bytes.len());
            }
        }
        let doc = self.send_message(
            user_id,
            NewMessage {
                rid: rid.into(),
                msg: msg.unwrap_or_default(),
                tmid,
                attachments: Some(json!([attachment])),
                extra: Some(json!({"file": file, "files": [file], "groupable": false})),
                ..Default::default()
            },
        )?;
        if let Some(u) = self.lock().uploads.get_mut(file_id) {
            u.confirmed = true;
        }
        Ok(doc)
    }
}

fn add_subscription(st: &mut State, rid: &str, uid: &str, ts: i64) {
    let Some(room) = st.rooms.get(rid) else {
        return;
    };
    let (name, fname) = if room.t == "d" {
        let other = room
            .members
            .iter()
            .find(|m| m.as_str() != uid)
            .or_else(|| room.members.iter().next())
            .and_then(|m| st.users.get(m));
        (
            other.map(|u| u.username.clone()).unwrap_or_default(),
            other.map(|u| u.name.clone()).unwrap_or_default(),
        )
    } else {
        let n = room.name.clone().unwrap_or_default();
        (n.clone(), n)
    };
    let t = room.t.clone();
    st.subscriptions.insert(
        (uid.to_owned(), rid.to_owned()),
        Subscription {
            id: random_id(),
            rid: rid.into(),
            t,
            uid: uid.into(),
            name,
            fname,
            ts,
            ls: ts,
            unread: 0,
            user_mentions: 0,
            updated_at: ts,
        },
    );
}

fn room_doc(st: &State, room: &Room, form: DateForm) -> Value {
    let mut usernames: Vec<String> = room
        .members
        .iter()
        .filter_map(|m| st.users.get(m).map(|u| u.username.clone()))
        .collect();
    usernames.sort();
    room.document(&usernames, form)
}

/// Percent-encode a file name for a URL path segment.
pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::default_seed;

    fn store() -> Store {
        Store::new(&default_seed(), Profile::V8, Settings::default())
    }

    const ALICE: &str = "k9ZfTqW2mHs8PxLcE";
    const BOT: &str = "Bq7dYg4KxWnZcT3rA";

    #[test]
    fn send_derives_mentions_and_broadcasts() {
        let s = store();
        let mut rx = s.bus().subscribe();
        let m = s
            .send_message(
                ALICE,
                NewMessage {
                    rid: "GENERAL".into(),
                    msg: "hello @mybot".into(),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(m["mentions"][0]["_id"], BOT);
        assert_eq!(m["u"]["username"], "alice");
        match rx.try_recv().unwrap() {
            BusEvent::RoomMessage {
                message, room_type, ..
            } => {
                assert_eq!(message["_id"], m["_id"]);
                assert_eq!(room_type, "c");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn thread_reply_updates_and_redelivers_the_root() {
        let s = store();
        let root = s
            .send_message(
                ALICE,
                NewMessage {
                    rid: "GENERAL".into(),
                    msg: "root".into(),
                    ..Default::default()
                },
            )
            .unwrap();
        let root_id = root["_id"].as_str().unwrap().to_owned();
        let mut rx = s.bus().subscribe();
        let reply = s
            .send_message(
                BOT,
                NewMessage {
                    rid: "GENERAL".into(),
                    msg: "reply".into(),
                    tmid: Some(root_id.clone()),
                    ..Default::default()
                },
            )
            .unwrap();
        // A reply to the reply lands in the same thread.
        let nested = s
            .send_message(
                ALICE,
                NewMessage {
                    rid: "GENERAL".into(),
                    msg: "again".into(),
                    tmid: reply["_id"].as_str().map(str::to_owned),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(nested["tmid"], root_id.as_str());
        let ids: Vec<String> = std::iter::from_fn(|| rx.try_recv().ok())
            .filter_map(|e| match e {
                BusEvent::RoomMessage { message, .. } => message["_id"].as_str().map(str::to_owned),
                _ => None,
            })
            .collect();
        assert_eq!(
            ids,
            [
                reply["_id"].as_str().unwrap(),
                &root_id,
                nested["_id"].as_str().unwrap(),
                &root_id
            ]
        );
        assert_eq!(s.message(&root_id).unwrap()["tcount"], 2);
    }

    #[test]
    fn private_rooms_refuse_non_members_and_duplicate_ids_fail() {
        let s = store();
        let bob = "Yh3nR6vPq2XzMt8Ws";
        let err = s
            .send_message(
                bob,
                NewMessage {
                    rid: "pX7aQmTz4cK9rWn2H".into(),
                    msg: "x".into(),
                    ..Default::default()
                },
            )
            .unwrap_err();
        assert_eq!(err, ApiError::plain("error-not-allowed"));
        let new = NewMessage {
            id: Some("Cl1entGenId000001".into()),
            rid: "GENERAL".into(),
            msg: "x".into(),
            ..Default::default()
        };
        s.send_message(BOT, new.clone()).unwrap();
        assert!(s.send_message(BOT, new).is_err());
    }

    #[test]
    fn dm_id_is_sorted_ids() {
        let s = store();
        let room = s
            .create_direct_message("Yh3nR6vPq2XzMt8Ws", "mybot")
            .unwrap();
        assert_eq!(room.id, format!("{BOT}Yh3nR6vPq2XzMt8Ws"));
        assert!(s.is_member(&room.id, BOT));
    }

    #[test]
    fn tokens_resolve_expire_and_revoke() {
        let s = store();
        let (u, kind) = s
            .user_by_token("Ra2-pCvh7QfE1GmbXW9yZk0sLtNnIuOdJ8Te4wVxY3c")
            .unwrap();
        assert_eq!(
            (u.username.as_str(), kind),
            ("mybot", TokenKind::PersonalAccess)
        );
        assert!(s.expire_token("9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq"));
        let err = s
            .user_by_token("9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq")
            .unwrap_err();
        assert_eq!(
            err.reason.as_deref(),
            Some("Your session has expired. Please log in again.")
        );
        assert_eq!(s.revoke_tokens("mybot"), 2);
        assert!(s
            .authenticate(BOT, "Ra2-pCvh7QfE1GmbXW9yZk0sLtNnIuOdJ8Te4wVxY3c")
            .is_none());
    }
}
