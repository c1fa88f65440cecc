use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::*;
use crate::ddp::stream::StreamEvent;
use crate::ddp::testing::{Peer, ScriptServer, STEP};

fn quick() -> ConnectionConfig {
    ConnectionConfig {
        ping_interval: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(30),
        connect_timeout: Duration::from_secs(5),
        max_buffered_events: 16,
    }
}

async fn open(
    server: &ScriptServer,
    config: ConnectionConfig,
) -> (Connection, mpsc::Receiver<StreamEvent>) {
    let (tx, rx) = mpsc::channel(8);
    let conn = Connection::connect(&server.url, None, config, tx)
        .await
        .expect("connects");
    (conn, rx)
}

fn room_message(id: &str) -> Value {
    json!({"msg":"changed","collection":"stream-room-messages","id":"id",
        "fields":{"eventName":"GENERAL","args":[{"_id": id, "rid":"GENERAL","msg":"hi"}]}})
}

#[tokio::test]
async fn handshake_tolerates_greeting_and_reports_session() {
    let server = ScriptServer::start(|mut peer: Peer, _| async move {
        peer.send(json!({"msg": "server_id", "server_id": "0"}))
            .await;
        peer.handshake(true).await;
        peer.drain_until_closed(STEP).await;
    })
    .await;
    let (conn, _rx) = open(&server, quick()).await;
    assert_eq!(conn.session(), "tN7Qx3cW9aEfMkR2p");
}

#[tokio::test]
async fn silent_handshake_gives_up_after_the_idle_timeout() {
    // The socket opens but `connect` is never answered (a half-open server).
    let server = ScriptServer::start(|mut peer: Peer, _| async move {
        peer.drain_until_closed(Duration::from_secs(10)).await;
    })
    .await;
    let (tx, _rx) = mpsc::channel(1);
    let config = ConnectionConfig {
        idle_timeout: Duration::from_millis(300),
        ..quick()
    };
    let started = std::time::Instant::now();
    let err = Connection::connect(&server.url, None, config, tx)
        .await
        .expect_err("no handshake");
    assert!(matches!(err, ConnectError::Timeout(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn failed_handshake_is_version_rejected() {
    let server = ScriptServer::start(|mut peer: Peer, _| async move {
        let _ = peer.recv().await;
        peer.send(json!({"msg": "failed", "version": "1"})).await;
    })
    .await;
    let (tx, _rx) = mpsc::channel(1);
    let err = Connection::connect(&server.url, None, quick(), tx)
        .await
        .expect_err("refused");
    assert_eq!(
        err,
        ConnectError::VersionRejected {
            server_version: Some("1".into())
        }
    );
}

#[tokio::test]
async fn calls_match_results_in_any_order_with_updated() {
    let server = ScriptServer::start(|mut peer: Peer, _| async move {
        peer.handshake(false).await;
        while let Some(frame) = peer.recv_non_ping().await {
            let id = frame["id"].clone();
            match frame["method"].as_str() {
                Some("resultFirst") => {
                    peer.send(json!({"msg":"result","id":id,"result":{"a":1}}))
                        .await;
                    peer.send(json!({"msg":"updated","methods":[id]})).await;
                }
                Some("updatedFirst") => {
                    peer.send(json!({"msg":"updated","methods":[id]})).await;
                    peer.send(json!({"msg":"result","id":id,"result":"ok"}))
                        .await;
                }
                Some("noResult") => peer.send(json!({"msg":"result","id":id})).await,
                Some("denied") => {
                    peer.send(
                        json!({"msg":"result","id":id,"error":{"isClientSafe":true,"error":403,
                        "reason":"You've been logged out by the server. Please log in again.",
                        "errorType":"Meteor.Error"}}),
                    )
                    .await
                }
                _ => {}
            }
        }
    })
    .await;
    let (conn, _rx) = open(&server, quick()).await;
    assert_eq!(
        conn.call("resultFirst", vec![], STEP).await,
        Ok(Some(json!({"a": 1})))
    );
    assert_eq!(
        conn.call("updatedFirst", vec![], STEP).await,
        Ok(Some(json!("ok")))
    );
    assert_eq!(conn.call("noResult", vec![json!(1)], STEP).await, Ok(None));
    match conn.call("denied", vec![], STEP).await {
        Err(CallError::Server(e)) => assert!(e.is_code(403)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        conn.call("silence", vec![], Duration::from_millis(100))
            .await,
        Err(CallError::Timeout(Duration::from_millis(100)))
    );
}

#[tokio::test]
async fn subscriptions_wait_for_ready_or_nosub() {
    let server = ScriptServer::start(|mut peer: Peer, _| async move {
        peer.handshake(false).await;
        while let Some(frame) = peer.recv_non_ping().await {
            let id = frame["id"].clone();
            if frame["name"] == "stream-room-messages" {
                // `added` first, as with useCollection:true; it must be ignored.
                peer.send(
                    json!({"msg":"added","collection":"stream-room-messages","id":"id",
                    "fields":{"eventName":"__my_messages__"}}),
                )
                .await;
                peer.send(json!({"msg":"ready","subs":[id]})).await;
            } else {
                peer.send(json!({"msg":"nosub","id":id,"error":{"isClientSafe":true,
                    "error":"not-allowed","message":"[not-allowed]","errorType":"Meteor.Error"}}))
                    .await;
            }
        }
    })
    .await;
    let (conn, _rx) = open(&server, quick()).await;
    let id = conn
        .subscribe("stream-room-messages", vec![json!("__my_messages__")], STEP)
        .await
        .expect("ready");
    assert!(!id.is_empty());
    match conn.subscribe("stream-notify-room", vec![], STEP).await {
        Err(SubError::NoSub(Some(e))) => assert!(e.is_text_code("not-allowed")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn server_pings_are_answered_with_the_same_id() {
    let (done_tx, mut done_rx) = mpsc::channel(4);
    let server = ScriptServer::start(move |mut peer: Peer, _| {
        let done_tx = done_tx.clone();
        async move {
            peer.handshake(true).await;
            peer.send(json!({"msg":"ping","id":"srv-1"})).await;
            let _ = done_tx.send(peer.recv().await).await;
            peer.send(json!({"msg":"ping"})).await;
            let _ = done_tx.send(peer.recv().await).await;
            peer.drain_until_closed(STEP).await;
        }
    })
    .await;
    let (_conn, _rx) = open(&server, quick()).await;
    assert_eq!(
        done_rx.recv().await.flatten(),
        Some(json!({"msg":"pong","id":"srv-1"}))
    );
    assert_eq!(done_rx.recv().await.flatten(), Some(json!({"msg":"pong"})));
}

#[tokio::test]
async fn client_pings_on_its_interval() {
    let (done_tx, mut done_rx) = mpsc::channel(4);
    let server = ScriptServer::start(move |mut peer: Peer, _| {
        let done_tx = done_tx.clone();
        async move {
            peer.handshake(false).await;
            let ping = peer.recv().await;
            if let Some(id) = ping.as_ref().and_then(|p| p.get("id")) {
                peer.send(json!({"msg":"pong","id":id})).await;
            }
            let _ = done_tx.send(ping).await;
            peer.drain_until_closed(STEP).await;
        }
    })
    .await;
    let config = ConnectionConfig {
        ping_interval: Duration::from_millis(100),
        ..quick()
    };
    let (_conn, _rx) = open(&server, config).await;
    let ping = done_rx.recv().await.flatten().expect("a ping");
    assert_eq!(ping["msg"], "ping");
    assert!(ping["id"].is_string());
}

#[tokio::test]
async fn watchdog_closes_a_silent_socket() {
    let closed_seen = Arc::new(AtomicBool::new(false));
    let seen = Arc::clone(&closed_seen);
    let server = ScriptServer::start(move |mut peer: Peer, _| {
        let seen = Arc::clone(&seen);
        async move {
            peer.handshake(false).await;
            // Half-open: read everything (pings included) but never answer.
            if peer.drain_until_closed(Duration::from_secs(5)).await {
                seen.store(true, Ordering::SeqCst);
            }
        }
    })
    .await;
    let config = ConnectionConfig {
        ping_interval: Duration::from_millis(50),
        idle_timeout: Duration::from_millis(300),
        ..quick()
    };
    let (conn, _rx) = open(&server, config).await;
    let started = tokio::time::Instant::now();
    let reason = tokio::time::timeout(STEP, conn.closed())
        .await
        .expect("closed");
    assert_eq!(
        reason,
        DisconnectReason::IdleTimeout(Duration::from_millis(300))
    );
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert!(conn.is_closed());
    assert!(matches!(
        conn.call("x", vec![], STEP).await,
        Err(CallError::Disconnected(DisconnectReason::IdleTimeout(_)))
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        closed_seen.load(Ordering::SeqCst),
        "server did not see the socket close"
    );
}

#[tokio::test]
async fn malformed_frames_are_skipped_and_the_connection_survives() {
    let server = ScriptServer::start(|mut peer: Peer, _| async move {
        peer.handshake(false).await;
        for bad in [
            "{not json",
            "[1,2,3]",
            "\"just a string\"",
            r#"{"msg":"result","id":5,"result":1}"#,
            r#"{"msg":"ready","subs":"2"}"#,
            r#"{"msg":"changed","collection":"stream-room-messages","id":"id","fields":{"eventName":"R","args":["no object"]}}"#,
            r#"{"msg":"brand-new-kind"}"#,
            r#"{"msg":"error","reason":"Bad request","offendingMessage":{"msg":"bogus"}}"#,
        ] {
            peer.send_text(bad).await;
        }
        while let Some(frame) = peer.recv_non_ping().await {
            let id = frame["id"].clone();
            if frame["method"] == "broken" {
                peer.send(json!({"msg":"result","id":id,"error":"not an object"})).await;
            } else {
                peer.send(json!({"msg":"result","id":id,"result":true})).await;
            }
        }
    })
    .await;
    let (conn, _rx) = open(&server, quick()).await;
    assert_eq!(conn.call("fine", vec![], STEP).await, Ok(Some(json!(true))));
    // A result we cannot parse still fails its own call at once, not after the timeout.
    assert!(matches!(
        conn.call("broken", vec![], STEP).await,
        Err(CallError::Protocol(_))
    ));
    assert_eq!(conn.call("fine", vec![], STEP).await, Ok(Some(json!(true))));
    // Six bad frames up front plus the unparsable result.
    assert_eq!(conn.stats().malformed_frames, 7);
    assert!(!conn.is_closed());
}

#[tokio::test]
async fn stream_events_are_delivered_in_order_with_backpressure() {
    let (pong_tx, mut pong_rx) = mpsc::channel(1);
    let server = ScriptServer::start(move |mut peer: Peer, _| {
        let pong_tx = pong_tx.clone();
        async move {
            peer.handshake(false).await;
            for i in 0..3 {
                peer.send(room_message(&format!("m{i}"))).await;
            }
            // The consumer is not reading yet; the ping must still be answered.
            peer.send(json!({"msg":"ping","id":"while-busy"})).await;
            let _ = pong_tx.send(peer.recv().await).await;
            for i in 3..40 {
                peer.send(room_message(&format!("m{i}"))).await;
            }
            peer.drain_until_closed(STEP).await;
        }
    })
    .await;
    let (tx, mut rx) = mpsc::channel(1);
    let config = ConnectionConfig {
        max_buffered_events: 4,
        ..quick()
    };
    let conn = Connection::connect(&server.url, None, config, tx)
        .await
        .expect("connects");
    assert_eq!(
        pong_rx.recv().await.flatten(),
        Some(json!({"msg":"pong","id":"while-busy"}))
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    for i in 0..40 {
        let event = tokio::time::timeout(STEP, rx.recv())
            .await
            .expect("event")
            .expect("open");
        let StreamEvent::RoomMessage { message, .. } = event else {
            panic!("{event:?}")
        };
        assert_eq!(message.to_value()["_id"], format!("m{i}"));
    }
    assert!(conn.stats().event_stalls >= 1, "{:?}", conn.stats());
    assert_eq!(conn.stats().malformed_frames, 0);
}

#[tokio::test]
async fn close_fails_pending_calls() {
    let server = ScriptServer::start(|mut peer: Peer, _| async move {
        peer.handshake(false).await;
        peer.drain_until_closed(STEP).await;
    })
    .await;
    let (conn, _rx) = open(&server, quick()).await;
    let caller = conn.clone();
    let call = tokio::spawn(async move { caller.call("never", vec![], STEP).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    conn.close();
    assert_eq!(
        call.await.expect("joined"),
        Err(CallError::Disconnected(DisconnectReason::ClosedByUs))
    );
    assert_eq!(conn.closed().await, DisconnectReason::ClosedByUs);
}

/// Collects what the `tracing` macros write (on this thread only).
#[derive(Clone, Default)]
struct LogSink(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// A current-thread runtime, so the connection's tasks log to this thread's subscriber.
#[tokio::test(flavor = "current_thread")]
async fn an_error_frame_is_logged_without_the_offending_message() {
    let sink = LogSink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = ScriptServer::start(|mut peer: Peer, _| async move {
        peer.handshake(false).await;
        peer.send(
            json!({"msg": "error", "reason": "Bad request", "offendingMessage":
            {"msg": "method", "method": "login", "id": "9",
             "params": [{"resume": "resume-token-0123456789-secret"}]}}),
        )
        .await;
        while let Some(frame) = peer.recv_non_ping().await {
            let id = frame["id"].clone();
            peer.send(json!({"msg":"result","id":id,"result":true}))
                .await;
        }
    })
    .await;
    let (conn, _rx) = open(&server, quick()).await;
    // the result comes after the error frame on the socket, so the frame has been read
    assert_eq!(conn.call("fine", vec![], STEP).await, Ok(Some(json!(true))));
    let logs = String::from_utf8_lossy(&sink.0.lock().unwrap()).into_owned();
    assert!(logs.contains("ddp error frame from server"), "{logs}");
    assert!(logs.contains("method login (id 9)"), "{logs}");
    assert!(!logs.contains("resume-token-0123456789"), "{logs}");
}

fn message_id(event: StreamEvent) -> Option<String> {
    match event {
        StreamEvent::RoomMessage { message, .. } => {
            message.to_value()["_id"].as_str().map(str::to_owned)
        }
        _ => None,
    }
}

#[tokio::test]
async fn a_held_route_keeps_events_until_released_while_calls_go_on() {
    let server = ScriptServer::start(|mut peer: Peer, _| async move {
        peer.handshake(false).await;
        for i in 0..3 {
            peer.send(room_message(&format!("m{i}"))).await;
        }
        while let Some(frame) = peer.recv_non_ping().await {
            let id = frame["id"].clone();
            peer.send(json!({"msg":"result","id":id,"result":true}))
                .await;
            peer.send(room_message("after-call")).await;
        }
    })
    .await;
    let (tx, mut rx) = mpsc::channel(8);
    let route = EventRoute {
        tx,
        map: Box::new(message_id),
        held: true,
    };
    let conn = Connection::connect_routed(&server.url, None, quick(), route)
        .await
        .expect("connects");
    // The frames before the result were read, but their events stay in the connection.
    assert_eq!(
        conn.call("login", vec![], STEP).await,
        Ok(Some(json!(true)))
    );
    assert!(rx.try_recv().is_err(), "nothing handed on while held");
    conn.release_events();
    for want in ["m0", "m1", "m2", "after-call"] {
        let got = tokio::time::timeout(STEP, rx.recv()).await.expect("event");
        assert_eq!(got.as_deref(), Some(want));
    }
}

#[tokio::test]
async fn events_still_held_when_the_connection_ends_are_not_handed_on() {
    let server = ScriptServer::start(|mut peer: Peer, _| async move {
        peer.handshake(false).await;
        peer.send(room_message("m0")).await;
        // and the server goes away
    })
    .await;
    let (tx, mut rx) = mpsc::channel(8);
    let route = EventRoute {
        tx,
        map: Box::new(message_id),
        held: true,
    };
    let conn = Connection::connect_routed(&server.url, None, quick(), route)
        .await
        .expect("connects");
    let reason = tokio::time::timeout(STEP, conn.closed())
        .await
        .expect("ends");
    assert_ne!(reason, DisconnectReason::ClosedByUs);
    // The channel closes with the reader, empty: its session never started.
    assert_eq!(
        tokio::time::timeout(STEP, rx.recv()).await.expect("closed"),
        None
    );
}
