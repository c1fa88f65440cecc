//! `users.*`: lookup, minimal account creation (enough for third-party test suites to make
//! their users), and personal access tokens behind 2FA (§4.5, §6).

use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{json, Map, Value};

use super::auth::{str_field, Auth, JsonBody, QueryMap};
use super::chat::invalid_params;
use super::envelope::{ok, Fail, Reply};
use super::login::check_two_factor;
use crate::server::AppState;
use crate::store::User;
use crate::time::DateForm;

/// `GET /api/v1/users.info?userId=|username=`.
pub async fn info(State(state): State<AppState>, _auth: Auth, q: QueryMap) -> Reply {
    let user = match (q.get("userId"), q.get("username")) {
        (Some(id), _) => state.store.user(id),
        (None, Some(name)) => state.store.user_by_username(name),
        _ => return Err(Fail::text("Invalid search query.")),
    }
    .ok_or_else(|| Fail::text("User not found."))?;
    Ok(ok(json!({"user": user.document(DateForm::Iso, false)})))
}

fn require(body: &Map<String, Value>, keys: &[&str]) -> Result<(), Fail> {
    match keys.iter().find(|k| str_field(body, k).is_none()) {
        Some(k) => Err(invalid_params(format!("must have required property '{k}'"))),
        None => Ok(()),
    }
}

/// Create the account and, as Rocket.Chat does by default, join the default channel.
fn register(
    state: &AppState,
    username: &str,
    name: &str,
    password: &str,
    roles: Vec<String>,
    join_default: bool,
) -> Result<User, Fail> {
    let user = state.store.create_user(username, name, password, roles)?;
    if join_default && state.store.room("GENERAL").is_some() {
        state.store.add_member("GENERAL", &user.id, None)?;
    }
    Ok(user)
}

/// `POST /api/v1/users.create` (permission `create-user`: admins only here).
pub async fn create(State(state): State<AppState>, auth: Auth, JsonBody(body): JsonBody) -> Reply {
    if !auth.user.has_role("admin") {
        return Err(Fail::meteor(
            "error-unauthorized",
            "User does not have the permissions required for this action",
        ));
    }
    require(&body, &["email", "name", "password", "username"])?;
    let roles: Vec<String> = body
        .get("roles")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_else(|| vec!["user".into()]);
    let field = |k| str_field(&body, k).unwrap_or_default();
    let join = body.get("joinDefaultChannels").and_then(Value::as_bool) != Some(false);
    let user = register(
        &state,
        field("username"),
        field("name"),
        field("password"),
        roles,
        join,
    )?;
    Ok(ok(json!({"user": user.document(DateForm::Iso, true)})))
}

/// `POST /api/v1/users.register` (no auth) `{username, email, pass, name}`.
pub async fn register_route(State(state): State<AppState>, JsonBody(body): JsonBody) -> Reply {
    require(&body, &["username", "email", "pass", "name"])?;
    let field = |k| str_field(&body, k).unwrap_or_default();
    let user = register(
        &state,
        field("username"),
        field("name"),
        field("pass"),
        vec!["user".into()],
        true,
    )?;
    Ok(ok(json!({"user": user.document(DateForm::Iso, false)})))
}

/// `POST /api/v1/users.generatePersonalAccessToken` `{tokenName, bypassTwoFactor?}`: 2FA-protected.
pub async fn generate_personal_access_token(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Reply {
    check_two_factor(&auth.user, &headers)?;
    if str_field(&body, "tokenName").is_none_or(str::is_empty) {
        return Err(Fail::text("The 'tokenName' param is required"));
    }
    let token = state.store.create_personal_access_token(&auth.user.id);
    Ok(ok(json!({ "token": token })))
}
