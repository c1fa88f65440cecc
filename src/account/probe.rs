//! Check an account's server and credentials once, without starting it: what a setup wizard
//! does before it saves, and what a status probe reports. The server is asked who it is
//! (`GET /api/info`, no credentials), then who the bot is (`GET /api/v1/me`, with the
//! credentials the account would use), so a wrong URL and refused credentials get different
//! words. A password login made only for the probe is logged out again.

use std::time::Instant;

use schemars::JsonSchema;
use serde::Serialize;

use super::{credentials, AccountError};
use crate::auth::AuthError;
use crate::config::AccountConfig;
use crate::rest::{RestClient, RestError, RestOptions};

/// What a successful probe found.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProbeResult {
    /// The account id probed.
    pub account_id: String,
    /// The server's site URL, normalized.
    pub base_url: String,
    /// The server's version as it tells anonymous callers (`major.minor`).
    pub server_version: String,
    /// The bot's user id.
    pub user_id: String,
    /// The bot's username.
    pub username: String,
    /// The bot's display name, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `token` (personal access token) or `password` (login).
    pub auth_mode: String,
    /// How long the probe took, in milliseconds.
    pub latency_ms: u64,
}

/// One attempt each, with short timeouts: a person is waiting for the answer.
fn probe_options(base: &RestOptions) -> RestOptions {
    RestOptions {
        connect_timeout: base.connect_timeout.min(std::time::Duration::from_secs(10)),
        request_timeout: base.request_timeout.min(std::time::Duration::from_secs(15)),
        max_retries: 0,
        max_rate_limit_retries: 1,
        ..base.clone()
    }
}

/// Probe `config`'s server and credentials.
pub async fn probe(
    config: &AccountConfig,
    rest: &RestOptions,
) -> Result<ProbeResult, AccountError> {
    let t0 = Instant::now();
    let id = config.account_id.clone();
    let url = config.base_url.as_str().to_owned();
    let fail = |message: String, source: RestError| AccountError::Probe {
        account: id.clone(),
        message,
        source: Box::new(source),
    };
    let tls = super::account_tls(config)?;
    let options = probe_options(rest);
    let tokens = credentials::token_source(config, tls.clone(), &options)
        .map_err(|e| fail(format!("baseUrl {url}: {e}"), e))?;
    let client = RestClient::new(&url, tls, tokens, options)
        .map_err(|e| fail(format!("baseUrl {url}: {e}"), e))?;

    let info = client.server_info().await.map_err(|e| {
        let message = match &e {
            RestError::Network { .. } | RestError::Timeout { .. } => {
                format!("cannot reach a server at {url} ({e}); check baseUrl (e.g. https://chat.example.com)")
            }
            _ => format!(
                "{url} does not answer as a Rocket.Chat server ({e}); check baseUrl (the address you open Rocket.Chat at)"
            ),
        };
        fail(message, e)
    })?;

    let creds = &config.credentials;
    let auth_mode = if creds.token.is_some() {
        "token"
    } else {
        "password"
    };
    let me = client.me().await.map_err(|e| {
        let refused = matches!(
            e,
            RestError::Unauthorized { .. } | RestError::Auth(AuthError::Rejected(_))
        );
        let message = match (&e, refused) {
            (RestError::Auth(AuthError::TwoFactorRequired(_)), _) => format!(
                "{url} asks for a two-factor code for {}: set twoFactor.totpCode, or use a personal access token (authToken + userId)",
                creds.username.as_deref().unwrap_or("this user")
            ),
            (_, true) => match (&creds.token, &creds.login) {
                (Some(t), None) => format!(
                    "{url} refused the personal access token for user id {}: check authToken and userId (My Account → Personal Access Tokens)",
                    t.user_id
                ),
                (None, Some(l)) => format!(
                    "{url} refused the login of {}: check username and password",
                    l.username
                ),
                _ => format!(
                    "{url} refused both the personal access token and the password: check authToken, userId, username and password"
                ),
            },
            _ => format!("{url}: could not ask who the bot is ({e})"),
        };
        fail(message, e)
    })?;

    // A session made only for this probe is not left behind on the server.
    if creds.token.is_none() {
        let _ = client.logout().await;
    }
    Ok(ProbeResult {
        account_id: config.account_id.clone(),
        base_url: url,
        server_version: info.version,
        user_id: me.id,
        username: me.username.unwrap_or_default(),
        name: me.name,
        auth_mode: auth_mode.to_owned(),
        latency_ms: t0.elapsed().as_millis() as u64,
    })
}
