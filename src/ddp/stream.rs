//! Rocket.Chat stream events, decoded from DDP `changed` frames on `stream-*` collections.
//!
//! Every stream event arrives as `{"msg":"changed","collection":"stream-<name>","id":"id",
//! "fields":{"eventName":..,"args":[..]}}`. This module turns the ones a bot needs into
//! typed values and keeps everything else as [`StreamEvent::Other`] so nothing is lost.
//!
//! Room messages are most of the traffic, and a bot subscribed to `__my_messages__` and to a
//! room's own stream gets most of them twice: [`StreamEvent::from_text`] reads those frames
//! straight from the text without a `serde_json::Value` tree, and the message stays JSON text
//! ([`RawMessage`]) until the pipeline knows it is not a duplicate.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::frame::FrameError;

/// The room-message stream (per room, or all rooms with `__my_messages__`).
pub const ROOM_MESSAGES: &str = "stream-room-messages";
/// Per-user notifications (`<uid>/rooms-changed`, `<uid>/subscriptions-changed`, ...).
pub const NOTIFY_USER: &str = "stream-notify-user";
/// Per-room notifications (`<rid>/user-activity`, `<rid>/deleteMessage`, ...).
pub const NOTIFY_ROOM: &str = "stream-notify-room";
/// The event name of the all-my-rooms message stream.
pub const MY_MESSAGES: &str = "__my_messages__";

/// The second argument of a `__my_messages__` event: what the server knows about the room
/// for this subscriber.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoomMeta {
    /// True when the bot has a subscription to the room. `false` means a public channel the
    /// bot can read but has not joined: callers usually ignore those messages.
    pub room_participant: bool,
    /// `c`, `p`, `d` or `l`.
    pub room_type: Option<String>,
    /// The room name; absent for DMs.
    pub room_name: Option<String>,
}

impl RoomMeta {
    fn from_value(value: &Value) -> Self {
        RoomMeta {
            room_participant: value
                .get("roomParticipant")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            room_type: value
                .get("roomType")
                .and_then(Value::as_str)
                .map(str::to_owned),
            room_name: value
                .get("roomName")
                .and_then(Value::as_str)
                .map(str::to_owned),
        }
    }
}

/// [`RoomMeta`]'s fields in JSON text, each read as leniently as [`RoomMeta::from_value`] does.
#[derive(Deserialize)]
struct RawRoomMeta<'a> {
    #[serde(borrow, rename = "roomParticipant")]
    room_participant: Option<&'a RawValue>,
    #[serde(borrow, rename = "roomType")]
    room_type: Option<&'a RawValue>,
    #[serde(borrow, rename = "roomName")]
    room_name: Option<&'a RawValue>,
}

impl RoomMeta {
    /// [`RoomMeta::from_value`] of an argument still in JSON text (`None` unless an object),
    /// without building a tree.
    fn from_raw(raw: &RawValue) -> Option<Self> {
        if !raw.get().starts_with('{') {
            return None;
        }
        let Ok(meta) = serde_json::from_str::<RawRoomMeta<'_>>(raw.get()) else {
            // Duplicate keys: the tree keeps the last one.
            return serde_json::from_str::<Value>(raw.get())
                .ok()
                .map(|m| RoomMeta::from_value(&m));
        };
        let string = |v: Option<&RawValue>| {
            v.filter(|v| v.get().starts_with('"'))
                .and_then(|v| serde_json::from_str::<String>(v.get()).ok())
        };
        Some(RoomMeta {
            room_participant: meta.room_participant.is_some_and(|v| v.get() == "true"),
            room_type: string(meta.room_type),
            room_name: string(meta.room_name),
        })
    }
}

/// A message object as the server sent it, still JSON text: each consumer parses as much of
/// it as it needs.
#[derive(Clone, Debug)]
pub struct RawMessage(Box<RawValue>);

impl RawMessage {
    /// The message's JSON text.
    pub fn json(&self) -> &str {
        self.0.get()
    }

    /// The whole message as a JSON tree.
    pub fn to_value(&self) -> Value {
        // The text was validated as JSON when it was read; the fallback is unreachable.
        serde_json::from_str(self.json()).unwrap_or(Value::Null)
    }

    /// A message given as a JSON tree (frames that took the general parser, tests).
    pub fn from_value(value: &Value) -> Self {
        RawMessage(serde_json::value::to_raw_value(value).expect("a JSON tree serializes"))
    }
}

impl PartialEq for RawMessage {
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json()
    }
}

/// A decoded stream event.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamEvent {
    /// A message was created or updated (edit, reaction, thread counters, URL preview...).
    RoomMessage {
        /// `__my_messages__` or the room id of a per-room subscription.
        event_name: String,
        /// The message object in DDP form (EJSON dates).
        message: RawMessage,
        /// Present on `__my_messages__` events only.
        meta: Option<RoomMeta>,
    },
    /// `<uid>/rooms-changed`: `action` is `inserted`, `updated`, `removed` or `changed`.
    RoomsChanged {
        /// The user id the event was addressed to.
        user_id: String,
        /// What happened.
        action: String,
        /// The room object (`_id`, `t`, ...).
        room: Value,
    },
    /// `<uid>/subscriptions-changed`: `action` is `inserted`, `updated` or `removed`.
    SubscriptionsChanged {
        /// The user id the event was addressed to.
        user_id: String,
        /// What happened.
        action: String,
        /// The subscription object (`rid`, `t`, `name`, ...).
        subscription: Value,
    },
    /// `<rid>/user-activity` (and the legacy 6.x `<rid>/typing`, mapped onto it).
    UserActivity {
        /// Room id.
        rid: String,
        /// Who is active.
        username: String,
        /// `user-typing`, `user-recording`, `user-uploading`; empty = stopped.
        activities: Vec<String>,
        /// Thread root id when the activity is inside a thread.
        tmid: Option<String>,
    },
    /// `<rid>/deleteMessage`: a message was hard-deleted.
    MessageDeleted {
        /// Room id.
        rid: String,
        /// The deleted message id.
        id: String,
    },
    /// Any other stream event, kept verbatim.
    Other {
        /// The collection, e.g. `stream-notify-user`.
        collection: String,
        /// The event name.
        event_name: String,
        /// The event arguments.
        args: Vec<Value>,
    },
}

fn bad(field: &'static str, expected: &'static str) -> FrameError {
    FrameError::WrongType {
        msg: "changed".to_owned(),
        field,
        expected,
    }
}

impl StreamEvent {
    /// Decode the fields of a `changed` frame on a stream collection. Returns `Ok(None)` for
    /// collections that are not streams (`stream-*`).
    pub fn from_changed(
        collection: &str,
        mut fields: Map<String, Value>,
    ) -> Result<Option<Self>, FrameError> {
        if !collection.starts_with("stream-") {
            return Ok(None);
        }
        let event_name = match fields.remove("eventName") {
            Some(Value::String(s)) => s,
            Some(_) => return Err(bad("fields.eventName", "a string")),
            None => {
                return Err(FrameError::MissingField {
                    msg: "changed".to_owned(),
                    field: "fields.eventName",
                })
            }
        };
        let mut args = match fields.remove("args") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a,
            Some(_) => return Err(bad("fields.args", "an array")),
        };
        let (prefix, suffix) = match event_name.rsplit_once('/') {
            Some((p, s)) => (p.to_owned(), s),
            None => (String::new(), ""),
        };
        let event = match (collection, suffix) {
            (ROOM_MESSAGES, _) => {
                // Servers ≈4.x/5.x wrapped the message in an extra array: `args: [[msg], meta]`.
                let meta = args
                    .get(1)
                    .filter(|m| m.is_object())
                    .map(RoomMeta::from_value);
                let message = match args.first_mut().map(Value::take) {
                    Some(Value::Array(inner)) => inner.into_iter().next(),
                    other => other,
                };
                let message = match message {
                    Some(m @ Value::Object(_)) => m,
                    _ => return Err(bad("fields.args[0]", "a message object")),
                };
                StreamEvent::RoomMessage {
                    event_name,
                    message: RawMessage::from_value(&message),
                    meta,
                }
            }
            (NOTIFY_USER, "rooms-changed") | (NOTIFY_USER, "subscriptions-changed") => {
                let action = args
                    .first()
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("fields.args[0]", "an action string"))?
                    .to_owned();
                let doc = args.get_mut(1).map(Value::take).unwrap_or(Value::Null);
                if suffix == "rooms-changed" {
                    StreamEvent::RoomsChanged {
                        user_id: prefix,
                        action,
                        room: doc,
                    }
                } else {
                    StreamEvent::SubscriptionsChanged {
                        user_id: prefix,
                        action,
                        subscription: doc,
                    }
                }
            }
            (NOTIFY_ROOM, "user-activity") => {
                let username = args
                    .first()
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("fields.args[0]", "a username"))?
                    .to_owned();
                let activities = match args.get(1) {
                    Some(Value::Array(list)) => list
                        .iter()
                        .filter_map(|a| a.as_str().map(str::to_owned))
                        .collect(),
                    _ => return Err(bad("fields.args[1]", "an array of activities")),
                };
                let tmid = args
                    .get(2)
                    .and_then(|extra| extra.get("tmid"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                StreamEvent::UserActivity {
                    rid: prefix,
                    username,
                    activities,
                    tmid,
                }
            }
            // 6.x legacy `[username, bool]`; bridged onto user-activity so callers see one form.
            (NOTIFY_ROOM, "typing") => {
                let username = args
                    .first()
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("fields.args[0]", "a username"))?
                    .to_owned();
                let typing = args.get(1).and_then(Value::as_bool).unwrap_or(false);
                StreamEvent::UserActivity {
                    rid: prefix,
                    username,
                    activities: if typing {
                        vec!["user-typing".to_owned()]
                    } else {
                        Vec::new()
                    },
                    tmid: None,
                }
            }
            (NOTIFY_ROOM, "deleteMessage") => {
                let id = args
                    .first()
                    .and_then(|m| m.get("_id"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("fields.args[0]._id", "a message id"))?
                    .to_owned();
                StreamEvent::MessageDeleted { rid: prefix, id }
            }
            _ => StreamEvent::Other {
                collection: collection.to_owned(),
                event_name,
                args,
            },
        };
        Ok(Some(event))
    }
}

/// `{"msg":"changed","collection":"stream-room-messages","id":..,"fields":{..}}`, borrowed from
/// the frame's text. Every field the general parser requires is required here too.
#[derive(Deserialize)]
struct ChangedFrame<'a> {
    #[serde(borrow)]
    msg: Cow<'a, str>,
    #[serde(borrow)]
    collection: Cow<'a, str>,
    #[serde(borrow, rename = "id")]
    _id: Cow<'a, str>,
    #[serde(borrow)]
    fields: StreamFields<'a>,
    #[serde(borrow, default)]
    cleared: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct StreamFields<'a> {
    #[serde(borrow, rename = "eventName")]
    event_name: Cow<'a, str>,
    #[serde(borrow)]
    args: Vec<&'a RawValue>,
}

impl StreamEvent {
    /// Read a room-message frame straight from its text. `None` for every other frame and for
    /// anything unusual (duplicate keys, `cleared`, a malformed message): the general parser
    /// ([`ServerFrame::parse`](super::frame::ServerFrame::parse) then
    /// [`StreamEvent::from_changed`]) handles those, with its precise errors.
    pub fn from_text(text: &str) -> Option<Self> {
        let frame: ChangedFrame<'_> = serde_json::from_str(text).ok()?;
        if frame.msg != "changed" || frame.collection != ROOM_MESSAGES || frame.cleared.is_some() {
            return None;
        }
        let args = frame.fields.args;
        let mut message = *args.first()?;
        // Servers ≈4.x/5.x wrapped the message in an extra array: `args: [[msg], meta]`.
        if message.get().starts_with('[') {
            let inner: Vec<&RawValue> = serde_json::from_str(message.get()).ok()?;
            message = *inner.first()?;
        }
        if !message.get().starts_with('{') {
            return None;
        }
        let meta = args.get(1).and_then(|raw| RoomMeta::from_raw(raw));
        Some(StreamEvent::RoomMessage {
            event_name: frame.fields.event_name.into_owned(),
            message: RawMessage(message.to_owned()),
            meta,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ddp::frame::ServerFrame;
    use serde_json::json;

    fn stream_vector(name: &str) -> StreamEvent {
        let v: Value =
            serde_json::from_str(include_str!("testdata/vectors-ddp.json")).expect("json");
        let frame = ServerFrame::from_value(&v["ddp"]["stream_events"][name]).expect(name);
        let ServerFrame::Changed {
            collection, fields, ..
        } = frame
        else {
            panic!("{name} is not a changed frame")
        };
        StreamEvent::from_changed(&collection, fields)
            .expect(name)
            .expect(name)
    }

    #[test]
    fn my_messages_carries_meta() {
        let StreamEvent::RoomMessage {
            event_name,
            message,
            meta,
        } = stream_vector("room_message_my_messages_nonmember_public")
        else {
            panic!()
        };
        assert_eq!(event_name, MY_MESSAGES);
        assert_eq!(message.to_value()["_id"], "Np3Wq7cXz2TkRm9Lc");
        assert_eq!(
            meta,
            Some(RoomMeta {
                room_participant: false,
                room_type: Some("c".into()),
                room_name: Some("random".into()),
            })
        );
    }

    #[test]
    fn legacy_nested_args_and_per_room_form() {
        let StreamEvent::RoomMessage { message, meta, .. } =
            stream_vector("legacy_4x5x_nested_args")
        else {
            panic!()
        };
        assert_eq!(message.to_value()["_id"], "Kc9eBwdD4nh9nYZsJ");
        assert!(meta.expect("meta").room_participant);
        let StreamEvent::RoomMessage {
            event_name, meta, ..
        } = stream_vector("room_message_per_room")
        else {
            panic!()
        };
        assert_eq!(event_name, "GENERAL");
        assert_eq!(meta, None);
    }

    #[test]
    fn notify_user_and_room_events() {
        assert!(matches!(
            stream_vector("notify_user_rooms_changed"),
            StreamEvent::RoomsChanged { ref user_id, ref action, ref room }
                if user_id == "Bq7dYg4KxWnZcT3rA" && action == "inserted" && room["t"] == "d"
        ));
        assert!(matches!(
            stream_vector("notify_user_subscriptions_changed"),
            StreamEvent::SubscriptionsChanged { ref action, ref subscription, .. }
                if action == "inserted" && subscription["rid"] == "Bq7dYg4KxWnZcT3rAk9ZfTqW2mHs8PxLcE"
        ));
        assert_eq!(
            stream_vector("notify_room_user_activity_thread"),
            StreamEvent::UserActivity {
                rid: "GENERAL".into(),
                username: "alice".into(),
                activities: vec!["user-typing".into()],
                tmid: Some("Kc9eBwdD4nh9nYZsJ".into()),
            }
        );
        assert_eq!(
            stream_vector("notify_room_typing_legacy_6x"),
            StreamEvent::UserActivity {
                rid: "GENERAL".into(),
                username: "alice".into(),
                activities: vec!["user-typing".into()],
                tmid: None,
            }
        );
        assert_eq!(
            stream_vector("notify_room_delete_message"),
            StreamEvent::MessageDeleted {
                rid: "GENERAL".into(),
                id: "Kc9eBwdD4nh9nYZsJ".into()
            }
        );
        assert!(matches!(
            stream_vector("notify_user_notification"),
            StreamEvent::Other { .. }
        ));
    }

    /// The general path: frame tree, then [`StreamEvent::from_changed`].
    fn general(text: &str) -> Option<StreamEvent> {
        match ServerFrame::parse(text).ok()? {
            ServerFrame::Changed {
                collection, fields, ..
            } => StreamEvent::from_changed(&collection, fields).ok()?,
            _ => None,
        }
    }

    #[test]
    fn room_messages_read_from_text_as_the_general_parser_reads_them() {
        let v: Value =
            serde_json::from_str(include_str!("testdata/vectors-ddp.json")).expect("json");
        let mut fast = 0;
        for (name, frame) in v["ddp"]["stream_events"].as_object().expect("vectors") {
            let text = frame.to_string();
            match StreamEvent::from_text(&text) {
                Some(event) => {
                    fast += 1;
                    assert_eq!(Some(event), general(&text), "{name}");
                }
                None => assert!(
                    !matches!(general(&text), Some(StreamEvent::RoomMessage { .. })),
                    "{name} should take the fast path"
                ),
            }
        }
        assert!(fast >= 10, "{fast} room messages");
        // The meta argument, odd forms included, reads as the tree reads it.
        for meta in [
            r#"{"roomParticipant":true,"roomType":"p","roomName":"a\"b"}"#,
            r#"{"roomParticipant":"yes","roomType":7,"roomName":null}"#,
            r#"{"roomType":"c","roomType":"d"}"#,
            r#"{}"#,
            r#"[true]"#,
            r#""c""#,
        ] {
            let text = format!(
                r#"{{"msg":"changed","collection":"stream-room-messages","id":"id","fields":{{"eventName":"__my_messages__","args":[{{"_id":"m"}},{meta}]}}}}"#
            );
            let event = StreamEvent::from_text(&text);
            assert!(event.is_some(), "{meta}");
            assert_eq!(event, general(&text), "{meta}");
        }
        // Unusual frames are left to the general parser.
        for text in [
            r#"{"msg":"changed","collection":"stream-room-messages","id":"id","fields":{"eventName":"R","args":["text"]}}"#,
            r#"{"msg":"changed","collection":"stream-room-messages","id":"id","cleared":[],"fields":{"eventName":"R","args":[{"_id":"m"}]}}"#,
            r#"{"msg":"changed","msg":"changed","collection":"stream-room-messages","id":"id","fields":{"eventName":"R","args":[{"_id":"m"}]}}"#,
            r#"{"msg":"changed","collection":"stream-room-messages","fields":{"eventName":"R","args":[{"_id":"m"}]}}"#,
            r#"{"msg":"added","collection":"stream-room-messages","id":"id","fields":{"eventName":"R","args":[{"_id":"m"}]}}"#,
            r#"{"msg":"changed","collection":"stream-room-messages","id":"id","fields":{"eventName":"R","args":[[]]}}"#,
        ] {
            assert_eq!(StreamEvent::from_text(text), None, "{text}");
        }
    }

    #[test]
    fn bad_stream_fields_are_errors() {
        let f = |v: Value| v.as_object().cloned().expect("object");
        assert!(StreamEvent::from_changed(ROOM_MESSAGES, f(json!({"args": []}))).is_err());
        assert!(
            StreamEvent::from_changed(ROOM_MESSAGES, f(json!({"eventName": 1, "args": []})))
                .is_err()
        );
        assert!(StreamEvent::from_changed(
            ROOM_MESSAGES,
            f(json!({"eventName": "R", "args": ["text"]}))
        )
        .is_err());
        assert!(StreamEvent::from_changed(
            NOTIFY_ROOM,
            f(json!({"eventName": "R/user-activity", "args": [1]}))
        )
        .is_err());
        assert_eq!(
            StreamEvent::from_changed("users", f(json!({"name": "x"}))),
            Ok(None)
        );
    }
}
