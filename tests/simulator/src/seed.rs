//! The seed: users (passwords, tokens, roles) and rooms (members), loaded at start.

use serde::{Deserialize, Serialize};

/// Users and rooms the simulator starts with. JSON shape of `--seed FILE`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Seed {
    /// The users.
    pub users: Vec<SeedUser>,
    /// The rooms (DMs included).
    pub rooms: Vec<SeedRoom>,
}

/// A seeded user.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedUser {
    /// `_id`.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Display name.
    pub name: String,
    /// Plain password (the simulator also accepts its sha-256 digest over DDP).
    pub password: String,
    /// Roles, e.g. `user`, `bot`, `admin`.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Login tokens (created by a login; expire after `Accounts_LoginExpiration`).
    #[serde(default)]
    pub login_tokens: Vec<String>,
    /// Personal access tokens (never expire).
    #[serde(default)]
    pub personal_access_tokens: Vec<String>,
    /// When set, logins need this TOTP code (2FA).
    #[serde(default)]
    pub totp_code: Option<String>,
}

/// A seeded room.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedRoom {
    /// `_id`. For DMs, the two user ids sorted and concatenated.
    pub id: String,
    /// `c`, `p`, `d` or `l`.
    pub t: String,
    /// Room name (none for DMs).
    #[serde(default)]
    pub name: Option<String>,
    /// Member usernames.
    pub members: Vec<String>,
    /// Read-only room.
    #[serde(default)]
    pub read_only: bool,
}

/// The default seed (ARCHITECTURE.md lists it): the users and rooms of `vectors.json`.
pub fn default_seed() -> Seed {
    serde_json::from_str(DEFAULT_SEED).expect("the embedded seed is valid")
}

/// The default seed as JSON (also a template for `--seed FILE`).
pub const DEFAULT_SEED: &str = include_str!("default_seed.json");
