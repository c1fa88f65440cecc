//! What the bot remembers of what it has seen: an old message re-broadcast (a reaction, an
//! edit) long after the id window forgot it is never a new message, and with a state folder
//! a restarted core delivers what was posted while it was down, once, and nothing earlier.

use crate::support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use openclaw_rocketchat::config::NoEnv;
use openclaw_rocketchat::event::{Event, LogLevel, MessageSource};
use openclaw_rocketchat::inbound::dedupe::{DEFAULT_WINDOW, REORDER_MS};
use openclaw_rocketchat::inbound::parse_date_ms;
use openclaw_rocketchat::{Core, CoreOptions};
use rocketchat_sim::flood::FloodSpec;
use rocketchat_sim::SimConfig;
use serde_json::json;
use support::*;

/// Poll `cond` every 50 ms until it holds; panics after `timeout`.
async fn wait_until<F: std::future::Future<Output = bool>>(
    what: &str,
    timeout: Duration,
    mut cond: impl FnMut() -> F,
) {
    let deadline = Instant::now() + timeout;
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Post as a human; returns the id and the server's `ts`.
fn post_at(h: &Harness, user: &str, rid: &str, text: &str) -> (String, u64) {
    let m = h.sim.post(user, rid, text).expect("simulator post");
    let ts = parse_date_ms(&m["ts"]).expect("ts");
    (m["_id"].as_str().expect("id").to_owned(), ts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reaction_or_edit_on_an_old_dm_after_a_busy_channel_is_not_a_new_message() {
    // DMs answered; the channel's messages are all dropped (nobody is on its allowlist),
    // yet each counts against the id window.
    let mut h = Harness::gated(json!({"dmPolicy": "open", "allowFrom": ["*"]})).await;
    let (first, first_ts) = post_at(&h, "alice", DM, "first question");
    let (last, _) = post_at(&h, "alice", DM, "second question");
    h.delivered(&first).await;
    h.delivered(&last).await;

    let busy = DEFAULT_WINDOW as u64 + 1_000;
    let spec: FloodSpec = serde_json::from_value(json!({
        "user": "alice", "count": busy, "seed": 7, "rooms": [GENERAL],
        "minBytes": 20, "maxBytes": 40,
    }))
    .expect("flood spec");
    rocketchat_sim::flood::run(h.sim.store(), &spec)
        .await
        .expect("flood");
    wait_until(
        "the bot to read the busy channel",
        Duration::from_secs(180),
        // Past the window is enough (a slow reader is never cut off, but be lenient).
        || async { h.drops().await.values().sum::<u64>() > DEFAULT_WINDOW as u64 + 100 },
    )
    .await;
    // A reaction this soon after posting could pass for a message stamped late (see
    // REORDER_MS); real reactions come later than that.
    wait_until(
        "the reaction to be later",
        Duration::from_secs(10),
        || async { openclaw_rocketchat::event::now_ms() > first_ts + REORDER_MS },
    )
    .await;

    let store = h.sim.store().clone();
    store
        .react(ALICE_ID, &first, ":+1:", None)
        .expect("react on the older DM");
    store
        .react(ALICE_ID, &last, ":+1:", None)
        .expect("react on the DM room's newest message");
    store
        .update_message(ALICE_ID, None, &first, "first question, corrected")
        .expect("edit");
    let edit = h
        .events
        .expect(
            "the edit of the old DM",
            WAIT,
            |e| matches!(&e.event, Event::MessageEdited { message } if message.message_id == first),
        )
        .await;
    let Event::MessageEdited { message } = edit.event else {
        unreachable!()
    };
    assert_eq!(message.text, "first question, corrected");
    // Everything before it on the socket has been through the pipeline once this arrives.
    let (sentinel, _) = post_at(&h, "alice", DM, "third question");
    h.delivered(&sentinel).await;

    let counts = h.events.message_counts(None);
    for id in [&first, &last, &sentinel] {
        assert_eq!(
            counts.get(id).copied(),
            Some(1),
            "{id} delivered exactly once; events:\n{}",
            h.events.dump()
        );
    }
    assert_eq!(h.events.of_type(None, "messageEdited").len(), 1);
}

/// A state folder unique to this test run.
fn state_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "rc-core-memory-{tag}-{}-{}",
        std::process::id(),
        openclaw_rocketchat::event::now_ms()
    ));
    std::fs::create_dir_all(&dir).expect("state dir");
    dir
}

fn options_with(dir: &std::path::Path) -> CoreOptions {
    let mut options = core_options();
    options.account.state_dir = Some(dir.to_owned());
    options
}

/// A second core on the same simulator, its events tracked, the default account started.
async fn restarted(url: &str, options: CoreOptions) -> (Core, Events) {
    let core = Core::new(options).expect("core starts");
    let events = Events::new(core.events().clone());
    core.apply_config(&pat_section(url), &NoEnv)
        .await
        .expect("valid config");
    (core, events)
}

async fn shut(core: Core) {
    core.close().await;
    // A runtime cannot be dropped from inside another one.
    let _ = std::thread::spawn(move || drop(core)).join();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_what_was_posted_meanwhile_arrives_once_and_nothing_earlier_again() {
    let dir = state_dir("restart");
    let mut h = Harness::with_options(SimConfig::default(), options_with(&dir)).await;
    h.apply(&pat_section(&h.sim.url())).await;
    h.ready("default").await;
    let before = [
        h.post("alice", DM, "before dm"),
        h.post("bob", GENERAL, "before general"),
    ];
    for id in &before {
        h.delivered(id).await;
    }
    h.close().await;

    let down = [
        (DM.to_owned(), h.post("alice", DM, "while down dm")),
        (
            GENERAL.to_owned(),
            h.post("bob", GENERAL, "while down general"),
        ),
        (OPS.to_owned(), h.post("alice", OPS, "while down ops")),
        (DM.to_owned(), h.post("alice", DM, "while down dm 2")),
    ];
    let (core, mut events) = restarted(&h.sim.url(), options_with(&dir)).await;
    for (_, id) in &down {
        let m = delivered_to(&mut events, None, id).await;
        assert_eq!(m.source, MessageSource::CatchUp, "{id}");
    }
    // A reaction on a message answered before the restart is no new message either.
    h.sim
        .store()
        .react(ALICE_ID, &before[0], ":+1:", None)
        .expect("react");
    let after = h.post("alice", DM, "after restart");
    delivered_to(&mut events, None, &after).await;

    let mut all = down.to_vec();
    all.push((DM.to_owned(), after));
    events.assert_exactly_once_in_order(None, &all);
    let counts = events.message_counts(None);
    for id in &before {
        assert_eq!(
            counts.get(id),
            None,
            "{id} was answered before the restart; events:\n{}",
            events.dump()
        );
    }
    shut(core).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A gateway down for longer than the server keeps messages (its retention policy prunes
/// channel messages after an hour here): what is still there arrives once, and the span the
/// server may have pruned is a `catchUpGap` naming the room, never silence. DMs, which the
/// policy spares, get no gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_longer_than_the_retention_policy_the_pruned_span_is_a_gap() {
    use rocketchat_sim::store::{NewMessage, Retention, Settings};
    const HOUR: i64 = 3_600_000;
    let dir = state_dir("retention");
    let config = SimConfig {
        settings: Settings {
            retention: Retention {
                enabled: true,
                channels_ms: Some(HOUR),
                ..Default::default()
            },
            ..Default::default()
        },
        ..Default::default()
    };
    let mut h = Harness::with_options(config, options_with(&dir)).await;
    h.apply(&pat_section(&h.sim.url())).await;
    h.ready("default").await;
    let at = |ago: i64, rid: &str, text: &str| NewMessage {
        rid: rid.into(),
        msg: text.into(),
        ts: Some(openclaw_rocketchat::event::now_ms() as i64 - ago),
        ..Default::default()
    };
    let id_of = |m: serde_json::Value| m["_id"].as_str().expect("an id").to_owned();
    // The last message the bot saw before it went down, three hours ago.
    let seen = id_of(
        h.sim
            .post_message("bob", at(3 * HOUR, GENERAL, "three hours ago"))
            .expect("post"),
    );
    h.delivered(&seen).await;
    h.close().await;

    let pruned = id_of(
        h.sim
            .post_message("bob", at(2 * HOUR, GENERAL, "two hours ago"))
            .expect("post"),
    );
    let kept = id_of(
        h.sim
            .post_message("bob", at(0, GENERAL, "just now"))
            .expect("post"),
    );
    let dm = h.post("alice", DM, "while down dm");
    let (core, mut events) = restarted(&h.sim.url(), options_with(&dir)).await;
    let gap = events
        .expect(
            "a gap for the pruned span of #general",
            WAIT,
            |e| matches!(&e.event, Event::CatchUpGap { room_id, .. } if room_id == GENERAL),
        )
        .await;
    let Event::CatchUpGap {
        from, to, reason, ..
    } = &gap.event
    else {
        unreachable!()
    };
    let now = openclaw_rocketchat::event::now_ms() as i64;
    assert!((*from as i64) <= now - 3 * HOUR + 60_000, "from {from}");
    assert!(
        ((*to as i64) - (now - HOUR)).abs() < 120_000,
        "to {to}, an hour before now"
    );
    assert!(
        reason.contains("retention policy") && reason.contains("1 hours"),
        "{reason}"
    );
    for id in [&kept, &dm] {
        let m = delivered_to(&mut events, None, id).await;
        assert_eq!(m.source, MessageSource::CatchUp, "{id}");
    }
    events
        .settle(Duration::from_millis(300), Duration::from_secs(3))
        .await;
    let counts = events.message_counts(None);
    assert_eq!(
        counts.get(&pruned),
        None,
        "the pruned message cannot come back"
    );
    assert_eq!(counts.get(&seen), None, "delivered before the restart");
    let gaps: Vec<String> = events
        .all
        .iter()
        .filter_map(|e| match &e.event {
            Event::CatchUpGap { room_id, .. } => Some(room_id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        gaps,
        [GENERAL.to_owned()],
        "only the channel's policy prunes"
    );
    shut(core).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_state_file_is_reported_and_the_bot_starts_fresh() {
    let dir = state_dir("corrupt");
    let file = dir.join("account-default.json");
    std::fs::write(
        &file,
        "{\"format\":\"openclaw-rocketchat/seen\",\"rooms\":{\"GEN",
    )
    .expect("write");
    let mut h = Harness::with_options(SimConfig::default(), options_with(&dir)).await;
    h.apply(&pat_section(&h.sim.url())).await;
    h.events
        .expect("a warning about the state file", WAIT, |e| {
            matches!(&e.event, Event::Log { level: LogLevel::Warn, message }
                if message.contains(&file.display().to_string()) && message.contains("starting fresh"))
        })
        .await;
    h.ready("default").await;
    let id = h.post("alice", DM, "still answered");
    h.delivered(&id).await;
    h.close().await;
    // The next start finds a good file again.
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("saved")).expect("JSON");
    assert_eq!(saved["accountId"], "default", "{saved}");
    let _ = std::fs::remove_dir_all(&dir);
}
