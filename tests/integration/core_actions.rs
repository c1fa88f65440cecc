//! Host actions on rooms and messages besides sending: reactions with the Unicode emoji
//! OpenClaw uses.

use crate::support;

use openclaw_rocketchat::host::{ErrorCode, HostError};
use support::*;

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
