//! Catch-up after an outage is complete and exact: every message posted while the bot was
//! away arrives once and in order, however many there were, whatever their timestamps, in
//! threads too; and what the server will not give back is reported as a `catchUpGap`.

use crate::support;

use std::time::Duration;

use openclaw_rocketchat::event::{Event, MessageSource};
use rocketchat_sim::{default_seed, Fault, NewMessage, Settings, SimConfig};
use support::*;

type Posted = Vec<(String, String)>;

/// Catch-ups of thousands of messages on a loaded machine: generous.
const LONG_WAIT: Duration = Duration::from_secs(120);

/// A bot with one delivered message in `rid`, then the server goes down. Returns the
/// `ts` (epoch ms) of that last message seen.
async fn seen_then_down(h: &mut Harness, rid: &str) -> i64 {
    let seen = h.post("alice", rid, "before the outage");
    let m = h.delivered(&seen).await;
    h.sim.stop().await;
    m.ts as i64
}

/// The server comes back with what was posted meanwhile; the bot logs in again.
async fn back_up(h: &mut Harness) {
    h.sim
        .restart(Duration::from_millis(300))
        .await
        .expect("the simulator listens again");
    h.events
        .expect("authenticated again", WAIT, |e| {
            matches!(e.event, Event::Authenticated { .. })
        })
        .await;
}

/// Post as `user` with an explicit `ts` (epoch ms); returns the message id.
fn post_at(h: &Harness, user: &str, rid: &str, text: &str, ts: i64) -> String {
    let m = h
        .sim
        .post_message(
            user,
            NewMessage {
                rid: rid.into(),
                msg: text.into(),
                ts: Some(ts),
                ..Default::default()
            },
        )
        .expect("simulator post");
    m["_id"].as_str().expect("message id").to_owned()
}

/// Wait until the newest message of `posted` was delivered (a catch-up delivers oldest
/// first), then check each came exactly once, in order per room, from the catch-up, and
/// that no gap was reported.
async fn assert_caught_up(h: &mut Harness, posted: &Posted) {
    let (_, last) = posted.last().expect("something was posted");
    let ids: std::collections::HashSet<&str> = posted.iter().map(|(_, id)| id.as_str()).collect();
    h.events
        .expect(
            &format!("message {last}"),
            LONG_WAIT,
            |e| matches!(&e.event, Event::Message { message } if &message.message_id == last),
        )
        .await;
    h.events
        .settle(Duration::from_millis(300), Duration::from_secs(5))
        .await;
    h.events.assert_exactly_once_in_order(None, posted);
    let late: Vec<&str> = h
        .events
        .messages(None)
        .into_iter()
        .filter(|m| ids.contains(m.message_id.as_str()) && m.source != MessageSource::CatchUp)
        .map(|m| m.message_id.as_str())
        .collect();
    assert!(late.is_empty(), "not from the catch-up: {late:?}");
    assert!(
        h.events.of_type(None, "catchUpGap").is_empty(),
        "nothing was lost:\n{}",
        h.events.dump()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_outage_of_thousands_of_dms_is_caught_up_completely() {
    let mut h = Harness::pat().await;
    seen_then_down(&mut h, DM).await;
    // More than the 50 pages of 100 the catch-up used to stop at.
    let posted: Posted = (0..5_300)
        .map(|i| (DM.to_owned(), h.post("alice", DM, &format!("dm {i}"))))
        .collect();
    back_up(&mut h).await;
    assert_caught_up(&mut h, &posted).await;
    assert_eq!(h.status().await.caught_up, posted.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_outage_is_caught_up_completely_within_the_rate_limit_of_a_user_without_the_bot_role(
) {
    let mut seed = default_seed();
    let bot = seed.users.iter_mut().find(|u| u.username == BOT).unwrap();
    bot.roles.retain(|r| r != "bot");
    // Rocket.Chat's default is 10 calls a minute per route; a second keeps the test short
    // while each catch-up still needs several windows.
    let settings = Settings {
        rest_rate_limit_calls: 10,
        rest_rate_limit_window_ms: 1_000,
        ..Settings::default()
    };
    let mut h = Harness::with_sim(SimConfig {
        seed: Some(seed),
        settings,
        ..SimConfig::default()
    })
    .await;
    let section = pat_section(&h.sim.url());
    h.apply(&section).await;
    h.ready("default").await;
    seen_then_down(&mut h, DM).await;
    let posted: Posted = (0..5_300)
        .map(|i| (DM.to_owned(), h.post("alice", DM, &format!("dm {i}"))))
        .collect();
    back_up(&mut h).await;
    assert_caught_up(&mut h, &posted).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_sharing_a_millisecond_at_a_page_boundary_are_all_caught_up() {
    let mut h = Harness::pat().await;
    let seen_ms = seen_then_down(&mut h, DM).await;
    let t0 = seen_ms + 10;
    // DM: 105 messages, the 5th and 6th in one millisecond, which the first page of 100
    // (the newest) splits.
    let mut posted: Posted = (0..105)
        .map(|i| {
            let ts = t0 + i - i64::from(i >= 5);
            (
                DM.to_owned(),
                post_at(&h, "alice", DM, &format!("dm {i}"), ts),
            )
        })
        .collect();
    // The channel: a burst of 150 in one millisecond, more than a page.
    posted.extend((0..150).map(|i| {
        (
            GENERAL.to_owned(),
            post_at(&h, "bob", GENERAL, &format!("burst {i}"), t0 + 500),
        )
    }));
    back_up(&mut h).await;
    assert_caught_up(&mut h, &posted).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_replies_posted_while_disconnected_are_caught_up() {
    let mut h = Harness::pat().await;
    let root = h.post("alice", GENERAL, "release checklist");
    h.delivered(&root).await;
    h.sim.stop().await;
    let reply = h.post_in_thread("bob", GENERAL, &root, "changelog is done");
    let shown = h
        .sim
        .post_message(
            "alice",
            NewMessage {
                rid: GENERAL.into(),
                msg: "tagged, also in the channel".into(),
                tmid: Some(root.clone()),
                tshow: Some(true),
                ..Default::default()
            },
        )
        .expect("simulator post")["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    back_up(&mut h).await;
    let m = h.delivered(&reply).await;
    assert_eq!(m.source, MessageSource::CatchUp);
    assert_eq!(m.thread_id.as_deref(), Some(root.as_str()));
    assert_eq!(m.text, "changelog is done");
    h.delivered(&shown).await;
    h.events
        .settle(Duration::from_millis(300), Duration::from_secs(3))
        .await;
    h.events.assert_exactly_once_in_order(
        None,
        &[
            (GENERAL.into(), root.clone()),
            (GENERAL.into(), reply),
            (GENERAL.into(), shown),
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_whose_history_is_refused_is_reported_as_a_gap_and_the_others_still_arrive() {
    let mut h = Harness::pat().await;
    let seen_ms = seen_then_down(&mut h, GENERAL).await;
    h.sim.faults().inject(Fault::DenyHistory {
        user: BOT.into(),
        rid: OPS.into(),
    });
    let lost = h.post("alice", OPS, "posted where the bot may no longer read");
    let lost_ms = h.sim.store().message(&lost).unwrap()["ts"]["$date"]
        .as_i64()
        .unwrap();
    let general = h.post("bob", GENERAL, "posted in a readable room");
    back_up(&mut h).await;
    let e = h
        .events
        .expect(
            "catchUpGap for the refused room",
            WAIT,
            |e| matches!(&e.event, Event::CatchUpGap { room_id, .. } if room_id == OPS),
        )
        .await;
    assert_eq!(e.account_id.as_deref(), Some("default"));
    let Event::CatchUpGap {
        room_name,
        from,
        to,
        reason,
        ..
    } = e.event
    else {
        unreachable!()
    };
    assert_eq!(room_name.as_deref(), Some("ops-team"));
    assert_eq!(from as i64, seen_ms, "from the last message seen");
    assert!(
        to as i64 >= lost_ms,
        "the span covers the lost message: {to} < {lost_ms}"
    );
    assert!(
        reason.contains("refused") && reason.contains("403"),
        "{reason}"
    );
    let m = h.delivered(&general).await;
    assert_eq!(m.source, MessageSource::CatchUp);
    h.events
        .settle(Duration::from_millis(300), Duration::from_secs(3))
        .await;
    assert!(h.events.source_of(&lost).is_none());
    assert!(
        h.events.of_type(None, "error").is_empty(),
        "a gap, not a failed catch-up:\n{}",
        h.events.dump()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_whose_rate_limit_runs_out_is_reported_as_a_gap_and_the_others_still_arrive() {
    let mut h = Harness::pat().await;
    let seen_ms = seen_then_down(&mut h, GENERAL).await;
    let lost = h.post("alice", DM, "posted while the history route is throttled");
    let general = h.post("bob", GENERAL, "posted in a room that answers");
    // Every DM history call answers 429, beyond the client's retries.
    h.sim
        .faults()
        .http_status("/api/v1/im.history", 429, 10_000);
    back_up(&mut h).await;
    let e = h
        .events
        .expect(
            "catchUpGap for the DM",
            Duration::from_secs(60),
            |e| matches!(&e.event, Event::CatchUpGap { room_id, .. } if room_id == DM),
        )
        .await;
    let Event::CatchUpGap {
        room_name,
        from,
        reason,
        ..
    } = e.event
    else {
        unreachable!()
    };
    assert_eq!(room_name, None, "a DM has no name");
    assert_eq!(from as i64, seen_ms);
    assert!(reason.contains("rate limit"), "{reason}");
    let m = h.delivered(&general).await;
    assert_eq!(m.source, MessageSource::CatchUp);
    h.sim.faults().reset();
    h.events
        .settle(Duration::from_millis(300), Duration::from_secs(3))
        .await;
    assert!(h.events.source_of(&lost).is_none());
    assert!(
        h.events.of_type(None, "error").is_empty(),
        "a gap, not a failed catch-up:\n{}",
        h.events.dump()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_rate_limits_longer_than_the_retries_is_waited_out_not_a_gap() {
    let mut h = Harness::pat().await;
    seen_then_down(&mut h, GENERAL).await;
    let dm = h.post(
        "alice",
        DM,
        "posted while the history route is briefly throttled",
    );
    // More 429s than one call's retries (1 + 4 attempts), fewer than the rounds allow.
    h.sim.faults().http_status("/api/v1/im.history", 429, 7);
    back_up(&mut h).await;
    let e = h
        .events
        .expect(
            "the DM, caught up",
            Duration::from_secs(60),
            |e| matches!(&e.event, Event::Message { message } if message.message_id == dm),
        )
        .await;
    let Event::Message { message } = e.event else {
        unreachable!()
    };
    assert_eq!(message.source, MessageSource::CatchUp);
    assert!(
        h.events.of_type(None, "catchUpGap").is_empty(),
        "a burst is not a gap:\n{}",
        h.events.dump()
    );
}

/// Wait until the simulator has answered more than `after` calls to `route`.
async fn answered_beyond(h: &Harness, route: &str, after: u64) {
    let deadline = tokio::time::Instant::now() + LONG_WAIT;
    while h.sim.faults().answered(route) <= after {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{route} not called within {LONG_WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The connection drops while a catch-up runs: the rooms in `seen_in` had a message delivered
/// before; the catch-up is past `anchor_route` and waits for the channel's slow history. A DM
/// posted right then is in neither that catch-up nor the live stream; the channel's history,
/// read later, brings a message stamped seconds after it. The next catch-up must still fetch
/// the DM, once, as caught up, with no gap reported.
async fn a_dm_posted_at_a_drop_during_a_catch_up_arrives(seen_in: &[&str], anchor_route: &str) {
    let mut h = Harness::pat().await;
    for rid in seen_in {
        let seen = h.post("alice", rid, "seen before");
        h.delivered(&seen).await;
    }
    let before = h.sim.faults().answered(anchor_route);
    h.sim.faults().inject(Fault::Delay {
        route: "/api/v1/channels.history".into(),
        ms: 4_000,
        count: 1,
    });
    h.sim.faults().drop_sockets();
    h.events
        .expect("authenticated again", LONG_WAIT, |e| {
            matches!(e.event, Event::Authenticated { .. })
        })
        .await;
    answered_beyond(&h, anchor_route, before).await;
    h.sim.faults().drop_sockets();
    let dm = h.post("alice", DM, "posted while the catch-up ran");
    let dm_ts = h.sim.store().message(&dm).expect("stored")["ts"]["$date"]
        .as_i64()
        .expect("ts");
    // In the channel, stamped 3 s later (more than the catch-up's overlap), read by the slow
    // channel history of the running catch-up.
    let later = post_at(&h, "bob", GENERAL, "later in the channel", dm_ts + 3_000);
    h.events
        .expect(
            &format!("message {later}"),
            LONG_WAIT,
            |e| matches!(&e.event, Event::Message { message } if message.message_id == later),
        )
        .await;
    let m = h
        .events
        .expect(
            &format!("message {dm}"),
            LONG_WAIT,
            |e| matches!(&e.event, Event::Message { message } if message.message_id == dm),
        )
        .await;
    match &m.event {
        Event::Message { message } => assert_eq!(message.source, MessageSource::CatchUp),
        _ => unreachable!(),
    }
    let counts = h.events.message_counts(Some("default"));
    assert_eq!(counts.get(&dm), Some(&1), "{}", h.events.dump());
    assert_eq!(counts.get(&later), Some(&1), "{}", h.events.dump());
    assert!(
        h.events.of_type(Some("default"), "catchUpGap").is_empty(),
        "{}",
        h.events.dump()
    );
}

/// The DM was read by the interrupted catch-up (rooms are read in id order, the DM first):
/// where a room resumes is what was seen in that room, not the newest message of any room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_during_a_catch_up_loses_nothing_of_a_room_read_before_it() {
    a_dm_posted_at_a_drop_during_a_catch_up_arrives(&[DM, GENERAL], "/api/v1/im.history").await;
}

/// Nothing was seen in the DM since the bot started, so it has no mark of its own (the
/// catch-up listed the rooms and skipped it). It resumes from what the live stream had
/// covered (the newest message received live), not from the newest message of any room,
/// which the slow channel history of the interrupted catch-up moved seconds past the drop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_during_a_catch_up_loses_nothing_of_a_room_nothing_was_seen_in() {
    a_dm_posted_at_a_drop_during_a_catch_up_arrives(&[GENERAL], "/api/v1/rooms.get").await;
}
