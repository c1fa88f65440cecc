//! Stopping always finishes, even while the event queue is full and nobody pulls: the
//! account gives up waiting for room, what was queued is still delivered, and the
//! `accountStopped` event says how many messages it could not hand over.

use std::future::Future;
use std::time::{Duration, Instant};

use openclaw_rocketchat::account::ConnectionState;
use openclaw_rocketchat::config::NoEnv;
use openclaw_rocketchat::event::Event;
use rocketchat_sim::{Fault, SimConfig};
use serde_json::json;

use crate::support::*;

/// Events the core holds for the host: small, so a few posts fill it.
const CAPACITY: usize = 6;
/// How long a stop may take on a loaded machine; a hang fails instead of blocking the run.
const LIMIT: Duration = Duration::from_secs(20);

/// Poll `cond` until it holds; panics with `what` after [`LIMIT`].
async fn wait_until<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + LIMIT;
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The default account ready, then more messages than the queue holds and nobody pulling:
/// the queue is full and the account holds one more message, waiting for room.
async fn full_queue() -> Harness {
    let mut options = core_options();
    options.event_capacity = CAPACITY;
    let mut h = Harness::with_options(SimConfig::default(), options).await;
    h.apply(&pat_section(&h.sim.url())).await;
    h.ready("default").await;
    for i in 0..CAPACITY * 3 {
        h.post("alice", GENERAL, &format!("flood {i}"));
    }
    // The pipeline counts a message as delivered just before it waits for room.
    wait_until(
        "the queue is full and the account waits for room",
        || async {
            h.core().events().len() >= CAPACITY && h.status().await.delivered > CAPACITY as u64
        },
    )
    .await;
    h
}

/// After the stop: the messages queued before it come first, in order, then `accountStopped`
/// with the one message the account was holding.
async fn assert_queued_then_reported(h: &mut Harness) {
    let stopped = h
        .events
        .expect("accountStopped", WAIT, |e| {
            matches!(e.event, Event::AccountStopped { .. })
        })
        .await;
    let texts: Vec<String> = h
        .events
        .messages(Some("default"))
        .iter()
        .map(|m| m.text.clone())
        .collect();
    let queued: Vec<String> = (0..CAPACITY).map(|i| format!("flood {i}")).collect();
    assert_eq!(texts, queued, "{}", h.events.dump());
    assert_eq!(
        stopped.event,
        Event::AccountStopped {
            reason: "stopped".into(),
            undelivered: 1,
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_account_finishes_while_the_queue_is_full_and_nobody_pulls() {
    let mut h = full_queue().await;
    let stopped = tokio::time::timeout(LIMIT, h.core().stop_account("default"))
        .await
        .expect("stop_account finishes although nobody pulls");
    assert!(stopped);
    assert!(h.core().account_ids().await.is_empty());
    assert_queued_then_reported(&mut h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_finishes_while_the_queue_is_full_and_nobody_pulls() {
    let mut h = full_queue().await;
    tokio::time::timeout(LIMIT, h.core().close())
        .await
        .expect("close finishes although nobody pulls");
    assert_queued_then_reported(&mut h).await;
    assert!(
        tokio::time::timeout(LIMIT, h.core().events().next())
            .await
            .expect("the closed queue ends")
            .is_none(),
        "nothing after accountStopped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_by_apply_config_finishes_while_the_queue_is_full() {
    let mut h = full_queue().await;
    let mut section = pat_section(&h.sim.url());
    section["chatmode"] = json!("oncall");
    let report = tokio::time::timeout(LIMIT, h.core().apply_config(&section, &NoEnv))
        .await
        .expect("the restart finishes although nobody pulls")
        .expect("valid config");
    assert_eq!(report.restarted, vec!["default".to_owned()]);
    assert_queued_then_reported(&mut h).await;
    // The new run delivers once the host reads again.
    wait_until("the restarted account is ready", || async {
        h.status().await.state == ConnectionState::Ready
    })
    .await;
    let id = h.post("alice", DM, "after the restart");
    h.delivered(&id).await;
}

/// A catch-up that finds a room it may no longer read reports the gap, waiting for room in the
/// queue as a message would: a stop meanwhile (a host stopping from its event callback pulls
/// nothing) still finishes, the gap then counted in an `overflow` event at worst.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_account_finishes_while_a_catch_up_gap_waits_for_room() {
    let mut options = core_options();
    options.event_capacity = CAPACITY;
    let mut h = Harness::with_options(SimConfig::default(), options).await;
    h.apply(&pat_section(&h.sim.url())).await;
    h.ready("default").await;
    let seen = h.post("alice", OPS, "before the outage");
    h.delivered(&seen).await;
    h.sim.stop().await;
    h.sim.faults().inject(Fault::DenyHistory {
        user: BOT.into(),
        rid: OPS.into(),
    });
    h.post("alice", OPS, "posted where the bot may no longer read");
    // Nobody pulls: the reconnect attempts' state events fill the queue (they never wait).
    wait_until("the queue is full", || async {
        h.core().events().len() >= CAPACITY
    })
    .await;
    h.sim
        .restart(Duration::from_millis(300))
        .await
        .expect("the simulator listens again");
    wait_until("the catch-up was refused the room's history", || async {
        h.sim.stats().histories_refused() >= 1
    })
    .await;
    let stopped = tokio::time::timeout(LIMIT, h.core().stop_account("default"))
        .await
        .expect("stop_account finishes although a catch-up gap waits for room");
    assert!(stopped);
    let end = h
        .events
        .expect("accountStopped", WAIT, |e| {
            matches!(e.event, Event::AccountStopped { .. })
        })
        .await;
    assert_eq!(
        end.event,
        Event::AccountStopped {
            reason: "stopped".into(),
            undelivered: 0,
        },
        "{}",
        h.events.dump()
    );
}
