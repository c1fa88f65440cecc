//! `chat.*`: sending, editing, deleting, reacting, reading and syncing messages (§4.3).

use axum::extract::State;
use serde_json::{json, Map, Value};

use super::auth::{str_field, Auth, JsonBody, QueryMap};
use super::envelope::{ok, Fail, Reply};
use super::validate::{one_of, Schema, Ty};
use crate::server::AppState;
use crate::store::{render, ApiError, NewMessage, Room, User};
use crate::time::{iso, now_ms, parse_iso, DateForm};

const POST_BY_ROOM_ID: Schema = Schema {
    required: &["roomId"],
    props: &[
        ("roomId", Ty::StrOrArr),
        ("text", Ty::Str),
        ("alias", Ty::Str),
        ("emoji", Ty::Str),
        ("avatar", Ty::Str),
        ("attachments", Ty::Arr),
        ("tmid", Ty::Str),
        ("customFields", Ty::Obj),
    ],
};

// The channel form has no `tmid`: threads need a room id (rest-typings schema).
const POST_BY_CHANNEL: Schema = Schema {
    required: &["channel"],
    props: &[
        ("channel", Ty::StrOrArr),
        ("text", Ty::Str),
        ("alias", Ty::Str),
        ("emoji", Ty::Str),
        ("avatar", Ty::Str),
        ("attachments", Ty::Arr),
        ("customFields", Ty::Obj),
    ],
};

const UPDATE: Schema = Schema {
    required: &["roomId", "msgId", "text"],
    props: &[
        ("roomId", Ty::Str),
        ("msgId", Ty::Str),
        ("text", Ty::Str),
        ("previewUrls", Ty::Arr),
        ("customFields", Ty::Obj),
    ],
};

const PIN: Schema = Schema {
    required: &["messageId"],
    props: &[("messageId", Ty::Str)],
};

/// A legacy-route validation failure: `"<ajv messages> [invalid-params]"`.
pub fn invalid_params(msg: String) -> Fail {
    Fail::Api(ApiError::new("invalid-params", &msg))
}

/// A typed-route validation failure: no suffix, `errorType: error-invalid-params`.
pub fn typed_invalid_params(msg: String) -> Fail {
    Fail::typed(msg, "error-invalid-params")
}

/// The first element of a string-or-array target.
fn first_target(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a.first().and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// Resolve a `chat.postMessage` target as `processWebhookMessage` does: `#name`, `@username`
/// (opens the DM), or a bare id/name. Public channels are joined on the way, as the real
/// `getRoomByNameOrIdWithOptionToJoin({joinChannel: true})`. Returns the room and the target
/// without its prefix (the response's `channel`).
fn resolve_target(state: &AppState, user: &User, target: &str) -> Result<(Room, String), Fail> {
    let store = &state.store;
    // Meteor.Error('invalid-channel') has no reason: the message is just "[invalid-channel]".
    let invalid = || {
        Fail::Api(ApiError {
            code: "invalid-channel".into(),
            reason: None,
            details: None,
            plain: false,
        })
    };
    let (room, value) = if let Some(name) = target.strip_prefix('@') {
        (
            store.create_direct_message(&user.id, name)?,
            name.to_owned(),
        )
    } else {
        let value = target.strip_prefix('#').unwrap_or(target);
        (
            store.room_by_name_or_id(value).ok_or_else(invalid)?,
            value.to_owned(),
        )
    };
    if room.t == "c" && !store.is_member(&room.id, &user.id) {
        store.add_member(&room.id, &user.id, None)?;
    }
    Ok((room, value))
}

fn opt_string(body: &Map<String, Value>, key: &str) -> Option<String> {
    str_field(body, key).map(str::to_owned)
}

/// `POST /api/v1/chat.postMessage`.
pub async fn post_message(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Reply {
    let branch = one_of(&[&POST_BY_ROOM_ID, &POST_BY_CHANNEL], &body).map_err(invalid_params)?;
    let target_key = if branch == 0 { "roomId" } else { "channel" };
    let target = first_target(body.get(target_key))
        .ok_or_else(|| invalid_params("must be string".into()))?;
    let (room, _) = resolve_target(&state, &auth.user, &target)?;
    let doc = state.store.send_message(
        &auth.user.id,
        NewMessage {
            rid: room.id,
            msg: opt_string(&body, "text").unwrap_or_default(),
            tmid: opt_string(&body, "tmid"),
            alias: opt_string(&body, "alias"),
            emoji: opt_string(&body, "emoji"),
            avatar: opt_string(&body, "avatar"),
            attachments: body.get("attachments").cloned(),
            // Webhook-style messages are never grouped.
            extra: Some(json!({"groupable": false})),
            ..Default::default()
        },
    )?;
    Ok(ok(json!({
        "ts": doc["ts"]["$date"],
        // `processWebhookMessage` returns the target as the caller wrote it (`#general`,
        // `@alice` or an id); ROCKETCHAT.md §4.3 says so, though one vector shows `general`.
        "channel": target,
        "message": render(&doc, DateForm::Iso),
    })))
}

/// `POST /api/v1/chat.sendMessage`.
pub async fn send_message(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Reply {
    let Some(Value::Object(m)) = body.get("message") else {
        return Err(Fail::meteor(
            "error-invalid-params",
            "The \"message\" parameter must be provided.",
        ));
    };
    let tshow = m.get("tshow").and_then(Value::as_bool);
    if tshow == Some(true) && !m.contains_key("tmid") {
        return Err(invalid_params("tshow provided but missing tmid".into()));
    }
    let rid = str_field(m, "rid").ok_or_else(|| {
        Fail::Api(ApiError::plain(
            "The 'rid' property on the message object is missing.",
        ))
    })?;
    let doc = state.store.send_message(
        &auth.user.id,
        NewMessage {
            id: opt_string(m, "_id"),
            rid: rid.to_owned(),
            msg: opt_string(m, "msg").unwrap_or_default(),
            tmid: opt_string(m, "tmid"),
            tshow,
            attachments: m.get("attachments").cloned(),
            alias: opt_string(m, "alias"),
            emoji: opt_string(m, "emoji"),
            avatar: opt_string(m, "avatar"),
            ..Default::default()
        },
    )?;
    Ok(ok(json!({"message": render(&doc, DateForm::Iso)})))
}

/// `POST /api/v1/chat.update`.
pub async fn update(State(state): State<AppState>, auth: Auth, JsonBody(body): JsonBody) -> Reply {
    UPDATE.check(&body).map_err(typed_invalid_params)?;
    let field = |k| str_field(&body, k).unwrap_or_default();
    let doc = state.store.update_message(
        &auth.user.id,
        Some(field("roomId")),
        field("msgId"),
        field("text"),
    )?;
    Ok(ok(json!({"message": render(&doc, DateForm::Iso)})))
}

/// `POST /api/v1/chat.delete`: `ts` is a string of epoch ms.
pub async fn delete(State(state): State<AppState>, auth: Auth, JsonBody(body): JsonBody) -> Reply {
    let (Some(room_id), Some(msg_id)) = (str_field(&body, "roomId"), str_field(&body, "msgId"))
    else {
        let missing = if str_field(&body, "msgId").is_none() {
            "msgId"
        } else {
            "roomId"
        };
        return Err(Fail::Api(ApiError::plain(&format!(
            "Match error: Missing key '{missing}'"
        ))));
    };
    let doc = state.store.delete_message(&auth.user.id, room_id, msg_id)?;
    Ok(ok(json!({
        "_id": msg_id,
        "ts": now_ms().to_string(),
        "message": {"_id": msg_id, "rid": doc["rid"], "u": doc["u"]},
    })))
}

/// `POST /api/v1/chat.react`: `emoji` (or legacy `reaction`), optional `shouldReact`.
pub async fn react(State(state): State<AppState>, auth: Auth, JsonBody(body): JsonBody) -> Reply {
    let msg_id = str_field(&body, "messageId").unwrap_or_default();
    if state.store.message(msg_id).is_none() {
        return Err(Fail::meteor(
            "error-message-not-found",
            "The provided \"messageId\" does not match any existing message.",
        ));
    }
    let emoji = str_field(&body, "emoji")
        .or_else(|| str_field(&body, "reaction"))
        .ok_or_else(|| {
            Fail::meteor(
                "error-emoji-param-not-provided",
                "The required \"emoji\" param is missing.",
            )
        })?;
    if !crate::store::emoji::is_known(emoji) {
        return Err(Fail::meteor("error-not-allowed", "Invalid emoji provided."));
    }
    let should_react = body.get("shouldReact").and_then(Value::as_bool);
    state
        .store
        .react(&auth.user.id, msg_id, emoji, should_react)?;
    Ok(ok(json!({})))
}

/// `GET /api/v1/chat.getMessage?msgId=`.
pub async fn get_message(State(state): State<AppState>, auth: Auth, q: QueryMap) -> Reply {
    let msg_id = q
        .get("msgId")
        .ok_or_else(|| Fail::text("The \"msgId\" query parameter must be provided."))?;
    let doc = state
        .store
        .message(msg_id)
        .filter(|m| {
            state
                .store
                .can_access(m["rid"].as_str().unwrap_or_default(), &auth.user.id)
        })
        .ok_or_else(|| Fail::meteor("error-not-allowed", "Not allowed"))?;
    Ok(ok(json!({"message": render(&doc, DateForm::Iso)})))
}

/// `GET /api/v1/chat.getThreadMessages?tmid=&count=&offset=&sort=`: the replies of a thread
/// (not its root), oldest first, or newest first with `sort={"ts":-1}`, as the server pages them.
pub async fn get_thread_messages(State(state): State<AppState>, auth: Auth, q: QueryMap) -> Reply {
    let tmid = q.get("tmid").ok_or_else(|| {
        Fail::meteor(
            "error-invalid-params",
            "The required \"tmid\" query param is missing.",
        )
    })?;
    let root = state
        .store
        .message(tmid)
        .filter(|m| {
            state
                .store
                .can_access(m["rid"].as_str().unwrap_or_default(), &auth.user.id)
        })
        .ok_or_else(|| Fail::meteor("error-not-allowed", "Not allowed"))?;
    let rid = root["rid"].as_str().unwrap_or_default();
    let mut replies: Vec<Value> = state
        .store
        .messages_in(rid, None, false)
        .into_iter()
        .filter(|m| m["tmid"].as_str() == Some(tmid))
        .collect();
    let newest_first = q
        .get("sort")
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
        .is_some_and(|s| s["ts"].as_i64() == Some(-1));
    if newest_first {
        replies.reverse();
    }
    let total = replies.len();
    let offset = q.num("offset").unwrap_or(0);
    let count = q.num("count").unwrap_or(50);
    let page: Vec<Value> = replies
        .iter()
        .skip(offset)
        .take(count)
        .map(|m| render(m, DateForm::Iso))
        .collect();
    Ok(ok(json!({
        "messages": page,
        "count": page.len(),
        "offset": offset,
        "total": total,
    })))
}

/// `GET /api/v1/chat.syncMessages?roomId=&lastUpdate=ISO`: messages changed since then, and
/// those deleted since then as `{_id, _deletedAt}` (from the trash, as the server does).
pub async fn sync_messages(State(state): State<AppState>, auth: Auth, q: QueryMap) -> Reply {
    let rid = q.get("roomId").ok_or_else(|| {
        Fail::meteor(
            "error-roomId-param-not-provided",
            "The required \"roomId\" query param is missing.",
        )
    })?;
    let last = q.get("lastUpdate").ok_or_else(|| {
        Fail::meteor(
            "error-lastUpdate-param-not-provided",
            "The required \"lastUpdate\" query param is missing.",
        )
    })?;
    let since = parse_iso(last).ok_or_else(|| {
        Fail::meteor(
            "error-lastUpdate-param-invalid",
            "The \"lastUpdate\" query parameter must be a valid date.",
        )
    })?;
    if !state.store.can_access(rid, &auth.user.id) {
        return Err(Fail::meteor("error-not-allowed", "Not allowed"));
    }
    let updated: Vec<Value> = state
        .store
        .messages_in(rid, Some(since), true)
        .iter()
        .map(|m| render(m, DateForm::Iso))
        .collect();
    let deleted: Vec<Value> = state
        .store
        .deleted_in(rid, since)
        .into_iter()
        .map(|(id, at)| json!({"_id": id, "_deletedAt": iso(at)}))
        .collect();
    Ok(ok(
        json!({"result": {"updated": updated, "deleted": deleted}}),
    ))
}

/// `POST /api/v1/chat.pinMessage {messageId}`: the `message_pinned` system message.
pub async fn pin_message(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Reply {
    PIN.check(&body).map_err(typed_invalid_params)?;
    let msg_id = str_field(&body, "messageId").unwrap_or_default();
    let doc = state.store.pin_message(&auth.user.id, msg_id, true)?;
    Ok(ok(json!({"message": render(&doc, DateForm::Iso)})))
}

/// `POST /api/v1/chat.unPinMessage {messageId}`.
pub async fn unpin_message(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Reply {
    PIN.check(&body).map_err(typed_invalid_params)?;
    let msg_id = str_field(&body, "messageId").unwrap_or_default();
    state.store.pin_message(&auth.user.id, msg_id, false)?;
    Ok(ok(json!({})))
}

/// `GET /api/v1/chat.search?roomId=&searchText=&count=&offset=`: the room's messages whose
/// text contains `searchText` (case-insensitive; the server's regex search), newest first.
pub async fn search(State(state): State<AppState>, auth: Auth, q: QueryMap) -> Reply {
    let (Some(rid), Some(text)) = (q.get("roomId"), q.get("searchText")) else {
        return Err(Fail::meteor(
            "error-invalid-params",
            "The required \"roomId\" and \"searchText\" query params are missing.",
        ));
    };
    if !state.store.can_access(rid, &auth.user.id) {
        return Err(Fail::meteor("error-not-allowed", "Not allowed"));
    }
    let offset = q.num("offset").unwrap_or(0);
    let count = q.num("count").unwrap_or(50);
    let messages: Vec<Value> = state
        .store
        .search_messages(rid, text)
        .iter()
        .skip(offset)
        .take(count)
        .map(|m| render(m, DateForm::Iso))
        .collect();
    Ok(ok(json!({ "messages": messages })))
}
