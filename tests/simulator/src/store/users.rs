//! Users, login tokens and personal access tokens.

use serde_json::json;

use super::{sha256_hex, ApiError, BusEvent, LoginToken, Store, TokenKind, User};
use crate::ids::{random_id, random_token};
use crate::time::now_ms;

impl Store {
    /// A user by id.
    pub fn user(&self, id: &str) -> Option<User> {
        self.lock().users.get(id).cloned()
    }

    /// A user by username (case-insensitive, as Rocket.Chat's lookup).
    pub fn user_by_username(&self, username: &str) -> Option<User> {
        let username = username.trim_start_matches('@');
        self.lock()
            .users
            .values()
            .find(|u| u.username.eq_ignore_ascii_case(username))
            .cloned()
    }

    /// A user by username or e-mail (`<username>@example.com`), as `/login`'s `user` field.
    pub fn user_by_login(&self, login: &str) -> Option<User> {
        let name = login.strip_suffix("@example.com").unwrap_or(login);
        self.user_by_username(name)
    }

    /// Resolve a resume token (login token or PAT). Errors are the Meteor ones of §1.10.
    pub fn user_by_token(&self, token: &str) -> Result<(User, TokenKind), ApiError> {
        let st = self.lock();
        let expiry_ms = self.settings.login_expiration_days * 86_400_000;
        for u in st.users.values() {
            if let Some(t) = u.tokens.iter().find(|t| t.token == token) {
                let expired =
                    t.expired || (t.kind == TokenKind::Login && t.when + expiry_ms < now_ms());
                if expired {
                    return Err(ApiError::new(
                        "403",
                        "Your session has expired. Please log in again.",
                    ));
                }
                return Ok((u.clone(), t.kind));
            }
        }
        Err(ApiError::new(
            "403",
            "You've been logged out by the server. Please log in again.",
        ))
    }

    /// REST auth: the user whose id and token match (`X-User-Id` / `X-Auth-Token`).
    /// Rocket.Chat does not re-check expiry here, but an expired-by-fault token is gone.
    pub fn authenticate(&self, user_id: &str, token: &str) -> Option<User> {
        let st = self.lock();
        let u = st.users.get(user_id)?;
        u.tokens
            .iter()
            .any(|t| t.token == token && !t.expired)
            .then(|| u.clone())
    }

    /// Whether a password (plain, or its sha-256 hex digest) is the user's.
    pub fn check_password(&self, user: &User, plain: Option<&str>, digest: Option<&str>) -> bool {
        match (plain, digest) {
            (Some(p), _) => p == user.password,
            (None, Some(d)) => d.eq_ignore_ascii_case(&sha256_hex(&user.password)),
            _ => false,
        }
    }

    /// A new login token for the user; returns `(token, tokenExpires ms)`.
    pub fn create_login_token(&self, user_id: &str) -> (String, i64) {
        let (token, when) = self.add_token(user_id, TokenKind::Login);
        (
            token,
            when + self.settings.login_expiration_days * 86_400_000,
        )
    }

    /// A new personal access token for the user.
    pub fn create_personal_access_token(&self, user_id: &str) -> String {
        self.add_token(user_id, TokenKind::PersonalAccess).0
    }

    /// A new token of `kind` for the user (if it exists); returns it and its creation time.
    fn add_token(&self, user_id: &str, kind: TokenKind) -> (String, i64) {
        let token = random_token();
        let when = now_ms();
        if let Some(u) = self.lock().users.get_mut(user_id) {
            u.tokens.push(LoginToken {
                token: token.clone(),
                kind,
                when,
                expired: false,
            });
        }
        (token, when)
    }

    /// `tokenExpires` for a token: `when` + expiration for login tokens; far future for PATs
    /// (the real value derives from an invalid date, §10).
    pub fn token_expires(&self, token: &str) -> i64 {
        let st = self.lock();
        st.users
            .values()
            .flat_map(|u| u.tokens.iter())
            .find(|t| t.token == token)
            .map(|t| match t.kind {
                TokenKind::Login => t.when + self.settings.login_expiration_days * 86_400_000,
                TokenKind::PersonalAccess => 253_402_300_799_000,
            })
            .unwrap_or(0)
    }

    /// Remove one token (logout).
    pub fn remove_token(&self, token: &str) {
        let mut st = self.lock();
        for u in st.users.values_mut() {
            u.tokens.retain(|t| t.token != token);
        }
    }

    /// Register a new account (REST `users.create`/`users.register`). Usernames are unique
    /// case-insensitively, as Rocket.Chat's index.
    pub fn create_user(
        &self,
        username: &str,
        name: &str,
        password: &str,
        roles: Vec<String>,
    ) -> Result<User, ApiError> {
        let mut st = self.lock();
        if st
            .users
            .values()
            .any(|u| u.username.eq_ignore_ascii_case(username))
        {
            return Err(ApiError::new(
                "error-field-unavailable",
                &format!("{username} is already in use :("),
            )
            .with_details(json!({"field": "username"})));
        }
        let user = User {
            id: random_id(),
            username: username.into(),
            name: name.into(),
            password: password.into(),
            roles,
            tokens: Vec::new(),
            totp_code: None,
            active: true,
        };
        st.users.insert(user.id.clone(), user.clone());
        Ok(user)
    }

    /// Fault: mark a token expired. Returns whether it existed.
    pub fn expire_token(&self, token: &str) -> bool {
        let mut owner = None;
        {
            let mut st = self.lock();
            for u in st.users.values_mut() {
                for t in u.tokens.iter_mut().filter(|t| t.token == token) {
                    t.expired = true;
                    owner = Some(u.id.clone());
                }
            }
        }
        if let Some(user_id) = &owner {
            self.bus.publish(BusEvent::TokensRevoked {
                user_id: user_id.clone(),
            });
        }
        owner.is_some()
    }

    /// Fault: revoke every token of a user (login tokens and PATs). Returns how many.
    /// Fault: expire `username`'s newest session (login) token: the one a bot that logs in
    /// with its password is using. Returns whether there was one.
    pub fn expire_newest_session(&self, username: &str) -> bool {
        let newest = self.user_by_username(username).and_then(|u| {
            u.tokens
                .iter()
                .filter(|t| t.kind == TokenKind::Login)
                .max_by_key(|t| t.when)
                .map(|t| t.token.clone())
        });
        newest.is_some_and(|token| self.expire_token(&token))
    }

    pub fn revoke_tokens(&self, username: &str) -> usize {
        let Some(user) = self.user_by_username(username) else {
            return 0;
        };
        let n = {
            let mut st = self.lock();
            let u = st.users.get_mut(&user.id).expect("user exists");
            let n = u.tokens.len();
            u.tokens.clear();
            n
        };
        self.bus
            .publish(BusEvent::TokensRevoked { user_id: user.id });
        n
    }
}
