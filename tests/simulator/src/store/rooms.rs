//! Rooms, membership and subscriptions.

use serde_json::{json, Value};

use super::{ApiError, BusEvent, NewMessage, Room, State, Store, Subscription, User};
use crate::ids::random_id;
use crate::time::{now_ms, DateForm};

impl Store {
    /// A room by id.
    pub fn room(&self, rid: &str) -> Option<Room> {
        self.lock().rooms.get(rid).cloned()
    }

    /// A room by name (or id), as `getRoomIdByNameOrId` and `#name` targets resolve.
    pub fn room_by_name_or_id(&self, name_or_id: &str) -> Option<Room> {
        let key = name_or_id.trim_start_matches('#');
        let st = self.lock();
        st.rooms
            .get(key)
            .or_else(|| st.rooms.values().find(|r| r.name.as_deref() == Some(key)))
            .cloned()
    }

    /// Whether the user can read the room: members always; public channels for anyone
    /// (`preview-c-room`, which role `user` has).
    pub fn can_access(&self, rid: &str, user_id: &str) -> bool {
        let st = self.lock();
        st.rooms
            .get(rid)
            .is_some_and(|r| r.t == "c" || r.members.contains(user_id))
    }

    /// Whether the user has a subscription to the room.
    pub fn is_member(&self, rid: &str, user_id: &str) -> bool {
        self.lock()
            .subscriptions
            .contains_key(&(user_id.to_owned(), rid.to_owned()))
    }

    /// The room document in a date form.
    pub fn room_document(&self, rid: &str, form: DateForm) -> Option<Value> {
        let st = self.lock();
        let room = st.rooms.get(rid)?;
        Some(room_doc(&st, room, form))
    }

    /// Rooms the user is subscribed to.
    pub fn rooms_of(&self, user_id: &str) -> Vec<Room> {
        let st = self.lock();
        let mut rooms: Vec<Room> = st
            .subscriptions
            .keys()
            .filter(|(uid, _)| uid == user_id)
            .filter_map(|(_, rid)| st.rooms.get(rid).cloned())
            .collect();
        rooms.sort_by(|a, b| a.id.cmp(&b.id));
        rooms
    }

    /// Room documents of the user's rooms, in a date form.
    pub fn room_documents_of(&self, user_id: &str, form: DateForm) -> Vec<Value> {
        let rooms = self.rooms_of(user_id);
        let st = self.lock();
        rooms.iter().map(|r| room_doc(&st, r, form)).collect()
    }

    /// The user's subscription documents, in a date form.
    pub fn subscriptions_of(&self, user_id: &str, form: DateForm) -> Vec<Value> {
        let st = self.lock();
        let mut subs: Vec<&Subscription> = st
            .subscriptions
            .iter()
            .filter(|((uid, _), _)| uid == user_id)
            .map(|(_, s)| s)
            .collect();
        subs.sort_by(|a, b| a.rid.cmp(&b.rid));
        let u = st
            .users
            .get(user_id)
            .map(User::brief)
            .unwrap_or(Value::Null);
        subs.iter().map(|s| s.document(&u, form)).collect()
    }

    /// One subscription document.
    pub fn subscription(&self, user_id: &str, rid: &str, form: DateForm) -> Option<Value> {
        let st = self.lock();
        let s = st
            .subscriptions
            .get(&(user_id.to_owned(), rid.to_owned()))?;
        let u = st
            .users
            .get(user_id)
            .map(User::brief)
            .unwrap_or(Value::Null);
        Some(s.document(&u, form))
    }

    /// Mark room `rid` read for `user_id` (`readMessages`): unread and mentions to 0 (so
    /// `alert` is false), last seen now; announced as `subscriptions-changed` `updated`.
    /// `error-invalid-subscription` when the user has no subscription there. The simulator
    /// keeps no per-thread unread marks, so `read_threads` changes nothing more.
    pub fn mark_read(&self, user_id: &str, rid: &str, _read_threads: bool) -> Result<(), ApiError> {
        let now = now_ms();
        let doc = {
            let mut st = self.lock();
            let u = st
                .users
                .get(user_id)
                .map(User::brief)
                .unwrap_or(Value::Null);
            let sub = st
                .subscriptions
                .get_mut(&(user_id.to_owned(), rid.to_owned()))
                .ok_or_else(|| {
                    ApiError::new("error-invalid-subscription", "Invalid subscription")
                        .with_details(json!({"method": "readMessages"}))
                })?;
            sub.unread = 0;
            sub.user_mentions = 0;
            sub.ls = now;
            sub.updated_at = now;
            sub.document(&u, DateForm::Ejson)
        };
        self.bus.publish(BusEvent::NotifyUser {
            event: format!("{user_id}/subscriptions-changed"),
            args: vec![json!("updated"), doc],
        });
        Ok(())
    }

    /// Open (or find) the DM between two users; DM id = the two ids sorted and joined.
    /// New rooms are announced on both users' `rooms-changed` / `subscriptions-changed`.
    pub fn create_direct_message(
        &self,
        from_id: &str,
        to_username: &str,
    ) -> Result<Room, ApiError> {
        let to = self.user_by_username(to_username).ok_or_else(|| {
            ApiError::new("error-invalid-user", "Invalid user")
                .with_details(json!({"method": "createDirectMessage"}))
        })?;
        let mut ids = [from_id.to_owned(), to.id.clone()];
        ids.sort();
        let rid = if ids[0] == ids[1] {
            ids[0].clone()
        } else {
            ids.concat()
        };
        if let Some(room) = self.room(&rid) {
            return Ok(room);
        }
        let now = now_ms();
        let room = Room {
            id: rid.clone(),
            t: "d".into(),
            name: None,
            members: ids.iter().cloned().collect(),
            read_only: false,
            topic: None,
            ts: now,
            updated_at: now,
            lm: None,
            msgs: 0,
        };
        Ok(self.open_room(room))
    }

    /// Create a channel or group (control API and tests).
    pub fn create_room(&self, t: &str, name: &str, member_ids: &[String]) -> Room {
        let now = now_ms();
        let room = Room {
            id: random_id(),
            t: t.into(),
            name: Some(name.into()),
            members: member_ids.iter().cloned().collect(),
            read_only: false,
            topic: None,
            ts: now,
            updated_at: now,
            lm: None,
            msgs: 0,
        };
        self.open_room(room)
    }

    /// Store a new room with a subscription per member, and tell each member's connections.
    fn open_room(&self, room: Room) -> Room {
        {
            let mut st = self.lock();
            st.rooms.insert(room.id.clone(), room.clone());
            for uid in &room.members {
                add_subscription(&mut st, &room.id, uid, room.ts);
            }
        }
        for uid in &room.members {
            self.announce_membership(&room.id, uid, "inserted");
        }
        room
    }

    /// Add a user to a room (join, or added by someone). Posts the `uj`/`au` system message.
    pub fn add_member(
        &self,
        rid: &str,
        user_id: &str,
        added_by: Option<&str>,
    ) -> Result<(), ApiError> {
        let now = now_ms();
        {
            let mut st = self.lock();
            let room = st
                .rooms
                .get_mut(rid)
                .ok_or_else(|| ApiError::new("error-invalid-room", "Invalid room"))?;
            if !room.members.insert(user_id.to_owned()) {
                return Ok(());
            }
            add_subscription(&mut st, rid, user_id, now);
        }
        self.announce_membership(rid, user_id, "inserted");
        let user = self
            .user(user_id)
            .ok_or_else(|| ApiError::new("error-invalid-user", "Invalid user"))?;
        let (author, t) = match added_by {
            Some(by) if by != user_id => (by.to_owned(), "au"),
            _ => (user_id.to_owned(), "uj"),
        };
        self.send_message(
            &author,
            NewMessage {
                rid: rid.into(),
                msg: user.username,
                t: Some(t.into()),
                ..Default::default()
            },
        )?;
        Ok(())
    }

    /// Remove a user from a room (leave). Posts the `ul` system message.
    pub fn remove_member(&self, rid: &str, user_id: &str) -> Result<(), ApiError> {
        let username = self.user(user_id).map(|u| u.username).unwrap_or_default();
        {
            let mut st = self.lock();
            let room = st
                .rooms
                .get_mut(rid)
                .ok_or_else(|| ApiError::new("error-invalid-room", "Invalid room"))?;
            if !room.members.remove(user_id) {
                return Ok(());
            }
            st.subscriptions
                .remove(&(user_id.to_owned(), rid.to_owned()));
        }
        self.bus.publish(BusEvent::NotifyUser {
            event: format!("{user_id}/subscriptions-changed"),
            args: vec![json!("removed"), json!({"_id": rid, "rid": rid})],
        });
        self.bus.publish(BusEvent::NotifyUser {
            event: format!("{user_id}/rooms-changed"),
            args: vec![json!("removed"), json!({"_id": rid})],
        });
        self.send_message(
            user_id,
            NewMessage {
                rid: rid.into(),
                msg: username,
                t: Some("ul".into()),
                ..Default::default()
            },
        )?;
        Ok(())
    }

    fn announce_membership(&self, rid: &str, user_id: &str, action: &str) {
        let (room, sub) = {
            let st = self.lock();
            let Some(room) = st.rooms.get(rid) else {
                return;
            };
            let room = room_doc(&st, room, DateForm::Ejson);
            let u = st
                .users
                .get(user_id)
                .map(User::brief)
                .unwrap_or(Value::Null);
            let sub = st
                .subscriptions
                .get(&(user_id.to_owned(), rid.to_owned()))
                .map(|s| s.document(&u, DateForm::Ejson));
            (room, sub)
        };
        if let Some(sub) = sub {
            self.bus.publish(BusEvent::NotifyUser {
                event: format!("{user_id}/subscriptions-changed"),
                args: vec![json!(action), sub],
            });
        }
        self.bus.publish(BusEvent::NotifyUser {
            event: format!("{user_id}/rooms-changed"),
            args: vec![json!(action), room],
        });
    }
}

pub(super) fn add_subscription(st: &mut State, rid: &str, uid: &str, ts: i64) {
    let Some(room) = st.rooms.get(rid) else {
        return;
    };
    let (name, fname) = if room.t == "d" {
        let other = room
            .members
            .iter()
            .find(|m| m.as_str() != uid)
            .or_else(|| room.members.iter().next())
            .and_then(|m| st.users.get(m));
        (
            other.map(|u| u.username.clone()).unwrap_or_default(),
            other.map(|u| u.name.clone()).unwrap_or_default(),
        )
    } else {
        let n = room.name.clone().unwrap_or_default();
        (n.clone(), n)
    };
    let t = room.t.clone();
    st.subscriptions.insert(
        (uid.to_owned(), rid.to_owned()),
        Subscription {
            id: random_id(),
            rid: rid.into(),
            t,
            uid: uid.into(),
            name,
            fname,
            ts,
            ls: ts,
            unread: 0,
            user_mentions: 0,
            updated_at: ts,
        },
    );
}

fn room_doc(st: &State, room: &Room, form: DateForm) -> Value {
    let mut usernames: Vec<String> = room
        .members
        .iter()
        .filter_map(|m| st.users.get(m).map(|u| u.username.clone()))
        .collect();
    usernames.sort();
    room.document(&usernames, form)
}
