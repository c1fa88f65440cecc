//! The REST rate limiter (countdown, 429 body, role bypass, exemptions) and forced faults.

use crate::rest_support;

use rest_support::*;
use rocketchat_sim::{Profile, Settings};
use serde_json::{json, Value};

fn wait_seconds(body: &Value) -> i64 {
    let e = body["error"].as_str().unwrap();
    let n = e
        .split("You must wait ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    n.parse().unwrap()
}

#[tokio::test]
async fn login_is_limited_per_ip_and_counts_down() {
    let s = start(Profile::V8).await;
    let body = json!({"user": "mybot", "password": "s3cret"});
    let mut first_reset = 0;
    for i in 0..10u32 {
        let r = s.post("/api/v1/login", None, &body).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-ratelimit-limit"), Some("10"));
        assert_eq!(
            r.header("x-ratelimit-remaining"),
            Some((9 - i).to_string().as_str())
        );
        let reset: i64 = r.header("x-ratelimit-reset").unwrap().parse().unwrap();
        if i == 0 {
            first_reset = reset;
            let now = rocketchat_sim::time::now_ms();
            assert!(
                (now + 59_000..=now + 60_000).contains(&reset),
                "absolute epoch ms"
            );
        }
        assert_eq!(reset, first_reset);
    }
    let r = s.post("/api/v1/login", None, &body).await;
    assert_eq!(r.status, 429);
    let want = &vector("login_rate_limited")["response"]["body"];
    assert_eq!(
        r.body.as_object().unwrap().len(),
        want.as_object().unwrap().len()
    );
    let e = r.body["error"].as_str().unwrap();
    assert!(e.starts_with("Error, too many requests. Please slow down. You must wait "));
    assert!(e.ends_with(" seconds before trying this endpoint again. [error-too-many-requests]"));
    assert!((59..=60).contains(&wait_seconds(&r.body)));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    assert!(r.header("retry-after").is_none());
    // Another route has its own bucket.
    assert_eq!(
        s.get("/api/v1/me", Some((ALICE_ID, ALICE_TOKEN)))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn users_count_down_and_bots_bypass() {
    let settings = Settings {
        rest_rate_limit_calls: 3,
        ..Settings::default()
    };
    let s = start_with(Profile::V8, settings).await;
    let body = json!({"roomId": "GENERAL", "text": "spam"});
    let alice = Some((ALICE_ID, ALICE_TOKEN));
    for left in ["2", "1", "0"] {
        let r = s.post("/api/v1/chat.postMessage", alice, &body).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-ratelimit-remaining"), Some(left));
    }
    let r = s.post("/api/v1/chat.postMessage", alice, &body).await;
    assert_eq!(r.status, 429);
    assert!(wait_seconds(&r.body) > 0);
    assert_eq!(r.header("x-ratelimit-limit"), Some("3"));
    // The GET of another route and the bot are not affected; the bot gets no headers.
    for _ in 0..5 {
        let r = s.bot_post("/api/v1/chat.postMessage", &body).await;
        assert_eq!(r.status, 200);
        assert!(r.header("x-ratelimit-limit").is_none());
    }
    // method.call is exempt.
    let frame =
        json!({"msg": "method", "id": "1", "method": "getRoomIdByNameOrId", "params": ["general"]});
    for _ in 0..5 {
        let r = s
            .post(
                "/api/v1/method.call/getRoomIdByNameOrId",
                alice,
                &json!({"message": frame.to_string()}),
            )
            .await;
        assert_eq!(r.status, 200);
        assert!(r.header("x-ratelimit-limit").is_none());
    }
}

#[tokio::test]
async fn limiter_can_be_switched_off() {
    let settings = Settings {
        rest_rate_limiter: false,
        ..Settings::default()
    };
    let s = start_with(Profile::V8, settings).await;
    for _ in 0..12 {
        let r = s
            .post(
                "/api/v1/login",
                None,
                &json!({"user": "alice", "password": "alice-pass"}),
            )
            .await;
        assert_eq!(r.status, 200);
        assert!(r.header("x-ratelimit-limit").is_none());
    }
}

#[tokio::test]
async fn forced_statuses_give_rocket_chat_bodies() {
    let s = start(Profile::V8).await;
    s.sim
        .faults()
        .http_status("/api/v1/chat.sendMessage", 429, 1);
    let body = json!({"message": {"rid": "GENERAL", "msg": "x"}});
    let r = s.bot_post("/api/v1/chat.sendMessage", &body).await;
    assert_eq!(r.status, 429);
    assert!(r.body["error"]
        .as_str()
        .unwrap()
        .ends_with("[error-too-many-requests]"));
    assert!(r.header("x-ratelimit-reset").is_some());
    s.sim
        .faults()
        .http_status("/api/v1/chat.sendMessage", 500, 1);
    let r = s.bot_post("/api/v1/chat.sendMessage", &body).await;
    assert_eq!(
        (r.status, &r.body),
        (
            500,
            &json!({"success": false, "error": "Internal server error"})
        )
    );
    let r = s.bot_post("/api/v1/chat.sendMessage", &body).await;
    assert_eq!(r.status, 200, "the fault is used up");
}
