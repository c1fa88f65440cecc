//! The control API under `/_sim`: tests play the humans, read what was sent and arm faults.
//! JSON in and out, no auth (loopback only). ARCHITECTURE.md documents each route.

use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::faults::Fault;
use crate::flood::{self, FloodSpec};
use crate::server::AppState;
use crate::store::{render, ApiError, NewMessage};
use crate::time::{parse_iso, DateForm};

/// Largest control request body: above the core's 8 MiB DDP message limit, so a test can
/// inject a frame the core must refuse (axum's default is 2 MB).
pub const MAX_BODY_BYTES: usize = 64 << 20;

/// The `/_sim` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/post", post(post_message))
        .route("/edit", post(edit))
        .route("/react", post(react))
        .route("/delete", post(delete))
        .route("/messages", get(messages))
        .route("/subscriptions", get(subscriptions))
        .route("/answered", get(answered))
        .route("/flood", post(flood))
        .route("/flood/prepare", post(prepare_flood))
        .route("/faults", post(faults))
        .route("/reset-faults", post(reset_faults))
        .route("/restart", post(restart))
        .route("/stats", get(stats))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

fn bad_request(e: ApiError) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"ok": false, "error": e.message()})),
    )
        .into_response()
}

fn user_id(state: &AppState, username: &str) -> Result<String, Box<Response>> {
    state
        .store
        .user_by_username(username)
        .map(|u| u.id)
        .ok_or_else(|| {
            Box::new(bad_request(ApiError::new(
                "error-invalid-user",
                &format!("no user {username:?}"),
            )))
        })
}

async fn health(State(state): State<AppState>) -> Json<Value> {
    Json(
        json!({"ok": true, "profile": state.store.profile.label(), "version": state.store.profile.version()}),
    )
}

#[derive(Deserialize)]
struct PostBody {
    user: String,
    rid: String,
    msg: String,
    tmid: Option<String>,
    tshow: Option<bool>,
    #[serde(rename = "_id")]
    id: Option<String>,
    attachments: Option<Value>,
    /// Store this `ts` (ISO) instead of now: several messages may share one millisecond.
    ts: Option<String>,
    /// Post it as an end-to-end-encrypted room's client does: `t: "e2e"`, `e2e: "pending"`,
    /// `msg` the ciphertext (here `msg` as given).
    #[serde(default)]
    encrypted: bool,
}

async fn post_message(State(state): State<AppState>, Json(b): Json<PostBody>) -> Response {
    let uid = match user_id(&state, &b.user) {
        Ok(uid) => uid,
        Err(r) => return *r,
    };
    let ts = match b.ts.as_deref().map(|t| parse_iso(t).ok_or(t)) {
        Some(Err(t)) => return bad_request(ApiError::plain(&format!("bad ts {t:?}"))),
        Some(Ok(ms)) => Some(ms),
        None => None,
    };
    let new = NewMessage {
        id: b.id,
        ts,
        rid: b.rid,
        msg: b.msg,
        tmid: b.tmid,
        tshow: b.tshow,
        attachments: b.attachments,
        extra: b.encrypted.then(|| json!({"t": "e2e", "e2e": "pending"})),
        ..Default::default()
    };
    match state.store.send_message(&uid, new) {
        Ok(doc) => {
            Json(json!({"ok": true, "message": render(&doc, DateForm::Iso)})).into_response()
        }
        Err(e) => bad_request(e),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EditBody {
    msg_id: String,
    msg: String,
    /// Who edits; the author when absent.
    user: Option<String>,
}

async fn edit(State(state): State<AppState>, Json(b): Json<EditBody>) -> Response {
    let author = state
        .store
        .message(&b.msg_id)
        .and_then(|m| m["u"]["_id"].as_str().map(str::to_owned));
    let editor = match (&b.user, author) {
        (Some(u), _) => match user_id(&state, u) {
            Ok(id) => id,
            Err(r) => return *r,
        },
        (None, Some(a)) => a,
        (None, None) => return bad_request(ApiError::plain("no such message")),
    };
    match state.store.update_message(&editor, None, &b.msg_id, &b.msg) {
        Ok(doc) => {
            Json(json!({"ok": true, "message": render(&doc, DateForm::Iso)})).into_response()
        }
        Err(e) => bad_request(e),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReactBody {
    user: String,
    msg_id: String,
    emoji: String,
}

async fn react(State(state): State<AppState>, Json(b): Json<ReactBody>) -> Response {
    let uid = match user_id(&state, &b.user) {
        Ok(uid) => uid,
        Err(r) => return *r,
    };
    match state.store.react(&uid, &b.msg_id, &b.emoji, None) {
        Ok(doc) => {
            Json(json!({"ok": true, "message": render(&doc, DateForm::Iso)})).into_response()
        }
        Err(e) => bad_request(e),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteBody {
    msg_id: String,
}

async fn delete(State(state): State<AppState>, Json(b): Json<DeleteBody>) -> Response {
    let Some(m) = state.store.message(&b.msg_id) else {
        return bad_request(ApiError::plain("no such message"));
    };
    let (uid, rid) = (
        m["u"]["_id"].as_str().unwrap_or_default(),
        m["rid"].as_str().unwrap_or_default(),
    );
    match state.store.delete_message(uid, rid, &b.msg_id) {
        Ok(_) => Json(json!({"ok": true})).into_response(),
        Err(e) => bad_request(e),
    }
}

#[derive(Deserialize)]
struct MessagesQuery {
    rid: Option<String>,
    user: Option<String>,
    since: Option<String>,
}

async fn messages(State(state): State<AppState>, Query(q): Query<MessagesQuery>) -> Json<Value> {
    let since = q.since.as_deref().and_then(parse_iso);
    let list: Vec<Value> = state
        .store
        .all_messages()
        .iter()
        .filter(|m| q.rid.as_deref().is_none_or(|r| m["rid"] == r))
        .filter(|m| q.user.as_deref().is_none_or(|u| m["u"]["username"] == u))
        .filter(|m| since.is_none_or(|s| m["ts"]["$date"].as_i64().unwrap_or(0) > s))
        .map(|m| render(m, DateForm::Iso))
        .collect();
    Json(json!({"ok": true, "messages": list}))
}

#[derive(Deserialize)]
struct SubscriptionsQuery {
    user: String,
}

/// The stream subscriptions a user's live DDP connections hold: `[{name, event}]`.
async fn subscriptions(
    State(state): State<AppState>,
    Query(q): Query<SubscriptionsQuery>,
) -> Response {
    let uid = match user_id(&state, &q.user) {
        Ok(uid) => uid,
        Err(r) => return *r,
    };
    let list: Vec<Value> = state
        .store
        .open_streams_of(&uid)
        .into_iter()
        .map(|(name, event)| json!({"name": name, "event": event}))
        .collect();
    Json(json!({"ok": true, "subscriptions": list})).into_response()
}

/// REST calls answered so far, per path: what a client cost the server (`scripts/bench`).
async fn answered(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"ok": true, "answered": state.faults.answered_all()}))
}

/// Answers once the last message is published.
async fn flood(State(state): State<AppState>, Json(spec): Json<FloodSpec>) -> Response {
    match flood::run_prepared(&state.store, &state.prepared_flood, &spec).await {
        Ok(r) => Json(json!({"ok": true, "count": r.count, "seconds": r.elapsed.as_secs_f64()}))
            .into_response(),
        Err(e) => bad_request(e),
    }
}

/// Encodes a replay's frames now, for the next `POST /flood` with the same messages and
/// `"replay": true`; answers once they are ready.
async fn prepare_flood(State(state): State<AppState>, Json(spec): Json<FloodSpec>) -> Response {
    let store = state.store.clone();
    let prepared = tokio::task::spawn_blocking(move || flood::prepare(&store, &spec)).await;
    match prepared {
        Ok(Ok(p)) => {
            let (count, bytes) = (p.len(), p.bytes());
            *state
                .prepared_flood
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(p);
            Json(json!({"ok": true, "count": count, "bytes": bytes})).into_response()
        }
        Ok(Err(e)) => bad_request(e),
        Err(e) => bad_request(ApiError::plain(&e.to_string())),
    }
}

async fn faults(State(state): State<AppState>, Json(fault): Json<Fault>) -> Json<Value> {
    let matched = state.faults.inject(fault);
    Json(json!({"ok": matched}))
}

async fn reset_faults(State(state): State<AppState>) -> Json<Value> {
    state.faults.reset();
    Json(json!({"ok": true}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RestartBody {
    /// How long the port stays closed.
    down_ms: u64,
    /// Messages stored while the port is closed, as other instances of a cluster sharing the
    /// database would take them: a client can only get them through its catch-up.
    #[serde(default)]
    posts: Vec<PostBody>,
}

/// Answers at once; the restart runs after this response (its own connection closes too).
async fn restart(State(state): State<AppState>, Json(b): Json<RestartBody>) -> Response {
    let mut posts = Vec::with_capacity(b.posts.len());
    for p in b.posts {
        match user_id(&state, &p.user) {
            Ok(uid) => posts.push((uid, p)),
            Err(r) => return *r,
        }
    }
    let count = posts.len();
    let task_state = state.clone();
    tokio::spawn(async move {
        let store = task_state.store.clone();
        let stored = move || {
            for (uid, p) in posts {
                let new = NewMessage {
                    rid: p.rid,
                    msg: p.msg,
                    tmid: p.tmid,
                    ..Default::default()
                };
                if let Err(e) = store.send_message(&uid, new) {
                    tracing::warn!(error = %e.message(), "restart: a post was refused");
                }
            }
        };
        let down = std::time::Duration::from_millis(b.down_ms);
        if let Err(e) = crate::server::restart(&task_state, down, stored).await {
            tracing::error!(%e, "restart: cannot listen again");
        }
    });
    Json(json!({"ok": true, "posts": count})).into_response()
}

async fn stats(State(state): State<AppState>) -> Json<Value> {
    let mut v = state.stats.to_json();
    v["ok"] = json!(true);
    Json(v)
}
