//! The fault soak, shared by `examples/soak.rs` (long runs) and `tests/soak.rs` (the short CI
//! run): a simulator, a bot on a [`Core`] logged in with a password, humans posting at a steady
//! rate into a channel, a private group, a DM and a thread, the bot replying to every message
//! it is handed, and random faults from the simulator's control API meanwhile.
//!
//! At the end (faults off, a quiet period) [`SoakReport`] counts what was posted, delivered
//! and replied, and [`SoakReport::failures`] lists every broken promise: a message lost or
//! delivered twice, per-room order broken, a reply missing or posted twice, a panic, the core's
//! memory still growing in the steady state (judged when the simulator runs in its own process,
//! see [`memory`]).
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
use openclaw_rocketchat::event::{Event, LogLevel};
use openclaw_rocketchat::rest::RestOptions;
use openclaw_rocketchat::{Core, CoreOptions};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use tokio::sync::Semaphore;

mod child;
mod memory;
// The child-process side is the example's; the CI test runs the simulator in-process.
#[allow(unused_imports)]
pub use child::{serve_child, Sim, CHILD_FLAG};
pub use memory::{rss_of, Memory};

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
    /// Run the simulator as this program and arguments (a child process answering
    /// [`serve_child`]'s commands), so this process holds only the core and its memory is
    /// judged; `None`: in this process, memory reported but not judged.
    pub simulator_process: Option<(String, Vec<String>)>,
    /// Keep 64 KiB for every event received: a deliberate leak, to show the check catches one.
    pub leak: bool,
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
            simulator_process: None,
            leak: false,
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
            ..AccountOptions::default()
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

/// One human message as posted.
#[derive(Clone, Debug)]
struct Posted {
    id: String,
    rid: String,
    thread: Option<String>,
    /// When, since the humans started.
    at: Duration,
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
    /// The soak's own process: the core (and the simulator when it runs in-process).
    pub memory: Memory,
    /// The simulator's process, when it runs apart.
    pub simulator_memory: Option<Memory>,
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
                "the core's memory kept growing: steady-state median {:.1} MiB, then {:.1} MiB \
                 (allowed {:.1} MiB; a leak, or see `--verbose` for what the run did)",
                self.memory.first_half as f64 / 1048576.0,
                self.memory.second_half as f64 / 1048576.0,
                self.memory.allowed_second_half() as f64 / 1048576.0
            ));
        }
        out
    }

    /// The figures, one per line.
    pub fn print(&self) {
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
        println!("  {}", self.memory.describe("RSS, this process"));
        if let Some(m) = &self.simulator_memory {
            println!("  {}", m.describe("RSS, simulator process"));
        }
        println!("  final state              {:?}", self.final_state);
    }
}

/// Pick the next fault and apply it (some faults last a while: half-open, restarts). Faults
/// are the control API's objects (ARCHITECTURE.md), so they reach a simulator in another
/// process the same way.
async fn inject_one(
    sim: &mut Sim,
    rng: &mut StdRng,
    faults: &mut BTreeMap<&'static str, u64>,
) -> &'static str {
    const REST_ROUTES: [&str; 5] = [
        "/api/v1/chat.sendMessage",
        "/api/v1/rooms.get",
        "/api/v1/channels.history",
        "/api/v1/groups.history",
        "/api/v1/im.history",
    ];
    let h = sim.handle().clone();
    let drop_sockets = json!({"kind": "dropSockets"});
    let kind: &'static str = match rng.random_range(0..100) {
        0..12 => {
            h.fault(drop_sockets).await;
            "dropSockets"
        }
        12..22 => {
            h.fault(json!({"kind": "halfOpen", "on": true})).await;
            tokio::time::sleep(Duration::from_millis(rng.random_range(1200..2500))).await;
            h.fault(json!({"kind": "halfOpen", "on": false})).await;
            "halfOpen"
        }
        22..30 => {
            let seconds = rng.random_range(300..1500) as f64 / 1000.0;
            h.fault(json!({"kind": "refuseConnections", "seconds": seconds}))
                .await;
            h.fault(drop_sockets).await;
            "refuseConnections"
        }
        30..36 => {
            h.fault(json!({"kind": "revokeTokens", "user": BOT})).await;
            "revokeTokens"
        }
        36..40 => {
            // The bot's newest session token: the one it is using.
            if !h.expire_newest_token(BOT_ID).await {
                h.fault(json!({"kind": "revokeTokens", "user": BOT})).await;
            }
            "expireToken"
        }
        40..52 => {
            let count = rng.random_range(1..=3);
            h.fault(json!({"kind": "httpStatus", "route": REST_ROUTES[0], "status": 429, "count": count}))
                .await;
            "http429"
        }
        52..64 => {
            let route = REST_ROUTES[rng.random_range(0..REST_ROUTES.len())];
            let status = [500, 502, 503][rng.random_range(0..3)];
            let count = rng.random_range(1..=3);
            h.fault(
                json!({"kind": "httpStatus", "route": route, "status": status, "count": count}),
            )
            .await;
            if route != REST_ROUTES[0] {
                // History routes are only called by a catch-up: make one happen.
                h.fault(drop_sockets).await;
            }
            "http5xx"
        }
        64..74 => {
            let route = REST_ROUTES[rng.random_range(0..REST_ROUTES.len())];
            let ms = rng.random_range(200..1500);
            let count = rng.random_range(1..=3);
            h.fault(json!({"kind": "delay", "route": route, "ms": ms, "count": count}))
                .await;
            if route != REST_ROUTES[0] {
                h.fault(drop_sockets).await;
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
            h.fault(json!({"kind": "malformedFrame", "text": text}))
                .await;
            "malformedFrame"
        }
        _ => {
            let down = Duration::from_millis(rng.random_range(200..1500));
            sim.restart(down).await;
            "restart"
        }
    };
    *faults.entry(kind).or_default() += 1;
    kind
}

/// Run one soak; never panics on a broken promise (see [`SoakReport::failures`]).
pub async fn run(config: SoakConfig) -> SoakReport {
    count_panics();
    let panics_before = PANICS.load(Ordering::SeqCst);
    let started = Instant::now();
    let mut sim = match &config.simulator_process {
        None => Sim::in_process().await,
        Some((program, args)) => Sim::child(program, args).expect("the simulator process starts"),
    };
    let handle = sim.handle().clone();
    let mut options = core_options();
    if config.verbose {
        // The core's own account of each reconnect, next to the faults.
        options.log_level = Some(LogLevel::Debug);
    }
    let core = Arc::new(Core::new(options).expect("core starts"));
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
        let leak = config.leak;
        tokio::spawn(async move {
            let slots = Arc::new(Semaphore::new(4));
            let mut leaked: Vec<Vec<u8>> = Vec::new();
            while let Some(env) = core.events().next().await {
                if leak {
                    leaked.push(vec![1u8; 64 << 10]);
                }
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
                    Event::Log { level, message } => {
                        println!("{:.1?} core {level:?}: {message}", started.elapsed());
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

    // RSS sampler: this process, and the simulator's when it runs apart.
    let rss = Arc::new(Mutex::new((Vec::<u64>::new(), Vec::<u64>::new())));
    let sampler = {
        let rss = rss.clone();
        let every = config.rss_interval;
        let sim_pid = sim.pid().map(|p| p.to_string());
        tokio::spawn(async move {
            loop {
                let mine = rss_of("self");
                let theirs = sim_pid.as_deref().and_then(rss_of);
                {
                    let mut r = rss.lock().unwrap();
                    r.0.extend(mine);
                    r.1.extend(theirs);
                }
                tokio::time::sleep(every).await;
            }
        })
    };

    // Humans: one post per interval, round robin over a channel, a group, a DM and a thread
    // in the channel. They write to the simulator's store directly, so they keep posting
    // while the server is down (a restart) and the bot must catch up.
    let posted = Arc::new(Mutex::new(Vec::<Posted>::new()));
    let clock = Instant::now();
    let humans_until = clock + config.fault_phase;
    let humans = {
        let posted = posted.clone();
        let handle = handle.clone();
        let interval = config.post_interval;
        tokio::spawn(async move {
            let post = |user: &'static str, rid: &'static str, tmid: Option<String>, n: u64| {
                let handle = handle.clone();
                async move {
                    let text = format!("soak message {n}");
                    Posted {
                        id: handle.post(user, rid, &text, tmid.as_deref()).await,
                        rid: rid.to_owned(),
                        thread: tmid,
                        at: clock.elapsed(),
                    }
                }
            };
            let root = post(ALICE_ID, GENERAL, None, 0).await;
            let root_id = root.id.clone();
            posted.lock().unwrap().push(root);
            let mut n = 1u64;
            while Instant::now() < humans_until {
                let p = match n % 5 {
                    0 => post(ALICE_ID, GENERAL, None, n),
                    1 => post(ALICE_ID, OPS, None, n),
                    2 => post(ALICE_ID, DM, None, n),
                    3 => post(BOB_ID, GENERAL, Some(root_id.clone()), n),
                    _ => post(BOB_ID, GENERAL, None, n),
                };
                let p = p.await;
                posted.lock().unwrap().push(p);
                n += 1;
                tokio::time::sleep(interval).await;
            }
        })
    };

    // Faults, until the fault phase ends.
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut faults = BTreeMap::new();
    // (when it started, kind): to say what came before a lost message.
    let mut timeline: Vec<(Duration, &'static str)> = Vec::new();
    while Instant::now() < humans_until {
        let (lo, hi) = config.fault_gap;
        let gap = rng.random_range(lo.as_millis() as u64..=hi.as_millis() as u64);
        tokio::time::sleep(Duration::from_millis(gap)).await;
        if Instant::now() >= humans_until {
            break;
        }
        let at = clock.elapsed();
        let kind = inject_one(&mut sim, &mut rng, &mut faults).await;
        if config.verbose {
            println!(
                "{:.1?} fault {kind} (posting clock {at:.1?})",
                started.elapsed()
            );
        }
        timeline.push((at, kind));
    }
    handle.reset_faults().await;
    humans.await.expect("humans task");
    if config.verbose {
        println!("faults over; draining");
    }

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

    if config.verbose {
        println!("drained; reading the status and the replies");
    }
    let status = core.status("default").await;
    bot.abort();

    // The figures.
    let t = std::mem::take(&mut *tracker.lock().unwrap());
    let (rss_core, rss_sim) = std::mem::take(&mut *rss.lock().unwrap());
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
        // In-process, the simulator's store (every message kept) is in the figures: not judged.
        memory: Memory::from_samples(&rss_core, sim.pid().is_some()),
        simulator_memory: sim.pid().map(|_| Memory::from_samples(&rss_sim, false)),
        ..Default::default()
    };
    let posted_ids: HashSet<&str> = posted.iter().map(|p| p.id.as_str()).collect();
    for p in &posted {
        *report.posted_by_room.entry(room_label(p)).or_default() += 1;
        match t.delivered.get(&p.id).copied().unwrap_or(0) {
            0 => {
                // Where it sits among the faults, to tell a catch-up gap from a live loss.
                let before = timeline.iter().rev().find(|(at, _)| *at <= p.at);
                let last = before.map_or("none".into(), |(at, k)| format!("{k} at {at:.1?}"));
                report.lost.push(format!(
                    "{} ({} posted at {:.1?}, last fault {last})",
                    p.id,
                    room_label(p),
                    p.at
                ))
            }
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
    for text in handle.texts_by(BOT_ID).await {
        *replies.entry(text).or_default() += 1;
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
    if config.verbose {
        println!("closing the core");
    }
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
