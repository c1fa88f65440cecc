//! `POST /_sim/restart` (a server restart with messages stored while down) and `GET /_sim/stats`.

use std::time::Duration;

use crate::ddp_support::{Client, Seen, BOT_TOKEN, DM, WAIT};
use crate::rest_support::start;
use rocketchat_sim::Profile;
use serde_json::json;

#[tokio::test]
async fn restart_closes_sockets_refuses_while_down_and_keeps_what_was_posted() {
    let s = start(Profile::V8).await;
    let mut c = Client::logged_in(&s.sim, BOT_TOKEN).await;
    let r = s
        .post(
            "/_sim/restart",
            None,
            &json!({"downMs": 3000, "posts": [{"user": "alice", "rid": DM, "msg": "while down"}]}),
        )
        .await;
    assert_eq!((r.status, r.body["posts"].clone()), (200, json!(1)));
    assert!(matches!(c.next_within(WAIT).await, Seen::Closed(_)));
    // The port is closed: a new connection is refused, not answered.
    // (Down for 3 s: far longer than this check takes on a loaded machine.)
    let closing = std::time::Instant::now() + Duration::from_secs(2);
    while tokio::net::TcpStream::connect(s.sim.addr()).await.is_ok() {
        assert!(std::time::Instant::now() < closing, "the port stayed open");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Then it serves again: wait for the port, not for a fixed time.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(s.sim.addr()).await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the simulator did not come back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut again = Client::logged_in(&s.sim, BOT_TOKEN).await;
    assert!(again.call("rooms/get", json!([])).await["result"].is_array());
    let texts: Vec<_> = s
        .sim
        .messages_in(DM)
        .iter()
        .map(|m| m["msg"].clone())
        .collect();
    assert!(texts.contains(&json!("while down")), "{texts:?}");
    let stats = s.get("/_sim/stats", None).await.body;
    assert_eq!(stats["restarts"], 1);
    assert_eq!(stats["logins"], 2);
    assert_eq!(stats["loginsRefused"], 0);
}

#[tokio::test]
async fn stats_count_the_logins_a_rate_limit_refused() {
    let s = start(Profile::V8).await;
    let mut c = Client::connect(&s.sim).await;
    // Meteor's rule: 5 logins per 10 s per connection.
    for _ in 0..6 {
        c.call("login", json!([{"resume": BOT_TOKEN}])).await;
    }
    let stats = s.get("/_sim/stats", None).await.body;
    assert_eq!(
        (stats["logins"].clone(), stats["loginsRefused"].clone()),
        (json!(6), json!(1))
    );
    assert_eq!(stats["rateLimited"]["method login"], 1);
}
