//! Shared harness of the core's integration tests: a simulator, a [`Core`] with short
//! timings, config sections pointing at the simulator, and an event tracker.
//!
//! Each test file includes this module (`mod support;`); not every file uses every helper.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openclaw_rocketchat::account::{AccountOptions, AccountStatus};
use openclaw_rocketchat::config::NoEnv;
use openclaw_rocketchat::ddp::realtime::Backoff;
use openclaw_rocketchat::event::{DropReason, Event, EventEnvelope, InboundMessage, MessageSource};
use openclaw_rocketchat::event_queue::EventQueue;
use openclaw_rocketchat::rest::RestOptions;
use openclaw_rocketchat::{Core, CoreOptions, ReloadReport};
use rocketchat_sim::{SimConfig, Simulator};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const BOT: &str = "mybot";
pub const BOT_ID: &str = "Bq7dYg4KxWnZcT3rA";
pub const BOT_PASSWORD: &str = "s3cret";
pub const BOT_PAT: &str = "Ra2-pCvh7QfE1GmbXW9yZk0sLtNnIuOdJ8Te4wVxY3c";
pub const ALICE_ID: &str = "k9ZfTqW2mHs8PxLcE";
pub const ALICE_TOKEN: &str = "alice-token-000000000000000000000000000000";
pub const BOB_ID: &str = "Yh3nR6vPq2XzMt8Ws";
pub const GENERAL: &str = "GENERAL";
pub const OPS: &str = "pX7aQmTz4cK9rWn2H";
pub const RANDOM: &str = "RandomRoom0000001";
pub const DM: &str = "Bq7dYg4KxWnZcT3rAk9ZfTqW2mHs8PxLcE";

/// How long a test waits for one expected event.
pub const WAIT: Duration = Duration::from_secs(5);

/// Supervisor and REST timings short enough for tests: a half-open socket is detected
/// within about a second, reconnects start after tens of milliseconds.
pub fn core_options() -> CoreOptions {
    CoreOptions {
        worker_threads: 2,
        account: AccountOptions {
            rest: RestOptions {
                connect_timeout: Duration::from_secs(2),
                request_timeout: Duration::from_secs(5),
                max_retries: 4,
                max_rate_limit_retries: 4,
                backoff_base: Duration::from_millis(20),
                backoff_max: Duration::from_millis(200),
                max_rate_limit_wait: Duration::from_secs(5),
                ..RestOptions::default()
            },
            ping_interval: Duration::from_millis(200),
            idle_timeout: Duration::from_secs(1),
            backoff: Backoff {
                initial: Duration::from_millis(50),
                max: Duration::from_millis(500),
                factor: 2.0,
                jitter: 0.2,
            },
            auth_failure_delay: Duration::from_millis(500),
            state_dir: None,
            ..AccountOptions::default()
        },
        ..CoreOptions::default()
    }
}

/// The bot with its personal access token; nothing gated.
pub fn pat_section(url: &str) -> Value {
    json!({
        "baseUrl": url,
        "authToken": BOT_PAT,
        "userId": BOT_ID,
        "dmPolicy": "open",
        "allowFrom": ["*"],
        "groupPolicy": "open",
        "chatmode": "onmessage",
    })
}

/// The bot with username and password; nothing gated.
pub fn password_section(url: &str, password: &str) -> Value {
    json!({
        "baseUrl": url,
        "username": BOT,
        "password": password,
        "dmPolicy": "open",
        "allowFrom": ["*"],
        "groupPolicy": "open",
        "chatmode": "onmessage",
    })
}

/// The bot with its personal access token and the access rules left at their defaults
/// (`dmPolicy: pairing`, `groupPolicy: allowlist` with empty lists, `chatmode: oncall`,
/// `requireMention: true`), with `extra` keys merged on top. For the pipeline tests.
pub fn gated_section(url: &str, extra: Value) -> Value {
    let mut section = json!({
        "baseUrl": url,
        "authToken": BOT_PAT,
        "userId": BOT_ID,
    });
    if let (Some(base), Value::Object(extra)) = (section.as_object_mut(), extra) {
        base.extend(extra);
    }
    section
}

/// A simulator, a core and the core's events.
pub struct Harness {
    pub sim: Simulator,
    core: Option<Core>,
    pub events: Events,
}

impl Harness {
    /// A simulator with the default seed and a core with no account yet.
    pub async fn new() -> Harness {
        Harness::with_sim(SimConfig::default()).await
    }

    /// A simulator started with `config` and a core with no account yet.
    pub async fn with_sim(config: SimConfig) -> Harness {
        Harness::with_options(config, core_options()).await
    }

    /// A simulator started with `config` and a core built with `options`.
    pub async fn with_options(config: SimConfig, options: CoreOptions) -> Harness {
        let sim = Simulator::start(config).await.expect("simulator starts");
        let core = Core::new(options).expect("core starts");
        let events = Events::new(core.events().clone());
        Harness {
            sim,
            core: Some(core),
            events,
        }
    }

    /// A simulator and the default account logged in with the PAT, ready for messages.
    pub async fn pat() -> Harness {
        let mut h = Harness::new().await;
        let section = pat_section(&h.sim.url());
        h.apply(&section).await;
        h.ready("default").await;
        h
    }

    /// A simulator and the default account with [`gated_section`]`(extra)`, ready.
    pub async fn gated(extra: Value) -> Harness {
        let mut h = Harness::new().await;
        let section = gated_section(&h.sim.url(), extra);
        h.apply(&section).await;
        h.ready("default").await;
        h
    }

    pub fn core(&self) -> &Core {
        self.core.as_ref().expect("core is running")
    }

    /// `apply_config` that must succeed.
    pub async fn apply(&self, section: &Value) -> ReloadReport {
        self.core()
            .apply_config(section, &NoEnv)
            .await
            .expect("valid config")
    }

    /// Wait until `account` is authenticated on the realtime connection (streams subscribed).
    pub async fn ready(&mut self, account: &str) -> EventEnvelope {
        self.events
            .expect(&format!("{account} authenticated"), WAIT, |e| {
                e.account_id.as_deref() == Some(account)
                    && matches!(e.event, Event::Authenticated { .. })
            })
            .await
    }

    /// Send a short text as the default account; must succeed as one message. Returns the
    /// message as the server stored it (REST form).
    pub async fn reply(&self, target: &str, text: &str, thread: Option<&str>) -> Value {
        let sent = self
            .core()
            .send_text("default", target, text, thread)
            .await
            .unwrap_or_else(|e| panic!("send_text {text:?} to {target}: {e}"));
        assert_eq!(sent.len(), 1, "a short text is one message: {sent:?}");
        let stored = self
            .sim
            .store()
            .message(&sent[0].id)
            .unwrap_or_else(|| panic!("the server has no message {}", sent[0].id));
        rocketchat_sim::store::render(&stored, rocketchat_sim::time::DateForm::Iso)
    }

    /// Post as a human; returns the message id.
    pub fn post(&self, user: &str, rid: &str, text: &str) -> String {
        let m = self.sim.post(user, rid, text).expect("simulator post");
        m["_id"].as_str().expect("message id").to_owned()
    }

    /// Post as a human in a thread; returns the message id.
    pub fn post_in_thread(&self, user: &str, rid: &str, tmid: &str, text: &str) -> String {
        let m = self
            .sim
            .post_message(
                user,
                rocketchat_sim::NewMessage {
                    rid: rid.into(),
                    msg: text.into(),
                    tmid: Some(tmid.into()),
                    ..Default::default()
                },
            )
            .expect("simulator post");
        m["_id"].as_str().expect("message id").to_owned()
    }

    /// Wait for the `dropped` event of message `id`; returns its reason.
    pub async fn dropped(&mut self, id: &str) -> DropReason {
        let env = self
            .events
            .expect(
                &format!("dropped {id}"),
                WAIT,
                |e| matches!(&e.event, Event::Dropped { message_id, .. } if message_id == id),
            )
            .await;
        match env.event {
            Event::Dropped { reason, .. } => reason,
            _ => unreachable!(),
        }
    }

    /// The default account's status (it must be running).
    pub async fn status(&self) -> AccountStatus {
        self.core()
            .status("default")
            .await
            .expect("the default account runs")
    }

    /// The default account's drop counters by reason, without `duplicate` (the same message
    /// arriving on two streams is normal and its count depends on timing).
    pub async fn drops(&self) -> BTreeMap<String, u64> {
        let mut dropped = self.status().await.dropped;
        dropped.remove("duplicate");
        dropped
    }

    /// Wait for the `message` event of message `id` (delivered to any account).
    pub async fn delivered(&mut self, id: &str) -> InboundMessage {
        delivered_to(&mut self.events, None, id).await
    }

    /// Close the core (every account stopped, queue closed).
    pub async fn close(&mut self) {
        if let Some(core) = &self.core {
            core.close().await;
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        // A tokio runtime cannot be dropped from inside another one: let a plain thread do it.
        if let Some(core) = self.core.take() {
            let _ = std::thread::spawn(move || drop(core)).join();
        }
    }
}

/// Wait for the `message` event of message `id`, for `account` when given.
pub async fn delivered_to(events: &mut Events, account: Option<&str>, id: &str) -> InboundMessage {
    let env = events
        .expect(&format!("message {id}"), WAIT, |e| {
            account.is_none_or(|a| e.account_id.as_deref() == Some(a))
                && matches!(&e.event, Event::Message { message } if message.message_id == id)
        })
        .await;
    match env.event {
        Event::Message { message } => message,
        _ => unreachable!(),
    }
}

/// Every event the core emitted, pulled from its queue, kept for later assertions.
pub struct Events {
    queue: Arc<EventQueue>,
    /// Every event received so far, in queue order.
    pub all: Vec<EventEnvelope>,
    /// Indices of `all` already returned by [`Events::expect`].
    taken: Vec<bool>,
}

impl Events {
    pub fn new(queue: Arc<EventQueue>) -> Self {
        Events {
            queue,
            all: Vec::new(),
            taken: Vec::new(),
        }
    }

    fn record(&mut self, e: EventEnvelope) {
        self.all.push(e);
        self.taken.push(false);
    }

    /// Pull the next event, waiting at most `d`. `None` on timeout or when the queue closed.
    async fn pull(&mut self, d: Duration) -> Option<usize> {
        match tokio::time::timeout(d, self.queue.next()).await {
            Ok(Some(e)) => {
                self.record(e);
                Some(self.all.len() - 1)
            }
            _ => None,
        }
    }

    /// The first event not returned before that matches `pred` (already received or arriving
    /// within `timeout`). Panics with `what` and the events seen when none comes.
    pub async fn expect(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&EventEnvelope) -> bool,
    ) -> EventEnvelope {
        if let Some(i) = (0..self.all.len()).find(|&i| !self.taken[i] && pred(&self.all[i])) {
            self.taken[i] = true;
            return self.all[i].clone();
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.pull(left).await {
                Some(i) if pred(&self.all[i]) => {
                    self.taken[i] = true;
                    return self.all[i].clone();
                }
                Some(_) => {}
                None => panic!(
                    "timed out after {timeout:?} waiting for {what}; events so far:\n{}",
                    self.dump()
                ),
            }
        }
    }

    /// Whether a matching event (taken or not) arrives within `within`; keeps everything.
    pub async fn arrives(
        &mut self,
        within: Duration,
        pred: impl Fn(&EventEnvelope) -> bool,
    ) -> bool {
        if self.all.iter().any(&pred) {
            return true;
        }
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.pull(left).await {
                Some(i) if pred(&self.all[i]) => return true,
                Some(_) => {}
                None => return false,
            }
        }
    }

    /// Pull until the queue stayed empty for `quiet` (bounded by `max`).
    pub async fn settle(&mut self, quiet: Duration, max: Duration) {
        let deadline = Instant::now() + max;
        while Instant::now() < deadline {
            if self.pull(quiet).await.is_none() {
                return;
            }
        }
    }

    /// Every event of `account` (or every event when `None`) of this type.
    pub fn of_type(&self, account: Option<&str>, type_name: &str) -> Vec<&EventEnvelope> {
        self.all
            .iter()
            .filter(|e| account.is_none_or(|a| e.account_id.as_deref() == Some(a)))
            .filter(|e| e.event.type_name() == type_name)
            .collect()
    }

    /// Every delivered `message` of `account` (all accounts when `None`), in queue order.
    pub fn messages(&self, account: Option<&str>) -> Vec<&InboundMessage> {
        self.all
            .iter()
            .filter(|e| account.is_none_or(|a| e.account_id.as_deref() == Some(a)))
            .filter_map(|e| match &e.event {
                Event::Message { message } => Some(message),
                _ => None,
            })
            .collect()
    }

    /// How many `message` events each message id got (for `account`, or all).
    pub fn message_counts(&self, account: Option<&str>) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for m in self.messages(account) {
            *counts.entry(m.message_id.clone()).or_insert(0) += 1;
        }
        counts
    }

    /// Every message id in `ids` was delivered exactly once to `account`, and per room in
    /// the order given (`ids` lists each room's messages oldest first).
    pub fn assert_exactly_once_in_order(&self, account: Option<&str>, ids: &[(String, String)]) {
        let counts = self.message_counts(account);
        for (rid, id) in ids {
            assert_eq!(
                counts.get(id).copied().unwrap_or(0),
                1,
                "message {id} in {rid} must be delivered exactly once; events:\n{}",
                self.dump()
            );
        }
        let mut wanted: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (rid, id) in ids {
            wanted.entry(rid).or_default().push(id);
        }
        for (rid, want) in wanted {
            let got: Vec<&str> = self
                .messages(account)
                .into_iter()
                .filter(|m| m.room_id == rid && want.contains(&m.message_id.as_str()))
                .map(|m| m.message_id.as_str())
                .collect();
            assert_eq!(got, want, "per-room order in {rid}");
        }
    }

    /// The source of the delivered message `id`.
    pub fn source_of(&self, id: &str) -> Option<MessageSource> {
        self.messages(None)
            .into_iter()
            .find(|m| m.message_id == id)
            .map(|m| m.source)
    }

    /// Position of the `message` event of `id` in the queue.
    pub fn position_of(&self, id: &str) -> Option<usize> {
        self.all.iter().position(
            |e| matches!(&e.event, Event::Message { message } if message.message_id == id),
        )
    }

    /// The events so far, one JSON line each (for failure messages).
    pub fn dump(&self) -> String {
        let mut out = String::new();
        for e in &self.all {
            let mut line = e.to_json();
            if line.len() > 300 {
                let mut cut = 300;
                while !line.is_char_boundary(cut) {
                    cut -= 1;
                }
                line.truncate(cut);
                line.push('…');
            }
            out.push_str("  ");
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

/// How many `POST /api/v1/login` calls the simulator counted from this host in the current
/// rate-limit window (60 s), read from the `X-RateLimit-Remaining` header of one more
/// (anonymous, failing) login call. The probe itself is not counted.
pub async fn login_calls(sim: &Simulator) -> u32 {
    let mut stream = tokio::net::TcpStream::connect(sim.addr())
        .await
        .expect("connect to the simulator");
    let body = r#"{"user":"nobody","password":"x"}"#;
    let request = format!(
        "POST /api/v1/login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        sim.addr(),
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write probe");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("read probe");
    let header = |name: &str| -> u32 {
        response
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name)
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or_else(|| panic!("{name} header in {response:?}"))
    };
    let limit = header("x-ratelimit-limit");
    let remaining = header("x-ratelimit-remaining");
    // `remaining` counts the probe too.
    limit - remaining - 1
}
