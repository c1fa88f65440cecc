//! Host actions on rooms and messages besides sending: marking a room read, and reactions
//! with the Unicode emoji OpenClaw uses.

use crate::support;

use openclaw_rocketchat::host::{ErrorCode, HostError};
use rocketchat_sim::time::DateForm;
use serde_json::Value;
use support::*;

/// The bot's subscription to `rid`, as `GET /api/v1/subscriptions.getOne` shows it.
async fn bot_subscription(h: &Harness, rid: &str) -> Value {
    let tls = openclaw_rocketchat::tls::client_config(&Default::default()).expect("tls");
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured((*tls).clone())
        .build()
        .expect("http client");
    let body: Value = client
        .get(format!(
            "{}/api/v1/subscriptions.getOne?roomId={rid}",
            h.sim.url()
        ))
        .header("X-User-Id", BOT_ID)
        .header("X-Auth-Token", BOT_PAT)
        .send()
        .await
        .expect("subscriptions.getOne")
        .json()
        .await
        .expect("json");
    assert_eq!(body["success"], true, "{body}");
    body["subscription"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mark_read_resets_the_bots_unread_count_of_one_room() {
    let mut h = Harness::pat().await;
    h.post("alice", DM, "are you there?");
    h.post("alice", DM, "hello?");
    h.post("alice", GENERAL, "morning all");

    let dm = bot_subscription(&h, DM).await;
    assert_eq!(dm["unread"], 2, "{dm}");
    assert_eq!(dm["alert"], true);
    assert_eq!(bot_subscription(&h, GENERAL).await["unread"], 1);

    // By `@user` (the DM), then by `#name` with readThreads.
    h.core()
        .mark_read("default", "@alice", None)
        .await
        .expect("markRead @alice");
    let dm = bot_subscription(&h, DM).await;
    assert_eq!(dm["unread"], 0, "{dm}");
    assert_eq!(dm["alert"], false);
    assert_eq!(
        bot_subscription(&h, GENERAL).await["unread"],
        1,
        "only the room marked read"
    );

    h.core()
        .mark_read("default", "#general", Some(true))
        .await
        .expect("markRead #general");
    assert_eq!(bot_subscription(&h, GENERAL).await["unread"], 0);
    let stored = h
        .sim
        .store()
        .subscription(BOT_ID, GENERAL, DateForm::Ejson)
        .unwrap();
    assert_eq!(stored["unread"], 0);

    // A room id works too, and a room the bot is not in is refused by the server.
    h.post("alice", OPS, "ops ping");
    h.core()
        .mark_read("default", &format!("room:{OPS}"), Some(false))
        .await
        .expect("markRead room:ID");
    assert_eq!(bot_subscription(&h, OPS).await["unread"], 0);
    let err = h
        .core()
        .mark_read("default", RANDOM, None)
        .await
        .expect_err("not subscribed to random");
    assert_eq!(HostError::from(err).code, ErrorCode::Api);
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn react_sends_unicode_emoji_by_their_rocketchat_names() {
    let mut h = Harness::pat().await;
    let id = h.post("alice", DM, "react to this");
    let reactions = |h: &Harness| h.sim.store().message(&id).unwrap()["reactions"].clone();

    for emoji in ["👀", "✅", "⚠️", "👍🏽", ":tada:", "rocket"] {
        h.core()
            .react("default", &id, emoji, true)
            .await
            .unwrap_or_else(|e| panic!("react {emoji}: {e}"));
    }
    let r = reactions(&h);
    for key in [
        ":eyes:",
        ":white_check_mark:",
        ":warning:",
        ":thumbsup:",
        ":tada:",
        ":rocket:",
    ] {
        assert_eq!(r[key]["usernames"][0], BOT, "{key} in {r}");
    }
    h.core()
        .react("default", &id, "👀", false)
        .await
        .expect("remove 👀");
    assert!(reactions(&h).get(":eyes:").is_none());

    // An emoji without a known name is refused before any request: the pending fault on
    // chat.react is still there for the next call.
    h.sim.faults().http_status("/api/v1/chat.react", 403, 1);
    let err = h
        .core()
        .react("default", &id, "🦄", true)
        .await
        .expect_err("🦄 has no name");
    let err = HostError::from(err);
    assert_eq!(err.code, ErrorCode::InvalidArgument, "{err:?}");
    assert!(
        err.message
            .contains("emoji 🦄 has no Rocket.Chat name this bot knows; pass its name"),
        "{}",
        err.message
    );
    let err = h
        .core()
        .react("default", &id, "👋", true)
        .await
        .expect_err("the fault meets this request");
    assert_eq!(HostError::from(err).code, ErrorCode::Forbidden);
    h.close().await;
}

#[test]
fn every_name_the_core_maps_to_is_one_the_simulator_accepts() {
    for name in openclaw_rocketchat::outbound::emoji::known_names() {
        assert!(
            rocketchat_sim::store::emoji::is_known(name),
            "the simulator refuses :{name}:"
        );
    }
}
