//! REST login, `/me`, logout, `/api/info`, 2FA and the per-version auth envelopes.

use crate::rest_support;

use rest_support::*;
use rocketchat_sim::Profile;
use serde_json::json;

const VOLATILE: &[&str] = &["authToken", "_updatedAt", "avatarUrl", "type"];

#[tokio::test]
async fn password_and_resume_login_match_the_vectors() {
    let s = start(Profile::V8).await;
    let (r, want) = s.replay("login_password").await;
    assert_eq!(r.status, 200);
    assert_shape(&r.body, &want["body"], VOLATILE);
    let token = r.body["data"]["authToken"].as_str().unwrap().to_owned();
    assert_ne!(token, BOT_TOKEN, "a password login creates a new token");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
    // /login is limited per IP even for the bot: the vector's countdown headers.
    assert_eq!(r.header("x-ratelimit-limit"), Some("10"));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("9"));

    // The new token works, by e-mail and username too.
    let me = s.get("/api/v1/me", Some((BOT_ID, &token))).await;
    assert_eq!(me.body["username"], "mybot");
    for body in [
        json!({"username": "mybot", "password": "s3cret"}),
        json!({"user": "mybot@example.com", "password": "s3cret"}),
        json!({"user": "mybot", "password": {"digest": rocketchat_sim::store::sha256_hex("s3cret"), "algorithm": "sha-256"}}),
    ] {
        let r = s.post("/api/v1/login", None, &body).await;
        assert_eq!(r.status, 200, "{body}");
    }

    let (r, want) = s.replay("login_resume").await;
    assert_eq!(r.status, 200);
    assert_shape(&r.body, &want["body"], &["_updatedAt", "avatarUrl", "type"]);
    assert_eq!(r.body["data"]["authToken"], BOT_TOKEN);
}

#[tokio::test]
async fn login_success_flag_and_failures_per_profile() {
    let v6 = start(Profile::V6).await;
    let ok = v6
        .post(
            "/api/v1/login",
            None,
            &json!({"user": "mybot", "password": "s3cret"}),
        )
        .await;
    assert_eq!(ok.status, 200);
    assert!(ok.body.get("success").is_none(), "6.x omits success");
    let bad = v6
        .post(
            "/api/v1/login",
            None,
            &json!({"user": "mybot", "password": "wrong"}),
        )
        .await;
    assert_eq!(bad.status, 401);
    assert_eq!(
        bad.body,
        json!({"success": false, "status": "error", "error": 403, "message": "Incorrect password"})
    );
    let ghost = v6
        .post(
            "/api/v1/login",
            None,
            &json!({"user": "ghost", "password": "x"}),
        )
        .await;
    assert_eq!(
        ghost.body,
        vector("login_wrong_credentials_6x_8x")["response"]["body"]
    );

    let v8 = start(Profile::V8).await;
    let (r, want) = v8.replay("login_wrong_credentials_6x_8x").await;
    assert_eq!((r.status, &r.body), (401, &want["body"]));
    let v9 = start(Profile::V9).await;
    let (r, want) = v9.replay("login_wrong_credentials_9x").await;
    assert_eq!((r.status, &r.body), (401, &want["body"]));
    let r = v9
        .post("/api/v1/login", None, &json!({"resume": "no-such-token"}))
        .await;
    assert_eq!(r.body, json!({"success": false, "error": "unauthorized"}));
}

#[tokio::test]
async fn totp_login_flow() {
    let s = start(Profile::V8).await;
    let creds = json!({"user": "carol", "password": "carol-pass"});
    let r = s.post("/api/v1/login", None, &creds).await;
    assert_eq!(r.status, 401);
    let mut want = vector("login_totp_required")["response"]["body"].clone();
    assert_eq!(r.body, want);
    let r = s
        .post(
            "/api/v1/login",
            None,
            &json!({"user": "carol", "password": "carol-pass", "code": "000000"}),
        )
        .await;
    assert_eq!(r.status, 401);
    want["error"] = json!("totp-invalid");
    assert_eq!(r.body["error"], "totp-invalid");
    let r = s
        .post(
            "/api/v1/login",
            None,
            &json!({"user": "carol", "password": "carol-pass", "code": "123456"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = reply(
        s.req(reqwest::Method::POST, "/api/v1/login", None)
            .header("x-2fa-code", "123456")
            .json(&creds)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "the header works as well as the body field");
}

#[tokio::test]
async fn me_logout_and_401_shapes() {
    let s = start(Profile::V8).await;
    let (r, want) = s.replay("me").await;
    assert_eq!(r.status, 200);
    assert_shape(&r.body, &want["body"], &["_updatedAt", "avatarUrl", "type"]);
    assert_eq!(r.body["avatarUrl"], format!("{}/avatar/mybot", s.sim.url()));

    let r = s.get("/api/v1/me", None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body, vector("me_no_auth_6x_8x")["response"]["body"]);
    let r = s.get("/api/v1/me", Some((BOT_ID, "wrong-token"))).await;
    assert_eq!(r.status, 401);

    let (r, want) = s.replay("logout").await;
    assert_eq!((r.status, &r.body), (200, &want["body"]));
    assert_eq!(
        s.bot_get("/api/v1/me").await.status,
        401,
        "only that token is gone"
    );
    let pat = s
        .get(
            "/api/v1/me",
            Some((BOT_ID, "Ra2-pCvh7QfE1GmbXW9yZk0sLtNnIuOdJ8Te4wVxY3c")),
        )
        .await;
    assert_eq!(pat.status, 200, "the personal access token still works");

    let v9 = start(Profile::V9).await;
    let r = v9.get("/api/v1/me", None).await;
    assert_eq!(
        (r.status, &r.body),
        (401, &vector("me_no_auth_9x")["response"]["body"])
    );
}

#[tokio::test]
async fn info_and_unknown_routes() {
    for (profile, version) in [
        (Profile::V6, "6.13"),
        (Profile::V8, "8.3"),
        (Profile::V9, "9.0"),
    ] {
        let s = start(profile).await;
        let r = s.get("/api/info", None).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["version"], version);
        assert_eq!(r.body["success"], true);
        assert_eq!(r.body["minimumClientVersions"]["desktop"], "4.6.0");
        let jwt = r.body["supportedVersions"].as_str().unwrap();
        assert_eq!(jwt.split('.').count(), 3);
    }
    let s = start(Profile::V8).await;
    let (r, want) = s.replay("unknown_endpoint").await;
    assert_eq!((r.status, &r.body), (404, &want["body"]));
    let r = s.get("/api/v1/chat.postMessage", None).await;
    assert_eq!(
        r.status, 404,
        "a known route with the wrong method is not found either"
    );
}

#[tokio::test]
async fn personal_access_token_needs_two_factor() {
    let s = start(Profile::V8).await;
    let (r, want) = s.replay("two_factor_required_on_endpoint").await;
    assert_eq!((r.status, &r.body), (400, &want["body"]));

    let v = vector("generate_pat");
    let send = |code: &str| {
        s.req(
            reqwest::Method::POST,
            "/api/v1/users.generatePersonalAccessToken",
            Some((BOT_ID, BOT_TOKEN)),
        )
        .header("x-2fa-code", code.to_owned())
        .header("x-2fa-method", "password")
        .json(&v["request"]["body"])
        .send()
    };
    let r = reply(send("deadbeef").await.unwrap()).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["errorType"], "totp-invalid");
    // The vector's code is illustrative; the real one is sha-256 hex of the password.
    let code = rocketchat_sim::store::sha256_hex("s3cret");
    let r = reply(send(&code).await.unwrap()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["success"], true);
    let token = r.body["token"].as_str().unwrap();
    assert_eq!(s.get("/api/v1/me", Some((BOT_ID, token))).await.status, 200);
}

#[tokio::test]
async fn users_create_needs_admin_per_profile() {
    let v8 = start(Profile::V8).await;
    let (r, want) = v8.replay("forbidden_permission_6x_8x").await;
    assert_eq!((r.status, &r.body), (403, &want["body"]));
    let v9 = start(Profile::V9).await;
    let (r, _) = v9.replay("forbidden_permission_6x_8x").await;
    assert_eq!(r.status, 401);

    let body = json!({"email": "dave@example.com", "name": "Dave", "password": "dave-pass", "username": "dave"});
    let r = v8
        .post("/api/v1/users.create", Some((ADMIN_ID, ADMIN_TOKEN)), &body)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["user"]["username"], "dave");
    let r = v8
        .post("/api/v1/users.create", Some((ADMIN_ID, ADMIN_TOKEN)), &body)
        .await;
    assert_eq!(r.body["errorType"], "error-field-unavailable");
    let login = v8
        .post(
            "/api/v1/login",
            None,
            &json!({"user": "dave", "password": "dave-pass"}),
        )
        .await;
    assert_eq!(login.status, 200);

    let r = v8
        .post(
            "/api/v1/users.register",
            None,
            &json!({"username": "erin", "email": "erin@example.com", "pass": "erin-pass", "name": "Erin"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let uid = r.body["user"]["_id"].as_str().unwrap();
    assert!(
        v8.sim.store().is_member("GENERAL", uid),
        "joined the default channel"
    );
}
