//! Whole replies: chunking, prefix, tables, threads, server limits, partial failures,
//! and the edit/delete/react wrappers, against the simulator.

use crate::deliver_support;

use deliver_support::*;
use openclaw_rocketchat::config::{resolve, NoEnv};
use openclaw_rocketchat::event::Event;
use openclaw_rocketchat::outbound::{
    ChunkMode, Deliverer, DeliveryError, DeliverySettings, TableMode,
};
use rocketchat_sim::{Profile, Settings, SimConfig};
use serde_json::json;
use std::sync::{Arc, Mutex};

#[tokio::test]
async fn long_reply_with_code_is_chunked_in_order_within_the_limit() {
    let s = sim(Profile::V8).await;
    let settings = DeliverySettings {
        text_chunk_limit: 500,
        ..Default::default()
    };
    let d = deliverer(&s, settings.clone());
    let reply = long_reply(8, 40);
    let sent = d.send_reply(GENERAL, None, &reply).await.expect("sent");
    let texts = bot_texts(&s, GENERAL);
    assert!(texts.len() > 4, "{}", texts.len());
    assert_eq!(texts, settings.shape(&reply));
    assert_eq!(
        sent.iter().map(|m| m.text.clone()).collect::<Vec<_>>(),
        texts
    );
    let ids: Vec<_> = bot_messages(&s, GENERAL)
        .iter()
        .map(|m| m["_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sent.iter().map(|m| m.id.clone()).collect::<Vec<_>>(), ids);
    assert_well_formed(&texts, 500);
    assert_eq!(essence(&texts.join("\n")), essence(&reply));
    // The code block was split: some message closes it and the next reopens it.
    assert!(texts.iter().filter(|t| t.contains("```rust")).count() >= 2);
}

#[tokio::test]
async fn prefix_once_tables_converted_and_thread_kept() {
    let s = sim(Profile::V8).await;
    let root = s.post("alice", GENERAL, "@mybot compare please").unwrap();
    let root_id = root["_id"].as_str().unwrap().to_owned();
    let settings = DeliverySettings {
        text_chunk_limit: 120,
        response_prefix: Some("[bot]".into()),
        table_mode: TableMode::Bullets,
        ..Default::default()
    };
    let d = deliverer(&s, settings);
    let reply = "Here is the comparison.\n\n| name | speed |\n|---|---|\n| fox | quick |\n| dog | lazy |\n\n\
                 And a long closing paragraph that certainly needs to be split into more than one message \
                 because it is well over the tiny limit configured for this test.";
    let sent = d
        .send_reply(GENERAL, Some(&root_id), reply)
        .await
        .expect("sent");
    let msgs = bot_messages(&s, GENERAL);
    assert_eq!(msgs.len(), sent.len());
    assert!(msgs.len() >= 3);
    for m in &msgs {
        assert_eq!(m["tmid"], root_id.as_str(), "{m}");
    }
    assert!(sent
        .iter()
        .all(|m| m.thread_id.as_deref() == Some(&root_id)));
    let texts = bot_texts(&s, GENERAL);
    assert!(texts[0].starts_with("[bot] Here is"), "{}", texts[0]);
    assert_eq!(texts.iter().filter(|t| t.contains("[bot]")).count(), 1);
    let all = texts.join("\n");
    assert!(!all.contains("|---|"), "{all}");
    assert!(all.contains("fox") && all.contains("quick"), "{all}");
}

#[tokio::test]
async fn newline_mode_sends_one_message_per_paragraph() {
    let s = sim(Profile::V8).await;
    let d = deliverer(
        &s,
        DeliverySettings {
            chunk_mode: ChunkMode::Newline,
            ..Default::default()
        },
    );
    d.send_reply(OPS, None, "one\n\ntwo\n\nthree")
        .await
        .unwrap();
    assert_eq!(bot_texts(&s, OPS), vec!["one", "two", "three"]);
    // Empty replies send nothing.
    assert!(d.send_reply(OPS, None, "  \n ").await.unwrap().is_empty());
    assert_eq!(bot_texts(&s, OPS).len(), 3);
}

#[tokio::test]
async fn the_server_limit_caps_the_chunk_size() {
    let s = sim_with(SimConfig {
        profile: Profile::V8,
        settings: Settings {
            message_max_allowed_size: 300,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let reply = long_reply(6, 0);
    // Over the server's limit, the first message is refused: nothing landed.
    let naive = deliverer(&s, DeliverySettings::default());
    match naive.send_reply(GENERAL, None, &reply).await {
        Err(DeliveryError::Partial { sent, total, .. }) => {
            assert!(sent.is_empty());
            assert_eq!(total, Some(1));
        }
        other => panic!("expected a size error, got {other:?}"),
    }
    // The server says its limit (settings.public): the same deliverer then fits it.
    assert_eq!(naive.learn_server_limits().await.expect("learned"), 300);
    assert_eq!(naive.settings().server_max_message_size, 300);
    naive.send_reply(GENERAL, None, &reply).await.expect("fits");
    let texts = bot_texts(&s, GENERAL);
    assert!(texts.len() > 2);
    assert_well_formed(&texts, 300);
    assert_eq!(essence(&texts.join("\n")), essence(&reply));
}

#[tokio::test]
async fn a_failure_midway_reports_what_landed() {
    let s = sim_with(SimConfig {
        profile: Profile::V8,
        settings: Settings {
            message_max_allowed_size: 100,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let d = Deliverer::with_settings(
        rest(&s),
        DeliverySettings {
            chunk_mode: ChunkMode::Newline,
            server_max_message_size: 400,
            ..Default::default()
        },
        None,
    )
    .with_event_hook(Arc::new(move |e| seen.lock().unwrap().push(e)));
    let long = "x".repeat(150);
    let err = d
        .send_reply(GENERAL, None, &format!("first\n\n{long}\n\nthird"))
        .await
        .unwrap_err();
    match &err {
        DeliveryError::Partial { sent, total, .. } => {
            assert_eq!(sent.len(), 1);
            assert_eq!(sent[0].text, "first");
            assert_eq!(*total, Some(3));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().contains("after 1 message(s) landed of 3"),
        "{err}"
    );
    assert_eq!(bot_texts(&s, GENERAL), vec!["first"]);
    let events = events.lock().unwrap().clone();
    assert!(
        matches!(&events[..], [Event::Sent { chunk_index: 0, .. }, Event::SendFailed { room_id, .. }] if room_id == GENERAL),
        "{events:?}"
    );
}

#[tokio::test]
async fn edit_delete_and_react_on_own_messages() {
    let s = sim(Profile::V8).await;
    let d = deliverer(&s, DeliverySettings::default());
    let sent = d.send_reply(GENERAL, None, "draft").await.unwrap();
    let id = sent[0].id.clone();
    let edited = d.edit_message(&id, "final").await.unwrap();
    assert_eq!(edited.room_id, GENERAL);
    assert_eq!(bot_texts(&s, GENERAL), vec!["final"]);
    d.react(&id, ":thumbsup:", true).await.unwrap();
    let m = &bot_messages(&s, GENERAL)[0];
    assert!(
        m["reactions"][":thumbsup:"]["usernames"]
            .as_array()
            .is_some_and(|u| u.contains(&json!("mybot"))),
        "{m}"
    );
    // Someone else's message: refused before any change.
    let theirs = s.post("alice", GENERAL, "mine").unwrap();
    let theirs = theirs["_id"].as_str().unwrap();
    assert!(matches!(
        d.edit_message(theirs, "hijack").await,
        Err(DeliveryError::NotOwnMessage { .. })
    ));
    assert!(matches!(
        d.delete_message(theirs).await,
        Err(DeliveryError::NotOwnMessage { .. })
    ));
    // Too long for one message.
    let too_long = "y".repeat(4001);
    assert!(matches!(
        d.edit_message(&id, &too_long).await,
        Err(DeliveryError::TooLong {
            len: 4001,
            limit: 4000
        })
    ));
    d.delete_message(&id).await.unwrap();
    assert!(bot_texts(&s, GENERAL).is_empty());
    // Unknown message: a REST error.
    assert!(matches!(
        d.delete_message("NoSuchMessage0001").await,
        Err(DeliveryError::Rest(_))
    ));
}

#[tokio::test]
async fn built_from_an_account_config() {
    let s = sim(Profile::V8).await;
    let cfg = resolve(
        &json!({
            "baseUrl": s.url(),
            "userId": BOT_ID,
            "authToken": BOT_PAT,
            "textChunkLimit": 50,
            "responsePrefix": ">>",
            "mediaMaxMb": 1,
            "rooms": {"GENERAL": {"mediaMaxMb": 2}}
        }),
        &NoEnv,
    )
    .expect("config");
    let acc = cfg.account("default").unwrap();
    let d = Deliverer::new(rest(&s), acc, None);
    let st = d.settings();
    assert_eq!(st.chunk_limit(), 50);
    assert_eq!(st.media_max_bytes_in("other"), 1024 * 1024);
    assert_eq!(st.media_max_bytes_in(GENERAL), 2 * 1024 * 1024);
    assert!(st.block_streaming);
    d.send_reply(
        GENERAL,
        None,
        "hello there, this reply is longer than fifty characters in total",
    )
    .await
    .unwrap();
    let texts = bot_texts(&s, GENERAL);
    assert!(
        texts.len() == 2 && texts[0].starts_with(">> hello"),
        "{texts:?}"
    );
}
