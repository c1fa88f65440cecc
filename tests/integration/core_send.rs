//! Sending under pressure: 429 storms and 5xx bursts on `chat.sendMessage`. Nothing is lost,
//! nothing is posted twice, and one room's messages keep the order they were sent in.

use crate::support;

use std::time::Duration;

use serde_json::json;
use support::*;

const ROUTE: &str = "/api/v1/chat.sendMessage";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_storm_and_server_errors_lose_and_duplicate_nothing() {
    let mut h = Harness::pat().await;
    let faults = h.sim.faults().clone();
    faults.http_status(ROUTE, 429, 3);

    // 30 replies in sequence to the channel (order matters) while 10 go concurrently to the
    // private group (only exactly-once matters there).
    let sequential = async {
        for i in 0..30 {
            match i {
                10 => faults.http_status(ROUTE, 500, 2),
                15 => faults.http_status(ROUTE, 502, 1),
                20 => faults.http_status(ROUTE, 503, 2),
                25 => faults.http_status(ROUTE, 429, 1),
                _ => {}
            }
            h.reply(GENERAL, &format!("reply {i}"), None).await;
        }
    };
    let concurrent = futures_util::future::join_all((0..10).map(|i| {
        let core = h.core();
        async move {
            core.send_text("default", OPS, &format!("team {i}"), None)
                .await
                .unwrap_or_else(|e| panic!("team {i}: {e}"))
        }
    }));
    let started = std::time::Instant::now();
    let ((), team) = tokio::join!(sequential, concurrent);
    assert!(
        started.elapsed() < Duration::from_secs(9),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(team.len(), 10);

    let texts = |rid: &str| -> Vec<String> {
        h.sim
            .messages_in(rid)
            .iter()
            .filter(|m| m["u"]["username"] == BOT)
            .map(|m| m["msg"].as_str().unwrap().to_owned())
            .collect()
    };
    let want: Vec<String> = (0..30).map(|i| format!("reply {i}")).collect();
    assert_eq!(texts(GENERAL), want, "every reply once, in order");
    let mut team_texts = texts(OPS);
    team_texts.sort();
    let mut want_team: Vec<String> = (0..10).map(|i| format!("team {i}")).collect();
    want_team.sort();
    assert_eq!(team_texts, want_team, "every team message once");
    assert_eq!(h.sim.messages_by(BOT).len(), 40);

    // The host heard of each send once, and of no failure.
    h.events
        .settle(Duration::from_millis(200), Duration::from_secs(2))
        .await;
    assert_eq!(h.events.of_type(None, "sent").len(), 40);
    assert!(
        h.events.of_type(None, "sendFailed").is_empty(),
        "{}",
        h.events.dump()
    );
    let status = h.core().status("default").await.unwrap();
    assert_eq!(status.sent, 40);
    // Nothing the bot sent came back to the host as a message.
    assert!(h.events.messages(None).is_empty(), "{}", h.events.dump());
}

/// A user without the `bot` role is rate limited; sends the host made without awaiting each
/// one still reach the room in the order they were made, while the pacer holds them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unawaited_sends_under_the_rate_limit_keep_their_order() {
    let mut config = rocketchat_sim::SimConfig::default();
    config.settings.rest_rate_limit_calls = 4;
    config.settings.rest_rate_limit_window_ms = 400;
    let mut h = Harness::with_sim(config).await;
    // alice plays the bot: a plain user, so the server's REST limit applies to her
    let section = json!({
        "baseUrl": h.sim.url(),
        "authToken": ALICE_TOKEN,
        "userId": ALICE_ID,
        "dmPolicy": "open",
        "allowFrom": ["*"],
        "groupPolicy": "open",
    });
    h.apply(&section).await;
    h.ready("default").await;

    let core = h.core();
    let want: Vec<String> = (0..30).map(|i| format!("n{i}")).collect();
    // one room, however the target is spelled
    let spellings = [GENERAL, "channel:GENERAL", "room:GENERAL"];
    let sends: Vec<_> = want
        .iter()
        .zip(spellings.iter().cycle())
        .map(|(text, target)| core.send_text("default", target, text, None))
        .collect();
    for r in futures_util::future::join_all(sends).await {
        r.expect("every send lands");
    }
    let posted: Vec<String> = h
        .sim
        .messages_in(GENERAL)
        .iter()
        .filter(|m| m["u"]["username"] == "alice")
        .map(|m| m["msg"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(posted, want, "posted in the order the sends were made");
}
