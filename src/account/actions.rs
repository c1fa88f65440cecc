//! What a host can ask of an account besides sending: resolve a target, show typing, mark a
//! room read, read a room's or thread's recent history or search it (filtered by the access
//! rules, and refused for a room they close), list the bot's rooms, describe a room or a user.

use std::future::Future;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::{Account, AccountError, Shared};
use crate::event::{InboundMessage, MessageSource, RoomType};
use crate::inbound::{normalize_json, NormalizeContext, RoomMeta};
use crate::rest::RestError;

/// One of the bot's rooms (`rooms`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomEntry {
    /// The room id.
    pub room_id: String,
    /// The room's name; for a DM, the other user's username.
    pub name: String,
    /// `c` (channel), `p` (private group) or `d` (direct message).
    #[serde(rename = "type")]
    pub room_type: String,
    /// `#name` for channels and groups, `@username` for DMs: a target for the other verbs.
    pub label: String,
}

/// A room's description (`roomInfo`).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomInfo {
    /// The room id.
    pub room_id: String,
    /// The room's name; for a DM, the other user's username.
    pub name: String,
    /// `c`, `p`, `d` (or `l`, livechat).
    #[serde(rename = "type")]
    pub room_type: String,
    /// The topic, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// The description, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// How many members, when the server says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_count: Option<u64>,
    /// Whether only some may post, when the server says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
}

/// A user's public profile (`userInfo`): never an email address or another private field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    /// The user id.
    pub user_id: String,
    /// The username.
    pub username: String,
    /// The display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Presence: `online`, `away`, `busy`, `offline`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Roles, e.g. `["user", "bot"]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Most messages one history call returns.
pub const MAX_HISTORY: u32 = 100;

impl Account {
    /// The room id a send target (see [`crate::outbound::target::Target`]) names.
    pub fn resolve_target(
        &self,
        target: String,
    ) -> impl Future<Output = Result<String, AccountError>> + Send + 'static {
        let shared = self.shared.clone();
        async move { shared.resolve(&target).await }
    }

    /// Show (or stop showing) the bot typing in `target` / thread `thread_id`, refreshed
    /// until turned off or the account stops. Idempotent both ways.
    pub fn set_typing(
        &self,
        target: String,
        thread_id: Option<String>,
        active: bool,
    ) -> impl Future<Output = Result<(), AccountError>> + Send + 'static {
        let shared = self.shared.clone();
        async move {
            let rid = shared.resolve(&target).await?;
            let key = (rid, thread_id);
            let stopped = {
                let mut held = shared.host_typing.lock().unwrap_or_else(|e| e.into_inner());
                if active {
                    let typing = &shared.deliverer.inner.typing;
                    held.entry(key)
                        .or_insert_with_key(|(rid, tmid)| typing.start(rid, tmid.as_deref()));
                    None
                } else {
                    held.remove(&key)
                }
            };
            if let Some(guard) = stopped {
                guard.stop().await;
            }
            Ok(())
        }
    }

    /// Mark `target` read for the bot (`subscriptions.read`): its unread count and alert
    /// cleared, and with `read_threads` its threads' unread marks too.
    pub fn mark_read(
        &self,
        target: String,
        read_threads: Option<bool>,
    ) -> impl Future<Output = Result<(), AccountError>> + Send + 'static {
        let shared = self.shared.clone();
        async move {
            let rid = shared.resolve(&target).await?;
            shared
                .rest
                .mark_read(&rid, read_threads)
                .await
                .map_err(|e| AccountError::Rest {
                    account: shared.id.clone(),
                    source: Box::new(e),
                })
        }
    }

    /// The newest `limit` messages (at most [`MAX_HISTORY`]) of `target`, or of the thread
    /// `thread_id` there (its root first), oldest first, normalised as inbound messages.
    /// Messages from senders the access rules shut out of that room are left out, and so are
    /// system messages: this is context for the agent, never a way around the policy. A room
    /// the rules close ([`crate::inbound::gate::Gate::room_closed`]) is refused.
    pub fn history(
        &self,
        target: String,
        thread_id: Option<String>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<InboundMessage>, AccountError>> + Send + 'static {
        let shared = self.shared.clone();
        let mention_all = self.config.mention_all;
        async move {
            let (rid, room) = shared.readable_room("history", &target).await?;
            let rest_err = |e| shared.rest_err(e);
            let room_type = room_type_of(&room);
            let limit = limit.clamp(1, MAX_HISTORY);
            let raw: Vec<Value> = match &thread_id {
                Some(tmid) => {
                    let mut all = vec![shared.rest.get_message(tmid).await.map_err(rest_err)?];
                    all.extend(
                        shared
                            .rest
                            .thread_messages(tmid, limit)
                            .await
                            .map_err(rest_err)?,
                    );
                    let skip = all.len().saturating_sub(limit as usize);
                    // Keep the root: it is what the thread is about.
                    let root = all.remove(0);
                    let mut kept: Vec<Value> =
                        all.into_iter().skip(skip.saturating_sub(1)).collect();
                    kept.insert(0, root);
                    kept
                }
                None => shared
                    .rest
                    .history(room_type.code(), &rid, None, None, 0, limit)
                    .await
                    .map_err(rest_err)?,
            };
            Ok(shared.visible(&room, &raw, mention_all))
        }
    }

    /// The newest `limit` messages (at most [`MAX_HISTORY`]) of `target` whose text contains
    /// `query` (`chat.search`), newest first, filtered as [`Account::history`] filters, and
    /// refused for a room the access rules close.
    pub fn search(
        &self,
        target: String,
        query: String,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<InboundMessage>, AccountError>> + Send + 'static {
        let shared = self.shared.clone();
        let mention_all = self.config.mention_all;
        async move {
            let (rid, room) = shared.readable_room("search", &target).await?;
            let raw = shared
                .rest
                .search_messages(&rid, &query, limit.clamp(1, MAX_HISTORY))
                .await
                .map_err(|e| shared.rest_err(e))?;
            Ok(shared.visible(&room, &raw, mention_all))
        }
    }

    /// The bot's rooms (`subscriptions.get`): channels, groups and DMs, by label, without
    /// those the access rules close.
    pub fn rooms(
        &self,
    ) -> impl Future<Output = Result<Vec<RoomEntry>, AccountError>> + Send + 'static {
        let shared = self.shared.clone();
        async move {
            let subs = shared
                .rest
                .subscriptions_get(None)
                .await
                .map_err(|e| shared.rest_err(e))?
                .update;
            let gate = shared.gate.lock().unwrap_or_else(|e| e.into_inner());
            let mut rooms: Vec<RoomEntry> = subs
                .iter()
                .filter_map(|sub| {
                    let rid = text(sub, "rid")?;
                    let t = text(sub, "t")?;
                    let prefix = match t.as_str() {
                        "c" | "p" => '#',
                        "d" => '@',
                        _ => return None,
                    };
                    let name = text(sub, "name").unwrap_or_else(|| rid.clone());
                    if gate.room_closed(&rid, RoomType::from_code(&t)).is_some() {
                        return None;
                    }
                    Some(RoomEntry {
                        label: format!("{prefix}{name}"),
                        room_id: rid,
                        name,
                        room_type: t,
                    })
                })
                .collect();
            drop(gate);
            rooms.sort_by(|a, b| a.label.cmp(&b.label));
            rooms.dedup_by(|a, b| a.room_id == b.room_id);
            Ok(rooms)
        }
    }

    /// The room `target` names, as `rooms.info` describes it; refused for a room the access
    /// rules close, as [`Account::history`] is (its topic and members are the room's too).
    pub fn room_info(
        &self,
        target: String,
    ) -> impl Future<Output = Result<RoomInfo, AccountError>> + Send + 'static {
        let shared = self.shared.clone();
        async move {
            let (rid, room) = shared.readable_room("roomInfo", &target).await?;
            let room_type = room_type_of(&room).code().to_owned();
            let bot = shared.bot_username();
            let name = text(&room, "name")
                .or_else(|| {
                    // A DM has no name: the other user's username.
                    room.get("usernames")?
                        .as_array()?
                        .iter()
                        .filter_map(Value::as_str)
                        .find(|u| *u != bot)
                        .map(str::to_owned)
                })
                .or_else(|| text(&room, "fname"))
                .unwrap_or_else(|| rid.clone());
            Ok(RoomInfo {
                room_id: rid,
                name,
                room_type,
                topic: text(&room, "topic"),
                description: text(&room, "description"),
                member_count: room.get("usersCount").and_then(Value::as_u64),
                read_only: room.get("ro").and_then(Value::as_bool),
            })
        }
    }

    /// The user `user` names (`@username`, `username` or `user:ID`), as `users.info` describes
    /// them, public fields only.
    pub fn user_info(
        &self,
        user: String,
    ) -> impl Future<Output = Result<UserInfo, AccountError>> + Send + 'static {
        let shared = self.shared.clone();
        async move {
            let trimmed = user.trim();
            let found = match trimmed.strip_prefix("user:") {
                Some(id) if !id.trim().is_empty() => shared.rest.users_info_by_id(id.trim()).await,
                None if !trimmed.trim_start_matches('@').is_empty() => {
                    shared
                        .rest
                        .users_info_by_username(trimmed.trim_start_matches('@'))
                        .await
                }
                _ => {
                    return Err(AccountError::Target {
                        account: shared.id.clone(),
                        source: crate::outbound::target::TargetError(user.clone()),
                    })
                }
            };
            let found = found.map_err(|e| match e {
                // Rocket.Chat answers an unknown user with a bare 400 "User not found.", no
                // errorType: give it the one its other user lookups use (NOT_FOUND for hosts).
                RestError::Api {
                    route,
                    status,
                    error,
                    error_type: None,
                    details,
                } if error.contains("User not found") => shared.rest_err(RestError::Api {
                    route,
                    status,
                    error: format!("{error} ({user})"),
                    error_type: Some("error-user-not-found".to_owned()),
                    details,
                }),
                e => shared.rest_err(e),
            })?;
            let roles: Option<Vec<String>> =
                found.get("roles").and_then(Value::as_array).map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                });
            Ok(UserInfo {
                user_id: text(&found, "_id").unwrap_or_default(),
                username: text(&found, "username").unwrap_or_default(),
                name: text(&found, "name"),
                status: text(&found, "status"),
                roles,
            })
        }
    }
}

/// A room document's type.
fn room_type_of(room: &Value) -> RoomType {
    RoomType::from_code(room.get("t").and_then(Value::as_str).unwrap_or("c"))
}

impl Shared {
    fn rest_err(&self, source: RestError) -> AccountError {
        AccountError::Rest {
            account: self.id.clone(),
            source: Box::new(source),
        }
    }

    fn bot_username(&self) -> String {
        self.identity
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|i| i.username.clone())
            .unwrap_or_default()
    }

    /// The room `target` names and its `rooms.info` document, for reading (`verb`): FORBIDDEN
    /// when the access rules close it, naming the room and the configuration key.
    async fn readable_room(
        &self,
        verb: &str,
        target: &str,
    ) -> Result<(String, Value), AccountError> {
        let rid = self.resolve(target).await?;
        let room = self
            .rest
            .rooms_info(&rid)
            .await
            .map_err(|e| self.rest_err(e))?;
        let closed = self
            .gate
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .room_closed(&rid, room_type_of(&room));
        if let Some(closed) = closed {
            let named = if target.trim() == rid {
                rid.clone()
            } else {
                format!("{} ({rid})", target.trim())
            };
            return Err(AccountError::Forbidden {
                account: self.id.clone(),
                message: format!(
                    "{verb}: room {named} is closed by the access rules ({closed}), so the bot reads nothing there"
                ),
            });
        }
        Ok((rid, room))
    }

    /// Raw messages of `room` as the agent may see them: normalised, without system messages
    /// and without senders the access rules shut out there.
    fn visible(&self, room: &Value, raw: &[Value], mention_all: bool) -> Vec<InboundMessage> {
        let bot = self
            .identity
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_default();
        let ctx = NormalizeContext {
            account_id: &self.id,
            bot_user_id: &bot.user_id,
            bot_username: &bot.username,
            room: RoomMeta {
                room_type: room_type_of(room),
                room_name: room.get("name").and_then(Value::as_str).map(str::to_owned),
                participant: true,
            },
            source: MessageSource::CatchUp,
            mention_all,
        };
        let gate = self.gate.lock().unwrap_or_else(|e| e.into_inner());
        raw.iter()
            .filter_map(|m| normalize_json(&m.to_string(), &ctx).ok())
            .filter(|m| m.message_type.is_none() && gate.sender_may_talk(m))
            .collect()
    }
}
