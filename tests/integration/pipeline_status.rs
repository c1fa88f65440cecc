//! `Core::status` after a mixed session: every message the bot did not deliver (its own
//! echoed back included) is counted under its reason, and the delivered, pairing and sent counters agree with the events the
//! host received and with what the room shows.

use crate::support;

use std::collections::BTreeMap;
use std::time::Duration;

use openclaw_rocketchat::account::{AllowlistUpdate, ConnectionState};
use openclaw_rocketchat::event::{DropReason, DroppedEvents, Event};
use rocketchat_sim::SimConfig;
use serde_json::json;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_counts_what_happened() {
    let mut h = Harness::gated(json!({
        "groupAllowFrom": ["alice"],
        "responsePrefix": "[bot]",
    }))
    .await;

    // Inbound: one pairing request, five drops, then three deliveries (one of them the held DM).
    h.post("alice", DM, "hi");
    h.events
        .expect("pairing request", WAIT, |e| {
            matches!(&e.event, Event::PairingRequest { .. })
        })
        .await;
    let pending = h.post("alice", DM, "hi again");
    assert_eq!(h.dropped(&pending).await, DropReason::NotAllowed);
    let bob = h.post("bob", GENERAL, "@mybot hi");
    assert_eq!(h.dropped(&bob).await, DropReason::NotAllowed);
    let plain = h.post("alice", GENERAL, "lunch?");
    assert_eq!(h.dropped(&plain).await, DropReason::NoMention);
    let outside = h.post("alice", RANDOM, "@mybot over here");
    assert_eq!(h.dropped(&outside).await, DropReason::NotParticipant);
    let bare = h.post("alice", GENERAL, "@mybot");
    assert_eq!(h.dropped(&bare).await, DropReason::Empty);
    let asked = h.post("alice", GENERAL, "@mybot help me");
    h.delivered(&asked).await;
    h.core()
        .update_allowlist(
            "default",
            AllowlistUpdate {
                approve: vec![ALICE_ID.into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // The DM dropped while her request was pending is released by the approval.
    h.delivered(&pending).await;
    let dm = h.post("alice", DM, "thanks for approving");
    h.delivered(&dm).await;

    // Outbound: a two-part reply, a plain text, a streamed reply.
    let long = format!("{}\n\n{}", "a".repeat(3000), "b".repeat(3000));
    let reply = h
        .core()
        .send_reply("default", GENERAL, &long, Some(&asked))
        .await
        .unwrap();
    assert_eq!(reply.len(), 2);
    h.reply(DM, "you are welcome", None).await;
    let stream = h
        .core()
        .start_stream("default", OPS, None, None, None)
        .await
        .unwrap();
    stream.push("streamed ").unwrap();
    stream.push("answer").unwrap();
    let streamed = stream.finish().await.unwrap();
    let sent_total = (reply.len() + 1 + streamed.len()) as u64;

    h.events
        .settle(Duration::from_millis(150), Duration::from_secs(3))
        .await;
    let st = h.status().await;
    assert_eq!(st.state, ConnectionState::Ready);
    assert_eq!(st.pairing_requests, 1);
    // The DM that raised her pairing request is released by the approval too.
    assert_eq!(st.delivered, 4);
    assert_eq!(st.sent, sent_total);
    assert!(st.last_inbound_at.is_some() && st.last_outbound_at.is_some());
    // The bot's own messages come back on the streams and are dropped as such.
    let want: BTreeMap<String, u64> = [
        ("empty", 1),
        ("noMention", 1),
        ("notAllowed", 2),
        ("notParticipant", 1),
        ("own", sent_total),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(h.drops().await, want);

    // The counters agree with the events and the rooms.
    let mut dropped_events: BTreeMap<String, u64> = BTreeMap::new();
    for e in h.events.of_type(Some("default"), "dropped") {
        if let Event::Dropped { reason, .. } = &e.event {
            let key = serde_json::to_value(reason).unwrap();
            *dropped_events
                .entry(key.as_str().unwrap().to_owned())
                .or_default() += 1;
        }
    }
    assert_eq!(dropped_events, want);
    assert_eq!(
        h.events.messages(Some("default")).len() as u64,
        st.delivered
    );
    assert_eq!(
        h.events.of_type(Some("default"), "pairingRequest").len() as u64,
        st.pairing_requests
    );
    assert_eq!(
        h.events.of_type(Some("default"), "sent").len() as u64,
        st.sent
    );
    assert_eq!(h.sim.messages_by(BOT).len() as u64, st.sent);
    h.close().await;
}

/// Post as an end-to-end-encrypted room's client does (`t: "e2e"`, ciphertext in `msg`).
fn post_encrypted(h: &Harness, rid: &str) -> String {
    let m = h
        .sim
        .post_message(
            "alice",
            rocketchat_sim::NewMessage {
                rid: rid.into(),
                msg: "kD9x1hZ0vQ==Zm9vYmFyYmF6cXV4".into(),
                extra: Some(json!({"t": "e2e", "e2e": "pending"})),
                ..Default::default()
            },
        )
        .expect("simulator post");
    m["_id"].as_str().expect("message id").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_messages_are_counted_and_the_room_is_told_once() {
    let mut h = Harness::gated(json!({"allowFrom": ["alice"]})).await;
    let first = post_encrypted(&h, DM);
    assert_eq!(h.dropped(&first).await, DropReason::Encrypted);
    let second = post_encrypted(&h, DM);
    assert_eq!(h.dropped(&second).await, DropReason::Encrypted);
    // A plain message after them is delivered, so both encrypted ones were processed.
    let plain = h.post("alice", DM, "and now in clear text");
    h.delivered(&plain).await;
    assert_eq!(h.drops().await.get("encrypted"), Some(&2));
    // One notice in the room, however many encrypted messages: wait for it, then check that
    // no second one follows the plain message's delivery.
    let store = h.sim.store().clone();
    let notices = || {
        store
            .messages_in(DM, None, false)
            .iter()
            .filter(|m| {
                m["u"]["_id"] == BOT_ID && m["msg"].as_str().unwrap_or("").contains("encrypted")
            })
            .count()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while notices() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no notice in the room"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let third = post_encrypted(&h, DM);
    assert_eq!(h.dropped(&third).await, DropReason::Encrypted);
    let after = h.post("alice", DM, "clear again");
    h.delivered(&after).await;
    assert_eq!(notices(), 1, "the room was told more than once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_encrypted_notice_posts_nothing() {
    let mut h = Harness::gated(json!({"allowFrom": ["alice"], "encryptedNotice": ""})).await;
    let id = post_encrypted(&h, DM);
    assert_eq!(h.dropped(&id).await, DropReason::Encrypted);
    // Another message delivered and one sent after it: a notice would have been posted by then.
    let plain = h.post("alice", DM, "in clear text");
    h.delivered(&plain).await;
    h.core()
        .send_text("default", DM, "marker", None)
        .await
        .expect("send");
    let bot_msgs: Vec<String> = h
        .sim
        .store()
        .messages_in(DM, None, false)
        .iter()
        .filter(|m| m["u"]["_id"] == BOT_ID)
        .filter_map(|m| m["msg"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(bot_msgs, vec!["marker".to_owned()]);
}

/// Host option `droppedEvents: "direct"` (what the OpenClaw plugin sets): a room's chatter
/// that the rules turn away (no mention, senders not allowed) never reaches the host as
/// events, while a person turned away in a DM still does; every drop is counted either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_dropped_events_direct_only_dm_drops_reach_the_host() {
    let mut options = core_options();
    options.account.dropped_events = DroppedEvents::Direct;
    let mut h = Harness::with_options(SimConfig::default(), options).await;
    let section = gated_section(
        &h.sim.url(),
        json!({
            "dmPolicy": "allowlist",
            "allowFrom": ["bob"],
            "groupAllowFrom": ["alice"],
        }),
    );
    h.apply(&section).await;
    h.ready("default").await;

    h.post("bob", GENERAL, "@mybot hi");
    h.post("alice", GENERAL, "lunch?");
    let dm = h.post("alice", DM, "hello?");
    assert_eq!(h.dropped(&dm).await, DropReason::NotAllowed);
    let asked = h.post("alice", GENERAL, "@mybot help me");
    h.delivered(&asked).await;

    // The room's two drops came before the delivered message: they were decided by now.
    let dropped: Vec<String> = h
        .events
        .of_type(Some("default"), "dropped")
        .iter()
        .map(|e| match &e.event {
            Event::Dropped { message_id, .. } => message_id.clone(),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(dropped, [dm], "only the DM's drop is an event");
    let counted = h.drops().await;
    assert_eq!(counted.get("notAllowed"), Some(&2), "{counted:?}");
    assert_eq!(counted.get("noMention"), Some(&1), "{counted:?}");
    h.close().await;
}
