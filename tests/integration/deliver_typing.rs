//! The typing indicator as another user sees it: alice subscribes to
//! `stream-notify-room` `<rid>/user-activity` over DDP while the bot replies.

use crate::deliver_support;

use std::sync::Arc;
use std::time::Duration;

use deliver_support::*;
use openclaw_rocketchat::auth::StaticToken;
use openclaw_rocketchat::ddp::connection::{Connection, ConnectionConfig};
use openclaw_rocketchat::ddp::realtime::{Realtime, RealtimeConfig};
use openclaw_rocketchat::ddp::stream::StreamEvent;
use openclaw_rocketchat::outbound::{DeliverySettings, RealtimeTyping, TypingSink};
use openclaw_rocketchat::secret::Secret;
use rocketchat_sim::{Fault, Profile, Simulator};
use serde_json::json;
use tokio::sync::mpsc;

/// One `user-activity` event: (username, activities, tmid).
type Activity = (String, Vec<String>, Option<String>);

/// Alice, logged in over DDP, watching `<rid>/user-activity`.
struct Watcher {
    _conn: Connection,
    events: mpsc::Receiver<StreamEvent>,
}

impl Watcher {
    async fn new(sim: &Simulator, rid: &str) -> Watcher {
        let (tx, events) = mpsc::channel(256);
        let conn = Connection::connect(&sim.ws_url(), None, ConnectionConfig::default(), tx)
            .await
            .expect("alice connects");
        let t = Duration::from_secs(5);
        conn.call("login", vec![json!({"resume": ALICE_TOKEN})], t)
            .await
            .expect("alice logs in");
        conn.subscribe(
            "stream-notify-room",
            vec![
                json!(format!("{rid}/user-activity")),
                json!({"useCollection": false, "args": []}),
            ],
            t,
        )
        .await
        .expect("subscribed");
        Watcher {
            _conn: conn,
            events,
        }
    }

    /// The bot's activity events until it stops typing (or `within` passes).
    async fn until_stop(&mut self, within: Duration) -> Vec<Activity> {
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + within;
        while let Ok(Some(ev)) = tokio::time::timeout_at(deadline, self.events.recv()).await {
            if let StreamEvent::UserActivity {
                username,
                activities,
                tmid,
                ..
            } = ev
            {
                if username == "mybot" {
                    let stop = activities.is_empty();
                    seen.push((username, activities, tmid));
                    if stop {
                        break;
                    }
                }
            }
        }
        seen
    }
}

/// The bot's realtime connection, as a typing sink.
async fn bot_typing(sim: &Simulator) -> Arc<dyn TypingSink> {
    let tokens = Arc::new(StaticToken::new(BOT_ID, Secret::new(BOT_PAT)));
    let (tx, mut rx) = mpsc::channel(64);
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let handle = Realtime::spawn(RealtimeConfig::new(sim.ws_url(), tokens), tx);
    for _ in 0..100 {
        if handle.is_connected() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(handle.is_connected(), "bot realtime connected");
    Arc::new(RealtimeTyping::new(Arc::new(handle), "mybot"))
}

fn settings() -> DeliverySettings {
    DeliverySettings {
        typing_refresh: Duration::from_millis(300),
        coalesce_idle_ms: 50,
        ..Default::default()
    }
}

fn assert_started_refreshed_stopped(seen: &[Activity], min_starts: usize, tmid: Option<&str>) {
    let (last, starts) = seen.split_last().expect("some typing events");
    assert!(last.1.is_empty(), "ends with a stop: {seen:?}");
    assert!(starts.len() >= min_starts, "{seen:?}");
    for s in starts {
        assert_eq!(s.1, vec!["user-typing".to_owned()], "{seen:?}");
    }
    for s in seen {
        assert_eq!(s.2.as_deref(), tmid, "{seen:?}");
    }
}

async fn typing_during_a_stream(profile: Profile) {
    let s = sim(profile).await;
    let root = s.post("alice", GENERAL, "@mybot explain").unwrap();
    let root_id = root["_id"].as_str().unwrap().to_owned();
    let mut alice = Watcher::new(&s, GENERAL).await;
    let d = deliverer_typing(&s, settings(), bot_typing(&s).await);
    let stream = d.start_stream(GENERAL, Some(&root_id));
    for i in 0..10 {
        stream.push(&format!("Sentence {i}. ")).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sent = stream.finish().await.unwrap();
    assert!(!sent.is_empty());
    let seen = alice.until_stop(Duration::from_secs(3)).await;
    // Started at 0, refreshed every 300 ms over ~1 s, stopped at the end.
    assert_started_refreshed_stopped(&seen, 3, Some(&root_id));
}

#[tokio::test]
async fn typing_is_started_refreshed_and_stopped_around_a_stream_8x() {
    typing_during_a_stream(Profile::V8).await;
}

#[tokio::test]
async fn typing_is_started_refreshed_and_stopped_around_a_stream_6x() {
    typing_during_a_stream(Profile::V6).await;
}

#[tokio::test]
async fn typing_stops_when_a_reply_fails_or_a_stream_is_dropped() {
    let s = sim(Profile::V8).await;
    let mut alice = Watcher::new(&s, GENERAL).await;
    let d = deliverer_typing(&s, settings(), bot_typing(&s).await);
    s.faults().inject(Fault::HttpStatus {
        route: "/api/v1/chat.sendMessage".into(),
        status: 403,
        count: 1,
    });
    assert!(d.send_reply(GENERAL, None, "refused").await.is_err());
    let seen = alice.until_stop(Duration::from_secs(3)).await;
    assert_started_refreshed_stopped(&seen, 1, None);

    let stream = d.start_stream(GENERAL, None);
    stream.push("half a reply").unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(stream);
    let seen = alice.until_stop(Duration::from_secs(3)).await;
    assert_started_refreshed_stopped(&seen, 1, None);
}

#[tokio::test]
async fn typing_shows_while_a_whole_reply_is_sent() {
    let s = sim(Profile::V8).await;
    let mut alice = Watcher::new(&s, GENERAL).await;
    let d = deliverer_typing(&s, settings(), bot_typing(&s).await);
    d.send_reply(GENERAL, None, "quick answer").await.unwrap();
    let seen = alice.until_stop(Duration::from_secs(3)).await;
    assert_started_refreshed_stopped(&seen, 1, None);
    assert_eq!(bot_texts(&s, GENERAL), vec!["quick answer"]);
}
