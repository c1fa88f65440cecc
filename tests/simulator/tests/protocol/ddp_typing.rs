//! Typing over `stream-notify-room`: username check, no echo, legacy `typing` per profile.

use crate::ddp_support;

use ddp_support::*;
use rocketchat_sim::Profile;
use serde_json::json;

const ACTIVITY: &str = "GENERAL/user-activity";
const TYPING: &str = "GENERAL/typing";

async fn pair(s: &rocketchat_sim::Simulator) -> (Client, Client) {
    let mut bot = Client::logged_in(s, BOT_TOKEN).await;
    bot.stream("a", "stream-notify-room", ACTIVITY).await;
    bot.stream("t", "stream-notify-room", TYPING).await;
    let mut alice = Client::logged_in(s, ALICE_TOKEN).await;
    alice.stream("a", "stream-notify-room", ACTIVITY).await;
    alice.stream("t", "stream-notify-room", TYPING).await;
    (bot, alice)
}

#[tokio::test]
async fn user_activity_reaches_others_not_the_writer_and_needs_the_right_username() {
    let s = sim(Profile::V8).await;
    let (mut bot, mut alice) = pair(&s).await;
    let r = alice
        .call(
            "stream-notify-room",
            json!([ACTIVITY, "alice", ["user-typing"], {"tmid": "T1"}]),
        )
        .await;
    assert!(r.get("result").is_none() && r.get("error").is_none(), "{r}");
    assert_eq!(
        bot.event().await,
        json!({"msg": "changed", "collection": "stream-notify-room", "id": "id",
               "fields": {"eventName": ACTIVITY, "args": ["alice", ["user-typing"], {"tmid": "T1"}]}})
    );
    alice.expect_quiet().await;
    // The display name is accepted too.
    alice
        .call("stream-notify-room", json!([ACTIVITY, "Alice Doe", [], {}]))
        .await;
    assert_eq!(bot.event().await["fields"]["args"][0], "Alice Doe");
    // Someone else's name: silently dropped.
    let r = alice
        .call(
            "stream-notify-room",
            json!([ACTIVITY, "bob", ["user-typing"], {}]),
        )
        .await;
    assert!(r.get("result").is_none() && r.get("error").is_none(), "{r}");
    bot.expect_quiet().await;
}

#[tokio::test]
async fn legacy_typing_is_ignored_on_8x() {
    let s = sim(Profile::V8).await;
    let (mut bot, mut alice) = pair(&s).await;
    let r = alice
        .call("stream-notify-room", json!([TYPING, "alice", true]))
        .await;
    assert!(r.get("result").is_none() && r.get("error").is_none(), "{r}");
    // Nor is user-activity bridged to typing.
    alice
        .call(
            "stream-notify-room",
            json!([ACTIVITY, "alice", ["user-typing"], {}]),
        )
        .await;
    assert_eq!(bot.event().await["fields"]["eventName"], ACTIVITY);
    bot.expect_quiet().await;
}

#[tokio::test]
async fn legacy_typing_is_bridged_both_ways_on_6x() {
    let s = sim(Profile::V6).await;
    let (mut bot, mut alice) = pair(&s).await;
    alice
        .call("stream-notify-room", json!([TYPING, "alice", true]))
        .await;
    let a = bot.event().await;
    let b = bot.event().await;
    assert_eq!(
        a["fields"],
        json!({"eventName": TYPING, "args": ["alice", true]})
    );
    assert_eq!(
        b["fields"],
        json!({"eventName": ACTIVITY, "args": ["alice", ["user-typing"], {}]})
    );
    alice
        .call("stream-notify-room", json!([ACTIVITY, "alice", [], {}]))
        .await;
    let a = bot.event().await;
    let b = bot.event().await;
    assert_eq!(
        a["fields"],
        json!({"eventName": ACTIVITY, "args": ["alice", [], {}]})
    );
    assert_eq!(
        b["fields"],
        json!({"eventName": TYPING, "args": ["alice", false]})
    );
    alice.expect_quiet().await;
}

#[tokio::test]
async fn notify_room_needs_room_access_and_carries_hard_deletes() {
    let s = sim(Profile::V6).await;
    let mut bob = Client::logged_in(&s, BOB_TOKEN).await;
    let f = bob
        .sub(
            "x",
            "stream-notify-room",
            json!([format!("{OPS}/user-activity"), false]),
        )
        .await;
    assert_eq!(f["error"]["error"], "not-allowed");
    bob.stream("d", "stream-notify-room", "GENERAL/deleteMessage")
        .await;
    let mut alice = Client::logged_in(&s, ALICE_TOKEN).await;
    let m = s.post("alice", "GENERAL", "oops").unwrap();
    let r = alice
        .call("deleteMessage", json!([{"_id": m["_id"]}]))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    let ev = bob.event().await;
    assert_eq!(
        ev["fields"],
        json!({"eventName": "GENERAL/deleteMessage", "args": [{"_id": m["_id"]}]})
    );
}
