//! What the account knows about its rooms (type, name, membership), so that inbound
//! messages can be described without a REST lookup on the hot path (a weak spot of the
//! original plugin). Filled from `subscriptions.get` at start and kept current from the
//! `subscriptions-changed` / `rooms-changed` streams.

use std::collections::HashMap;

use serde_json::Value;

use crate::event::RoomType;
use crate::inbound::RoomMeta;

/// Rooms by id.
#[derive(Debug, Default)]
pub struct RoomDirectory {
    rooms: HashMap<String, RoomMeta>,
}

impl RoomDirectory {
    /// Record the rooms of a `subscriptions.get` answer (the bot is a member of each).
    pub fn load_subscriptions(&mut self, subscriptions: &[Value]) {
        for s in subscriptions {
            self.apply_subscription("inserted", s);
        }
    }

    /// Apply a `subscriptions-changed` event: `inserted`/`updated` add, `removed` forgets.
    /// Returns the room id when a room was added.
    pub fn apply_subscription(&mut self, action: &str, sub: &Value) -> Option<String> {
        let rid = sub.get("rid").and_then(Value::as_str)?;
        if action == "removed" {
            if let Some(room) = self.rooms.get_mut(rid) {
                room.participant = false;
            }
            return None;
        }
        let t = sub.get("t").and_then(Value::as_str).unwrap_or("c");
        let room_type = RoomType::from_code(t);
        // A DM subscription's `name` is the other user's name, not the room's.
        let name = (!room_type.is_direct())
            .then(|| sub.get("name").and_then(Value::as_str).map(str::to_owned))
            .flatten();
        let added = !self.rooms.get(rid).is_some_and(|r| r.participant);
        self.rooms.insert(
            rid.to_owned(),
            RoomMeta {
                room_type,
                room_name: name,
                participant: true,
            },
        );
        added.then(|| rid.to_owned())
    }

    /// Record a room of the bot from its room document (`rooms.get`: `_id`, `t`, `name`),
    /// keeping what is known about it. Returns the id of a private group or DM that was not
    /// known as joined, so that the caller can watch it.
    pub fn apply_room_document(&mut self, room: &Value) -> Option<String> {
        let rid = room.get("_id").and_then(Value::as_str)?;
        if self.rooms.get(rid).is_some_and(|r| r.participant) {
            return None;
        }
        let t = room.get("t").and_then(Value::as_str).unwrap_or("c");
        let room_type = RoomType::from_code(t);
        let name = (!room_type.is_direct())
            .then(|| room.get("name").and_then(Value::as_str).map(str::to_owned))
            .flatten();
        self.rooms.insert(
            rid.to_owned(),
            RoomMeta {
                room_type,
                room_name: name,
                participant: true,
            },
        );
        matches!(room_type, RoomType::Private | RoomType::Direct).then(|| rid.to_owned())
    }

    /// Apply a `rooms-changed` event (room renamed, removed).
    pub fn apply_room(&mut self, action: &str, room: &Value) {
        let Some(rid) = room.get("_id").and_then(Value::as_str) else {
            return;
        };
        if action == "removed" {
            if let Some(meta) = self.rooms.get_mut(rid) {
                meta.participant = false;
            }
            return;
        }
        if let Some(meta) = self.rooms.get_mut(rid) {
            if let Some(t) = room.get("t").and_then(Value::as_str) {
                meta.room_type = RoomType::from_code(t);
            }
            if let Some(name) = room.get("name").and_then(Value::as_str) {
                meta.room_name = Some(name.to_owned());
            }
        }
    }

    /// Remember a room described by a stream event's meta.
    pub fn remember(&mut self, rid: &str, meta: RoomMeta) {
        // Nearly every live message repeats what is known: no new key, no write.
        match self.rooms.get_mut(rid) {
            Some(known) if *known == meta => {}
            Some(known) => *known = meta,
            None => {
                self.rooms.insert(rid.to_owned(), meta);
            }
        }
    }

    /// A room's facts, if known.
    pub fn get(&self, rid: &str) -> Option<&RoomMeta> {
        self.rooms.get(rid)
    }

    /// Rooms the bot is a member of.
    pub fn joined(&self) -> impl Iterator<Item = (&str, &RoomMeta)> {
        self.rooms
            .iter()
            .filter(|(_, m)| m.participant)
            .map(|(id, m)| (id.as_str(), m))
    }

    /// Private groups and DMs the bot is in: the rooms that also get a per-room stream
    /// subscription, since older servers missed them on `__my_messages__`.
    pub fn private_rooms(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .joined()
            .filter(|(_, m)| matches!(m.room_type, RoomType::Private | RoomType::Direct))
            .map(|(id, _)| id.to_owned())
            .collect();
        ids.sort();
        ids
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tracks_membership_and_names() {
        let mut d = RoomDirectory::default();
        d.load_subscriptions(&[
            json!({"rid": "GENERAL", "t": "c", "name": "general"}),
            json!({"rid": "g1", "t": "p", "name": "ops"}),
            json!({"rid": "ab", "t": "d", "name": "alice"}),
        ]);
        assert_eq!(
            d.get("ab").unwrap().room_name,
            None,
            "a DM has no room name"
        );
        assert_eq!(d.private_rooms(), ["ab", "g1"]);
        assert_eq!(
            d.apply_subscription("inserted", &json!({"rid": "new", "t": "p", "name": "x"})),
            Some("new".into())
        );
        d.apply_subscription("removed", &json!({"rid": "g1"}));
        assert!(!d.get("g1").unwrap().participant);
        d.apply_room("updated", &json!({"_id": "GENERAL", "name": "lobby"}));
        assert_eq!(
            d.apply_room_document(&json!({"_id": "dm2", "t": "d", "usernames": ["a", "b"]})),
            Some("dm2".into()),
            "a DM joined while away is learned"
        );
        assert_eq!(d.get("dm2").unwrap().room_type, RoomType::Direct);
        assert_eq!(
            d.apply_room_document(&json!({"_id": "ab", "t": "d"})),
            None,
            "known rooms are kept"
        );
        assert_eq!(
            d.get("GENERAL").unwrap().room_name.as_deref(),
            Some("lobby")
        );
    }
}
