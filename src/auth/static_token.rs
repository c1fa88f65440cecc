//! A fixed token: a personal access token, or a login token pasted into the config.

use std::sync::atomic::{AtomicBool, Ordering};

use super::{AuthError, AuthToken, BoxFuture, TokenSource};
use crate::secret::Secret;

/// The message of [`AuthError::Rejected`] once the server refused the static token.
pub const STATIC_TOKEN_REJECTED: &str = "token rejected by the server; check authToken/userId";

/// A token + user id from the configuration. It cannot be renewed: once the server
/// rejects it, [`TokenSource::current`] fails with [`AuthError::Rejected`].
#[derive(Debug)]
pub struct StaticToken {
    token: AuthToken,
    rejected: AtomicBool,
}

impl StaticToken {
    /// A source that always returns this user id and token.
    pub fn new(user_id: impl Into<String>, token: Secret) -> Self {
        StaticToken {
            token: AuthToken {
                user_id: user_id.into(),
                token,
            },
            rejected: AtomicBool::new(false),
        }
    }

    /// True once the server rejected the token.
    pub fn is_rejected(&self) -> bool {
        self.rejected.load(Ordering::Acquire)
    }
}

impl TokenSource for StaticToken {
    fn current(&self) -> BoxFuture<'_, Result<AuthToken, AuthError>> {
        Box::pin(async move {
            if self.is_rejected() {
                Err(AuthError::Rejected(STATIC_TOKEN_REJECTED.into()))
            } else {
                Ok(self.token.clone())
            }
        })
    }

    fn invalidate<'a>(&'a self, token: &'a AuthToken) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if *token == self.token {
                tracing::warn!(user_id = %self.token.user_id, "{STATIC_TOKEN_REJECTED}");
                self.rejected.store(true, Ordering::Release);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rejected_after_invalidate_and_never_prints_the_token() {
        let s = StaticToken::new("Bq7dYg4KxWnZcT3rA", Secret::new("Ra2-pat-value"));
        let t = s.current().await.unwrap();
        assert_eq!(t.token.expose(), "Ra2-pat-value");
        assert!(!format!("{s:?} {t:?}").contains("Ra2-pat-value"));
        // a different token does not invalidate ours
        let other = AuthToken {
            user_id: "x".into(),
            token: Secret::new("other"),
        };
        s.invalidate(&other).await;
        assert!(s.current().await.is_ok());
        s.invalidate(&t).await;
        let err = s.current().await.unwrap_err();
        assert_eq!(err, AuthError::Rejected(STATIC_TOKEN_REJECTED.into()));
        assert!(!err.to_string().contains("Ra2-pat-value"));
    }
}
