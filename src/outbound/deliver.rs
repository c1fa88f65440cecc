//! Delivery: putting a reply into a room over REST, the way OpenClaw users expect.
//!
//! One [`Deliverer`] per account, built from a [`RestClient`], the account's settings
//! ([`DeliverySettings::from_account`]) and an optional [`TypingSink`].
//!
//! A whole reply ([`Deliverer::send_reply`]) goes through, in order:
//! 1. `responsePrefix`: prepended once, to the reply, so it ends up at the start of the
//!    first message only (OpenClaw applies the prefix to the reply payload, not to each
//!    chunk). A space separates it from the text unless it already ends with whitespace;
//!    a reply that already starts with the prefix is left alone.
//! 2. `markdown.tables` ([`convert_tables`]; unset = `off`).
//! 3. [`chunk_text`] at `min(textChunkLimit, Message_MaxAllowedSize)` in `chunkMode`.
//! 4. Each chunk sent in order to the same room and thread with `chat.sendMessage` and a
//!    client-chosen `_id` (a retried send never posts twice). When a send fails, the error
//!    ([`DeliveryError::Partial`]) lists the chunks that landed.
//!
//! `Message_MaxAllowedSize` is the server's own limit (default 5000, the value of
//! [`DEFAULT_SERVER_MAX_MESSAGE_SIZE`]). [`Deliverer::learn_server_limits`] reads it from
//! `GET /api/v1/settings.public?_id=Message_MaxAllowedSize` when the server answers that
//! (it is a public setting); otherwise the configured/default value stays.
//!
//! Streamed replies: [`Deliverer::start_stream`] (see [`super::stream`]). Media:
//! [`Deliverer::send_media`]. The bot shows as typing while a reply is produced (see
//! [`super::typing`]).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use serde_json::Value;

use super::chunk::{chunk_text, utf16_len, ChunkMode};
use super::claim::{Claims, ReplyTo};
use super::coalesce::{CoalesceConfig, Strategy};
use super::tables::{convert_tables, TableMode};
use super::typing::{TypingIndicator, TypingSink, DEFAULT_TYPING_REFRESH};
use crate::config::AccountConfig;
use crate::event::Event;
use crate::rest::{OutgoingMessage, RestClient, RestError, Retry, SendOutcome};

/// Rocket.Chat's default `Message_MaxAllowedSize` (UTF-16 units).
pub const DEFAULT_SERVER_MAX_MESSAGE_SIZE: usize = 5000;

/// Everything delivery needs from the account configuration, defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliverySettings {
    /// `textChunkLimit` (default 4000).
    pub text_chunk_limit: usize,
    /// The server's `Message_MaxAllowedSize` (default 5000; see [`Deliverer::learn_server_limits`]).
    pub server_max_message_size: usize,
    /// `chunkMode`.
    pub chunk_mode: ChunkMode,
    /// `markdown.tables` (unset = [`TableMode::Off`], OpenClaw's default).
    pub table_mode: TableMode,
    /// `responsePrefix`.
    pub response_prefix: Option<String>,
    /// `blockStreaming`: `false` buffers a streamed reply and sends it at the end. Unset
    /// counts as `true`: the host only streams to us when it streams at all.
    pub block_streaming: bool,
    /// `blockStreamingCoalesce.minChars` (default 1500).
    pub coalesce_min_chars: usize,
    /// `blockStreamingCoalesce.idleMs` (default 1000).
    pub coalesce_idle_ms: u64,
    /// How streamed blocks reach the room: [`Strategy::Append`] (the default, as
    /// OpenClaw's block streaming posts each block as its own message) or
    /// [`Strategy::Edit`] (one message grows by `chat.update`).
    pub stream_strategy: Strategy,
    /// `mediaMaxMb` in bytes (default 8 MB).
    pub media_max_bytes: u64,
    /// Per-room `rooms.<id>.mediaMaxMb`, in bytes.
    pub room_media_max_bytes: BTreeMap<String, u64>,
    /// How often the typing indicator is renewed (default 5 s, as the web client).
    pub typing_refresh: Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            text_chunk_limit: crate::config::DEFAULT_TEXT_CHUNK_LIMIT,
            server_max_message_size: DEFAULT_SERVER_MAX_MESSAGE_SIZE,
            chunk_mode: ChunkMode::Length,
            table_mode: TableMode::Off,
            response_prefix: None,
            block_streaming: true,
            coalesce_min_chars: crate::config::DEFAULT_COALESCE_MIN_CHARS as usize,
            coalesce_idle_ms: crate::config::DEFAULT_COALESCE_IDLE_MS,
            stream_strategy: Strategy::Append,
            media_max_bytes: (crate::config::DEFAULT_MEDIA_MAX_MB * 1024.0 * 1024.0) as u64,
            room_media_max_bytes: BTreeMap::new(),
            typing_refresh: DEFAULT_TYPING_REFRESH,
        }
    }
}

impl DeliverySettings {
    /// The delivery part of a resolved account (server limit and strategy at their defaults).
    pub fn from_account(cfg: &AccountConfig) -> Self {
        DeliverySettings {
            text_chunk_limit: cfg.text_chunk_limit,
            chunk_mode: cfg.chunk_mode,
            table_mode: cfg.markdown_tables.unwrap_or_default(),
            response_prefix: cfg.response_prefix.clone().filter(|p| !p.is_empty()),
            block_streaming: cfg.block_streaming.unwrap_or(true),
            coalesce_min_chars: cfg.block_streaming_coalesce.min_chars as usize,
            coalesce_idle_ms: cfg.block_streaming_coalesce.idle_ms,
            media_max_bytes: cfg.media_max_bytes_in(""),
            room_media_max_bytes: cfg
                .rooms
                .keys()
                .map(|rid| (rid.clone(), cfg.media_max_bytes_in(rid)))
                .collect(),
            ..Default::default()
        }
    }

    /// Largest message: `min(textChunkLimit, Message_MaxAllowedSize)`, at least 1.
    pub fn chunk_limit(&self) -> usize {
        self.text_chunk_limit
            .min(self.server_max_message_size)
            .max(1)
    }

    /// Largest file for room `rid`, in bytes.
    pub fn media_max_bytes_in(&self, rid: &str) -> u64 {
        self.room_media_max_bytes
            .get(rid)
            .copied()
            .unwrap_or(self.media_max_bytes)
    }

    /// The coalescer settings for a streamed reply.
    pub fn coalesce_config(&self) -> CoalesceConfig {
        CoalesceConfig {
            min_chars: self.coalesce_min_chars.max(1),
            idle_ms: self.coalesce_idle_ms,
            limit: self.chunk_limit(),
            mode: self.chunk_mode,
            strategy: self.stream_strategy,
        }
    }

    /// `text` with the response prefix (see the module docs); unchanged without one.
    pub fn with_prefix(&self, text: &str) -> String {
        match self.response_prefix.as_deref() {
            Some(p) if !text.trim().is_empty() && !text.trim_start().starts_with(p) => {
                if p.ends_with(char::is_whitespace) {
                    format!("{p}{}", text.trim_start())
                } else {
                    format!("{p} {}", text.trim_start())
                }
            }
            _ => text.to_owned(),
        }
    }

    /// The messages a whole reply becomes: prefix, tables, chunks.
    pub fn shape(&self, text: &str) -> Vec<String> {
        self.shape_plain(&self.with_prefix(text))
    }

    /// The messages a text becomes without the reply prefix (a message the host sends on its
    /// own, not an agent's reply): tables, chunks.
    pub fn shape_plain(&self, text: &str) -> Vec<String> {
        let text = convert_tables(text, self.table_mode);
        chunk_text(&text, self.chunk_limit(), self.chunk_mode)
    }
}

/// A message the bot posted (or edited) while delivering a reply. JSON (camelCase):
/// `{"id", "roomId", "threadId"?, "text", "fileName"?}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SentMessage {
    /// The message id.
    pub id: String,
    /// Room id.
    pub room_id: String,
    /// Thread root id, when sent in a thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    /// The text the room shows (the caption for a file).
    pub text: String,
    /// The uploaded file's name, for file messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
}

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// A send failed; `sent` lists what landed before it, in order.
    #[error("delivery to {room_id} failed after {} message(s) landed{}: {source}", sent.len(), total.map(|t| format!(" of {t}")).unwrap_or_default())]
    Partial {
        /// Room id.
        room_id: String,
        /// The messages that landed (for a stream, with the text last shown).
        sent: Vec<SentMessage>,
        /// How many messages the reply had (unknown for streams).
        total: Option<usize>,
        /// The REST error.
        #[source]
        source: Box<RestError>,
    },
    /// A file is over `mediaMaxMb`; nothing of the batch was uploaded.
    #[error("{file_name} is {size} bytes, over the {limit}-byte limit (mediaMaxMb) for room {room_id}; nothing was uploaded")]
    MediaTooLarge {
        /// Room id.
        room_id: String,
        /// The file.
        file_name: String,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// Editing or deleting a message the bot did not send.
    #[error(
        "message {message_id} was not sent by the bot (author {author}); refusing to change it"
    )]
    NotOwnMessage {
        /// The message.
        message_id: String,
        /// Its author's user id.
        author: String,
    },
    /// A message the caller named is not in the room it acts in.
    #[error("message {message_id} is not in {target}")]
    NotInRoom {
        /// The message.
        message_id: String,
        /// The room as the caller named it.
        target: String,
    },
    /// An edit longer than one message may be.
    #[error("text is {len} UTF-16 units, over the {limit}-unit message limit")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// A reaction with a Unicode emoji that has no known Rocket.Chat shortname.
    #[error("emoji {emoji} has no Rocket.Chat name this bot knows; pass its name, e.g. `unicorn` for 🦄")]
    UnknownEmoji {
        /// The emoji as given.
        emoji: String,
    },
    /// A single REST call failed.
    #[error(transparent)]
    Rest(#[from] RestError),
    /// The stream was aborted (or dropped) before it finished; `sent` stays in the room.
    #[error("reply stream aborted after {} message(s)", sent.len())]
    Aborted {
        /// What had been posted.
        sent: Vec<SentMessage>,
    },
    /// The stream's delivery task is gone (it failed: [`super::stream::ReplyStream::finish`]
    /// reports why).
    #[error("reply stream closed")]
    StreamClosed,
}

impl DeliveryError {
    /// The messages that landed before the failure (empty when none or not applicable).
    pub fn sent(&self) -> &[SentMessage] {
        match self {
            DeliveryError::Partial { sent, .. } | DeliveryError::Aborted { sent } => sent,
            _ => &[],
        }
    }
}

/// The room a message must be in for an action on it: the conversation the caller acts in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InRoom {
    /// Its room id.
    pub room_id: String,
    /// The target as the caller named it (`#name`, `@username`, an id), for the error.
    pub target: String,
}

/// A file to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFile {
    /// File name shown in the room.
    pub file_name: String,
    /// MIME type, e.g. `image/png`.
    pub mime: String,
    /// Content.
    pub bytes: Bytes,
}

/// Receives [`Event::Sent`] / [`Event::SendFailed`] for every delivery.
pub type EventHook = Arc<dyn Fn(Event) + Send + Sync>;

pub(crate) struct Inner {
    pub(crate) rest: RestClient,
    settings: RwLock<Arc<DeliverySettings>>,
    pub(crate) typing: TypingIndicator,
    events: Option<EventHook>,
    /// Replies numbered for their client ids; those another instance claimed.
    pub(crate) claims: Arc<Claims>,
}

/// Sends replies, media, reactions and edits for one account. Cheap to clone.
#[derive(Clone)]
pub struct Deliverer {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer")
            .field("settings", &self.settings())
            .finish_non_exhaustive()
    }
}

impl Deliverer {
    /// A deliverer for the account `cfg`, typing through `typing` (none: no indicator).
    pub fn new(rest: RestClient, cfg: &AccountConfig, typing: Option<Arc<dyn TypingSink>>) -> Self {
        Self::with_settings(rest, DeliverySettings::from_account(cfg), typing)
    }

    /// A deliverer with explicit settings.
    pub fn with_settings(
        rest: RestClient,
        settings: DeliverySettings,
        typing: Option<Arc<dyn TypingSink>>,
    ) -> Self {
        let typing = TypingIndicator::new(typing, settings.typing_refresh);
        Deliverer {
            inner: Arc::new(Inner {
                rest,
                settings: RwLock::new(Arc::new(settings)),
                typing,
                events: None,
                claims: Arc::default(),
            }),
        }
    }

    /// Report [`Event::Sent`] (one per message, after it landed; for streams at the end)
    /// and [`Event::SendFailed`] to `hook`. Call before cloning.
    pub fn with_event_hook(self, hook: EventHook) -> Self {
        let inner = Arc::try_unwrap(self.inner).unwrap_or_else(|shared| Inner {
            rest: shared.rest.clone(),
            settings: RwLock::new(shared.settings()),
            typing: shared.typing.clone(),
            events: None,
            claims: shared.claims.clone(),
        });
        Deliverer {
            inner: Arc::new(Inner {
                events: Some(hook),
                ..inner
            }),
        }
    }

    /// The settings in use (a snapshot).
    pub fn settings(&self) -> Arc<DeliverySettings> {
        self.inner.settings()
    }

    /// Replace the settings (config reload). Streams already started keep theirs; the
    /// typing refresh interval is fixed at construction.
    pub fn set_settings(&self, settings: DeliverySettings) {
        *self
            .inner
            .settings
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Arc::new(settings);
    }

    /// Apply a reloaded account config, keeping the learned server limit and the
    /// streaming strategy.
    pub fn update_config(&self, cfg: &AccountConfig) {
        let old = self.settings();
        self.set_settings(DeliverySettings {
            server_max_message_size: old.server_max_message_size,
            stream_strategy: old.stream_strategy,
            typing_refresh: old.typing_refresh,
            ..DeliverySettings::from_account(cfg)
        });
    }

    /// The REST client.
    pub fn rest(&self) -> &RestClient {
        &self.inner.rest
    }

    /// Ask the server for `Message_MaxAllowedSize` (`GET /api/v1/settings.public?_id=…`)
    /// and use it as the server limit. On any error (older or restricted servers, the
    /// simulator) the current value stays and the error is returned for logging.
    pub async fn learn_server_limits(&self) -> Result<usize, RestError> {
        let body = self
            .inner
            .rest
            .call_json(
                Method::GET,
                "settings.public",
                &["settings.public"],
                vec![("_id".into(), "Message_MaxAllowedSize".into())],
                None,
                Retry::Idempotent,
            )
            .await?;
        let value = body
            .get("settings")
            .and_then(Value::as_array)
            .and_then(|s| s.iter().find(|s| s["_id"] == "Message_MaxAllowedSize"))
            .and_then(|s| s.get("value"))
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.trim().parse().ok()))
            .filter(|&v| v > 0)
            .ok_or_else(|| RestError::Decode {
                route: "GET /api/v1/settings.public".into(),
                message: "no Message_MaxAllowedSize in the response".into(),
            })? as usize;
        let mut s = (*self.settings()).clone();
        s.server_max_message_size = value;
        self.set_settings(s);
        Ok(value)
    }

    /// Send a whole reply to room `rid` (thread `thread_id`): prefix, tables, chunks, in
    /// order (see the module docs). Shows typing meanwhile. An empty reply sends nothing.
    pub async fn send_reply(
        &self,
        rid: &str,
        thread_id: Option<&str>,
        text: &str,
    ) -> Result<Vec<SentMessage>, DeliveryError> {
        self.send_reply_to(rid, thread_id, text, None).await
    }

    /// [`Deliverer::send_reply`] of a reply to message `reply` (see [`super::claim`]): its
    /// messages get ids another instance of the bot would give them too, and once another
    /// instance has posted one of them first, nothing more of the reply is sent from here.
    pub async fn send_reply_to(
        &self,
        rid: &str,
        thread_id: Option<&str>,
        text: &str,
        reply: Option<&ReplyTo>,
    ) -> Result<Vec<SentMessage>, DeliveryError> {
        let typing = self.inner.typing.start(rid, thread_id);
        let chunks = self.settings().shape(text);
        let result = self.send_chunks_as(rid, thread_id, chunks, reply).await;
        typing.stop().await;
        result
    }

    /// Send a text the host composed itself (not an agent reply): tables and chunks as for a
    /// reply, but no `responsePrefix` and no typing indicator.
    pub async fn send_text(
        &self,
        rid: &str,
        thread_id: Option<&str>,
        text: &str,
    ) -> Result<Vec<SentMessage>, DeliveryError> {
        self.send_text_to(rid, thread_id, text, None).await
    }

    /// [`Deliverer::send_text`] as the reply to message `reply` (see [`Deliverer::send_reply_to`]).
    pub async fn send_text_to(
        &self,
        rid: &str,
        thread_id: Option<&str>,
        text: &str,
        reply: Option<&ReplyTo>,
    ) -> Result<Vec<SentMessage>, DeliveryError> {
        let chunks = self.settings().shape_plain(text);
        self.send_chunks_as(rid, thread_id, chunks, reply).await
    }

    /// Send already shaped chunks in order, reporting events; numbered as messages of
    /// `reply` when given.
    pub(crate) async fn send_chunks_as(
        &self,
        rid: &str,
        thread_id: Option<&str>,
        chunks: Vec<String>,
        reply: Option<&ReplyTo>,
    ) -> Result<Vec<SentMessage>, DeliveryError> {
        let total = chunks.len();
        let mut sent = Vec::with_capacity(total);
        for text in chunks {
            match self.post_text_as(rid, thread_id, &text, reply).await {
                Ok(Some(m)) => sent.push(m),
                // Another instance answers this message: the rest of the reply is its.
                Ok(None) => break,
                Err(source) => return Err(self.failed(rid, sent, Some(total), source)),
            }
        }
        self.report_sent(&sent);
        Ok(sent)
    }

    /// One `chat.sendMessage` (idempotent client `_id`).
    pub(crate) async fn post_text(
        &self,
        rid: &str,
        thread_id: Option<&str>,
        text: &str,
    ) -> Result<SentMessage, RestError> {
        let msg = self
            .inner
            .rest
            .send_message(rid, text, thread_id, false)
            .await?;
        Ok(self.sent_message(rid, thread_id, text, &msg))
    }

    /// One message of `reply` (a random id without one). `None`: another instance of the bot
    /// posted this message of the reply first (counted and reported once per reply), or had
    /// already, so it is not posted from here.
    pub(crate) async fn post_text_as(
        &self,
        rid: &str,
        thread_id: Option<&str>,
        text: &str,
        reply: Option<&ReplyTo>,
    ) -> Result<Option<SentMessage>, RestError> {
        let Some(reply) = reply else {
            return self.post_text(rid, thread_id, text).await.map(Some);
        };
        let Some(id) = self.inner.claims.next_id(reply) else {
            return Ok(None);
        };
        let outcome = self
            .inner
            .rest
            .send_claiming(OutgoingMessage {
                id: Some(id),
                rid: rid.to_owned(),
                msg: text.to_owned(),
                tmid: thread_id.map(str::to_owned),
                ..Default::default()
            })
            .await?;
        match outcome {
            SendOutcome::Posted(msg) => Ok(Some(self.sent_message(rid, thread_id, text, &msg))),
            SendOutcome::Taken(_) => {
                if self.inner.claims.lost(reply) {
                    tracing::info!(room = %rid, reply_to = %reply.message_id, "another instance of the bot answered this message first; not answering it again");
                    self.emit(Event::ReplyClaimed {
                        room_id: rid.to_owned(),
                        reply_to: reply.message_id.clone(),
                    });
                }
                Ok(None)
            }
        }
    }

    fn sent_message(
        &self,
        rid: &str,
        thread_id: Option<&str>,
        text: &str,
        msg: &Value,
    ) -> SentMessage {
        SentMessage {
            id: message_id(msg),
            room_id: rid.to_owned(),
            thread_id: thread_id.map(str::to_owned),
            text: text.to_owned(),
            file_name: None,
        }
    }

    /// Build a [`DeliveryError::Partial`] and report it (the landed messages as sent).
    pub(crate) fn failed(
        &self,
        rid: &str,
        sent: Vec<SentMessage>,
        total: Option<usize>,
        source: RestError,
    ) -> DeliveryError {
        self.report_sent(&sent);
        self.emit(Event::SendFailed {
            room_id: rid.to_owned(),
            error: source.to_string(),
        });
        DeliveryError::Partial {
            room_id: rid.to_owned(),
            sent,
            total,
            source: Box::new(source),
        }
    }

    pub(crate) fn report_sent(&self, sent: &[SentMessage]) {
        if self.inner.events.is_none() {
            return;
        }
        for (i, m) in sent.iter().enumerate() {
            self.emit(Event::Sent {
                room_id: m.room_id.clone(),
                message_id: m.id.clone(),
                thread_id: m.thread_id.clone(),
                chunk_index: i as u32,
                chunk_count: sent.len() as u32,
            });
        }
    }

    fn emit(&self, event: Event) {
        if let Some(hook) = &self.inner.events {
            hook(event);
        }
    }

    /// Add (`add = true`) or remove the bot's reaction `emoji` (`:thumbsup:`, `thumbsup`, or
    /// a Unicode emoji [`super::emoji`] has a shortname for) on any message it can see. A
    /// Unicode emoji without a known shortname is refused before any request.
    pub async fn react(&self, msg_id: &str, emoji: &str, add: bool) -> Result<(), DeliveryError> {
        self.react_in(msg_id, emoji, add, None).await
    }

    /// [`Deliverer::react`], refused ([`DeliveryError::NotInRoom`]) when `room` is given and
    /// the message is elsewhere.
    pub async fn react_in(
        &self,
        msg_id: &str,
        emoji: &str,
        add: bool,
        room: Option<&InRoom>,
    ) -> Result<(), DeliveryError> {
        let name = match super::emoji::reaction_name(emoji) {
            super::emoji::ReactionEmoji::Name(name) => name,
            super::emoji::ReactionEmoji::Unknown(emoji) => {
                return Err(DeliveryError::UnknownEmoji { emoji })
            }
        };
        if let Some(room) = room {
            self.message_in(msg_id, room).await?;
        }
        Ok(self
            .inner
            .rest
            .react(msg_id, &format!(":{name}:"), Some(add))
            .await?)
    }

    /// Pin (`pin = true`) or unpin a message, refused when `room` is given and the message is
    /// elsewhere.
    pub async fn pin_in(
        &self,
        msg_id: &str,
        pin: bool,
        room: Option<&InRoom>,
    ) -> Result<(), DeliveryError> {
        if let Some(room) = room {
            self.message_in(msg_id, room).await?;
        }
        Ok(self.inner.rest.pin_message(msg_id, pin).await?)
    }

    /// Replace the text of a message the bot sent (one message: at most the chunk limit).
    pub async fn edit_message(
        &self,
        msg_id: &str,
        text: &str,
    ) -> Result<SentMessage, DeliveryError> {
        self.edit_message_in(msg_id, text, None).await
    }

    /// [`Deliverer::edit_message`], refused when `room` is given and the message is elsewhere.
    pub async fn edit_message_in(
        &self,
        msg_id: &str,
        text: &str,
        room: Option<&InRoom>,
    ) -> Result<SentMessage, DeliveryError> {
        let limit = self.settings().chunk_limit();
        let len = utf16_len(text);
        if len > limit {
            return Err(DeliveryError::TooLong { len, limit });
        }
        let (rid, tmid) = self.own_message(msg_id, room).await?;
        self.inner.rest.update_message(&rid, msg_id, text).await?;
        Ok(SentMessage {
            id: msg_id.to_owned(),
            room_id: rid,
            thread_id: tmid,
            text: text.to_owned(),
            file_name: None,
        })
    }

    /// Delete a message the bot sent.
    pub async fn delete_message(&self, msg_id: &str) -> Result<(), DeliveryError> {
        self.delete_message_in(msg_id, None).await
    }

    /// [`Deliverer::delete_message`], refused when `room` is given and the message is
    /// elsewhere.
    pub async fn delete_message_in(
        &self,
        msg_id: &str,
        room: Option<&InRoom>,
    ) -> Result<(), DeliveryError> {
        let (rid, _) = self.own_message(msg_id, room).await?;
        Ok(self.inner.rest.delete_message(&rid, msg_id).await?)
    }

    /// The message `msg_id` (`chat.getMessage`), after checking it is in `room`.
    async fn message_in(&self, msg_id: &str, room: &InRoom) -> Result<Value, DeliveryError> {
        let msg = self.inner.rest.get_message(msg_id).await?;
        check_in_room(msg_id, &msg, room)?;
        Ok(msg)
    }

    /// The room and thread of `msg_id`, after checking it is in `room` (when given) and the
    /// bot wrote it.
    async fn own_message(
        &self,
        msg_id: &str,
        room: Option<&InRoom>,
    ) -> Result<(String, Option<String>), DeliveryError> {
        let rest = &self.inner.rest;
        let me = rest
            .token_source()
            .current()
            .await
            .map_err(RestError::from)?
            .user_id;
        let msg = rest.get_message(msg_id).await?;
        if let Some(room) = room {
            check_in_room(msg_id, &msg, room)?;
        }
        let author = msg
            .pointer("/u/_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if author != me {
            return Err(DeliveryError::NotOwnMessage {
                message_id: msg_id.to_owned(),
                author: author.to_owned(),
            });
        }
        let rid = msg
            .get("rid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let tmid = msg.get("tmid").and_then(Value::as_str).map(str::to_owned);
        Ok((rid, tmid))
    }
}

/// [`DeliveryError::NotInRoom`] unless message `msg` (`msg_id`) is in `room`.
fn check_in_room(msg_id: &str, msg: &Value, room: &InRoom) -> Result<(), DeliveryError> {
    if msg.get("rid").and_then(Value::as_str) == Some(room.room_id.as_str()) {
        Ok(())
    } else {
        Err(DeliveryError::NotInRoom {
            message_id: msg_id.to_owned(),
            target: room.target.clone(),
        })
    }
}

impl Inner {
    fn settings(&self) -> Arc<DeliverySettings> {
        self.settings
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The `_id` of a message object.
pub(crate) fn message_id(msg: &Value) -> String {
    msg.get("_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_goes_once_at_the_start() {
        let s = DeliverySettings {
            response_prefix: Some("[bot]".into()),
            text_chunk_limit: 20,
            ..Default::default()
        };
        let chunks = s.shape("one two three four five six seven eight nine");
        assert!(chunks[0].starts_with("[bot] one"));
        assert_eq!(chunks.iter().filter(|c| c.contains("[bot]")).count(), 1);
        assert_eq!(s.with_prefix("[bot] hi"), "[bot] hi");
        assert_eq!(s.with_prefix("   "), "   ");
        let s = DeliverySettings {
            response_prefix: Some("🤖\n".into()),
            ..Default::default()
        };
        assert_eq!(s.with_prefix("hi"), "🤖\nhi");
    }

    #[test]
    fn limit_is_the_smaller_of_config_and_server() {
        let mut s = DeliverySettings::default();
        assert_eq!(s.chunk_limit(), 4000);
        s.server_max_message_size = 1000;
        assert_eq!(s.chunk_limit(), 1000);
        s.text_chunk_limit = 0;
        assert_eq!(s.chunk_limit(), 1);
    }
}
