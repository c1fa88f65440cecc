//! The `channels.rocketchat` config: parsing, account inheritance, the
//! `ROCKETCHAT_*` env vars, validation and the JSON Schema.
//!
//! Users write the object in OpenClaw's config with camelCase keys:
//!
//! ```json
//! { "baseUrl": "https://chat.example.com", "authToken": "…", "userId": "…",
//!   "dmPolicy": "open", "allowFrom": ["*"],
//!   "accounts": { "second": { "baseUrl": "https://other.example.com", "username": "bot", "password": "…" } } }
//! ```
//!
//! - Top-level keys are the `default` account (present when the top level or
//!   the environment gives a `baseUrl` or credentials) and the base every
//!   `accounts.<id>` inherits from: nested objects merge key by key, `rooms`
//!   merge per room id.
//! - `ROCKETCHAT_URL`, `ROCKETCHAT_AUTH_TOKEN`, `ROCKETCHAT_USER_ID`,
//!   `ROCKETCHAT_USERNAME` and `ROCKETCHAT_PASSWORD` fill the default account
//!   only; config values win. The environment is injected ([`EnvSource`]).
//! - Validation collects every problem, each naming its key path
//!   (`accounts.secondary.baseUrl: not a valid http(s) URL: "ftp://x"`).
//!   Unknown keys are accepted and reported as warnings.
//! - Secrets (`authToken`, `password`, `twoFactor.totpCode`) are [`Secret`](crate::secret::Secret)
//!   from parsing on, so `Debug` of any config type never shows them.
//! - Two-factor: `twoFactor.totpCode` is a one-shot TOTP code sent with the
//!   password login; prefer a personal access token for 2FA bot accounts.
//!
//! Entry points: [`resolve`] (and [`resolve_with_process_env`],
//! [`resolve_openclaw_config`]) and [`json_schema`].

mod account;
mod base_url;
mod check;
mod env;
mod error;
mod layer;
mod model;
mod resolve;
mod schema;

#[cfg(test)]
mod tests;

pub use account::{
    AccountConfig, Coalesce, Credentials, LoginCredentials, ResolvedConfig, RoomConfig, TlsConfig,
    TokenCredentials, DEFAULT_ACCOUNT_ID, DEFAULT_COALESCE_IDLE_MS, DEFAULT_COALESCE_MIN_CHARS,
    DEFAULT_MEDIA_MAX_MB, DEFAULT_ONCHAR_PREFIXES, DEFAULT_TEXT_CHUNK_LIMIT,
};
pub use base_url::BaseUrl;
pub use env::{
    EnvFn, EnvSource, NoEnv, ProcessEnv, ENV_AUTH_TOKEN, ENV_PASSWORD, ENV_URL, ENV_USERNAME,
    ENV_USER_ID, ENV_VARS,
};
pub use error::{ConfigErrors, ConfigProblem};
pub use model::{
    AccountSection, AllowEntry, ChatMode, ChunkMode, CoalesceSection, DmPolicy, GroupPolicy,
    MarkdownSection, ReplyToMode, ReplyToModeByChatTypeSection, RocketChatConfig, RoomSection,
    TableMode, TlsSection, TwoFactorSection,
};
pub use resolve::{resolve, resolve_openclaw_config, resolve_with_process_env};
pub use schema::json_schema;
