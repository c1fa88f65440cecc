//! DDP `login` / `logout`: resume, password forms, errors per profile, 2FA, token faults.

use crate::ddp_support;

use ddp_support::*;
use rocketchat_sim::{default_seed, Fault, Profile, SimConfig};
use serde_json::{json, Value};

fn sha256_hex(s: &str) -> String {
    rocketchat_sim::store::sha256_hex(s)
}

fn assert_error(frame: &Value, code: Value, reason: &str) {
    let message = match &code {
        Value::String(c) => format!("{reason} [{c}]"),
        other => format!("{reason} [{other}]"),
    };
    assert_eq!(
        frame["error"],
        json!({"isClientSafe": true, "error": code, "reason": reason, "message": message, "errorType": "Meteor.Error"}),
        "{frame}"
    );
}

#[tokio::test]
async fn resume_with_login_token_and_pat() {
    let s = sim(Profile::V8).await;
    let mut c = Client::connect(&s).await;
    let r = c.call("login", json!([{"resume": BOT_TOKEN}])).await;
    let res = &r["result"];
    assert_eq!(res["id"], BOT_ID);
    assert_eq!(res["token"], BOT_TOKEN);
    assert_eq!(res["type"], "resume");
    assert!(res["tokenExpires"]["$date"].as_i64().unwrap() > 0);
    assert_eq!(res.as_object().unwrap().len(), 4);
    let r = c.call("login", json!([{"resume": BOT_PAT}])).await;
    assert_eq!(r["result"]["id"], BOT_ID);
    assert!(r["result"]["tokenExpires"]["$date"].is_i64());
}

#[tokio::test]
async fn password_by_digest_plain_email_and_id() {
    let s = sim(Profile::V8).await;
    let mut c = Client::connect(&s).await;
    let digest = json!({"digest": sha256_hex("s3cret"), "algorithm": "sha-256"});
    let mut token = String::new();
    for login in [
        json!({"user": {"username": "mybot"}, "password": digest}),
        json!({"user": {"username": "mybot"}, "password": "s3cret"}),
        json!({"user": {"email": "mybot@example.com"}, "password": "s3cret"}),
        json!({"user": {"id": BOT_ID}, "password": digest}),
    ] {
        let r = c.call("login", json!([login])).await;
        let res = &r["result"];
        assert_eq!(res["id"], BOT_ID, "{r}");
        assert_eq!(res["type"], "password");
        assert_ne!(res["token"], BOT_TOKEN);
        token = res["token"].as_str().unwrap().to_owned();
    }
    // The new token resumes (the fifth login: Meteor allows 5 per 10 s per connection).
    let again = c.call("login", json!([{"resume": token}])).await;
    assert_eq!(again["result"]["type"], "resume");
    let sixth = c.call("login", json!([{"resume": token}])).await;
    assert_eq!(sixth["error"]["error"], "too-many-requests");
    assert!(sixth["error"]["details"]["timeToReset"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn bad_and_expired_tokens_are_403() {
    let s = sim(Profile::V8).await;
    let mut c = Client::connect(&s).await;
    let r = c
        .call("login", json!([{"resume": "not-a-valid-token"}]))
        .await;
    assert_error(
        &r,
        json!(403),
        "You've been logged out by the server. Please log in again.",
    );
    assert!(s.faults().inject(Fault::ExpireToken {
        token: BOT_TOKEN.into()
    }));
    let r = c.call("login", json!([{"resume": BOT_TOKEN}])).await;
    assert_error(
        &r,
        json!(403),
        "Your session has expired. Please log in again.",
    );
}

#[tokio::test]
async fn bad_credentials_per_profile() {
    let s6 = sim(Profile::V6).await;
    let mut c = Client::connect(&s6).await;
    let r = c
        .call(
            "login",
            json!([{"user": {"username": "mybot"}, "password": "nope"}]),
        )
        .await;
    assert_error(&r, json!(403), "Incorrect password");
    let r = c
        .call(
            "login",
            json!([{"user": {"username": "ghost"}, "password": "x"}]),
        )
        .await;
    assert_error(&r, json!(403), "User not found");

    let s8 = sim(Profile::V8).await;
    let mut c = Client::connect(&s8).await;
    for login in [
        json!({"user": {"username": "mybot"}, "password": "nope"}),
        json!({"user": {"username": "ghost"}, "password": "x"}),
    ] {
        let r = c.call("login", json!([login])).await;
        assert_error(
            &r,
            json!(403),
            "Something went wrong. Please check your credentials.",
        );
    }
}

#[tokio::test]
async fn two_factor_challenge_then_totp_retry() {
    let mut seed = default_seed();
    seed.users
        .iter_mut()
        .find(|u| u.username == "mybot")
        .unwrap()
        .totp_code = Some("123456".into());
    let s = sim_with(SimConfig {
        seed: Some(seed),
        ..Default::default()
    })
    .await;
    let mut c = Client::connect(&s).await;
    let login = json!({"user": {"username": "mybot"}, "password": {"digest": sha256_hex("s3cret"), "algorithm": "sha-256"}});
    let r = c.call("login", json!([login])).await;
    assert_eq!(
        r["error"],
        json!({"isClientSafe": true, "error": "totp-required", "reason": "TOTP Required",
               "details": {"method": "totp", "availableMethods": ["totp"]},
               "message": "TOTP Required [totp-required]", "errorType": "Meteor.Error"})
    );
    let r = c
        .call(
            "login",
            json!([{"totp": {"login": login, "code": "000000"}}]),
        )
        .await;
    assert_error(&r, json!("totp-invalid"), "TOTP Invalid");
    let r = c
        .call(
            "login",
            json!([{"totp": {"login": login, "code": "123456"}}]),
        )
        .await;
    assert_eq!(r["result"]["id"], BOT_ID);
    assert_eq!(r["result"]["type"], "password");
    // Resume skips 2FA.
    let r = c.call("login", json!([{"resume": BOT_TOKEN}])).await;
    assert_eq!(r["result"]["type"], "resume");
}

#[tokio::test]
async fn login_reruns_subscriptions_and_logout_removes_the_token() {
    let s = sim(Profile::V8).await;
    let mut c = Client::connect(&s).await;
    // Anonymous: my-messages is readable (no events yet), a room stream is not.
    c.stream("mine", "stream-room-messages", "__my_messages__")
        .await;
    s.post("alice", "GENERAL", "before login").unwrap();
    c.expect_quiet().await;
    c.send(
        json!({"msg": "method", "method": "login", "id": "L", "params": [{"resume": ALICE_TOKEN}]}),
    )
    .await;
    // The re-run sub is ready again before the login result.
    assert_eq!(c.recv().await, json!({"msg": "ready", "subs": ["mine"]}));
    assert_eq!(c.recv().await["msg"], "result");
    assert_eq!(c.recv().await["msg"], "updated");
    s.post("bob", "GENERAL", "after login").unwrap();
    let ev = c.event().await;
    assert_eq!(ev["fields"]["args"][0]["msg"], "after login");

    c.stream("room", "stream-room-messages", "GENERAL").await;
    let r = c.call("logout", json!([])).await;
    assert!(r.get("result").is_none() && r.get("error").is_none(), "{r}");
    let r = c.call("login", json!([{"resume": ALICE_TOKEN}])).await;
    assert_eq!(r["error"]["error"], 403);
}

#[tokio::test]
async fn logout_reruns_subs_and_ends_the_ones_needing_a_user() {
    let s = sim(Profile::V8).await;
    let mut c = Client::logged_in(&s, BOB_TOKEN).await;
    c.stream("room", "stream-room-messages", "GENERAL").await;
    c.send(json!({"msg": "method", "method": "logout", "id": "o", "params": []}))
        .await;
    let f = c.recv().await;
    assert_eq!(f["msg"], "nosub");
    assert_eq!(f["id"], "room");
    assert_eq!(f["error"]["error"], "not-allowed");
}

#[tokio::test]
async fn revoked_tokens_close_the_session_and_resume_then_fails() {
    let s = sim(Profile::V8).await;
    let mut bot = Client::logged_in(&s, BOT_TOKEN).await;
    let mut alice = Client::logged_in(&s, ALICE_TOKEN).await;
    assert!(s.faults().inject(Fault::RevokeTokens {
        user: "mybot".into()
    }));
    assert!(matches!(bot.next_within(WAIT).await, Seen::Closed(_)));
    alice.expect_quiet().await;
    let mut again = Client::connect(&s).await;
    let r = again.call("login", json!([{"resume": BOT_TOKEN}])).await;
    assert_eq!(r["error"]["error"], 403);
}

#[tokio::test]
async fn expiring_one_token_closes_only_sessions_using_it() {
    let s = sim(Profile::V8).await;
    let mut by_token = Client::logged_in(&s, BOT_TOKEN).await;
    let mut by_pat = Client::logged_in(&s, BOT_PAT).await;
    s.faults().inject(Fault::ExpireToken {
        token: BOT_TOKEN.into(),
    });
    assert!(matches!(by_token.next_within(WAIT).await, Seen::Closed(_)));
    by_pat.expect_quiet().await;
}
