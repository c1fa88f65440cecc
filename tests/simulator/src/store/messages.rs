//! Sending, editing, reacting to and deleting messages, and reading them back.

use std::sync::Arc;

use serde_json::{json, Value};

use super::{text, ApiError, BusEvent, NewMessage, Room, Store};
use crate::ids::random_id;
use crate::time::now_ms;

impl Store {
    /// Send a message as a user (REST `chat.sendMessage`/`postMessage`, DDP `sendMessage`,
    /// control API). Applies Rocket.Chat's rules, stores, broadcasts, and returns the stored
    /// document (EJSON dates).
    pub fn send_message(&self, user_id: &str, new: NewMessage) -> Result<Value, ApiError> {
        let user = self
            .user(user_id)
            .ok_or_else(|| ApiError::new("error-invalid-user", "Invalid user"))?;
        let room = self
            .room(&new.rid)
            .ok_or_else(|| ApiError::plain("error-not-allowed"))?;
        if new.t.is_none() {
            if room.t != "c" && !room.members.contains(user_id) {
                return Err(ApiError::plain("error-not-allowed"));
            }
            if room.read_only && !user.has_role("admin") {
                return Err(ApiError::plain("error-not-allowed"));
            }
            if new.msg.chars().count() > self.settings.message_max_allowed_size {
                return Err(ApiError::new(
                    "error-message-size-exceeded",
                    "Message size exceeds Message_MaxAllowedSize",
                )
                .with_details(json!({"method": "sendMessage"})));
            }
        }
        let mut st = self.lock();
        if let Some(id) = &new.id {
            if st.message_index.contains_key(id) {
                // Mongo's duplicate-key error surfaces as a plain error (§10: exact body unverified).
                return Err(ApiError::plain(&format!(
                    "E11000 duplicate key error collection: rocketchat.rocketchat_message index: _id_ dup key: {{ _id: \"{id}\" }}"
                )));
            }
        }
        // No nested threads: a tmid pointing at a reply is rewritten to its root.
        let tmid = match &new.tmid {
            Some(tmid) => {
                let parent = st
                    .message_index
                    .get(tmid)
                    .and_then(|&i| st.messages[i].as_ref())
                    .ok_or_else(|| ApiError::new("error-invalid-message", "Invalid thread"))?;
                Some(
                    parent
                        .get("tmid")
                        .and_then(Value::as_str)
                        .unwrap_or(tmid)
                        .to_owned(),
                )
            }
            None => None,
        };
        let ts = new.ts.unwrap_or_else(|| now_ms().max(st.last_ts + 1));
        st.last_ts = st.last_ts.max(ts);
        let id = new.id.clone().unwrap_or_else(random_id);
        let mut doc = json!({
            "_id": id,
            "rid": room.id,
            "msg": new.msg,
            "ts": {"$date": ts},
            "u": user.brief(),
            "_updatedAt": {"$date": ts},
        });
        let obj = doc.as_object_mut().expect("object");
        if let Some(t) = &new.t {
            obj.insert("t".into(), json!(t));
            obj.insert("groupable".into(), json!(false));
        } else {
            if let Some(tmid) = &tmid {
                obj.insert("tmid".into(), json!(tmid));
                obj.insert("tshow".into(), json!(new.tshow.unwrap_or(false)));
            }
            let names = text::mentioned_names(&new.msg);
            let mentions: Vec<Value> = names
                .iter()
                .filter_map(|n| match n.as_str() {
                    "all" | "here" => Some(json!({"_id": n, "username": n, "type": "user"})),
                    _ => st
                        .users
                        .values()
                        .find(|u| u.username.eq_ignore_ascii_case(n))
                        .map(|u| json!({"_id": u.id, "username": u.username, "name": u.name, "type": "user"})),
                })
                .collect();
            let channels: Vec<Value> = text::channel_names(&new.msg)
                .iter()
                .filter_map(|n| {
                    st.rooms
                        .values()
                        .find(|r| r.name.as_deref() == Some(n.as_str()))
                })
                .map(|r| json!({"_id": r.id, "name": r.name}))
                .collect();
            let known = |n: &str| {
                st.users
                    .values()
                    .any(|u| u.username.eq_ignore_ascii_case(n))
            };
            obj.insert("urls".into(), json!(text::urls(&new.msg)));
            obj.insert("mentions".into(), json!(mentions));
            obj.insert("channels".into(), json!(channels));
            obj.insert("md".into(), text::markdown_ast(&new.msg, known));
            for (k, v) in [
                ("alias", &new.alias),
                ("emoji", &new.emoji),
                ("avatar", &new.avatar),
            ] {
                if let Some(v) = v {
                    obj.insert(k.into(), json!(v));
                }
            }
            if let Some(a) = &new.attachments {
                obj.insert("attachments".into(), a.clone());
            }
        }
        if let Some(Value::Object(extra)) = &new.extra {
            obj.extend(extra.clone());
        }
        let idx = st.messages.len();
        st.messages.push(Some(doc.clone()));
        st.message_index.insert(id.clone(), idx);
        if let Some(r) = st.rooms.get_mut(&room.id) {
            r.msgs += 1;
            r.lm = Some(ts);
            r.updated_at = ts;
        }
        // Unread counters for the other members.
        let mentioned: Vec<String> = doc["mentions"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter_map(|m| m["_id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        for ((uid, rid), sub) in st.subscriptions.iter_mut() {
            if rid == &room.id && uid != user_id {
                sub.unread += 1;
                if mentioned.contains(uid) {
                    sub.user_mentions += 1;
                }
                sub.updated_at = ts;
            }
        }
        // Thread root counters: the root is delivered again (§2.2).
        let root = tmid.as_ref().and_then(|tmid| {
            let i = *st.message_index.get(tmid)?;
            let root = st.messages[i].as_mut()?;
            let r = root.as_object_mut()?;
            let tcount = r.get("tcount").and_then(Value::as_u64).unwrap_or(0) + 1;
            r.insert("tcount".into(), json!(tcount));
            r.insert("tlm".into(), json!({"$date": ts}));
            let mut replies: Vec<Value> = r
                .get("replies")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if !replies.contains(&json!(user_id)) {
                replies.push(json!(user_id));
            }
            r.insert("replies".into(), json!(replies));
            r.insert("_updatedAt".into(), json!({"$date": ts}));
            Some(root.clone())
        });
        drop(st);
        self.broadcast_message(&doc, &room);
        if let Some(root) = root {
            self.broadcast_message(&root, &room);
        }
        if self.settings.url_previews && doc["urls"].as_array().is_some_and(|u| !u.is_empty()) {
            self.enrich_previews(&id, &room);
        }
        Ok(self.message(&id).unwrap_or(doc))
    }

    /// The URL preview pass: fills `urls[].meta` and delivers the message again.
    fn enrich_previews(&self, id: &str, room: &Room) {
        let doc = self.modify_message(id, |m| {
            if let Some(urls) = m.get_mut("urls").and_then(Value::as_array_mut) {
                for u in urls {
                    u["meta"] = json!({"pageTitle": "Preview"});
                    u["headers"] = json!({"contentType": "text/html"});
                }
            }
        });
        if let Some(doc) = doc {
            self.broadcast_message(&doc, room);
        }
    }

    fn broadcast_message(&self, doc: &Value, room: &Room) {
        self.bus.publish(BusEvent::RoomMessage {
            message: Arc::new(doc.clone()),
            room_type: room.t.clone(),
            room_name: room.name.clone(),
        });
    }

    fn modify_message(&self, id: &str, f: impl FnOnce(&mut Value)) -> Option<Value> {
        let mut st = self.lock();
        let i = *st.message_index.get(id)?;
        let m = st.messages[i].as_mut()?;
        f(m);
        Some(m.clone())
    }

    /// A stored message (EJSON dates).
    pub fn message(&self, id: &str) -> Option<Value> {
        let st = self.lock();
        st.message_index
            .get(id)
            .and_then(|&i| st.messages[i].clone())
    }

    /// Edit a message's text as `editor`; delivers the message again with `editedAt/editedBy`.
    pub fn update_message(
        &self,
        editor_id: &str,
        rid: Option<&str>,
        msg_id: &str,
        text: &str,
    ) -> Result<Value, ApiError> {
        let current = self.message(msg_id).ok_or_else(|| {
            ApiError::plain(&format!("No message found with the id of \"{msg_id}\"."))
        })?;
        if rid.is_some_and(|r| current["rid"] != r) {
            return Err(ApiError::plain(
                "The room id provided does not match where the message is from.",
            ));
        }
        let editor = self
            .user(editor_id)
            .ok_or_else(|| ApiError::new("error-invalid-user", "Invalid user"))?;
        if current["u"]["_id"] != editor_id && !editor.has_role("admin") {
            return Err(ApiError::new(
                "error-action-not-allowed",
                "Message editing not allowed",
            ));
        }
        let room = self
            .room(current["rid"].as_str().unwrap_or_default())
            .ok_or_else(|| ApiError::plain("error-not-allowed"))?;
        let now = now_ms();
        let known: Vec<String> = {
            let st = self.lock();
            st.users
                .values()
                .map(|u| u.username.to_lowercase())
                .collect()
        };
        let doc = self
            .modify_message(msg_id, |m| {
                m["msg"] = json!(text);
                m["md"] = text::markdown_ast(text, |n| known.contains(&n.to_lowercase()));
                m["urls"] = json!(text::urls(text));
                m["editedAt"] = json!({"$date": now});
                m["editedBy"] = json!({"_id": editor.id, "username": editor.username});
                m["_updatedAt"] = json!({"$date": now});
            })
            .expect("message exists");
        self.broadcast_message(&doc, &room);
        Ok(doc)
    }

    /// Toggle (or set) a reaction; delivers the message again.
    pub fn react(
        &self,
        user_id: &str,
        msg_id: &str,
        emoji: &str,
        should_react: Option<bool>,
    ) -> Result<Value, ApiError> {
        let current = self.message(msg_id).ok_or_else(|| {
            ApiError::new(
                "error-message-not-found",
                "The provided \"messageId\" does not match any existing message.",
            )
        })?;
        let rid = current["rid"].as_str().unwrap_or_default().to_owned();
        if !self.can_access(&rid, user_id) {
            return Err(ApiError::new("error-not-allowed", "Not allowed"));
        }
        let user = self.user(user_id).expect("caller exists");
        let room = self.room(&rid).expect("room exists");
        let key = format!(":{}:", emoji.trim_matches(':'));
        let now = now_ms();
        let doc = self
            .modify_message(msg_id, |m| {
                let reactions = m
                    .as_object_mut()
                    .expect("object")
                    .entry("reactions")
                    .or_insert_with(|| json!({}));
                let entry = reactions
                    .as_object_mut()
                    .expect("object")
                    .entry(key.clone())
                    .or_insert_with(|| json!({"usernames": [], "names": []}));
                let has = entry["usernames"]
                    .as_array()
                    .is_some_and(|a| a.contains(&json!(user.username)));
                let want = should_react.unwrap_or(!has);
                if want && !has {
                    entry["usernames"]
                        .as_array_mut()
                        .expect("array")
                        .push(json!(user.username));
                    entry["names"]
                        .as_array_mut()
                        .expect("array")
                        .push(json!(user.name));
                } else if !want && has {
                    let i = entry["usernames"]
                        .as_array()
                        .and_then(|a| a.iter().position(|u| u == &json!(user.username)))
                        .unwrap_or(0);
                    entry["usernames"].as_array_mut().expect("array").remove(i);
                    if let Some(names) = entry["names"].as_array_mut() {
                        if i < names.len() {
                            names.remove(i);
                        }
                    }
                }
                if entry["usernames"].as_array().is_some_and(|a| a.is_empty()) {
                    reactions.as_object_mut().expect("object").remove(&key);
                }
                m["_updatedAt"] = json!({"$date": now});
            })
            .expect("message exists");
        self.broadcast_message(&doc, &room);
        Ok(doc)
    }

    /// Pin (`pin`) or unpin a message as `user_id` (`chat.pinMessage` / `chat.unPinMessage`):
    /// sets `pinned`, `pinnedAt`, `pinnedBy` (or clears them) and delivers the message again;
    /// a pin also posts the `message_pinned` system message quoting it (§2.2), which is
    /// returned; an unpin returns the message. Pinning a pinned message changes nothing.
    pub fn pin_message(&self, user_id: &str, msg_id: &str, pin: bool) -> Result<Value, ApiError> {
        let current = self.message(msg_id).ok_or_else(|| {
            ApiError::new(
                "error-message-not-found",
                "The provided \"messageId\" does not match any existing message.",
            )
        })?;
        let rid = current["rid"].as_str().unwrap_or_default().to_owned();
        if !self.can_access(&rid, user_id) {
            return Err(ApiError::new("error-action-not-allowed", "Not allowed"));
        }
        let user = self
            .user(user_id)
            .ok_or_else(|| ApiError::new("error-invalid-user", "Invalid user"))?;
        let room = self
            .room(&rid)
            .ok_or_else(|| ApiError::plain("error-not-allowed"))?;
        if current["pinned"] == pin || (!pin && current.get("pinned").is_none()) {
            return Ok(current);
        }
        let now = now_ms();
        let doc = self
            .modify_message(msg_id, |m| {
                let obj = m.as_object_mut().expect("object");
                obj.insert("pinned".into(), json!(pin));
                if pin {
                    obj.insert("pinnedAt".into(), json!({"$date": now}));
                    obj.insert(
                        "pinnedBy".into(),
                        json!({"_id": user.id, "username": user.username}),
                    );
                } else {
                    obj.remove("pinnedAt");
                    obj.remove("pinnedBy");
                }
                obj.insert("_updatedAt".into(), json!({"$date": now}));
            })
            .expect("message exists");
        self.broadcast_message(&doc, &room);
        if !pin {
            return Ok(doc);
        }
        let author = current["u"]["username"].as_str().unwrap_or_default();
        self.send_message(
            user_id,
            NewMessage {
                rid,
                t: Some("message_pinned".into()),
                extra: Some(json!({"attachments": [{
                    "text": current["msg"],
                    "author_name": author,
                    "author_icon": format!("/avatar/{author}"),
                    "ts": current["ts"],
                }]})),
                ..Default::default()
            },
        )
    }

    /// The messages of a room whose text contains `text` (case-insensitive), newest first,
    /// without system messages (`chat.search`).
    pub fn search_messages(&self, rid: &str, text: &str) -> Vec<Value> {
        let needle = text.to_lowercase();
        let mut found: Vec<Value> = self
            .messages_in(rid, None, false)
            .into_iter()
            .filter(|m| m.get("t").is_none())
            .filter(|m| {
                m["msg"]
                    .as_str()
                    .is_some_and(|t| t.to_lowercase().contains(&needle))
            })
            .collect();
        found.reverse();
        found
    }

    /// Hard-delete a message: no room-messages event, but `<rid>/deleteMessage` on notify-room.
    pub fn delete_message(
        &self,
        user_id: &str,
        rid: &str,
        msg_id: &str,
    ) -> Result<Value, ApiError> {
        let current = self.message(msg_id).ok_or_else(|| {
            ApiError::plain(&format!("No message found with the id of \"{msg_id}\"."))
        })?;
        if current["rid"] != rid {
            return Err(ApiError::plain(
                "The room id provided does not match where the message is from.",
            ));
        }
        let user = self
            .user(user_id)
            .ok_or_else(|| ApiError::new("error-invalid-user", "Invalid user"))?;
        if current["u"]["_id"] != user_id && !user.has_role("admin") {
            return Err(ApiError::new("error-action-not-allowed", "Not allowed"));
        }
        {
            let mut st = self.lock();
            if let Some(i) = st.message_index.remove(msg_id) {
                st.messages[i] = None;
            }
            st.trash.push((rid.to_owned(), msg_id.to_owned(), now_ms()));
        }
        self.bus.publish(BusEvent::NotifyRoom {
            event: format!("{rid}/deleteMessage"),
            args: vec![json!({"_id": msg_id})],
            origin: None,
        });
        Ok(current)
    }

    /// Messages of a room, oldest first (by `ts`, then as stored), optionally only those with
    /// `ts` (or `_updatedAt` when `by_update`) after `since_ms`.
    pub fn messages_in(&self, rid: &str, since_ms: Option<i64>, by_update: bool) -> Vec<Value> {
        let st = self.lock();
        let mut list: Vec<Value> = st
            .messages
            .iter()
            .flatten()
            .filter(|m| m["rid"] == rid)
            .filter(|m| {
                let key = if by_update { "_updatedAt" } else { "ts" };
                since_ms.is_none_or(|s| m[key]["$date"].as_i64().unwrap_or(0) > s)
            })
            .cloned()
            .collect();
        // A message posted with an explicit `ts` may be older than one stored before it.
        list.sort_by_key(|m| m["ts"]["$date"].as_i64().unwrap_or(0));
        list
    }

    /// Ids and deletion times (ms) of the messages of a room deleted after `since_ms`.
    pub fn deleted_in(&self, rid: &str, since_ms: i64) -> Vec<(String, i64)> {
        self.lock()
            .trash
            .iter()
            .filter(|(r, _, at)| r == rid && *at > since_ms)
            .map(|(_, id, at)| (id.clone(), *at))
            .collect()
    }

    /// Every stored message, oldest first (control API: "what did the bot send").
    pub fn all_messages(&self) -> Vec<Value> {
        self.lock().messages.iter().flatten().cloned().collect()
    }

    /// Publish a `stream-notify-room` event (typing). `origin` is excluded from delivery.
    pub fn notify_room(&self, event: String, args: Vec<Value>, origin: Option<u64>) {
        self.bus.publish(BusEvent::NotifyRoom {
            event,
            args,
            origin,
        });
    }
}
