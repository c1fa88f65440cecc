//! DDP subscriptions and stream events.

use crate::ddp_support;

use ddp_support::*;
use rocketchat_sim::{NewMessage, Profile};
use serde_json::json;

#[tokio::test]
async fn sub_ready_nosub_unsub_and_duplicates() {
    let s = sim(Profile::V8).await;
    let mut c = Client::logged_in(&s, BOT_TOKEN).await;
    assert_eq!(
        c.sub("s1", "no-such-pub", json!([])).await,
        json!({"msg": "nosub", "id": "s1", "error": {"isClientSafe": true, "error": 404,
            "reason": "Subscription 'no-such-pub' not found",
            "message": "Subscription 'no-such-pub' not found [404]", "errorType": "Meteor.Error"}})
    );
    assert_eq!(
        c.sub("cfg", "meteor.loginServiceConfiguration", json!([]))
            .await,
        json!({"msg": "ready", "subs": ["cfg"]})
    );
    c.stream("g", "stream-room-messages", "GENERAL").await;
    // The same id again is ignored.
    c.send(json!({"msg": "sub", "id": "g", "name": "stream-room-messages", "params": ["GENERAL", false]}))
        .await;
    c.expect_quiet().await;
    let f = c.sub("e", "stream-room-messages", json!(["", false])).await;
    assert_eq!(f["error"]["error"], "invalid-event-name");
    c.send(json!({"msg": "unsub", "id": "g"})).await;
    assert_eq!(c.recv().await, json!({"msg": "nosub", "id": "g"}));
    s.post("alice", "GENERAL", "after unsub").unwrap();
    c.expect_quiet().await;
}

#[tokio::test]
async fn my_messages_meta_for_channel_dm_and_unjoined_public_room() {
    let s = sim(Profile::V8).await;
    let mut c = Client::logged_in(&s, BOT_TOKEN).await;
    c.stream("mine", "stream-room-messages", "__my_messages__")
        .await;
    let cases = [
        (
            "alice",
            "GENERAL",
            json!({"roomParticipant": true, "roomType": "c", "roomName": "general"}),
        ),
        (
            "alice",
            DM,
            json!({"roomParticipant": true, "roomType": "d"}),
        ),
        (
            "bob",
            RANDOM,
            json!({"roomParticipant": false, "roomType": "c", "roomName": "random"}),
        ),
    ];
    for (user, rid, meta) in cases {
        let sent = s.post(user, rid, "hello there").unwrap();
        let ev = c.event().await;
        assert_eq!(ev["collection"], "stream-room-messages");
        assert_eq!(ev["id"], "id");
        assert_eq!(ev["fields"]["eventName"], "__my_messages__");
        let args = ev["fields"]["args"].as_array().unwrap();
        assert_eq!(args.len(), 2);
        assert_eq!(args[0]["_id"], sent["_id"]);
        assert!(args[0]["ts"]["$date"].is_i64(), "EJSON dates: {}", args[0]);
        assert_eq!(args[1], meta);
    }
}

#[tokio::test]
async fn private_rooms_are_not_delivered_to_non_members() {
    let s = sim(Profile::V8).await;
    let mut bob = Client::logged_in(&s, BOB_TOKEN).await;
    bob.stream("mine", "stream-room-messages", "__my_messages__")
        .await;
    assert_eq!(
        bob.sub(
            "ops",
            "stream-room-messages",
            json!([OPS, {"useCollection": false, "args": []}])
        )
        .await,
        json!({"msg": "nosub", "id": "ops", "error": {"isClientSafe": true, "error": "not-allowed",
            "message": "[not-allowed]", "errorType": "Meteor.Error"}})
    );
    s.post("alice", OPS, "secret").unwrap();
    bob.expect_quiet().await;
}

#[tokio::test]
async fn use_collection_sends_added_before_ready() {
    let s = sim(Profile::V8).await;
    let mut c = Client::logged_in(&s, BOT_TOKEN).await;
    for (id, opts) in [
        ("a", json!(true)),
        ("b", json!({"useCollection": true, "args": []})),
    ] {
        c.send(json!({"msg": "sub", "id": id, "name": "stream-room-messages", "params": ["__my_messages__", opts]}))
            .await;
        assert_eq!(
            c.recv().await,
            json!({"msg": "added", "collection": "stream-room-messages", "id": "id",
                   "fields": {"eventName": "__my_messages__"}})
        );
        assert_eq!(c.recv().await, json!({"msg": "ready", "subs": [id]}));
    }
}

#[tokio::test]
async fn room_stream_single_arg_after_my_messages_and_thread_root_redelivery() {
    let s = sim(Profile::V8).await;
    let mut c = Client::logged_in(&s, BOT_TOKEN).await;
    c.stream("room", "stream-room-messages", "GENERAL").await;
    c.stream("mine", "stream-room-messages", "__my_messages__")
        .await;
    let root = s.post("alice", "GENERAL", "root").unwrap();
    let first = c.event().await;
    assert_eq!(first["fields"]["eventName"], "__my_messages__");
    let second = c.event().await;
    assert_eq!(second["fields"]["eventName"], "GENERAL");
    assert_eq!(second["fields"]["args"].as_array().unwrap().len(), 1);
    c.send(json!({"msg": "unsub", "id": "mine"})).await;
    c.recv_where(|f| f["msg"] == "nosub").await;

    let reply = s
        .post_message(
            "bob",
            NewMessage {
                rid: "GENERAL".into(),
                msg: "reply".into(),
                tmid: root["_id"].as_str().map(str::to_owned),
                ..Default::default()
            },
        )
        .unwrap();
    let a = c.event().await;
    assert_eq!(a["fields"]["args"][0]["_id"], reply["_id"]);
    assert_eq!(a["fields"]["args"][0]["tmid"], root["_id"]);
    let b = c.event().await;
    assert_eq!(b["fields"]["args"][0]["_id"], root["_id"]);
    assert_eq!(b["fields"]["args"][0]["tcount"], 1);
    assert!(b["fields"]["args"][0]["tlm"]["$date"].is_i64());
}

#[tokio::test]
async fn notifications_for_mentions_and_dms_only() {
    let s = sim(Profile::V8).await;
    let mut c = Client::logged_in(&s, BOT_TOKEN).await;
    let event = format!("{BOT_ID}/notification");
    c.stream("n", "stream-notify-user", &event).await;
    s.post("alice", "GENERAL", "no mention here").unwrap();
    s.post("mybot", "GENERAL", "my own @mybot").unwrap();
    c.expect_quiet().await;

    let m = s.post("alice", "GENERAL", "hi @mybot").unwrap();
    let ev = c.event().await;
    assert_eq!(ev["collection"], "stream-notify-user");
    assert_eq!(ev["fields"]["eventName"], event.as_str());
    let n = &ev["fields"]["args"][0];
    assert_eq!(n["title"], "#general");
    assert_eq!(n["text"], "alice: hi @mybot");
    assert_eq!(n["payload"]["_id"], m["_id"]);
    assert_eq!(n["payload"]["type"], "c");
    assert_eq!(n["payload"]["name"], "general");
    assert_eq!(n["payload"]["sender"]["username"], "alice");

    s.post("alice", DM, "can you summarize **today**?").unwrap();
    let ev = c.event().await;
    assert_eq!(ev["fields"]["args"][0]["title"], "@alice", "{ev}");
    assert_eq!(ev["fields"]["args"][0]["text"], "can you summarize today?");
    assert_eq!(
        ev["fields"]["args"][0]["payload"]["message"]["msg"],
        "can you summarize **today**?"
    );
    assert!(ev["fields"]["args"][0]["payload"].get("name").is_none());
    // A reaction re-delivers the message: no second notification.
    s.store()
        .react(ALICE_ID, m["_id"].as_str().unwrap(), ":+1:", None)
        .unwrap();
    c.expect_quiet().await;
}

#[tokio::test]
async fn notify_user_is_readable_only_by_its_user() {
    let s = sim(Profile::V8).await;
    let mut c = Client::logged_in(&s, BOT_TOKEN).await;
    let f = c
        .sub(
            "x",
            "stream-notify-user",
            json!([format!("{ALICE_ID}/rooms-changed"), false]),
        )
        .await;
    assert_eq!(f["msg"], "nosub");
    assert_eq!(f["error"]["error"], "not-allowed");
    c.stream(
        "rc",
        "stream-notify-user",
        &format!("{BOT_ID}/rooms-changed"),
    )
    .await;
    let r = c.call("createDirectMessage", json!(["bob"])).await;
    let rid = r["result"]["rid"].as_str().unwrap().to_owned();
    assert_eq!(r["result"]["_id"], rid.as_str());
    let ev = c.event().await;
    assert_eq!(ev["fields"]["eventName"], format!("{BOT_ID}/rooms-changed"));
    assert_eq!(ev["fields"]["args"][0], "inserted");
    assert_eq!(ev["fields"]["args"][1]["_id"], rid.as_str());
}
