//! One DDP connection: framing, the connect handshake, heartbeats, methods and
//! subscriptions, bus events and faults (ROCKETCHAT.md §1).
//!
//! Everything runs in one task per socket. Inbound frames are handled in arrival order and
//! every handler is synchronous (the store is in memory), so one connection's messages are
//! processed strictly in order and a client ping never waits behind anything slow.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::broadcast::Receiver;
use tokio::time::Instant;

use super::login;
use super::methods::{self, Ctx};
use super::ratelimit::{self, Call, DdpRateLimiter};
use super::streams::{self, Sub, Viewer, PLAIN_PUBLICATIONS, STREAMS};
use crate::ids::random_id;
use crate::server::AppState;
use crate::store::{ApiError, BusEvent, User};

/// DDP versions the server supports, preferred first (Meteor's `SUPPORTED_DDP_VERSIONS`).
pub const SUPPORTED_VERSIONS: [&str; 3] = ["1", "pre2", "pre1"];

/// A socket that never sends `connect` is closed after this much silence (Meteor: 45 s).
pub const PRE_CONNECT_IDLE: Duration = Duration::from_secs(45);

/// Close code for a connection that cannot keep up with the events (as ddp-streamer uses).
pub const CLOSE_TRY_AGAIN_LATER: u16 = 1013;

/// A frame that cannot be written for this long means the client stopped reading. The
/// bus receiver's lag (close 1013, as ddp-streamer treats slow consumers) only shows while
/// the loop runs, so a writer stuck on a full socket is dropped here instead: a stalled
/// socket could not take the close frame anyway.
pub const SEND_STALL: Duration = Duration::from_secs(10);

/// Bus events taken per wake-up when more are already queued: their frames go out in one
/// write, as a busy server batches, instead of one write and one client wake-up per frame.
const BUS_BATCH: usize = 256;

/// What the loop does after a handler.
enum Out {
    Frame(Value),
    Raw(String),
    /// Bytes encoded once for every connection (a flood replay).
    Shared(Utf8Bytes),
    Close(u16, &'static str),
}

/// A connection's state.
struct Session {
    state: AppState,
    conn: u64,
    ip: String,
    limiter: Arc<DdpRateLimiter>,
    /// The negotiated DDP version once connected.
    version: Option<&'static str>,
    user: Option<User>,
    token: Option<String>,
    subs: Vec<Sub>,
    /// `subs` (or the user) changed since the store's record of them was updated.
    subs_changed: bool,
    notified: HashSet<String>,
    out: Vec<Out>,
}

/// Run a DDP session on an upgraded socket until either side closes it.
pub async fn run(mut socket: WebSocket, state: AppState, ip: String) {
    let conn = state
        .next_conn_id
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut bus = state.store.bus().subscribe();
    let mut half_open = state.faults.watch_half_open();
    // Whether this connection lived through a half-open window: its link counts as dead.
    let mut went_silent = *half_open.borrow_and_update();
    let mut s = Session {
        limiter: ratelimit::for_store(&state.store),
        state,
        conn,
        ip,
        version: None,
        user: None,
        token: None,
        subs: Vec::new(),
        subs_changed: false,
        notified: HashSet::new(),
        out: Vec::new(),
    };
    tracing::debug!(conn, "websocket open");
    if s.state.config.sends_greeting() && !s.half_open() {
        s.out.push(Out::Frame(json!({"server_id": "0"})));
    }
    let mut deadline = Instant::now() + PRE_CONNECT_IDLE;
    let mut ping_sent = false;
    loop {
        if !s.flush(&mut socket).await {
            break;
        }
        tokio::select! {
            changed = half_open.changed() => {
                if changed.is_err() {
                    break;
                }
                let on = *half_open.borrow_and_update();
                went_silent |= on;
                if !on && went_silent {
                    // A real half-open link does not come back: what the server sent into it
                    // is gone and the connection is eventually reset. The client must notice,
                    // reconnect and catch up; resuming on the same socket would lose silently.
                    tracing::debug!(conn, "half-open window over: connection reset");
                    return;
                }
            }
            ev = bus.recv() => match ev {
                Ok(BusEvent::DropSockets) => break,
                Ok(ev) => {
                    s.on_bus(ev);
                    if !s.drain_bus(&mut bus) {
                        break;
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    s.out.push(Out::Close(CLOSE_TRY_AGAIN_LATER, "slow consumer"));
                }
                Err(RecvError::Closed) => break,
            },
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(text))) => {
                    if s.half_open() {
                        continue;
                    }
                    // Any inbound frame counts as life (Meteor's heartbeat.messageReceived).
                    ping_sent = false;
                    s.on_text(text.as_str());
                    s.record_subs();
                    deadline = s.next_deadline();
                }
                Some(Ok(Message::Binary(_))) => {
                    if !s.half_open() {
                        ping_sent = false;
                        deadline = s.next_deadline();
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            _ = tokio::time::sleep_until(deadline) => {
                if s.half_open() {
                    // Silent, but the TCP socket stays open: no ping, no timeout close.
                    ping_sent = false;
                    deadline = s.next_deadline();
                } else if s.version.is_none() || ping_sent {
                    s.out.push(Out::Close(1000, ""));
                } else {
                    s.out.push(Out::Frame(json!({"msg": "ping"})));
                    ping_sent = true;
                    deadline = Instant::now() + s.state.config.heartbeat_timeout;
                }
            }
        }
    }
    tracing::debug!(conn, "websocket closed");
}

impl Drop for Session {
    /// However the connection ended, its subscriptions are gone with it.
    fn drop(&mut self) {
        self.state.store.close_open_streams(self.conn);
    }
}

impl Session {
    /// Tell the store which streams this connection now holds, when that changed.
    fn record_subs(&mut self) {
        if !std::mem::take(&mut self.subs_changed) {
            return;
        }
        let subs = self
            .subs
            .iter()
            .filter(|s| STREAMS.contains(&s.name.as_str()))
            .map(|s| (s.name.clone(), s.event.clone()))
            .collect();
        let user = self.user.as_ref().map(|u| u.id.as_str());
        self.state.store.set_open_streams(self.conn, user, subs);
    }

    fn half_open(&self) -> bool {
        self.state.faults.is_half_open()
    }

    /// When the next server ping is due: heartbeat interval after now, or never (pre1, or an
    /// interval of zero); before `connect`, the pre-connect idle timeout.
    fn next_deadline(&self) -> Instant {
        let far = Instant::now() + Duration::from_secs(86_400 * 365);
        match self.version {
            None => Instant::now() + PRE_CONNECT_IDLE,
            Some("pre1") => far,
            Some(_) if self.state.config.heartbeat_interval.is_zero() => far,
            Some(_) => Instant::now() + self.state.config.heartbeat_interval,
        }
    }

    /// Handle the bus events already queued, up to [`BUS_BATCH`]. Returns false on
    /// `DropSockets`.
    fn drain_bus(&mut self, bus: &mut Receiver<BusEvent>) -> bool {
        for _ in 0..BUS_BATCH {
            match bus.try_recv() {
                Ok(BusEvent::DropSockets) => return false,
                Ok(ev) => self.on_bus(ev),
                Err(TryRecvError::Lagged(_)) => {
                    self.out
                        .push(Out::Close(CLOSE_TRY_AGAIN_LATER, "slow consumer"));
                    break;
                }
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        true
    }

    /// Send what the handlers queued, in one write. Returns false once the socket is closed.
    async fn flush(&mut self, socket: &mut WebSocket) -> bool {
        let out = std::mem::take(&mut self.out);
        if out.is_empty() {
            return true;
        }
        for o in out {
            if self.half_open() {
                // Half-open: whatever was queued is lost, as on a dead link.
                continue;
            }
            let text = match o {
                Out::Frame(v) => v.to_string().into(),
                Out::Raw(t) => t.into(),
                Out::Shared(bytes) => bytes,
                Out::Close(code, reason) => {
                    let close = Message::Close(Some(CloseFrame {
                        code,
                        reason: reason.into(),
                    }));
                    let _ = tokio::time::timeout(SEND_STALL, socket.send(close)).await;
                    return false;
                }
            };
            let sent = tokio::time::timeout(SEND_STALL, socket.feed(Message::Text(text)));
            if !matches!(sent.await, Ok(Ok(()))) {
                return false;
            }
        }
        matches!(
            tokio::time::timeout(SEND_STALL, socket.flush()).await,
            Ok(Ok(()))
        )
    }

    fn frame(&mut self, v: Value) {
        self.out.push(Out::Frame(v));
    }

    fn error_frame(&mut self, reason: &str, offending: Option<&Value>) {
        let mut f = json!({"msg": "error", "reason": reason});
        if let Some(m) = offending {
            f["offendingMessage"] = m.clone();
        }
        self.frame(f);
    }

    // ---- bus ---------------------------------------------------------------------------

    fn on_bus(&mut self, ev: BusEvent) {
        if self.half_open() {
            return;
        }
        match ev {
            BusEvent::MalformedFrame(text) => self.out.push(Out::Raw(text)),
            BusEvent::TokensRevoked { user_id } => {
                // Meteor watches the token a connection logged in with and closes the
                // connection when it disappears (accounts-base), so a revoked or expired
                // session ends here; the client reconnects, resumes, and gets the 403.
                let mine = self.user.as_ref().is_some_and(|u| u.id == user_id);
                let still_valid = self
                    .token
                    .as_deref()
                    .is_some_and(|t| self.state.store.user_by_token(t).is_ok());
                if mine && !still_valid {
                    self.out.push(Out::Close(1000, "logged out"));
                }
            }
            BusEvent::DropSockets => {}
            BusEvent::Replay(frame) => {
                if let (Some(_), Some(user)) = (self.version, &self.user) {
                    let frames = frame.frames_for(&user.id, &self.subs);
                    self.out.extend(frames.map(Out::Shared));
                }
            }
            ev => {
                if self.version.is_none() || self.subs.is_empty() {
                    return;
                }
                let mut viewer = Viewer {
                    store: &self.state.store,
                    connection: self.conn,
                    user: self.user.as_ref().map(|u| u.id.as_str()),
                    notified: &mut self.notified,
                };
                let frames = streams::frames_for(&ev, &self.subs, &mut viewer);
                self.out.extend(frames.into_iter().map(Out::Frame));
            }
        }
    }

    // ---- inbound -----------------------------------------------------------------------

    fn on_text(&mut self, text: &str) {
        let Ok(msg) = serde_json::from_str::<Value>(text) else {
            self.error_frame("Parse error", None);
            return;
        };
        if !msg.is_object() {
            self.error_frame("Bad request", None);
            return;
        }
        let kind = match &msg["msg"] {
            Value::String(s) if !s.is_empty() => s.clone(),
            Value::Null | Value::Bool(false) => {
                // Meteor's `!msg.msg`: a missing or falsy `msg` is a bad request.
                self.error_frame("Bad request", Some(&msg));
                return;
            }
            Value::Number(n) if n.as_f64() == Some(0.0) => {
                self.error_frame("Bad request", Some(&msg));
                return;
            }
            Value::String(_) => {
                self.error_frame("Bad request", Some(&msg));
                return;
            }
            other => other.to_string(),
        };
        if kind == "connect" {
            if self.version.is_some() {
                self.error_frame("Already connected", Some(&msg));
            } else {
                self.on_connect(&msg);
            }
            return;
        }
        let Some(version) = self.version else {
            self.error_frame("Must connect first", Some(&msg));
            return;
        };
        match kind.as_str() {
            "ping" if version != "pre1" => {
                let mut pong = json!({"msg": "pong"});
                if let Some(id) = msg.get("id").filter(|id| !id.is_null()) {
                    pong["id"] = id.clone();
                }
                self.frame(pong);
            }
            "pong" if version != "pre1" => {}
            "method" => self.on_method(&msg),
            "sub" => self.on_sub(&msg),
            "unsub" => {
                let id = msg.get("id").cloned().unwrap_or(Value::Null);
                self.subs.retain(|s| Value::String(s.id.clone()) != id);
                self.subs_changed = true;
                self.frame(json!({"msg": "nosub", "id": id}));
            }
            _ => self.error_frame("Bad request", Some(&msg)),
        }
    }

    /// Meteor's `_handleConnect`: the proposed version must be among the client's supported
    /// ones and must be the first of them the server supports; otherwise `failed` + close.
    fn on_connect(&mut self, msg: &Value) {
        let version = msg["version"].as_str();
        let support: Option<Vec<&str>> = msg["support"]
            .as_array()
            .and_then(|a| a.iter().map(Value::as_str).collect());
        let (Some(version), Some(support)) = (version, support) else {
            return self.fail(SUPPORTED_VERSIONS[0]);
        };
        if !support.contains(&version) {
            return self.fail(SUPPORTED_VERSIONS[0]);
        }
        let best = support
            .iter()
            .find_map(|v| SUPPORTED_VERSIONS.iter().find(|s| *s == v))
            .copied()
            .unwrap_or(SUPPORTED_VERSIONS[0]);
        if best != version {
            return self.fail(best);
        }
        self.version = Some(best);
        self.frame(json!({"msg": "connected", "session": random_id()}));
    }

    fn fail(&mut self, version: &str) {
        self.frame(json!({"msg": "failed", "version": version}));
        self.out.push(Out::Close(1000, ""));
    }

    fn rate_limit(&self, kind: &str, name: &str) -> Result<(), ApiError> {
        if kind == "method" && name == "login" {
            self.state.stats.count_login();
        }
        let checked = self.check_rate_limit(kind, name);
        if checked.is_err() {
            self.state.stats.count_refused(kind, name);
        }
        checked
    }

    fn check_rate_limit(&self, kind: &str, name: &str) -> Result<(), ApiError> {
        if let Some(ms) = self.state.faults.take_ddp_rate_limit(name) {
            return Err(ratelimit::too_many_requests(ms as i64));
        }
        if !self.state.store.settings.ddp_rate_limiter {
            return Ok(());
        }
        self.limiter.check(&Call {
            kind,
            name,
            connection: self.conn,
            user_id: self.user.as_ref().map(|u| u.id.as_str()),
            send_many: self.user.as_ref().is_some_and(|u| u.has_role("bot")),
            ip: &self.ip,
        })
    }

    fn on_method(&mut self, msg: &Value) {
        let params_ok = msg.get("params").is_none_or(Value::is_array);
        let seed_ok = msg.get("randomSeed").is_none_or(Value::is_string);
        let (Some(id), Some(name)) = (msg["id"].as_str(), msg["method"].as_str()) else {
            return self.error_frame("Malformed method invocation", Some(msg));
        };
        if !params_ok || !seed_ok {
            return self.error_frame("Malformed method invocation", Some(msg));
        }
        let empty = Vec::new();
        let params = msg["params"].as_array().unwrap_or(&empty);
        let outcome = if !methods::exists(self.state.store.profile, name) {
            Err(ApiError::new("404", &format!("Method '{name}' not found")))
        } else if let Err(e) = self.rate_limit("method", name) {
            Err(e)
        } else {
            match name {
                "login" => self.login(params),
                "logout" => self.logout(),
                _ => {
                    let ctx = Ctx {
                        store: &self.state.store,
                        connection: self.conn,
                        user: self.user.as_ref(),
                        base_url: &self.state.base_url,
                    };
                    methods::call(&ctx, name, params)
                }
            }
        };
        let mut result = json!({"msg": "result", "id": id});
        match outcome {
            Ok(Some(v)) => result["result"] = v,
            Ok(None) => {}
            Err(e) => result["error"] = e.to_ddp(),
        }
        self.frame(result);
        self.frame(json!({"msg": "updated", "methods": [id]}));
    }

    fn login(&mut self, params: &[Value]) -> methods::Outcome {
        let done = login::login(&self.state.store, params.first())?;
        self.user = Some(done.user);
        self.token = Some(done.token);
        self.rerun_subs();
        Ok(Some(done.result))
    }

    /// `logout` destroys the token the connection logged in with (Meteor's
    /// `destroyToken`, which removes a personal access token used for `resume` as well).
    fn logout(&mut self) -> methods::Outcome {
        if let Some(t) = self.token.take() {
            self.state.store.remove_token(&t);
        }
        if self.user.take().is_some() {
            self.rerun_subs();
        }
        Ok(None)
    }

    /// Meteor re-runs every subscription when the connection's user changes: each one that
    /// still passes its read rule is `ready` again (the `added` doc of a useCollection stream
    /// is unchanged, so not re-sent); the others end with `nosub` and their error.
    fn rerun_subs(&mut self) {
        let user = self.user.as_ref().map(|u| u.id.clone());
        self.subs_changed = true;
        let subs = std::mem::take(&mut self.subs);
        for sub in subs {
            let check = if STREAMS.contains(&sub.name.as_str()) {
                streams::can_read(&self.state.store, &sub.name, &sub.event, user.as_deref())
            } else {
                Ok(())
            };
            match check {
                Ok(()) => {
                    self.frame(json!({"msg": "ready", "subs": [sub.id]}));
                    self.subs.push(sub);
                }
                Err(e) => {
                    self.frame(json!({"msg": "nosub", "id": sub.id, "error": e.to_ddp()}));
                }
            }
        }
    }

    fn on_sub(&mut self, msg: &Value) {
        let params_ok = msg.get("params").is_none_or(Value::is_array);
        let (Some(id), Some(name)) = (msg["id"].as_str(), msg["name"].as_str()) else {
            return self.error_frame("Malformed subscription", Some(msg));
        };
        if !params_ok {
            return self.error_frame("Malformed subscription", Some(msg));
        }
        let is_stream = STREAMS.contains(&name);
        if !is_stream && !PLAIN_PUBLICATIONS.contains(&name) {
            let e = ApiError::new("404", &format!("Subscription '{name}' not found"));
            return self.frame(json!({"msg": "nosub", "id": id, "error": e.to_ddp()}));
        }
        if self.subs.iter().any(|s| s.id == id) {
            return;
        }
        if let Err(e) = self.rate_limit("subscription", name) {
            return self.frame(json!({"msg": "nosub", "id": id, "error": e.to_ddp()}));
        }
        let empty = Vec::new();
        let params = msg["params"].as_array().unwrap_or(&empty);
        let (event, use_collection) = if is_stream {
            streams::parse_params(params)
        } else {
            (String::new(), false)
        };
        if is_stream {
            let user = self.user.as_ref().map(|u| u.id.as_str());
            if let Err(e) = streams::can_read(&self.state.store, name, &event, user) {
                return self.frame(json!({"msg": "nosub", "id": id, "error": e.to_ddp()}));
            }
            if use_collection {
                self.frame(json!({
                    "msg": "added",
                    "collection": name,
                    "id": "id",
                    "fields": {"eventName": event},
                }));
            }
        }
        self.frame(json!({"msg": "ready", "subs": [id]}));
        self.subs_changed = true;
        self.subs.push(Sub {
            id: id.to_owned(),
            name: name.to_owned(),
            event,
        });
    }
}
