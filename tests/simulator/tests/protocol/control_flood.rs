//! `POST /_sim/flood`: generated messages pushed to subscribers, paced by the slowest reader.

use crate::ddp_support::{Client, BOT_TOKEN, DM, OPS};
use crate::rest_support::start;
use rocketchat_sim::Profile;
use serde_json::json;

#[tokio::test]
async fn flood_reaches_a_subscriber_complete_and_in_order() {
    let s = start(Profile::V8).await;
    let mut c = Client::logged_in(&s.sim, BOT_TOKEN).await;
    c.stream("mine", "stream-room-messages", "__my_messages__")
        .await;
    // More than the pause mark, so the flood has to wait for this reader.
    let count = 6000;
    let body = json!({"user": "alice", "count": count, "seed": 3,
                      "rooms": ["GENERAL", OPS, DM]});
    let url = s.url("/_sim/flood");
    let http = s.http.clone();
    let flood = tokio::spawn(async move { http.post(url).json(&body).send().await });
    for seq in 0..count {
        let ev = c.event().await;
        let args = &ev["fields"]["args"];
        let msg = args[0]["msg"].as_str().unwrap();
        assert!(msg.starts_with(&format!("seq={seq} t=")), "{msg}");
        assert_eq!(args[0]["u"]["username"], "alice");
        assert!(args[1]["roomType"].is_string(), "{ev}");
    }
    let reply = flood.await.unwrap().unwrap();
    assert_eq!(reply.status(), 200);
    let body: serde_json::Value = reply.json().await.unwrap();
    assert_eq!(body["count"], count);
    c.expect_quiet().await;
}

#[tokio::test]
async fn flood_at_a_rate_takes_its_time_and_rejects_bad_specs() {
    let s = start(Profile::V8).await;
    let r = s
        .post(
            "/_sim/flood",
            None,
            &json!({"user": "alice", "count": 21, "rate": 200.0}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["seconds"].as_f64().unwrap() >= 0.09, "{}", r.body);
    let r = s
        .post(
            "/_sim/flood",
            None,
            &json!({"user": "bob", "count": 1, "rooms": [OPS]}),
        )
        .await;
    assert_eq!(r.status, 400, "bob is not in ops-team: {}", r.body);
}
