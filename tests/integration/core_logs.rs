//! The core's own log lines reach the host as `log` events, at the level the host chose.

use std::time::Duration;

use openclaw_rocketchat::event::{Event, LogLevel};
use rocketchat_sim::SimConfig;
use serde_json::json;

use crate::support::{core_options, pat_section, Harness};

const WAIT: Duration = Duration::from_secs(30);

fn is_insecure_warning(e: &openclaw_rocketchat::event::EventEnvelope) -> bool {
    matches!(&e.event, Event::Log { level: LogLevel::Warn, message } if message.contains("DISABLED"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_insecure_tls_warning_reaches_the_host_at_start_and_at_every_reconnect() {
    let mut options = core_options();
    options.log_level = Some(LogLevel::Warn);
    let mut h = Harness::with_options(SimConfig::default(), options).await;
    let mut section = pat_section(&h.sim.url());
    section["tls"] = json!({ "insecureSkipVerify": true });
    h.apply(&section).await;
    h.ready("default").await;
    h.events
        .expect(
            "the insecure-TLS warning at start",
            WAIT,
            is_insecure_warning,
        )
        .await;

    h.sim.faults().drop_sockets();
    h.events
        .expect(
            "the insecure-TLS warning at the reconnect",
            WAIT,
            is_insecure_warning,
        )
        .await;
    h.ready("default").await;
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_log_level_no_log_events_are_made() {
    let mut h = Harness::with_options(SimConfig::default(), core_options()).await;
    let mut section = pat_section(&h.sim.url());
    section["tls"] = json!({ "insecureSkipVerify": true });
    h.apply(&section).await;
    h.ready("default").await;
    h.events
        .settle(Duration::from_millis(300), Duration::from_secs(5))
        .await;
    assert!(
        h.events.of_type(None, "log").is_empty(),
        "{:?}",
        h.events.of_type(None, "log")
    );
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_cannot_be_reached_is_a_warning_naming_it() {
    let mut options = core_options();
    options.log_level = Some(LogLevel::Warn);
    let mut h = Harness::with_options(SimConfig::default(), options).await;
    // Nobody listens on the discard port: the login's connection is refused.
    h.apply(&pat_section("http://127.0.0.1:9")).await;
    h.events
        .expect("a warning naming the server", WAIT, |e| {
            matches!(&e.event, Event::Log { level: LogLevel::Warn, message }
                if message.contains("cannot reach a server at http://127.0.0.1:9")
                    && message.contains("trying again in"))
        })
        .await;
    h.close().await;
}
