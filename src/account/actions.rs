//! What a host can ask of an account besides sending: resolve a target, show typing, mark a
//! room read, read a room's or thread's recent history (filtered by the access rules).

use std::future::Future;

use serde_json::Value;

use super::{Account, AccountError};
use crate::event::{InboundMessage, MessageSource, RoomType};
use crate::inbound::{normalize_message, NormalizeContext, RoomMeta};

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
    /// system messages: this is context for the agent, never a way around the policy.
    pub fn history(
        &self,
        target: String,
        thread_id: Option<String>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<InboundMessage>, AccountError>> + Send + 'static {
        let shared = self.shared.clone();
        let mention_all = self.config.mention_all;
        async move {
            let rid = shared.resolve(&target).await?;
            let rest_err = |e| AccountError::Rest {
                account: shared.id.clone(),
                source: Box::new(e),
            };
            let room = shared.rest.rooms_info(&rid).await.map_err(rest_err)?;
            let room_type =
                RoomType::from_code(room.get("t").and_then(Value::as_str).unwrap_or("c"));
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
            let bot = shared
                .identity
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .unwrap_or_default();
            let ctx = NormalizeContext {
                account_id: &shared.id,
                bot_user_id: &bot.user_id,
                bot_username: &bot.username,
                room: RoomMeta {
                    room_type,
                    room_name: room.get("name").and_then(Value::as_str).map(str::to_owned),
                    participant: true,
                },
                source: MessageSource::CatchUp,
                mention_all,
            };
            let gate = shared.gate.lock().unwrap_or_else(|e| e.into_inner());
            Ok(raw
                .iter()
                .filter_map(|m| normalize_message(m, &ctx).ok())
                .filter(|m| m.message_type.is_none() && gate.sender_may_talk(m))
                .collect())
        }
    }
}
