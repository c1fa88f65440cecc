//! Bad configuration: a clear error naming every problem by account and key, nothing
//! started, nothing running disturbed, and no panic whatever the input.

use crate::support;

use std::time::Duration;

use openclaw_rocketchat::config::NoEnv;
use openclaw_rocketchat::CoreError;
use serde_json::{json, Value};
use support::*;

fn config_error(result: Result<openclaw_rocketchat::ReloadReport, CoreError>) -> Vec<String> {
    match result {
        Err(CoreError::Config(e)) => {
            let text = e.to_string();
            let lines = e.messages();
            for l in &lines {
                assert!(text.contains(l.as_str()), "{text:?} lists {l:?}");
            }
            lines
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}

fn has(lines: &[String], path: &str) -> bool {
    lines.iter().any(|l| l.starts_with(&format!("{path}: ")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_config_lists_every_problem_and_starts_nothing() {
    let mut h = Harness::new().await;
    let url = h.sim.url();
    let section = json!({
        "dmPolicy": "open", "allowFrom": ["*"],
        "textChunkLimit": -1,
        "accounts": {
            "good": {"baseUrl": url, "authToken": BOT_PAT, "userId": BOT_ID},
            "badurl": {"baseUrl": "ftp://chat.example.com", "authToken": "t", "userId": "u"},
            "notoken": {"baseUrl": url, "authToken": "t"},
            "nopass": {"baseUrl": url, "username": "mybot", "mediaMaxMb": -2},
        }
    });
    let lines = config_error(h.core().apply_config(&section, &NoEnv).await);
    for path in [
        "textChunkLimit",
        "accounts.badurl.baseUrl",
        "accounts.notoken.userId",
        "accounts.nopass.password",
        "accounts.nopass.mediaMaxMb",
    ] {
        assert!(has(&lines, path), "{path} missing from {lines:#?}");
    }
    assert!(
        !lines.iter().any(|l| l.contains("accounts.good")),
        "{lines:#?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains(BOT_PAT)),
        "secrets never appear"
    );

    // Nothing started, not even the valid account.
    assert!(h.core().account_ids().await.is_empty());
    h.events
        .settle(Duration::from_millis(300), Duration::from_secs(1))
        .await;
    assert!(h.events.all.is_empty(), "{}", h.events.dump());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_reload_leaves_running_accounts_alone() {
    let mut h = Harness::pat().await;
    let mut bad = pat_section(&h.sim.url());
    bad["baseUrl"] = json!("not a url");
    bad["accounts"] = json!({"second": {"textChunkLimit": 0}});
    let lines = config_error(h.core().apply_config(&bad, &NoEnv).await);
    assert!(has(&lines, "baseUrl"), "{lines:#?}");
    assert!(has(&lines, "accounts.second.textChunkLimit"), "{lines:#?}");

    assert_eq!(h.core().account_ids().await, ["default"]);
    let id = h.post("alice", DM, "still listening?");
    h.delivered(&id).await;
    assert!(h.events.of_type(None, "accountStopped").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_config_shapes_are_errors_not_panics() {
    let h = Harness::new().await;
    let url = h.sim.url();
    let cases: Vec<Value> = vec![
        json!("a string"),
        json!(42),
        json!(null),
        json!([1, 2]),
        json!({"baseUrl": 5, "authToken": BOT_PAT, "userId": BOT_ID}),
        json!({"baseUrl": url, "authToken": BOT_PAT, "userId": BOT_ID, "dmPolicy": "sometimes"}),
        json!({"baseUrl": url, "authToken": BOT_PAT, "userId": BOT_ID, "allowFrom": "*"}),
        json!({"accounts": []}),
        json!({"accounts": {"x": 1}}),
        json!({"accounts": {"x": {"baseUrl": url, "authToken": BOT_PAT, "userId": BOT_ID, "rooms": {"r": 1}}}}),
        json!({"baseUrl": url, "authToken": BOT_PAT, "userId": BOT_ID, "tls": {"caPem": "nope"}}),
        json!({"baseUrl": url, "authToken": "", "userId": BOT_ID}),
    ];
    for case in cases {
        let result = h.core().apply_config(&case, &NoEnv).await;
        match result {
            Err(CoreError::Config(e)) => {
                assert!(!e.messages().is_empty(), "{case}: an empty error");
                for line in e.messages() {
                    assert!(line.contains(": "), "{case}: {line:?} names no key");
                }
            }
            Ok(report) => panic!("{case} was accepted: {report:?}"),
            Err(other) => panic!("{case}: not a config error: {other}"),
        }
        assert!(h.core().account_ids().await.is_empty(), "{case}");
    }
}
