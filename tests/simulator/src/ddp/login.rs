//! The `login` method (ROCKETCHAT.md §1.10): resume tokens, passwords (digest or plain),
//! 2FA, and the per-version error texts.

use serde_json::{json, Value};

use crate::profile::Profile;
use crate::store::{ApiError, Store, User};
use crate::time::date;
use crate::time::DateForm;

/// A successful login.
pub struct LoggedIn {
    /// The user.
    pub user: User,
    /// The token the connection is now logged in with.
    pub token: String,
    /// The method result `{id, token, tokenExpires, type}`.
    pub result: Value,
}

/// Run `login` with its single parameter.
pub fn login(store: &Store, param: Option<&Value>) -> Result<LoggedIn, ApiError> {
    let Some(Value::Object(obj)) = param else {
        return Err(match_failed());
    };
    if let Some(token) = obj.get("resume") {
        let token = token.as_str().ok_or_else(match_failed)?;
        let (user, _kind) = store.user_by_token(token)?;
        check_active(&user)?;
        return Ok(success(store, user, token.to_owned(), "resume"));
    }
    if let Some(totp) = obj.get("totp") {
        let inner = totp.get("login").ok_or_else(match_failed)?;
        let code = totp
            .get("code")
            .and_then(Value::as_str)
            .ok_or_else(match_failed)?;
        let user = password_user(store, inner)?;
        if user.totp_code.as_deref().is_some_and(|c| c != code) {
            return Err(ApiError::new("totp-invalid", "TOTP Invalid"));
        }
        return password_success(store, user);
    }
    if obj.contains_key("password") {
        let user = password_user(store, param.expect("object"))?;
        if user.totp_code.is_some() {
            // Rocket.Chat's 2FA check runs after the password was accepted.
            return Err(ApiError::new("totp-required", "TOTP Required")
                .with_details(json!({"method": "totp", "availableMethods": ["totp"]})));
        }
        return password_success(store, user);
    }
    Err(ApiError::new(
        "400",
        "Unrecognized options for login request",
    ))
}

fn password_success(store: &Store, user: User) -> Result<LoggedIn, ApiError> {
    check_active(&user)?;
    let (token, _) = store.create_login_token(&user.id);
    Ok(success(store, user, token, "password"))
}

fn success(store: &Store, user: User, token: String, kind: &str) -> LoggedIn {
    let expires = store.token_expires(&token);
    let result = json!({
        "id": user.id,
        "token": token,
        "tokenExpires": date(expires, DateForm::Ejson),
        "type": kind,
    });
    LoggedIn {
        user,
        token,
        result,
    }
}

fn check_active(user: &User) -> Result<(), ApiError> {
    if user.active {
        Ok(())
    } else {
        Err(ApiError::new(
            "error-user-is-not-activated",
            "User is not activated",
        ))
    }
}

/// `check()` failures in Meteor: 400 "Match failed".
fn match_failed() -> ApiError {
    ApiError::new("400", "Match failed")
}

/// Resolve `{user, password}` to the user whose password it is.
fn password_user(store: &Store, login: &Value) -> Result<User, ApiError> {
    let selector = login.get("user").ok_or_else(match_failed)?;
    let user = match selector {
        // Old clients send the username or e-mail as a bare string.
        Value::String(s) => store.user_by_login(s),
        Value::Object(o) => {
            if let Some(name) = o.get("username").and_then(Value::as_str) {
                store.user_by_username(name)
            } else if let Some(email) = o.get("email").and_then(Value::as_str) {
                store.user_by_login(email)
            } else if let Some(id) = o.get("id").and_then(Value::as_str) {
                store.user(id)
            } else {
                return Err(match_failed());
            }
        }
        _ => return Err(match_failed()),
    };
    let (plain, digest) = match login.get("password") {
        Some(Value::String(p)) => (Some(p.as_str()), None),
        Some(Value::Object(p)) if p.get("algorithm").and_then(Value::as_str) == Some("sha-256") => {
            (None, p.get("digest").and_then(Value::as_str))
        }
        _ => return Err(match_failed()),
    };
    let Some(user) = user else {
        return Err(bad_credentials(store.profile, "User not found"));
    };
    if !store.check_password(&user, plain, digest) {
        return Err(bad_credentials(store.profile, "Incorrect password"));
    }
    Ok(user)
}

/// Meteor 2 (Rocket.Chat 6.x) tells "User not found" from "Incorrect password". Meteor 3
/// (7.x+) defaults `ambiguousErrorMessages` to true and answers both with one text; the exact
/// wording per build is unverified (ROCKETCHAT.md §10), this is the accounts-base default.
fn bad_credentials(profile: Profile, detailed: &str) -> ApiError {
    if profile >= Profile::V7 {
        ApiError::new(
            "403",
            "Something went wrong. Please check your credentials.",
        )
    } else {
        ApiError::new("403", detailed)
    }
}
