//! The DDP methods a bot uses (ROCKETCHAT.md §2.7), except `login`/`logout`, which change the
//! connection and live in the session. Each returns `Ok(None)` when the real method returns
//! `undefined` (the `result` key is then omitted).

use serde_json::{json, Value};

use crate::profile::Profile;
use crate::store::{ApiError, NewMessage, Store, User};
use crate::time::{parse_ejson, DateForm};

/// Every method the simulator knows besides `login` and `logout`.
pub const METHODS: &[&str] = &[
    "rooms/get",
    "subscriptions/get",
    "sendMessage",
    "updateMessage",
    "setReaction",
    "deleteMessage",
    "getRoomIdByNameOrId",
    "getRoomNameById",
    "createDirectMessage",
    "joinRoom",
    "leaveRoom",
    "getUsersOfRoom",
    "public-settings/get",
    "UserPresence:online",
    "UserPresence:away",
    "UserPresence:setDefaultStatus",
    "setUserStatus",
    "stream-notify-room",
    "stream-notify-user",
    "stream-room-messages",
    "stream-notify-logged",
    "stream-notify-all",
    "stream-user-presence",
];

/// A method's outcome: a value, `undefined`, or a Meteor.Error.
pub type Outcome = Result<Option<Value>, ApiError>;

/// What a method sees of its connection.
pub struct Ctx<'a> {
    /// The store.
    pub store: &'a Store,
    /// The connection id (stream writes are not echoed to it).
    pub connection: u64,
    /// The logged-in user.
    pub user: Option<&'a User>,
    /// `http://127.0.0.1:PORT`, for `Site_Url`.
    pub base_url: &'a str,
}

/// Whether `name` is a method of this version.
pub fn exists(profile: Profile, name: &str) -> bool {
    (METHODS.contains(&name) || name == "login" || name == "logout") && profile.has_ddp_method(name)
}

/// Rocket.Chat's methods refuse anonymous callers with `error-invalid-user` "Invalid user"
/// and the method name in `details` (that, not "User not logged in", is what the chat
/// methods throw).
fn user<'a>(ctx: &Ctx<'a>, method: &str) -> Result<&'a User, ApiError> {
    ctx.user.ok_or_else(|| {
        ApiError::new("error-invalid-user", "Invalid user").with_details(json!({"method": method}))
    })
}

fn not_allowed(method: &str) -> ApiError {
    ApiError::new("error-not-allowed", "Not allowed").with_details(json!({"method": method}))
}

/// Any error that is not a Meteor.Error is blinded to 500 by Meteor before it is sent.
fn blind(e: ApiError) -> ApiError {
    if e.plain {
        ApiError::new("500", "Internal server error")
    } else {
        e
    }
}

fn match_failed() -> ApiError {
    ApiError::new("400", "Match failed")
}

fn str_param(params: &[Value], i: usize) -> Result<&str, ApiError> {
    params
        .get(i)
        .and_then(Value::as_str)
        .ok_or_else(match_failed)
}

/// Run a method (its existence already checked).
pub fn call(ctx: &Ctx<'_>, name: &str, params: &[Value]) -> Outcome {
    let store = ctx.store;
    match name {
        "rooms/get" => {
            // Anonymous callers get an empty list (Accounts_AllowAnonymousRead is off).
            let Some(u) = ctx.user else {
                return Ok(Some(json!([])));
            };
            Ok(Some(since_pattern(
                store.room_documents_of(&u.id, DateForm::Ejson),
                params.first(),
            )))
        }
        "subscriptions/get" => {
            let Some(u) = ctx.user else {
                return Ok(Some(json!([])));
            };
            Ok(Some(since_pattern(
                store.subscriptions_of(&u.id, DateForm::Ejson),
                params.first(),
            )))
        }
        "sendMessage" => send_message(ctx, params),
        "updateMessage" => {
            let u = user(ctx, name)?;
            let m = params.first().ok_or_else(match_failed)?;
            let id = m["_id"].as_str().ok_or_else(match_failed)?;
            let text = m["msg"].as_str().ok_or_else(match_failed)?;
            if store.message(id).is_none() {
                // The method returns quietly when the original message is gone.
                return Ok(None);
            }
            store
                .update_message(&u.id, m["rid"].as_str(), id, text)
                .map_err(blind)?;
            Ok(None)
        }
        "setReaction" => {
            let u = user(ctx, name)?;
            let emoji = str_param(params, 0)?;
            let msg_id = str_param(params, 1)?;
            let should = params.get(2).and_then(Value::as_bool);
            if store.message(msg_id).is_none() {
                return Err(not_allowed(name));
            }
            if !crate::store::emoji::is_known(emoji) {
                return Err(
                    ApiError::new("error-not-allowed", "Invalid emoji provided.")
                        .with_details(json!({"method": name})),
                );
            }
            store.react(&u.id, msg_id, emoji, should).map_err(|e| {
                if e.plain {
                    not_allowed(name)
                } else {
                    e
                }
            })?;
            Ok(None)
        }
        "deleteMessage" => {
            let u = user(ctx, name)?;
            let id = params
                .first()
                .and_then(|m| m["_id"].as_str())
                .ok_or_else(match_failed)?;
            let Some(m) = store.message(id) else {
                return Err(ApiError::new("error-action-not-allowed", "Not allowed")
                    .with_details(json!({"method": name, "action": "Delete_message"})));
            };
            store
                .delete_message(&u.id, m["rid"].as_str().unwrap_or_default(), id)
                .map_err(blind)?;
            Ok(None)
        }
        "getRoomIdByNameOrId" | "getRoomNameById" => {
            let u = user(ctx, name)?;
            let key = str_param(params, 0)?;
            let room = if name == "getRoomNameById" {
                store.room(key)
            } else {
                store.room_by_name_or_id(key)
            }
            .ok_or_else(|| not_allowed(name))?;
            if !store.can_access(&room.id, &u.id) {
                return Err(not_allowed(name));
            }
            Ok(Some(if name == "getRoomNameById" {
                json!(room.name)
            } else {
                json!(room.id)
            }))
        }
        "createDirectMessage" => {
            let u = user(ctx, name)?;
            let to = str_param(params, 0)?;
            let room = store.create_direct_message(&u.id, to)?;
            let mut doc = store
                .room_document(&room.id, DateForm::Ejson)
                .unwrap_or_else(|| json!({"_id": room.id, "t": "d"}));
            doc["rid"] = json!(room.id);
            Ok(Some(doc))
        }
        "joinRoom" => {
            let u = user(ctx, name)?;
            let rid = str_param(params, 0)?;
            let room = store.room(rid).ok_or_else(|| {
                ApiError::new("error-invalid-room", "Invalid room")
                    .with_details(json!({"method": name}))
            })?;
            if room.t != "c" && !room.members.contains(&u.id) {
                return Err(not_allowed(name));
            }
            store.add_member(rid, &u.id, None).map_err(blind)?;
            Ok(Some(json!(true)))
        }
        "leaveRoom" => {
            let u = user(ctx, name)?;
            let rid = str_param(params, 0)?;
            if store.room(rid).is_none() {
                return Err(ApiError::new("error-invalid-room", "Invalid room")
                    .with_details(json!({"method": name})));
            }
            if !store.is_member(rid, &u.id) {
                return Err(
                    ApiError::new("error-user-not-in-room", "You are not in this room")
                        .with_details(json!({"method": name})),
                );
            }
            store.remove_member(rid, &u.id).map_err(blind)?;
            Ok(None)
        }
        "getUsersOfRoom" => {
            let u = user(ctx, name)?;
            let rid = str_param(params, 0)?;
            let room = store
                .room(rid)
                .filter(|r| store.can_access(&r.id, &u.id))
                .ok_or_else(|| not_allowed(name))?;
            let records: Vec<Value> = room
                .members
                .iter()
                .filter_map(|id| store.user(id))
                .map(|m| json!({"_id": m.id, "username": m.username, "name": m.name, "status": "online"}))
                .collect();
            Ok(Some(json!({"total": records.len(), "records": records})))
        }
        "public-settings/get" => Ok(Some(since_pattern(public_settings(ctx), params.first()))),
        "UserPresence:online"
        | "UserPresence:away"
        | "UserPresence:setDefaultStatus"
        | "setUserStatus" => Ok(None),
        "stream-notify-room" => {
            notify_room_write(ctx, params);
            Ok(None)
        }
        // Every other stream refuses client writes, silently.
        _ => Ok(None),
    }
}

/// `rooms/get` and friends: no param → the array; a `{$date}` param → `{update, remove}`
/// with what changed since then (removals are not tracked: always empty).
fn since_pattern(docs: Vec<Value>, since: Option<&Value>) -> Value {
    match since.and_then(parse_ejson) {
        None => Value::Array(docs),
        Some(ms) => {
            let update: Vec<Value> = docs
                .into_iter()
                .filter(|d| d["_updatedAt"]["$date"].as_i64().is_none_or(|t| t > ms))
                .collect();
            json!({"update": update, "remove": []})
        }
    }
}

fn public_settings(ctx: &Ctx<'_>) -> Vec<Value> {
    let s = &ctx.store.settings;
    let setting = |id: &str, value: Value| json!({"_id": id, "value": value, "enterprise": false, "_updatedAt": {"$date": 0}});
    vec![
        setting("Site_Url", json!(ctx.base_url)),
        setting("Site_Name", json!("Rocket.Chat")),
        setting("Message_MaxAllowedSize", json!(s.message_max_allowed_size)),
        setting("Accounts_LoginExpiration", json!(s.login_expiration_days)),
        setting("FileUpload_MaxFileSize", json!(s.file_upload_max_size)),
        setting("Message_AllowEditing", json!(true)),
        setting("Message_AllowDeleting", json!(true)),
        setting("UI_Use_Real_Name", json!(false)),
    ]
}

/// `sendMessage`. The real method catches every error from the send and rethrows only
/// `error-not-allowed` (and `restricted-workspace`); anything else is swallowed and the call
/// returns `undefined`. The simulator does the same so clients meet the real behaviour
/// (a result without value means "not sent"); the swallowed error is logged.
fn send_message(ctx: &Ctx<'_>, params: &[Value]) -> Outcome {
    let u = user(ctx, "sendMessage")?;
    let Some(Value::Object(m)) = params.first() else {
        return Err(match_failed());
    };
    let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_owned);
    let new = NewMessage {
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
    };
    match ctx.store.send_message(&u.id, new) {
        Ok(doc) => Ok(Some(doc)),
        Err(e) if e.code == "error-not-allowed" => Err(ApiError {
            code: e.code,
            reason: None,
            details: Some(json!({"method": "sendMessage"})),
            plain: false,
        }),
        Err(e) => {
            tracing::debug!(error = %e.message(), "sendMessage swallowed an error, as Rocket.Chat does");
            Ok(None)
        }
    }
}

/// A write to `stream-notify-room`: `["<rid>/<event>", ...args]`. Accepted only for
/// `user-activity` (and, on 6.x, the legacy `typing` with its two-way bridge) when the
/// username arg is the caller's username or display name; anything else is dropped silently.
fn notify_room_write(ctx: &Ctx<'_>, params: &[Value]) {
    let Some(u) = ctx.user else { return };
    let Some((rid, event)) = params
        .first()
        .and_then(Value::as_str)
        .and_then(|e| e.split_once('/'))
    else {
        return;
    };
    let args: Vec<Value> = params[1..].to_vec();
    let Some(username) = args.first().and_then(Value::as_str) else {
        return;
    };
    if username != u.username && username != u.name {
        return;
    }
    let bridge = ctx.store.profile.bridges_legacy_typing();
    let origin = Some(ctx.connection);
    match event {
        "user-activity" => {
            let activities = args.get(1).cloned().unwrap_or_else(|| json!([]));
            ctx.store
                .notify_room(format!("{rid}/user-activity"), args.clone(), origin);
            if bridge {
                let typing = activities
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == "user-typing"));
                ctx.store.notify_room(
                    format!("{rid}/typing"),
                    vec![json!(username), json!(typing)],
                    origin,
                );
            }
        }
        "typing" if bridge => {
            let typing = args.get(1).and_then(Value::as_bool).unwrap_or(false);
            ctx.store
                .notify_room(format!("{rid}/typing"), args.clone(), origin);
            let activities = if typing {
                json!(["user-typing"])
            } else {
                json!([])
            };
            ctx.store.notify_room(
                format!("{rid}/user-activity"),
                vec![json!(username), activities, json!({})],
                origin,
            );
        }
        _ => {}
    }
}
