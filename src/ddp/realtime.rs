//! The realtime supervisor of one account: connect, log in with the current token,
//! subscribe to the streams a bot needs, forward events, and reconnect with capped
//! exponential backoff and jitter whenever the connection ends.
//!
//! Subscriptions per connection:
//! - `stream-room-messages ["__my_messages__", …]`: every room the bot can access;
//! - `stream-notify-user ["<uid>/rooms-changed", …]` and `["<uid>/subscriptions-changed", …]`:
//!   so rooms the bot joins later are noticed;
//! - `stream-room-messages [<rid>, …]` for each watched room: private groups and DMs given at
//!   start ([`RealtimeConfig::extra_room_ids`]), added with [`RealtimeHandle::watch_room`],
//!   or reported as inserted (`p`/`d`) by the two notify-user streams.
//!
//! Current servers put private groups and DMs on `__my_messages__` too, so a message in a
//! watched room would arrive **twice** (once per subscription, see [`Via`]). The first
//! private-room message seen on `__my_messages__` proves it for this server: the per-room
//! streams are then dropped and not asked for again (see `realtime_subscribe.rs`). Until
//! then, and on a server that never shows it, de-duplication by `_id` / `_updatedAt` is the
//! inbound pipeline's job, which has to de-duplicate edits and reactions anyway.
//!
//! After a reconnect, [`RealtimeEvent::Authenticated`] carries `resumed_after_gap` and the
//! time of the last frame seen before the gap, so the caller can fetch what was posted while
//! disconnected over REST. It is emitted only once every subscription is in place, so a
//! catch-up started then cannot miss a message between the two.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::connection::{CallError, Connection, ConnectionConfig, EventRoute};
use super::stream::{RawMessage, RoomMeta, NOTIFY_ROOM};
use crate::auth::{AuthError, AuthToken, TokenSource};

/// Reconnect delays: `initial * factor^n`, capped at `max`, then ±`jitter` (a fraction).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// The first delay (default 1 s).
    pub initial: Duration,
    /// The cap (default 60 s).
    pub max: Duration,
    /// Growth per consecutive failure (default 2).
    pub factor: f64,
    /// Relative jitter, 0.3 = ±30 % (default). Jitter spreads the reconnects of many bots
    /// after a server restart.
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            factor: 2.0,
            jitter: 0.3,
        }
    }
}

impl Backoff {
    /// The delay after `failures` consecutive failures (0 = the first retry), with the
    /// jitter sample `unit` in `[-1, 1]`. Pure, so tests can pin it; the result never
    /// exceeds `max`.
    pub fn delay(&self, failures: u32, unit: f64) -> Duration {
        let initial = self.initial.as_secs_f64();
        let max = self.max.as_secs_f64().max(initial);
        let exp = self.factor.max(1.0).powi(failures.min(64) as i32);
        let base = (initial * exp).min(max);
        let jitter = base * self.jitter.clamp(0.0, 1.0) * unit.clamp(-1.0, 1.0);
        Duration::from_secs_f64((base + jitter).clamp(0.0, max))
    }

    /// [`Backoff::delay`] with a random jitter sample.
    pub fn next_delay(&self, failures: u32) -> Duration {
        self.delay(failures, rand::random_range(-1.0..=1.0))
    }
}

/// Everything the supervisor needs for one account.
#[derive(Clone)]
pub struct RealtimeConfig {
    /// `ws(s)://host/websocket`.
    pub ws_url: String,
    /// The shared rustls config (required for `wss://`).
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Where the login token comes from; told when the server rejects one.
    pub token_source: Arc<dyn TokenSource>,
    /// Our heartbeat interval (default 25 s).
    pub ping_interval: Duration,
    /// Watchdog: close after this long without any frame (default 60 s).
    pub idle_timeout: Duration,
    /// Limit for `login`, each subscription and [`RealtimeHandle::call`] (default 10 s).
    pub call_timeout: Duration,
    /// Reconnect delays.
    pub backoff: Backoff,
    /// Delay after the credentials were rejected (default 5 min): retrying sooner cannot
    /// help until someone fixes the configuration, and tight login loops get rate limited.
    pub auth_failure_delay: Duration,
    /// A connection that stayed up this long resets the backoff (default 30 s).
    pub stable_after: Duration,
    /// Rooms to subscribe to individually from the start (private groups, DMs).
    pub extra_room_ids: Vec<String>,
}

impl RealtimeConfig {
    /// A config with the defaults listed on each field.
    pub fn new(ws_url: impl Into<String>, token_source: Arc<dyn TokenSource>) -> Self {
        RealtimeConfig {
            ws_url: ws_url.into(),
            tls: None,
            token_source,
            ping_interval: Duration::from_secs(25),
            idle_timeout: Duration::from_secs(60),
            call_timeout: Duration::from_secs(10),
            backoff: Backoff::default(),
            auth_failure_delay: Duration::from_secs(300),
            stable_after: Duration::from_secs(30),
            extra_room_ids: Vec::new(),
        }
    }
}

/// Which subscription delivered a room message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// The all-rooms `__my_messages__` subscription (carries [`RoomMeta`]).
    MyMessages,
    /// The per-room subscription of this room id.
    Room(String),
}

/// What the supervisor reports: connection state and stream events.
#[derive(Clone, Debug, PartialEq)]
pub enum RealtimeEvent {
    /// Connection attempt number `attempt` (1-based, counts every attempt) is starting.
    Connecting {
        /// Attempt number.
        attempt: u32,
    },
    /// The DDP handshake succeeded; login follows.
    Connected,
    /// Logged in and every subscription is in place.
    Authenticated {
        /// The bot's user id as the server reported it.
        user_id: String,
        /// True when an earlier connection had been authenticated: messages may have been
        /// missed in between, run a catch-up.
        resumed_after_gap: bool,
        /// Epoch ms of the last frame received before the gap (catch up from there).
        last_frame_at_ms: Option<u64>,
    },
    /// The connection ended (or could not be made); the next attempt starts in `retry_in_ms`.
    Disconnected {
        /// Human readable cause.
        reason: String,
        /// Delay before the next attempt.
        retry_in_ms: u64,
    },
    /// The credentials were refused; the next attempt starts in `retry_in_ms` (long).
    AuthFailed {
        /// The server's or token source's message.
        reason: String,
        /// Delay before the next attempt.
        retry_in_ms: u64,
    },
    /// A subscription was refused (for example `not-allowed` for a private group the bot
    /// left). The connection stays up.
    SubscribeFailed {
        /// Publication, e.g. `stream-room-messages`.
        name: String,
        /// Its event name (room id, `<uid>/rooms-changed`, ...).
        event_name: String,
        /// Why.
        reason: String,
    },
    /// A new or updated message.
    RoomMessage {
        /// The message in DDP form (EJSON dates), as JSON text.
        message: RawMessage,
        /// Room info from `__my_messages__`; `None` on per-room deliveries.
        meta: Option<RoomMeta>,
        /// Which subscription delivered it.
        via: Via,
    },
    /// A room of the bot was inserted, updated or removed.
    RoomsChanged {
        /// `inserted`, `updated`, `removed`, `changed`.
        action: String,
        /// The room object.
        room: Value,
    },
    /// A subscription (room membership) of the bot changed.
    SubscriptionsChanged {
        /// `inserted`, `updated`, `removed`.
        action: String,
        /// The subscription object.
        subscription: Value,
    },
    /// Someone is typing (or recording, uploading) in a room.
    UserActivity {
        /// Room id.
        rid: String,
        /// Who.
        username: String,
        /// Activities; empty means stopped.
        activities: Vec<String>,
        /// Thread root, when in a thread.
        tmid: Option<String>,
    },
    /// A message was hard-deleted.
    MessageDeleted {
        /// Room id.
        rid: String,
        /// Message id.
        id: String,
    },
}

/// Starts the supervisor.
pub struct Realtime;

impl Realtime {
    /// Spawn the supervisor on the current tokio runtime. Events go to `events`; a slow
    /// consumer slows the socket reader (backpressure) rather than losing messages.
    pub fn spawn(config: RealtimeConfig, events: mpsc::Sender<RealtimeEvent>) -> RealtimeHandle {
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let live = Arc::new(Mutex::new(None));
        let call_timeout = config.call_timeout;
        let supervisor = Supervisor {
            rooms: config.extra_room_ids.iter().cloned().collect(),
            room_streams: subscribe::RoomStreams::default(),
            config,
            events,
            commands: cmd_rx,
            command_tx: cmd_tx.downgrade(),
            shutdown: shutdown_rx,
            live: Arc::clone(&live),
            ever_authenticated: false,
            last_frame_ms: None,
        };
        let task = tokio::spawn(supervisor.run());
        RealtimeHandle {
            commands: cmd_tx,
            shutdown: shutdown_tx,
            live,
            call_timeout,
            task,
        }
    }
}

enum Command {
    WatchRoom(String),
    /// `__my_messages__` carries private rooms here: unsubscribe the per-room streams.
    DropRoomStreams,
}

/// Controls a running supervisor. Dropping it stops the supervisor too (without waiting).
pub struct RealtimeHandle {
    commands: mpsc::UnboundedSender<Command>,
    shutdown: watch::Sender<bool>,
    live: Arc<Mutex<Option<Connection>>>,
    call_timeout: Duration,
    task: tokio::task::JoinHandle<()>,
}

impl RealtimeHandle {
    /// Also subscribe to this room by itself, now and after every reconnect (for private
    /// groups and DMs the bot joined after start).
    pub fn watch_room(&self, rid: impl Into<String>) {
        let _ = self.commands.send(Command::WatchRoom(rid.into()));
    }

    /// Call a method on the live, authenticated connection. [`CallError::NotConnected`]
    /// between connections: the caller decides whether a REST fallback makes sense.
    pub async fn call(&self, method: &str, params: Vec<Value>) -> Result<Option<Value>, CallError> {
        let conn = lock(&self.live).clone().ok_or(CallError::NotConnected)?;
        conn.call(method, params, self.call_timeout).await
    }

    /// Start (`typing = true`) or stop the typing indicator: `stream-notify-room
    /// ["<rid>/user-activity", username, ["user-typing"] | [], {tmid?}]`, the only form
    /// Rocket.Chat 7.x/8.x accept.
    pub async fn set_typing(
        &self,
        rid: &str,
        username: &str,
        typing: bool,
        tmid: Option<&str>,
    ) -> Result<(), CallError> {
        let activities: Vec<&str> = if typing { vec!["user-typing"] } else { vec![] };
        let extra = match tmid {
            Some(t) => json!({ "tmid": t }),
            None => json!({}),
        };
        self.call(
            NOTIFY_ROOM,
            vec![
                json!(format!("{rid}/user-activity")),
                json!(username),
                json!(activities),
                extra,
            ],
        )
        .await
        .map(|_| ())
    }

    /// True while an authenticated connection is up.
    pub fn is_connected(&self) -> bool {
        lock(&self.live).is_some()
    }

    /// Stop: close the connection, do not reconnect, wait for the supervisor to finish.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// How one connection attempt ended.
enum SessionEnd {
    Shutdown,
    AuthRejected(String),
    Lost {
        reason: String,
        /// Reset the backoff: the connection authenticated or stayed up long enough.
        stable: bool,
        /// Wait at least this long (rate limits).
        min_delay: Duration,
    },
}

impl SessionEnd {
    fn lost(reason: impl Into<String>) -> Self {
        SessionEnd::Lost {
            reason: reason.into(),
            stable: false,
            min_delay: Duration::ZERO,
        }
    }

    fn from_auth_error(e: AuthError) -> Self {
        match e {
            AuthError::Rejected(r) | AuthError::TwoFactorRequired(r) => SessionEnd::AuthRejected(r),
            AuthError::RateLimited { retry_after_ms } => SessionEnd::Lost {
                reason: "login rate limited".into(),
                stable: false,
                min_delay: Duration::from_millis(retry_after_ms),
            },
            AuthError::Transient(r) => SessionEnd::lost(format!("credentials unavailable: {r}")),
        }
    }
}

struct Supervisor {
    config: RealtimeConfig,
    events: mpsc::Sender<RealtimeEvent>,
    commands: mpsc::UnboundedReceiver<Command>,
    /// For the connection's reader (weak: the handle's drop still ends `commands`).
    command_tx: mpsc::WeakUnboundedSender<Command>,
    shutdown: watch::Receiver<bool>,
    live: Arc<Mutex<Option<Connection>>>,
    rooms: BTreeSet<String>,
    /// The per-room streams of the current connection, and whether this server still needs them.
    room_streams: subscribe::RoomStreams,
    ever_authenticated: bool,
    last_frame_ms: Option<u64>,
}

impl Supervisor {
    async fn run(mut self) {
        let mut attempt: u32 = 0;
        let mut failures: u32 = 0;
        loop {
            attempt = attempt.saturating_add(1);
            self.emit(RealtimeEvent::Connecting { attempt }).await;
            let end = self.session().await;
            *lock(&self.live) = None;
            let delay = match end {
                SessionEnd::Shutdown => break,
                SessionEnd::AuthRejected(reason) => {
                    let delay = self.config.auth_failure_delay;
                    tracing::error!(%reason, "realtime login rejected; waiting before retrying");
                    self.emit(RealtimeEvent::AuthFailed {
                        reason,
                        retry_in_ms: delay.as_millis() as u64,
                    })
                    .await;
                    delay
                }
                SessionEnd::Lost {
                    reason,
                    stable,
                    min_delay,
                } => {
                    if stable {
                        failures = 0;
                    }
                    let delay = self.config.backoff.next_delay(failures).max(min_delay);
                    failures = failures.saturating_add(1);
                    tracing::warn!(%reason, retry_in_ms = delay.as_millis() as u64, "realtime disconnected");
                    self.emit(RealtimeEvent::Disconnected {
                        reason,
                        retry_in_ms: delay.as_millis() as u64,
                    })
                    .await;
                    delay
                }
            };
            if !self.pause(delay).await {
                break;
            }
        }
        *lock(&self.live) = None;
    }

    fn shutting_down(&self) -> bool {
        *self.shutdown.borrow() || self.shutdown.has_changed().is_err()
    }

    /// Send an event; gives up only on shutdown (a full channel is backpressure, not loss).
    async fn emit(&mut self, event: RealtimeEvent) {
        if self.shutting_down() {
            return;
        }
        tokio::select! {
            _ = self.shutdown.changed() => {}
            _ = self.events.send(event) => {}
        }
    }

    /// Wait before the next attempt; `false` on shutdown. Rooms watched meanwhile are kept.
    async fn pause(&mut self, delay: Duration) -> bool {
        let until = Instant::now() + delay;
        loop {
            if self.shutting_down() {
                return false;
            }
            tokio::select! {
                _ = self.shutdown.changed() => return false,
                _ = tokio::time::sleep_until(until) => return true,
                cmd = self.commands.recv() => match cmd {
                    Some(Command::WatchRoom(rid)) => { self.rooms.insert(rid); }
                    // No connection, so no per-room streams open.
                    Some(Command::DropRoomStreams) => {}
                    None => return false,
                },
            }
        }
    }

    async fn session(&mut self) -> SessionEnd {
        if self.shutting_down() {
            return SessionEnd::Shutdown;
        }
        let token_source = Arc::clone(&self.config.token_source);
        let token = tokio::select! {
            _ = self.shutdown.changed() => return SessionEnd::Shutdown,
            t = token_source.current() => match t {
                Ok(t) => t,
                Err(e) => return SessionEnd::from_auth_error(e),
            },
        };
        // Stream events go from the reader straight to our consumer, held until the login
        // and subscriptions are done and `Authenticated` is sent ahead of them.
        let route = EventRoute {
            tx: self.events.clone(),
            map: Box::new(self.router()),
            held: true,
        };
        let conn_config = ConnectionConfig {
            ping_interval: self.config.ping_interval,
            idle_timeout: self.config.idle_timeout,
            ..ConnectionConfig::default()
        };
        let connect = Connection::connect_routed(
            &self.config.ws_url,
            self.config.tls.clone(),
            conn_config,
            route,
        );
        let conn = tokio::select! {
            _ = self.shutdown.changed() => return SessionEnd::Shutdown,
            c = connect => match c {
                Ok(c) => c,
                Err(e) => return SessionEnd::lost(e.to_string()),
            },
        };
        let started = Instant::now();
        self.emit(RealtimeEvent::Connected).await;
        let end = self.authenticated_session(&conn, token, started).await;
        conn.close();
        self.last_frame_ms = Some(conn.last_frame_at_ms());
        end
    }

    async fn authenticated_session(
        &mut self,
        conn: &Connection,
        token: AuthToken,
        started: Instant,
    ) -> SessionEnd {
        // Before authentication, only a connection that stayed up long enough resets the
        // backoff (a server that accepts sockets but fails logins must not be hammered).
        let user_id = tokio::select! {
            _ = self.shutdown.changed() => return SessionEnd::Shutdown,
            r = login::login(&self.config, conn, token) => match r {
                Ok(uid) => uid,
                Err(SessionEnd::Lost { reason, min_delay, .. }) => {
                    let stable = started.elapsed() >= self.config.stable_after;
                    return SessionEnd::Lost { reason, stable, min_delay };
                }
                Err(end) => return end,
            },
        };
        if let Err(reason) = self.subscribe_all(conn, &user_id).await {
            return SessionEnd::Lost {
                reason,
                stable: started.elapsed() >= self.config.stable_after,
                min_delay: Duration::ZERO,
            };
        }
        *lock(&self.live) = Some(conn.clone());
        let resumed = self.ever_authenticated;
        self.ever_authenticated = true;
        self.emit(RealtimeEvent::Authenticated {
            user_id,
            resumed_after_gap: resumed,
            last_frame_at_ms: if resumed { self.last_frame_ms } else { None },
        })
        .await;
        conn.release_events();
        // One wait for the end, not a new one per command.
        let closed = conn.closed();
        tokio::pin!(closed);
        loop {
            tokio::select! {
                biased;
                _ = self.shutdown.changed() => return SessionEnd::Shutdown,
                cmd = self.commands.recv() => match cmd {
                    Some(Command::WatchRoom(rid)) => self.watch(rid, Some(conn)),
                    Some(Command::DropRoomStreams) => self.room_streams.drop_open(conn),
                    None => return SessionEnd::Shutdown,
                },
                // The reader hands over every event it received before reporting the end.
                reason = &mut closed => {
                    return SessionEnd::Lost {
                        reason: reason.to_string(),
                        stable: true,
                        min_delay: Duration::ZERO,
                    };
                }
            }
        }
    }
}

#[path = "realtime_login.rs"]
mod login;
#[path = "realtime_subscribe.rs"]
mod subscribe;

#[cfg(test)]
#[path = "realtime_tests.rs"]
mod tests;
