//! Fully resolved accounts: inheritance done, defaults applied, validated.

use std::collections::BTreeMap;

use super::base_url::BaseUrl;
use super::model::{
    ChatMode, ChunkMode, DmPolicy, GroupPolicy, ReplyToMode, ReplyToModeByChatTypeSection,
    TableMode,
};
use crate::secret::Secret;

/// The id of the account made of the top-level keys.
pub const DEFAULT_ACCOUNT_ID: &str = "default";

/// Default `oncharPrefixes`.
pub const DEFAULT_ONCHAR_PREFIXES: [&str; 2] = [">", "!"];

/// Default `encryptedNotice`.
pub const DEFAULT_ENCRYPTED_NOTICE: &str = "I can't read end-to-end encrypted messages, so I can't answer here. Write to me in a room without encryption.";

/// Default `commandPrefix`.
pub const DEFAULT_COMMAND_PREFIX: &str = "!";
/// Default `mediaMaxMb`.
pub const DEFAULT_MEDIA_MAX_MB: f64 = 8.0;
/// Default `textChunkLimit`.
pub const DEFAULT_TEXT_CHUNK_LIMIT: usize = 4000;
/// Default `blockStreamingCoalesce.minChars`.
pub const DEFAULT_COALESCE_MIN_CHARS: u64 = 1500;
/// Default `blockStreamingCoalesce.idleMs`.
pub const DEFAULT_COALESCE_IDLE_MS: u64 = 1000;

/// The result of [`super::resolve`]: every account, plus warnings.
#[derive(Debug, Clone)]
pub struct ResolvedConfig {
    /// Accounts: `default` first (when present), then `accounts.*` by id. Disabled ones included.
    pub accounts: Vec<AccountConfig>,
    /// Non-fatal problems (unknown keys, policies that drop everything, …).
    pub warnings: Vec<super::ConfigProblem>,
}

impl ResolvedConfig {
    /// The account with this id.
    pub fn account(&self, id: &str) -> Option<&AccountConfig> {
        self.accounts.iter().find(|a| a.account_id == id)
    }

    /// The accounts with `enabled: true`.
    pub fn enabled_accounts(&self) -> impl Iterator<Item = &AccountConfig> {
        self.accounts.iter().filter(|a| a.enabled)
    }
}

/// A personal access token (or session token) with its user id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCredentials {
    /// The bot user's id (`X-User-Id`).
    pub user_id: String,
    /// The token (`X-Auth-Token`).
    pub auth_token: Secret,
}

/// Username and password for `POST /api/v1/login`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginCredentials {
    /// The username (or e-mail) to log in with.
    pub username: String,
    /// The password.
    pub password: Secret,
    /// A TOTP code for accounts with 2FA (`twoFactor.totpCode`).
    pub totp_code: Option<Secret>,
}

/// How an account authenticates. At least one of the two is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Token + user id: used first when present.
    pub token: Option<TokenCredentials>,
    /// Username + password: used when there is no token, and to log in again
    /// when the server rejects the token.
    pub login: Option<LoginCredentials>,
    /// A configured `username` (informational when only a token is used).
    pub username: Option<String>,
}

/// Block-streaming coalescing, defaults applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coalesce {
    /// Minimum buffered characters before a send.
    pub min_chars: u64,
    /// Idle time before a send, in milliseconds.
    pub idle_ms: u64,
}

/// TLS trust settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// Path to a PEM file of extra CA certificates.
    pub ca_file: Option<String>,
    /// Inline PEM of extra CA certificates.
    pub ca_pem: Option<String>,
    /// Accept any certificate (testing only).
    pub insecure_skip_verify: bool,
}

/// Overrides for one room (`rooms.<roomId>`); unset fields use the account's values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoomConfig {
    /// Conversation window in minutes (`0` = off).
    pub conversation_window_minutes: Option<u64>,
    /// Largest file in megabytes.
    pub media_max_mb: Option<f64>,
    /// Require an @mention.
    pub require_mention: Option<bool>,
    /// `Some(false)` ignores the room.
    pub enabled: Option<bool>,
}

/// One fully resolved account.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountConfig {
    /// `default` for the top level, else the key under `accounts`.
    pub account_id: String,
    /// Whether the account runs.
    pub enabled: bool,
    /// Display name.
    pub name: Option<String>,
    /// The server.
    pub base_url: BaseUrl,
    /// How to authenticate.
    pub credentials: Credentials,
    /// DM policy.
    pub dm_policy: DmPolicy,
    /// DM allowlist (strings; numbers converted).
    pub allow_from: Vec<String>,
    /// Group policy.
    pub group_policy: GroupPolicy,
    /// Group allowlist (empty = use `allow_from`).
    pub group_allow_from: Vec<String>,
    /// Chat mode in groups.
    pub chatmode: ChatMode,
    /// Trigger prefixes for `onchar`.
    pub onchar_prefixes: Vec<String>,
    /// What stands for `/` before a control command (empty = only `/`).
    pub command_prefix: String,
    /// Posted once per room for encrypted messages (empty = nothing).
    pub encrypted_notice: String,
    /// Require an @mention in groups.
    pub require_mention: bool,
    /// Conversation window in minutes (`0` = off).
    pub conversation_window_minutes: u64,
    /// Largest file in megabytes.
    pub media_max_mb: f64,
    /// Largest outbound text message in characters.
    pub text_chunk_limit: usize,
    /// How replies are split.
    pub chunk_mode: ChunkMode,
    /// Block streaming switch (`None` = host default).
    pub block_streaming: Option<bool>,
    /// Block streaming coalescing.
    pub block_streaming_coalesce: Coalesce,
    /// Reply prefix.
    pub response_prefix: Option<String>,
    /// Table rendering (`None` = host default).
    pub markdown_tables: Option<TableMode>,
    /// Per-room overrides.
    pub rooms: BTreeMap<String, RoomConfig>,
    /// Capabilities, opaque.
    pub capabilities: Option<serde_json::Value>,
    /// Config writes switch (`None` = host default).
    pub config_writes: Option<bool>,
    /// Whether `@all`/`@here` count as mentioning the bot.
    pub mention_all: bool,
    /// Regular expressions (already checked to compile) that count as mentions.
    pub mention_patterns: Vec<String>,
    /// When answers are threaded (for the host; the core does not act on it).
    pub reply_to_mode: ReplyToMode,
    /// `replyToMode` per kind of room (unset kinds use `reply_to_mode`).
    pub reply_to_mode_by_chat_type: ReplyToModeByChatTypeSection,
    /// The reaction put on a message the bot takes (`None` = the host's default, `""` = none).
    pub ack_reaction: Option<String>,
    /// Mark rooms read once their messages are taken (for the host).
    pub send_read_receipts: bool,
    /// TLS settings.
    pub tls: TlsConfig,
}

impl AccountConfig {
    /// The room's overrides, if any.
    pub fn room(&self, room_id: &str) -> Option<&RoomConfig> {
        self.rooms.get(room_id)
    }

    /// Whether the room is not disabled by `rooms.<id>.enabled: false`.
    pub fn room_enabled(&self, room_id: &str) -> bool {
        self.room(room_id).and_then(|r| r.enabled).unwrap_or(true)
    }

    /// `requireMention` for this room.
    pub fn require_mention_in(&self, room_id: &str) -> bool {
        self.room(room_id)
            .and_then(|r| r.require_mention)
            .unwrap_or(self.require_mention)
    }

    /// Conversation window for this room, in minutes (`0` = off).
    pub fn conversation_window_minutes_in(&self, room_id: &str) -> u64 {
        self.room(room_id)
            .and_then(|r| r.conversation_window_minutes)
            .unwrap_or(self.conversation_window_minutes)
    }

    /// Largest file for this room, in bytes.
    pub fn media_max_bytes_in(&self, room_id: &str) -> u64 {
        let mb = self
            .room(room_id)
            .and_then(|r| r.media_max_mb)
            .unwrap_or(self.media_max_mb);
        (mb * 1024.0 * 1024.0) as u64
    }
}
