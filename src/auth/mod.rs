//! Authentication: personal access token + user id, or username/password sessions
//! obtained from `POST /api/v1/login` and renewed when the server rejects them.
//!
//! [`TokenSource`] is the seam between auth and its users: the REST client and
//! the DDP realtime client both ask it for the current token and tell it when the
//! server rejected one (REST 401, DDP login 403).

use std::future::Future;
use std::pin::Pin;

use crate::secret::Secret;

/// A boxed future, for object-safe async traits.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Credentials to put on a request: `X-User-Id` / `X-Auth-Token`, or DDP `login {resume}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthToken {
    /// The bot's user id.
    pub user_id: String,
    /// A login token or personal access token.
    pub token: Secret,
}

/// Why credentials could not be had.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The server refused the credentials (wrong password, revoked token). Retrying will not help
    /// until the configuration changes.
    #[error("authentication rejected by the server: {0}")]
    Rejected(String),
    /// The server asks for a 2FA code and none is configured, or the code was refused.
    #[error("two-factor authentication required: {0}")]
    TwoFactorRequired(String),
    /// Rate limited; try again after this many milliseconds.
    #[error("login rate limited; retry in {retry_after_ms} ms")]
    RateLimited {
        /// Milliseconds until the server accepts a new attempt.
        retry_after_ms: u64,
    },
    /// Network or server trouble; retrying later may help.
    #[error("login failed: {0}")]
    Transient(String),
}

/// Where REST and DDP get their credentials.
pub trait TokenSource: Send + Sync {
    /// The current credentials, logging in first if there are none.
    fn current(&self) -> BoxFuture<'_, Result<AuthToken, AuthError>>;
    /// The server rejected `token`. Password sessions forget it so that the next
    /// [`TokenSource::current`] logs in again; a static token source reports
    /// [`AuthError::Rejected`] from then on.
    fn invalidate<'a>(&'a self, token: &'a AuthToken) -> BoxFuture<'a, ()>;
}

mod password;
mod static_token;

pub use password::{PasswordSession, TotpSource};
pub use static_token::{StaticToken, STATIC_TOKEN_REJECTED};
