//! The `channels.rocketchat` object as users write it (camelCase keys).
//!
//! Every field is optional here: these are *layers*. The top level is one layer
//! (the default account, and the base every account inherits from) and each
//! `accounts.<id>` is another one merged over it. Defaults are applied only
//! when a layer stack is resolved (see [`super::resolve`]). The JSON Schema
//! ([`super::json_schema`]) is generated from these types, so the field docs
//! below are also the schema's descriptions.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::secret::Secret;

/// The whole `channels.rocketchat` object: the default account's keys at the
/// top level plus named accounts under `accounts`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RocketChatConfig {
    /// Top-level keys: the `default` account, and the values every account inherits.
    #[serde(flatten)]
    pub base: AccountSection,
    /// Additional accounts by id. Each inherits every top-level key it does not override.
    pub accounts: Option<BTreeMap<String, AccountSection>>,
}

/// One account's keys (also the top level). Every key is optional; unset keys
/// inherit from the top level, then fall back to the documented default.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountSection {
    /// Whether this account (or, at the top level, the channel) runs. Default `true`.
    pub enabled: Option<bool>,
    /// Display name of the account (for status output).
    pub name: Option<String>,
    /// Rocket.Chat server URL, `http` or `https`, optionally with a base path. Env: `ROCKETCHAT_URL` (default account only).
    pub base_url: Option<String>,
    /// Personal access token (or a session token). Needs `userId`. Env: `ROCKETCHAT_AUTH_TOKEN`.
    #[schemars(with = "Option<String>")]
    pub auth_token: Option<Secret>,
    /// The bot user's id, used with `authToken`. Env: `ROCKETCHAT_USER_ID`.
    pub user_id: Option<String>,
    /// Username for password login (alternative to a token). Env: `ROCKETCHAT_USERNAME`.
    pub username: Option<String>,
    /// Password for login via `/api/v1/login`; also enables re-login when a token expires. Env: `ROCKETCHAT_PASSWORD`.
    #[schemars(with = "Option<String>")]
    pub password: Option<Secret>,
    /// Direct-message policy. Default `pairing`.
    pub dm_policy: Option<DmPolicy>,
    /// Senders allowed in DMs: user ids, usernames, `@username`, `user:…`/`rocketchat:…` prefixes, or `*`. Numbers are read as strings.
    pub allow_from: Option<Vec<AllowEntry>>,
    /// Group/channel policy. Default `allowlist`.
    pub group_policy: Option<GroupPolicy>,
    /// Senders allowed in groups and channels (falls back to `allowFrom` when empty).
    pub group_allow_from: Option<Vec<AllowEntry>>,
    /// When the bot answers in groups. Default `oncall`.
    pub chatmode: Option<ChatMode>,
    /// Prefixes that trigger the bot in `onchar` mode. Default `[">", "!"]`.
    pub onchar_prefixes: Option<Vec<String>>,
    /// Another way to type the host's control commands: `!reset` is read as `/reset`, because Rocket.Chat's clients take `/word` as their own slash commands. `""` turns it off. Default `"!"`.
    pub command_prefix: Option<String>,
    /// Posted once in a room (while the account runs) when an end-to-end-encrypted message arrives there, which the bot cannot read. `""` posts nothing. Default: a sentence saying so.
    pub encrypted_notice: Option<String>,
    /// Require an @mention in groups and channels (`oncall` mode). Default `true`.
    pub require_mention: Option<bool>,
    /// After the bot is mentioned in a room, answer without a mention for this many minutes. Default `0` (off).
    pub conversation_window_minutes: Option<i64>,
    /// Largest inbound or outbound file, in megabytes. Default `8`.
    pub media_max_mb: Option<f64>,
    /// Largest outbound text message in characters; longer replies are split. Default `4000`.
    pub text_chunk_limit: Option<i64>,
    /// How long replies are split. Default `length`.
    pub chunk_mode: Option<ChunkMode>,
    /// Enable (`true`) or disable (`false`) block streaming; unset leaves it to the host.
    pub block_streaming: Option<bool>,
    /// Coalescing of streamed blocks.
    pub block_streaming_coalesce: Option<CoalesceSection>,
    /// Text put before every reply.
    pub response_prefix: Option<String>,
    /// Markdown conversion for outbound text.
    pub markdown: Option<MarkdownSection>,
    /// Per-room overrides by room id.
    pub rooms: Option<BTreeMap<String, RoomSection>>,
    /// Capabilities declared to the host (kept as given).
    pub capabilities: Option<serde_json::Value>,
    /// Whether the host may write config changes for this channel.
    pub config_writes: Option<bool>,
    /// Whether `@all` and `@here` count as mentioning the bot. Default `false`.
    pub mention_all: Option<bool>,
    /// Extra patterns (regular expressions, matched case-insensitively anywhere in the text)
    /// that count as mentioning the bot in groups, e.g. a name alias. The OpenClaw plugin adds
    /// the agent's own mention patterns (`messages.groupChat.mentionPatterns`, the agent's
    /// identity) to these. Matched text is not removed. Default none.
    pub mention_patterns: Option<Vec<String>>,
    /// Thread the bot's answer under a top-level message: `off` answers in the room, `first` puts the first message of each answer in a thread under the triggering message, `all` every message of the answer, `batched` only when several quick messages were answered together. A message already in a thread is always answered in that thread. Read by the OpenClaw plugin. Default `off`.
    pub reply_to_mode: Option<ReplyToMode>,
    /// Per kind of room (`direct`, `group`, `channel`), overrides `replyToMode`; DMs stay unthreaded unless `direct` is set. Read by the OpenClaw plugin.
    pub reply_to_mode_by_chat_type: Option<ReplyToModeByChatTypeSection>,
    /// Reaction put on a message when the bot takes it: a shortname (`eyes`, `:eyes:`) or a Unicode emoji the core knows the Rocket.Chat name of; `""` for none. With `messages.statusReactions.enabled` it changes to ✅ when answered and ❌ on failure. Read by the OpenClaw plugin. Default: OpenClaw's `messages.ackReaction` (👀).
    pub ack_reaction: Option<String>,
    /// Mark the room read once the bot has taken its messages, so unread means not yet handled. Read by the OpenClaw plugin. Default `false`.
    pub send_read_receipts: Option<bool>,
    /// A live message while the bot works (`streaming.mode`, as OpenClaw's channels spell it). Read by the OpenClaw plugin.
    pub streaming: Option<StreamingSection>,
    /// TLS settings for REST and WebSocket connections.
    pub tls: Option<TlsSection>,
    /// Two-factor authentication for password login.
    pub two_factor: Option<TwoFactorSection>,
}

/// An `allowFrom` entry: a string, or a number (a numeric id) read as its decimal string.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum AllowEntry {
    /// A user id, username, `@username`, prefixed id, or `*`.
    Text(String),
    /// A number, kept as written.
    Number(serde_json::Number),
}

impl AllowEntry {
    /// The entry as a string.
    pub fn to_text(&self) -> String {
        match self {
            AllowEntry::Text(s) => s.clone(),
            AllowEntry::Number(n) => n.to_string(),
        }
    }
}

/// `streaming`: the live message the bot works in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StreamingSection {
    /// `off` (default): the answer is posted when ready; `progress`: a placeholder at once, showing the tool in use, replaced by the answer; `partial`: the same, with the answer's text growing in it as the agent writes; `block`: no placeholder, the answer in blocks as they come (as `blockStreaming: true`).
    pub mode: Option<StreamingMode>,
    /// The placeholder's text. Default `Working…`.
    pub placeholder: Option<String>,
    /// After this long without news the placeholder says the bot is still at it, in ms (5000 to 3600000). Default 60000.
    pub stall_ms: Option<u64>,
}

/// `streaming.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum StreamingMode {
    /// No live message.
    #[default]
    Off,
    /// A placeholder with progress, replaced by the answer.
    Progress,
    /// A placeholder with progress, the answer growing in it.
    Partial,
    /// No placeholder; the answer in blocks as they come.
    Block,
}

/// `replyToModeByChatType`: `replyToMode` for each kind of room.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplyToModeByChatTypeSection {
    /// Direct messages.
    pub direct: Option<ReplyToMode>,
    /// Private groups.
    pub group: Option<ReplyToMode>,
    /// Public channels.
    pub channel: Option<ReplyToMode>,
}

/// `blockStreamingCoalesce`: how streamed blocks are merged before sending.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CoalesceSection {
    /// Send once at least this many characters are buffered. Default `1500`.
    pub min_chars: Option<u64>,
    /// Send after this many milliseconds without a new block. Default `1000`.
    pub idle_ms: Option<u64>,
}

/// `markdown`: conversion of outbound markdown.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarkdownSection {
    /// How tables are rendered (Rocket.Chat has no table markdown). Unset leaves it to the host.
    pub tables: Option<TableMode>,
}

/// `rooms.<roomId>`: overrides for one room.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomSection {
    /// Conversation window for this room, in minutes (`0` = off).
    pub conversation_window_minutes: Option<i64>,
    /// Largest file for this room, in megabytes.
    pub media_max_mb: Option<f64>,
    /// Require an @mention in this room.
    pub require_mention: Option<bool>,
    /// `false` ignores the room entirely.
    pub enabled: Option<bool>,
}

/// `tls`: trust settings for the server's certificate.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TlsSection {
    /// Path to a PEM file with extra CA certificates to trust (added to the web PKI roots).
    pub ca_file: Option<String>,
    /// Inline PEM with extra CA certificates to trust.
    pub ca_pem: Option<String>,
    /// Accept any certificate. Dangerous: for local testing only. Default `false`.
    pub insecure_skip_verify: Option<bool>,
}

/// `twoFactor`: second factor for password login.
///
/// Rocket.Chat asks for a TOTP code on `POST /api/v1/login` when the account has
/// 2FA enabled. A code is valid for about 30 seconds, so `totpCode` only helps
/// for a login right after it is set (for example from a secret manager that
/// renders it at start). Bots with 2FA should prefer a personal access token.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TwoFactorSection {
    /// A current TOTP code, sent as `x-2fa-code` with `x-2fa-method: totp` on login.
    #[schemars(with = "Option<String>")]
    pub totp_code: Option<Secret>,
}

/// `dmPolicy`: who may talk to the bot in direct messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum DmPolicy {
    /// Unknown senders get a pairing request; allowlisted ones are admitted.
    #[default]
    Pairing,
    /// Only senders in `allowFrom` (or the host's pairing store).
    Allowlist,
    /// Everyone (requires `"*"` in `allowFrom`).
    Open,
    /// No direct messages.
    Disabled,
}

/// `groupPolicy`: who may trigger the bot in groups and channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum GroupPolicy {
    /// Only senders in `groupAllowFrom` (or `allowFrom`).
    #[default]
    Allowlist,
    /// Everyone.
    Open,
    /// No group messages.
    Disabled,
}

/// `replyToMode`: when the bot's answer goes into a thread under the triggering message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ReplyToMode {
    /// Answer in the room.
    #[default]
    Off,
    /// The first message of each answer in a thread under the triggering message.
    First,
    /// Every message of the answer in that thread.
    All,
    /// Threaded only when several quick messages were answered together.
    Batched,
}

/// `chatmode`: when the bot answers in groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ChatMode {
    /// When mentioned (subject to `requireMention`).
    #[default]
    Oncall,
    /// Every message.
    Onmessage,
    /// Messages starting with one of `oncharPrefixes`.
    Onchar,
}

pub use crate::outbound::{ChunkMode, TableMode};
