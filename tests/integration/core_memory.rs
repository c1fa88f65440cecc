//! What the bot remembers of what it has seen: an old message re-broadcast (a reaction, an
//! edit) long after the id window forgot it is never a new message.

use crate::support;

use std::time::{Duration, Instant};

use openclaw_rocketchat::event::Event;
use openclaw_rocketchat::inbound::dedupe::{DEFAULT_WINDOW, REORDER_MS};
use openclaw_rocketchat::inbound::parse_date_ms;
use rocketchat_sim::flood::FloodSpec;
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
