//! The supervisor's subscriptions: every stream at once when a session starts (asking again
//! after the server's wait when it rate-limits them), one room more when the bot is added to
//! it, and what the connection's reader does with each stream event ([`Supervisor::router`]).
//!
//! Per-room message streams are asked for only while this server has not shown that
//! `__my_messages__` carries private groups and DMs ([`RoomStreams`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use super::super::connection::{Connection, SubError};
use super::super::stream::{StreamEvent, MY_MESSAGES, NOTIFY_USER, ROOM_MESSAGES};
use super::{Command, RealtimeEvent, Supervisor, Via};

impl Supervisor {
    /// Subscribe to every stream; refused subscriptions are reported, a lost connection
    /// ends the session.
    pub(super) async fn subscribe_all(
        &mut self,
        conn: &Connection,
        user_id: &str,
    ) -> Result<(), String> {
        let mut wanted = vec![
            (ROOM_MESSAGES, MY_MESSAGES.to_owned()),
            (NOTIFY_USER, format!("{user_id}/rooms-changed")),
            (NOTIFY_USER, format!("{user_id}/subscriptions-changed")),
        ];
        self.room_streams.new_connection();
        if self.room_streams.needed() {
            wanted.extend(self.rooms.iter().map(|rid| (ROOM_MESSAGES, rid.clone())));
        }
        let timeout = self.config.call_timeout;
        for round in 1..=SUBSCRIBE_ROUNDS {
            // All at once: one round trip instead of one per room.
            let results = futures_util::future::join_all(
                wanted
                    .iter()
                    .map(|(name, event)| conn.subscribe(name, stream_params(event), timeout)),
            )
            .await;
            let mut limited = Vec::new();
            let mut wait_ms = 0u64;
            for ((name, event_name), result) in wanted.into_iter().zip(results) {
                match result {
                    Ok(id) if name == ROOM_MESSAGES && event_name != MY_MESSAGES => {
                        self.room_streams.opened(conn, id);
                    }
                    Ok(_) => {}
                    Err(SubError::Disconnected(reason)) => return Err(reason.to_string()),
                    // Only the streams every message and room change come through are waited
                    // for: a bot in hundreds of rooms is refused most per-room streams by the
                    // same rule (which `__my_messages__` covers on current servers), and
                    // waiting for those would hold the account back for minutes.
                    Err(SubError::NoSub(Some(e)))
                        if e.is_text_code("too-many-requests")
                            && round < SUBSCRIBE_ROUNDS
                            && (event_name == MY_MESSAGES || name == NOTIFY_USER) =>
                    {
                        wait_ms = wait_ms.max(e.time_to_reset_ms().unwrap_or(1000));
                        limited.push((name, event_name));
                    }
                    // Without the stream of the bot's messages the session is deaf: end it
                    // (reconnect with backoff, then catch up) rather than report it ready.
                    Err(e) if event_name == MY_MESSAGES => {
                        return Err(format!("subscription to {MY_MESSAGES} refused: {e}"));
                    }
                    Err(e) => {
                        tracing::warn!(%name, %event_name, error = %e, "subscription refused");
                        self.emit(RealtimeEvent::SubscribeFailed {
                            name: name.to_owned(),
                            event_name,
                            reason: e.to_string(),
                        })
                        .await;
                    }
                }
            }
            if limited.is_empty() {
                break;
            }
            // Rocket.Chat's per-user rule counts every subscription, so a bot that reconnected
            // often is refused for a while: ask again on this connection once the announced
            // window has passed (a new login would only cost more calls). Messages posted
            // meanwhile come from the catch-up that follows `Authenticated`.
            let wait =
                Duration::from_millis(wait_ms).min(MAX_SUBSCRIBE_WAIT) + Duration::from_millis(50);
            tracing::info!(
                refused = limited.len(),
                retry_in_ms = wait.as_millis() as u64,
                "subscriptions rate limited by the server; asking again after its wait"
            );
            tokio::select! {
                _ = self.shutdown.changed() => return Err("shutting down".into()),
                reason = conn.closed() => return Err(reason.to_string()),
                _ = tokio::time::sleep(wait) => {}
            }
            wanted = limited;
        }
        Ok(())
    }

    /// Remember a room; when connected, subscribe to it right away (in the background, so
    /// event forwarding does not wait for the `ready`).
    pub(super) fn watch(&mut self, rid: String, conn: Option<&Connection>) {
        if !self.rooms.insert(rid.clone()) || !self.room_streams.needed() {
            return;
        }
        let Some(conn) = conn.cloned() else { return };
        let events = self.events.clone();
        let streams = self.room_streams.clone();
        let timeout = self.config.call_timeout;
        tokio::spawn(async move {
            let mut round = 1;
            let result = loop {
                match conn
                    .subscribe(ROOM_MESSAGES, stream_params(&rid), timeout)
                    .await
                {
                    // Rate limited: ask again after the server's wait, as `subscribe_all` does.
                    Err(SubError::NoSub(Some(e)))
                        if e.is_text_code("too-many-requests") && round < SUBSCRIBE_ROUNDS =>
                    {
                        round += 1;
                        let ms = e.time_to_reset_ms().unwrap_or(1000);
                        let wait = Duration::from_millis(ms).min(MAX_SUBSCRIBE_WAIT);
                        tokio::select! {
                            _ = conn.closed() => break Ok(None),
                            _ = tokio::time::sleep(wait + Duration::from_millis(50)) => {}
                        }
                    }
                    other => break other.map(Some),
                }
            };
            match result {
                Ok(Some(id)) => streams.opened(&conn, id),
                Ok(None) | Err(SubError::Disconnected(_)) => {}
                Err(e) => {
                    let _ = events
                        .send(RealtimeEvent::SubscribeFailed {
                            name: ROOM_MESSAGES.to_owned(),
                            event_name: rid,
                            reason: e.to_string(),
                        })
                        .await;
                }
            }
        });
    }

    /// What the connection's reader does with each stream event (it runs there, so a room
    /// message reaches the account without a task in between): turn it into a
    /// [`RealtimeEvent`], and tell this task what it must act on (a private room to watch,
    /// per-room streams no longer needed).
    pub(super) fn router(&self) -> impl FnMut(StreamEvent) -> Option<RealtimeEvent> + Send {
        let streams = self.room_streams.clone();
        let commands = self.command_tx.clone();
        let tell = move |cmd: Command| {
            if let Some(tx) = commands.upgrade() {
                let _ = tx.send(cmd);
            }
        };
        move |event| {
            Some(match event {
                StreamEvent::RoomMessage {
                    event_name,
                    message,
                    meta,
                } => {
                    let via = if event_name == MY_MESSAGES {
                        // Once known, nothing more to learn: one load per message, no write.
                        if streams.needed() {
                            let room_type = meta.as_ref().and_then(|m| m.room_type.as_deref());
                            if matches!(room_type, Some("p") | Some("d")) && streams.cover() {
                                tell(Command::DropRoomStreams);
                            }
                        }
                        Via::MyMessages
                    } else {
                        Via::Room(event_name)
                    };
                    RealtimeEvent::RoomMessage { message, meta, via }
                }
                StreamEvent::RoomsChanged { action, room, .. } => {
                    if let Some(rid) = private_room_inserted(&action, &room, "_id") {
                        tell(Command::WatchRoom(rid));
                    }
                    RealtimeEvent::RoomsChanged { action, room }
                }
                StreamEvent::SubscriptionsChanged {
                    action,
                    subscription,
                    ..
                } => {
                    if let Some(rid) = private_room_inserted(&action, &subscription, "rid") {
                        tell(Command::WatchRoom(rid));
                    }
                    RealtimeEvent::SubscriptionsChanged {
                        action,
                        subscription,
                    }
                }
                StreamEvent::UserActivity {
                    rid,
                    username,
                    activities,
                    tmid,
                } => RealtimeEvent::UserActivity {
                    rid,
                    username,
                    activities,
                    tmid,
                },
                StreamEvent::MessageDeleted { rid, id } => {
                    RealtimeEvent::MessageDeleted { rid, id }
                }
                StreamEvent::Other {
                    collection,
                    event_name,
                    ..
                } => {
                    tracing::debug!(%collection, %event_name, "stream event not forwarded");
                    return None;
                }
            })
        }
    }
}

/// Rounds of asking again for subscriptions the server refused for rate limiting.
const SUBSCRIBE_ROUNDS: u32 = 6;
/// The longest announced rate-limit wait honoured before asking again (Rocket.Chat's stream
/// rules have 40 s windows); a longer one is cut to this.
const MAX_SUBSCRIBE_WAIT: Duration = Duration::from_secs(45);

/// The per-room message streams of one account. Servers differ in whether `__my_messages__`
/// carries private groups and DMs; where it does (every current Rocket.Chat), a per-room
/// stream only doubles the traffic and the subscription count the server rate-limits. Until a
/// private-room message arrives on `__my_messages__` the bot subscribes per room, so nothing
/// is missed on a server that needs it; from then on it drops those streams and, for the
/// account's lifetime, does not ask for them again.
#[derive(Clone, Default)]
pub(super) struct RoomStreams {
    covered: Arc<AtomicBool>,
    /// Subscription ids on the current connection.
    open: Arc<Mutex<Vec<String>>>,
}

impl RoomStreams {
    /// Whether per-room streams are still asked for.
    pub(super) fn needed(&self) -> bool {
        !self.covered.load(Ordering::Acquire)
    }

    /// A new connection: the old one's subscriptions are gone with it.
    pub(super) fn new_connection(&self) {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// A per-room stream is ready; one that became redundant while it was asked for is dropped.
    pub(super) fn opened(&self, conn: &Connection, id: String) {
        if self.needed() {
            self.open.lock().unwrap_or_else(|e| e.into_inner()).push(id);
        } else {
            conn.unsubscribe(&id);
        }
    }

    /// A private-room message came on `__my_messages__`: the per-room streams are redundant.
    /// True the first time only; the caller then has [`RoomStreams::drop_open`] done.
    pub(super) fn cover(&self) -> bool {
        !self.covered.swap(true, Ordering::AcqRel)
    }

    /// Unsubscribe the per-room streams opened on `conn` (after [`RoomStreams::cover`]; a
    /// stream that becomes ready later is dropped by [`RoomStreams::opened`]).
    pub(super) fn drop_open(&self, conn: &Connection) {
        let open = std::mem::take(&mut *self.open.lock().unwrap_or_else(|e| e.into_inner()));
        tracing::info!(
            dropped = open.len(),
            "this server's __my_messages__ carries private rooms; per-room streams dropped"
        );
        for id in open {
            conn.unsubscribe(&id);
        }
    }
}

/// `params` for a stream subscription: `[eventName, {useCollection:false, args:[]}]`.
pub(super) fn stream_params(event_name: &str) -> Vec<Value> {
    vec![
        json!(event_name),
        json!({"useCollection": false, "args": []}),
    ]
}

/// The room id of an `inserted` private group or DM (`t` = `p` or `d`), which
/// `__my_messages__` alone may not cover on every server version.
pub(super) fn private_room_inserted(action: &str, doc: &Value, id_key: &str) -> Option<String> {
    if action != "inserted" {
        return None;
    }
    match doc.get("t").and_then(Value::as_str) {
        Some("p") | Some("d") => doc.get(id_key).and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}
