//! REST client behaviour against a scripted local server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::Instant;

use super::test_server::{Req, Resp, TestServer};
use super::*;
use crate::auth::{AuthError, PasswordSession, StaticToken, TokenSource};
use crate::secret::Secret;
use crate::tls::{client_config, TlsOptions};

const TOKEN: &str = "secret-token-value-0000000000000000";
const PASSWORD: &str = "hunter2-password";

fn opts() -> RestOptions {
    RestOptions {
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(100),
        ..RestOptions::default()
    }
}

fn tls() -> Arc<rustls::ClientConfig> {
    client_config(&TlsOptions::default()).unwrap()
}

fn static_client(url: &str) -> RestClient {
    let tokens = Arc::new(StaticToken::new("Bq7dYg4KxWnZcT3rA", Secret::new(TOKEN)));
    RestClient::new(url, tls(), tokens, opts()).unwrap()
}

fn me_body() -> Value {
    json!({"_id":"Bq7dYg4KxWnZcT3rA","username":"mybot","name":"My Bot","roles":["user","bot"],"success":true})
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[tokio::test]
async fn sends_auth_headers_and_parses_me() {
    let srv = TestServer::start(|_| Resp::json(200, me_body())).await;
    let c = static_client(&format!("{}/api/v1/", srv.url));
    let me = c.me().await.unwrap();
    assert_eq!(me.username.as_deref(), Some("mybot"));
    let r = &srv.requests()[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/api/v1/me"));
    assert_eq!(r.header("x-user-id"), Some("Bq7dYg4KxWnZcT3rA"));
    assert_eq!(r.header("x-auth-token"), Some(TOKEN));
}

#[tokio::test]
async fn relogin_after_401_and_retry_once() {
    let logins = Arc::new(AtomicUsize::new(0));
    let l = logins.clone();
    let srv = TestServer::start(move |r: &Req| match r.path.as_str() {
        "/api/v1/login" => {
            let n = l.fetch_add(1, Ordering::SeqCst) + 1;
            assert_eq!(r.json()["password"], PASSWORD);
            // 6.x shape: no top-level success
            Resp::json(200, json!({"status":"success","data":{"userId":"Bq7dYg4KxWnZcT3rA","authToken":format!("tok-{n}"),"me":{"_id":"Bq7dYg4KxWnZcT3rA"}}}))
        }
        "/api/v1/me" if r.header("x-auth-token") == Some("tok-1") => Resp::json(
            401,
            json!({"success":false,"error":"You must be logged in to do this.","status":"error","message":"You must be logged in to do this."}),
        ),
        "/api/v1/me" => Resp::json(200, me_body()),
        _ => Resp::json(404, json!({"success":false,"error":"Resource not found"})),
    })
    .await;
    let session = Arc::new(
        PasswordSession::new(&srv.url, "mybot", Secret::new(PASSWORD), tls(), &opts()).unwrap(),
    );
    let c = RestClient::new(&srv.url, tls(), session.clone(), opts()).unwrap();
    c.me().await.unwrap();
    assert_eq!(logins.load(Ordering::SeqCst), 2);
    assert_eq!(srv.hits("/api/v1/me").len(), 2);
    assert_eq!(session.login_count().await, 2);
    // the fresh token is kept
    c.me().await.unwrap();
    assert_eq!(logins.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn static_token_rejected_after_401() {
    let srv = TestServer::start(|_| {
        Resp::json(
            401,
            json!({"success":false,"error":"You must be logged in to do this."}),
        )
    })
    .await;
    let c = static_client(&srv.url);
    let err = c.me().await.unwrap_err();
    assert!(
        matches!(err, RestError::Auth(AuthError::Rejected(_))),
        "{err:?}"
    );
    assert!(err.to_string().contains("check authToken/userId"));
    assert!(!format!("{err} {err:?} {c:?}").contains(TOKEN));
    assert_eq!(srv.requests().len(), 1);
}

#[tokio::test]
async fn waits_for_429_reset_header_then_succeeds() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let srv = TestServer::start(move |_| {
        if n2.fetch_add(1, Ordering::SeqCst) == 0 {
            Resp::json(429, json!({"success":false,"error":"Error, too many requests. Please slow down. You must wait 1 seconds before trying this endpoint again. [error-too-many-requests]"}))
                .header("x-ratelimit-limit", 10)
                .header("x-ratelimit-remaining", 0)
                .header("x-ratelimit-reset", now_ms() + 400)
        } else {
            Resp::json(200, me_body())
        }
    })
    .await;
    let c = static_client(&srv.url);
    let start = Instant::now();
    c.me().await.unwrap();
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(350), "{took:?}");
    assert!(
        took < Duration::from_millis(950),
        "reset header wins over the text: {took:?}"
    );
    assert_eq!(srv.requests().len(), 2);
}

#[tokio::test]
async fn waits_per_429_text_without_headers() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let srv = TestServer::start(move |_| {
        if n2.fetch_add(1, Ordering::SeqCst) == 0 {
            Resp::json(429, json!({"success":false,"error":"You must wait 1 seconds before trying this endpoint again. [error-too-many-requests]"}))
        } else {
            Resp::json(200, me_body())
        }
    })
    .await;
    let c = static_client(&srv.url);
    let start = Instant::now();
    c.me().await.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(1000));
}

#[tokio::test]
async fn gives_up_on_a_long_429() {
    let srv = TestServer::start(|_| {
        Resp::json(429, json!({"success":false,"error":"You must wait 500 seconds before trying this endpoint again."}))
    })
    .await;
    let c = static_client(&srv.url);
    let err = c.me().await.unwrap_err();
    match err {
        RestError::RateLimited { retry_after_ms, .. } => assert_eq!(retry_after_ms, 500_000),
        e => panic!("{e:?}"),
    }
    assert_eq!(srv.requests().len(), 1);
}

#[tokio::test]
async fn pacer_delays_calls_after_remaining_zero() {
    let srv = TestServer::start(|_| {
        Resp::json(200, me_body())
            .header("X-RateLimit-Limit", 2)
            .header("X-RateLimit-Remaining", 0)
            .header("X-RateLimit-Reset", now_ms() + 500)
    })
    .await;
    let c = static_client(&srv.url);
    c.me().await.unwrap();
    // another route is not held
    c.rooms_get(None).await.unwrap();
    c.me().await.unwrap();
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 3);
    assert!(reqs[1].at - reqs[0].at < Duration::from_millis(300));
    let gap = reqs[2].at - reqs[0].at;
    assert!(gap >= Duration::from_millis(450), "{gap:?}");
}

#[tokio::test]
async fn retries_get_on_5xx_but_not_post_message() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let srv = TestServer::start(move |r: &Req| match r.path.as_str() {
        "/api/v1/me" if n2.fetch_add(1, Ordering::SeqCst) < 2 => {
            Resp::json(503, json!({"success":false,"error":"unavailable"}))
        }
        "/api/v1/me" => Resp::json(200, me_body()),
        _ => Resp::json(
            500,
            json!({"success":false,"error":"Internal server error"}),
        ),
    })
    .await;
    let c = static_client(&srv.url);
    c.me().await.unwrap();
    assert_eq!(srv.hits("/api/v1/me").len(), 3);
    let err = c.post_message("GENERAL", "hi", None).await.unwrap_err();
    assert!(
        matches!(err, RestError::Server { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(srv.hits("/api/v1/chat.postMessage").len(), 1);
}

#[tokio::test]
async fn api_errors_keep_error_and_error_type() {
    let srv = TestServer::start(|_| {
        Resp::json(400, json!({"success":false,"error":"Message size exceeds Message_MaxAllowedSize [error-message-size-exceeded]","errorType":"error-message-size-exceeded","details":{"method":"sendMessage"}}))
    })
    .await;
    let c = static_client(&srv.url);
    let err = c
        .send_message("GENERAL", "x", None, false)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.error_type(), Some("error-message-size-exceeded"));
    assert!(err.to_string().contains("POST /api/v1/chat.sendMessage"));
    assert!(!err.to_string().contains(TOKEN));
    assert_eq!(srv.requests().len(), 1, "4xx is not retried");
}

#[tokio::test]
async fn retried_send_never_posts_twice() {
    let stored: Arc<Mutex<Vec<Value>>> = Arc::default();
    let s = stored.clone();
    let srv = TestServer::start(move |r: &Req| match r.path.as_str() {
        "/api/v1/chat.sendMessage" => {
            let m = r.json()["message"].clone();
            let mut st = s.lock().unwrap();
            if st.iter().any(|x| x["_id"] == m["_id"]) {
                return Resp::json(400, json!({"success":false,"error":format!("E11000 duplicate key error collection: rocketchat.rocketchat_message index: _id_ dup key: {{ _id: \"{}\" }}", m["_id"].as_str().unwrap())}));
            }
            st.push(m);
            // stored, but the answer is lost
            Resp::json(502, json!({"success":false,"error":"Bad Gateway"}))
        }
        "/api/v1/chat.getMessage" => {
            let id = r.query.strip_prefix("msgId=").unwrap();
            let st = s.lock().unwrap();
            let m = st.iter().find(|x| x["_id"] == id).cloned().unwrap();
            Resp::json(200, json!({"message": m, "success": true}))
        }
        _ => Resp::json(404, json!({})),
    })
    .await;
    let c = static_client(&srv.url);
    let m = c
        .send_message("GENERAL", "On it.", Some("Kc9eBwdD4nh9nYZsJ"), false)
        .await
        .unwrap();
    assert_eq!(stored.lock().unwrap().len(), 1);
    let first = stored.lock().unwrap()[0].clone();
    assert_eq!(m["_id"], first["_id"]);
    assert_eq!(first["_id"].as_str().unwrap().len(), 17);
    assert_eq!(first["tmid"], "Kc9eBwdD4nh9nYZsJ");
    assert!(first.get("tshow").is_none());
    assert_eq!(srv.hits("/api/v1/chat.sendMessage").len(), 2);
}

#[tokio::test]
async fn sends_to_one_room_keep_order_across_rooms_concurrent() {
    let srv = TestServer::start(|r: &Req| {
        let m = r.json()["message"].clone();
        let delay = if m["msg"] == "a1" { 300 } else { 10 };
        Resp::json(200, json!({"message": m, "success": true})).delay(Duration::from_millis(delay))
    })
    .await;
    let c = static_client(&srv.url);
    let futs = vec![
        c.send_message("A", "a1", None, false),
        c.send_message("A", "a2", None, false),
        c.send_message("B", "b1", None, false),
        c.send_message("A", "a3", None, false),
    ];
    // poll in reverse creation order: the queue follows call order, not poll order
    let mut handles = Vec::new();
    for f in futs.into_iter().rev() {
        let f: std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>> = Box::pin(f);
        handles.push(f);
    }
    for r in futures_util::future::join_all(handles).await {
        r.unwrap();
    }
    let order: Vec<String> = srv
        .requests()
        .iter()
        .map(|r| r.json()["message"]["msg"].as_str().unwrap().to_owned())
        .collect();
    let a: Vec<&String> = order.iter().filter(|m| m.starts_with('a')).collect();
    assert_eq!(a, ["a1", "a2", "a3"]);
    // b1 did not wait for the slow a1
    let pos = |x: &str| order.iter().position(|m| m == x).unwrap();
    assert!(pos("b1") < pos("a2"), "{order:?}");
}

#[tokio::test]
async fn download_refuses_foreign_origins_and_enforces_size() {
    let srv = TestServer::start(|r: &Req| match r.path.as_str() {
        "/file-upload/F1/report.pdf" => {
            assert_eq!(r.header("x-auth-token"), Some(TOKEN));
            Resp::json(200, json!({})).header(
                "content-disposition",
                "attachment; filename*=UTF-8''q3%20report.pdf",
            )
        }
        "/file-upload/big/a.bin" => {
            let mut resp = Resp::json(200, json!({}));
            resp.body = vec![7u8; 10_000];
            resp
        }
        "/file-upload/stream/a.bin" => {
            let mut resp = Resp::json(200, json!({}));
            resp.body = vec![7u8; 10_000];
            resp.chunked = true;
            resp
        }
        _ => Resp::json(404, json!({})),
    })
    .await;
    let c = static_client(&srv.url);

    let err = c
        .download("https://evil.example.com/file-upload/F1/x", 1000)
        .await
        .unwrap_err();
    assert!(matches!(err, RestError::ForeignOrigin { .. }), "{err:?}");
    assert!(err.to_string().contains("https://evil.example.com"));
    // same host, other port: another origin
    let other_port = srv.url.rsplit_once(':').unwrap().0.to_owned() + ":1/file-upload/F1/x";
    assert!(matches!(
        c.download(&other_port, 1000).await,
        Err(RestError::ForeignOrigin { .. })
    ));
    assert!(srv.requests().is_empty());

    let d = c
        .download("/file-upload/F1/report.pdf", 1000)
        .await
        .unwrap();
    assert_eq!(d.file_name, "q3 report.pdf");
    assert_eq!(d.bytes.as_ref(), b"{}");
    let abs = format!("{}/file-upload/F1/report.pdf", srv.url);
    c.download(&abs, 1000).await.unwrap();

    let err = c
        .download("/file-upload/big/a.bin", 5000)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RestError::TooLarge { limit: 5000, .. }),
        "{err:?}"
    );
    let err = c
        .download("file-upload/stream/a.bin", 5000)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RestError::TooLarge { limit: 5000, .. }),
        "{err:?}"
    );
    let ok = c
        .download("file-upload/stream/a.bin", 10_000)
        .await
        .unwrap();
    assert_eq!(ok.bytes.len(), 10_000);
    assert_eq!(ok.file_name, "a.bin");
}

#[tokio::test]
async fn upload_falls_back_to_rooms_upload_on_404() {
    let srv = TestServer::start(|r: &Req| match r.path.as_str() {
        "/api/v1/rooms.upload/GENERAL" => {
            Resp::json(200, json!({"message":{"_id":"Hn5cX2qRw8TzLp4Ka","rid":"GENERAL","msg":"see attached"},"success":true}))
        }
        _ => Resp::json(404, json!({"success":false,"error":"Resource not found"})),
    })
    .await;
    let c = static_client(&srv.url);
    let o = UploadOptions {
        msg: Some("see attached".into()),
        description: Some("Q3 report".into()),
        tmid: None,
    };
    let data = UploadData::Bytes(bytes::Bytes::from_static(b"%PDF-1.4 test"));
    let m = c
        .upload_file("GENERAL", "../report.pdf", "application/pdf", data, &o)
        .await
        .unwrap();
    assert_eq!(m["_id"], "Hn5cX2qRw8TzLp4Ka");
    let reqs = srv.requests();
    assert_eq!(reqs[0].path, "/api/v1/rooms.media/GENERAL");
    assert_eq!(reqs.len(), 2);
    let body = String::from_utf8_lossy(&reqs[1].body).into_owned();
    assert!(
        body.contains("name=\"file\"; filename=\"report.pdf\""),
        "{body}"
    );
    assert!(body.contains("%PDF-1.4 test"));
    assert!(body.contains("name=\"msg\"") && body.contains("see attached"));
}

#[tokio::test]
async fn two_step_upload_and_history_order() {
    let srv = TestServer::start(|r: &Req| match r.path.as_str() {
        "/api/v1/rooms.media/GENERAL" => Resp::json(
            200,
            json!({"file":{"_id":"Fs3","url":"/file-upload/Fs3/a.txt"},"success":true}),
        ),
        "/api/v1/rooms.mediaConfirm/GENERAL/Fs3" => {
            assert_eq!(r.json(), json!({"msg":"cap","tmid":"T1"}));
            Resp::json(200, json!({"message":{"_id":"M1"},"success":true}))
        }
        "/api/v1/groups.history" => {
            assert!(
                r.query.contains("oldest=2025-11-24T10%3A40%3A00.000Z"),
                "{}",
                r.query
            );
            assert!(r.query.contains("inclusive=true"), "{}", r.query);
            assert!(r.query.contains("showThreadMessages=true"), "{}", r.query);
            Resp::json(
                200,
                json!({"messages":[{"_id":"new"},{"_id":"old"}],"success":true}),
            )
        }
        _ => Resp::json(404, json!({})),
    })
    .await;
    let c = static_client(&srv.url);
    let o = UploadOptions {
        msg: Some("cap".into()),
        description: None,
        tmid: Some("T1".into()),
    };
    let m = c
        .upload_file(
            "GENERAL",
            "a.txt",
            "text/plain",
            UploadData::Bytes("hi".into()),
            &o,
        )
        .await
        .unwrap();
    assert_eq!(m["_id"], "M1");
    let h = c
        .history("p", "G1", Some("2025-11-24T10:40:00.000Z"), None, 0, 50)
        .await
        .unwrap();
    assert_eq!(h[0]["_id"], "old");
    assert!(matches!(
        c.history("l", "x", None, None, 0, 1).await,
        Err(RestError::Invalid(_))
    ));
}

#[tokio::test]
async fn network_errors_are_typed_and_do_not_leak() {
    // a port nothing listens on
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    let c = static_client(&url);
    let err = c.get_message("x").await.unwrap_err();
    assert!(matches!(err, RestError::Network { .. }), "{err:?}");
    assert!(err.is_transient());
    assert!(!format!("{err} {err:?}").contains(TOKEN));
}

#[tokio::test]
async fn server_info_is_outside_v1_and_unauthenticated() {
    let srv = TestServer::start(|_| Resp::json(200, json!({"version":"8.3","success":true}))).await;
    let c = static_client(&format!("{}/api", srv.url));
    assert_eq!(c.server_info().await.unwrap().version, "8.3");
    let r = &srv.requests()[0];
    assert_eq!(r.path, "/api/info");
    assert!(r.header("x-auth-token").is_none());
}

#[tokio::test]
async fn token_source_errors_surface_as_auth() {
    struct Never;
    impl TokenSource for Never {
        fn current(&self) -> crate::auth::BoxFuture<'_, Result<crate::auth::AuthToken, AuthError>> {
            Box::pin(async { Err(AuthError::Transient("down".into())) })
        }
        fn invalidate<'a>(
            &'a self,
            _: &'a crate::auth::AuthToken,
        ) -> crate::auth::BoxFuture<'a, ()> {
            Box::pin(async {})
        }
    }
    let c = RestClient::new("http://127.0.0.1:9", tls(), Arc::new(Never), opts()).unwrap();
    assert!(matches!(
        c.me().await,
        Err(RestError::Auth(AuthError::Transient(_)))
    ));
}

#[tokio::test]
async fn redirects_to_other_origins_are_not_followed() {
    let foreign = TestServer::start(|_| Resp::json(200, json!({"leak":true}))).await;
    let target = format!("{}/steal", foreign.url);
    let srv = TestServer::start(move |r: &Req| match r.path.as_str() {
        "/file-upload/F1/a.txt" => Resp::json(302, json!({})).header("location", &target),
        "/file-upload/F2/a.txt" => {
            Resp::json(302, json!({})).header("location", "/file-upload/F3/b.txt")
        }
        _ => Resp::json(200, json!({"ok":true})),
    })
    .await;
    let c = static_client(&srv.url);
    let err = c.download("/file-upload/F1/a.txt", 1000).await.unwrap_err();
    assert_eq!(err.status(), Some(302), "{err:?}");
    assert!(
        foreign.requests().is_empty(),
        "credentials must not follow a redirect"
    );
    // same-origin redirects are followed, with credentials
    let d = c.download("/file-upload/F2/a.txt", 1000).await.unwrap();
    assert_eq!(d.file_name, "b.txt");
    assert_eq!(
        srv.hits("/file-upload/F3/b.txt")[0].header("x-auth-token"),
        Some(TOKEN)
    );
}

#[tokio::test]
async fn mark_read_posts_the_room_id_and_read_threads_only_when_given() {
    let srv = TestServer::start(|_| Resp::json(200, json!({"success": true}))).await;
    let c = static_client(&format!("{}/api/v1/", srv.url));
    c.mark_read("GENERAL", None).await.unwrap();
    c.mark_read("GENERAL", Some(true)).await.unwrap();
    c.mark_read("GENERAL", Some(false)).await.unwrap();
    let hits = srv.hits("/api/v1/subscriptions.read");
    assert_eq!(hits.len(), 3);
    assert!(hits.iter().all(|r| r.method == "POST"));
    assert_eq!(hits[0].json(), json!({"rid": "GENERAL"}));
    assert_eq!(
        hits[1].json(),
        json!({"rid": "GENERAL", "readThreads": true})
    );
    assert_eq!(
        hits[2].json(),
        json!({"rid": "GENERAL", "readThreads": false})
    );
}
