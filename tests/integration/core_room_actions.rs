//! Host actions that read or change rooms and messages by id: the room named with a message
//! must be the one it is in, reading a room the access rules close is refused, and the
//! verbs search, pin/unpin, rooms, roomInfo and userInfo.

use crate::support;

use openclaw_rocketchat::account::{RoomEntry, RoomInfo, UserInfo};
use openclaw_rocketchat::host::{ErrorCode, HostError};
use openclaw_rocketchat::CoreError;
use serde_json::{json, Value};
use support::*;

fn refused(err: CoreError) -> HostError {
    let err = HostError::from(err);
    assert_eq!(err.code, ErrorCode::Forbidden, "{err:?}");
    err
}

fn texts(messages: &[openclaw_rocketchat::event::InboundMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.text.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn react_edit_and_delete_refuse_a_message_outside_the_named_room() {
    let mut h = Harness::pat().await;
    let hers = h.post("alice", GENERAL, "posted in general");
    let mine = h.reply(DM, "the bot in the DM", None).await["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stored = |id: &str| h.sim.store().message(id);

    let err = refused(
        h.core()
            .react_in("default", &hers, "eyes", true, Some("@alice"))
            .await
            .expect_err("general's message from the DM"),
    );
    assert!(
        err.message
            .contains(&format!("message {hers} is not in @alice")),
        "{}",
        err.message
    );
    assert!(stored(&hers).unwrap().get("reactions").is_none());
    h.core()
        .react_in("default", &hers, "eyes", true, Some("#general"))
        .await
        .expect("react in its room");
    assert_eq!(
        stored(&hers).unwrap()["reactions"][":eyes:"]["usernames"][0],
        BOT
    );

    let err = refused(
        h.core()
            .edit_message_in("default", &mine, "rewritten", Some("#general"))
            .await
            .expect_err("the DM's message from general"),
    );
    assert!(
        err.message.contains("is not in #general"),
        "{}",
        err.message
    );
    assert_eq!(stored(&mine).unwrap()["msg"], "the bot in the DM");
    h.core()
        .edit_message_in("default", &mine, "rewritten", Some("@alice"))
        .await
        .expect("edit in its room");
    assert_eq!(stored(&mine).unwrap()["msg"], "rewritten");

    let err = refused(
        h.core()
            .delete_message_in("default", &mine, Some(GENERAL))
            .await
            .expect_err("delete from another room"),
    );
    assert!(
        err.message.contains(&format!("is not in {GENERAL}")),
        "{}",
        err.message
    );
    assert!(stored(&mine).is_some());
    h.core()
        .delete_message_in("default", &mine, Some(&format!("room:{DM}")))
        .await
        .expect("delete in its room");
    assert!(stored(&mine).is_none());

    // Without a target, as before: any message the bot can see.
    h.core()
        .react("default", &hers, "eyes", false)
        .await
        .expect("react without a target");
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_and_search_refuse_a_room_the_access_rules_close() {
    let mut h = Harness::gated(json!({
        "dmPolicy": "disabled",
        "groupPolicy": "allowlist",
        "groupAllowFrom": ["@alice"],
        "chatmode": "onmessage",
        "rooms": { OPS: { "enabled": false } },
    }))
    .await;
    h.post("alice", GENERAL, "alice: deploy is done");
    h.post("bob", GENERAL, "bob: deploy the other thing");
    h.reply(GENERAL, "bot: noted the DEPLOY", None).await;
    h.post("alice", GENERAL, "alice: lunch?");
    h.post("alice", OPS, "ops: deploy");
    h.post("alice", DM, "dm: deploy");

    // An open room: as before, without the senders the rules shut out (bob).
    let got = h
        .core()
        .history("default", "#general", None, 20)
        .await
        .expect("history of general");
    assert_eq!(
        texts(&got),
        [
            "alice: deploy is done",
            "bot: noted the DEPLOY",
            "alice: lunch?"
        ]
    );
    let found = h
        .core()
        .search("default", "#general", "Deploy", 20)
        .await
        .expect("search general");
    assert_eq!(
        texts(&found),
        ["bot: noted the DEPLOY", "alice: deploy is done"],
        "newest first, case-insensitive, bob left out"
    );
    let one = h
        .core()
        .search("default", GENERAL, "deploy", 1)
        .await
        .unwrap();
    assert_eq!(texts(&one), ["bot: noted the DEPLOY"]);

    // Closed rooms: refused, naming the room and the key, not the bot's own messages.
    for (target, key) in [
        (
            format!("room:{OPS}"),
            format!("rooms.{OPS}.enabled is false"),
        ),
        ("@alice".to_owned(), "dmPolicy is \"disabled\"".to_owned()),
    ] {
        let err = refused(
            h.core()
                .history("default", &target, None, 20)
                .await
                .expect_err("history of a closed room"),
        );
        assert!(err.message.contains(&key), "{}", err.message);
        assert!(err.message.contains("history"), "{}", err.message);
        let err = refused(
            h.core()
                .search("default", &target, "deploy", 20)
                .await
                .expect_err("search of a closed room"),
        );
        assert!(err.message.contains(&key), "{}", err.message);
        let err = refused(
            h.core()
                .room_info("default", &target)
                .await
                .expect_err("info of a closed room"),
        );
        assert!(err.message.contains(&key), "{}", err.message);
    }
    h.core()
        .room_info("default", "#general")
        .await
        .expect("info of an open room");
    let err = refused(
        h.core()
            .history("default", "@alice", None, 5)
            .await
            .unwrap_err(),
    );
    assert!(
        err.message.contains(&format!("@alice ({DM})")),
        "{}",
        err.message
    );

    // The room list leaves them out too.
    let rooms = h.core().rooms("default").await.expect("rooms");
    let labels: Vec<&str> = rooms.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["#general"]);
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowlist_with_nobody_on_it_or_a_disabled_group_policy_closes_every_group() {
    let mut h = Harness::gated(json!({})).await;
    h.post("alice", GENERAL, "hello");
    let err = refused(
        h.core()
            .history("default", "#general", None, 20)
            .await
            .unwrap_err(),
    );
    assert!(
        err.message
            .contains("groupAllowFrom and allowFrom are empty"),
        "{}",
        err.message
    );
    // Pairing keeps the DM open: what its approved senders wrote is readable.
    h.core()
        .history("default", "@alice", None, 20)
        .await
        .expect("a pairing DM is not closed");
    let labels: Vec<String> = h
        .core()
        .rooms("default")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.label)
        .collect();
    assert_eq!(labels, ["@alice"]);

    h.apply(&gated_section(
        &h.sim.url(),
        json!({"groupPolicy": "disabled", "dmPolicy": "open", "allowFrom": ["*"]}),
    ))
    .await;
    h.ready("default").await;
    let err = refused(
        h.core()
            .history("default", "#ops-team", None, 20)
            .await
            .unwrap_err(),
    );
    assert!(
        err.message.contains("groupPolicy is \"disabled\""),
        "{}",
        err.message
    );
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_room_info_and_user_info_describe_what_the_bot_sees() {
    let mut h = Harness::pat().await;
    let rooms = h.core().rooms("default").await.expect("rooms");
    let entry = |id: &str, name: &str, t: &str, label: &str| RoomEntry {
        room_id: id.into(),
        name: name.into(),
        room_type: t.into(),
        label: label.into(),
    };
    assert_eq!(
        rooms,
        [
            entry(GENERAL, "general", "c", "#general"),
            entry(OPS, "ops-team", "p", "#ops-team"),
            entry(DM, "alice", "d", "@alice"),
        ],
        "the bot's rooms only (not #random)"
    );
    let as_json = serde_json::to_value(&rooms[0]).unwrap();
    assert_eq!(
        as_json,
        json!({"roomId": GENERAL, "name": "general", "type": "c", "label": "#general"})
    );

    let general = h
        .core()
        .room_info("default", "#general")
        .await
        .expect("roomInfo");
    assert_eq!(
        general,
        RoomInfo {
            room_id: GENERAL.into(),
            name: "general".into(),
            room_type: "c".into(),
            topic: None,
            description: None,
            member_count: Some(5),
            read_only: Some(false),
        }
    );
    let dm = h
        .core()
        .room_info("default", "@alice")
        .await
        .expect("roomInfo DM");
    assert_eq!((dm.room_id.as_str(), dm.name.as_str()), (DM, "alice"));
    assert_eq!((dm.room_type.as_str(), dm.member_count), ("d", Some(2)));
    let err = h
        .core()
        .room_info("default", "#no-such-room")
        .await
        .unwrap_err();
    assert_eq!(HostError::from(err).code, ErrorCode::NotFound);

    let alice = UserInfo {
        user_id: ALICE_ID.into(),
        username: "alice".into(),
        name: Some("Alice Doe".into()),
        status: Some("online".into()),
        roles: Some(vec!["user".into()]),
    };
    for user in ["@alice", "alice", &format!("user:{ALICE_ID}")] {
        let got = h.core().user_info("default", user).await.expect(user);
        assert_eq!(got, alice, "{user}");
    }
    let keys: Vec<String> = match serde_json::to_value(&alice).unwrap() {
        Value::Object(m) => m.keys().cloned().collect(),
        other => panic!("{other}"),
    };
    assert_eq!(keys, ["name", "roles", "status", "userId", "username"]);
    let err = HostError::from(h.core().user_info("default", "@nobody").await.unwrap_err());
    assert_eq!(err.code, ErrorCode::NotFound, "{err:?}");
    let err = HostError::from(h.core().user_info("default", "user:").await.unwrap_err());
    assert_eq!(err.code, ErrorCode::InvalidArgument, "{err:?}");
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pin_and_unpin_mark_the_message_and_announce_the_pin() {
    let mut h = Harness::pat().await;
    let hers = h.post("alice", GENERAL, "the release checklist");
    let stored = |id: &str| h.sim.store().message(id).unwrap();

    let err = refused(
        h.core()
            .pin("default", &hers, true, Some("@alice"))
            .await
            .expect_err("pin from another room"),
    );
    assert!(err.message.contains("is not in @alice"), "{}", err.message);
    assert!(stored(&hers).get("pinned").is_none());

    h.core()
        .pin("default", &hers, true, Some("#general"))
        .await
        .expect("pin");
    let m = stored(&hers);
    assert_eq!(m["pinned"], true, "{m}");
    assert_eq!(m["pinnedBy"]["_id"], BOT_ID);
    assert!(m["pinnedAt"]["$date"].is_i64(), "{m}");
    let notes: Vec<Value> = h
        .sim
        .store()
        .messages_in(GENERAL, None, false)
        .into_iter()
        .filter(|m| m["t"] == "message_pinned")
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["u"]["_id"], BOT_ID);
    assert_eq!(notes[0]["attachments"][0]["text"], "the release checklist");

    h.core()
        .pin("default", &hers, false, None)
        .await
        .expect("unpin");
    let m = stored(&hers);
    assert_eq!(m["pinned"], false, "{m}");
    assert!(m.get("pinnedBy").is_none(), "{m}");
    let err = h
        .core()
        .pin("default", "noSuchMessage0001", true, None)
        .await
        .unwrap_err();
    assert_eq!(HostError::from(err).code, ErrorCode::NotFound);
    h.close().await;
}
