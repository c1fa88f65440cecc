//! What a host shows about its configured accounts without starting them (OpenClaw's account
//! listing and status): the core's own reading of `channels.rocketchat`, so a host-side
//! reader (the plugin's `config.js`, which must work before the native core loads) can be
//! checked against it case by case (`tests/node/config-drift.test.mjs`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::error::HostError;
use crate::config::{self, DmPolicy, GroupPolicy};
use crate::CoreError;

/// One account as the configuration describes it.
#[derive(Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountSummary {
    /// The account id (`default` for the top-level account).
    pub account_id: String,
    /// Whether it runs when the configuration is applied.
    pub enabled: bool,
    /// Its display name, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The server, as normalised by the core.
    pub base_url: String,
    /// `token` (PAT + user id, used first when both are set) or `password`.
    pub auth_mode: &'static str,
    /// `dmPolicy` after inheritance and defaults.
    pub dm_policy: DmPolicy,
    /// `groupPolicy` after inheritance and defaults.
    pub group_policy: GroupPolicy,
    /// `allowFrom` after inheritance.
    pub allow_from: Vec<String>,
    /// `groupAllowFrom` after inheritance.
    pub group_allow_from: Vec<String>,
}

/// Every account of `section`, with `env` as the `ROCKETCHAT_*` variables (none: ignored).
/// CONFIG, with every problem, when the section is invalid.
pub fn describe_config(
    section: &Value,
    env: Option<&BTreeMap<String, String>>,
) -> Result<Vec<AccountSummary>, HostError> {
    let resolved = match env {
        Some(env) => config::resolve(section, env),
        None => config::resolve(section, &config::NoEnv),
    }
    .map_err(|e| HostError::from(CoreError::Config(e)))?;
    Ok(resolved
        .accounts
        .into_iter()
        .map(|a| AccountSummary {
            auth_mode: if a.credentials.token.is_some() {
                "token"
            } else {
                "password"
            },
            account_id: a.account_id,
            enabled: a.enabled,
            name: a.name,
            base_url: a.base_url.as_str().to_owned(),
            dm_policy: a.dm_policy,
            group_policy: a.group_policy,
            allow_from: a.allow_from,
            group_allow_from: a.group_allow_from,
        })
        .collect())
}
