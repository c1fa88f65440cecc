//! The streams the bot holds on the server: per-room message streams only until the server
//! shows that `__my_messages__` carries private groups and DMs (every current Rocket.Chat),
//! and kept on a server whose all-rooms stream does not.

use crate::support;

use std::time::{Duration, Instant};

use openclaw_rocketchat::event::Event;
use rocketchat_sim::{Settings, SimConfig};
use support::*;

/// The rooms whose own message stream the bot holds, and whether it holds `__my_messages__`.
fn room_streams(h: &Harness) -> (Vec<String>, bool) {
    let subs = h.sim.store().open_streams_of(BOT_ID);
    let messages = subs
        .iter()
        .filter(|(name, _)| name == "stream-room-messages");
    let all_rooms = messages
        .clone()
        .any(|(_, event)| event == "__my_messages__");
    let rooms = messages
        .filter(|(_, event)| event != "__my_messages__")
        .map(|(_, event)| event.clone())
        .collect();
    (rooms, all_rooms)
}

/// Wait until the bot's streams satisfy `ok`; panics with what they were.
async fn streams_until(h: &Harness, what: &str, ok: impl Fn(&[String], bool) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (rooms, all) = room_streams(h);
        if ok(&rooms, all) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: per-room {rooms:?}, __my_messages__ {all}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn reconnect(h: &mut Harness) {
    h.sim.faults().drop_sockets();
    h.events
        .expect("authenticated again", Duration::from_secs(20), |e| {
            matches!(e.event, Event::Authenticated { .. })
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_room_streams_are_dropped_once_my_messages_carries_a_private_room() {
    let mut h = Harness::pat().await;
    // At first the bot cannot know: its group and its DM have their own streams.
    streams_until(&h, "per-room streams at start", |rooms, all| {
        all && rooms.iter().any(|r| r == OPS) && rooms.iter().any(|r| r == DM)
    })
    .await;

    let first = h.post("alice", OPS, "hello team");
    h.delivered(&first).await;
    streams_until(&h, "per-room streams dropped", |rooms, all| {
        all && rooms.is_empty()
    })
    .await;

    // Messages in the group and the DM still arrive, each once, and a reconnect does not ask
    // for the per-room streams again.
    reconnect(&mut h).await;
    let group = h.post("alice", OPS, "after the reconnect, in the group");
    let dm = h.post("alice", DM, "after the reconnect, in the DM");
    h.delivered(&group).await;
    h.delivered(&dm).await;
    streams_until(
        &h,
        "no per-room streams after the reconnect",
        |rooms, all| all && rooms.is_empty(),
    )
    .await;
    h.events.settle(Duration::from_millis(300), WAIT).await;
    let counts = h.events.message_counts(None);
    for id in [&first, &group, &dm] {
        assert_eq!(counts.get(id.as_str()), Some(&1), "{}", h.events.dump());
    }
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_whose_my_messages_skips_private_rooms_keeps_the_per_room_streams() {
    let config = SimConfig {
        settings: Settings {
            my_messages_private_rooms: false,
            ..Settings::default()
        },
        ..SimConfig::default()
    };
    let mut h = Harness::with_sim(config).await;
    let section = pat_section(&h.sim.url());
    h.apply(&section).await;
    h.ready("default").await;

    let group = h.post("alice", OPS, "in the group");
    let dm = h.post("alice", DM, "in the DM");
    let channel = h.post("alice", GENERAL, "in the channel");
    for id in [&group, &dm, &channel] {
        h.delivered(id).await;
    }
    streams_until(&h, "per-room streams kept", |rooms, all| {
        all && rooms.iter().any(|r| r == OPS) && rooms.iter().any(|r| r == DM)
    })
    .await;

    reconnect(&mut h).await;
    streams_until(
        &h,
        "per-room streams again after the reconnect",
        |rooms, all| all && rooms.iter().any(|r| r == OPS) && rooms.iter().any(|r| r == DM),
    )
    .await;
    let later = h.post("alice", OPS, "after the reconnect");
    h.delivered(&later).await;
    h.close().await;
}
