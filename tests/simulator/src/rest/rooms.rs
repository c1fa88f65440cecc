//! Rooms, DMs and subscriptions (§4.5): `rooms.*`, `channels.*`, `groups.*`, `im.*`/`dm.*`,
//! `subscriptions.*`, and the history endpoints.

use axum::extract::State;
use serde_json::{json, Map, Value};

use super::auth::{str_field, Auth, JsonBody, QueryMap};
use super::chat::typed_invalid_params;
use super::envelope::{ok, Fail, Reply};
use super::validate::{one_of, Schema, Ty};
use crate::server::AppState;
use crate::store::{render, Room, User};
use crate::time::{parse_iso, DateForm};

/// Which family of endpoints is asking: each only sees its own room type.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `channels.*`: public channels (`c`).
    Channel,
    /// `groups.*`: private groups (`p`), members only.
    Group,
    /// `im.*`/`dm.*`: direct messages (`d`), members only.
    Direct,
}

impl Kind {
    /// The response key (`channel`, `group`).
    fn key(self) -> &'static str {
        match self {
            Kind::Channel => "channel",
            Kind::Group => "group",
            Kind::Direct => "room",
        }
    }

    fn not_found(self) -> Fail {
        match self {
            Kind::Channel => room_not_found(),
            Kind::Group => Fail::meteor(
                "error-room-not-found",
                "The required \"roomId\" or \"roomName\" param provided does not match any group",
            ),
            Kind::Direct => Fail::meteor(
                "error-room-not-found",
                "The required \"roomId\" or \"username\" param provided does not match any direct message",
            ),
        }
    }

    fn accepts(self, state: &AppState, room: &Room, user: &User) -> bool {
        match self {
            Kind::Channel => room.t == "c",
            Kind::Group => room.t == "p" && state.store.is_member(&room.id, &user.id),
            Kind::Direct => room.t == "d" && room.members.contains(&user.id),
        }
    }
}

/// `error-room-not-found` as `rooms.info`/`channels.*` word it.
fn room_not_found() -> Fail {
    Fail::meteor(
        "error-room-not-found",
        "The required \"roomId\" or \"roomName\" param provided does not match any channel",
    )
}

/// Find the room named by `roomId` or `roomName` for an endpoint family.
fn find_room(
    state: &AppState,
    user: &User,
    kind: Kind,
    room_id: Option<&str>,
    room_name: Option<&str>,
) -> Result<Room, Fail> {
    let room = match (room_id, room_name) {
        (Some(id), _) => state.store.room(id),
        (None, Some(name)) if kind != Kind::Direct => state.store.room_by_name_or_id(name),
        _ => {
            return Err(Fail::meteor(
                "error-room-param-not-provided",
                "The parameter \"roomId\" or \"roomName\" is required",
            ))
        }
    };
    room.filter(|r| kind.accepts(state, r, user))
        .ok_or_else(|| kind.not_found())
}

fn room_doc(state: &AppState, rid: &str) -> Value {
    state
        .store
        .room_document(rid, DateForm::Iso)
        .unwrap_or(Value::Null)
}

/// The room document plus `lastMessage` (`rooms.get`, `im.list`).
fn room_with_last_message(state: &AppState, rid: &str) -> Value {
    let mut doc = room_doc(state, rid);
    if let Some(last) = state.store.messages_in(rid, None, false).last() {
        doc["lastMessage"] = render(last, DateForm::Iso);
    }
    doc
}

/// `GET /api/v1/rooms.info?roomId=|roomName=`.
pub async fn rooms_info(State(state): State<AppState>, auth: Auth, q: QueryMap) -> Reply {
    let room = match (q.get("roomId"), q.get("roomName")) {
        (Some(id), _) => state.store.room(id),
        (None, Some(name)) => state.store.room_by_name_or_id(name),
        _ => {
            return Err(Fail::meteor(
                "error-room-param-not-provided",
                "The parameter \"roomId\" or \"roomName\" is required",
            ))
        }
    }
    .ok_or_else(room_not_found)?;
    if !state.store.can_access(&room.id, &auth.user.id) {
        // Swapped in Rocket.Chat's source: failure('not-allowed', 'Not Allowed').
        return Err(Fail::typed("not-allowed", "Not Allowed"));
    }
    Ok(ok(json!({"room": room_doc(&state, &room.id)})))
}

/// `GET /api/v1/rooms.get?updatedSince=ISO`.
pub async fn rooms_get(State(state): State<AppState>, auth: Auth, q: QueryMap) -> Reply {
    let since = match q.get("updatedSince") {
        Some(s) => Some(parse_iso(s).ok_or_else(|| {
            Fail::meteor(
                "error-updatedSince-param-invalid",
                "The \"updatedSince\" query parameter must be a valid date.",
            )
        })?),
        None => None,
    };
    let update: Vec<Value> = state
        .store
        .rooms_of(&auth.user.id)
        .iter()
        .filter(|r| since.is_none_or(|s| r.updated_at > s))
        .map(|r| room_with_last_message(&state, &r.id))
        .collect();
    Ok(ok(json!({"update": update, "remove": []})))
}

/// `GET /api/v1/channels.info` / `groups.info`.
pub async fn info(state: &AppState, user: &User, kind: Kind, q: &QueryMap) -> Reply {
    let room = find_room(state, user, kind, q.get("roomId"), q.get("roomName"))?;
    Ok(ok(json!({ kind.key(): room_doc(state, &room.id) })))
}

/// `GET /api/v1/channels.info`.
pub async fn channels_info(State(state): State<AppState>, auth: Auth, q: QueryMap) -> Reply {
    info(&state, &auth.user, Kind::Channel, &q).await
}

/// `GET /api/v1/groups.info`.
pub async fn groups_info(State(state): State<AppState>, auth: Auth, q: QueryMap) -> Reply {
    info(&state, &auth.user, Kind::Group, &q).await
}

/// The history endpoints: messages newest first, `latest`/`oldest` bounds (exclusive unless
/// `inclusive=true`), `offset`, `count` (default 20), thread replies only with
/// `showThreadMessages=true` (or `tshow`), and with `unreads=true` the
/// `firstUnread`/`unreadNotLoaded` pair of `getChannelHistory`.
fn history(state: &AppState, user: &User, kind: Kind, q: &QueryMap) -> Reply {
    let room = find_room(state, user, kind, q.get("roomId"), q.get("roomName"))?;
    if state.faults.history_denied(&user.username, &room.id) {
        // `getChannelHistory` answers false when `canAccessRoom` fails: `API.v1.forbidden()`.
        state.stats.count_history_refused();
        return Err(Fail::Forbidden);
    }
    let inclusive = q.flag("inclusive");
    let thread_replies = q.flag("showThreadMessages");
    // The model adds `{$or: [{tmid: {$exists: false}}, {tshow: true}]}` without the flag.
    let shown = |m: &Value| thread_replies || m.get("tmid").is_none() || m["tshow"] == true;
    let latest = q.get("latest").and_then(parse_iso).unwrap_or(i64::MAX);
    let oldest = q.get("oldest").and_then(parse_iso).unwrap_or(i64::MIN);
    let count = q.num("count").unwrap_or(20);
    let offset = q.num("offset").unwrap_or(0);
    // Messages the retention policy prunes are gone, as if its job had just run.
    let pruned_before = state
        .store
        .settings
        .retention
        .max_age_ms(&room.t)
        .map_or(i64::MIN, |age| crate::time::now_ms() - age);
    let in_range = |ts: i64| {
        if ts < pruned_before {
            return false;
        }
        if inclusive {
            ts >= oldest && ts <= latest
        } else {
            ts > oldest && ts < latest
        }
    };
    let mut all: Vec<Value> = state
        .store
        .messages_in(&room.id, None, false)
        .into_iter()
        .filter(|m| in_range(m["ts"]["$date"].as_i64().unwrap_or(0)) && shown(m))
        .collect();
    all.reverse();
    let page: Vec<Value> = all.iter().skip(offset).take(count).cloned().collect();
    let mut body = json!({
        "messages": page.iter().map(|m| render(m, DateForm::Iso)).collect::<Vec<_>>(),
    });
    if q.flag("unreads") {
        let ls = state
            .store
            .subscription(&user.id, &room.id, DateForm::Ejson)
            .and_then(|s| s["ls"]["$date"].as_i64())
            .unwrap_or(0);
        let unread: Vec<&Value> = all
            .iter()
            .filter(|m| m["ts"]["$date"].as_i64().unwrap_or(0) > ls)
            .collect();
        let oldest_loaded = page
            .last()
            .and_then(|m| m["ts"]["$date"].as_i64())
            .unwrap_or(i64::MAX);
        if let Some(first) = unread.last() {
            body["firstUnread"] = render(first, DateForm::Iso);
        }
        body["unreadNotLoaded"] = json!(unread
            .iter()
            .filter(|m| m["ts"]["$date"].as_i64().unwrap_or(0) < oldest_loaded)
            .count());
    }
    Ok(ok(body))
}

/// `GET /api/v1/channels.history`.
pub async fn channels_history(State(state): State<AppState>, auth: Auth, q: QueryMap) -> Reply {
    history(&state, &auth.user, Kind::Channel, &q)
}

/// `GET /api/v1/groups.history`.
pub async fn groups_history(State(state): State<AppState>, auth: Auth, q: QueryMap) -> Reply {
    history(&state, &auth.user, Kind::Group, &q)
}

/// `GET /api/v1/im.history` (= `dm.history`).
pub async fn im_history(State(state): State<AppState>, auth: Auth, q: QueryMap) -> Reply {
    history(&state, &auth.user, Kind::Direct, &q)
}

const IM_ONE: Schema = Schema {
    required: &["username"],
    props: &[("username", Ty::Str), ("excludeSelf", Ty::Bool)],
};
const IM_MANY: Schema = Schema {
    required: &["usernames"],
    props: &[("usernames", Ty::Str), ("excludeSelf", Ty::Bool)],
};

/// `POST /api/v1/im.create` (= `dm.create`): `{username}` or `{usernames:"a,b", excludeSelf?}`.
pub async fn im_create(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Reply {
    one_of(&[&IM_ONE, &IM_MANY], &body).map_err(typed_invalid_params)?;
    let me = &auth.user;
    let mut names: Vec<String> = match str_field(&body, "username") {
        Some(u) => vec![u.to_owned()],
        None => str_field(&body, "usernames")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
    };
    if body.get("excludeSelf").and_then(Value::as_bool) == Some(true) {
        names.retain(|n| !n.eq_ignore_ascii_case(&me.username));
    } else if names.len() > 1 {
        names.retain(|n| !n.eq_ignore_ascii_case(&me.username));
    }
    let target = match names.as_slice() {
        [] => me.username.clone(),
        [one] => one.clone(),
        _ => {
            // Group DMs need a room shape the store does not model.
            return Err(Fail::meteor(
                "error-not-allowed",
                "Group direct messages are not supported by the simulator",
            ));
        }
    };
    let room = state.store.create_direct_message(&me.id, &target)?;
    let mut doc = room_doc(&state, &room.id);
    doc["rid"] = json!(room.id);
    Ok(ok(json!({ "room": doc })))
}

/// `GET /api/v1/im.list` (= `dm.list`).
pub async fn im_list(State(state): State<AppState>, auth: Auth, q: QueryMap) -> Reply {
    let ims: Vec<Value> = state
        .store
        .rooms_of(&auth.user.id)
        .iter()
        .filter(|r| r.t == "d")
        .map(|r| room_with_last_message(&state, &r.id))
        .collect();
    let total = ims.len();
    let offset = q.num("offset").unwrap_or(0);
    let count = q.num("count").unwrap_or(50);
    let page: Vec<Value> = ims.into_iter().skip(offset).take(count).collect();
    Ok(ok(
        json!({"ims": page, "offset": offset, "count": page.len(), "total": total}),
    ))
}

/// `GET /api/v1/subscriptions.get?updatedSince=`.
pub async fn subscriptions_get(State(state): State<AppState>, auth: Auth, q: QueryMap) -> Reply {
    let since = match q.get("updatedSince") {
        Some(s) => Some(parse_iso(s).ok_or_else(|| {
            Fail::meteor(
                "error-roomId-param-invalid",
                "The \"lastUpdate\" query parameter must be a valid date.",
            )
        })?),
        None => None,
    };
    let update: Vec<Value> = state
        .store
        .subscriptions_of(&auth.user.id, DateForm::Ejson)
        .into_iter()
        .filter(|s| since.is_none_or(|t| s["_updatedAt"]["$date"].as_i64().unwrap_or(0) > t))
        .map(|s| render(&s, DateForm::Iso))
        .collect();
    Ok(ok(json!({"update": update, "remove": []})))
}

/// `GET /api/v1/subscriptions.getOne?roomId=`.
pub async fn subscriptions_get_one(
    State(state): State<AppState>,
    auth: Auth,
    q: QueryMap,
) -> Reply {
    let rid = q
        .get("roomId")
        .ok_or_else(|| Fail::text("The 'roomId' param is required"))?;
    let sub = state
        .store
        .subscription(&auth.user.id, rid, DateForm::Iso)
        .unwrap_or(Value::Null);
    Ok(ok(json!({ "subscription": sub })))
}

const READ_BY_RID: Schema = Schema {
    required: &["rid"],
    props: &[("rid", Ty::Str), ("readThreads", Ty::Bool)],
};
const READ_BY_ROOM_ID: Schema = Schema {
    required: &["roomId"],
    props: &[("roomId", Ty::Str), ("readThreads", Ty::Bool)],
};

/// `POST /api/v1/subscriptions.read`: `{rid | roomId, readThreads?}`; the caller's
/// subscription is marked read.
pub async fn subscriptions_read(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Reply {
    let branch =
        one_of(&[&READ_BY_RID, &READ_BY_ROOM_ID], &body).map_err(super::chat::invalid_params)?;
    let key = if branch == 0 { "rid" } else { "roomId" };
    let rid = str_field(&body, key).unwrap_or_default();
    let read_threads = body
        .get("readThreads")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    state.store.mark_read(&auth.user.id, rid, read_threads)?;
    Ok(ok(json!({})))
}

fn create(state: &AppState, user: &User, kind: Kind, body: &Map<String, Value>) -> Reply {
    let name = str_field(body, "name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Fail::text("Body param \"name\" is required"))?;
    if state.store.room_by_name_or_id(name).is_some() {
        return Err(Fail::meteor(
            "error-duplicate-channel-name",
            &format!("A channel with name '{name}' exists"),
        ));
    }
    let mut members = vec![user.id.clone()];
    for m in body
        .get("members")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(u) = m.as_str().and_then(|n| state.store.user_by_username(n)) {
            if !members.contains(&u.id) {
                members.push(u.id);
            }
        }
    }
    let t = if kind == Kind::Group { "p" } else { "c" };
    let room = state.store.create_room(t, name, &members);
    if body.get("readOnly").and_then(Value::as_bool) == Some(true) {
        if let Some(r) = state.store.lock().rooms.get_mut(&room.id) {
            r.read_only = true;
        }
    }
    Ok(ok(json!({ kind.key(): room_doc(state, &room.id) })))
}

/// `POST /api/v1/channels.create` `{name, members?, readOnly?}`.
pub async fn channels_create(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Reply {
    create(&state, &auth.user, Kind::Channel, &body)
}

/// `POST /api/v1/groups.create` `{name, members?, readOnly?}`.
pub async fn groups_create(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Reply {
    create(&state, &auth.user, Kind::Group, &body)
}

/// `POST /api/v1/channels.join` `{roomId|roomName}`.
pub async fn channels_join(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Reply {
    let room = find_room(
        &state,
        &auth.user,
        Kind::Channel,
        str_field(&body, "roomId"),
        str_field(&body, "roomName"),
    )?;
    state.store.add_member(&room.id, &auth.user.id, None)?;
    Ok(ok(json!({"channel": room_doc(&state, &room.id)})))
}

/// `POST /api/v1/channels.leave` `{roomId|roomName}`.
pub async fn channels_leave(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Reply {
    let room = find_room(
        &state,
        &auth.user,
        Kind::Channel,
        str_field(&body, "roomId"),
        str_field(&body, "roomName"),
    )?;
    if !state.store.is_member(&room.id, &auth.user.id) {
        return Err(Fail::meteor(
            "error-user-not-in-room",
            "You are not in this room",
        ));
    }
    state.store.remove_member(&room.id, &auth.user.id)?;
    Ok(ok(json!({"channel": room_doc(&state, &room.id)})))
}

async fn invite(state: &AppState, user: &User, kind: Kind, body: &Map<String, Value>) -> Reply {
    let room = find_room(
        state,
        user,
        kind,
        str_field(body, "roomId"),
        str_field(body, "roomName"),
    )?;
    let target = str_field(body, "userId")
        .and_then(|id| state.store.user(id))
        .or_else(|| str_field(body, "username").and_then(|n| state.store.user_by_username(n)))
        .ok_or_else(|| Fail::meteor("error-invalid-user", "Invalid user"))?;
    if !state.store.is_member(&room.id, &user.id) && !user.has_role("admin") {
        return Err(Fail::meteor("error-not-allowed", "Not allowed"));
    }
    state
        .store
        .add_member(&room.id, &target.id, Some(&user.id))?;
    Ok(ok(json!({ kind.key(): room_doc(state, &room.id) })))
}

/// `POST /api/v1/channels.invite` `{roomId, userId}`.
pub async fn channels_invite(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Reply {
    invite(&state, &auth.user, Kind::Channel, &body).await
}

/// `POST /api/v1/groups.invite` `{roomId, userId}`.
pub async fn groups_invite(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Reply {
    invite(&state, &auth.user, Kind::Group, &body).await
}
