//! Direct messages through the whole pipeline (simulator → `Core` → events): `dmPolicy`
//! pairing, allowlist, disabled and open, with run-time allowlist changes that survive a
//! configuration reload.

use crate::support;

use openclaw_rocketchat::account::AllowlistUpdate;
use openclaw_rocketchat::config::NoEnv;
use openclaw_rocketchat::event::{DropReason, Event, RoomType};
use openclaw_rocketchat::CoreError;
use serde_json::json;
use support::*;

/// The DM between the bot and bob (not seeded: opened by the test).
const BOB_DM: &str = "Bq7dYg4KxWnZcT3rAYh3nR6vPq2XzMt8Ws";

/// Wait for the `pairingRequest` raised by the DM `text`.
async fn pairing_request(h: &mut Harness, text: &str) -> Event {
    h.events
        .expect(
            &format!("pairingRequest for {text:?}"),
            WAIT,
            |e| matches!(&e.event, Event::PairingRequest { text: t, .. } if t == text),
        )
        .await
        .event
}

fn open_bob_dm(h: &Harness) {
    let room = h
        .sim
        .store()
        .create_direct_message(BOB_ID, BOT)
        .expect("DM opened");
    assert_eq!(room.id, BOB_DM);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairing_asks_once_then_an_approval_admits_survives_a_reload_and_can_be_revoked() {
    let mut h = Harness::gated(json!({})).await;

    // First DM: one pairing request, nothing for the agent.
    let first = h.post("alice", DM, "hello bot");
    let Event::PairingRequest {
        room_id,
        sender_id,
        sender_username,
        sender_name,
        text,
    } = pairing_request(&mut h, "hello bot").await
    else {
        unreachable!()
    };
    assert_eq!(room_id, DM);
    assert_eq!(sender_id, ALICE_ID);
    assert_eq!(sender_username, "alice");
    assert_eq!(sender_name.as_deref(), Some("Alice Doe"));
    assert_eq!(text, "hello bot");

    // Second DM while the request is pending: not asked again, not delivered.
    let second = h.post("alice", DM, "are you there?");
    assert_eq!(h.dropped(&second).await, DropReason::NotAllowed);
    assert_eq!(
        h.events.of_type(None, "pairingRequest").len(),
        1,
        "{}",
        h.events.dump()
    );
    assert!(h.events.messages(None).is_empty(), "{}", h.events.dump());
    assert!(h.events.position_of(&first).is_none());

    // The host approves her: the DMs held while she waited (approvals reach the core with
    // a lag), the one that raised the request included, are answered now, in order, and her
    // next DM reaches the agent, the mention stripped.
    h.core()
        .update_allowlist(
            "default",
            AllowlistUpdate {
                approve: vec!["@alice".into()],
                ..Default::default()
            },
        )
        .await
        .expect("account runs");
    let released = h.delivered(&second).await;
    assert_eq!(released.text, "are you there?");
    assert_eq!(released.trigger.expect("trigger").reason, "direct");
    assert_eq!(h.delivered(&first).await.text, "hello bot");
    assert!(
        h.events.position_of(&first) < h.events.position_of(&second),
        "released in the order written"
    );
    let third = h.post("alice", DM, "@mybot now can we talk?");
    let m = h.delivered(&third).await;
    assert_eq!(m.room_type, RoomType::Direct);
    let trigger = m.trigger.expect("a delivered message carries its trigger");
    assert_eq!(trigger.reason, "direct");
    // The mention is taken out, so the body differs from the text and is sent.
    assert_eq!(trigger.body.as_deref(), Some("now can we talk?"));
    assert!(
        trigger.command_authorized,
        "approved senders may run commands"
    );

    let st = h.status().await;
    assert_eq!(st.pairing_requests, 1);
    assert_eq!(
        st.delivered, 3,
        "the two released DMs and the one after the approval"
    );
    assert_eq!(st.dropped.get("notAllowed"), Some(&1), "{:?}", st.dropped);

    // A changed configuration restarts the account; the approval is kept.
    let report = h
        .apply(&gated_section(
            &h.sim.url(),
            json!({"responsePrefix": "[bot] "}),
        ))
        .await;
    assert_eq!(report.restarted, vec!["default".to_owned()]);
    h.ready("default").await;
    let fourth = h.post("alice", DM, "still there after the reload?");
    let trigger = h.delivered(&fourth).await.trigger.expect("trigger");
    assert_eq!(trigger.reason, "direct");

    // Revoked: back to pairing.
    h.core()
        .update_allowlist(
            "default",
            AllowlistUpdate {
                revoke: vec!["alice".into()],
                ..Default::default()
            },
        )
        .await
        .expect("account runs");
    let fifth = h.post("alice", DM, "hello again");
    pairing_request(&mut h, "hello again").await;

    // The revocation is kept across a reload too.
    let report = h
        .apply(&gated_section(
            &h.sim.url(),
            json!({"responsePrefix": "[agent] "}),
        ))
        .await;
    assert_eq!(report.restarted, vec!["default".to_owned()]);
    h.ready("default").await;
    let sixth = h.post("alice", DM, "and now?");
    let judged = h
        .events
        .expect("the verdict on the last DM", WAIT, |e| match &e.event {
            Event::Message { message } => message.message_id == sixth,
            Event::Dropped { message_id, .. } => message_id == &sixth,
            Event::PairingRequest { text, .. } => text == "and now?",
            _ => false,
        })
        .await;
    assert!(
        !matches!(judged.event, Event::Message { .. }),
        "a revoked sender must not reach the agent: {}",
        h.events.dump()
    );

    let delivered: Vec<&str> = h
        .events
        .messages(None)
        .iter()
        .map(|m| m.message_id.as_str())
        .collect();
    assert_eq!(
        delivered,
        vec![
            first.as_str(),
            second.as_str(),
            third.as_str(),
            fourth.as_str()
        ]
    );
    assert!(h.events.position_of(&fifth).is_none());
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowlist_admits_the_listed_name_and_drops_everyone_else() {
    let mut h = Harness::gated(json!({"dmPolicy": "allowlist", "allowFrom": ["alice"]})).await;
    open_bob_dm(&h);

    let from_bob = h.post("bob", BOB_DM, "let me in");
    assert_eq!(h.dropped(&from_bob).await, DropReason::NotAllowed);
    let from_alice = h.post("alice", DM, "it's me");
    let m = h.delivered(&from_alice).await;
    assert_eq!(m.trigger.expect("trigger").reason, "direct");
    let again_bob = h.post("bob", BOB_DM, "please?");
    assert_eq!(h.dropped(&again_bob).await, DropReason::NotAllowed);

    assert!(
        h.events.of_type(None, "pairingRequest").is_empty(),
        "allowlist never pairs: {}",
        h.events.dump()
    );
    let st = h.status().await;
    assert_eq!(st.delivered, 1);
    assert_eq!(st.pairing_requests, 0);
    assert_eq!(
        h.drops().await.into_iter().collect::<Vec<_>>(),
        vec![("notAllowed".to_owned(), 2)]
    );

    // Replacing allowFrom at run time admits bob and shuts alice out.
    h.core()
        .update_allowlist(
            "default",
            AllowlistUpdate {
                allow_from: Some(vec!["user:".to_owned() + BOB_ID]),
                ..Default::default()
            },
        )
        .await
        .expect("account runs");
    let bob_now = h.post("bob", BOB_DM, "thanks");
    assert_eq!(
        h.delivered(&bob_now).await.trigger.expect("trigger").reason,
        "direct"
    );
    let alice_now = h.post("alice", DM, "and me?");
    assert_eq!(h.dropped(&alice_now).await, DropReason::NotAllowed);
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_drops_every_dm_by_policy() {
    let mut h = Harness::gated(json!({"dmPolicy": "disabled", "allowFrom": ["alice"]})).await;
    let id = h.post("alice", DM, "hello?");
    assert_eq!(h.dropped(&id).await, DropReason::Policy);
    assert!(h.events.of_type(None, "pairingRequest").is_empty());
    let st = h.status().await;
    assert_eq!(st.delivered, 0);
    assert_eq!(st.dropped.get("policy"), Some(&1), "{:?}", st.dropped);
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_needs_the_wildcard_and_then_admits_anyone() {
    let mut h = Harness::new().await;
    let url = h.sim.url();

    for allow in [json!(null), json!(["alice"])] {
        let mut section = gated_section(&url, json!({"dmPolicy": "open"}));
        if !allow.is_null() {
            section["allowFrom"] = allow;
        }
        let err = h
            .core()
            .apply_config(&section, &NoEnv)
            .await
            .expect_err("open without \"*\" is refused");
        assert!(matches!(err, CoreError::Config(_)), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("allowFrom") && text.contains("\"*\""),
            "the error names the key and the fix: {text}"
        );
        assert!(h.core().account_ids().await.is_empty(), "nothing started");
    }

    h.apply(&gated_section(
        &url,
        json!({"dmPolicy": "open", "allowFrom": ["*"]}),
    ))
    .await;
    h.ready("default").await;
    open_bob_dm(&h);
    let id = h.post("bob", BOB_DM, "hi, stranger here");
    let trigger = h.delivered(&id).await.trigger.expect("trigger");
    assert_eq!(trigger.reason, "direct");
    // The body is the text unchanged: left out of the event, not sent twice.
    assert_eq!(trigger.body, None);
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_does_not_ask_a_pending_sender_again() {
    let mut h = Harness::gated(json!({})).await;
    h.post("alice", DM, "hello bot");
    pairing_request(&mut h, "hello bot").await;

    let report = h
        .apply(&gated_section(
            &h.sim.url(),
            json!({"textChunkLimit": 3000}),
        ))
        .await;
    assert_eq!(report.restarted, vec!["default".to_owned()]);
    h.ready("default").await;

    // Her request is still pending: the host already holds a code for her.
    let again = h.post("alice", DM, "hello? anyone?");
    let judged = h
        .events
        .expect(
            "the verdict on the DM after the reload",
            WAIT,
            |e| match &e.event {
                Event::Dropped { message_id, .. } => message_id == &again,
                Event::PairingRequest { text, .. } => text == "hello? anyone?",
                Event::Message { message } => message.message_id == again,
                _ => false,
            },
        )
        .await;
    assert!(
        matches!(
            judged.event,
            Event::Dropped {
                reason: DropReason::NotAllowed,
                ..
            }
        ),
        "one pairing request per sender, reload or not: {}",
        h.events.dump()
    );
    h.close().await;
}
