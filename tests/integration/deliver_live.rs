//! A live message (`streamStart` with a `placeholder`): posted at once, progress shown in it,
//! edited into the reply, never left behind stale.

use crate::deliver_support;

use std::time::Duration;

use deliver_support::*;
use openclaw_rocketchat::outbound::{DeliverySettings, Strategy};
use rocketchat_sim::{Profile, Simulator};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);

fn settings(block_streaming: bool) -> DeliverySettings {
    DeliverySettings {
        text_chunk_limit: 700,
        coalesce_min_chars: 250,
        coalesce_idle_ms: 40,
        // The account's choice for ordinary streams; a live message edits in place anyway.
        stream_strategy: Strategy::Append,
        block_streaming,
        ..Default::default()
    }
}

/// Wait until the bot's messages in `rid` satisfy `ok`.
async fn until(s: &Simulator, rid: &str, what: &str, ok: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let msgs = bot_messages(s, rid);
        if ok(&msgs) {
            return msgs;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}: {msgs:#?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn check_live(block_streaming: bool) {
    let s = sim(Profile::V8).await;
    let root = s.post("alice", GENERAL, "@mybot go").unwrap();
    let tmid = root["_id"].as_str().unwrap().to_owned();
    let d = deliverer(&s, settings(block_streaming));
    let stream = d.start_live_stream(GENERAL, Some(&tmid), "Working…");
    let first = until(&s, GENERAL, "the placeholder", |m| m.len() == 1).await;
    assert_eq!(first[0]["msg"], "Working…");
    assert_eq!(first[0]["tmid"].as_str(), Some(tmid.as_str()));
    let id = first[0]["_id"].clone();
    stream.status("Working… (reading a file)").unwrap();
    until(&s, GENERAL, "the status", |m| {
        m[0]["msg"] == "Working… (reading a file)"
    })
    .await;
    let reply = long_reply(6, 10);
    for piece in reply.split_inclusive('\n') {
        stream.push(piece).unwrap();
    }
    stream.status("ignored once the text started").unwrap();
    let sent = stream.finish().await.unwrap();
    let msgs = bot_messages(&s, GENERAL);
    assert_eq!(
        msgs[0]["_id"], id,
        "the placeholder became the reply's first message"
    );
    assert!(
        msgs.len() >= 2,
        "a reply longer than one message goes on in new ones"
    );
    let texts = bot_texts(&s, GENERAL);
    assert_eq!(
        sent.iter().map(|m| m.text.clone()).collect::<Vec<_>>(),
        texts
    );
    assert_well_formed(&texts, 700);
    assert_eq!(essence(&texts.join("\n")), essence(&reply), "{texts:#?}");
    assert!(!texts
        .iter()
        .any(|t| t.contains("Working") || t.contains("ignored")));
    for m in &msgs {
        assert_eq!(m["tmid"].as_str(), Some(tmid.as_str()), "{m}");
    }
}

#[tokio::test]
async fn a_live_message_shows_progress_then_becomes_the_reply_when_streaming() {
    check_live(true).await;
}

#[tokio::test]
async fn a_live_message_shows_progress_then_becomes_the_reply_without_streaming() {
    check_live(false).await;
}

#[tokio::test]
async fn a_live_message_without_any_text_is_deleted_and_an_aborted_one_keeps_its_last_status() {
    for block_streaming in [true, false] {
        let s = sim(Profile::V8).await;
        let d = deliverer(&s, settings(block_streaming));
        let stream = d.start_live_stream(GENERAL, None, "Working…");
        until(&s, GENERAL, "the placeholder", |m| m.len() == 1).await;
        assert!(stream.finish().await.unwrap().is_empty());
        until(&s, GENERAL, "the placeholder deleted", |m| m.is_empty()).await;

        let stream = d.start_live_stream(GENERAL, None, "Working…");
        until(&s, GENERAL, "the second placeholder", |m| m.len() == 1).await;
        stream
            .status("That failed: the model is overloaded.")
            .unwrap();
        until(&s, GENERAL, "the failure", |m| {
            m[0]["msg"] == "That failed: the model is overloaded."
        })
        .await;
        let left = stream.abort().await;
        assert_eq!(left.len(), 1);
        assert_eq!(
            bot_texts(&s, GENERAL),
            vec!["That failed: the model is overloaded."]
        );
    }
}
