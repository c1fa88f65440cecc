//! The account's supervisor task: log in, fetch the bot's identity, run the realtime
//! connection, catch up after each reconnect, and turn realtime events into host events.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::catchup::{self, missed_messages};
use super::pipeline::{Identity, Inbound};
use super::state_file::{self, Loaded, StateFile};
use super::status::ConnectionState;
use super::{AccountOptions, Shared};
use crate::auth::AuthError;
use crate::config::AccountConfig;
use crate::ddp::realtime::{Realtime, RealtimeConfig, RealtimeEvent, RealtimeHandle, Via};
use crate::ddp::stream::RawMessage;
use crate::event::{now_ms, Event, LogLevel, MessageSource, RoomType};
use crate::inbound::RoomMeta;
use crate::outbound::RealtimeTyping;
use crate::rest::RestError;

fn set_state(shared: &Shared, state: ConnectionState, error: Option<String>) {
    let mut st = shared.status.lock().unwrap_or_else(|e| e.into_inner());
    st.state = state;
    if error.is_some() {
        st.last_error = error;
    }
}

/// Completes once the account is told to stop (or its handle is gone): what every wait for
/// room in the event queue gives up on.
pub(crate) async fn until_stopped(mut stop: watch::Receiver<bool>) {
    drop(stop.wait_for(|s| *s).await);
}

/// Wait for the stop signal or the duration, whichever comes first. True when stopped.
async fn stopped_during(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    let stopped = tokio::select! {
        _ = stop.wait_for(|s| *s) => true,
        _ = tokio::time::sleep(d) => false,
    };
    stopped || *stop.borrow()
}

/// Who the bot is, asked until the server answers (or the account is stopped).
async fn fetch_identity(
    shared: &Shared,
    base_url: &str,
    options: &AccountOptions,
    stop: &mut watch::Receiver<bool>,
) -> Option<Identity> {
    let mut failures = 0;
    loop {
        let result = tokio::select! {
            _ = stop.wait_for(|s| *s) => return None,
            r = shared.rest.me() => r,
        };
        let (event, state, delay) = match result {
            Ok(me) => {
                return Some(Identity {
                    username: me.username.unwrap_or_default(),
                    user_id: me.id,
                })
            }
            Err(RestError::Auth(
                e @ (AuthError::Rejected(_) | AuthError::TwoFactorRequired(_)),
            )) => {
                let reason = e.to_string();
                let wait = options.auth_failure_delay.as_secs();
                tracing::error!(
                    account = %shared.id,
                    "{base_url} refused the bot's login: {reason}; trying again in {wait} s"
                );
                (
                    Event::AuthFailed {
                        reason,
                        retrying: true,
                    },
                    ConnectionState::AuthFailed,
                    options.auth_failure_delay,
                )
            }
            Err(e) => {
                failures += 1;
                let delay = options.backoff.next_delay(failures);
                let wait = delay.as_secs_f64();
                match &e {
                    RestError::Network { .. } | RestError::Timeout { .. } => tracing::warn!(
                        account = %shared.id,
                        "cannot reach a server at {base_url} ({e}); trying again in {wait:.1} s \
                         (check baseUrl if this goes on)"
                    ),
                    _ => tracing::warn!(
                        account = %shared.id,
                        "cannot log in at {base_url}: {e}; trying again in {wait:.1} s"
                    ),
                }
                (
                    Event::Disconnected {
                        reason: e.to_string(),
                        retry_in_ms: Some(delay.as_millis() as u64),
                    },
                    ConnectionState::Disconnected,
                    delay,
                )
            }
        };
        let reason = match &event {
            Event::AuthFailed { reason, .. } | Event::Disconnected { reason, .. } => reason.clone(),
            _ => String::new(),
        };
        set_state(shared, state, Some(reason));
        shared.queue.push(Some(&shared.id), event);
        if stopped_during(stop, delay).await {
            return None;
        }
    }
}

pub(super) async fn supervise(
    shared: Arc<Shared>,
    config: AccountConfig,
    options: AccountOptions,
    tls: Arc<rustls::ClientConfig>,
    mut stop: watch::Receiver<bool>,
) {
    let id = shared.id.clone();
    let insecure = config.tls.insecure_skip_verify;
    shared.queue.push(Some(&id), Event::AccountStarted);
    let Some(identity) =
        fetch_identity(&shared, config.base_url.as_str(), &options, &mut stop).await
    else {
        finish(&shared, "stopped", 0);
        return;
    };
    {
        let mut st = shared.status.lock().unwrap_or_else(|e| e.into_inner());
        st.user_id = Some(identity.user_id.clone());
        st.username = Some(identity.username.clone());
    }
    *shared.identity.write().unwrap_or_else(|e| e.into_inner()) = Some(identity.clone());
    shared
        .gate
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .set_bot(&identity.user_id, &identity.username);

    let mut inbound = Inbound::new(
        &id,
        identity.clone(),
        config.mention_all,
        shared.queue.clone(),
        shared.status.clone(),
        shared.gate.clone(),
    )
    .with_stop(stop.clone())
    .with_encrypted_notice(&config.encrypted_notice)
    .with_dropped_events(options.dropped_events);
    let mut state_file = options
        .state_dir
        .as_deref()
        .map(|dir| StateFile::new(dir, &id, &identity.user_id, shared.queue.clone()));
    // With what an earlier run saw, the first connection catches up from there, as after a
    // reconnect: what was posted while the gateway was down is delivered, nothing twice.
    let mut restored = false;
    if let Some(file) = &state_file {
        match file.load().await {
            Loaded::Absent => {}
            Loaded::Restored(seen) => {
                inbound.restore_seen(seen);
                restored = inbound.watermark_ms.is_some();
            }
            Loaded::Unusable(message) => {
                // An event, not a tracing line: it must reach the host whatever its logLevel.
                shared.queue.push(
                    Some(&id),
                    Event::Log {
                        level: LogLevel::Warn,
                        message,
                    },
                );
            }
        }
    }
    let mut save_timer = tokio::time::interval(state_file::SAVE_EVERY);
    save_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    match shared.rest.subscriptions_get(None).await {
        Ok(subs) => inbound.rooms.load_subscriptions(&subs.update),
        // Not fatal: `__my_messages__` still covers the rooms, and the per-room streams are
        // added as `subscriptions-changed` reports them.
        Err(e) => tracing::warn!(account = %id, "cannot list the bot's rooms: {e}"),
    }
    let mut extra = inbound.rooms.private_rooms();
    extra.extend(config.rooms.keys().filter(|r| r.as_str() != "*").cloned());
    extra.sort();
    extra.dedup();

    let mut rt_config =
        RealtimeConfig::new(config.base_url.ws_url(), shared.rest.token_source().clone());
    rt_config.tls = Some(tls);
    rt_config.ping_interval = options.ping_interval;
    rt_config.idle_timeout = options.idle_timeout;
    rt_config.backoff = options.backoff;
    rt_config.auth_failure_delay = options.auth_failure_delay;
    rt_config.extra_room_ids = extra;
    let (tx, mut rx) = mpsc::channel(1024);
    let realtime = Arc::new(Realtime::spawn(rt_config, tx));
    shared.typing.set(Some(RealtimeTyping::new(
        realtime.clone(),
        identity.username.clone(),
    )));
    {
        // Learn the server's message size limit; the configured/default one stays on error.
        let deliverer = shared.deliverer.clone();
        tokio::spawn(async move {
            let _ = deliverer.learn_server_limits().await;
        });
    }

    // Where a catch-up starts when no message has been seen yet: the first login.
    let mut first_ready_ms: Option<i64> = None;
    loop {
        let event = tokio::select! {
            // Stop first: once stopped, nothing more is taken in only to be left undelivered.
            biased;
            _ = stop.wait_for(|s| *s) => break,
            e = rx.recv() => match e {
                Some(e) => e,
                None => break,
            },
            _ = save_timer.tick(), if state_file.is_some() => {
                // While the previous save still runs, the changes wait for the next tick.
                if let Some(file) = state_file.as_mut().filter(|f| !f.saving()) {
                    if let Some(seen) = inbound.seen_state(false) {
                        file.save_soon(seen);
                    }
                }
                continue;
            }
        };
        match event {
            RealtimeEvent::Connecting { attempt } => {
                if insecure && attempt > 1 {
                    // Said at every reconnect too, not only at start: a log read after a
                    // network change must still show it.
                    tracing::warn!(
                        account = %id,
                        "reconnecting with TLS certificate verification DISABLED \
                         (tls.insecureSkipVerify): any server will be trusted"
                    );
                }
                set_state(&shared, ConnectionState::Connecting, None);
                shared.queue.push(Some(&id), Event::Connecting { attempt });
            }
            RealtimeEvent::Connected => {
                set_state(&shared, ConnectionState::Connected, None);
                shared.queue.push(Some(&id), Event::Connected);
            }
            RealtimeEvent::Authenticated {
                resumed_after_gap, ..
            } => {
                set_state(&shared, ConnectionState::Ready, None);
                shared.queue.push(
                    Some(&id),
                    Event::Authenticated {
                        user_id: identity.user_id.clone(),
                        username: identity.username.clone(),
                    },
                );
                let now = now_ms() as i64;
                let since = inbound.watermark_ms.or(first_ready_ms).unwrap_or(now);
                first_ready_ms.get_or_insert(now);
                if resumed_after_gap {
                    shared
                        .status
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .reconnects += 1;
                }
                if resumed_after_gap || std::mem::take(&mut restored) {
                    catch_up(&shared, &mut inbound, &realtime, since, &mut stop).await;
                }
            }
            RealtimeEvent::Disconnected {
                reason,
                retry_in_ms,
            } => {
                set_state(&shared, ConnectionState::Disconnected, Some(reason.clone()));
                shared.queue.push(
                    Some(&id),
                    Event::Disconnected {
                        reason,
                        retry_in_ms: Some(retry_in_ms),
                    },
                );
            }
            RealtimeEvent::AuthFailed { reason, .. } => {
                set_state(&shared, ConnectionState::AuthFailed, Some(reason.clone()));
                shared.queue.push(
                    Some(&id),
                    Event::AuthFailed {
                        reason,
                        retrying: true,
                    },
                );
            }
            RealtimeEvent::SubscribeFailed {
                event_name, reason, ..
            } => {
                tracing::warn!(account = %id, "subscription {event_name} refused: {reason}");
            }
            RealtimeEvent::RoomMessage { message, meta, via } => {
                let meta = match via {
                    Via::MyMessages => meta.map(|m| RoomMeta {
                        room_type: RoomType::from_code(m.room_type.as_deref().unwrap_or("c")),
                        room_name: m.room_name,
                        participant: m.room_participant,
                    }),
                    Via::Room(_) => None,
                };
                inbound
                    .handle_raw(&message, meta, MessageSource::Live)
                    .await;
                post_notices(&shared, &mut inbound);
            }
            RealtimeEvent::RoomsChanged { action, room } => {
                inbound.rooms.apply_room(&action, &room)
            }
            RealtimeEvent::SubscriptionsChanged {
                action,
                subscription,
            } => {
                if let Some(rid) = inbound.rooms.apply_subscription(&action, &subscription) {
                    let private = inbound.rooms.get(&rid).is_some_and(|m| {
                        matches!(m.room_type, RoomType::Private | RoomType::Direct)
                    });
                    if private {
                        realtime.watch_room(rid);
                    }
                }
            }
            RealtimeEvent::UserActivity {
                rid,
                username,
                activities,
                tmid,
            } => {
                if !username.eq_ignore_ascii_case(&identity.username) {
                    shared.queue.push(
                        Some(&id),
                        Event::Typing {
                            room_id: rid,
                            username,
                            thread_id: tmid,
                            active: activities.iter().any(|a| a == "user-typing"),
                        },
                    );
                }
            }
            RealtimeEvent::MessageDeleted {
                rid,
                id: message_id,
            } => {
                shared.queue.push(
                    Some(&id),
                    Event::MessageDeleted {
                        room_id: rid,
                        message_id,
                    },
                );
            }
        }
    }
    if let Some(file) = &mut state_file {
        if let Some(seen) = inbound.seen_state(true) {
            file.save_now(seen).await;
        }
    }
    shared.typing.set(None);
    match Arc::try_unwrap(realtime) {
        Ok(realtime) => realtime.shutdown().await,
        // A typing call still holds it: dropping the handle stops the connection too.
        Err(shared_handle) => drop(shared_handle),
    }
    finish(&shared, "stopped", inbound.undelivered);
}

/// Deliver what was missed since `since_ms`, retrying a failed fetch a few times before
/// reporting that messages may be missing.
async fn catch_up(
    shared: &Shared,
    inbound: &mut Inbound,
    realtime: &RealtimeHandle,
    since_ms: i64,
    stop: &mut watch::Receiver<bool>,
) {
    const ATTEMPTS: u32 = 4;
    let edit_rooms = inbound.recent_rooms.newest(catchup::EDIT_ROOMS);
    let room_seen = inbound.room_seen_ms();
    tracing::debug!(
        account = %shared.id,
        since = %catchup::iso(since_ms),
        rooms_seen = room_seen.len(),
        "catching up"
    );
    for attempt in 1..=ATTEMPTS {
        match missed_messages(&shared.rest, since_ms, &room_seen, &edit_rooms).await {
            Ok(missed) => {
                // Rooms joined while disconnected are unknown here (their
                // `subscriptions-changed` was missed): learn them first, or their messages
                // would be described with the fallback for unknown rooms (a channel), and a
                // DM would reach the host as a channel message.
                for room in &missed.rooms {
                    if let Some(rid) = inbound.rooms.apply_room_document(room) {
                        realtime.watch_room(rid);
                    }
                }
                // What cannot be recovered is said before what was: never skipped silently.
                for gap in missed.gaps {
                    tracing::warn!(account = %shared.id, room = %gap.room_id, "catch-up gap: {}", gap.reason);
                    let event = Event::CatchUpGap {
                        room_id: gap.room_id,
                        room_name: gap.room_name,
                        from: gap.from_ms.max(0) as u64,
                        to: gap.to_ms.max(0) as u64,
                        reason: gap.reason,
                    };
                    // Waits for room like a message, but never past a stop (a host that stops
                    // from its event callback pulls nothing meanwhile); then it is pushed
                    // without waiting, so at worst it is counted in an `overflow` event.
                    if !shared
                        .queue
                        .push_wait_or(Some(&shared.id), event.clone(), until_stopped(stop.clone()))
                        .await
                    {
                        shared.queue.push(Some(&shared.id), event);
                    }
                }
                inbound.begin_catch_up();
                for m in &missed.messages {
                    let m = RawMessage::from_value(m);
                    inbound.handle_raw(&m, None, MessageSource::CatchUp).await;
                }
                inbound.end_catch_up();
                post_notices(shared, inbound);
                // As a live deletion would have been reported; only for messages seen here.
                for (room_id, message_id) in missed.deleted {
                    if inbound.has_seen(&message_id) {
                        shared.queue.push(
                            Some(&shared.id),
                            Event::MessageDeleted {
                                room_id,
                                message_id,
                            },
                        );
                    }
                }
                return;
            }
            Err(e) if attempt < ATTEMPTS => {
                tracing::warn!(account = %shared.id, "catch-up failed (attempt {attempt}): {e}");
                if stopped_during(stop, Duration::from_millis(500 * u64::from(attempt))).await {
                    return;
                }
            }
            Err(e) => {
                shared.queue.push(
                    Some(&shared.id),
                    Event::Error {
                        message: format!("catch-up after reconnect failed, messages posted while disconnected may be missing: {e}"),
                        code: Some("catchUpFailed".into()),
                    },
                );
            }
        }
    }
}

/// Post what the pipeline has to say to rooms (the encrypted-message notice), in the
/// background: the event loop does not wait for the server.
fn post_notices(shared: &Shared, inbound: &mut Inbound) {
    for (rid, text) in inbound.notices.drain(..) {
        let deliverer = shared.deliverer.clone();
        let id = shared.id.clone();
        tokio::spawn(async move {
            if let Err(e) = deliverer.send_text(&rid, None, &text).await {
                tracing::warn!(account = %id, room = %rid, "notice not posted: {e}");
            }
        });
    }
}

fn finish(shared: &Shared, reason: &str, undelivered: u64) {
    set_state(shared, ConnectionState::Stopped, None);
    shared.queue.push_final(
        Some(&shared.id),
        Event::AccountStopped {
            reason: reason.to_owned(),
            undelivered,
        },
    );
}
