//! Shared helpers for the REST tests: start a simulator, call it as the seeded users, and
//! read the REST vectors.
#![allow(dead_code)]

use std::sync::OnceLock;

use reqwest::{Client, Method, Response};
use rocketchat_sim::{Profile, Settings, SimConfig, Simulator};
use serde_json::Value;

pub const BOT_ID: &str = "Bq7dYg4KxWnZcT3rA";
pub const BOT_TOKEN: &str = "9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq";
pub const ALICE_ID: &str = "k9ZfTqW2mHs8PxLcE";
pub const ALICE_TOKEN: &str = "alice-token-000000000000000000000000000000";
pub const BOB_ID: &str = "Yh3nR6vPq2XzMt8Ws";
pub const BOB_TOKEN: &str = "bob-token-00000000000000000000000000000000";
pub const ADMIN_ID: &str = "AdminUser00000001";
pub const ADMIN_TOKEN: &str = "admin-token-000000000000000000000000000000";
pub const OPS: &str = "pX7aQmTz4cK9rWn2H";
pub const DM: &str = "Bq7dYg4KxWnZcT3rAk9ZfTqW2mHs8PxLcE";

/// The `rest` vectors by name.
pub fn vector(name: &str) -> Value {
    static ALL: OnceLock<Value> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/protocol/vectors.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).expect("vectors.json"))
            .expect("valid JSON")
    });
    all["rest"]
        .as_array()
        .expect("rest vectors")
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name}"))
        .clone()
}

/// A running simulator and a client for it.
pub struct Sim {
    pub sim: Simulator,
    pub http: Client,
}

pub async fn start(profile: Profile) -> Sim {
    start_with(profile, Settings::default()).await
}

pub async fn start_with(profile: Profile, settings: Settings) -> Sim {
    let sim = Simulator::start(SimConfig {
        profile,
        settings,
        ..Default::default()
    })
    .await
    .expect("simulator starts");
    // In a workspace build reqwest is compiled with the core's `rustls-no-provider`
    // feature, so a client needs a process-wide crypto provider even for plain HTTP.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Sim {
        sim,
        http: Client::new(),
    }
}

/// A response's status, headers and JSON body (`Null` when not JSON).
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub async fn reply(res: Response) -> Reply {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.expect("body");
    Reply {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

impl Sim {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.url())
    }

    /// A request as `(user id, token)`, or anonymous.
    pub fn req(
        &self,
        method: Method,
        path: &str,
        auth: Option<(&str, &str)>,
    ) -> reqwest::RequestBuilder {
        let mut b = self.http.request(method, self.url(path));
        if let Some((uid, token)) = auth {
            b = b.header("X-User-Id", uid).header("X-Auth-Token", token);
        }
        b
    }

    pub async fn get(&self, path: &str, auth: Option<(&str, &str)>) -> Reply {
        reply(
            self.req(Method::GET, path, auth)
                .send()
                .await
                .expect("sent"),
        )
        .await
    }

    pub async fn post(&self, path: &str, auth: Option<(&str, &str)>, body: &Value) -> Reply {
        reply(
            self.req(Method::POST, path, auth)
                .json(body)
                .send()
                .await
                .expect("sent"),
        )
        .await
    }

    /// GET as the bot (which bypasses the rate limiter).
    pub async fn bot_get(&self, path: &str) -> Reply {
        self.get(path, Some((BOT_ID, BOT_TOKEN))).await
    }

    /// POST as the bot.
    pub async fn bot_post(&self, path: &str, body: &Value) -> Reply {
        self.post(path, Some((BOT_ID, BOT_TOKEN)), body).await
    }

    /// Replay a vector's request as the bot (path and body from the vector).
    pub async fn replay(&self, name: &str) -> (Reply, Value) {
        let v = vector(name);
        let path = v["request"]["path"].as_str().expect("path");
        let r = match v["request"]["method"].as_str() {
            Some("GET") => self.bot_get(path).await,
            _ => self.bot_post(path, &v["request"]["body"]).await,
        };
        (r, v["response"].clone())
    }
}

/// Assert that every key of `expected` that is not volatile (ids, dates, tokens) has the same
/// value in `actual`, recursively for objects; and that `actual` has the same key set when
/// `exact_keys`.
pub fn assert_shape(actual: &Value, expected: &Value, volatile: &[&str]) {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (k, ev) in e {
                let av = a
                    .get(k)
                    .unwrap_or_else(|| panic!("missing key {k} in {actual}"));
                if volatile.contains(&k.as_str()) {
                    continue;
                }
                assert_shape(av, ev, volatile);
            }
        }
        _ => assert_eq!(actual, expected),
    }
}
