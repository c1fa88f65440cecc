//! Logging in: personal access token, password, a wrong password, and a token revoked
//! while the bot runs.

use crate::support;

use std::time::Duration;

use openclaw_rocketchat::account::ConnectionState;
use openclaw_rocketchat::event::Event;
use rocketchat_sim::Fault;
use support::*;

fn authenticated_as_bot(e: &openclaw_rocketchat::event::EventEnvelope) -> bool {
    matches!(&e.event, Event::Authenticated { user_id, username } if user_id == BOT_ID && username == BOT)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_access_token_login() {
    let mut h = Harness::new().await;
    let report = h.apply(&pat_section(&h.sim.url())).await;
    assert_eq!(report.started, ["default"]);
    let auth = h.ready("default").await;
    assert!(authenticated_as_bot(&auth), "{auth:?}");
    let status = h.core().status("default").await.unwrap();
    assert_eq!(status.state, ConnectionState::Ready);
    assert_eq!(status.user_id.as_deref(), Some(BOT_ID));
    assert_eq!(status.username.as_deref(), Some(BOT));
    let id = h.post("alice", DM, "ping");
    h.delivered(&id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_login() {
    let mut h = Harness::new().await;
    h.apply(&password_section(&h.sim.url(), BOT_PASSWORD)).await;
    let auth = h.ready("default").await;
    assert!(authenticated_as_bot(&auth), "{auth:?}");
    let id = h.post("alice", DM, "ping");
    h.delivered(&id).await;
    h.reply(DM, "pong", None).await;
    assert_eq!(h.sim.messages_by(BOT).len(), 1);
    assert_eq!(
        login_calls(&h.sim).await,
        1,
        "one login serves REST and DDP"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_reports_auth_failed_without_a_tight_loop() {
    let mut h = Harness::new().await;
    h.apply(&password_section(&h.sim.url(), "not-the-password"))
        .await;
    let failed = h
        .events
        .expect("authFailed", WAIT, |e| {
            matches!(e.event, Event::AuthFailed { .. })
        })
        .await;
    let Event::AuthFailed { reason, .. } = &failed.event else {
        unreachable!()
    };
    assert!(
        !reason.contains("not-the-password"),
        "the password never appears in events: {reason}"
    );

    // Two seconds later: a handful of attempts at most (auth_failure_delay is 500 ms here),
    // never a tight loop hammering the rate-limited login route.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let calls = login_calls(&h.sim).await;
    assert!(
        (1..=6).contains(&calls),
        "{calls} login calls in ~2 s with a wrong password"
    );
    h.events
        .settle(Duration::from_millis(100), Duration::from_secs(1))
        .await;
    assert!(
        h.events.of_type(None, "authenticated").is_empty(),
        "{}",
        h.events.dump()
    );
    let status = h.core().status("default").await.unwrap();
    assert_eq!(status.state, ConnectionState::AuthFailed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_account_logs_in_again_after_its_token_is_revoked() {
    let mut h = Harness::new().await;
    h.apply(&password_section(&h.sim.url(), BOT_PASSWORD)).await;
    h.ready("default").await;
    let before = h.post("alice", DM, "before");
    h.delivered(&before).await;

    assert!(h
        .sim
        .faults()
        .inject(Fault::RevokeTokens { user: BOT.into() }));
    // A send right after the revocation: its first request is refused (401); the core logs
    // in again and the message still goes out, once.
    let sent = h.reply(GENERAL, "right after revocation", None).await;
    assert_eq!(sent["msg"], "right after revocation");

    // The realtime side logs in again by itself and keeps delivering.
    let auth = h
        .events
        .expect("authenticated again", WAIT, |e| {
            matches!(e.event, Event::Authenticated { .. })
        })
        .await;
    assert!(authenticated_as_bot(&auth));
    let after = h.post("alice", DM, "after");
    let m = h.delivered(&after).await;
    assert_eq!(m.text, "after");

    h.events
        .settle(Duration::from_millis(300), Duration::from_secs(2))
        .await;
    h.events
        .assert_exactly_once_in_order(None, &[(DM.to_owned(), before), (DM.to_owned(), after)]);
    let by_bot = h.sim.messages_by(BOT);
    assert_eq!(by_bot.len(), 1, "sent exactly once: {by_bot:?}");
    assert!(
        login_calls(&h.sim).await <= 3,
        "a fresh login, not a login storm"
    );
}

/// The bot's session token expires while it runs (the server closes the session, resume is
/// refused as expired): it logs in again with the password and keeps receiving live messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_account_keeps_receiving_after_its_session_token_expires() {
    let mut h = Harness::new().await;
    h.apply(&password_section(&h.sim.url(), BOT_PASSWORD)).await;
    h.ready("default").await;
    let before = h.post("alice", DM, "before");
    h.delivered(&before).await;

    assert!(h
        .sim
        .faults()
        .inject(Fault::ExpireSession { user: BOT.into() }));
    h.events
        .expect("authenticated again", WAIT, |e| {
            matches!(e.event, Event::Authenticated { .. })
        })
        .await;
    for text in ["after 1", "after 2", "after 3"] {
        let id = h.post("alice", DM, text);
        let m = h.delivered(&id).await;
        assert_eq!(m.text, text);
        let id = h.post("alice", GENERAL, &format!("@{BOT} {text}"));
        h.delivered(&id).await;
    }
}
