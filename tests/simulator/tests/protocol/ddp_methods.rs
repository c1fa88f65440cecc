//! DDP methods a bot calls, unknown methods per profile, and the DDP rate limiter.

use crate::ddp_support;

use ddp_support::*;
use rocketchat_sim::{Profile, Settings, SimConfig};
use serde_json::json;

#[tokio::test]
async fn unknown_and_removed_methods_are_404() {
    let s = sim(Profile::V8).await;
    let mut c = Client::logged_in(&s, BOT_TOKEN).await;
    let r = c.call("noSuchMethod", json!([])).await;
    assert_eq!(
        r,
        json!({"msg": "result", "id": r["id"], "error": {"isClientSafe": true, "error": 404,
            "reason": "Method 'noSuchMethod' not found",
            "message": "Method 'noSuchMethod' not found [404]", "errorType": "Meteor.Error"}})
    );
    let r = c.call("deleteMessage", json!([{"_id": "x"}])).await;
    assert_eq!(r["error"]["reason"], "Method 'deleteMessage' not found");
    let s9 = sim(Profile::V9).await;
    let mut c = Client::logged_in(&s9, BOT_TOKEN).await;
    let r = c
        .call("sendMessage", json!([{"rid": "GENERAL", "msg": "x"}]))
        .await;
    assert_eq!(r["error"]["error"], 404);
}

#[tokio::test]
async fn rooms_and_subscriptions_get() {
    let s = sim(Profile::V8).await;
    let mut anon = Client::connect(&s).await;
    assert_eq!(anon.call("rooms/get", json!([])).await["result"], json!([]));
    let mut c = Client::logged_in(&s, BOT_TOKEN).await;
    let rooms = c.call("rooms/get", json!([])).await["result"].clone();
    let ids: Vec<&str> = rooms
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"GENERAL") && ids.contains(&OPS) && ids.contains(&DM));
    assert!(!ids.contains(&RANDOM));
    assert!(rooms[0]["_updatedAt"]["$date"].is_i64());
    let now = chrono_now();
    let since = c.call("rooms/get", json!([{"$date": now}])).await["result"].clone();
    assert_eq!(since, json!({"update": [], "remove": []}));
    s.post("alice", "GENERAL", "bump").unwrap();
    let since = c.call("rooms/get", json!([{"$date": now - 1}])).await["result"].clone();
    assert_eq!(since["update"][0]["_id"], "GENERAL");
    let subs = c.call("subscriptions/get", json!([])).await["result"].clone();
    let dm = subs
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["rid"] == DM)
        .unwrap();
    assert_eq!(dm["name"], "alice");
    assert_eq!(dm["fname"], "Alice Doe");
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test]
async fn send_update_react_and_room_lookups() {
    let s = sim(Profile::V8).await;
    let mut anon = Client::connect(&s).await;
    let r = anon
        .call("sendMessage", json!([{"rid": "GENERAL", "msg": "x"}]))
        .await;
    assert_eq!(r["error"]["error"], "error-invalid-user");

    let mut c = Client::logged_in(&s, BOT_TOKEN).await;
    let r = c
        .call(
            "sendMessage",
            json!([{"_id": "ClientId000000001", "rid": "GENERAL", "msg": "hello @alice"}]),
        )
        .await;
    let m = &r["result"];
    assert_eq!(m["_id"], "ClientId000000001");
    assert_eq!(m["u"]["username"], "mybot");
    assert!(m["ts"]["$date"].is_i64());
    assert_eq!(m["mentions"][0]["username"], "alice");
    // A duplicate id is swallowed by the real method: a result without value.
    let r = c
        .call(
            "sendMessage",
            json!([{"_id": "ClientId000000001", "rid": "GENERAL", "msg": "again"}]),
        )
        .await;
    assert!(r.get("result").is_none() && r.get("error").is_none(), "{r}");
    let mut bob = Client::logged_in(&s, BOB_TOKEN).await;
    let r = bob
        .call("sendMessage", json!([{"rid": OPS, "msg": "x"}]))
        .await;
    assert_eq!(
        r["error"],
        json!({"isClientSafe": true, "error": "error-not-allowed", "details": {"method": "sendMessage"},
               "message": "[error-not-allowed]", "errorType": "Meteor.Error"})
    );

    let r = c
        .call(
            "updateMessage",
            json!([{"_id": "ClientId000000001", "rid": "GENERAL", "msg": "edited"}]),
        )
        .await;
    assert!(r.get("error").is_none(), "{r}");
    assert_eq!(
        s.store().message("ClientId000000001").unwrap()["msg"],
        "edited"
    );
    let r = c
        .call("setReaction", json!([":+1:", "ClientId000000001"]))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    assert!(s.store().message("ClientId000000001").unwrap()["reactions"][":+1:"].is_object());
    for bad in [":👀:", "👀", ":no_such_emoji:"] {
        let r = c
            .call("setReaction", json!([bad, "ClientId000000001"]))
            .await;
        assert_eq!(r["error"]["error"], "error-not-allowed", "{bad}: {r}");
        assert_eq!(
            r["error"]["message"], "Invalid emoji provided. [error-not-allowed]",
            "{bad}"
        );
    }

    assert_eq!(
        c.call("getRoomIdByNameOrId", json!(["general"])).await["result"],
        "GENERAL"
    );
    assert_eq!(
        c.call("getRoomNameById", json!([RANDOM])).await["result"],
        "random"
    );
    let r = bob.call("getRoomIdByNameOrId", json!(["ops-team"])).await;
    assert_eq!(r["error"]["error"], "error-not-allowed");
    let r = c.call("public-settings/get", json!([])).await;
    let settings = r["result"].as_array().unwrap();
    assert!(settings
        .iter()
        .any(|s| s["_id"] == "Message_MaxAllowedSize" && s["value"] == 5000));
    let r = c.call("UserPresence:online", json!([])).await;
    assert!(r.get("result").is_none() && r.get("error").is_none());
}

#[tokio::test]
async fn join_and_leave() {
    let s = sim(Profile::V8).await;
    let mut c = Client::logged_in(&s, BOT_TOKEN).await;
    c.stream("mine", "stream-room-messages", "__my_messages__")
        .await;
    assert_eq!(c.call("joinRoom", json!([RANDOM])).await["result"], true);
    assert!(s.store().is_member(RANDOM, BOT_ID));
    let ev = c.event().await;
    assert_eq!(ev["fields"]["args"][0]["t"], "uj");
    assert_eq!(ev["fields"]["args"][1]["roomParticipant"], true);
    let r = c.call("leaveRoom", json!([RANDOM])).await;
    assert!(r.get("error").is_none(), "{r}");
    let r = c.call("leaveRoom", json!([RANDOM])).await;
    assert_eq!(r["error"]["error"], "error-user-not-in-room");
    let mut bob = Client::logged_in(&s, BOB_TOKEN).await;
    assert_eq!(
        bob.call("joinRoom", json!([OPS])).await["error"]["error"],
        "error-not-allowed"
    );
}

#[tokio::test]
async fn rate_limits_a_regular_user_but_not_a_bot_and_can_be_disabled() {
    let s = sim(Profile::V8).await;
    let mut alice = Client::logged_in(&s, ALICE_TOKEN).await;
    for i in 0..5 {
        let r = alice
            .call(
                "sendMessage",
                json!([{"rid": "GENERAL", "msg": format!("m{i}")}]),
            )
            .await;
        assert!(r["result"]["_id"].is_string(), "{r}");
    }
    let r = alice
        .call("sendMessage", json!([{"rid": "GENERAL", "msg": "m6"}]))
        .await;
    let e = &r["error"];
    assert_eq!(e["error"], "too-many-requests");
    let wait = e["details"]["timeToReset"].as_i64().unwrap();
    assert!(wait > 0 && wait <= 1000, "{e}");
    assert_eq!(
        e["reason"],
        "Error, too many requests. Please slow down. You must wait 1 seconds before trying again."
    );
    assert_eq!(
        e["message"],
        format!("{} [too-many-requests]", e["reason"].as_str().unwrap())
    );

    // Subscriptions are counted too: the 11th sub to one publication is refused.
    for i in 0..10 {
        alice
            .stream(&format!("s{i}"), "stream-room-messages", "GENERAL")
            .await;
    }
    let f = alice
        .sub("s10", "meteor.loginServiceConfiguration", json!([]))
        .await;
    assert_eq!(f["msg"], "ready");
    let mut other = Client::logged_in(&s, BOB_TOKEN).await;
    for i in 0..10 {
        other
            .sub(
                &format!("c{i}"),
                "meteor.loginServiceConfiguration",
                json!([]),
            )
            .await;
    }
    let f = other
        .sub("c10", "meteor.loginServiceConfiguration", json!([]))
        .await;
    assert_eq!(f["msg"], "nosub");
    assert_eq!(f["error"]["error"], "too-many-requests");

    let mut bot = Client::logged_in(&s, BOT_TOKEN).await;
    for i in 0..8 {
        let r = bot
            .call(
                "sendMessage",
                json!([{"rid": "GENERAL", "msg": format!("b{i}")}]),
            )
            .await;
        assert!(r["result"]["_id"].is_string(), "{r}");
    }

    let free = sim_with(SimConfig {
        settings: Settings {
            ddp_rate_limiter: false,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let mut alice = Client::logged_in(&free, ALICE_TOKEN).await;
    for i in 0..15 {
        let r = alice
            .call(
                "sendMessage",
                json!([{"rid": "GENERAL", "msg": format!("f{i}")}]),
            )
            .await;
        assert!(r["result"]["_id"].is_string(), "{r}");
    }
}
