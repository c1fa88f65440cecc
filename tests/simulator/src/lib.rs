//! # rocketchat-sim
//!
//! A Rocket.Chat server simulator: DDP realtime at `/websocket` and REST under `/api`, on one
//! loopback port, as the real server speaks them (see `ARCHITECTURE.md` and
//! `../shared/protocol/ROCKETCHAT.md`). For tests and demos: a seed of users and rooms,
//! a control API to play the humans and inject faults, version profiles 6.x–9.x.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sim = rocketchat_sim::Simulator::start(rocketchat_sim::SimConfig::default()).await?;
//! println!("{}", sim.url());
//! sim.post("alice", "GENERAL", "hello @mybot").expect("posted");
//! # Ok(()) }
//! ```

pub mod control;
pub mod ddp;
pub mod faults;
pub mod flood;
pub mod ids;
pub mod profile;
pub mod rest;
pub mod seed;
pub mod server;
pub mod stats;
pub mod store;
pub mod time;
pub mod view;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;

pub use faults::{Fault, Faults};
pub use profile::Profile;
pub use seed::{default_seed, Seed};
pub use store::{ApiError, NewMessage, Settings, Store};

/// How to start the simulator.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Address to bind (loopback by default).
    pub host: IpAddr,
    /// Port; 0 picks a free one.
    pub port: u16,
    /// Version profile.
    pub profile: Profile,
    /// Users and rooms; the default seed when `None`.
    pub seed: Option<Seed>,
    /// Send `{"server_id":"0"}` first on each WebSocket; the profile decides when `None`.
    pub greeting: Option<bool>,
    /// Server heartbeat: ping after this much inbound silence (Meteor: 15 s).
    pub heartbeat_interval: Duration,
    /// Close this long after an unanswered ping (Meteor: 15 s).
    pub heartbeat_timeout: Duration,
    /// Server settings (rate limits, sizes).
    pub settings: Settings,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            profile: Profile::default(),
            seed: None,
            greeting: None,
            heartbeat_interval: Duration::from_secs(15),
            heartbeat_timeout: Duration::from_secs(15),
            settings: Settings::default(),
        }
    }
}

impl SimConfig {
    /// Whether new WebSockets get the `server_id` greeting.
    pub fn sends_greeting(&self) -> bool {
        self.greeting
            .unwrap_or_else(|| self.profile.sends_greeting())
    }
}

/// A running simulator. Dropping it stops the server task.
pub struct Simulator {
    addr: SocketAddr,
    state: server::AppState,
}

impl Simulator {
    /// Bind and start serving. Returns once the port accepts connections.
    pub async fn start(config: SimConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind((config.host, config.port)).await?;
        let addr = listener.local_addr()?;
        let seed = config.seed.clone().unwrap_or_else(default_seed);
        let store = Arc::new(Store::new(&seed, config.profile, config.settings.clone()));
        let state = server::AppState {
            faults: Arc::new(Faults::new(store.clone())),
            rest_limiter: Arc::new(rest::RateLimiter::default()),
            store,
            config: Arc::new(config),
            base_url: Arc::new(format!("http://{addr}")),
            next_conn_id: Arc::new(AtomicU64::new(1)),
            prepared_flood: Default::default(),
            stats: Default::default(),
            instance: Arc::new(server::Instance::new(addr)),
        };
        state.instance.start(listener, state.clone());
        Ok(Simulator { addr, state })
    }

    /// `http://127.0.0.1:PORT`: the base URL a client is configured with.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://127.0.0.1:PORT/websocket`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/websocket", self.addr)
    }

    /// `http://127.0.0.1:PORT/view`: the chat view, a browser client of this server.
    pub fn view_url(&self) -> String {
        format!("http://{}{}", self.addr, view::PATH)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server state.
    pub fn store(&self) -> &Arc<Store> {
        &self.state.store
    }

    /// Fault injection.
    pub fn faults(&self) -> &Arc<Faults> {
        &self.state.faults
    }

    /// Post `text` in `rid` as `username` (plays a human). Returns the message in REST form.
    pub fn post(&self, username: &str, rid: &str, text: &str) -> Result<Value, ApiError> {
        self.post_message(
            username,
            NewMessage {
                rid: rid.into(),
                msg: text.into(),
                ..Default::default()
            },
        )
    }

    /// Post a fully specified message as `username`. Returns the message in REST form.
    pub fn post_message(&self, username: &str, new: NewMessage) -> Result<Value, ApiError> {
        let user = self
            .store()
            .user_by_username(username)
            .ok_or_else(|| ApiError::new("error-invalid-user", "Invalid user"))?;
        let doc = self.store().send_message(&user.id, new)?;
        Ok(store::render(&doc, time::DateForm::Iso))
    }

    /// Messages sent by `username` (oldest first, REST form): "what did the bot say".
    pub fn messages_by(&self, username: &str) -> Vec<Value> {
        self.store()
            .all_messages()
            .iter()
            .filter(|m| m["u"]["username"] == username)
            .map(|m| store::render(m, time::DateForm::Iso))
            .collect()
    }

    /// Messages in a room (oldest first, REST form).
    pub fn messages_in(&self, rid: &str) -> Vec<Value> {
        self.store()
            .messages_in(rid, None, false)
            .iter()
            .map(|m| store::render(m, time::DateForm::Iso))
            .collect()
    }

    /// Stop the server (WebSockets dropped, port closed), stay down for `down`, then listen
    /// again on the same port with the same state: a server restart. The rate limiters'
    /// counters start over, as a real server keeps them in memory.
    pub async fn restart(&mut self, down: Duration) -> std::io::Result<()> {
        server::restart(&self.state, down, || {}).await
    }

    /// Stop serving: every WebSocket is closed and the port released.
    pub async fn stop(&mut self) {
        self.state.instance.stop(&self.state).await;
    }

    /// Logins, rate-limit refusals and restarts so far.
    pub fn stats(&self) -> &Arc<stats::Stats> {
        &self.state.stats
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.state.faults.drop_sockets();
        // The serving task holds the state, and the state holds the task: break the cycle.
        self.state.instance.abort();
    }
}
