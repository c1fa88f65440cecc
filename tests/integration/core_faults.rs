//! The connection breaks while humans keep posting: dropped sockets, half-open sockets,
//! refused connections, a server restart, garbage frames. Every message must reach the host
//! exactly once, per-room order kept, what was posted during the outage fetched by the
//! catch-up and delivered before what came after.

use crate::support;

use std::time::Duration;

use openclaw_rocketchat::account::ConnectionState;
use openclaw_rocketchat::event::{Event, MessageSource, RoomType};
use rocketchat_sim::Fault;
use support::*;

type Posted = Vec<(String, String)>;

/// One message in each of the bot's rooms, two in the channel.
fn post_round(h: &Harness, tag: &str) -> Posted {
    [
        ("alice", GENERAL),
        ("alice", OPS),
        ("alice", DM),
        ("bob", GENERAL),
    ]
    .iter()
    .map(|(user, rid)| {
        (
            (*rid).to_owned(),
            h.post(user, rid, &format!("{tag} {user}")),
        )
    })
    .collect()
}

/// A bot with a round of messages delivered before the fault.
async fn before_fault() -> (Harness, Posted) {
    let mut h = Harness::pat().await;
    let before = post_round(&h, "before");
    for (_, id) in &before {
        h.delivered(id).await;
    }
    (h, before)
}

/// After the fault: wait for the new login, post another round, and check everything.
async fn after_fault(mut h: Harness, before: Posted, outage: Posted) {
    h.events
        .expect("authenticated again", WAIT, |e| {
            matches!(e.event, Event::Authenticated { .. })
        })
        .await;
    for (_, id) in &outage {
        h.delivered(id).await;
    }
    let after = post_round(&h, "after");
    for (_, id) in &after {
        h.delivered(id).await;
    }
    h.events
        .settle(Duration::from_millis(300), Duration::from_secs(3))
        .await;

    let all: Posted = before
        .iter()
        .chain(&outage)
        .chain(&after)
        .cloned()
        .collect();
    h.events.assert_exactly_once_in_order(None, &all);
    for (_, id) in &outage {
        assert_eq!(
            h.events.source_of(id),
            Some(MessageSource::CatchUp),
            "{id} was posted while disconnected:\n{}",
            h.events.dump()
        );
    }
    let last_outage = outage
        .iter()
        .filter_map(|(_, id)| h.events.position_of(id))
        .max()
        .unwrap();
    for (_, id) in &after {
        assert!(
            h.events.position_of(id).unwrap() > last_outage,
            "caught-up messages come before later live ones"
        );
    }
    let status = h.core().status("default").await.unwrap();
    assert_eq!(status.state, ConnectionState::Ready);
    assert!(status.reconnects >= 1);
    assert_eq!(status.caught_up, outage.len() as u64, "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_sockets() {
    let (h, before) = before_fault().await;
    h.sim.faults().drop_sockets();
    // Posted right after the drop: the old socket closes before the server would send them,
    // and the reconnect is at least the backoff (~50 ms) away.
    let outage = post_round(&h, "outage");
    after_fault(h, before, outage).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_socket() {
    let (mut h, before) = before_fault().await;
    h.sim.faults().set_half_open(true);
    // The server goes silent: these are never sent on the socket.
    let outage = post_round(&h, "outage");
    // The watchdog (1 s idle here) closes the silent socket.
    h.events
        .expect("watchdog disconnect", WAIT, |e| {
            matches!(e.event, Event::Disconnected { .. })
        })
        .await;
    h.sim.faults().set_half_open(false);
    after_fault(h, before, outage).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connections() {
    let (mut h, before) = before_fault().await;
    h.sim.faults().refuse_connections(Duration::from_secs(1));
    h.sim.faults().drop_sockets();
    let mut outage = post_round(&h, "outage");
    // At least one reconnect attempt is refused; post more meanwhile.
    h.events
        .expect("first disconnect", WAIT, |e| {
            matches!(e.event, Event::Disconnected { .. })
        })
        .await;
    h.events
        .expect("a refused reconnect", WAIT, |e| {
            matches!(e.event, Event::Disconnected { .. })
        })
        .await;
    outage.extend(post_round(&h, "still refused"));
    after_fault(h, before, outage).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restart() {
    let (mut h, before) = before_fault().await;
    h.sim.stop().await;
    let outage = post_round(&h, "while down");
    h.sim
        .restart(Duration::from_millis(500))
        .await
        .expect("the simulator listens again");
    after_fault(h, before, outage).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_do_not_break_delivery() {
    let (mut h, before) = before_fault().await;
    for text in [
        "{not json",
        "[]",
        "42",
        r#"{"msg":"changed"}"#,
        r#"{"msg":"changed","collection":"stream-room-messages","fields":{"eventName":"__my_messages__","args":[{"_id":5}]}}"#,
        r#"{"msg":"changed","collection":"stream-room-messages","fields":{"eventName":"__my_messages__","args":"x"}}"#,
        r#"{"msg":"result","id":"no-such-call","result":1}"#,
        r#"{"msg":"ready","subs":"x"}"#,
        r#"{"msg":"ping","id":{"a":1}}"#,
        "\u{0}\u{ffff}",
    ] {
        h.sim
            .faults()
            .inject(Fault::MalformedFrame { text: text.into() });
    }
    // Whether the connection survives the garbage or reconnects, later messages arrive.
    let after = post_round(&h, "after garbage");
    for (_, id) in &after {
        h.delivered(id).await;
    }
    h.events
        .settle(Duration::from_millis(300), Duration::from_secs(3))
        .await;
    let all: Posted = before.iter().chain(&after).cloned().collect();
    h.events.assert_exactly_once_in_order(None, &all);
    let status = h.core().status("default").await.unwrap();
    assert_eq!(status.state, ConnectionState::Ready, "{status:?}");
    // The core is still fully usable.
    h.reply(GENERAL, "still here", None).await;
    assert_eq!(h.sim.messages_by(BOT).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_joined_while_disconnected_are_caught_up_and_described_right() {
    let (mut h, before) = before_fault().await;
    let store = h.sim.store().clone();
    h.sim.stop().await;
    // While the bot is away, bob opens a DM with it and alice adds it to a new group.
    let dm = store
        .create_direct_message("Yh3nR6vPq2XzMt8Ws", BOT)
        .unwrap();
    let group = store.create_room("p", "night-shift", &[BOT_ID.into(), ALICE_ID.into()]);
    let outage: Posted = vec![
        (dm.id.clone(), h.post("bob", &dm.id, "are you there?")),
        (
            group.id.clone(),
            h.post("alice", &group.id, "welcome aboard"),
        ),
    ];
    h.sim
        .restart(Duration::from_millis(300))
        .await
        .expect("the simulator listens again");
    h.events
        .expect("authenticated again", WAIT, |e| {
            matches!(e.event, Event::Authenticated { .. })
        })
        .await;
    let m = h.delivered(&outage[0].1).await;
    assert_eq!(m.room_type, RoomType::Direct, "{m:?}");
    assert_eq!(m.sender.username, "bob");
    let m = h.delivered(&outage[1].1).await;
    assert_eq!(m.room_type, RoomType::Private, "{m:?}");
    assert_eq!(m.room_name.as_deref(), Some("night-shift"));

    // And the new rooms are live now.
    let after: Posted = vec![
        (dm.id.clone(), h.post("bob", &dm.id, "hello again")),
        (group.id.clone(), h.post("alice", &group.id, "shift starts")),
    ];
    for (_, id) in &after {
        h.delivered(id).await;
    }
    h.events
        .settle(Duration::from_millis(300), Duration::from_secs(3))
        .await;
    let all: Posted = before.into_iter().chain(outage).chain(after).collect();
    h.events.assert_exactly_once_in_order(None, &all);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_longer_than_the_watchdog() {
    let (mut h, before) = before_fault().await;
    h.sim.faults().set_half_open(true);
    let outage = post_round(&h, "outage");
    h.events
        .expect("watchdog disconnect", WAIT, |e| {
            matches!(e.event, Event::Disconnected { .. })
        })
        .await;
    // The server stays silent through the next attempts too (their handshakes go
    // unanswered), then recovers.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    h.sim.faults().set_half_open(false);
    after_fault(h, before, outage).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_and_a_deletion_made_while_disconnected_are_caught_up() {
    let (mut h, before) = before_fault().await;
    let store = h.sim.store().clone();
    // Older than the catch-up's overlap window by the time of the outage.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let newer = h.post("bob", GENERAL, "newer");
    h.delivered(&newer).await;
    h.sim.stop().await;
    let (_, edited) = &before[0];
    store
        .update_message(ALICE_ID, Some(GENERAL), edited, "before alice (edited)")
        .expect("edit");
    let (ops, deleted) = &before[1];
    assert_eq!(ops, OPS);
    store
        .delete_message(ALICE_ID, OPS, deleted)
        .expect("delete");
    h.sim
        .restart(Duration::from_millis(300))
        .await
        .expect("the simulator listens again");
    let e = h
        .events
        .expect("messageEdited", WAIT, |e| {
            matches!(&e.event, Event::MessageEdited { message } if &message.message_id == edited)
        })
        .await;
    let Event::MessageEdited { message } = e.event else {
        unreachable!()
    };
    assert_eq!(message.text, "before alice (edited)");
    h.events
        .expect("messageDeleted", WAIT, |e| {
            matches!(&e.event, Event::MessageDeleted { room_id, message_id }
                if room_id == OPS && message_id == deleted)
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn livechat_messages_posted_while_disconnected_are_caught_up() {
    let (mut h, _) = before_fault().await;
    let store = h.sim.store().clone();
    // A visitor's chat served by the bot (alice stands in for the visitor).
    let room = store.create_room(
        "l",
        "visitor-chat",
        &[BOT_ID.to_owned(), ALICE_ID.to_owned()],
    );
    let live = h.post("alice", &room.id, "hello from the widget");
    let m = h.delivered(&live).await;
    assert_eq!(m.room_type, RoomType::Livechat);
    assert_eq!(m.source, MessageSource::Live);
    h.sim.stop().await;
    // The history endpoints refuse livechat rooms: only chat.syncMessages finds these.
    let missed = h.post("alice", &room.id, "are you there?");
    let edited = store
        .update_message(
            ALICE_ID,
            Some(&room.id),
            &live,
            "hello from the widget (edited)",
        )
        .map(|_| live.clone())
        .expect("edit");
    h.sim
        .restart(Duration::from_millis(300))
        .await
        .expect("the simulator listens again");
    let m = h.delivered(&missed).await;
    assert_eq!(m.source, MessageSource::CatchUp);
    assert_eq!(m.text, "are you there?");
    let e = h
        .events
        .expect("messageEdited", WAIT, |e| {
            matches!(&e.event, Event::MessageEdited { message } if message.message_id == edited)
        })
        .await;
    let Event::MessageEdited { message } = e.event else {
        unreachable!()
    };
    assert_eq!(message.text, "hello from the widget (edited)");
    h.events
        .settle(Duration::from_millis(300), Duration::from_secs(3))
        .await;
    h.events
        .assert_exactly_once_in_order(None, &[(room.id.clone(), live), (room.id, missed)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_frame_is_refused_clearly_and_nothing_is_lost() {
    let (mut h, before) = before_fault().await;
    // 12 MiB in one text frame, over the core's 8 MiB limit, through the control API (its
    // body limit is above the core's).
    let huge = format!(
        r#"{{"msg":"changed","collection":"stream-room-messages","pad":"{}"}}"#,
        "x".repeat(12 << 20)
    );
    assert!(huge.len() > openclaw_rocketchat::ddp::connection::MAX_MESSAGE_BYTES);
    let tls = openclaw_rocketchat::tls::client_config(&Default::default()).expect("tls");
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured((*tls).clone())
        .build()
        .expect("http client");
    let res = client
        .post(format!("{}/_sim/faults", h.sim.url()))
        .json(&serde_json::json!({"kind": "malformedFrame", "text": huge}))
        .send()
        .await
        .expect("control API");
    assert!(res.status().is_success(), "control API: {}", res.status());
    let outage = post_round(&h, "around the huge frame");
    let e = h
        .events
        .expect(
            "disconnect on the huge frame",
            Duration::from_secs(15),
            |e| matches!(&e.event, Event::Disconnected { .. }),
        )
        .await;
    let Event::Disconnected { reason, .. } = &e.event else {
        unreachable!()
    };
    assert!(
        reason.contains("message of 12.0 MiB, over the 8 MiB limit"),
        "a reason that says the message was too big: {reason}"
    );
    after_fault(h, before, outage).await;
}

/// After a reconnect the server refuses the stream subscriptions for a while (Rocket.Chat's
/// per-user DDP rate limit, which many reconnects trip): the core asks again after the wait
/// the server announces, never stays "ready" while deaf, and what was posted meanwhile is
/// caught up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_refused_by_the_rate_limiter_are_asked_again() {
    let (h, before) = before_fault().await;
    assert!(h.sim.faults().inject(Fault::RateLimitDdp {
        name: "stream-room-messages".into(),
        count: 5,
        time_to_reset_ms: 300,
    }));
    h.sim.faults().drop_sockets();
    let outage = post_round(&h, "outage");
    after_fault(h, before, outage).await;
}
