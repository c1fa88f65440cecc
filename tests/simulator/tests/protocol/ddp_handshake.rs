//! DDP handshake, connection-level error frames and heartbeats.

use crate::ddp_support;

use std::time::Duration;

use ddp_support::*;
use rocketchat_sim::{Profile, SimConfig};
use serde_json::json;

#[tokio::test]
async fn greeting_follows_the_profile_and_the_override() {
    let s6 = sim(Profile::V6).await;
    let mut c = Client::open(&s6).await;
    assert_eq!(c.recv().await, json!({"server_id": "0"}));

    let s8 = sim(Profile::V8).await;
    let mut c = Client::open(&s8).await;
    c.expect_quiet().await;

    let forced = sim_with(SimConfig {
        greeting: Some(true),
        ..Default::default()
    })
    .await;
    let mut c = Client::open(&forced).await;
    assert_eq!(c.recv().await, json!({"server_id": "0"}));
}

#[tokio::test]
async fn versions_1_pre2_pre1_connect_and_others_fail_and_close() {
    let s = sim(Profile::V8).await;
    for (version, support) in [
        ("1", json!(["1", "pre2", "pre1"])),
        ("pre2", json!(["pre2"])),
        ("pre1", json!(["pre1"])),
    ] {
        let mut c = Client::open(&s).await;
        c.send(json!({"msg": "connect", "version": version, "support": support}))
            .await;
        let f = c.recv().await;
        assert_eq!(f["msg"], "connected");
        assert_eq!(f["session"].as_str().unwrap().len(), 17);
    }
    for (frame, best) in [
        (
            json!({"msg": "connect", "version": "2", "support": ["2"]}),
            "1",
        ),
        // The proposal must be the first supported entry of the client's list.
        (
            json!({"msg": "connect", "version": "pre1", "support": ["1", "pre1"]}),
            "1",
        ),
        (
            json!({"msg": "connect", "version": "pre1", "support": ["pre2", "pre1"]}),
            "pre2",
        ),
        (json!({"msg": "connect", "version": "1"}), "1"),
        (
            json!({"msg": "connect", "version": 1, "support": ["1"]}),
            "1",
        ),
    ] {
        let mut c = Client::open(&s).await;
        c.send(frame).await;
        assert_eq!(c.recv().await, json!({"msg": "failed", "version": best}));
        assert!(matches!(c.next_within(WAIT).await, Seen::Closed(_)));
    }
}

#[tokio::test]
async fn connection_errors_keep_the_socket_open() {
    let s = sim(Profile::V8).await;
    let mut c = Client::open(&s).await;
    let early = json!({"msg": "method", "method": "login", "id": "1", "params": []});
    c.send(early.clone()).await;
    assert_eq!(
        c.recv().await,
        json!({"msg": "error", "reason": "Must connect first", "offendingMessage": early})
    );
    c.send_text("not json").await;
    assert_eq!(
        c.recv().await,
        json!({"msg": "error", "reason": "Parse error"})
    );
    let connect = json!({"msg": "connect", "version": "1", "support": ["1"]});
    c.send(connect.clone()).await;
    assert_eq!(c.recv().await["msg"], "connected");
    c.send(connect.clone()).await;
    assert_eq!(
        c.recv().await,
        json!({"msg": "error", "reason": "Already connected", "offendingMessage": connect})
    );
    for (frame, reason) in [
        (json!({"msg": "bogus"}), "Bad request"),
        (json!({"id": "x"}), "Bad request"),
        (
            json!({"msg": "method", "method": "login", "id": 5}),
            "Malformed method invocation",
        ),
        (
            json!({"msg": "method", "method": "login", "id": "5", "params": {}}),
            "Malformed method invocation",
        ),
        (
            json!({"msg": "sub", "id": "s", "name": 3}),
            "Malformed subscription",
        ),
    ] {
        c.send(frame.clone()).await;
        assert_eq!(
            c.recv().await,
            json!({"msg": "error", "reason": reason, "offendingMessage": frame})
        );
    }
    // Still usable.
    c.send(json!({"msg": "ping", "id": "p1"})).await;
    assert_eq!(c.recv().await, json!({"msg": "pong", "id": "p1"}));
    c.send(json!({"msg": "ping"})).await;
    assert_eq!(c.recv().await, json!({"msg": "pong"}));
    c.send(json!({"msg": "pong"})).await;
    c.expect_quiet().await;
}

#[test]
fn default_heartbeat_is_meteors_15_s_ping_and_15_s_timeout() {
    // The conformance heartbeat scenarios run with `--heartbeat 2`; the default is pinned here.
    let cfg = SimConfig::default();
    assert_eq!(cfg.heartbeat_interval, Duration::from_secs(15));
    assert_eq!(cfg.heartbeat_timeout, Duration::from_secs(15));
}

fn fast_heartbeat() -> SimConfig {
    SimConfig {
        heartbeat_interval: Duration::from_millis(200),
        heartbeat_timeout: Duration::from_millis(200),
        ..Default::default()
    }
}

#[tokio::test]
async fn server_pings_after_silence_and_closes_when_unanswered() {
    let s = sim_with(fast_heartbeat()).await;
    let mut c = Client::connect(&s).await;
    let t0 = std::time::Instant::now();
    assert_eq!(c.recv().await, json!({"msg": "ping"}));
    assert!(t0.elapsed() >= Duration::from_millis(150));
    assert!(matches!(c.next_within(WAIT).await, Seen::Closed(_)));
    assert!(t0.elapsed() >= Duration::from_millis(350));
}

#[tokio::test]
async fn answering_pings_keeps_the_connection() {
    let s = sim_with(fast_heartbeat()).await;
    let mut c = Client::connect(&s).await;
    for _ in 0..4 {
        assert_eq!(c.recv().await, json!({"msg": "ping"}));
        c.send(json!({"msg": "pong"})).await;
    }
    let r = c.call("public-settings/get", json!([])).await;
    assert!(r["result"].is_array());
}

#[tokio::test]
async fn pre1_has_no_heartbeat_and_ping_is_not_special() {
    let s = sim_with(fast_heartbeat()).await;
    let mut c = Client::open(&s).await;
    c.send(json!({"msg": "connect", "version": "pre1", "support": ["pre1"]}))
        .await;
    assert_eq!(c.recv().await["msg"], "connected");
    assert_eq!(
        c.next_within(Duration::from_millis(700)).await,
        Seen::Nothing
    );
    c.send(json!({"msg": "ping", "id": "x"})).await;
    assert_eq!(c.recv().await["reason"], "Bad request");
}
