//! `POST /api/v1/login`, `GET /api/v1/me`, `logout` and `GET /api/info` (ROCKETCHAT.md §4.2).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};

use super::auth::{Auth, JsonBody};
use super::envelope::{ok, Fail, Reply};
use crate::server::AppState;
use crate::store::{ApiError, User};
use crate::time::DateForm;

/// The `/me` document: the full user plus `avatarUrl`.
pub fn me_document(state: &AppState, user: &User) -> Value {
    let mut doc = user.document(DateForm::Iso, true);
    doc["avatarUrl"] = json!(format!("{}/avatar/{}", state.base_url, user.username));
    doc
}

/// A 401 login failure in the shape of the profile. `code`/`reason` are the Meteor error's.
fn login_failure(state: &AppState, code: Value, reason: &str, details: Option<Value>) -> Fail {
    let profile = state.store.profile;
    let two_factor = matches!(code.as_str(), Some("totp-required" | "totp-invalid"));
    let body = if profile.breaking_rest_shapes() {
        if two_factor {
            // 2FA must stay visible or nobody could log in; 9.x keeps the code (§10: unverified).
            let mut b = json!({"success": false, "error": code});
            if let Some(d) = details {
                b["details"] = d;
            }
            b
        } else {
            json!({"success": false, "error": "unauthorized"})
        }
    } else if (profile.login_always_unauthorized() && !two_factor) || reason == "User not found" {
        json!({"success": false, "error": "Unauthorized", "status": "error", "message": "Unauthorized"})
    } else {
        let mut b = json!({"success": false, "status": "error", "error": code, "message": reason});
        if let Some(d) = details {
            b["details"] = d;
        }
        b
    };
    Fail::Raw(StatusCode::UNAUTHORIZED, body)
}

/// The identity of a password login: `user` (name, e-mail or a Meteor `{username|email}`
/// object), `username` or `email`.
fn login_identity(body: &Map<String, Value>) -> Option<String> {
    match body.get("user") {
        Some(Value::String(s)) => return Some(s.clone()),
        Some(Value::Object(o)) => {
            return o
                .get("username")
                .or_else(|| o.get("email"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        }
        _ => {}
    }
    body.get("username")
        .or_else(|| body.get("email"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// `POST /api/v1/login`.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, Fail> {
    let store = &state.store;
    let (user, token) = if let Some(resume) = body.get("resume").and_then(Value::as_str) {
        let (user, _) = store.user_by_token(resume).map_err(|e| {
            login_failure(
                &state,
                json!(e.numeric().unwrap_or(403)),
                e.reason.as_deref().unwrap_or_default(),
                None,
            )
        })?;
        (user, resume.to_owned())
    } else {
        let user = login_identity(&body)
            .and_then(|name| store.user_by_login(&name))
            .ok_or_else(|| login_failure(&state, json!(403), "User not found", None))?;
        let (plain, digest) = match body.get("password") {
            Some(Value::String(p)) => (Some(p.as_str()), None),
            Some(Value::Object(o)) => (
                None,
                o.get("digest")
                    .or_else(|| o.get("hashed"))
                    .and_then(Value::as_str),
            ),
            _ => (None, None),
        };
        if !store.check_password(&user, plain, digest) {
            return Err(login_failure(
                &state,
                json!(403),
                "Incorrect password",
                None,
            ));
        }
        if let Some(expected) = &user.totp_code {
            let code = body
                .get("code")
                .and_then(Value::as_str)
                .or_else(|| headers.get("x-2fa-code").and_then(|v| v.to_str().ok()));
            match code {
                None => {
                    return Err(login_failure(
                        &state,
                        json!("totp-required"),
                        "TOTP Required",
                        Some(json!({"method": "totp", "availableMethods": ["totp"]})),
                    ))
                }
                Some(c) if c != expected => {
                    return Err(login_failure(
                        &state,
                        json!("totp-invalid"),
                        "TOTP Invalid",
                        Some(json!({"method": "totp"})),
                    ))
                }
                Some(_) => {}
            }
        }
        let (token, _expires) = store.create_login_token(&user.id);
        (user, token)
    };
    let mut res = json!({
        "status": "success",
        "data": {"userId": user.id, "authToken": token, "me": me_document(&state, &user)},
    });
    if store.profile.login_has_success_flag() {
        res["success"] = json!(true);
    }
    Ok(Json(res))
}

/// `GET /api/v1/me`.
pub async fn me(State(state): State<AppState>, auth: Auth) -> Reply {
    Ok(ok(me_document(&state, &auth.user)))
}

/// `POST /api/v1/logout` (and the deprecated GET): removes only the token used.
pub async fn logout(State(state): State<AppState>, auth: Auth) -> Reply {
    state.store.remove_token(&auth.token);
    Ok(Json(
        json!({"status": "success", "data": {"message": "You've been logged out!"}}),
    ))
}

/// `GET /api/info` (no auth): the anonymous form, version trimmed to major.minor.
pub async fn info(State(state): State<AppState>) -> Reply {
    let version = state.store.profile.version();
    Ok(ok(json!({
        "version": version,
        "minimumClientVersions": {"desktop": "4.6.0", "mobile": "4.55.0"},
        "supportedVersions": supported_versions_jwt(version),
    })))
}

/// A JWT-shaped string like the cloud-signed `supportedVersions` (the signature is a dummy;
/// clients only pass it around).
fn supported_versions_jwt(version: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let payload = json!({
        "timestamp": "2025-11-24T10:40:00.000Z",
        "messages": [],
        "versions": [{"version": format!("{version}.0"), "expiration": "2026-11-24T00:00:00.000Z"}],
    });
    let payload = URL_SAFE_NO_PAD.encode(payload.to_string());
    let signature = URL_SAFE_NO_PAD.encode(b"rocketchat-sim");
    format!("{header}.{payload}.{signature}")
}

/// 2FA for protected endpoints (`twoFactorRequired`): the `x-2fa-code`/`x-2fa-method`
/// headers must carry the user's TOTP code, or, for users without TOTP, the sha-256 hex of
/// their password with method `password`.
pub fn check_two_factor(user: &User, headers: &HeaderMap) -> Result<(), Fail> {
    let code = headers.get("x-2fa-code").and_then(|v| v.to_str().ok());
    let method = if user.totp_code.is_some() {
        "totp"
    } else {
        "password"
    };
    let available: Vec<&str> = if user.totp_code.is_some() {
        vec!["totp"]
    } else {
        vec![]
    };
    let Some(code) = code else {
        return Err(Fail::Api(
            ApiError::new("totp-required", "TOTP Required")
                .with_details(json!({"method": method, "availableMethods": available})),
        ));
    };
    let valid = match &user.totp_code {
        Some(expected) => code == expected,
        None => code.eq_ignore_ascii_case(&crate::store::sha256_hex(&user.password)),
    };
    if valid {
        Ok(())
    } else {
        Err(Fail::Api(
            ApiError::new("totp-invalid", "TOTP Invalid").with_details(json!({"method": method})),
        ))
    }
}
