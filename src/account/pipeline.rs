//! The inbound pipeline of one account: every message from the realtime streams or the
//! catch-up passes here once, in order: de-duplicate, describe the room, filter (own, system,
//! rooms the bot has not joined), normalise, apply the access rules ([`Gate`]), and hand to
//! the host.
//!
//! Messages go to the event queue with [`EventQueue::push_wait`]: a slow host slows this
//! pipeline down rather than losing anything. Drops are counted by reason in the status and
//! (except plain duplicates, which are the normal double delivery) reported as `dropped` events.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::ddp::stream::RawMessage;
use crate::event::{now_ms, DropReason, Event, MessageSource, RoomType, Trigger};
use crate::event_queue::EventQueue;
use crate::inbound::dedupe::{Dedupe, Seen};
use crate::inbound::gate::{Decision, Gate};
use crate::inbound::{normalize_message, parse_date_ms, NormalizeContext, RoomMeta};

use super::catchup::RecentRooms;
use super::rooms::RoomDirectory;
use super::status::AccountStatus;

/// The bot's identity on its server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// User id.
    pub user_id: String,
    /// Username.
    pub username: String,
}

/// Per-account inbound state.
pub struct Inbound {
    account_id: String,
    bot: Identity,
    mention_all: bool,
    dedupe: Dedupe,
    /// Room facts, shared with the supervisor that keeps them current.
    pub rooms: RoomDirectory,
    /// Newest server `ts` seen on any message (epoch ms): where a catch-up starts.
    pub watermark_ms: Option<i64>,
    /// Rooms with recent deliveries: where a catch-up looks for edits.
    pub recent_rooms: RecentRooms,
    queue: Arc<EventQueue>,
    status: Arc<Mutex<AccountStatus>>,
    /// The access rules, shared with the account handle (pairing approvals at run time, and
    /// the conversation window the bot's own replies extend).
    gate: Arc<Mutex<Gate>>,
}

impl Inbound {
    /// A pipeline for an account whose identity is known.
    pub fn new(
        account_id: &str,
        bot: Identity,
        mention_all: bool,
        queue: Arc<EventQueue>,
        status: Arc<Mutex<AccountStatus>>,
        gate: Arc<Mutex<Gate>>,
    ) -> Self {
        Inbound {
            gate,
            account_id: account_id.to_owned(),
            bot,
            mention_all,
            dedupe: Dedupe::default(),
            rooms: RoomDirectory::default(),
            watermark_ms: None,
            recent_rooms: RecentRooms::default(),
            queue,
            status,
        }
    }

    /// Whether a message with this id passed here recently (delivered or not).
    pub fn has_seen(&self, id: &str) -> bool {
        self.dedupe.contains(id)
    }

    fn status(&self) -> std::sync::MutexGuard<'_, AccountStatus> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn drop_message(&self, rid: &str, id: &str, reason: DropReason) {
        self.status().count_drop(reason);
        if reason != DropReason::Duplicate {
            self.queue.push(
                Some(&self.account_id),
                Event::Dropped {
                    room_id: rid.to_owned(),
                    message_id: id.to_owned(),
                    reason,
                },
            );
        }
    }

    /// Process one message from a realtime stream, still JSON text: the few fields that
    /// de-duplication needs are read first, so a repeat (most deliveries: the overlapping
    /// subscriptions, reactions, previews) is dropped without parsing the rest.
    pub async fn handle_raw(
        &mut self,
        raw: &RawMessage,
        stream_meta: Option<RoomMeta>,
        source: MessageSource,
    ) {
        let Ok(head) = serde_json::from_str::<MessageHead<'_>>(raw.json()) else {
            // Missing or odd fields (or duplicate keys): the general path has the answer.
            return self.handle(&raw.to_value(), stream_meta, source).await;
        };
        let ts = head.ts.and_then(raw_date_ms);
        let edited_at = head.edited_at.and_then(raw_date_ms);
        let Some(seen) = self.admit(&head.id, &head.rid, ts, edited_at) else {
            return;
        };
        let doc = match read_message(raw.json()) {
            Ok(doc) => doc,
            Err(_) => raw.to_value(),
        };
        self.process(&doc, &head.id, &head.rid, seen, stream_meta, source)
            .await;
    }

    /// Process one delivered message document (DDP or REST form). `stream_meta` is the
    /// `__my_messages__` meta when the message came that way.
    pub async fn handle(
        &mut self,
        raw: &Value,
        stream_meta: Option<RoomMeta>,
        source: MessageSource,
    ) {
        let (Some(id), Some(rid)) = (
            raw.get("_id").and_then(Value::as_str),
            raw.get("rid").and_then(Value::as_str),
        ) else {
            self.drop_message("", "", DropReason::Malformed);
            return;
        };
        let ts = raw.get("ts").and_then(parse_date_ms);
        let edited_at = raw.get("editedAt").and_then(parse_date_ms);
        let Some(seen) = self.admit(id, rid, ts, edited_at) else {
            return;
        };
        self.process(raw, id, rid, seen, stream_meta, source).await;
    }

    /// Advance the watermark and de-duplicate; `None` when the message is a repeat (counted
    /// and dropped here).
    fn admit(
        &mut self,
        id: &str,
        rid: &str,
        ts: Option<u64>,
        edited_at: Option<u64>,
    ) -> Option<Seen> {
        if let Some(ts) = ts.map(|v| v as i64) {
            self.watermark_ms = Some(self.watermark_ms.map_or(ts, |w| w.max(ts)));
        }
        let seen = self.dedupe.observe(id, edited_at);
        if seen == Seen::Repeat {
            self.drop_message(rid, id, DropReason::Duplicate);
            return None;
        }
        Some(seen)
    }

    /// Everything after de-duplication: filter, normalise, gate, deliver.
    async fn process(
        &mut self,
        raw: &Value,
        id: &str,
        rid: &str,
        seen: Seen,
        stream_meta: Option<RoomMeta>,
        source: MessageSource,
    ) {
        if raw.pointer("/u/_id").and_then(Value::as_str) == Some(self.bot.user_id.as_str()) {
            self.drop_message(rid, id, DropReason::Own);
            return;
        }
        if raw
            .get("t")
            .and_then(Value::as_str)
            .is_some_and(|t| !t.is_empty())
        {
            self.drop_message(rid, id, DropReason::System);
            return;
        }
        let room = match stream_meta {
            Some(meta) => {
                // Keep what the stream says about rooms we are in; never let a non-member
                // delivery overwrite a membership we know of.
                if meta.participant || self.rooms.get(rid).is_none() {
                    self.rooms.remember(rid, meta.clone());
                }
                meta
            }
            None => self.rooms.get(rid).cloned().unwrap_or(RoomMeta {
                // Delivered on a per-room stream we subscribed to: we are in it.
                room_type: RoomType::Channel,
                room_name: None,
                participant: true,
            }),
        };
        if !room.participant {
            self.drop_message(rid, id, DropReason::NotParticipant);
            return;
        }
        let ctx = NormalizeContext {
            account_id: &self.account_id,
            bot_user_id: &self.bot.user_id,
            bot_username: &self.bot.username,
            room,
            source,
            mention_all: self.mention_all,
        };
        let message = match normalize_message(raw, &ctx) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(account = %self.account_id, message_id = id, "unreadable message: {e}");
                self.drop_message(rid, id, DropReason::Malformed);
                return;
            }
        };
        let decision = self
            .gate
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .decide(&message, now_ms());
        let mut message = message;
        match decision {
            Decision::Deliver {
                text,
                was_mentioned,
                reason,
                control_command,
                command_authorized,
            } => {
                message.trigger = Some(Trigger {
                    reason: reason.as_str().to_owned(),
                    body: text,
                    was_mentioned,
                    control_command,
                    command_authorized,
                });
            }
            Decision::Drop(reason) => {
                self.drop_message(rid, id, reason);
                return;
            }
            Decision::Pair { .. } => {
                // An edit never asks again; the first message already did.
                if seen != Seen::Edited {
                    if let Some(event) = decision.report(&message) {
                        self.status().pairing_requests += 1;
                        self.queue.push_wait(Some(&self.account_id), event).await;
                        return;
                    }
                }
                self.drop_message(rid, id, DropReason::NotAllowed);
                return;
            }
        }
        let event = if seen == Seen::Edited {
            self.status().edits += 1;
            Event::MessageEdited { message }
        } else {
            let mut st = self.status();
            st.delivered += 1;
            if source == MessageSource::CatchUp {
                st.caught_up += 1;
            }
            st.last_inbound_at = Some(now_ms());
            drop(st);
            Event::Message { message }
        };
        self.recent_rooms.touch(rid);
        self.queue.push_wait(Some(&self.account_id), event).await;
    }
}

/// What de-duplication reads of a message, borrowed from its JSON text.
#[derive(Deserialize)]
struct MessageHead<'a> {
    #[serde(borrow, rename = "_id")]
    id: Cow<'a, str>,
    #[serde(borrow)]
    rid: Cow<'a, str>,
    #[serde(borrow, default)]
    ts: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "editedAt")]
    edited_at: Option<&'a RawValue>,
}

/// A date field of [`MessageHead`], read as [`parse_date_ms`] reads it.
fn raw_date_ms(raw: &RawValue) -> Option<u64> {
    parse_date_ms(&serde_json::from_str(raw.get()).ok()?)
}

/// Every top-level key of a message that [`Inbound::process`] and [`normalize_message`] read.
/// Keep in step with them: a key missing here reads as absent.
const READ_KEYS: [&str; 13] = [
    "_id",
    "rid",
    "u",
    "t",
    "msg",
    "ts",
    "editedAt",
    "tmid",
    "tshow",
    "mentions",
    "files",
    "file",
    "attachments",
];

/// Parse a message into a JSON tree of the keys in [`READ_KEYS`] only; the rest (`md`,
/// `urls`, `reactions`, `_updatedAt`, ...) is skipped instead of being built and dropped.
/// For a later duplicate key the last one wins, as in a full parse.
fn read_message(json: &str) -> serde_json::Result<Value> {
    struct Sparse;
    impl<'de> Visitor<'de> for Sparse {
        type Value = Map<String, Value>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a message object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Map::new();
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                if READ_KEYS.contains(&key.as_ref()) {
                    out.insert(key.into_owned(), map.next_value()?);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_str(json);
    let map = de.deserialize_map(Sparse)?;
    de.end()?;
    Ok(Value::Object(map))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::inbound::NormalizeError;

    fn normalized(raw: &Value) -> Result<crate::event::InboundMessage, NormalizeError> {
        let ctx = NormalizeContext {
            account_id: "default",
            bot_user_id: "Bq7dYg4KxWnZcT3rA",
            bot_username: "mybot",
            room: RoomMeta {
                room_type: RoomType::Channel,
                room_name: Some("general".into()),
                participant: true,
            },
            source: MessageSource::Live,
            mention_all: true,
        };
        normalize_message(raw, &ctx)
    }

    #[test]
    fn sparse_read_normalizes_like_the_whole_message() {
        let v: Value =
            serde_json::from_str(include_str!("../../tests/fixtures/rocketchat-vectors.json"))
                .unwrap();
        let mut messages: Vec<Value> = ["messages_ddp", "messages_rest"]
            .iter()
            .flat_map(|k| v[k].as_object().unwrap().values().cloned())
            .collect();
        messages.extend([
            // Wrong types are read (and refused) the same way.
            json!({"_id": "a", "rid": "R", "ts": {"$date": 1}, "u": {"_id": "u", "username": "x"}, "tshow": "yes"}),
            json!({"_id": "a", "rid": "R", "ts": "not a date", "u": {"_id": "u", "username": "x"}}),
            json!({"_id": "a", "rid": "R", "ts": 5, "u": "x", "md": [{"type": "PARAGRAPH"}]}),
            json!({"_id": "a", "rid": "R", "ts": 5, "u": {"_id": "u", "username": "x"},
                "msg": "@all hi", "file": {"_id": "f", "name": "n"}, "attachments": [{"fileId": "f"}]}),
        ]);
        assert!(messages.len() > 20);
        for m in &messages {
            let sparse = read_message(&m.to_string()).expect("an object");
            assert_eq!(normalized(&sparse), normalized(m), "{m}");
        }
        // Every key kept is one the pipeline reads; the rest is skipped.
        let sparse = read_message(r#"{"_id":"a","md":[1],"urls":[],"_updatedAt":{"$date":1}}"#);
        assert_eq!(sparse.unwrap(), json!({"_id": "a"}));
    }

    #[test]
    fn sparse_read_keeps_the_last_of_duplicate_keys() {
        let text = r#"{"_id":"a","msg":"first","md":{"x":[1,2]},"msg":"second"}"#;
        let sparse = read_message(text).unwrap();
        let whole: Value = serde_json::from_str(text).unwrap();
        assert_eq!(sparse["msg"], whole["msg"]);
        assert!(read_message("[1]").is_err());
    }

    #[test]
    fn head_dates_read_as_parse_date_ms() {
        for date in [
            json!({"$date": 1_700_000_000_000_u64}),
            json!("2023-11-14T22:13:20.000Z"),
            json!(1_700_000_000_000.5),
            json!(-5),
            json!("soon"),
            json!({"$date": {"$date": 7}}),
            json!(null),
        ] {
            let raw = serde_json::value::to_raw_value(&date).unwrap();
            assert_eq!(raw_date_ms(&raw), parse_date_ms(&date), "{date}");
        }
    }
}
