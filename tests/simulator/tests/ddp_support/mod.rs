//! A minimal raw DDP client for the simulator's DDP tests.
#![allow(dead_code)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rocketchat_sim::{Profile, SimConfig, Simulator};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const BOT_ID: &str = "Bq7dYg4KxWnZcT3rA";
pub const BOT_TOKEN: &str = "9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq";
pub const BOT_PAT: &str = "Ra2-pCvh7QfE1GmbXW9yZk0sLtNnIuOdJ8Te4wVxY3c";
pub const ALICE_ID: &str = "k9ZfTqW2mHs8PxLcE";
pub const ALICE_TOKEN: &str = "alice-token-000000000000000000000000000000";
pub const BOB_TOKEN: &str = "bob-token-00000000000000000000000000000000";
pub const OPS: &str = "pX7aQmTz4cK9rWn2H";
pub const RANDOM: &str = "RandomRoom0000001";
pub const DM: &str = "Bq7dYg4KxWnZcT3rAk9ZfTqW2mHs8PxLcE";

/// How long to wait for an expected frame.
pub const WAIT: Duration = Duration::from_secs(3);
/// How long to watch for a frame that must not come.
pub const QUIET: Duration = Duration::from_millis(300);

pub async fn sim(profile: Profile) -> Simulator {
    sim_with(SimConfig {
        profile,
        ..Default::default()
    })
    .await
}

pub async fn sim_with(config: SimConfig) -> Simulator {
    Simulator::start(config).await.expect("simulator starts")
}

pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next: u64,
}

/// What `next_event` saw.
#[derive(Debug, PartialEq)]
pub enum Seen {
    Frame(Value),
    Raw(String),
    Closed(Option<u16>),
    Nothing,
}

impl Client {
    /// Open the socket only.
    pub async fn open(sim: &Simulator) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(sim.ws_url())
            .await
            .expect("websocket opens");
        Client { ws, next: 1 }
    }

    /// Open, skip the greeting if any, and connect with DDP 1.
    pub async fn connect(sim: &Simulator) -> Client {
        let mut c = Client::open(sim).await;
        c.send(json!({"msg": "connect", "version": "1", "support": ["1", "pre2", "pre1"]}))
            .await;
        let f = c.recv_where(|f| f.get("msg").is_some()).await;
        assert_eq!(f["msg"], "connected", "{f}");
        c
    }

    /// Connect and log in with a resume token.
    pub async fn logged_in(sim: &Simulator, token: &str) -> Client {
        let mut c = Client::connect(sim).await;
        let r = c.call("login", json!([{"resume": token}])).await;
        assert!(r.get("result").is_some(), "{r}");
        c
    }

    pub async fn send(&mut self, v: Value) {
        self.send_text(&v.to_string()).await;
    }

    pub async fn send_text(&mut self, t: &str) {
        self.ws
            .send(Message::text(t.to_owned()))
            .await
            .expect("send");
    }

    /// The next text frame, a close, or nothing within `d`.
    pub async fn next_within(&mut self, d: Duration) -> Seen {
        let deadline = tokio::time::Instant::now() + d;
        loop {
            let m = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Seen::Nothing,
                Ok(m) => m,
            };
            match m {
                Some(Ok(Message::Text(t))) => {
                    return match serde_json::from_str(t.as_str()) {
                        Ok(v) => Seen::Frame(v),
                        Err(_) => Seen::Raw(t.to_string()),
                    }
                }
                Some(Ok(Message::Close(f))) => return Seen::Closed(f.map(|f| f.code.into())),
                None | Some(Err(_)) => return Seen::Closed(None),
                Some(Ok(_)) => {}
            }
        }
    }

    /// The next JSON frame (panics on close or timeout).
    pub async fn recv(&mut self) -> Value {
        match self.next_within(WAIT).await {
            Seen::Frame(v) => v,
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    /// Skip frames until one matches.
    pub async fn recv_where(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_within(left).await {
                Seen::Frame(v) if pred(&v) => return v,
                Seen::Frame(_) => {}
                other => panic!("expected a matching frame, got {other:?}"),
            }
        }
    }

    /// Assert nothing arrives for a while.
    pub async fn expect_quiet(&mut self) {
        match self.next_within(QUIET).await {
            Seen::Nothing => {}
            other => panic!("expected silence, got {other:?}"),
        }
    }

    /// Call a method and return its `result` frame (the `updated` that follows is consumed).
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = format!("m{}", self.next);
        self.next += 1;
        self.send(json!({"msg": "method", "method": method, "id": id, "params": params}))
            .await;
        let r = self
            .recv_where(|f| f["msg"] == "result" && f["id"] == id.as_str())
            .await;
        self.recv_where(|f| f["msg"] == "updated" && f["methods"][0] == id.as_str())
            .await;
        r
    }

    /// Subscribe and return the first answer (`ready`, `nosub` or `added`).
    pub async fn sub(&mut self, id: &str, name: &str, params: Value) -> Value {
        self.send(json!({"msg": "sub", "id": id, "name": name, "params": params}))
            .await;
        self.recv_where(|f| {
            (f["msg"] == "ready" && f["subs"][0] == id)
                || (f["msg"] == "nosub" && f["id"] == id)
                || f["msg"] == "added"
        })
        .await
    }

    /// Subscribe to a stream event and expect `ready`.
    pub async fn stream(&mut self, id: &str, name: &str, event: &str) {
        let f = self
            .sub(
                id,
                name,
                json!([event, {"useCollection": false, "args": []}]),
            )
            .await;
        assert_eq!(f["msg"], "ready", "{f}");
    }

    /// The next `changed` stream frame.
    pub async fn event(&mut self) -> Value {
        self.recv_where(|f| f["msg"] == "changed").await
    }
}
