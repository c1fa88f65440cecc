//! Ten bot accounts on one runtime: each logs in, each gets its own messages, and stopping,
//! restarting or reconfiguring one never disturbs the others.

use crate::support;

use std::time::Duration;

use openclaw_rocketchat::event::{Event, EventEnvelope};
use rocketchat_sim::seed::{SeedRoom, SeedUser};
use rocketchat_sim::{default_seed, SimConfig};
use serde_json::{json, Map, Value};
use support::*;

const N: usize = 10;

fn account(i: usize) -> String {
    format!("a{i}")
}
fn bot_name(i: usize) -> String {
    format!("bot{i}")
}
fn bot_id(i: usize) -> String {
    format!("TenBotUser{i:07}")
}
fn bot_pat(i: usize) -> String {
    format!("pat-of-bot{i}-{}", "x".repeat(30))
}
/// A private group of bot `i` and alice.
fn room(i: usize) -> String {
    format!("TenBotRoom{i:07}")
}

/// The default seed plus ten bots, each in the channel and in its own group with alice.
fn seed() -> rocketchat_sim::Seed {
    let mut seed = default_seed();
    for i in 0..N {
        seed.users.push(SeedUser {
            id: bot_id(i),
            username: bot_name(i),
            name: format!("Bot {i}"),
            password: format!("bot{i}-pass"),
            roles: vec!["user".into(), "bot".into()],
            login_tokens: vec![],
            personal_access_tokens: vec![bot_pat(i)],
            totp_code: None,
        });
        seed.rooms.push(SeedRoom {
            id: room(i),
            t: "p".into(),
            name: Some(format!("team-{i}")),
            members: vec![bot_name(i), "alice".into()],
            read_only: false,
        });
        seed.rooms
            .iter_mut()
            .find(|r| r.id == GENERAL)
            .unwrap()
            .members
            .push(bot_name(i));
    }
    seed
}

fn section(url: &str, renamed: Option<usize>) -> Value {
    let mut accounts = Map::new();
    for i in 0..N {
        let mut a = json!({"baseUrl": url, "authToken": bot_pat(i), "userId": bot_id(i)});
        if renamed == Some(i) {
            a["name"] = json!("renamed");
        }
        accounts.insert(account(i), a);
    }
    json!({"dmPolicy": "open", "allowFrom": ["*"], "groupPolicy": "open", "chatmode": "onmessage", "accounts": accounts})
}

fn is(account_id: &str, e: &EventEnvelope, type_name: &str) -> bool {
    e.account_id.as_deref() == Some(account_id) && e.event.type_name() == type_name
}

/// Alice posts in each listed bot's group; each bot gets its own message, and only that one.
async fn each_gets_its_own(h: &mut Harness, bots: &[usize], tag: &str) -> Vec<String> {
    let ids: Vec<String> = bots
        .iter()
        .map(|&i| h.post("alice", &room(i), &format!("{tag} for bot{i}")))
        .collect();
    for (&i, id) in bots.iter().zip(&ids) {
        let m = delivered_to(&mut h.events, Some(&account(i)), id).await;
        assert_eq!(m.room_id, room(i));
        assert_eq!(m.account_id, account(i));
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_accounts_on_one_runtime() {
    let mut h = Harness::with_sim(SimConfig {
        seed: Some(seed()),
        ..SimConfig::default()
    })
    .await;
    let url = h.sim.url();
    let report = h.apply(&section(&url, None)).await;
    assert_eq!(report.started.len(), N, "{report:?}");
    let all: Vec<usize> = (0..N).collect();
    for i in 0..N {
        let auth = h.ready(&account(i)).await;
        assert!(
            matches!(&auth.event, Event::Authenticated { user_id, username } if *user_id == bot_id(i) && *username == bot_name(i)),
            "{auth:?}"
        );
    }

    // Everyone receives its own messages, and a channel message reaches each bot once.
    let mut own = each_gets_its_own(&mut h, &all, "first").await;
    let shared = h.post("alice", GENERAL, "hello bots");
    for i in 0..N {
        delivered_to(&mut h.events, Some(&account(i)), &shared).await;
    }

    // Stop one: the others keep receiving; the stopped one gets nothing.
    assert!(h.core().stop_account(&account(3)).await);
    h.events
        .expect("a3 stopped", WAIT, |e| is("a3", e, "accountStopped"))
        .await;
    let others: Vec<usize> = all.iter().copied().filter(|&i| i != 3).collect();
    let while_stopped = h.post("alice", &room(3), "while a3 is stopped");
    own.extend(each_gets_its_own(&mut h, &others, "a3 stopped").await);

    // Re-apply the config: a3 starts again (and catches nothing up: it is a new start), the
    // others are left untouched.
    let report = h.apply(&section(&url, None)).await;
    assert_eq!(report.started, ["a3"], "{report:?}");
    assert_eq!(report.unchanged.len(), N - 1);
    h.ready("a3").await;
    own.extend(each_gets_its_own(&mut h, &all, "a3 back").await);

    // Change one account: only it restarts.
    let report = h.apply(&section(&url, Some(5))).await;
    assert_eq!(report.restarted, ["a5"], "{report:?}");
    assert_eq!(report.unchanged.len(), N - 1);
    h.ready("a5").await;
    own.extend(each_gets_its_own(&mut h, &all, "a5 renamed").await);

    h.events
        .settle(Duration::from_millis(300), Duration::from_secs(3))
        .await;
    // Exactly once per account, and never to the wrong one.
    for i in 0..N {
        let counts = h.events.message_counts(Some(&account(i)));
        assert_eq!(counts.get(&shared), Some(&1), "a{i}");
        for (id, n) in &counts {
            assert_eq!(*n, 1, "a{i} got {id} {n} times");
        }
        let in_other_rooms = h
            .events
            .messages(Some(&account(i)))
            .into_iter()
            .filter(|m| m.room_id != room(i) && m.room_id != GENERAL)
            .count();
        assert_eq!(in_other_rooms, 0, "a{i} got another bot's room");
    }
    assert_eq!(
        h.events
            .messages(None)
            .iter()
            .filter(|m| own.contains(&m.message_id))
            .count(),
        own.len()
    );
    assert!(
        !h.events
            .message_counts(Some("a3"))
            .contains_key(&while_stopped),
        "a stopped account delivers nothing"
    );
    // The untouched accounts never noticed: one login each, no disconnect, no stop.
    for i in (0..N).filter(|&i| i != 3 && i != 5) {
        let a = account(i);
        let mine = |t: &str| h.events.all.iter().filter(|e| is(&a, e, t)).count();
        assert_eq!(mine("authenticated"), 1, "{a}:\n{}", h.events.dump());
        assert_eq!(mine("disconnected"), 0, "{a}");
        assert_eq!(mine("accountStopped"), 0, "{a}");
    }
    let statuses = h.core().statuses().await;
    assert_eq!(statuses.len(), N);
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_and_closing_during_an_outage_are_prompt() {
    let mut h = Harness::pat().await;
    h.sim.stop().await;
    h.events
        .expect("disconnected", WAIT, |e| is("default", e, "disconnected"))
        .await;
    let started = std::time::Instant::now();
    assert!(h.core().stop_account("default").await);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "stop took {:?}",
        started.elapsed()
    );
    h.events
        .expect("stopped", WAIT, |e| is("default", e, "accountStopped"))
        .await;
    assert!(h.core().account_ids().await.is_empty());
    assert!(!h.core().stop_account("default").await, "already stopped");

    // An account that cannot reach its server at all stops promptly too, as does close().
    h.apply(&pat_section(&h.sim.url())).await;
    h.events
        .expect("a failed attempt", WAIT, |e| {
            is("default", e, "disconnected")
        })
        .await;
    let started = std::time::Instant::now();
    h.close().await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(h.core().events().is_closed());
    let err = h
        .core()
        .send_text("default", GENERAL, "after close", None)
        .await
        .expect_err("closed");
    assert!(
        matches!(err, openclaw_rocketchat::CoreError::UnknownAccount(_)),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_host_loses_no_message() {
    // Room for 4 events only, and a host that does not read while 60 messages arrive.
    let mut options = core_options();
    options.event_capacity = 4;
    let mut h = Harness::with_options(SimConfig::default(), options).await;
    h.apply(&pat_section(&h.sim.url())).await;
    h.ready("default").await;
    let mut ids = Vec::new();
    for i in 0..60 {
        let rid = [GENERAL, OPS, DM][i % 3];
        ids.push((rid.to_owned(), h.post("alice", rid, &format!("m{i}"))));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Now read everything.
    let last = ids.last().unwrap().1.clone();
    h.delivered(&last).await;
    h.events
        .settle(Duration::from_millis(300), Duration::from_secs(3))
        .await;
    h.events.assert_exactly_once_in_order(None, &ids);
    let status = h.core().status("default").await.unwrap();
    assert_eq!(
        status.state,
        openclaw_rocketchat::account::ConnectionState::Ready
    );
}
