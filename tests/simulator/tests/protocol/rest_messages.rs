//! `chat.*` and the history endpoints against the vectors; one stored message in both date forms.

use crate::rest_support;

use rest_support::*;
use rocketchat_sim::time::{parse_iso, DateForm};
use rocketchat_sim::Profile;
use serde_json::{json, Value};

const VOLATILE: &[&str] = &["_id", "ts", "_updatedAt", "editedAt"];

#[tokio::test]
async fn post_message_by_room_id_and_channel() {
    let s = start(Profile::V8).await;
    let (r, want) = s.replay("chat_postMessage_roomId").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let m = &r.body["message"];
    let w = &want["body"]["message"];
    // `md` is left out: the store's markdown parser has no EMOJI nodes (see the report).
    for k in [
        "rid",
        "msg",
        "u",
        "urls",
        "mentions",
        "channels",
        "groupable",
    ] {
        assert_eq!(m[k], w[k], "{k}");
    }
    assert_eq!(r.body["channel"], "GENERAL");
    let ts = r.body["ts"].as_i64().expect("ts is epoch ms");
    assert_eq!(parse_iso(m["ts"].as_str().unwrap()), Some(ts));

    let (r, want) = s.replay("chat_postMessage_channel_name").await;
    assert_eq!(r.status, 200);
    // The target as given (ROCKETCHAT.md §4.3; the vector's `general` disagrees with the
    // source's `processWebhookMessage`, which returns the loop variable unchanged).
    assert_eq!(r.body["channel"], "#general");
    assert_shape(&r.body["message"], &want["body"]["message"], VOLATILE);

    let r = s
        .bot_post(
            "/api/v1/chat.postMessage",
            &json!({"channel": "@bob", "text": "psst"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["message"]["rid"],
        format!("{BOT_ID}{BOB_ID}"),
        "DM opened"
    );

    let r = s
        .bot_post(
            "/api/v1/chat.postMessage",
            &json!({"channel": "#nope", "text": "x"}),
        )
        .await;
    assert_eq!(r.body["errorType"], "invalid-channel");
}

#[tokio::test]
async fn post_message_validation() {
    let s = start(Profile::V8).await;
    let (r, want) = s.replay("chat_postMessage_validation_error").await;
    assert_eq!((r.status, &r.body), (400, &want["body"]));
    for body in [
        json!({"channel": "#general", "text": "x", "tmid": "abc"}),
        json!({"roomId": "GENERAL", "text": "x", "tshow": true}),
        json!({"roomId": "GENERAL", "channel": "#general"}),
    ] {
        let r = s.bot_post("/api/v1/chat.postMessage", &body).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.body["errorType"], "invalid-params");
        let e = r.body["error"].as_str().unwrap();
        assert!(e.contains("must NOT have additional properties"), "{e}");
        assert!(e.ends_with("must match exactly one schema in oneOf [invalid-params]"));
    }
}

#[tokio::test]
async fn send_message_rules() {
    let s = start(Profile::V8).await;
    let root = s.sim.post("alice", "GENERAL", "hello @mybot").unwrap();
    let root_id = root["_id"].as_str().unwrap();
    let mut body = vector("chat_sendMessage_thread_reply")["request"]["body"].clone();
    body["message"]["tmid"] = json!(root_id);
    let r = s.bot_post("/api/v1/chat.sendMessage", &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let want = vector("chat_sendMessage_thread_reply")["response"]["body"].clone();
    assert_shape(
        &r.body["message"],
        &want["message"],
        &["ts", "_updatedAt", "tmid"],
    );
    assert_eq!(r.body["message"]["tmid"], root_id);

    // Same client _id again: the duplicate-key plain error.
    let r = s.bot_post("/api/v1/chat.sendMessage", &body).await;
    assert_eq!(r.status, 400);
    assert!(r.body["error"].as_str().unwrap().contains("duplicate key"));
    assert!(r.body.get("errorType").is_none());

    let r = s
        .bot_post(
            "/api/v1/chat.sendMessage",
            &json!({"message": {"rid": "GENERAL", "msg": "x", "tshow": true}}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"success": false, "error": "tshow provided but missing tmid [invalid-params]", "errorType": "invalid-params"})
    );

    let bob = s
        .post(
            "/api/v1/chat.sendMessage",
            Some((BOB_ID, BOB_TOKEN)),
            &json!({"message": {"rid": OPS, "msg": "x"}}),
        )
        .await;
    let want = vector("chat_sendMessage_not_member")["response"].clone();
    assert_eq!((bob.status, &bob.body), (400, &want["body"]));

    let long = "a".repeat(5001);
    let r = s
        .bot_post(
            "/api/v1/chat.sendMessage",
            &json!({"message": {"rid": "GENERAL", "msg": long}}),
        )
        .await;
    assert_eq!(
        r.body,
        vector("chat_sendMessage_too_long")["response"]["body"]
    );
}

#[tokio::test]
async fn update_delete_react_get() {
    let s = start(Profile::V8).await;
    let sent = s
        .bot_post(
            "/api/v1/chat.postMessage",
            &json!({"roomId": "GENERAL", "text": "Status: all green"}),
        )
        .await;
    let id = sent.body["message"]["_id"].as_str().unwrap().to_owned();

    let mut body = vector("chat_update")["request"]["body"].clone();
    body["msgId"] = json!(id);
    let r = s.bot_post("/api/v1/chat.update", &body).await;
    assert_eq!(r.status, 200);
    assert_shape(
        &r.body["message"],
        &vector("chat_update")["response"]["body"]["message"],
        VOLATILE,
    );
    assert!(r.body["message"]["editedAt"].is_string());

    let (r, want) = s.replay("chat_update_not_found").await;
    assert_eq!((r.status, &r.body), (400, &want["body"]));
    let r = s
        .bot_post(
            "/api/v1/chat.update",
            &json!({"roomId": "GENERAL", "msgId": id}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"success": false, "errorType": "error-invalid-params", "error": "must have required property 'text'"})
    );

    let mut react = vector("chat_react")["request"]["body"].clone();
    react["messageId"] = json!(id);
    let r = s.bot_post("/api/v1/chat.react", &react).await;
    assert_eq!(r.body, json!({"success": true}));
    let stored = s.sim.store().message(&id).unwrap();
    assert_eq!(
        stored["reactions"][":thumbsup:"]["usernames"],
        json!(["mybot"])
    );
    let r = s
        .bot_post(
            "/api/v1/chat.react",
            &json!({"messageId": id, "reaction": "thumbsup"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(
        s.sim.store().message(&id).unwrap()["reactions"]
            .get(":thumbsup:")
            .is_none(),
        "toggled off"
    );
    let (r, want) = s.replay("chat_react_missing_message").await;
    assert_eq!((r.status, &r.body), (400, &want["body"]));

    let r = s
        .bot_get(&format!("/api/v1/chat.getMessage?msgId={id}"))
        .await;
    assert_eq!(r.body["message"]["_id"], id.as_str());

    let mut wrong = vector("chat_delete_wrong_room")["request"]["body"].clone();
    wrong["msgId"] = json!(id);
    let r = s.bot_post("/api/v1/chat.delete", &wrong).await;
    assert_eq!(r.body, vector("chat_delete_wrong_room")["response"]["body"]);
    let r = s
        .bot_post(
            "/api/v1/chat.delete",
            &json!({"roomId": "GENERAL", "msgId": id}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["_id"], id.as_str());
    assert!(
        r.body["ts"].as_str().unwrap().parse::<i64>().is_ok(),
        "ts is a string of ms"
    );
    assert_eq!(r.body["message"]["u"]["username"], "mybot");
    assert!(s.sim.store().message(&id).is_none());
}

#[tokio::test]
async fn react_refuses_emoji_the_server_does_not_know() {
    let s = start(Profile::V8).await;
    let sent = s
        .bot_post(
            "/api/v1/chat.postMessage",
            &json!({"roomId": "GENERAL", "text": "react to me"}),
        )
        .await;
    let id = sent.body["message"]["_id"].as_str().unwrap().to_owned();
    for bad in [":👀:", "👀", ":unicorn_of_doom:", "eyes👀"] {
        let r = s
            .bot_post(
                "/api/v1/chat.react",
                &json!({"messageId": id, "emoji": bad, "shouldReact": true}),
            )
            .await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(
            r.body,
            json!({"success": false, "error": "Invalid emoji provided. [error-not-allowed]",
                   "errorType": "error-not-allowed"}),
            "{bad}"
        );
    }
    assert!(
        s.sim
            .store()
            .message(&id)
            .unwrap()
            .get("reactions")
            .is_none(),
        "nothing stored"
    );
    for good in [
        ":eyes:",
        "white_check_mark",
        ":+1:",
        "hourglass_flowing_sand",
    ] {
        let r = s
            .bot_post(
                "/api/v1/chat.react",
                &json!({"messageId": id, "emoji": good, "shouldReact": true}),
            )
            .await;
        assert_eq!(r.status, 200, "{good}: {}", r.body);
    }
    let stored = s.sim.store().message(&id).unwrap();
    assert_eq!(stored["reactions"][":eyes:"]["usernames"], json!(["mybot"]));
    assert_eq!(
        stored["reactions"][":white_check_mark:"]["usernames"],
        json!(["mybot"])
    );
}

#[tokio::test]
async fn rest_and_ddp_date_forms_of_one_message() {
    let s = start(Profile::V8).await;
    let r = s
        .bot_post(
            "/api/v1/chat.sendMessage",
            &json!({"message": {"rid": "GENERAL", "msg": "dated"}}),
        )
        .await;
    let id = r.body["message"]["_id"].as_str().unwrap();
    let stored = s.sim.store().message(id).unwrap();
    let ddp = rocketchat_sim::store::render(&stored, DateForm::Ejson);
    let ms = ddp["ts"]["$date"].as_i64().unwrap();
    assert_eq!(r.body["message"]["ts"], rocketchat_sim::time::iso(ms));
    assert_eq!(
        r.body["message"]["_updatedAt"],
        rocketchat_sim::time::iso(ms)
    );
    let got = s
        .bot_get(&format!("/api/v1/chat.getMessage?msgId={id}"))
        .await;
    assert_eq!(got.body["message"], r.body["message"]);
}

#[tokio::test]
async fn sync_messages_and_history() {
    let s = start(Profile::V8).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let m = s.sim.post("alice", "GENERAL", &format!("m{i}")).unwrap();
        ids.push(m["_id"].as_str().unwrap().to_owned());
    }
    let third = s.sim.store().message(&ids[2]).unwrap();
    let since = rocketchat_sim::time::iso(third["ts"]["$date"].as_i64().unwrap());
    let r = s
        .bot_get(&format!(
            "/api/v1/chat.syncMessages?roomId=GENERAL&lastUpdate={since}"
        ))
        .await;
    let updated: Vec<&Value> = r.body["result"]["updated"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(updated.len(), 2);
    assert_eq!(r.body["result"]["deleted"], json!([]));

    let r = s
        .bot_get("/api/v1/channels.history?roomId=GENERAL&count=3")
        .await;
    let msgs: Vec<&str> = r.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["msg"].as_str().unwrap())
        .collect();
    assert_eq!(msgs, ["m4", "m3", "m2"], "newest first");
    let r = s
        .bot_get(&format!(
            "/api/v1/channels.history?roomId=GENERAL&oldest={since}&inclusive=true"
        ))
        .await;
    assert_eq!(r.body["messages"].as_array().unwrap().len(), 3);
    let r = s
        .bot_get("/api/v1/channels.history?roomId=GENERAL&offset=4&unreads=true")
        .await;
    assert_eq!(r.body["messages"][0]["msg"], "m0");
    assert!(r.body.get("unreadNotLoaded").is_some());

    // Each family only sees its own room type.
    let r = s
        .bot_get(&format!("/api/v1/channels.history?roomId={OPS}"))
        .await;
    assert_eq!(r.body["errorType"], "error-room-not-found");
    let r = s.bot_get("/api/v1/groups.history?roomId=GENERAL").await;
    assert_eq!(r.body["errorType"], "error-room-not-found");
    assert_eq!(
        s.bot_get(&format!("/api/v1/groups.history?roomId={OPS}"))
            .await
            .status,
        200
    );
    let r = s.bot_get("/api/v1/im.history?roomId=GENERAL").await;
    assert_eq!(r.body["errorType"], "error-room-not-found");
    assert_eq!(
        s.bot_get(&format!("/api/v1/dm.history?roomId={DM}"))
            .await
            .status,
        200
    );

    // A deletion shows up as `{_id, _deletedAt}`, and the message leaves `updated`.
    s.sim
        .store()
        .delete_message("k9ZfTqW2mHs8PxLcE", "GENERAL", &ids[4])
        .unwrap();
    let r = s
        .bot_get(&format!(
            "/api/v1/chat.syncMessages?roomId=GENERAL&lastUpdate={since}"
        ))
        .await;
    assert_eq!(r.body["result"]["updated"].as_array().unwrap().len(), 1);
    let deleted = r.body["result"]["deleted"].as_array().unwrap();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["_id"], ids[4].as_str());
    let at = deleted[0]["_deletedAt"].as_str().unwrap();
    assert!(rocketchat_sim::time::parse_iso(at).is_some(), "{at}");
}

/// The `msg` texts of a history answer, newest first.
fn texts(r: &Reply) -> Vec<String> {
    r.body["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("no messages in {}", r.body))
        .iter()
        .map(|m| m["msg"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn history_leaves_thread_replies_out_unless_asked_for_them() {
    let s = start(Profile::V8).await;
    let root = s.sim.post("alice", "GENERAL", "root").unwrap();
    let tmid = root["_id"].as_str().unwrap().to_owned();
    for (text, tshow) in [("in thread", false), ("also in room", true)] {
        s.sim
            .post_message(
                "bob",
                rocketchat_sim::NewMessage {
                    rid: "GENERAL".into(),
                    msg: text.into(),
                    tmid: Some(tmid.clone()),
                    tshow: Some(tshow),
                    ..Default::default()
                },
            )
            .unwrap();
    }
    let r = s.bot_get("/api/v1/channels.history?roomId=GENERAL").await;
    assert_eq!(texts(&r), ["also in room", "root"]);
    let r = s
        .bot_get("/api/v1/channels.history?roomId=GENERAL&showThreadMessages=true")
        .await;
    assert_eq!(texts(&r), ["also in room", "in thread", "root"]);
}

#[tokio::test]
async fn messages_posted_with_one_ts_share_it_and_inclusive_bounds_return_them_all() {
    let s = start(Profile::V8).await;
    let ts = "2025-11-24T10:40:01.000Z";
    for text in ["a", "b", "c"] {
        let r = s
            .post(
                "/_sim/post",
                None,
                &json!({"user": "alice", "rid": "GENERAL", "msg": text, "ts": ts}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["message"]["ts"], ts);
    }
    // Posted later, stamped earlier: history still orders by `ts`.
    let r = s
        .post(
            "/_sim/post",
            None,
            &json!({"user": "alice", "rid": "GENERAL", "msg": "older", "ts": "2025-11-24T10:40:00.000Z"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = s
        .bot_get(&format!(
            "/api/v1/channels.history?roomId=GENERAL&latest={ts}&inclusive=true"
        ))
        .await;
    assert_eq!(texts(&r), ["c", "b", "a", "older"]);
    let r = s
        .bot_get(&format!(
            "/api/v1/channels.history?roomId=GENERAL&latest={ts}"
        ))
        .await;
    assert_eq!(
        texts(&r),
        ["older"],
        "an exclusive bound skips the whole millisecond"
    );
    let r = s
        .post(
            "/_sim/post",
            None,
            &json!({"user": "alice", "rid": "GENERAL", "msg": "x", "ts": "yesterday"}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
}

#[tokio::test]
async fn deny_history_refuses_one_room_to_one_user_until_reset() {
    let s = start(Profile::V8).await;
    s.sim.post("alice", "GENERAL", "hello").unwrap();
    let r = s
        .post(
            "/_sim/faults",
            None,
            &json!({"kind": "denyHistory", "user": "mybot", "rid": "GENERAL"}),
        )
        .await;
    assert_eq!(r.body["ok"], true, "{}", r.body);
    let r = s.bot_get("/api/v1/channels.history?roomId=GENERAL").await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.body["success"], false);
    let alice = s
        .get(
            "/api/v1/channels.history?roomId=GENERAL",
            Some((ALICE_ID, ALICE_TOKEN)),
        )
        .await;
    assert_eq!(texts(&alice), ["hello"], "other users still read it");
    assert_eq!(
        s.bot_get(&format!("/api/v1/dm.history?roomId={DM}"))
            .await
            .status,
        200,
        "other rooms still answer"
    );
    s.post("/_sim/reset-faults", None, &json!({})).await;
    let r = s.bot_get("/api/v1/channels.history?roomId=GENERAL").await;
    assert_eq!(texts(&r), ["hello"]);
}

#[tokio::test]
async fn search_matches_text_case_insensitively_newest_first() {
    let s = start(Profile::V8).await;
    for text in ["Deploy one", "lunch", "the second deploy"] {
        let r = s
            .bot_post(
                "/api/v1/chat.postMessage",
                &json!({"roomId": "GENERAL", "text": text}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = s
        .bot_get("/api/v1/chat.search?roomId=GENERAL&searchText=DEPLOY&count=10")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["success"], true);
    let texts: Vec<&str> = r.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["msg"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["the second deploy", "Deploy one"]);
    assert!(
        r.body["messages"][0]["ts"].is_string(),
        "REST dates are ISO"
    );
    let r = s
        .bot_get("/api/v1/chat.search?roomId=GENERAL&searchText=deploy&count=1")
        .await;
    assert_eq!(r.body["messages"].as_array().unwrap().len(), 1);
    // Bob is not in the ops group: a room he cannot read.
    let r = s
        .get(
            &format!("/api/v1/chat.search?roomId={OPS}&searchText=x"),
            Some((BOB_ID, BOB_TOKEN)),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["errorType"], "error-not-allowed");
}

#[tokio::test]
async fn pin_marks_the_message_posts_the_note_and_unpin_clears_it() {
    let s = start(Profile::V8).await;
    let sent = s
        .post(
            "/api/v1/chat.postMessage",
            Some((ALICE_ID, ALICE_TOKEN)),
            &json!({"roomId": "GENERAL", "text": "pin me"}),
        )
        .await;
    let id = sent.body["message"]["_id"].as_str().unwrap().to_owned();

    let r = s
        .bot_post("/api/v1/chat.pinMessage", &json!({"messageId": id}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["message"]["t"], "message_pinned");
    assert_eq!(r.body["message"]["attachments"][0]["text"], "pin me");
    assert_eq!(r.body["message"]["attachments"][0]["author_name"], "alice");
    let m = s.sim.store().message(&id).unwrap();
    assert_eq!(m["pinned"], true);
    assert_eq!(m["pinnedBy"], json!({"_id": BOT_ID, "username": "mybot"}));
    // Pinning again posts no second note.
    s.bot_post("/api/v1/chat.pinMessage", &json!({"messageId": id}))
        .await;
    let notes = s
        .sim
        .store()
        .messages_in("GENERAL", None, false)
        .into_iter()
        .filter(|m| m["t"] == "message_pinned")
        .count();
    assert_eq!(notes, 1);

    let r = s
        .bot_post("/api/v1/chat.unPinMessage", &json!({"messageId": id}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let m = s.sim.store().message(&id).unwrap();
    assert_eq!(m["pinned"], false);
    assert!(
        m.get("pinnedAt").is_none() && m.get("pinnedBy").is_none(),
        "{m}"
    );

    // A typed route: unknown keys and a missing id are invalid params, without a suffix.
    let r = s
        .bot_post("/api/v1/chat.pinMessage", &json!({"msgId": id}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["errorType"], "error-invalid-params", "{}", r.body);
    let r = s
        .bot_post("/api/v1/chat.pinMessage", &json!({"messageId": "nope"}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["errorType"], "error-message-not-found", "{}", r.body);
}
