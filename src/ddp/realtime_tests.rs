use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::subscribe::private_room_inserted;
use super::*;
use crate::auth::{AuthError, AuthToken, BoxFuture, TokenSource};
use crate::ddp::testing::{Peer, ScriptServer};

const BOT: &str = "Bq7dYg4KxWnZcT3rA";

/// Hands out tokens from a script; `invalidate` forgets the current one.
struct ScriptedTokens {
    next: Mutex<VecDeque<Result<&'static str, AuthError>>>,
    current: Mutex<Option<AuthToken>>,
    invalidated: AtomicUsize,
}

impl ScriptedTokens {
    fn new(script: Vec<Result<&'static str, AuthError>>) -> Arc<Self> {
        Arc::new(ScriptedTokens {
            next: Mutex::new(script.into()),
            current: Mutex::new(None),
            invalidated: AtomicUsize::new(0),
        })
    }
}

impl TokenSource for ScriptedTokens {
    fn current(&self) -> BoxFuture<'_, Result<AuthToken, AuthError>> {
        Box::pin(async move {
            let mut current = self.current.lock().unwrap();
            if let Some(t) = current.as_ref() {
                return Ok(t.clone());
            }
            let next = self
                .next
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or(Err(AuthError::Rejected("no more tokens".into())))?;
            let token = AuthToken {
                user_id: BOT.into(),
                token: next.into(),
            };
            *current = Some(token.clone());
            Ok(token)
        })
    }

    fn invalidate<'a>(&'a self, _token: &'a AuthToken) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            self.invalidated.fetch_add(1, Ordering::SeqCst);
            *self.current.lock().unwrap() = None;
        })
    }
}

/// A small Rocket.Chat: resume login against `accept`, every sub ready, pings answered.
#[derive(Default)]
struct FakeRc {
    accept: Vec<&'static str>,
    /// Connections (by index) that go silent once their base subscriptions are ready.
    silent: Vec<usize>,
    logins: Mutex<Vec<String>>,
    subs: Mutex<Vec<(usize, String)>>,
    methods: Mutex<Vec<Value>>,
}

async fn serve(rc: Arc<FakeRc>, mut peer: Peer, index: usize) {
    peer.handshake(index == 0).await;
    while let Some(frame) = peer.recv_non_ping().await {
        let id = frame["id"].clone();
        match frame["msg"].as_str() {
            Some("method") if frame["method"] == "login" => {
                let token = frame["params"][0]["resume"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned();
                rc.logins.lock().unwrap().push(token.clone());
                if rc.accept.contains(&token.as_str()) {
                    peer.send(
                        json!({"msg":"result","id":id,"result":{"id":BOT,"token":token,
                        "tokenExpires":{"$date":1771756800000_i64},"type":"resume"}}),
                    )
                    .await;
                } else {
                    peer.send(
                        json!({"msg":"result","id":id,"error":{"isClientSafe":true,"error":403,
                        "reason":"You've been logged out by the server. Please log in again.",
                        "errorType":"Meteor.Error"}}),
                    )
                    .await;
                }
                peer.send(json!({"msg":"updated","methods":[id]})).await;
            }
            Some("method") => {
                rc.methods.lock().unwrap().push(frame.clone());
                peer.send(json!({"msg":"result","id":id})).await;
            }
            Some("sub") => {
                let event = frame["params"][0].as_str().unwrap_or("").to_owned();
                assert_eq!(frame["params"][1], json!({"useCollection":false,"args":[]}));
                rc.subs.lock().unwrap().push((index, event.clone()));
                peer.send(json!({"msg":"ready","subs":[id]})).await;
                if event.ends_with("/subscriptions-changed") {
                    if rc.silent.contains(&index) {
                        // Half-open from here on: read, never answer.
                        peer.drain_until_closed(Duration::from_secs(10)).await;
                        return;
                    }
                    if index == 0 {
                        peer.send(json!({"msg":"changed","collection":"stream-room-messages","id":"id",
                            "fields":{"eventName":"__my_messages__","args":[{"_id":"m1","rid":"GENERAL","msg":"hi"},
                            {"roomParticipant":true,"roomType":"c","roomName":"general"}]}}))
                        .await;
                        peer.send(
                            json!({"msg":"changed","collection":"stream-notify-user","id":"id",
                            "fields":{"eventName":format!("{BOT}/subscriptions-changed"),
                            "args":["inserted",{"_id":"S1","rid":"pNEWGROUP","t":"p"}]}}),
                        )
                        .await;
                    }
                }
            }
            _ => {}
        }
    }
}

async fn fake_rc(rc: FakeRc) -> (Arc<FakeRc>, ScriptServer) {
    let rc = Arc::new(rc);
    let shared = Arc::clone(&rc);
    let server =
        ScriptServer::start(move |peer, index| serve(Arc::clone(&shared), peer, index)).await;
    (rc, server)
}

fn config(url: &str, tokens: Arc<ScriptedTokens>) -> RealtimeConfig {
    RealtimeConfig {
        ping_interval: Duration::from_millis(100),
        idle_timeout: Duration::from_millis(400),
        call_timeout: Duration::from_secs(3),
        backoff: Backoff {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(200),
            ..Backoff::default()
        },
        auth_failure_delay: Duration::from_secs(30),
        extra_room_ids: vec!["DMROOM".into()],
        ..RealtimeConfig::new(url, tokens)
    }
}

async fn next_matching(
    rx: &mut mpsc::Receiver<RealtimeEvent>,
    mut pred: impl FnMut(&RealtimeEvent) -> bool,
) -> RealtimeEvent {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let event = rx.recv().await.expect("events open");
            if pred(&event) {
                return event;
            }
        }
    })
    .await
    .expect("expected event in time")
}

fn subs_of(rc: &FakeRc, index: usize) -> Vec<String> {
    let mut subs: Vec<String> = rc
        .subs
        .lock()
        .unwrap()
        .iter()
        .filter(|(i, _)| *i == index)
        .map(|(_, e)| e.clone())
        .collect();
    subs.sort();
    subs
}

#[tokio::test]
async fn logs_in_subscribes_forwards_and_reconnects_after_a_half_open_socket() {
    let (rc, server) = fake_rc(FakeRc {
        accept: vec!["good"],
        silent: vec![1],
        ..FakeRc::default()
    })
    .await;
    let tokens = ScriptedTokens::new(vec![Ok("good")]);
    let (tx, mut rx) = mpsc::channel(64);
    let handle = Realtime::spawn(config(&server.url, tokens), tx);

    assert_eq!(
        rx.recv().await,
        Some(RealtimeEvent::Connecting { attempt: 1 })
    );
    assert_eq!(rx.recv().await, Some(RealtimeEvent::Connected));
    assert_eq!(
        next_matching(&mut rx, |e| matches!(
            e,
            RealtimeEvent::Authenticated { .. }
        ))
        .await,
        RealtimeEvent::Authenticated {
            user_id: BOT.into(),
            resumed_after_gap: false,
            last_frame_at_ms: None
        }
    );
    let message = next_matching(&mut rx, |e| matches!(e, RealtimeEvent::RoomMessage { .. })).await;
    let RealtimeEvent::RoomMessage { message, meta, via } = message else {
        unreachable!()
    };
    assert_eq!(
        (message.to_value()["_id"].as_str(), via),
        (Some("m1"), Via::MyMessages)
    );
    assert_eq!(meta.map(|m| m.room_participant), Some(true));
    next_matching(&mut rx, |e| {
        matches!(e, RealtimeEvent::SubscriptionsChanged { .. })
    })
    .await;

    // Methods go over the live connection; typing uses the user-activity form.
    handle
        .set_typing("GENERAL", "mybot", true, Some("T1"))
        .await
        .expect("typing");
    assert_eq!(
        rc.methods.lock().unwrap()[0]["params"],
        json!(["GENERAL/user-activity", "mybot", ["user-typing"], {"tmid": "T1"}])
    );
    handle.watch_room("pLATER");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        subs_of(&rc, 0),
        vec![
            format!("{BOT}/rooms-changed"),
            format!("{BOT}/subscriptions-changed"),
            "DMROOM".to_owned(),
            "__my_messages__".to_owned(),
            "pLATER".to_owned(),
            "pNEWGROUP".to_owned(),
        ]
    );

    // Connection 0 is dropped; connection 1 goes half-open and the watchdog must end it;
    // connection 2 resubscribes everything.
    let before = server.connections.load(Ordering::SeqCst);
    assert_eq!(before, 1);
    handle.call("closeMe", vec![]).await.expect("call");
    // Kill connection 0 from our side to simulate a dropped socket.
    lock(&handle.live).as_ref().expect("live").close();
    let gap = next_matching(&mut rx, |e| matches!(e, RealtimeEvent::Disconnected { .. })).await;
    let RealtimeEvent::Disconnected { retry_in_ms, .. } = gap else {
        unreachable!()
    };
    assert!(retry_in_ms <= 200);
    // Connection 1 goes half-open in the middle of subscribing: the watchdog ends it.
    let silent_end =
        next_matching(&mut rx, |e| matches!(e, RealtimeEvent::Disconnected { .. })).await;
    assert!(
        format!("{silent_end:?}").contains("nothing received"),
        "{silent_end:?}"
    );
    let again = next_matching(&mut rx, |e| {
        matches!(e, RealtimeEvent::Authenticated { .. })
    })
    .await;
    let RealtimeEvent::Authenticated {
        resumed_after_gap,
        last_frame_at_ms,
        ..
    } = again
    else {
        unreachable!()
    };
    assert!(resumed_after_gap);
    assert!(last_frame_at_ms.is_some());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(subs_of(&rc, 2), subs_of(&rc, 0), "everything resubscribed");
    assert!(handle.is_connected());
    handle.shutdown().await;
}

#[tokio::test]
async fn rejected_resume_token_is_invalidated_and_a_fresh_one_used() {
    let (rc, server) = fake_rc(FakeRc {
        accept: vec!["fresh"],
        ..FakeRc::default()
    })
    .await;
    let tokens = ScriptedTokens::new(vec![Ok("stale"), Ok("fresh")]);
    let (tx, mut rx) = mpsc::channel(64);
    let handle = Realtime::spawn(config(&server.url, Arc::clone(&tokens)), tx);
    next_matching(&mut rx, |e| {
        matches!(e, RealtimeEvent::Authenticated { .. })
    })
    .await;
    assert_eq!(
        *rc.logins.lock().unwrap(),
        vec!["stale".to_owned(), "fresh".to_owned()]
    );
    assert_eq!(tokens.invalidated.load(Ordering::SeqCst), 1);
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
    handle.shutdown().await;
}

#[tokio::test]
async fn rejected_credentials_report_auth_failed_without_a_tight_loop() {
    let (rc, server) = fake_rc(FakeRc {
        accept: vec![],
        ..FakeRc::default()
    })
    .await;
    let tokens = ScriptedTokens::new(vec![
        Ok("revoked"),
        Err(AuthError::Rejected("token revoked".into())),
    ]);
    let (tx, mut rx) = mpsc::channel(64);
    let handle = Realtime::spawn(config(&server.url, Arc::clone(&tokens)), tx);
    let failed = next_matching(&mut rx, |e| matches!(e, RealtimeEvent::AuthFailed { .. })).await;
    assert_eq!(
        failed,
        RealtimeEvent::AuthFailed {
            reason: "token revoked".into(),
            retry_in_ms: 30_000
        }
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        server.connections.load(Ordering::SeqCst),
        1,
        "no reconnect loop"
    );
    assert_eq!(rc.logins.lock().unwrap().len(), 1);
    assert!(!handle.is_connected());
    assert_eq!(handle.call("x", vec![]).await, Err(CallError::NotConnected));
    // Shutdown interrupts the long wait.
    tokio::time::timeout(Duration::from_secs(2), handle.shutdown())
        .await
        .expect("prompt shutdown");
}

#[tokio::test]
async fn unreachable_server_backs_off_and_shutdown_stops_it() {
    // A port with nothing listening: bind, read the port, close.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let tokens = ScriptedTokens::new(vec![Ok("good")]);
    let (tx, mut rx) = mpsc::channel(64);
    let handle = Realtime::spawn(
        config(&format!("ws://127.0.0.1:{port}/websocket"), tokens),
        tx,
    );
    let mut delays = Vec::new();
    while delays.len() < 4 {
        if let RealtimeEvent::Disconnected { retry_in_ms, .. } =
            next_matching(&mut rx, |e| matches!(e, RealtimeEvent::Disconnected { .. })).await
        {
            delays.push(retry_in_ms);
        }
    }
    assert!(delays.iter().all(|d| *d <= 200), "{delays:?}");
    assert!(
        delays[3] >= 140,
        "grew to the cap (minus jitter): {delays:?}"
    );
    handle.shutdown().await;
}

#[test]
fn backoff_grows_is_capped_and_jitter_stays_in_bounds() {
    let b = Backoff::default();
    let secs = |d: Duration| d.as_secs_f64();
    assert_eq!(b.delay(0, 0.0), Duration::from_secs(1));
    assert_eq!(b.delay(1, 0.0), Duration::from_secs(2));
    assert_eq!(b.delay(5, 0.0), Duration::from_secs(32));
    assert_eq!(b.delay(6, 0.0), Duration::from_secs(60));
    assert_eq!(b.delay(1000, 0.0), Duration::from_secs(60));
    assert!((secs(b.delay(0, -1.0)) - 0.7).abs() < 1e-9);
    assert!((secs(b.delay(0, 1.0)) - 1.3).abs() < 1e-9);
    assert!((secs(b.delay(6, -1.0)) - 42.0).abs() < 1e-9);
    assert_eq!(
        b.delay(6, 1.0),
        Duration::from_secs(60),
        "never above the cap"
    );
    for failures in 0..12 {
        let base = secs(b.delay(failures, 0.0));
        for _ in 0..200 {
            let d = secs(b.next_delay(failures));
            assert!(
                d >= base * 0.7 - 1e-9 && d <= (base * 1.3).min(60.0) + 1e-9,
                "{failures}: {d}"
            );
        }
    }
}

#[test]
fn only_inserted_private_rooms_are_watched() {
    assert_eq!(
        private_room_inserted("inserted", &json!({"_id": "R", "t": "p"}), "_id"),
        Some("R".into())
    );
    assert_eq!(
        private_room_inserted("inserted", &json!({"rid": "D", "t": "d"}), "rid"),
        Some("D".into())
    );
    assert_eq!(
        private_room_inserted("inserted", &json!({"_id": "C", "t": "c"}), "_id"),
        None
    );
    assert_eq!(
        private_room_inserted("updated", &json!({"_id": "P", "t": "p"}), "_id"),
        None
    );
}
