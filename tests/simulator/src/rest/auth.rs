//! Request extraction: the `X-User-Id`/`X-Auth-Token` user, JSON bodies and query strings,
//! all failing with Rocket.Chat's envelopes instead of axum's plain-text rejections.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use serde_json::{Map, Value};

use super::envelope::Fail;
use crate::server::AppState;
use crate::store::User;

/// The authenticated caller of an auth-required route; 401 when the headers are missing or
/// do not match a stored token.
pub struct Auth {
    /// The user.
    pub user: User,
    /// The token used (logout removes exactly this one).
    pub token: String,
}

/// The user named by `X-User-Id`/`X-Auth-Token`, if they match.
pub fn header_user(state: &AppState, headers: &HeaderMap) -> Option<(User, String)> {
    let uid = headers.get("x-user-id")?.to_str().ok()?;
    let token = headers.get("x-auth-token")?.to_str().ok()?;
    state
        .store
        .authenticate(uid, token)
        .map(|u| (u, token.to_owned()))
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = Fail;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Fail> {
        header_user(state, &parts.headers)
            .map(|(user, token)| Auth { user, token })
            .ok_or(Fail::NotLoggedIn)
    }
}

/// The caller when authenticated, for routes that also serve anonymous callers.
pub struct MaybeAuth(pub Option<User>);

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = Fail;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Fail> {
        Ok(MaybeAuth(
            header_user(state, &parts.headers).map(|(u, _)| u),
        ))
    }
}

/// A JSON object body. An empty body is `{}` (clients POST without a body to `logout`).
pub struct JsonBody(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = Fail;

    async fn from_request(req: Request, state: &S) -> Result<Self, Fail> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| Fail::text(e.body_text()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(Map::new()));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(JsonBody(map)),
            Ok(_) => Ok(JsonBody(Map::new())),
            Err(e) => Err(Fail::text(format!("Invalid JSON body: {e}"))),
        }
    }
}

/// Query parameters (last value wins; `key[]=a&key[]=b` lists are not needed by any route here).
pub struct QueryMap(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryMap {
    type Rejection = Fail;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Fail> {
        Ok(QueryMap(parse_query(parts.uri.query().unwrap_or(""))))
    }
}

/// Parse a query string.
pub fn parse_query(q: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect()
}

impl QueryMap {
    /// A non-empty parameter.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    /// A numeric parameter.
    pub fn num(&self, key: &str) -> Option<usize> {
        self.get(key).and_then(|v| v.parse().ok())
    }

    /// A boolean parameter (`true`/`1`).
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }
}

/// A string field of a JSON body.
pub fn str_field<'a>(body: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}
