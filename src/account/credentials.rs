//! Which [`TokenSource`] an account uses: its personal access token, a password session, or
//! the token first and the password once the token is rejected.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::auth::{AuthError, AuthToken, BoxFuture, PasswordSession, StaticToken, TokenSource};
use crate::config::AccountConfig;
use crate::rest::{RestError, RestOptions};

/// Build the token source an account's configuration asks for.
pub fn token_source(
    config: &AccountConfig,
    tls: Arc<rustls::ClientConfig>,
    rest: &RestOptions,
) -> Result<Arc<dyn TokenSource>, RestError> {
    let creds = &config.credentials;
    let password = match &creds.login {
        Some(login) => {
            let mut session = PasswordSession::new(
                config.base_url.as_str(),
                login.username.clone(),
                login.password.clone(),
                tls,
                rest,
            )?;
            if let Some(code) = login.totp_code.clone() {
                session = session.with_totp(Arc::new(move || Some(code.expose().to_owned())));
            }
            Some(Arc::new(session))
        }
        None => None,
    };
    let token = creds
        .token
        .as_ref()
        .map(|t| Arc::new(StaticToken::new(t.user_id.clone(), t.auth_token.clone())));
    Ok(match (token, password) {
        (Some(token), Some(password)) => Arc::new(TokenThenPassword {
            token,
            password,
            token_rejected: AtomicBool::new(false),
        }),
        (Some(token), None) => token,
        (None, Some(password)) => password,
        // Validation guarantees one of the two; fail closed if it ever does not.
        (None, None) => Arc::new(NoCredentials),
    })
}

/// A configured token, and the password to fall back on once the server rejects it
/// (a pasted session token that expired, as the original plugin's README warns about).
struct TokenThenPassword {
    token: Arc<StaticToken>,
    password: Arc<PasswordSession>,
    token_rejected: AtomicBool,
}

impl TokenSource for TokenThenPassword {
    fn current(&self) -> BoxFuture<'_, Result<AuthToken, AuthError>> {
        Box::pin(async move {
            if self.token_rejected.load(Ordering::Acquire) {
                self.password.current().await
            } else {
                self.token.current().await
            }
        })
    }

    fn invalidate<'a>(&'a self, token: &'a AuthToken) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if self.token_rejected.swap(true, Ordering::AcqRel) {
                self.password.invalidate(token).await;
            } else {
                self.token.invalidate(token).await;
            }
        })
    }
}

struct NoCredentials;

impl TokenSource for NoCredentials {
    fn current(&self) -> BoxFuture<'_, Result<AuthToken, AuthError>> {
        Box::pin(async { Err(AuthError::Rejected("no credentials configured".into())) })
    }

    fn invalidate<'a>(&'a self, _token: &'a AuthToken) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }
}
