//! `POST /_sim/flood`: generated messages pushed to subscribers, paced by the slowest reader.

use crate::ddp_support::{Client, Seen, BOT_ID, BOT_TOKEN, DM, OPS, QUIET};
use crate::rest_support::start;
use rocketchat_sim::Profile;
use serde_json::json;

#[tokio::test]
async fn flood_reaches_a_subscriber_complete_and_in_order() {
    let s = start(Profile::V8).await;
    let mut c = Client::logged_in(&s.sim, BOT_TOKEN).await;
    c.stream("mine", "stream-room-messages", "__my_messages__")
        .await;
    // More than the pause mark, so the flood has to wait for this reader.
    let count = 6000;
    let body = json!({"user": "alice", "count": count, "seed": 3,
                      "rooms": ["GENERAL", OPS, DM]});
    let url = s.url("/_sim/flood");
    let http = s.http.clone();
    let flood = tokio::spawn(async move { http.post(url).json(&body).send().await });
    for seq in 0..count {
        let ev = c.event().await;
        let args = &ev["fields"]["args"];
        let msg = args[0]["msg"].as_str().unwrap();
        assert!(msg.starts_with(&format!("seq={seq} t=")), "{msg}");
        assert_eq!(args[0]["u"]["username"], "alice");
        assert!(args[1]["roomType"].is_string(), "{ev}");
    }
    let reply = flood.await.unwrap().unwrap();
    assert_eq!(reply.status(), 200);
    let body: serde_json::Value = reply.json().await.unwrap();
    assert_eq!(body["count"], count);
    c.expect_quiet().await;
}

#[tokio::test]
async fn flood_at_a_rate_takes_its_time_and_rejects_bad_specs() {
    let s = start(Profile::V8).await;
    let r = s
        .post(
            "/_sim/flood",
            None,
            &json!({"user": "alice", "count": 21, "rate": 200.0}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["seconds"].as_f64().unwrap() >= 0.09, "{}", r.body);
    let r = s
        .post(
            "/_sim/flood",
            None,
            &json!({"user": "bob", "count": 1, "rooms": [OPS]}),
        )
        .await;
    assert_eq!(r.status, 400, "bob is not in ops-team: {}", r.body);
}

/// A frame without what depends on when it was sent: the `t=` stamps and the dates.
fn timeless(frame: &serde_json::Value) -> String {
    let text = frame.to_string();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = ["t=", "\"$date\":"]
        .iter()
        .filter_map(|p| rest.find(p).map(|i| i + p.len()))
        .min()
    {
        out.push_str(&rest[..i]);
        rest = rest[i..].trim_start_matches(|c: char| c.is_ascii_digit());
        out.push('0');
    }
    out.push_str(rest);
    out
}

/// Every frame a flood sends to a bot subscribed to `__my_messages__`, two rooms and its
/// notifications, until the flood answers.
async fn flood_frames(s: &crate::rest_support::Sim, body: serde_json::Value) -> Vec<String> {
    let mut c = Client::logged_in(&s.sim, BOT_TOKEN).await;
    c.stream("mine", "stream-room-messages", "__my_messages__")
        .await;
    c.stream("ops", "stream-room-messages", OPS).await;
    c.stream("dm", "stream-room-messages", DM).await;
    let notify = format!("{BOT_ID}/notification");
    c.stream("n", "stream-notify-user", &notify).await;
    let r = s.post("/_sim/flood", None, &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut frames = Vec::new();
    loop {
        match c.next_within(QUIET).await {
            Seen::Frame(f) if f["msg"] == "changed" => frames.push(timeless(&f)),
            Seen::Frame(_) => {}
            _ => break,
        }
    }
    frames
}

#[tokio::test]
async fn a_replay_sends_the_frames_of_a_live_flood_and_mentions_one_in_n() {
    let s = start(Profile::V8).await;
    let spec = json!({"user": "alice", "count": 60, "seed": 4, "rooms": ["GENERAL", OPS, DM],
                      "mention": "mybot", "mentionEvery": 6});
    let live = flood_frames(&s, spec.clone()).await;
    let mut replay_spec = spec.clone();
    replay_spec["replay"] = json!(true);
    let r = s.post("/_sim/flood/prepare", None, &replay_spec).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["count"], 60, "{}", r.body);
    assert!(r.body["bytes"].as_u64().unwrap() > 60 * 300, "{}", r.body);
    let replay = flood_frames(&s, replay_spec.clone()).await;
    assert_eq!(live, replay);
    // Without a prepared one, the replay is encoded when the flood starts.
    assert_eq!(flood_frames(&s, replay_spec).await, live);

    let mentioning: Vec<&String> = live
        .iter()
        .filter(|f| f.contains("\"eventName\":\"__my_messages__\""))
        .filter(|f| f.contains("\"mentions\":[{"))
        .collect();
    assert_eq!(mentioning.len(), 10, "seq 5, 11, …, 59");
    for (i, f) in mentioning.iter().enumerate() {
        let seq = i * 6 + 5;
        assert!(
            f.contains(&format!("\"msg\":\"seq={seq} t=0 @mybot ")),
            "{f}"
        );
        assert!(f.contains("MENTION_USER"), "{f}");
    }
    let notifications = live
        .iter()
        .filter(|f| f.contains("/notification\""))
        .count();
    assert!(
        notifications >= 10,
        "every mention and every DM: {notifications}"
    );
}
