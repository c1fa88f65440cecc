//! Channels and private groups through the whole pipeline (simulator → `Core` → events):
//! `groupPolicy`, `groupAllowFrom`, `requireMention` (account and per room), `chatmode`
//! oncall / onchar / onmessage, conversation windows opened by the bot's replies, threads,
//! and rooms the bot has not joined.

use crate::support;

use openclaw_rocketchat::event::{DropReason, Event, RoomType, Trigger};
use serde_json::json;
use support::*;

/// The trigger of the delivered message `id`, its body the text for the agent (which the
/// event leaves out when it is the message's text).
async fn trigger(h: &mut Harness, id: &str) -> Trigger {
    let m = h.delivered(id).await;
    let body = m.agent_text().to_owned();
    let mut t = m.trigger.expect("a delivered message carries its trigger");
    t.body = Some(body);
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_groups_admit_nobody_even_with_a_mention() {
    let mut h = Harness::new().await;
    let report = h.apply(&gated_section(&h.sim.url(), json!({}))).await;
    assert!(
        report.warnings.iter().any(|w| w.contains("groupAllowFrom")),
        "the empty group allowlist is pointed out: {:?}",
        report.warnings
    );
    h.ready("default").await;

    let general = h.post("alice", GENERAL, "@mybot are you there?");
    assert_eq!(h.dropped(&general).await, DropReason::NotAllowed);
    let ops = h.post("alice", OPS, "@mybot hello team bot");
    assert_eq!(h.dropped(&ops).await, DropReason::NotAllowed);

    assert!(h.events.messages(None).is_empty(), "{}", h.events.dump());
    assert_eq!(
        h.drops().await.into_iter().collect::<Vec<_>>(),
        vec![("notAllowed".to_owned(), 2)]
    );
    assert_eq!(h.status().await.delivered, 0);
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_allowlist_with_mentions_in_channels_threads_and_private_groups() {
    let mut h = Harness::gated(json!({"groupAllowFrom": ["@alice"]})).await;

    let plain = h.post("alice", GENERAL, "nice weather today");
    assert_eq!(h.dropped(&plain).await, DropReason::NoMention);

    let asked = h.post("alice", GENERAL, "@mybot what is the status?");
    let t = trigger(&mut h, &asked).await;
    assert_eq!(t.reason, "mention");
    assert_eq!(t.body.as_deref(), Some("what is the status?"));
    assert!(t.was_mentioned);
    assert!(t.command_authorized);
    assert!(!t.control_command);

    // bob is not on the list, mention or not.
    let bob = h.post("bob", GENERAL, "@mybot me too");
    assert_eq!(h.dropped(&bob).await, DropReason::NotAllowed);

    // A mention inside a thread: delivered in that thread.
    let root = h.post("alice", GENERAL, "thread about the release");
    assert_eq!(h.dropped(&root).await, DropReason::NoMention);
    let in_thread = h.post_in_thread("alice", GENERAL, &root, "@mybot summarise please");
    let m = h.delivered(&in_thread).await;
    assert_eq!(m.thread_id.as_deref(), Some(root.as_str()));
    let t = m.trigger.expect("trigger");
    assert_eq!(
        (t.reason.as_str(), t.body.as_deref().unwrap()),
        ("mention", "summarise please")
    );
    let unmentioned_reply = h.post_in_thread("alice", GENERAL, &root, "thanks");
    assert_eq!(h.dropped(&unmentioned_reply).await, DropReason::NoMention);

    // The private group ops-team follows the same rules.
    let ops_plain = h.post("alice", OPS, "deploy at five");
    assert_eq!(h.dropped(&ops_plain).await, DropReason::NoMention);
    let ops_asked = h.post("alice", OPS, "@mybot deploy at five?");
    let m = h.delivered(&ops_asked).await;
    assert_eq!(m.room_type, RoomType::Private);
    assert_eq!(m.room_name.as_deref(), Some("ops-team"));
    assert_eq!(m.agent_text(), "deploy at five?");

    let st = h.status().await;
    assert_eq!(st.delivered, 3);
    assert_eq!(st.pairing_requests, 0);
    assert_eq!(
        h.drops().await.into_iter().collect::<Vec<_>>(),
        vec![("noMention".to_owned(), 4), ("notAllowed".to_owned(), 1)]
    );
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onchar_delivers_prefixed_messages_without_the_prefix() {
    let mut h = Harness::gated(json!({
        "groupAllowFrom": ["alice"],
        "chatmode": "onchar",
        "oncharPrefixes": [">"],
    }))
    .await;

    let prefixed = h.post("alice", GENERAL, "> hello");
    let t = trigger(&mut h, &prefixed).await;
    assert_eq!(t.reason, "onchar");
    assert_eq!(t.body.as_deref(), Some("hello"));
    assert!(t.was_mentioned, "a prefix addresses the bot");

    // `!` is not an onchar prefix here, but the command prefix: from a sender who may run
    // commands, `!hello` is offered to the host as the command `/hello` (which the host runs
    // or drops), with the text as typed.
    let other_prefix = h.post("alice", GENERAL, "!hello");
    let t = trigger(&mut h, &other_prefix).await;
    assert_eq!(
        (
            t.reason.as_str(),
            t.body.as_deref().unwrap(),
            t.typed_as.as_deref()
        ),
        ("controlCommand", "/hello", Some("!hello"))
    );
    let plain = h.post("alice", GENERAL, "hello");
    assert_eq!(h.dropped(&plain).await, DropReason::NoMention);
    let mentioned = h.post("alice", GENERAL, "@mybot hello");
    assert_eq!(trigger(&mut h, &mentioned).await.reason, "mention");

    assert_eq!(h.status().await.delivered, 3);
    assert_eq!(h.drops().await.get("noMention"), Some(&1));
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onmessage_with_an_open_group_policy_delivers_everything_in_joined_rooms() {
    let mut h = Harness::gated(json!({"groupPolicy": "open", "chatmode": "onmessage"})).await;

    let alice = h.post("alice", GENERAL, "morning all");
    let t = trigger(&mut h, &alice).await;
    assert_eq!(
        (t.reason.as_str(), t.body.as_deref().unwrap()),
        ("onmessage", "morning all")
    );
    assert!(!t.was_mentioned);
    assert!(!t.command_authorized, "open is not an allowlist");
    let bob = h.post("bob", GENERAL, "morning");
    assert_eq!(trigger(&mut h, &bob).await.reason, "onmessage");
    let ops = h.post("alice", OPS, "standup in 5");
    assert_eq!(trigger(&mut h, &ops).await.reason, "onmessage");
    let mention = h.post("bob", GENERAL, "@mybot hi");
    let t = trigger(&mut h, &mention).await;
    assert_eq!(
        (t.reason.as_str(), t.body.as_deref().unwrap()),
        ("mention", "hi")
    );

    // A public room the bot has not joined stays out.
    let outside = h.post("alice", RANDOM, "@mybot over here");
    assert_eq!(h.dropped(&outside).await, DropReason::NotParticipant);

    assert_eq!(h.status().await.delivered, 4);
    assert_eq!(
        h.drops().await.into_iter().collect::<Vec<_>>(),
        vec![("notParticipant".to_owned(), 1)]
    );
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_mention_can_be_lifted_for_one_room() {
    let mut h = Harness::gated(json!({
        "groupAllowFrom": ["alice"],
        "rooms": {GENERAL: {"requireMention": false}},
    }))
    .await;

    let general = h.post("alice", GENERAL, "anyone around?");
    let t = trigger(&mut h, &general).await;
    assert_eq!(t.reason, "mentionNotRequired");
    assert_eq!(t.body.as_deref(), Some("anyone around?"));
    assert!(!t.was_mentioned);

    let ops = h.post("alice", OPS, "anyone around?");
    assert_eq!(h.dropped(&ops).await, DropReason::NoMention);
    let bob = h.post("bob", GENERAL, "and me?");
    assert_eq!(h.dropped(&bob).await, DropReason::NotAllowed);

    assert_eq!(h.status().await.delivered, 1);
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_of_the_bot_opens_a_conversation_window_in_that_room() {
    let mut h = Harness::gated(json!({
        "groupAllowFrom": ["alice"],
        "conversationWindowMinutes": 1,
    }))
    .await;

    let before = h.post("alice", GENERAL, "is the build green?");
    assert_eq!(h.dropped(&before).await, DropReason::NoMention);

    let sent = h
        .core()
        .send_reply("default", GENERAL, "It is, all checks passed.", None)
        .await
        .expect("reply sent");
    assert_eq!(sent.len(), 1);

    let after = h.post("alice", GENERAL, "great, ship it");
    let t = trigger(&mut h, &after).await;
    assert_eq!(t.reason, "window");
    assert_eq!(t.body.as_deref(), Some("great, ship it"));
    assert!(!t.was_mentioned);

    // The window is the room's (and its main timeline's) only.
    let elsewhere = h.post("alice", OPS, "ship what?");
    assert_eq!(h.dropped(&elsewhere).await, DropReason::NoMention);
    let in_thread = h.post_in_thread("alice", GENERAL, &after, "in a thread");
    assert_eq!(h.dropped(&in_thread).await, DropReason::NoMention);

    let st = h.status().await;
    assert_eq!(st.sent, 1);
    assert_eq!(st.delivered, 1);
    assert_eq!(h.drops().await.get("noMention"), Some(&3));
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_keeps_an_open_conversation_window() {
    let mut h = Harness::gated(json!({
        "groupAllowFrom": ["alice"],
        "conversationWindowMinutes": 1,
    }))
    .await;
    let asked = h.post("alice", GENERAL, "@mybot ready for questions?");
    assert_eq!(trigger(&mut h, &asked).await.reason, "mention");

    let report = h
        .apply(&gated_section(
            &h.sim.url(),
            json!({
                "groupAllowFrom": ["alice"],
                "conversationWindowMinutes": 1,
                "textChunkLimit": 3000,
            }),
        ))
        .await;
    assert_eq!(report.restarted, vec!["default".to_owned()]);
    h.ready("default").await;

    let follow_up = h.post("alice", GENERAL, "and one more thing");
    assert_eq!(trigger(&mut h, &follow_up).await.reason, "window");
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_commands_need_an_allowlisted_sender_and_no_mention() {
    let mut h = Harness::gated(json!({
        "groupPolicy": "open",
        "groupAllowFrom": ["alice"],
    }))
    .await;

    let alice = h.post("alice", GENERAL, "/reset");
    let t = trigger(&mut h, &alice).await;
    assert_eq!(t.reason, "controlCommand");
    assert!(t.control_command && t.command_authorized);
    assert_eq!(t.body.as_deref(), Some("/reset"));

    let bob = h.post("bob", GENERAL, "/reset");
    assert_eq!(h.dropped(&bob).await, DropReason::NotAllowed);
    let bob_mentioning = h.post("bob", GENERAL, "@mybot /reset");
    assert_eq!(h.dropped(&bob_mentioning).await, DropReason::NotAllowed);
    let bob_asks = h.post("bob", GENERAL, "@mybot what's new?");
    let t = trigger(&mut h, &bob_asks).await;
    assert_eq!(t.reason, "mention");
    assert!(!t.command_authorized);
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_that_adds_the_mention_is_a_new_message_and_other_edits_stay_edits() {
    let mut h = Harness::gated(json!({
        "groupPolicy": "open",
        "requireMention": true,
    }))
    .await;
    // Posted without the mention: turned away. Edited to mention the bot: a new trigger.
    let id = h.post("alice", GENERAL, "what do you think?");
    assert_eq!(h.dropped(&id).await, DropReason::NoMention);
    h.sim
        .store()
        .update_message(ALICE_ID, Some(GENERAL), &id, "@mybot what do you think?")
        .expect("edit");
    let m = h.delivered(&id).await;
    assert_eq!(m.agent_text(), "what do you think?");
    // Edits are stamped to the millisecond: the next comes later, as a person's would (two
    // edits in one millisecond look the same, and the second is taken for a re-broadcast).
    let edited_at = h.sim.store().message(&id).expect("stored")["editedAt"]["$date"]
        .as_i64()
        .expect("editedAt");
    while chrono::Utc::now().timestamp_millis() <= edited_at {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    // Edited again: the agent has seen it, so this is an edit, not a second question.
    h.sim
        .store()
        .update_message(
            ALICE_ID,
            Some(GENERAL),
            &id,
            "@mybot what do you all think?",
        )
        .expect("edit");
    h.events
        .expect(
            "messageEdited",
            WAIT,
            |e| matches!(&e.event, Event::MessageEdited { message } if message.message_id == id),
        )
        .await;
    let asked = h
        .events
        .messages(None)
        .iter()
        .filter(|m| m.message_id == id)
        .count();
    assert_eq!(asked, 1, "{}", h.events.dump());
    h.close().await;
}
