//! Stream publications (ROCKETCHAT.md §2): what a `sub` asks for, whether the connection may
//! read it, and which `changed` frames a bus event becomes for it.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::store::{ApiError, BusEvent, Store};

/// The `stream-*` publications the simulator serves.
pub const STREAMS: &[&str] = &[
    "stream-room-messages",
    "stream-notify-user",
    "stream-notify-room",
    "stream-notify-logged",
    "stream-notify-all",
    "stream-user-presence",
];

/// Publications that are not streams but that clients subscribe to; they are ready at once
/// and never send data (`@rocket.chat/sdk` subscribes to the first on connect).
pub const PLAIN_PUBLICATIONS: &[&str] = &["meteor.loginServiceConfiguration"];

/// One active subscription of a connection.
#[derive(Clone, Debug)]
pub struct Sub {
    /// The client's sub id.
    pub id: String,
    /// Publication name.
    pub name: String,
    /// The first param: the stream's event name (empty for plain publications).
    pub event: String,
}

/// Parse a stream sub's params: `(eventName, useCollection)`. The options are either a
/// boolean (legacy useCollection) or `{"useCollection": bool, "args": [...]}`.
pub fn parse_params(params: &[Value]) -> (String, bool) {
    let event = params
        .first()
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let use_collection = match params.get(1) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Object(o)) => o.get("useCollection") == Some(&Value::Bool(true)),
        _ => false,
    };
    (event, use_collection)
}

/// Streamer's read-rule refusal: `{error:"not-allowed"}` with no reason.
pub fn not_allowed() -> ApiError {
    ApiError {
        code: "not-allowed".into(),
        reason: None,
        details: None,
        plain: false,
    }
}

/// The read rule of a stream for an event name, as the streamer checks it at sub time (and
/// again when a login re-runs the subscription).
pub fn can_read(
    store: &Store,
    stream: &str,
    event: &str,
    user: Option<&str>,
) -> Result<(), ApiError> {
    if event.is_empty() {
        return Err(ApiError {
            code: "invalid-event-name".into(),
            reason: None,
            details: None,
            plain: false,
        });
    }
    let allowed = match stream {
        "stream-room-messages" => {
            // `__my_messages__` is readable by anyone (emission filters per room);
            // a room id needs a user who can read that room.
            event == "__my_messages__" || user.is_some_and(|u| store.can_access(event, u))
        }
        "stream-notify-user" => {
            user.is_some_and(|u| event.split_once('/').is_some_and(|(uid, _)| uid == u))
        }
        "stream-notify-room" => user.is_some_and(|u| {
            event
                .split_once('/')
                .is_some_and(|(rid, _)| store.can_access(rid, u))
        }),
        "stream-notify-logged" | "stream-user-presence" => user.is_some(),
        _ => true,
    };
    if allowed {
        Ok(())
    } else {
        Err(not_allowed())
    }
}

/// What a connection needs to turn bus events into frames.
pub struct Viewer<'a> {
    /// The store, for access checks.
    pub store: &'a Store,
    /// This connection's id (its own stream writes are not echoed).
    pub connection: u64,
    /// The logged-in user id.
    pub user: Option<&'a str>,
    /// Message ids already announced by a `notification` event on this connection.
    pub notified: &'a mut HashSet<String>,
}

/// A stream event frame: `changed` on `stream-<name>` with the literal document id `"id"`.
pub fn changed(collection: &str, event: &str, args: Vec<Value>) -> Value {
    json!({
        "msg": "changed",
        "collection": collection,
        "id": "id",
        "fields": {"eventName": event, "args": args},
    })
}

/// The frames one bus event produces for a connection's subscriptions, in emission order.
pub fn frames_for(event: &BusEvent, subs: &[Sub], v: &mut Viewer<'_>) -> Vec<Value> {
    let mut out = Vec::new();
    match event {
        BusEvent::RoomMessage {
            message,
            room_type,
            room_name,
        } => {
            let rid = message["rid"].as_str().unwrap_or_default();
            // Rocket.Chat emits `__my_messages__` first, then the per-room event.
            if let Some(uid) = v.user {
                let mine: Vec<&Sub> = subs
                    .iter()
                    .filter(|s| s.name == "stream-room-messages" && s.event == "__my_messages__")
                    .collect();
                let on_mine = room_type == "c" || v.store.settings.my_messages_private_rooms;
                if !mine.is_empty() && on_mine && v.store.can_access(rid, uid) {
                    let mut meta = json!({
                        "roomParticipant": v.store.is_member(rid, uid),
                        "roomType": room_type,
                    });
                    if let Some(name) = room_name.as_ref().filter(|_| room_type != "d") {
                        meta["roomName"] = json!(name);
                    }
                    for _ in mine {
                        out.push(changed(
                            "stream-room-messages",
                            "__my_messages__",
                            vec![(**message).clone(), meta.clone()],
                        ));
                    }
                }
                for s in subs
                    .iter()
                    .filter(|s| s.name == "stream-room-messages" && s.event == rid)
                {
                    // A user removed from the room is silently detached (no nosub).
                    if v.store.can_access(rid, uid) {
                        out.push(changed(&s.name, rid, vec![(**message).clone()]));
                    }
                }
                let notify_event = format!("{uid}/notification");
                let wants = subs
                    .iter()
                    .any(|s| s.name == "stream-notify-user" && s.event == notify_event);
                if wants {
                    if let Some(n) = notification(v, uid, message, room_type, room_name.as_deref())
                    {
                        for _ in subs
                            .iter()
                            .filter(|s| s.name == "stream-notify-user" && s.event == notify_event)
                        {
                            out.push(changed(
                                "stream-notify-user",
                                &notify_event,
                                vec![n.clone()],
                            ));
                        }
                    }
                }
            }
        }
        BusEvent::NotifyRoom {
            event,
            args,
            origin,
        } => {
            if *origin == Some(v.connection) {
                return out;
            }
            let Some(uid) = v.user else { return out };
            let rid = event.split_once('/').map(|(r, _)| r).unwrap_or_default();
            for s in subs
                .iter()
                .filter(|s| s.name == "stream-notify-room" && &s.event == event)
            {
                if v.store.can_access(rid, uid) {
                    out.push(changed(&s.name, event, args.clone()));
                }
            }
        }
        BusEvent::NotifyUser { event, args } => {
            let Some(uid) = v.user else { return out };
            if event.split_once('/').is_none_or(|(u, _)| u != uid) {
                return out;
            }
            for s in subs
                .iter()
                .filter(|s| s.name == "stream-notify-user" && &s.event == event)
            {
                out.push(changed(&s.name, event, args.clone()));
            }
        }
        BusEvent::DropSockets
        | BusEvent::MalformedFrame(_)
        | BusEvent::TokensRevoked { .. }
        | BusEvent::Replay(_) => {}
    }
    out
}

/// The desktop-notification payload (`<uid>/notification`, §2.3) for a new message that
/// mentions the user or is a DM to them; `None` for anything else. The store publishes every
/// change of a message as a delivery, so only the first sight of a fresh, unedited message
/// counts.
fn notification(
    v: &mut Viewer<'_>,
    uid: &str,
    message: &Value,
    room_type: &str,
    room_name: Option<&str>,
) -> Option<Value> {
    let id = message["_id"].as_str()?;
    let rid = message["rid"].as_str()?;
    let fresh = message["ts"] == message["_updatedAt"]
        && message.get("editedAt").is_none()
        && message.get("t").is_none();
    if !fresh || message["u"]["_id"] == uid || !v.store.is_member(rid, uid) {
        return None;
    }
    let mentioned = message["mentions"].as_array().is_some_and(|m| {
        m.iter()
            .any(|m| m["_id"] == uid || m["_id"] == "all" || m["_id"] == "here")
    });
    if !(room_type == "d" || mentioned) || !v.notified.insert(id.to_owned()) {
        return None;
    }
    let sender = &message["u"];
    let username = sender["username"].as_str().unwrap_or_default();
    let text = plain_text(message["msg"].as_str().unwrap_or_default());
    let (title, text) = if room_type == "d" {
        (format!("@{username}"), text)
    } else {
        (
            format!("#{}", room_name.unwrap_or_default()),
            format!("{username}: {text}"),
        )
    };
    let mut payload = json!({
        "_id": id,
        "rid": rid,
        "sender": sender,
        "type": room_type,
        "message": {"msg": message["msg"]},
    });
    if let Some(tmid) = message.get("tmid") {
        payload["tmid"] = tmid.clone();
    }
    if room_type != "d" {
        if let Some(name) = room_name {
            payload["name"] = json!(name);
        }
    }
    Some(json!({"title": title, "text": text, "payload": payload}))
}

/// Notification text: the markdown emphasis markers removed, as the desktop text shows it.
fn plain_text(msg: &str) -> String {
    msg.replace("**", "").replace(['*', '~', '`'], "")
}
