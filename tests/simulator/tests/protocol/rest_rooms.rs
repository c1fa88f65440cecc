//! Rooms, DMs, users, subscriptions and `method.call` against the vectors.

use crate::rest_support;

use rest_support::*;
use rocketchat_sim::time::parse_iso;
use rocketchat_sim::Profile;
use serde_json::{json, Value};

#[tokio::test]
async fn room_info_endpoints_and_type_rules() {
    let s = start(Profile::V8).await;
    let (r, want) = s.replay("rooms_info").await;
    assert_eq!(r.status, 200);
    for k in ["_id", "t", "name", "fname", "ro", "sysMes"] {
        assert_eq!(r.body["room"][k], want["body"]["room"][k], "{k}");
    }
    let (r, want) = s.replay("rooms_info_not_found").await;
    assert_eq!((r.status, &r.body), (400, &want["body"]));
    let bob = s
        .get(
            &format!("/api/v1/rooms.info?roomId={OPS}"),
            Some((BOB_ID, BOB_TOKEN)),
        )
        .await;
    assert_eq!(bob.body, vector("rooms_info_no_access")["response"]["body"]);
    let r = s.bot_get("/api/v1/rooms.info?roomName=general").await;
    assert_eq!(r.body["room"]["_id"], "GENERAL");

    let (r, want) = s.replay("channels_info").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["channel"]["default"],
        want["body"]["channel"]["default"]
    );
    let (r, want) = s.replay("channels_info_on_private_group").await;
    assert_eq!((r.status, &r.body), (400, &want["body"]));
    let (r, _) = s.replay("groups_info").await;
    assert_eq!(r.body["group"]["name"], "ops-team");
    let bob = s
        .get(
            &format!("/api/v1/groups.info?roomId={OPS}"),
            Some((BOB_ID, BOB_TOKEN)),
        )
        .await;
    assert_eq!(
        bob.body["errorType"], "error-room-not-found",
        "groups are members-only"
    );

    let (r, _) = s.replay("rooms_get").await;
    let ids: Vec<&str> = r.body["update"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["_id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"GENERAL") && ids.contains(&OPS) && ids.contains(&DM),
        "{ids:?}"
    );
    assert_eq!(r.body["remove"], json!([]));
    let later = rocketchat_sim::time::iso(rocketchat_sim::time::now_ms() + 1000);
    let r = s
        .bot_get(&format!("/api/v1/rooms.get?updatedSince={later}"))
        .await;
    assert_eq!(r.body["update"], json!([]));
}

#[tokio::test]
async fn direct_messages() {
    let s = start(Profile::V8).await;
    let (r, want) = s.replay("im_create").await;
    assert_eq!(r.status, 200);
    for k in ["t", "rid", "usernames", "_id"] {
        assert_eq!(r.body["room"][k], want["body"]["room"][k], "{k}");
    }
    let (r, want) = s.replay("im_create_unknown_user").await;
    assert_eq!((r.status, &r.body), (400, &want["body"]));
    let r = s
        .bot_post(
            "/api/v1/dm.create",
            &json!({"usernames": "bob", "excludeSelf": true}),
        )
        .await;
    assert_eq!(r.body["room"]["_id"], format!("{BOT_ID}{BOB_ID}"));
    let r = s.bot_post("/api/v1/im.create", &json!({})).await;
    assert_eq!(r.body["errorType"], "error-invalid-params");

    s.sim.post("alice", DM, "hi bot").unwrap();
    let (r, _) = s.replay("im_list").await;
    assert_eq!(r.status, 200);
    let ims = r.body["ims"].as_array().unwrap();
    let dm = ims.iter().find(|r| r["_id"] == DM).expect("the seeded DM");
    assert_eq!(dm["lastMessage"]["msg"], "hi bot");
    assert_eq!(r.body["total"], ims.len());
}

#[tokio::test]
async fn users_and_subscriptions() {
    let s = start(Profile::V8).await;
    let (r, want) = s.replay("users_info").await;
    assert_eq!(r.status, 200);
    for k in ["_id", "username", "name", "type", "active", "roles"] {
        assert_eq!(r.body["user"][k], want["body"]["user"][k], "{k}");
    }
    let (r, want) = s.replay("users_info_not_found").await;
    assert_eq!((r.status, &r.body), (400, &want["body"]));

    let (r, _) = s.replay("subscriptions_get").await;
    let subs = r.body["update"].as_array().unwrap();
    let dm = subs.iter().find(|s| s["rid"] == DM).unwrap();
    let want = &vector("subscriptions_get")["response"]["body"]["update"][0];
    for k in ["rid", "t", "name", "fname", "u", "open"] {
        assert_eq!(dm[k], want[k], "{k}");
    }
    assert!(dm["ts"].is_string(), "ISO dates over REST");
    let r = s
        .bot_get(&format!("/api/v1/subscriptions.getOne?roomId={OPS}"))
        .await;
    assert_eq!(r.body["subscription"]["name"], "ops-team");
    let r = s
        .bot_get("/api/v1/subscriptions.getOne?roomId=RandomRoom0000001")
        .await;
    assert_eq!(r.body["subscription"], Value::Null);
}

#[tokio::test]
async fn subscriptions_read_clears_unread_for_one_room() {
    let s = start(Profile::V8).await;
    for rid in ["GENERAL", OPS] {
        let r = s
            .post(
                "/api/v1/chat.postMessage",
                Some((ALICE_ID, ALICE_TOKEN)),
                &json!({"roomId": rid, "text": "unread for the bot"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let sub = |rid: &'static str| {
        let s = &s;
        async move {
            s.bot_get(&format!("/api/v1/subscriptions.getOne?roomId={rid}"))
                .await
                .body["subscription"]
                .clone()
        }
    };
    let before = sub("GENERAL").await;
    assert_eq!(before["unread"], 1);
    assert_eq!(before["alert"], true);
    assert_eq!(sub(OPS).await["unread"], 1);

    let r = s
        .bot_post(
            "/api/v1/subscriptions.read",
            &json!({"rid": "GENERAL", "readThreads": true}),
        )
        .await;
    assert_eq!((r.status, &r.body), (200, &json!({"success": true})));
    let after = sub("GENERAL").await;
    assert_eq!(after["unread"], 0);
    assert_eq!(after["alert"], false);
    let ls = |v: &Value| parse_iso(v["ls"].as_str().unwrap()).unwrap();
    assert!(ls(&after) > ls(&before), "last seen moves to now");
    assert_eq!(sub(OPS).await["unread"], 1, "other rooms untouched");

    // `roomId` is accepted too.
    let r = s
        .bot_post("/api/v1/subscriptions.read", &json!({"roomId": OPS}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(sub(OPS).await["unread"], 0);

    // Neither: the ajv message of both branches.
    let r = s
        .bot_post("/api/v1/subscriptions.read", &json!({"readThreads": true}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["success"], false);
    assert_eq!(r.body["errorType"], "invalid-params");
    assert!(
        r.body["error"]
            .as_str()
            .unwrap()
            .contains("must have required property 'rid'"),
        "{}",
        r.body
    );
    // A room the caller is not subscribed to.
    let r = s
        .bot_post(
            "/api/v1/subscriptions.read",
            &json!({"rid": "RandomRoom0000001"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["errorType"], "error-invalid-subscription");
}

#[tokio::test]
async fn create_join_leave_invite() {
    let s = start(Profile::V8).await;
    let r = s
        .bot_post(
            "/api/v1/channels.create",
            &json!({"name": "ci", "members": ["alice"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rid = r.body["channel"]["_id"].as_str().unwrap().to_owned();
    assert!(s.sim.store().is_member(&rid, ALICE_ID));
    let r = s
        .bot_post("/api/v1/channels.create", &json!({"name": "ci"}))
        .await;
    assert_eq!(r.body["errorType"], "error-duplicate-channel-name");

    let r = s
        .bot_post("/api/v1/groups.create", &json!({"name": "secret"}))
        .await;
    let gid = r.body["group"]["_id"].as_str().unwrap().to_owned();
    let r = s
        .bot_post(
            "/api/v1/groups.invite",
            &json!({"roomId": gid, "userId": BOB_ID}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(s.sim.store().is_member(&gid, BOB_ID));

    let r = s
        .bot_post(
            "/api/v1/channels.join",
            &json!({"roomId": "RandomRoom0000001"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(s.sim.store().is_member("RandomRoom0000001", BOT_ID));
    let r = s
        .bot_post(
            "/api/v1/channels.leave",
            &json!({"roomId": "RandomRoom0000001"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(!s.sim.store().is_member("RandomRoom0000001", BOT_ID));
    let r = s
        .bot_post(
            "/api/v1/channels.invite",
            &json!({"roomId": rid, "userId": BOB_ID}),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn method_call_over_rest() {
    let s = start(Profile::V8).await;
    let (r, want) = s.replay("method_call").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["success"], true);
    let got: Value = serde_json::from_str(r.body["message"].as_str().unwrap()).unwrap();
    let expected: Value = serde_json::from_str(want["body"]["message"].as_str().unwrap()).unwrap();
    assert_eq!(got, expected);

    let frame = call(&s, "nope", json!([])).await;
    assert_eq!(frame["error"]["error"], 404);
    assert_eq!(frame["error"]["reason"], "Method 'nope' not found");
    let frame = call(
        &s,
        "sendMessage",
        json!([{"rid": "GENERAL", "msg": "via method"}]),
    )
    .await;
    assert!(
        frame["result"]["ts"]["$date"].is_i64(),
        "DDP date form inside: {frame}"
    );
    let frame = call(&s, "rooms/get", json!([])).await;
    assert!(frame["result"].as_array().unwrap().len() >= 3);
    let frame = call(&s, "subscriptions/get", json!([{"$date": 0}])).await;
    assert!(frame["result"]["update"].is_array());

    let anon = s
        .post(
            "/api/v1/method.callAnon/getRoomIdByNameOrId",
            None,
            &json!({"message": json!({"msg": "method", "id": "1", "method": "getRoomIdByNameOrId", "params": ["general"]}).to_string()}),
        )
        .await;
    let frame: Value = serde_json::from_str(anon.body["message"].as_str().unwrap()).unwrap();
    assert_eq!(frame["error"]["error"], "error-invalid-user");
    assert_eq!(
        s.post("/api/v1/method.call/x", None, &json!({}))
            .await
            .status,
        401
    );

    let v9 = start(Profile::V9).await;
    let frame = json!({"msg": "method", "id": "2", "method": "sendMessage", "params": [{"rid": "GENERAL", "msg": "x"}]});
    let r = v9
        .bot_post(
            "/api/v1/method.call/sendMessage",
            &json!({"message": frame.to_string()}),
        )
        .await;
    let frame: Value = serde_json::from_str(r.body["message"].as_str().unwrap()).unwrap();
    assert_eq!(frame["error"]["error"], 404, "removed in 9.x");
}

/// `method.call` as the bot; the status must be 200 even for errors. Returns the result frame.
async fn call(s: &Sim, method: &str, params: Value) -> Value {
    let frame = json!({"msg": "method", "id": "7", "method": method, "params": params});
    let r = s
        .bot_post(
            &format!("/api/v1/method.call/{method}"),
            &json!({"message": frame.to_string()}),
        )
        .await;
    assert_eq!((r.status, &r.body["success"]), (200, &json!(true)));
    serde_json::from_str(r.body["message"].as_str().unwrap()).unwrap()
}
