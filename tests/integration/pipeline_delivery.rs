//! Delivery through `Core` against the simulator, as a user in the room sees it: long
//! replies split with the prefix once and code fences balanced, streamed replies, files both
//! ways (the bot's uploads; alice's uploads downloaded with the bot's credentials, capped and
//! same-origin only), and reactions, edits and deletes limited to the bot's own messages.

use crate::support;

use std::time::Duration;

use bytes::Bytes;
use openclaw_rocketchat::account::AccountError;
use openclaw_rocketchat::event::Event;
use openclaw_rocketchat::outbound::{DeliveryError, MediaFile};
use openclaw_rocketchat::rest::RestError;
use openclaw_rocketchat::CoreError;
use serde_json::{json, Value};
use support::*;

const PREFIX: &str = "[bot]";
/// `mediaMaxMb` of these tests: 0.05 MB = 52 428 bytes.
const MEDIA_MAX_BYTES: u64 = 52_428;

async fn harness() -> Harness {
    Harness::gated(json!({
        "groupAllowFrom": ["alice"],
        "responsePrefix": PREFIX,
        "mediaMaxMb": 0.05,
    }))
    .await
}

/// The bot's messages in `rid`, oldest first (REST form).
fn bot_messages(h: &Harness, rid: &str) -> Vec<Value> {
    h.sim
        .messages_in(rid)
        .into_iter()
        .filter(|m| m["u"]["username"] == BOT)
        .collect()
}

fn text(m: &Value) -> &str {
    m["msg"].as_str().unwrap_or_default()
}

/// The `Rest` error inside a core error.
fn rest_error(e: &CoreError) -> &RestError {
    match e {
        CoreError::Account(AccountError::Rest { source, .. }) => source,
        other => panic!("expected a REST error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_reply_arrives_in_several_messages_with_one_prefix_and_balanced_fences() {
    let mut h = harness().await;
    let mut reply = String::from("Here is the listing you asked for.\n\n```rust\n");
    let lines: Vec<String> = (0..300)
        .map(|i| format!("let value_{i:03} = compute({i}); // step {i}"))
        .collect();
    for l in &lines {
        reply.push_str(l);
        reply.push('\n');
    }
    reply.push_str("```\n\nThat is all.");
    assert!(reply.len() > 4000 * 2);

    let sent = h
        .core()
        .send_reply("default", GENERAL, &reply, None)
        .await
        .expect("reply sent");
    let room = bot_messages(&h, GENERAL);
    assert!(room.len() >= 3, "{} messages", room.len());
    let ids: Vec<&str> = room.iter().map(|m| m["_id"].as_str().unwrap()).collect();
    let sent_ids: Vec<&str> = sent.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, sent_ids, "what Core returned is what the room shows");

    assert!(text(&room[0]).starts_with("[bot] Here is the listing"));
    let prefixes: usize = room.iter().map(|m| text(m).matches(PREFIX).count()).sum();
    assert_eq!(prefixes, 1, "the prefix appears once");
    for m in &room {
        let t = text(m);
        assert!(t.encode_utf16().count() <= 4000, "{} chars", t.len());
        let fences = t
            .lines()
            .filter(|l| l.trim_start().starts_with("```"))
            .count();
        assert_eq!(fences % 2, 0, "fences balanced in {t:?}");
    }
    assert!(text(room.last().unwrap()).ends_with("That is all."));
    // Every code line arrives once, in order.
    let got: Vec<&str> = room
        .iter()
        .flat_map(|m| text(m).lines())
        .filter(|l| l.starts_with("let value_"))
        .collect();
    assert_eq!(got, lines);

    h.events
        .settle(Duration::from_millis(100), Duration::from_secs(2))
        .await;
    assert_eq!(h.events.of_type(None, "sent").len(), room.len());
    assert_eq!(h.status().await.sent, room.len() as u64);
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_reply_ends_up_in_the_room() {
    let mut h = harness().await;
    let stream = h
        .core()
        .start_stream("default", GENERAL, None, None, None)
        .await
        .expect("stream started");
    let pieces = [
        "The answer ",
        "comes in ",
        "several pieces, ",
        "and ends here.",
    ];
    for p in pieces {
        stream.push(p).expect("piece accepted");
    }
    let sent = stream.finish().await.expect("stream finished");
    assert!(!sent.is_empty());

    let room = bot_messages(&h, GENERAL);
    assert_eq!(room.len(), sent.len());
    let shown: Vec<&str> = room
        .iter()
        .flat_map(|m| text(m).split_whitespace())
        .collect();
    let want = format!("{PREFIX} {}", pieces.concat());
    assert_eq!(shown, want.split_whitespace().collect::<Vec<_>>());
    assert_eq!(h.status().await.sent, room.len() as u64);
    h.close().await;
}

/// Upload `bytes` as alice to GENERAL with `rooms.media` + `rooms.mediaConfirm` (her own
/// token), with `msg`. Returns the message id.
async fn alice_uploads(h: &Harness, name: &str, bytes: Vec<u8>, msg: &str) -> String {
    let tls = openclaw_rocketchat::tls::client_config(&Default::default()).expect("tls");
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured((*tls).clone())
        .build()
        .expect("http client");
    let url = h.sim.url();
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str("text/plain")
        .unwrap();
    let up: Value = client
        .post(format!("{url}/api/v1/rooms.media/{GENERAL}"))
        .header("X-User-Id", ALICE_ID)
        .header("X-Auth-Token", ALICE_TOKEN)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .expect("rooms.media")
        .json()
        .await
        .expect("rooms.media answer");
    let file_id = up["file"]["_id"].as_str().unwrap_or_else(|| panic!("{up}"));
    let confirmed: Value = client
        .post(format!(
            "{url}/api/v1/rooms.mediaConfirm/{GENERAL}/{file_id}"
        ))
        .header("X-User-Id", ALICE_ID)
        .header("X-Auth-Token", ALICE_TOKEN)
        .json(&json!({"msg": msg}))
        .send()
        .await
        .expect("rooms.mediaConfirm")
        .json()
        .await
        .expect("rooms.mediaConfirm answer");
    confirmed["message"]["_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{confirmed}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_go_out_with_a_caption_and_come_in_only_within_the_cap_and_the_origin() {
    let mut h = harness().await;

    // The bot sends a small file with a caption.
    let png = MediaFile {
        file_name: "chart.png".into(),
        mime: "image/png".into(),
        bytes: Bytes::from(vec![7u8; 2048]),
    };
    let sent = h
        .core()
        .send_media(
            "default",
            GENERAL,
            None,
            vec![png],
            Some("Here is the chart"),
        )
        .await
        .expect("file sent");
    assert_eq!(sent.len(), 1);
    let room = bot_messages(&h, GENERAL);
    assert_eq!(room.len(), 1);
    assert_eq!(text(&room[0]), "[bot] Here is the chart");
    assert_eq!(room[0]["file"]["name"], "chart.png");

    // alice uploads a file; its URL from the `message` event downloads to the same bytes.
    let content: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    let small = alice_uploads(&h, "notes.txt", content.clone(), "@mybot see attached").await;
    let m = h.delivered(&small).await;
    assert_eq!(m.agent_text(), "see attached");
    let url = m
        .attachments
        .iter()
        .find_map(|a| a.url.clone())
        .unwrap_or_else(|| panic!("an attachment URL in {m:?}"));
    let got = h
        .core()
        .download("default", &url, Some(GENERAL))
        .await
        .expect("download");
    assert_eq!(got.bytes.as_ref(), content.as_slice());
    assert_eq!(got.file_name, "notes.txt");

    // A file over mediaMaxMb is refused, with the limit in the error.
    let big = alice_uploads(&h, "dump.txt", vec![b'x'; 100_000], "@mybot and this one").await;
    let m = h.delivered(&big).await;
    let url = m.attachments.iter().find_map(|a| a.url.clone()).unwrap();
    let err = h
        .core()
        .download("default", &url, Some(GENERAL))
        .await
        .expect_err("over the cap");
    assert!(
        matches!(rest_error(&err), RestError::TooLarge { limit, .. } if *limit == MEDIA_MAX_BYTES),
        "{err:?}"
    );
    assert!(err.to_string().contains("too large"), "{err}");

    // Another origin is refused before any request: the credentials never leave.
    let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let foreign = format!("http://{}/file-upload/x/y", elsewhere.local_addr().unwrap());
    for url in [foreign.as_str(), "http://127.0.0.1:1/file-upload/x/y"] {
        let err = h
            .core()
            .download("default", url, Some(GENERAL))
            .await
            .expect_err("foreign origin");
        assert!(
            matches!(rest_error(&err), RestError::ForeignOrigin { .. }),
            "{err:?}"
        );
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(200), elsewhere.accept())
            .await
            .is_err(),
        "nothing connected to the foreign origin"
    );

    let st = h.status().await;
    assert_eq!(st.sent, 1);
    assert_eq!(st.delivered, 2);
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_edits_and_deletes_apply_to_the_bots_messages_only() {
    let mut h = harness().await;
    let mine = h.reply(GENERAL, "Deploy finished", None).await;
    let mine = mine["_id"].as_str().unwrap().to_owned();
    let hers = h.post("alice", GENERAL, "thanks, looks good");

    h.core()
        .react("default", &mine, ":white_check_mark:", true)
        .await
        .expect("react on own message");
    h.core()
        .react("default", &hers, "eyes", true)
        .await
        .expect("react on alice's message");
    let reacted = |id: &str, emoji: &str| -> bool {
        let m = h.sim.store().message(id).expect("message exists");
        m["reactions"][emoji]["usernames"]
            .as_array()
            .is_some_and(|u| u.iter().any(|n| n == BOT))
    };
    assert!(reacted(&mine, ":white_check_mark:"));
    assert!(reacted(&hers, ":eyes:"));
    h.core()
        .react("default", &mine, ":white_check_mark:", false)
        .await
        .expect("unreact");
    assert!(!reacted(&mine, ":white_check_mark:"));

    let edited = h
        .core()
        .edit_message("default", &mine, "Deploy finished (v2)")
        .await
        .expect("edit own message");
    assert_eq!(edited.id, mine);
    assert_eq!(
        h.sim.store().message(&mine).unwrap()["msg"],
        "Deploy finished (v2)"
    );

    let not_own = |e: &CoreError| {
        matches!(
            e,
            CoreError::Account(AccountError::Delivery { source, .. })
                if matches!(**source, DeliveryError::NotOwnMessage { .. })
        )
    };
    let err = h
        .core()
        .edit_message("default", &hers, "rewritten by the bot")
        .await
        .expect_err("editing alice's message is refused");
    assert!(not_own(&err), "{err:?}");
    let err = h
        .core()
        .delete_message("default", &hers)
        .await
        .expect_err("deleting alice's message is refused");
    assert!(not_own(&err), "{err:?}");
    assert_eq!(
        h.sim.store().message(&hers).unwrap()["msg"],
        "thanks, looks good"
    );

    h.core()
        .delete_message("default", &mine)
        .await
        .expect("delete own message");
    assert!(h.sim.store().message(&mine).is_none());

    h.events
        .settle(Duration::from_millis(100), Duration::from_secs(2))
        .await;
    assert!(
        h.events.of_type(None, "sendFailed").is_empty(),
        "{}",
        h.events.dump()
    );
    assert!(
        !h.events
            .all
            .iter()
            .any(|e| matches!(&e.event, Event::Message { message } if message.message_id == mine)),
        "the bot's own message never comes back as a message"
    );
    assert_eq!(h.status().await.sent, 1);
    h.close().await;
}
