//! The one event type every host (C, Node, Rust) receives.
//!
//! # Envelope
//!
//! Each event travels in an [`EventEnvelope`]: the schema version `v`, a
//! monotonic sequence number `seq` (per client, starting at 1, so gaps show
//! lost events), the `accountId` it concerns (absent for client-wide events),
//! the emission time `ts` (epoch milliseconds), and the event's own fields
//! flattened next to them, selected by `type`:
//!
//! ```json
//! {"v":2,"seq":7,"accountId":"default","ts":1763980801000,
//!  "type":"disconnected","reason":"socket closed","retryInMs":2000}
//! ```
//!
//! Payloads that would collide with envelope keys are nested: an inbound
//! message is `{"type":"message","message":{…InboundMessage…}}`.
//!
//! # Versioning
//!
//! The JSON is the contract; golden files under `tests/golden/events/` pin it.
//! Additive changes (a new event type, a new optional field, a new enum value
//! such as a [`DropReason`]) keep `v`: hosts must ignore unknown `type`s
//! and fields. Removing or renaming a field, changing its type or meaning, or
//! making an optional field required bumps `v`. Optional fields are omitted
//! when absent rather than sent as `null`. Secrets never appear in events.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The event schema version carried in [`EventEnvelope::v`]. 2: a delivered message's
/// `trigger.body` is omitted when it is the message's `text` unchanged.
pub const EVENT_SCHEMA_VERSION: u32 = 2;

/// An event with its envelope: what hosts receive, serialized as one JSON object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventEnvelope {
    /// Schema version ([`EVENT_SCHEMA_VERSION`]).
    pub v: u32,
    /// Monotonic sequence number, starting at 1.
    pub seq: u64,
    /// The account the event concerns; absent for client-wide events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// When the event was emitted, epoch milliseconds.
    pub ts: u64,
    /// The event (its `type` and fields sit next to the envelope keys).
    #[serde(flatten)]
    pub event: Event,
}

impl EventEnvelope {
    /// Wrap `event` with the current version and time.
    pub fn new(seq: u64, account_id: Option<String>, event: Event) -> Self {
        EventEnvelope {
            v: EVENT_SCHEMA_VERSION,
            seq,
            account_id,
            ts: now_ms(),
            event,
        }
    }

    /// The envelope as a JSON string.
    pub fn to_json(&self) -> String {
        // Sized up front: growing the buffer step by step costs a copy per step.
        let hint = match &self.event {
            Event::Message { message } | Event::MessageEdited { message } => {
                let body = message.trigger.as_ref().and_then(|t| t.body.as_ref());
                1024 + message.text.len() + body.map_or(0, String::len)
            }
            _ => 256,
        };
        let mut out = Vec::with_capacity(hint);
        serde_json::to_writer(&mut out, self).expect("events always serialize");
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }
}

/// Current time in epoch milliseconds.
pub fn now_ms() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0)
}

/// Everything hosts receive. Tagged by `type` (camelCase); fields are camelCase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Event {
    /// The account was started (config accepted, tasks running).
    AccountStarted,
    /// The account was stopped.
    AccountStopped {
        /// Why (`"closed"`, `"config reload"`, `"disabled"`, …).
        reason: String,
        /// Messages, edits and pairing requests the account had accepted but could not queue
        /// because the queue was full when it stopped: not delivered, and not fetched again.
        /// Everything queued before the stop is still delivered.
        #[serde(default)]
        undelivered: u64,
    },
    /// Opening the realtime connection.
    Connecting {
        /// 1 for the first try, then counting reconnect attempts.
        attempt: u32,
    },
    /// The realtime connection is open (DDP `connected`).
    Connected,
    /// Logged in; the bot's identity.
    Authenticated {
        /// The bot's user id.
        user_id: String,
        /// The bot's username.
        username: String,
    },
    /// The connection was lost or closed.
    Disconnected {
        /// Why, for humans.
        reason: String,
        /// Delay before the next attempt; absent when not reconnecting.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_in_ms: Option<u64>,
    },
    /// The server rejected the credentials.
    AuthFailed {
        /// Why, for humans (never includes the credentials).
        reason: String,
        /// Whether the client keeps trying (e.g. re-login with a password).
        retrying: bool,
    },
    /// An inbound message that passed gating.
    Message {
        /// The message.
        message: InboundMessage,
    },
    /// An already delivered message was edited.
    MessageEdited {
        /// The message after the edit.
        message: InboundMessage,
    },
    /// A message was deleted.
    MessageDeleted {
        /// Room id.
        room_id: String,
        /// The deleted message's id.
        message_id: String,
    },
    /// After a reconnect, part of a room's history could not be fetched: messages posted
    /// in that span may never reach the host.
    CatchUpGap {
        /// Room id.
        room_id: String,
        /// Room name, when the room has one (DMs have none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_name: Option<String>,
        /// Start of the span not recovered, epoch ms: the last message seen before the outage.
        from: u64,
        /// End of the span, epoch ms: the oldest message recovered in that room, or when the
        /// catch-up started.
        to: u64,
        /// Why, for humans.
        reason: String,
    },
    /// An inbound message was not delivered, and why.
    Dropped {
        /// Room id.
        room_id: String,
        /// Message id.
        message_id: String,
        /// Why it was dropped.
        reason: DropReason,
    },
    /// An unknown sender wrote a DM under `dmPolicy: "pairing"`.
    PairingRequest {
        /// The DM room id.
        room_id: String,
        /// The sender's user id.
        sender_id: String,
        /// The sender's username.
        sender_username: String,
        /// The sender's display name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sender_name: Option<String>,
        /// What they wrote.
        text: String,
    },
    /// Another instance of this bot (a second gateway on the same account) answered the
    /// message first: this instance's reply to it was not posted (see `replyTo`).
    ReplyClaimed {
        /// Room id.
        room_id: String,
        /// The message answered.
        reply_to: String,
    },
    /// A message (or one chunk of a reply) was sent.
    Sent {
        /// Room id.
        room_id: String,
        /// The sent message's id.
        message_id: String,
        /// Thread (root message id) it was sent in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thread_id: Option<String>,
        /// 0-based index of this chunk.
        chunk_index: u32,
        /// Number of chunks of the reply.
        chunk_count: u32,
    },
    /// Sending failed after retries.
    SendFailed {
        /// Room id.
        room_id: String,
        /// What went wrong.
        error: String,
    },
    /// Someone else started or stopped typing.
    Typing {
        /// Room id.
        room_id: String,
        /// Who is typing.
        username: String,
        /// Thread they type in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thread_id: Option<String>,
        /// `true` = started, `false` = stopped.
        active: bool,
    },
    /// The event queue was full and events were discarded.
    Overflow {
        /// How many events were discarded.
        dropped: u64,
    },
    /// An error not tied to one of the events above.
    Error {
        /// What went wrong.
        message: String,
        /// A stable machine-readable code, when there is one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
    },
    /// A log line for hosts that show the core's logs.
    Log {
        /// Severity.
        level: LogLevel,
        /// The line.
        message: String,
    },
}

impl Event {
    /// The `type` tag of this event.
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::AccountStarted => "accountStarted",
            Event::AccountStopped { .. } => "accountStopped",
            Event::Connecting { .. } => "connecting",
            Event::Connected => "connected",
            Event::Authenticated { .. } => "authenticated",
            Event::Disconnected { .. } => "disconnected",
            Event::AuthFailed { .. } => "authFailed",
            Event::Message { .. } => "message",
            Event::MessageEdited { .. } => "messageEdited",
            Event::MessageDeleted { .. } => "messageDeleted",
            Event::CatchUpGap { .. } => "catchUpGap",
            Event::Dropped { .. } => "dropped",
            Event::PairingRequest { .. } => "pairingRequest",
            Event::ReplyClaimed { .. } => "replyClaimed",
            Event::Sent { .. } => "sent",
            Event::SendFailed { .. } => "sendFailed",
            Event::Typing { .. } => "typing",
            Event::Overflow { .. } => "overflow",
            Event::Error { .. } => "error",
            Event::Log { .. } => "log",
        }
    }
}

/// Why an inbound message was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum DropReason {
    /// Sent by the bot itself.
    Own,
    /// A system message (`t` set: joins, topic changes, …).
    System,
    /// Already seen (same message id).
    Duplicate,
    /// `dmPolicy`/`groupPolicy` is `disabled` for this kind of room.
    Policy,
    /// The sender is not in the allowlist.
    NotAllowed,
    /// A group message without a mention (or trigger prefix) while one is required.
    NoMention,
    /// The bot is not a member of the room.
    NotParticipant,
    /// No text and no files after stripping.
    Empty,
    /// The room is disabled by `rooms.<roomId>.enabled: false`.
    RoomDisabled,
    /// The message could not be read.
    Malformed,
    /// An end-to-end-encrypted message (`t: "e2e"`): the bot cannot read its ciphertext.
    Encrypted,
    /// A reason added after this build (hosts must accept new values).
    #[serde(other)]
    Other,
}

/// Which dropped messages become `dropped` events (host option `droppedEvents`). Every drop
/// is counted in the account's status whatever this says; repeats never make an event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DroppedEvents {
    /// Every drop (the default).
    #[default]
    All,
    /// Only drops in direct messages: a person who wrote to the bot. A busy room's chatter
    /// (most of it no mention, or senders not allowed) stays in the core, counted.
    Direct,
    /// None: the counts in the status only.
    None,
}

impl DroppedEvents {
    /// Whether a drop is reported; `room_type` (unknown: `None`) is asked only when it
    /// matters, so the default costs no room lookup per dropped message.
    pub fn reports(self, room_type: impl FnOnce() -> Option<RoomType>) -> bool {
        match self {
            DroppedEvents::All => true,
            DroppedEvents::Direct => room_type() == Some(RoomType::Direct),
            DroppedEvents::None => false,
        }
    }
}

/// Log severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum LogLevel {
    /// Errors.
    Error,
    /// Warnings.
    Warn,
    /// Information.
    Info,
    /// Debugging detail.
    Debug,
    /// Very verbose detail.
    Trace,
}

/// An inbound message with everything a host needs, without another lookup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InboundMessage {
    /// The account that received it.
    pub account_id: String,
    /// Room id (`rid`).
    pub room_id: String,
    /// Room type.
    pub room_type: RoomType,
    /// Room name (`general`), when known; DMs usually have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_name: Option<String>,
    /// Message id (`_id`).
    pub message_id: String,
    /// Thread root message id (`tmid`), for thread replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    /// `tshow`: a thread reply also shown in the room.
    pub thread_shown: bool,
    /// Who sent it.
    pub sender: Sender,
    /// The raw markdown text (`msg`); `""` for pure file messages.
    pub text: String,
    /// Who is mentioned, and whether the bot is.
    pub mentions: Mentions,
    /// Files and other attachments.
    pub attachments: Vec<Attachment>,
    /// Uploaded files (`files`), thumbnails included.
    pub files: Vec<FileInfo>,
    /// Creation time, epoch milliseconds.
    pub ts: u64,
    /// Edit time, epoch milliseconds, when edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<u64>,
    /// Whether the message carries an edit (`editedAt` set).
    pub is_edit: bool,
    /// The system message type (`t`) when set (`uj`, `room_changed_topic`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_type: Option<String>,
    /// Whether it arrived live or was fetched after a reconnect.
    pub source: MessageSource,
    /// Whether the bot is a member of the room.
    pub room_participant: bool,
    /// Why the access rules admitted the message, and the text for the agent. Set on every
    /// `message` the core delivers; absent on a message that was not gated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Trigger>,
}

impl InboundMessage {
    /// The text for the agent: the trigger's body, or the text when the body is the same.
    pub fn agent_text(&self) -> &str {
        self.trigger
            .as_ref()
            .and_then(|t| t.body.as_deref())
            .unwrap_or(&self.text)
    }
}

/// How a delivered message passed the access rules (`dmPolicy`, `groupPolicy`, mentions,
/// `chatmode`), and what the agent should read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Trigger {
    /// The rule that admitted it: `direct`, `mention`, `onmessage`, `onchar`, `window`,
    /// `mentionNotRequired` or `controlCommand`.
    pub reason: String,
    /// The text for the agent: the `onchar` prefix and the bot's `@username` removed, trimmed.
    /// Absent when that is the message's `text` unchanged (most DMs), so the text is not
    /// sent twice: read `text` then ([`InboundMessage::agent_text`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The bot was addressed (mentioned, or an `onchar` prefix in a group).
    pub was_mentioned: bool,
    /// The body is a control command (`/reset`, …).
    pub control_command: bool,
    /// The text as the sender typed it, when the body is a command written with
    /// `commandPrefix` (`!reset`, delivered as the body `/reset`): for a host that does not
    /// know the command and gives the agent the message as typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typed_as: Option<String>,
    /// The sender may run control commands (in the effective allowlist).
    pub command_authorized: bool,
}

/// Room type, as Rocket.Chat spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum RoomType {
    /// Public channel.
    #[serde(rename = "c")]
    Channel,
    /// Private group.
    #[serde(rename = "p")]
    Private,
    /// Direct message.
    #[serde(rename = "d")]
    Direct,
    /// Omnichannel (livechat) room.
    #[serde(rename = "l")]
    Livechat,
}

impl RoomType {
    /// From Rocket.Chat's `t`; unknown types count as channels.
    pub fn from_code(code: &str) -> RoomType {
        match code {
            "p" => RoomType::Private,
            "d" => RoomType::Direct,
            "l" => RoomType::Livechat,
            _ => RoomType::Channel,
        }
    }

    /// The one-letter code.
    pub fn code(self) -> &'static str {
        match self {
            RoomType::Channel => "c",
            RoomType::Private => "p",
            RoomType::Direct => "d",
            RoomType::Livechat => "l",
        }
    }

    /// Direct conversations (`d` and `l`).
    pub fn is_direct(self) -> bool {
        matches!(self, RoomType::Direct | RoomType::Livechat)
    }
}

/// The sender of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Sender {
    /// User id.
    pub id: String,
    /// Username.
    pub username: String,
    /// Display name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Mentions in a message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Mentions {
    /// The bot is mentioned (by id or username; `@all`/`@here` count only with `mentionAll`).
    pub bot_mentioned: bool,
    /// Mentioned users (not `@all`/`@here`).
    pub users: Vec<MentionedUser>,
    /// `@all` is mentioned.
    pub all: bool,
    /// `@here` is mentioned.
    pub here: bool,
}

/// A mentioned user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MentionedUser {
    /// User id.
    pub id: String,
    /// Username.
    pub username: String,
}

/// One attachment of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// What it is.
    pub kind: AttachmentKind,
    /// Title (the file name for uploads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Where to fetch it: absolute, or server-relative (`/file-upload/…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// MIME type, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Size in bytes, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Description (the upload's description, or an attachment's text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The uploaded file's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
}

/// Kind of an [`Attachment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum AttachmentKind {
    /// An image.
    Image,
    /// Audio.
    Audio,
    /// Video.
    Video,
    /// Any other uploaded file.
    File,
    /// Not an upload (a quote, a link card, an integration attachment).
    Other,
}

/// An uploaded file (`files[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileInfo {
    /// File id.
    pub id: String,
    /// File name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// MIME type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// How a message reached the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum MessageSource {
    /// From the realtime stream.
    Live,
    /// Fetched over REST after a reconnect.
    CatchUp,
}

/// JSON Schema of [`EventEnvelope`] (for generating host types).
pub fn json_schema() -> serde_json::Value {
    schemars::schema_for!(EventEnvelope).to_value()
}

#[cfg(test)]
mod tests;
