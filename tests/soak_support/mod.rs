//! The fault soak, shared by `examples/soak.rs` (long runs) and `tests/soak.rs` (the short CI
//! run): a simulator, a bot on a [`Core`] logged in with a password, humans posting at a steady
//! rate into a channel, a private group, a DM and a thread, the bot replying to every message
//! it is handed, and random faults from the simulator's control API meanwhile.
//!
//! At the end (faults off, a quiet period) [`SoakReport`] counts what was posted, delivered
//! and replied, and [`SoakReport::failures`] lists every broken promise: a message lost or
//! delivered twice, per-room order broken, a reply missing or posted twice, a panic, unbounded
//! memory growth.
//!
//! Everything is bounded: the fault phase, the drain, every send attempt (timeout) and every
//! retry loop (count). Only loopback sockets are used.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use openclaw_rocketchat::account::{AccountOptions, ConnectionState};
use openclaw_rocketchat::config::NoEnv;
use openclaw_rocketchat::ddp::realtime::Backoff;
use openclaw_rocketchat::event::Event;
use openclaw_rocketchat::rest::RestOptions;
use openclaw_rocketchat::{Core, CoreOptions};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rocketchat_sim::store::TokenKind;
use rocketchat_sim::{Fault, NewMessage, SimConfig, Simulator, Store};
use serde_json::json;
use tokio::sync::Semaphore;

pub const BOT: &str = "mybot";
pub const BOT_ID: &str = "Bq7dYg4KxWnZcT3rA";
pub const BOT_PASSWORD: &str = "s3cret";
pub const ALICE_ID: &str = "k9ZfTqW2mHs8PxLcE";
pub const BOB_ID: &str = "Yh3nR6vPq2XzMt8Ws";
pub const GENERAL: &str = "GENERAL";
pub const OPS: &str = "pX7aQmTz4cK9rWn2H";
pub const DM: &str = "Bq7dYg4KxWnZcT3rAk9ZfTqW2mHs8PxLcE";

/// The text every reply carries, unique per human message.
pub fn reply_token(message_id: &str) -> String {
    format!("soak-ack:{message_id}")
}

/// How to run a soak.
#[derive(Clone, Debug)]
pub struct SoakConfig {
    /// Fault seed (the faults' kinds, timings and parameters follow from it).
    pub seed: u64,
    /// How long faults are injected while humans post.
    pub fault_phase: Duration,
    /// Pause between two human posts.
    pub post_interval: Duration,
    /// Pause between two faults: uniformly in this range.
    pub fault_gap: (Duration, Duration),
    /// Upper bound of the drain after the fault phase (everything delivered and replied).
    pub drain_max: Duration,
    /// Extra quiet time after the drain, for late duplicates to show up.
    pub quiet: Duration,
    /// Resident-memory sampling interval.
    pub rss_interval: Duration,
    /// Print each fault as it is injected.
    pub verbose: bool,
}

impl SoakConfig {
    /// The short CI run: ~30 s of faults.
    pub fn short(seed: u64) -> Self {
        SoakConfig {
            seed,
            fault_phase: Duration::from_secs(30),
            post_interval: Duration::from_millis(120),
            fault_gap: (Duration::from_millis(600), Duration::from_millis(1800)),
            drain_max: Duration::from_secs(30),
            quiet: Duration::from_secs(2),
            rss_interval: Duration::from_millis(500),
            verbose: false,
        }
    }

    /// A long run of `minutes` of faults.
    pub fn long(seed: u64, minutes: f64) -> Self {
        SoakConfig {
            fault_phase: Duration::from_secs_f64(minutes * 60.0),
            post_interval: Duration::from_millis(100),
            fault_gap: (Duration::from_millis(500), Duration::from_millis(3000)),
            drain_max: Duration::from_secs(60),
            quiet: Duration::from_secs(3),
            rss_interval: Duration::from_secs(1),
            ..SoakConfig::short(seed)
        }
    }
}

/// Core timings for the soak: half-open detected within ~1 s, quick reconnects.
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
        },
        ..CoreOptions::default()
    }
}

/// The bot's account: username and password (so a revoked token is replaced by a new login),
/// every room and DM admitted.
pub fn account_section(url: &str) -> serde_json::Value {
    json!({
        "baseUrl": url,
        "username": BOT,
        "password": BOT_PASSWORD,
        "dmPolicy": "open",
        "allowFrom": ["*"],
        "groupPolicy": "open",
        "chatmode": "onmessage",
    })
}

/// Panics seen anywhere in the process since [`count_panics`] was first called.
static PANICS: AtomicU64 = AtomicU64::new(0);
static HOOK: Once = Once::new();

/// Count panics (core tasks included) while keeping the default report.
pub fn count_panics() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
    });
}

/// Resident set size of this process in bytes (`/proc/self/statm`), when readable.
pub fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// One human message as posted.
#[derive(Clone, Debug)]
struct Posted {
    id: String,
    rid: String,
    thread: Option<String>,
}

/// What the bot saw and did, shared by its tasks.
#[derive(Default)]
struct Tracker {
    /// `message` events per message id.
    delivered: HashMap<String, u64>,
    /// Delivered message ids per room, in queue order.
    order: HashMap<String, Vec<String>>,
    /// Replies started and not finished.
    replies_pending: u64,
    /// Replies that gave up after every attempt.
    replies_failed: u64,
    /// Send attempts that failed and were retried by the bot.
    reply_retries: u64,
    /// Error events by code.
    errors: BTreeMap<String, u64>,
    disconnects: u64,
    auth_failures: u64,
    overflows: u64,
}

/// Memory figures.
#[derive(Clone, Debug, Default)]
pub struct Memory {
    pub samples: usize,
    /// Mean RSS of the first third of the samples after warm-up (bytes).
    pub first_third: u64,
    /// Mean RSS of the last third (bytes).
    pub last_third: u64,
    pub max: u64,
}

impl Memory {
    /// Warm-up (discarded): the first quarter of the samples. Then the mean of the last third
    /// may exceed the mean of the first third by at most 25 % or 16 MiB, whichever is larger.
    /// Allocator arenas and the simulator's own store (it keeps every message, ~1 KiB each)
    /// grow a little; a leak per message or per reconnect grows without bound and fails.
    pub fn from_samples(samples: &[u64]) -> Memory {
        let kept = &samples[samples.len() / 4..];
        let third = (kept.len() / 3).max(1);
        let mean = |s: &[u64]| {
            if s.is_empty() {
                0
            } else {
                s.iter().sum::<u64>() / s.len() as u64
            }
        };
        Memory {
            samples: samples.len(),
            first_third: mean(&kept[..third.min(kept.len())]),
            last_third: mean(&kept[kept.len().saturating_sub(third)..]),
            max: samples.iter().copied().max().unwrap_or(0),
        }
    }

    pub fn allowed_last_third(&self) -> u64 {
        (self.first_third + self.first_third / 4).max(self.first_third + 16 * 1024 * 1024)
    }

    pub fn bounded(&self) -> bool {
        self.samples < 6 || self.last_third <= self.allowed_last_third()
    }
}

/// The soak's figures.
#[derive(Clone, Debug, Default)]
pub struct SoakReport {
    pub seed: u64,
    pub elapsed: Duration,
    pub posted: usize,
    pub posted_by_room: BTreeMap<String, usize>,
    pub delivered_once: usize,
    pub lost: Vec<String>,
    pub duplicates: Vec<String>,
    pub unexpected: usize,
    pub order_violations: Vec<String>,
    pub replies_once: usize,
    pub replies_missing: Vec<String>,
    pub replies_duplicated: Vec<String>,
    pub replies_failed: u64,
    pub reply_retries: u64,
    pub faults: BTreeMap<&'static str, u64>,
    pub reconnects: u64,
    pub caught_up: u64,
    pub disconnects: u64,
    pub auth_failures: u64,
    pub overflows: u64,
    pub errors: BTreeMap<String, u64>,
    pub final_state: Option<ConnectionState>,
    pub panics: u64,
    pub memory: Memory,
}

impl SoakReport {
    /// Every broken promise, one line each; empty when the run is clean.
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        let few = |v: &[String]| v.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
        if !self.lost.is_empty() {
            out.push(format!(
                "{} messages lost: {}",
                self.lost.len(),
                few(&self.lost)
            ));
        }
        if !self.duplicates.is_empty() {
            out.push(format!(
                "{} messages delivered more than once: {}",
                self.duplicates.len(),
                few(&self.duplicates)
            ));
        }
        if !self.order_violations.is_empty() {
            out.push(format!(
                "per-room order broken: {}",
                few(&self.order_violations)
            ));
        }
        if !self.replies_missing.is_empty() {
            out.push(format!(
                "{} replies missing: {}",
                self.replies_missing.len(),
                few(&self.replies_missing)
            ));
        }
        if !self.replies_duplicated.is_empty() {
            out.push(format!(
                "{} replies posted more than once: {}",
                self.replies_duplicated.len(),
                few(&self.replies_duplicated)
            ));
        }
        if self.panics > 0 {
            out.push(format!("{} panics", self.panics));
        }
        if self.final_state != Some(ConnectionState::Ready) {
            out.push(format!("final state {:?}, not ready", self.final_state));
        }
        if !self.memory.bounded() {
            out.push(format!(
                "memory grew: last-third mean {} MiB > allowed {} MiB (first third {} MiB)",
                self.memory.last_third >> 20,
                self.memory.allowed_last_third() >> 20,
                self.memory.first_third >> 20
            ));
        }
        out
    }

    /// The figures, one per line.
    pub fn print(&self) {
        let mib = |b: u64| format!("{:.1} MiB", b as f64 / 1048576.0);
        println!("soak seed {} ran {:.1?}", self.seed, self.elapsed);
        println!(
            "  human messages posted    {} {:?}",
            self.posted, self.posted_by_room
        );
        println!("  delivered exactly once   {}", self.delivered_once);
        println!("  lost                     {}", self.lost.len());
        println!("  duplicates               {}", self.duplicates.len());
        println!("  per-room order broken    {}", self.order_violations.len());
        println!("  replies posted once      {}", self.replies_once);
        println!(
            "  replies missing / dup    {} / {}",
            self.replies_missing.len(),
            self.replies_duplicated.len()
        );
        println!(
            "  reply sends retried      {} (gave up {})",
            self.reply_retries, self.replies_failed
        );
        let total: u64 = self.faults.values().sum();
        println!("  faults injected          {total} {:?}", self.faults);
        println!(
            "  reconnects (status)      {} (caught up {} messages; {} disconnect and {} authFailed events)",
            self.reconnects, self.caught_up, self.disconnects, self.auth_failures
        );
        println!(
            "  error events             {:?}; overflows {}",
            self.errors, self.overflows
        );
        println!("  panics                   {}", self.panics);
        println!(
            "  RSS                      first third {}, last third {} (allowed {}), max {}, {} samples",
            mib(self.memory.first_third),
            mib(self.memory.last_third),
            mib(self.memory.allowed_last_third()),
            mib(self.memory.max),
            self.memory.samples
        );
        println!("  final state              {:?}", self.final_state);
    }
}

/// Pick the next fault and apply it (some faults last a while: half-open, restarts).
async fn inject_one(
    sim: &mut Simulator,
    rng: &mut StdRng,
    faults: &mut BTreeMap<&'static str, u64>,
    verbose: bool,
) {
    const REST_ROUTES: [&str; 5] = [
        "/api/v1/chat.sendMessage",
        "/api/v1/rooms.get",
        "/api/v1/channels.history",
        "/api/v1/groups.history",
        "/api/v1/im.history",
    ];
    let f = sim.faults().clone();
    let kind: &'static str = match rng.random_range(0..100) {
        0..12 => {
            f.drop_sockets();
            "dropSockets"
        }
        12..22 => {
            f.set_half_open(true);
            tokio::time::sleep(Duration::from_millis(rng.random_range(1200..2500))).await;
            f.set_half_open(false);
            "halfOpen"
        }
        22..30 => {
            f.refuse_connections(Duration::from_millis(rng.random_range(300..1500)));
            f.drop_sockets();
            "refuseConnections"
        }
        30..36 => {
            f.inject(Fault::RevokeTokens { user: BOT.into() });
            "revokeTokens"
        }
        36..40 => {
            // The bot's newest session token: the one it is using.
            let newest = sim.store().user(BOT_ID).and_then(|u| {
                u.tokens
                    .iter()
                    .filter(|t| t.kind == TokenKind::Login)
                    .max_by_key(|t| t.when)
                    .map(|t| t.token.clone())
            });
            match newest {
                Some(token) => {
                    f.inject(Fault::ExpireToken { token });
                }
                None => {
                    f.inject(Fault::RevokeTokens { user: BOT.into() });
                }
            }
            "expireToken"
        }
        40..52 => {
            f.http_status("/api/v1/chat.sendMessage", 429, rng.random_range(1..=3));
            "http429"
        }
        52..64 => {
            let route = REST_ROUTES[rng.random_range(0..REST_ROUTES.len())];
            let status = [500, 502, 503][rng.random_range(0..3)];
            f.http_status(route, status, rng.random_range(1..=3));
            if route != REST_ROUTES[0] {
                // History routes are only called by a catch-up: make one happen.
                f.drop_sockets();
            }
            "http5xx"
        }
        64..74 => {
            let route = REST_ROUTES[rng.random_range(0..REST_ROUTES.len())];
            f.inject(Fault::Delay {
                route: route.into(),
                ms: rng.random_range(200..1500),
                count: rng.random_range(1..=3),
            });
            if route != REST_ROUTES[0] {
                f.drop_sockets();
            }
            "delay"
        }
        74..88 => {
            let garbage = [
                "{not json",
                "[]",
                r#"{"msg":"changed","collection":"stream-room-messages","fields":{"eventName":"__my_messages__","args":[{"_id":5}]}}"#,
                r#"{"msg":"result","id":"no-such-call","result":1}"#,
                "\u{0}\u{ffff}",
            ];
            let text = garbage[rng.random_range(0..garbage.len())];
            f.inject(Fault::MalformedFrame { text: text.into() });
            "malformedFrame"
        }
        _ => {
            let down = Duration::from_millis(rng.random_range(200..1500));
            sim.restart(down)
                .await
                .expect("the simulator listens again");
            "restart"
        }
    };
    if verbose {
        println!("fault {kind}");
    }
    *faults.entry(kind).or_default() += 1;
}

/// Run one soak; never panics on a broken promise (see [`SoakReport::failures`]).
pub async fn run(config: SoakConfig) -> SoakReport {
    count_panics();
    let panics_before = PANICS.load(Ordering::SeqCst);
    let started = Instant::now();
    let mut sim = Simulator::start(SimConfig::default())
        .await
        .expect("simulator starts");
    let store: Arc<Store> = sim.store().clone();
    let core = Arc::new(Core::new(core_options()).expect("core starts"));
    core.apply_config(&account_section(&sim.url()), &NoEnv)
        .await
        .expect("valid config");

    // Wait for the first login before the clock starts.
    let queue = core.events().clone();
    let login_deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = login_deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, queue.next()).await {
            Ok(Some(e)) if matches!(e.event, Event::Authenticated { .. }) => break,
            Ok(Some(_)) => {}
            _ => panic!("the bot did not log in within 10 s"),
        }
    }

    let tracker = Arc::new(Mutex::new(Tracker::default()));

    // The bot: consume events, reply to each delivered message (at most 4 replies in flight).
    let bot = {
        let core = core.clone();
        let tracker = tracker.clone();
        tokio::spawn(async move {
            let slots = Arc::new(Semaphore::new(4));
            while let Some(env) = core.events().next().await {
                let message = match env.event {
                    Event::Message { message } => message,
                    Event::Error { code, .. } => {
                        let code = code.unwrap_or_else(|| "none".into());
                        *tracker.lock().unwrap().errors.entry(code).or_default() += 1;
                        continue;
                    }
                    Event::Disconnected { .. } => {
                        tracker.lock().unwrap().disconnects += 1;
                        continue;
                    }
                    Event::AuthFailed { .. } => {
                        tracker.lock().unwrap().auth_failures += 1;
                        continue;
                    }
                    Event::Overflow { .. } => {
                        tracker.lock().unwrap().overflows += 1;
                        continue;
                    }
                    _ => continue,
                };
                {
                    let mut t = tracker.lock().unwrap();
                    let n = t.delivered.entry(message.message_id.clone()).or_default();
                    *n += 1;
                    if *n > 1 {
                        // A duplicate: never answer twice.
                        continue;
                    }
                    t.order
                        .entry(message.room_id.clone())
                        .or_default()
                        .push(message.message_id.clone());
                    t.replies_pending += 1;
                }
                let permit = slots.clone().acquire_owned().await.expect("open");
                let core = core.clone();
                let tracker = tracker.clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    let text = reply_token(&message.message_id);
                    let mut done = false;
                    for attempt in 0..20u32 {
                        let send = core.send_reply(
                            "default",
                            &message.room_id,
                            &text,
                            message.thread_id.as_deref(),
                        );
                        match tokio::time::timeout(Duration::from_secs(20), send).await {
                            Ok(Ok(_)) => {
                                done = true;
                                break;
                            }
                            Ok(Err(_)) | Err(_) => {
                                tracker.lock().unwrap().reply_retries += 1;
                                let pause = 200 * u64::from(attempt + 1).min(10);
                                tokio::time::sleep(Duration::from_millis(pause)).await;
                            }
                        }
                    }
                    let mut t = tracker.lock().unwrap();
                    t.replies_pending -= 1;
                    if !done {
                        t.replies_failed += 1;
                    }
                });
            }
        })
    };

    // RSS sampler.
    let rss = Arc::new(Mutex::new(Vec::<u64>::new()));
    let sampler = {
        let rss = rss.clone();
        let every = config.rss_interval;
        tokio::spawn(async move {
            loop {
                if let Some(b) = rss_bytes() {
                    rss.lock().unwrap().push(b);
                }
                tokio::time::sleep(every).await;
            }
        })
    };

    // Humans: one post per interval, round robin over a channel, a group, a DM and a thread
    // in the channel. They write to the store directly, so they keep posting while the
    // server is down (a restart) and the bot must catch up.
    let posted = Arc::new(Mutex::new(Vec::<Posted>::new()));
    let humans_until = Instant::now() + config.fault_phase;
    let humans = {
        let posted = posted.clone();
        let store = store.clone();
        let interval = config.post_interval;
        tokio::spawn(async move {
            let post = |user: &str, rid: &str, tmid: Option<&str>, n: u64| {
                let doc = store
                    .send_message(
                        user,
                        NewMessage {
                            rid: rid.into(),
                            msg: format!("soak message {n}"),
                            tmid: tmid.map(Into::into),
                            ..Default::default()
                        },
                    )
                    .expect("human post");
                Posted {
                    id: doc["_id"].as_str().expect("id").to_owned(),
                    rid: rid.to_owned(),
                    thread: tmid.map(Into::into),
                }
            };
            let root = post(ALICE_ID, GENERAL, None, 0);
            let root_id = root.id.clone();
            posted.lock().unwrap().push(root);
            let mut n = 1u64;
            while Instant::now() < humans_until {
                let p = match n % 5 {
                    0 => post(ALICE_ID, GENERAL, None, n),
                    1 => post(ALICE_ID, OPS, None, n),
                    2 => post(ALICE_ID, DM, None, n),
                    3 => post(BOB_ID, GENERAL, Some(&root_id), n),
                    _ => post(BOB_ID, GENERAL, None, n),
                };
                posted.lock().unwrap().push(p);
                n += 1;
                tokio::time::sleep(interval).await;
            }
        })
    };

    // Faults, until the fault phase ends.
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut faults = BTreeMap::new();
    while Instant::now() < humans_until {
        let (lo, hi) = config.fault_gap;
        let gap = rng.random_range(lo.as_millis() as u64..=hi.as_millis() as u64);
        tokio::time::sleep(Duration::from_millis(gap)).await;
        if Instant::now() >= humans_until {
            break;
        }
        inject_one(&mut sim, &mut rng, &mut faults, config.verbose).await;
    }
    sim.faults().reset();
    humans.await.expect("humans task");

    // Drain: until every message was delivered and answered, bounded.
    let posted: Vec<Posted> = posted.lock().unwrap().clone();
    let drain_until = Instant::now() + config.drain_max;
    while Instant::now() < drain_until {
        {
            let t = tracker.lock().unwrap();
            let all_in = posted.iter().all(|p| t.delivered.contains_key(&p.id));
            if all_in && t.replies_pending == 0 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(config.quiet).await;
    sampler.abort();

    let status = core.status("default").await;
    bot.abort();

    // The figures.
    let t = std::mem::take(&mut *tracker.lock().unwrap());
    let mut report = SoakReport {
        seed: config.seed,
        elapsed: started.elapsed(),
        posted: posted.len(),
        faults,
        reconnects: status.as_ref().map_or(0, |s| s.reconnects),
        caught_up: status.as_ref().map_or(0, |s| s.caught_up),
        final_state: status.as_ref().map(|s| s.state),
        disconnects: t.disconnects,
        auth_failures: t.auth_failures,
        overflows: t.overflows,
        errors: t.errors.clone(),
        replies_failed: t.replies_failed,
        reply_retries: t.reply_retries,
        memory: Memory::from_samples(&rss.lock().unwrap()),
        ..Default::default()
    };
    let posted_ids: HashSet<&str> = posted.iter().map(|p| p.id.as_str()).collect();
    for p in &posted {
        *report.posted_by_room.entry(room_label(p)).or_default() += 1;
        match t.delivered.get(&p.id).copied().unwrap_or(0) {
            0 => report.lost.push(p.id.clone()),
            1 => report.delivered_once += 1,
            _ => report.duplicates.push(p.id.clone()),
        }
    }
    report.unexpected = t
        .delivered
        .keys()
        .filter(|id| !posted_ids.contains(id.as_str()))
        .count();
    // Per-room order: the delivered ids of each room must follow the posting order (humans
    // post one at a time, so posting order is `ts` order).
    let rank: HashMap<&str, usize> = posted
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();
    for (rid, ids) in &t.order {
        let ranks: Vec<usize> = ids
            .iter()
            .filter_map(|id| rank.get(id.as_str()).copied())
            .collect();
        if let Some(w) = ranks.windows(2).find(|w| w[0] > w[1]) {
            report.order_violations.push(format!(
                "{rid}: {} delivered after {}",
                posted[w[1]].id, posted[w[0]].id
            ));
        }
    }
    // Replies, as the server stored them.
    let mut replies: HashMap<String, usize> = HashMap::new();
    for m in store.all_messages() {
        if m["u"]["_id"] == BOT_ID {
            if let Some(text) = m["msg"].as_str() {
                *replies.entry(text.to_owned()).or_default() += 1;
            }
        }
    }
    for p in &posted {
        match replies.get(&reply_token(&p.id)).copied().unwrap_or(0) {
            0 => report.replies_missing.push(p.id.clone()),
            1 => report.replies_once += 1,
            _ => report.replies_duplicated.push(p.id.clone()),
        }
    }
    report.panics = PANICS.load(Ordering::SeqCst) - panics_before;

    // The core's runtime cannot be dropped inside this one: a plain thread does it.
    core.close().await;
    let unwrap_until = Instant::now() + Duration::from_secs(30);
    while Arc::strong_count(&core) > 1 && Instant::now() < unwrap_until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let core = Arc::try_unwrap(core).ok();
    let _ = std::thread::spawn(move || drop(core)).join();
    drop(sim);
    report
}

fn room_label(p: &Posted) -> String {
    let room = match p.rid.as_str() {
        GENERAL => "c",
        OPS => "p",
        DM => "d",
        other => other,
    };
    match p.thread {
        Some(_) => format!("{room}-thread"),
        None => room.to_owned(),
    }
}
