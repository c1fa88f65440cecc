//! Round trips through the core against the simulator: humans post in channels, private
//! groups, DMs and threads; the host receives each message once, described right; the bot's
//! replies land in the room once; what must not reach the host does not.

use crate::support;

use std::time::Duration;

use openclaw_rocketchat::event::{DropReason, Event, MessageSource, RoomType};
use rocketchat_sim::NewMessage;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_group_dm_and_thread_messages_reach_the_host_once_each() {
    let mut h = Harness::pat().await;
    let mut posted = Vec::new();

    // Channel, with a mention.
    let id = h.post("alice", GENERAL, "hi @mybot, status?");
    let m = h.delivered(&id).await;
    assert_eq!(m.account_id, "default");
    assert_eq!(m.room_id, GENERAL);
    assert_eq!(m.room_type, RoomType::Channel);
    assert_eq!(m.room_name.as_deref(), Some("general"));
    assert_eq!(m.sender.id, ALICE_ID);
    assert_eq!(m.sender.username, "alice");
    assert_eq!(m.text, "hi @mybot, status?");
    assert!(m.mentions.bot_mentioned, "the bot is mentioned");
    assert_eq!(m.thread_id, None);
    assert_eq!(m.source, MessageSource::Live);
    assert!(m.room_participant);
    posted.push((GENERAL.to_owned(), id));

    // Private group, no mention.
    let id = h.post("alice", OPS, "deploy is green");
    let m = h.delivered(&id).await;
    assert_eq!(m.room_id, OPS);
    assert_eq!(m.room_type, RoomType::Private);
    assert_eq!(m.room_name.as_deref(), Some("ops-team"));
    assert!(!m.mentions.bot_mentioned);
    assert_eq!(m.text, "deploy is green");
    posted.push((OPS.to_owned(), id));

    // Direct message.
    let id = h.post("alice", DM, "just between us");
    let m = h.delivered(&id).await;
    assert_eq!(m.room_id, DM);
    assert_eq!(m.room_type, RoomType::Direct);
    assert_eq!(m.sender.username, "alice");
    assert_eq!(m.text, "just between us");
    posted.push((DM.to_owned(), id));

    // A thread: the root, then a reply in it.
    let root = h.post("alice", GENERAL, "thread root");
    h.delivered(&root).await;
    posted.push((GENERAL.to_owned(), root.clone()));
    let reply = h
        .sim
        .post_message(
            "alice",
            NewMessage {
                rid: GENERAL.into(),
                msg: "in the thread @mybot".into(),
                tmid: Some(root.clone()),
                ..Default::default()
            },
        )
        .expect("thread reply");
    let reply = reply["_id"].as_str().unwrap().to_owned();
    let m = h.delivered(&reply).await;
    assert_eq!(m.thread_id.as_deref(), Some(root.as_str()));
    assert!(m.mentions.bot_mentioned);
    posted.push((GENERAL.to_owned(), reply));

    // A burst in one room keeps its order.
    for i in 0..5 {
        let id = h.post("bob", GENERAL, &format!("burst {i}"));
        posted.push((GENERAL.to_owned(), id));
    }
    let last = posted.last().unwrap().1.clone();
    h.delivered(&last).await;

    // The root was delivered again by the server (thread counters): no second message, no
    // edit. Nor does anything else arrive twice.
    h.events
        .settle(Duration::from_millis(300), Duration::from_secs(3))
        .await;
    h.events.assert_exactly_once_in_order(None, &posted);
    assert!(
        h.events.of_type(None, "messageEdited").is_empty(),
        "thread counters are not edits:\n{}",
        h.events.dump()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_land_in_the_room_once_and_are_not_echoed_to_the_host() {
    let mut h = Harness::pat().await;
    let root = h.post("alice", GENERAL, "@mybot can you help?");
    h.delivered(&root).await;

    let plain = h.reply(GENERAL, "sure", None).await;
    let threaded = h.reply(GENERAL, "in the thread", Some(&root)).await;
    let in_dm = h.reply(DM, "and privately", None).await;
    let in_ops = h.reply("#ops-team", "and to the team", None).await;
    for (m, rid) in [
        (&plain, GENERAL),
        (&threaded, GENERAL),
        (&in_dm, DM),
        (&in_ops, OPS),
    ] {
        assert_eq!(m["rid"], rid, "{m}");
    }
    assert_eq!(threaded["tmid"], root.as_str());

    // Every reply is stored once, in the order sent.
    let by_bot = h.sim.messages_by(BOT);
    let texts: Vec<&str> = by_bot.iter().map(|m| m["msg"].as_str().unwrap()).collect();
    assert_eq!(
        texts,
        ["sure", "in the thread", "and privately", "and to the team"]
    );
    assert_eq!(
        by_bot[1]["tmid"],
        root.as_str(),
        "the thread reply is in the thread"
    );

    // Each reply was reported as sent, and dropped as the bot's own when it came back.
    let ids: Vec<String> = by_bot
        .iter()
        .map(|m| m["_id"].as_str().unwrap().to_owned())
        .collect();
    for id in &ids {
        h.events
            .expect(&format!("own message {id} dropped"), WAIT, |e| {
                matches!(&e.event, Event::Dropped { message_id, reason: DropReason::Own, .. } if message_id == id)
            })
            .await;
        h.events
            .expect(
                &format!("sent {id}"),
                WAIT,
                |e| matches!(&e.event, Event::Sent { message_id, .. } if message_id == id),
            )
            .await;
    }
    let sent_in_thread = h
        .events
        .of_type(None, "sent")
        .into_iter()
        .any(|e| matches!(&e.event, Event::Sent { thread_id: Some(t), .. } if t == &root));
    assert!(sent_in_thread, "the sent event names the thread");

    h.events
        .settle(Duration::from_millis(300), Duration::from_secs(2))
        .await;
    let counts = h.events.message_counts(None);
    for id in &ids {
        assert!(
            !counts.contains_key(id),
            "the bot's own {id} reached the host"
        );
    }
    assert_eq!(counts.get(&root), Some(&1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_member_rooms_system_messages_edits_and_reactions() {
    let mut h = Harness::pat().await;
    let store = h.sim.store().clone();
    let bob = store.user_by_username("bob").unwrap();

    // A public room the bot has not joined: seen, not delivered.
    let outside = h.post("alice", RANDOM, "not for the bot");
    h.events
        .expect("notParticipant drop", WAIT, |e| {
            matches!(&e.event, Event::Dropped { message_id, reason: DropReason::NotParticipant, .. } if message_id == &outside)
        })
        .await;

    // A system message (bob added to the private group by alice): not delivered.
    store
        .add_member(OPS, &bob.id, Some(ALICE_ID))
        .expect("add bob");
    let system_id = store
        .messages_in(OPS, None, false)
        .iter()
        .rev()
        .find(|m| m["t"] == "au")
        .and_then(|m| m["_id"].as_str().map(str::to_owned))
        .expect("the `au` system message");
    h.events
        .expect("system drop", WAIT, |e| {
            matches!(&e.event, Event::Dropped { message_id, reason: DropReason::System, .. } if message_id == &system_id)
        })
        .await;

    // An edit arrives as `messageEdited`, not as a second message.
    let id = h.post("alice", GENERAL, "typo hree");
    h.delivered(&id).await;
    store
        .update_message(ALICE_ID, Some(GENERAL), &id, "typo here")
        .expect("edit");
    let edited = h
        .events
        .expect(
            "messageEdited",
            WAIT,
            |e| matches!(&e.event, Event::MessageEdited { message } if message.message_id == id),
        )
        .await;
    let Event::MessageEdited { message } = edited.event else {
        unreachable!()
    };
    assert_eq!(message.text, "typo here");
    assert!(message.is_edit);

    // A reaction changes nothing the host sees.
    store.react(&bob.id, &id, ":+1:", None).expect("react");
    // A later message proves the reaction's delivery was processed before it.
    let after = h.post("bob", GENERAL, "after the reaction");
    h.delivered(&after).await;
    h.events
        .settle(Duration::from_millis(300), Duration::from_secs(2))
        .await;

    let counts = h.events.message_counts(None);
    assert_eq!(counts.get(&id), Some(&1), "{}", h.events.dump());
    assert_eq!(counts.get(&after), Some(&1));
    assert!(!counts.contains_key(&outside), "non-member room delivered");
    assert!(!counts.contains_key(&system_id), "system message delivered");
    assert_eq!(
        h.events.of_type(None, "messageEdited").len(),
        1,
        "one edit, and the reaction is not an edit:\n{}",
        h.events.dump()
    );
    let status = h.core().status("default").await.unwrap();
    assert_eq!(status.edits, 1);
    assert_eq!(status.dropped.get("notParticipant"), Some(&1));
    assert_eq!(status.dropped.get("system"), Some(&1));
}
