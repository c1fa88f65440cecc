//! `method.call`/`method.callAnon` (DDP methods over REST, §4.3) and the 404 for unknown routes.

use axum::extract::{Path, State};
use serde_json::{json, Map, Value};

use super::auth::{str_field, Auth, JsonBody, MaybeAuth};
use super::envelope::{ok, Fail, Reply};
use crate::server::AppState;
use crate::store::{ApiError, NewMessage, User};
use crate::time::{parse_ejson, DateForm};

/// `GET /api/v1/settings.public[?_id=a,b]`: public settings, no authentication.
pub async fn settings_public(State(state): State<AppState>, q: super::auth::QueryMap) -> Reply {
    let s = &state.store.settings;
    let mut all: Vec<(&str, Value)> = vec![
        ("Site_Name", json!("Rocket.Chat")),
        ("Message_MaxAllowedSize", json!(s.message_max_allowed_size)),
        ("Accounts_LoginExpiration", json!(s.login_expiration_days)),
        ("FileUpload_MaxFileSize", json!(s.file_upload_max_size)),
    ];
    all.extend(s.retention.settings());
    let wanted: Option<Vec<&str>> = q
        .get("_id")
        .map(|ids| ids.split(',').map(str::trim).collect());
    let settings: Vec<Value> = all
        .into_iter()
        .filter(|(id, _)| wanted.as_ref().is_none_or(|w| w.contains(id)))
        .map(|(id, value)| json!({"_id": id, "value": value, "enterprise": false}))
        .collect();
    let n = settings.len();
    Ok(ok(
        json!({"settings": settings, "count": n, "offset": 0, "total": n}),
    ))
}

/// `POST /api/v1/method.call/<method>`.
pub async fn call(
    State(state): State<AppState>,
    auth: Auth,
    Path(method): Path<String>,
    JsonBody(body): JsonBody,
) -> Reply {
    run(&state, Some(&auth.user), &method, &body)
}

/// `POST /api/v1/method.callAnon/<method>`: the same without authentication.
pub async fn call_anon(
    State(state): State<AppState>,
    MaybeAuth(user): MaybeAuth,
    Path(method): Path<String>,
    JsonBody(body): JsonBody,
) -> Reply {
    run(&state, user.as_ref(), &method, &body)
}

/// Decode the DDP method frame, run it, and wrap the result frame as an EJSON string. Method
/// errors are still a 200 with `success: true`: the error is inside the string.
fn run(
    state: &AppState,
    user: Option<&User>,
    path_method: &str,
    body: &Map<String, Value>,
) -> Reply {
    let message =
        str_field(body, "message").ok_or_else(|| Fail::text("The 'message' param is required"))?;
    let frame: Value = serde_json::from_str(message)
        .map_err(|_| Fail::text("The 'message' param must be an EJSON string"))?;
    let method = frame["method"].as_str().unwrap_or(path_method);
    let params = frame["params"].as_array().cloned().unwrap_or_default();
    let mut result = json!({"msg": "result", "id": frame["id"]});
    match dispatch(state, user, method, &params) {
        Ok(v) => result["result"] = v,
        Err(e) => result["error"] = e.to_ddp(),
    }
    Ok(ok(json!({"message": result.to_string()})))
}

fn invalid_user(method: &str) -> ApiError {
    ApiError::new("error-invalid-user", "Invalid user").with_details(json!({ "method": method }))
}

/// The DDP methods this REST bridge knows, answering with the same store operations (and the
/// DDP date form, since the answer is a DDP frame).
fn dispatch(
    state: &AppState,
    user: Option<&User>,
    method: &str,
    params: &[Value],
) -> Result<Value, ApiError> {
    let store = &state.store;
    let known = matches!(
        method,
        "getRoomIdByNameOrId" | "sendMessage" | "rooms/get" | "subscriptions/get"
    );
    if !known || !store.profile.has_ddp_method(method) {
        return Err(ApiError::new(
            "404",
            &format!("Method '{method}' not found"),
        ));
    }
    let user = user.ok_or_else(|| invalid_user(method))?;
    let since = params.first().and_then(parse_ejson);
    match method {
        "getRoomIdByNameOrId" => {
            let name = params.first().and_then(Value::as_str).unwrap_or_default();
            store
                .room_by_name_or_id(name)
                .filter(|r| store.can_access(&r.id, &user.id))
                .map(|r| json!(r.id))
                .ok_or_else(|| {
                    ApiError::new("error-not-allowed", "Not allowed")
                        .with_details(json!({"method": method}))
                })
        }
        "sendMessage" => {
            let m = params.first().cloned().unwrap_or(Value::Null);
            let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_owned);
            store.send_message(
                &user.id,
                NewMessage {
                    id: s("_id"),
                    rid: s("rid").unwrap_or_default(),
                    msg: s("msg").unwrap_or_default(),
                    tmid: s("tmid"),
                    tshow: m.get("tshow").and_then(Value::as_bool),
                    attachments: m.get("attachments").cloned(),
                    alias: s("alias"),
                    emoji: s("emoji"),
                    avatar: s("avatar"),
                    ..Default::default()
                },
            )
        }
        "rooms/get" => {
            let rooms: Vec<Value> = store
                .room_documents_of(&user.id, DateForm::Ejson)
                .into_iter()
                .filter(|r| since.is_none_or(|s| parse_ejson(&r["_updatedAt"]).unwrap_or(0) > s))
                .collect();
            Ok(match since {
                Some(_) => json!({"update": rooms, "remove": []}),
                None => json!(rooms),
            })
        }
        _ => {
            let subs: Vec<Value> = store
                .subscriptions_of(&user.id, DateForm::Ejson)
                .into_iter()
                .filter(|s| since.is_none_or(|t| parse_ejson(&s["_updatedAt"]).unwrap_or(0) > t))
                .collect();
            Ok(match since {
                Some(_) => json!({"update": subs, "remove": []}),
                None => json!(subs),
            })
        }
    }
}

/// Unknown routes (and unsupported methods on known ones): `API.v1.notFound()`.
pub async fn not_found() -> Fail {
    Fail::NotFound
}
