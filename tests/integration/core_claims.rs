//! Two instances of one bot (two gateways on one account) answering the same message: the
//! server refuses the second copy of each reply message (their ids derive from the message
//! answered), so the room gets one answer; the instance that lost says so.

use crate::support;

use std::time::Duration;

use openclaw_rocketchat::config::NoEnv;
use openclaw_rocketchat::event::Event;
use openclaw_rocketchat::Core;
use support::*;

const WAIT: Duration = Duration::from_secs(30);

/// A second core with the same account on the same simulator, authenticated.
async fn second_instance(h: &Harness) -> (Core, Events) {
    let core = Core::new(core_options()).expect("core starts");
    let mut events = Events::new(core.events().clone());
    core.apply_config(&pat_section(&h.sim.url()), &NoEnv)
        .await
        .expect("valid config");
    events
        .expect("the second instance authenticated", WAIT, |e| {
            matches!(e.event, Event::Authenticated { .. })
        })
        .await;
    (core, events)
}

/// A core's runtime cannot be dropped inside another one: a plain thread does it.
fn drop_core(core: Core) {
    let _ = std::thread::spawn(move || drop(core)).join();
}

fn bot_texts(h: &Harness, rid: &str) -> Vec<String> {
    h.sim
        .messages_in(rid)
        .into_iter()
        .filter(|m| m["u"]["username"] == BOT)
        .map(|m| m["msg"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_instance_posts_nothing_of_a_reply_the_first_gave() {
    let h = Harness::pat().await;
    let (second, mut second_events) = second_instance(&h).await;
    let asked = h.post("alice", GENERAL, "@mybot which instance answers?");
    // Three messages long, so the second instance's refusal is not a matter of one chunk.
    let long: String = (0..3)
        .map(|i| format!("part {i}: {}\n\n", "x".repeat(3800)))
        .collect();
    let first = h
        .core()
        .send_reply_to("default", GENERAL, &long, None, Some(&asked), false)
        .await
        .expect("the first instance answers");
    assert_eq!(first.len(), 3);
    let other = second
        .send_reply_to(
            "default",
            GENERAL,
            "instance two's answer",
            None,
            Some(&asked),
            false,
        )
        .await
        .expect("not an error: the reply is another instance's");
    assert!(other.is_empty(), "{other:?}");
    let texts = bot_texts(&h, GENERAL);
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert!(texts.iter().all(|t| t.starts_with("part ")), "{texts:?}");
    second_events
        .expect("replyClaimed", WAIT, |e| {
            matches!(&e.event, Event::ReplyClaimed { room_id, reply_to } if room_id == GENERAL && *reply_to == asked)
        })
        .await;
    let status = second.status("default").await.expect("running");
    assert_eq!(status.claimed_elsewhere, 1);
    // The first instance's own numbering goes on: a second payload of its turn is posted.
    let more = h
        .core()
        .send_reply_to(
            "default",
            GENERAL,
            "and a follow-up",
            None,
            Some(&asked),
            false,
        )
        .await
        .unwrap();
    assert_eq!(more.len(), 1);
    // Another message is answered by whoever comes first, here the second instance.
    let next = h.post("alice", GENERAL, "@mybot again");
    let two = second
        .send_reply_to(
            "default",
            GENERAL,
            "instance two this time",
            None,
            Some(&next),
            false,
        )
        .await
        .unwrap();
    assert_eq!(two.len(), 1);
    assert!(h
        .core()
        .send_reply_to("default", GENERAL, "late", None, Some(&next), false)
        .await
        .unwrap()
        .is_empty());
    assert!(!bot_texts(&h, GENERAL)
        .iter()
        .any(|t| t == "late" || t == "instance two's answer"));
    second.close().await;
    drop_core(second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_instances_give_one_answer_and_a_live_message_loses_its_placeholder_too() {
    let h = Harness::pat().await;
    let (second, _events) = second_instance(&h).await;
    let asked = h.post("alice", GENERAL, "@mybot race");
    let (a, b) = tokio::join!(
        h.core()
            .send_reply_to("default", GENERAL, "answer A", None, Some(&asked), false),
        second.send_reply_to("default", GENERAL, "answer B", None, Some(&asked), false),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        a.len() + b.len(),
        1,
        "exactly one instance posted: {a:?} {b:?}"
    );
    assert_eq!(bot_texts(&h, GENERAL).len(), 1);

    // A live message: the loser's placeholder is refused, so nothing of it shows. The
    // placeholders are posted in the background, so either instance may win the race.
    let live_q = h.post("alice", GENERAL, "@mybot live");
    let one = h
        .core()
        .start_stream("default", GENERAL, None, Some("Working…"), Some(&live_q))
        .await
        .unwrap();
    let two = second
        .start_stream("default", GENERAL, None, Some("Working…"), Some(&live_q))
        .await
        .unwrap();
    one.push("the live answer of one").unwrap();
    two.status("Working… (a tool)").unwrap();
    two.push("the live answer of two").unwrap();
    let (one, two) = tokio::join!(one.finish(), two.finish());
    let (one, two) = (one.unwrap(), two.unwrap());
    assert_eq!(
        one.len() + two.len(),
        1,
        "exactly one live message: {one:?} {two:?}"
    );
    let won = if one.is_empty() { "two" } else { "one" };
    let texts = bot_texts(&h, GENERAL);
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert_eq!(texts[1], format!("the live answer of {won}"));
    second.close().await;
    drop_core(second);
}
