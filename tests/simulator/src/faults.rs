//! Fault injection: what tests arm through [`crate::Simulator::faults`] or `POST /_sim/faults`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::store::{BusEvent, Store};

/// A fault, as the control API takes it (`{"kind": "...", ...}`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Fault {
    /// Close every WebSocket now.
    DropSockets,
    /// Stop (or resume) answering and sending anything on WebSockets, pings included.
    HalfOpen {
        /// On or off.
        on: bool,
    },
    /// Reset new TCP connections (WebSocket and REST) for this many seconds.
    RefuseConnections {
        /// Duration.
        seconds: f64,
    },
    /// Mark one token expired.
    ExpireToken {
        /// The token.
        token: String,
    },
    /// Expire the newest session token of a user (the one a password login is using).
    ExpireSession {
        /// Username.
        user: String,
    },
    /// Revoke every token of a user.
    RevokeTokens {
        /// Username.
        user: String,
    },
    /// Answer the next `count` calls to `route` (a path such as `/api/v1/chat.sendMessage`)
    /// with this status and Rocket.Chat's body for it.
    HttpStatus {
        /// Path, without query.
        route: String,
        /// 429, 500, 502, 503, …
        status: u16,
        /// How many calls.
        count: u32,
    },
    /// Delay the next `count` calls to `route` by `ms`.
    Delay {
        /// Path, without query.
        route: String,
        /// Milliseconds.
        ms: u64,
        /// How many calls.
        #[serde(default = "one")]
        count: u32,
    },
    /// Send this text as a frame on every open WebSocket.
    MalformedFrame {
        /// The frame text.
        text: String,
    },
    /// The history endpoints answer 403 to `user` for room `rid` (its read permission was
    /// taken away) until the faults are reset.
    DenyHistory {
        /// Username.
        user: String,
        /// Room id.
        rid: String,
    },
    /// Refuse the next `count` DDP method calls or subscriptions named `name` (for example
    /// `stream-room-messages`) as Meteor's rate limiter does: `too-many-requests` with
    /// `details.timeToReset`. The real rules need tens of seconds of traffic to trip.
    RateLimitDdp {
        /// Method or publication name.
        name: String,
        /// How many calls.
        count: u32,
        /// The wait the error announces, in milliseconds.
        #[serde(rename = "timeToResetMs", default = "one_second")]
        time_to_reset_ms: u64,
    },
}

fn one_second() -> u64 {
    1000
}

fn one() -> u32 {
    1
}

#[derive(Default)]
struct Armed {
    http: HashMap<String, (u16, u32)>,
    delay: HashMap<String, (u64, u32)>,
    refuse_until: Option<Instant>,
    /// (username, room id) pairs whose history is refused.
    history_denied: HashSet<(String, String)>,
    /// DDP method or publication name → (announced wait in ms, calls left).
    ddp_limited: HashMap<String, (u64, u32)>,
}

/// The armed faults, shared by the listener, the REST middleware and every DDP connection.
pub struct Faults {
    armed: Mutex<Armed>,
    /// Calls answered per route (path without query), faults included: lets a test wait
    /// until the client got past a given call.
    answered: Mutex<HashMap<String, u64>>,
    /// Whether sockets are half-open. A watch, so a session hears the window end at once:
    /// a link that went dead is then closed, never resumed (see `ddp::session`).
    half_open: tokio::sync::watch::Sender<bool>,
    store: Arc<Store>,
}

impl Faults {
    pub(crate) fn new(store: Arc<Store>) -> Self {
        Faults {
            armed: Mutex::default(),
            answered: Mutex::default(),
            half_open: tokio::sync::watch::Sender::new(false),
            store,
        }
    }

    fn armed(&self) -> std::sync::MutexGuard<'_, Armed> {
        self.armed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Arm a fault. Returns false for an `expireToken`/`revokeTokens` that matched nothing.
    pub fn inject(&self, fault: Fault) -> bool {
        match fault {
            Fault::DropSockets => self.drop_sockets(),
            Fault::HalfOpen { on } => self.set_half_open(on),
            Fault::RefuseConnections { seconds } => {
                self.refuse_connections(Duration::from_secs_f64(seconds))
            }
            Fault::ExpireToken { token } => return self.store.expire_token(&token),
            Fault::ExpireSession { user } => return self.store.expire_newest_session(&user),
            Fault::RevokeTokens { user } => return self.store.revoke_tokens(&user) > 0,
            Fault::HttpStatus {
                route,
                status,
                count,
            } => {
                self.armed().http.insert(route, (status, count));
            }
            Fault::Delay { route, ms, count } => {
                self.armed().delay.insert(route, (ms, count));
            }
            Fault::MalformedFrame { text } => {
                self.store.bus().publish(BusEvent::MalformedFrame(text))
            }
            Fault::DenyHistory { user, rid } => {
                self.armed().history_denied.insert((user, rid));
            }
            Fault::RateLimitDdp {
                name,
                count,
                time_to_reset_ms,
            } => {
                self.armed()
                    .ddp_limited
                    .insert(name, (time_to_reset_ms, count));
            }
        }
        true
    }

    /// Close every WebSocket now.
    pub fn drop_sockets(&self) {
        self.store.bus().publish(BusEvent::DropSockets);
    }

    /// Half-open mode: sockets stay open but the server goes silent (no pongs, no events).
    pub fn set_half_open(&self, on: bool) {
        self.half_open.send_replace(on);
    }

    /// Whether sockets are half-open.
    pub fn is_half_open(&self) -> bool {
        *self.half_open.borrow()
    }

    /// Follow the half-open switch (a session closes its socket when a window it saw ends).
    pub fn watch_half_open(&self) -> tokio::sync::watch::Receiver<bool> {
        self.half_open.subscribe()
    }

    /// Reset new connections for a while.
    pub fn refuse_connections(&self, d: Duration) {
        self.armed().refuse_until = Some(Instant::now() + d);
    }

    /// Whether new connections are being refused now.
    pub fn refusing(&self) -> bool {
        self.armed()
            .refuse_until
            .is_some_and(|t| Instant::now() < t)
    }

    /// Answer the next `count` calls to `route` with `status`.
    pub fn http_status(&self, route: &str, status: u16, count: u32) {
        self.inject(Fault::HttpStatus {
            route: route.into(),
            status,
            count,
        });
    }

    /// Take one armed status for a route, if any.
    pub fn take_http(&self, route: &str) -> Option<u16> {
        take(&mut self.armed().http, route)
    }

    /// Take one armed delay for a route, if any.
    pub fn take_delay(&self, route: &str) -> Option<Duration> {
        take(&mut self.armed().delay, route).map(Duration::from_millis)
    }

    /// Take one armed DDP refusal for a method or publication: the wait it announces.
    pub fn take_ddp_rate_limit(&self, name: &str) -> Option<u64> {
        take(&mut self.armed().ddp_limited, name)
    }

    /// Whether the history of room `rid` is refused to `username`.
    pub fn history_denied(&self, username: &str, rid: &str) -> bool {
        self.armed()
            .history_denied
            .contains(&(username.to_owned(), rid.to_owned()))
    }

    /// Count one answered call to `route`.
    pub(crate) fn count_answer(&self, route: &str) {
        let mut answered = self.answered.lock().unwrap_or_else(|e| e.into_inner());
        *answered.entry(route.to_owned()).or_default() += 1;
    }

    /// How many calls to `route` (a path such as `/api/v1/im.history`) were answered so far.
    pub fn answered(&self, route: &str) -> u64 {
        let answered = self.answered.lock().unwrap_or_else(|e| e.into_inner());
        answered.get(route).copied().unwrap_or(0)
    }

    /// Every route's answered calls so far, by path (`GET /_sim/answered`).
    pub fn answered_all(&self) -> BTreeMap<String, u64> {
        let answered = self.answered.lock().unwrap_or_else(|e| e.into_inner());
        answered.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    /// Clear every fault.
    pub fn reset(&self) {
        *self.armed() = Armed::default();
        self.set_half_open(false);
    }
}

fn take<T: Copy>(map: &mut HashMap<String, (T, u32)>, route: &str) -> Option<T> {
    let entry = map.get_mut(route)?;
    let value = entry.0;
    entry.1 = entry.1.saturating_sub(1);
    if entry.1 == 0 {
        map.remove(route);
    }
    Some(value)
}
