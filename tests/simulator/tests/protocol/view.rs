//! The chat view at `/view`: served as HTML on every profile, outside the REST envelope, and
//! built on what this server speaks (the routes and streams it calls exist, the seed
//! passwords it offers log in).

use crate::rest_support;

use reqwest::Method;
use rest_support::*;
use rocketchat_sim::Profile;
use serde_json::json;

#[tokio::test]
async fn view_is_served_as_html() {
    for profile in [Profile::V6, Profile::V7, Profile::V8, Profile::V9] {
        let s = start(profile).await;
        assert_eq!(s.sim.view_url(), s.url("/view"));
        let res = s
            .req(Method::GET, "/view", None)
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status().as_u16(), 200, "{profile:?}");
        let ctype = res.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ctype.starts_with("text/html"), "{profile:?}: {ctype}");
        let page = res.text().await.unwrap();
        assert_eq!(page, rocketchat_sim::view::PAGE);
        assert!(page.starts_with("<!doctype html>"));
        // What the page needs from the server, by name: the same routes and streams a
        // Rocket.Chat client uses.
        for needed in [
            "/websocket",
            "\"login\"",
            "resume",
            "stream-room-messages",
            "/user-activity",
            "/deleteMessage",
            "/subscriptions-changed",
            "/api/v1/login",
            "subscriptions.get",
            "channels.history",
            "groups.history",
            "im.history",
            "chat.sendMessage",
            "chat.react",
            "rooms.media/",
            "rooms.mediaConfirm/",
            "rc_token",
            "id=\"typing\"",
            "id=\"thread\"",
        ] {
            assert!(
                page.contains(needed),
                "{profile:?}: the page lacks {needed}"
            );
        }
    }
}

#[tokio::test]
async fn view_quick_logins_match_the_seed() {
    let s = start(Profile::V8).await;
    for (user, password) in [("alice", "alice-pass"), ("bob", "bob-pass")] {
        assert!(
            rocketchat_sim::view::PAGE.contains(&format!("{user}: \"{password}\"")),
            "the page offers no quick login for {user}"
        );
        let r = s
            .post(
                "/api/v1/login",
                None,
                &json!({"user": user, "password": password}),
            )
            .await;
        assert_eq!(r.status, 200, "{user}: {}", r.body);
        assert!(
            r.body["data"]["authToken"].is_string(),
            "{user}: {}",
            r.body
        );
        let token = r.body["data"]["authToken"].as_str().unwrap();
        let uid = r.body["data"]["userId"].as_str().unwrap();
        let subs = s.get("/api/v1/subscriptions.get", Some((uid, token))).await;
        assert!(
            !subs.body["update"].as_array().unwrap().is_empty(),
            "{user}"
        );
    }
}

#[tokio::test]
async fn view_history_with_thread_replies() {
    // The page loads a room's history with its thread replies, to group them under the root.
    let s = start(Profile::V8).await;
    let root = s.sim.post("alice", "GENERAL", "root").unwrap();
    s.sim
        .post_message(
            "bob",
            rocketchat_sim::NewMessage {
                rid: "GENERAL".into(),
                msg: "a reply".into(),
                tmid: root["_id"].as_str().map(str::to_owned),
                ..Default::default()
            },
        )
        .unwrap();
    let r = s
        .get(
            "/api/v1/channels.history?roomId=GENERAL&count=200&showThreadMessages=true",
            Some((ALICE_ID, ALICE_TOKEN)),
        )
        .await;
    let msgs: Vec<&str> = r.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["msg"].as_str().unwrap())
        .collect();
    assert!(
        msgs.contains(&"a reply") && msgs.contains(&"root"),
        "{msgs:?}"
    );
}
