//! Rocket.Chat stream events, decoded from DDP `changed` frames on `stream-*` collections.
//!
//! Every stream event arrives as `{"msg":"changed","collection":"stream-<name>","id":"id",
//! "fields":{"eventName":..,"args":[..]}}`. This module turns the ones a bot needs into
//! typed values and keeps everything else as [`StreamEvent::Other`] so nothing is lost.
//!
//! Room messages are nearly all the traffic: [`StreamEvent::from_text`] is their one reader,
//! straight from the frame's text without a `serde_json::Value` tree, and the message stays
//! JSON text ([`RawMessage`]) until the pipeline knows it is not a duplicate.

use std::fmt;
use std::ops::Range;

use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio_tungstenite::tungstenite::Utf8Bytes;

use super::frame::FrameError;
use crate::raw_json::{self, ArrayOr, Key, ObjectOr};

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
    /// The meta argument, still JSON text; `None` unless it is an object. Each member is read
    /// leniently: a wrong type reads as absent (`roomParticipant` as `false`).
    fn from_raw(raw: &RawValue) -> Option<Self> {
        let [participant, room_type, room_name] =
            raw_json::members(raw.get(), &["roomParticipant", "roomType", "roomName"])?;
        let string = |v: Option<&RawValue>| {
            v.and_then(|v| raw_json::string(v).ok())
                .map(|s| s.into_owned())
        };
        Some(RoomMeta {
            room_participant: participant.is_some_and(|v| v.get() == "true"),
            room_type: string(room_type),
            room_name: string(room_name),
        })
    }
}

/// A message object as the server sent it, still JSON text: each consumer parses as much of
/// it as it needs. It is a part of the frame it came in, which it shares instead of copying
/// (the frame's buffer is reference-counted).
#[derive(Clone)]
pub struct RawMessage {
    frame: Utf8Bytes,
    /// Where the message is in `frame` (char boundaries of its text).
    range: Range<usize>,
}

impl RawMessage {
    /// The message's JSON text.
    pub fn json(&self) -> &str {
        &self.frame.as_str()[self.range.clone()]
    }

    /// `part`, a slice of `frame`'s text (a member of the frame read from that text).
    fn within(frame: &Utf8Bytes, part: &str) -> Self {
        let start = part.as_ptr() as usize - frame.as_str().as_ptr() as usize;
        RawMessage {
            frame: frame.clone(),
            range: start..start + part.len(),
        }
    }

    /// The whole message as a JSON tree.
    pub fn to_value(&self) -> Value {
        // The text was validated as JSON when it was read; the fallback is unreachable.
        serde_json::from_str(self.json()).unwrap_or(Value::Null)
    }

    /// A message given as a JSON tree (frames that took the general parser, tests).
    pub fn from_value(value: &Value) -> Self {
        let text = value.to_string();
        let range = 0..text.len();
        RawMessage {
            frame: Utf8Bytes::from(text),
            range,
        }
    }
}

impl fmt::Debug for RawMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RawMessage").field(&self.json()).finish()
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
            // The one reader of room-message fields (frames from the socket take
            // [`StreamEvent::from_text`] and never get here).
            (ROOM_MESSAGES, _) => {
                let mut fields = Map::new();
                fields.insert("eventName".to_owned(), Value::String(event_name));
                fields.insert("args".to_owned(), Value::Array(args));
                let text = Utf8Bytes::from(Value::Object(fields).to_string());
                let fields = raw_json::read(text.as_str(), ObjectOr(FieldsVisitor))
                    .and_then(Result::ok)
                    .expect("a JSON object reads");
                return Self::room_message(fields, &text).map(Some);
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

/// A frame's members, read in one pass: `fields` and its `args` as they are reached, so the
/// message's text is scanned once before the pipeline reads it. `null` reads as absent.
#[derive(Default)]
struct FrameMembers<'a> {
    msg: Option<&'a RawValue>,
    collection: Option<&'a RawValue>,
    id: Option<&'a RawValue>,
    cleared: Option<&'a RawValue>,
    /// The `fields` object's members, or the JSON type it has instead.
    fields: Option<Result<FieldMembers<'a>, &'static str>>,
}

#[derive(Default)]
struct FieldMembers<'a> {
    event_name: Option<&'a RawValue>,
    /// The `args` array's elements, or the JSON type it has instead.
    args: Option<Result<Vec<&'a RawValue>, &'static str>>,
}

/// `null` reads as absent.
fn unless_null<T>(member: Result<T, &'static str>) -> Option<Result<T, &'static str>> {
    (!matches!(member, Err("null"))).then_some(member)
}

struct FrameVisitor;

impl<'de> Visitor<'de> for FrameVisitor {
    type Value = FrameMembers<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a DDP frame")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut frame = FrameMembers::default();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let slot = match &*key {
                "fields" => {
                    frame.fields = unless_null(map.next_value_seed(ObjectOr(FieldsVisitor))?);
                    continue;
                }
                "msg" => &mut frame.msg,
                "collection" => &mut frame.collection,
                "id" => &mut frame.id,
                "cleared" => &mut frame.cleared,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = raw_json::present(map.next_value()?);
        }
        Ok(frame)
    }
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = FieldMembers<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the fields of a stream event")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = FieldMembers::default();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match &*key {
                "eventName" => fields.event_name = raw_json::present(map.next_value()?),
                "args" => fields.args = unless_null(map.next_value_seed(ArrayOr)?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(fields)
    }
}

impl StreamEvent {
    /// The one reader of room-message frames, straight from the frame's text. `None` for every
    /// other frame (for [`ServerFrame::parse`](super::frame::ServerFrame::parse)); for a
    /// room-message frame, the event, or an error naming the field that is wrong.
    pub fn from_text(text: &str) -> Option<Result<Self, FrameError>> {
        Self::from_frame(&Utf8Bytes::from(text))
    }

    /// [`StreamEvent::from_text`] of a frame as the socket delivered it: the message it
    /// carries shares the frame's buffer.
    pub fn from_frame(whole: &Utf8Bytes) -> Option<Result<Self, FrameError>> {
        let text = whole.as_str();
        if !text.trim_start().starts_with('{') {
            return None;
        }
        let frame = raw_json::read(text, ObjectOr(FrameVisitor))?.ok()?;
        let is = |raw: Option<&RawValue>, want: &str| {
            raw.and_then(|r| raw_json::string(r).ok())
                .is_some_and(|s| s == want)
        };
        if !is(frame.msg, "changed") || !is(frame.collection, ROOM_MESSAGES) {
            return None;
        }
        Some(Self::room_message_frame(frame, whole))
    }

    /// A room-message frame's members, checked in the order the general parser checks them.
    fn room_message_frame(frame: FrameMembers<'_>, whole: &Utf8Bytes) -> Result<Self, FrameError> {
        match frame.id.map(raw_json::string) {
            None => {
                return Err(FrameError::MissingField {
                    msg: "changed".to_owned(),
                    field: "id",
                })
            }
            Some(Err(_)) => return Err(bad("id", "a string")),
            Some(Ok(_)) => {}
        }
        let fields = frame
            .fields
            .transpose()
            .map_err(|_| bad("fields", "an object"))?;
        if let Some(cleared) = frame.cleared {
            let names = raw_json::elements(cleared);
            if !names.is_some_and(|n| n.iter().all(|n| n.get().starts_with('"'))) {
                return Err(bad("cleared", "an array of strings"));
            }
        }
        Self::room_message(fields.unwrap_or_default(), whole)
    }

    /// The `fields` of a room-message event: `{"eventName":..,"args":[message, meta?]}`.
    fn room_message(fields: FieldMembers<'_>, whole: &Utf8Bytes) -> Result<Self, FrameError> {
        let event_name = match fields.event_name.map(raw_json::string) {
            None => {
                return Err(FrameError::MissingField {
                    msg: "changed".to_owned(),
                    field: "fields.eventName",
                })
            }
            Some(Err(_)) => return Err(bad("fields.eventName", "a string")),
            Some(Ok(name)) => name.into_owned(),
        };
        let args = fields
            .args
            .transpose()
            .map_err(|_| bad("fields.args", "an array"))?
            .unwrap_or_default();
        let not_a_message = || bad("fields.args[0]", "a message object");
        let mut message = *args.first().ok_or_else(not_a_message)?;
        // Servers ≈4.x/5.x wrapped the message in an extra array: `args: [[msg], meta]`.
        if let Some(inner) = raw_json::elements(message) {
            message = *inner.first().ok_or_else(not_a_message)?;
        }
        if !message.get().starts_with('{') {
            return Err(not_a_message());
        }
        Ok(StreamEvent::RoomMessage {
            event_name,
            message: RawMessage::within(whole, message.get()),
            meta: args.get(1).and_then(|raw| RoomMeta::from_raw(raw)),
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

    fn read(text: &str) -> StreamEvent {
        StreamEvent::from_text(text)
            .unwrap_or_else(|| panic!("not read as a room message: {text}"))
            .unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    fn frame(args: &str) -> String {
        format!(
            r#"{{"msg":"changed","collection":"stream-room-messages","id":"id","fields":{{"eventName":"__my_messages__","args":{args}}}}}"#
        )
    }

    #[test]
    fn room_message_frames_are_read_from_their_text() {
        let v: Value =
            serde_json::from_str(include_str!("testdata/vectors-ddp.json")).expect("json");
        let mut read_here = 0;
        for (name, vector) in v["ddp"]["stream_events"].as_object().expect("vectors") {
            let text = vector.to_string();
            if vector["collection"] != ROOM_MESSAGES {
                assert!(StreamEvent::from_text(&text).is_none(), "{name}");
                continue;
            }
            read_here += 1;
            let StreamEvent::RoomMessage {
                event_name,
                message,
                meta,
            } = read(&text)
            else {
                panic!("{name}")
            };
            let args = &vector["fields"]["args"];
            assert_eq!(event_name, vector["fields"]["eventName"], "{name}");
            // The message, unwrapped from the 4.x/5.x extra array, kept as it was sent.
            let sent = if args[0].is_array() {
                &args[0][0]
            } else {
                &args[0]
            };
            assert_eq!(&message.to_value(), sent, "{name}");
            assert_eq!(meta.is_some(), args[1].is_object(), "{name}");
        }
        assert!(read_here >= 10, "{read_here} room messages");
    }

    #[test]
    fn room_meta_is_read_leniently() {
        let meta = |json: &str| match read(&frame(&format!(r#"[{{"_id":"m"}},{json}]"#))) {
            StreamEvent::RoomMessage { meta, .. } => meta,
            other => panic!("{other:?}"),
        };
        let room = |participant, room_type: Option<&str>, room_name: Option<&str>| {
            Some(RoomMeta {
                room_participant: participant,
                room_type: room_type.map(str::to_owned),
                room_name: room_name.map(str::to_owned),
            })
        };
        assert_eq!(
            meta(r#"{"roomParticipant":true,"roomType":"p","roomName":"a\"b"}"#),
            room(true, Some("p"), Some("a\"b"))
        );
        // Wrong types read as absent; a repeated key keeps its last value, as a tree would.
        assert_eq!(
            meta(r#"{"roomParticipant":"yes","roomType":7,"roomName":null}"#),
            room(false, None, None)
        );
        assert_eq!(
            meta(r#"{"roomType":"c","roomType":"d"}"#),
            room(false, Some("d"), None)
        );
        assert_eq!(meta("{}"), room(false, None, None));
        assert_eq!(meta("[true]"), None);
        assert_eq!(meta(r#""c""#), None);
    }

    #[test]
    fn odd_room_message_frames_read_as_a_json_tree_would() {
        // A repeated key keeps its last value; `cleared` and escaped keys are allowed.
        for text in [
            r#"{"msg":"added","msg":"changed","collection":"stream-room-messages","id":"id","fields":{"eventName":"R","args":[{"_id":"m"}]}}"#,
            r#"{"msg":"changed","collection":"stream-room-messages","id":"id","cleared":["x"],"fields":{"eventName":"R","args":[{"_id":"m"}]}}"#,
            r#"{"msg":"changed","\u0063ollection":"stream-room-messages","id":"id","fields":{"args":[{"_id":"m"}],"eventName":"R"}}"#,
        ] {
            let StreamEvent::RoomMessage {
                event_name,
                message,
                ..
            } = read(text)
            else {
                panic!("{text}")
            };
            assert_eq!(
                (event_name.as_str(), message.json()),
                ("R", r#"{"_id":"m"}"#)
            );
        }
        // Other frames, and frames not readable at all, are the general parser's.
        for text in [
            r#"{"msg":"added","collection":"stream-room-messages","id":"id","fields":{"eventName":"R","args":[{"_id":"m"}]}}"#,
            r#"{"msg":"changed","collection":"stream-notify-room","id":"id","fields":{"eventName":"R/typing","args":[]}}"#,
            r#"{"msg":"changed","collection":"stream-room-messages","id":"id"#,
            r#"["changed"]"#,
        ] {
            assert!(StreamEvent::from_text(text).is_none(), "{text}");
        }
    }

    #[test]
    fn malformed_room_message_frames_name_the_field() {
        let wrong = |field, expected| FrameError::WrongType {
            msg: "changed".into(),
            field,
            expected,
        };
        let missing = |field| FrameError::MissingField {
            msg: "changed".into(),
            field,
        };
        let base = r#""msg":"changed","collection":"stream-room-messages""#;
        for (members, error) in [
            (
                r#""fields":{"eventName":"R","args":[{}]}"#.to_owned(),
                missing("id"),
            ),
            (
                r#""id":1,"fields":{"eventName":"R","args":[{}]}"#.to_owned(),
                wrong("id", "a string"),
            ),
            (
                r#""id":"id","fields":[]"#.to_owned(),
                wrong("fields", "an object"),
            ),
            (
                r#""id":"id","cleared":"x","fields":{"eventName":"R","args":[{}]}"#.to_owned(),
                wrong("cleared", "an array of strings"),
            ),
            (r#""id":"id""#.to_owned(), missing("fields.eventName")),
            (
                r#""id":"id","fields":{"eventName":1}"#.to_owned(),
                wrong("fields.eventName", "a string"),
            ),
            (
                r#""id":"id","fields":{"eventName":"R","args":{}}"#.to_owned(),
                wrong("fields.args", "an array"),
            ),
            (
                r#""id":"id","fields":{"eventName":"R"}"#.to_owned(),
                wrong("fields.args[0]", "a message object"),
            ),
            (
                r#""id":"id","fields":{"eventName":"R","args":["text"]}"#.to_owned(),
                wrong("fields.args[0]", "a message object"),
            ),
            (
                r#""id":"id","fields":{"eventName":"R","args":[[]]}"#.to_owned(),
                wrong("fields.args[0]", "a message object"),
            ),
            (
                r#""id":"id","fields":{"eventName":"R","args":[[7]]}"#.to_owned(),
                wrong("fields.args[0]", "a message object"),
            ),
        ] {
            let text = format!("{{{base},{members}}}");
            assert_eq!(StreamEvent::from_text(&text), Some(Err(error)), "{text}");
        }
    }

    #[test]
    fn changed_fields_of_room_messages_take_the_same_reader() {
        let fields = json!({"eventName": "GENERAL", "args": [[{"_id": "m"}], {"roomType": "c"}]});
        let event = StreamEvent::from_changed(ROOM_MESSAGES, fields.as_object().cloned().unwrap());
        let expected = read(&format!(
            r#"{{"msg":"changed","collection":"stream-room-messages","id":"id","fields":{fields}}}"#
        ));
        assert_eq!(event, Ok(Some(expected)));
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
