//! Faults on DDP sockets: drop, half-open, malformed frames.

use crate::ddp_support;

use std::time::Duration;

use ddp_support::*;
use rocketchat_sim::{Fault, Profile, SimConfig};
use serde_json::json;

#[tokio::test]
async fn drop_sockets_closes_every_socket_and_new_ones_work() {
    let s = sim(Profile::V8).await;
    let mut a = Client::logged_in(&s, BOT_TOKEN).await;
    let mut b = Client::open(&s).await;
    s.faults().drop_sockets();
    assert!(matches!(a.next_within(WAIT).await, Seen::Closed(_)));
    assert!(matches!(b.next_within(WAIT).await, Seen::Closed(_)));
    let mut c = Client::logged_in(&s, BOT_TOKEN).await;
    assert!(c.call("rooms/get", json!([])).await["result"].is_array());
}

#[tokio::test]
async fn malformed_frame_is_sent_raw_on_every_socket() {
    let s = sim(Profile::V8).await;
    let mut a = Client::connect(&s).await;
    let mut b = Client::logged_in(&s, BOT_TOKEN).await;
    assert!(s.faults().inject(Fault::MalformedFrame {
        text: "{not json".into()
    }));
    assert_eq!(a.next_within(WAIT).await, Seen::Raw("{not json".into()));
    assert_eq!(b.next_within(WAIT).await, Seen::Raw("{not json".into()));
    // The connection carries on.
    assert!(b.call("rooms/get", json!([])).await["result"].is_array());
}

#[tokio::test]
async fn half_open_goes_silent_without_closing_then_resets_the_connection() {
    let s = sim_with(SimConfig {
        heartbeat_interval: Duration::from_millis(150),
        heartbeat_timeout: Duration::from_millis(150),
        ..Default::default()
    })
    .await;
    let mut c = Client::logged_in(&s, BOT_TOKEN).await;
    c.stream("room", "stream-room-messages", "GENERAL").await;
    s.faults().inject(Fault::HalfOpen { on: true });
    c.send(json!({"msg": "ping", "id": "p"})).await;
    c.send(json!({"msg": "method", "method": "rooms/get", "id": "x", "params": []}))
        .await;
    s.post("alice", "GENERAL", "unseen").unwrap();
    // Well past ping + timeout: no frame and no close.
    assert_eq!(
        c.next_within(Duration::from_millis(800)).await,
        Seen::Nothing
    );
    let mut fresh = Client::open(&s).await;
    fresh
        .send(json!({"msg": "connect", "version": "1", "support": ["1"]}))
        .await;
    assert_eq!(
        fresh.next_within(Duration::from_millis(300)).await,
        Seen::Nothing
    );

    s.faults().inject(Fault::HalfOpen { on: false });
    // The dead link does not come back to life: the connection is reset, so the client
    // reconnects and catches up instead of going on as if nothing was lost.
    assert!(matches!(c.next_within(WAIT).await, Seen::Closed(_)));
    // A connection opened during the window was on the dead link too.
    assert!(matches!(fresh.next_within(WAIT).await, Seen::Closed(_)));
    let mut after = Client::logged_in(&s, BOT_TOKEN).await;
    after.send(json!({"msg": "ping", "id": "back"})).await;
    assert_eq!(
        after.recv_where(|f| f["msg"] == "pong").await,
        json!({"msg": "pong", "id": "back"})
    );
}
