//! Block streaming against the simulator: random pieces and timings (seeded) for both
//! strategies, `blockStreaming: false`, and faults during a streamed reply.

use crate::deliver_support;

use std::time::Duration;

use deliver_support::*;
use openclaw_rocketchat::outbound::{Deliverer, DeliverySettings, Strategy, TableMode};
use openclaw_rocketchat::rest::RestOptions;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rocketchat_sim::{Fault, Profile};

fn stream_settings(strategy: Strategy) -> DeliverySettings {
    DeliverySettings {
        text_chunk_limit: 700,
        coalesce_min_chars: 250,
        coalesce_idle_ms: 40,
        stream_strategy: strategy,
        ..Default::default()
    }
}

/// Splits `text` into random pieces (1..=max bytes, on char boundaries).
fn pieces(text: &str, rng: &mut StdRng, max: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let n = rng.random_range(1..=max).min(chars.len() - i);
        out.push(chars[i..i + n].iter().collect());
        i += n;
    }
    out
}

/// Streams `reply` in random pieces with random pauses (some longer than idleMs).
async fn stream_randomly(
    d: &Deliverer,
    rid: &str,
    tmid: Option<&str>,
    reply: &str,
    seed: u64,
) -> Vec<openclaw_rocketchat::outbound::SentMessage> {
    let mut rng = StdRng::seed_from_u64(seed);
    let stream = d.start_stream(rid, tmid);
    for p in pieces(reply, &mut rng, 60) {
        stream.push(&p).expect("stream alive");
        match rng.random_range(0..100) {
            0..=7 => tokio::time::sleep(Duration::from_millis(70)).await,
            8..=30 => tokio::time::sleep(Duration::from_millis(3)).await,
            _ => tokio::task::yield_now().await,
        }
    }
    stream.finish().await.expect("finished")
}

async fn check_random_stream(strategy: Strategy, seed: u64, thread: bool) {
    let s = sim(Profile::V8).await;
    let tmid = if thread {
        let root = s.post("alice", GENERAL, "@mybot go").unwrap();
        Some(root["_id"].as_str().unwrap().to_owned())
    } else {
        None
    };
    let settings = stream_settings(strategy);
    let d = deliverer(&s, settings.clone());
    let reply = long_reply(10, 30);
    let sent = stream_randomly(&d, GENERAL, tmid.as_deref(), &reply, seed).await;
    let texts = bot_texts(&s, GENERAL);
    assert_eq!(
        sent.iter().map(|m| m.text.clone()).collect::<Vec<_>>(),
        texts,
        "returned texts match the room"
    );
    assert!(texts.len() >= 2, "{texts:?}");
    assert_well_formed(&texts, settings.chunk_limit());
    assert_eq!(essence(&texts.join("\n")), essence(&reply), "{texts:#?}");
    for m in bot_messages(&s, GENERAL) {
        assert_eq!(m["tmid"].as_str(), tmid.as_deref(), "{m}");
    }
}

#[tokio::test]
async fn random_stream_append_reassembles_the_reply() {
    check_random_stream(Strategy::Append, 7, false).await;
    check_random_stream(Strategy::Append, 1234, true).await;
}

#[tokio::test]
async fn random_stream_edit_reassembles_the_reply() {
    check_random_stream(Strategy::Edit, 7, true).await;
    check_random_stream(Strategy::Edit, 99, false).await;
}

#[tokio::test]
async fn edit_strategy_grows_one_message_by_edits() {
    let s = sim(Profile::V8).await;
    let d = deliverer(&s, stream_settings(Strategy::Edit));
    let stream = d.start_stream(GENERAL, None);
    stream.push("First sentence. Sec").unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(bot_texts(&s, GENERAL), vec!["First sentence."]);
    stream.push("ond sentence.").unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let sent = stream.finish().await.unwrap();
    assert_eq!(sent.len(), 1);
    let msgs = bot_messages(&s, GENERAL);
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["msg"], "First sentence. Second sentence.");
    assert!(msgs[0].get("editedAt").is_some(), "{}", msgs[0]);
}

#[tokio::test]
async fn append_strategy_posts_blocks_as_they_come_with_the_prefix_once() {
    let s = sim(Profile::V8).await;
    let d = deliverer(
        &s,
        DeliverySettings {
            response_prefix: Some("[bot]".into()),
            ..stream_settings(Strategy::Append)
        },
    );
    let stream = d.start_stream(GENERAL, None);
    stream.push("   ").unwrap();
    stream.push("Block one.\n").unwrap();
    // An idle flush takes whole lines and words only: the line break completes "one.".
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(bot_texts(&s, GENERAL), vec!["[bot] Block one."]);
    stream.push("\nBlock two.").unwrap();
    let sent = stream.finish().await.unwrap();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        bot_texts(&s, GENERAL),
        vec!["[bot] Block one.", "Block two."]
    );
}

#[tokio::test]
async fn tables_are_converted_whole_while_streaming() {
    let s = sim(Profile::V8).await;
    let d = deliverer(
        &s,
        DeliverySettings {
            table_mode: TableMode::Bullets,
            ..stream_settings(Strategy::Append)
        },
    );
    let stream = d.start_stream(GENERAL, None);
    for p in ["Intro.\n\n| a | b", " |\n|--", "-|---|\n", "| 1 | 2 |\n"] {
        stream.push(p).unwrap();
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    stream.push("\nOutro.").unwrap();
    stream.finish().await.unwrap();
    let all = bot_texts(&s, GENERAL).join("\n");
    assert!(!all.contains('|'), "{all}");
    assert!(
        all.contains("Intro.") && all.contains("Outro.") && all.contains('2'),
        "{all}"
    );
}

#[tokio::test]
async fn block_streaming_off_sends_only_at_finish() {
    let s = sim(Profile::V8).await;
    let settings = DeliverySettings {
        block_streaming: false,
        ..stream_settings(Strategy::Append)
    };
    let d = deliverer(&s, settings.clone());
    let reply = long_reply(6, 10);
    let mut rng = StdRng::seed_from_u64(5);
    let stream = d.start_stream(GENERAL, None);
    for p in pieces(&reply, &mut rng, 200) {
        stream.push(&p).unwrap();
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(bot_texts(&s, GENERAL).is_empty(), "nothing before finish");
    stream.finish().await.unwrap();
    assert_eq!(bot_texts(&s, GENERAL), settings.shape(&reply));
}

#[tokio::test]
async fn abort_and_drop_keep_what_was_posted_and_drop_the_rest() {
    let s = sim(Profile::V8).await;
    let d = deliverer(&s, stream_settings(Strategy::Append));
    let stream = d.start_stream(GENERAL, None);
    stream.push("Posted. never").unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    stream.push(" sent").unwrap();
    let sent = stream.abort().await;
    assert_eq!(sent.len(), 1);
    let stream = d.start_stream(GENERAL, None);
    stream.push("dropped").unwrap();
    drop(stream);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(bot_texts(&s, GENERAL), vec!["Posted."]);
}

async fn faulty_stream(strategy: Strategy) {
    let s = sim(Profile::V8).await;
    let rest = rest_with(
        &s,
        RestOptions {
            request_timeout: Duration::from_millis(400),
            ..Default::default()
        },
    );
    let settings = stream_settings(strategy);
    let d = Deliverer::with_settings(rest, settings.clone(), None);
    let reply = long_reply(10, 20);
    let f = s.faults();
    let send = "/api/v1/chat.sendMessage".to_owned();
    f.inject(Fault::HttpStatus {
        route: send.clone(),
        status: 429,
        count: 1,
    });
    let mut rng = StdRng::seed_from_u64(42);
    let stream = d.start_stream(GENERAL, None);
    for (i, p) in pieces(&reply, &mut rng, 80).into_iter().enumerate() {
        stream.push(&p).unwrap();
        match i {
            20 => {
                f.inject(Fault::HttpStatus {
                    route: send.clone(),
                    status: 500,
                    count: 2,
                });
                f.inject(Fault::HttpStatus {
                    route: "/api/v1/chat.update".into(),
                    status: 503,
                    count: 1,
                });
            }
            // A lost response: the server stores the message after the client gave up.
            40 => {
                f.inject(Fault::Delay {
                    route: send.clone(),
                    ms: 700,
                    count: 1,
                });
            }
            _ => {}
        }
        if i % 10 == 0 {
            tokio::time::sleep(Duration::from_millis(60)).await;
        }
    }
    let sent = stream.finish().await.expect("delivered despite faults");
    assert_eq!(f.take_http(&send), None, "the 429 and 500s were hit");
    assert_eq!(f.take_delay(&send), None, "the delay was hit");
    // Let a delayed original request land (it must not add a message).
    tokio::time::sleep(Duration::from_millis(800)).await;
    let texts = bot_texts(&s, GENERAL);
    assert_eq!(
        sent.iter().map(|m| m.text.clone()).collect::<Vec<_>>(),
        texts
    );
    assert_well_formed(&texts, settings.chunk_limit());
    assert_eq!(essence(&texts.join("\n")), essence(&reply), "{texts:#?}");
}

#[tokio::test]
async fn faults_during_an_appended_stream_deliver_exactly_once_in_order() {
    faulty_stream(Strategy::Append).await;
}

#[tokio::test]
async fn faults_during_an_edited_stream_deliver_exactly_once_in_order() {
    faulty_stream(Strategy::Edit).await;
}
