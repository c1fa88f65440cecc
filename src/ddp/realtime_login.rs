//! Logging a session in with the account's token (`login` with `resume`), and what a refusal
//! means for the supervisor: a fresh token, a wait, or an account that cannot log in.

use std::time::Duration;

use serde_json::{json, Value};

use super::super::connection::{CallError, Connection};
use super::{RealtimeConfig, SessionEnd};
use crate::auth::AuthToken;

/// `login [{"resume": token}]`; on 403 invalidate the token and try once more with a
/// fresh one.
pub(super) async fn login(
    config: &RealtimeConfig,
    conn: &Connection,
    token: AuthToken,
) -> Result<String, SessionEnd> {
    let first = login_once(config, conn, &token).await;
    let err = match first {
        Ok(uid) => return Ok(uid),
        Err(e) => e,
    };
    match err {
        CallError::Server(e) if e.is_code(403) => {
            tracing::info!(reason = %e, "resume token refused; asking for a new one");
            config.token_source.invalidate(&token).await;
            let fresh = config
                .token_source
                .current()
                .await
                .map_err(SessionEnd::from_auth_error)?;
            match login_once(config, conn, &fresh).await {
                Ok(uid) => Ok(uid),
                Err(CallError::Server(e)) if e.is_code(403) => {
                    config.token_source.invalidate(&fresh).await;
                    Err(SessionEnd::AuthRejected(e.to_string()))
                }
                Err(e) => Err(login_failure(e)),
            }
        }
        other => Err(login_failure(other)),
    }
}

async fn login_once(
    config: &RealtimeConfig,
    conn: &Connection,
    token: &AuthToken,
) -> Result<String, CallError> {
    let result = conn
        .call(
            "login",
            vec![json!({ "resume": token.token.expose() })],
            config.call_timeout,
        )
        .await?;
    let reported = result
        .as_ref()
        .and_then(|r| r.get("id"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    match reported {
        Some(id) => {
            if id != token.user_id {
                tracing::warn!(configured = %token.user_id, server = %id, "login user id differs from the configured one");
            }
            Ok(id)
        }
        None => Ok(token.user_id.clone()),
    }
}

fn login_failure(e: CallError) -> SessionEnd {
    match e {
        CallError::Server(err) if err.is_text_code("too-many-requests") => SessionEnd::Lost {
            reason: format!("login rate limited: {err}"),
            stable: false,
            min_delay: Duration::from_millis(err.time_to_reset_ms().unwrap_or(0)),
        },
        CallError::Server(err)
            if err.is_text_code("totp-required")
                || err.is_text_code("error-user-is-not-activated") =>
        {
            SessionEnd::AuthRejected(err.to_string())
        }
        other => SessionEnd::lost(format!("login failed: {other}")),
    }
}
