//! Shared helpers for the delivery tests: a simulator, a REST client as the seeded bot,
//! a deliverer, and readers of what the bot left in a room.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use openclaw_rocketchat::auth::StaticToken;
use openclaw_rocketchat::outbound::{utf16_len, Deliverer, DeliverySettings, TypingSink};
use openclaw_rocketchat::rest::{RestClient, RestOptions};
use openclaw_rocketchat::secret::Secret;
use openclaw_rocketchat::tls::{client_config, TlsOptions};
use rocketchat_sim::{Profile, SimConfig, Simulator};
use serde_json::Value;

pub const BOT_ID: &str = "Bq7dYg4KxWnZcT3rA";
pub const BOT_PAT: &str = "Ra2-pCvh7QfE1GmbXW9yZk0sLtNnIuOdJ8Te4wVxY3c";
pub const ALICE_TOKEN: &str = "alice-token-000000000000000000000000000000";
pub const GENERAL: &str = "GENERAL";
pub const OPS: &str = "pX7aQmTz4cK9rWn2H";

/// A simulator with the default seed.
pub async fn sim(profile: Profile) -> Simulator {
    sim_with(SimConfig {
        profile,
        ..Default::default()
    })
    .await
}

/// A simulator with a custom config.
pub async fn sim_with(config: SimConfig) -> Simulator {
    Simulator::start(config).await.expect("simulator starts")
}

/// The bot's REST client, with short backoffs so fault tests stay fast.
pub fn rest(sim: &Simulator) -> RestClient {
    rest_with(sim, RestOptions::default())
}

/// The bot's REST client with `opts`, backoffs shortened.
pub fn rest_with(sim: &Simulator, opts: RestOptions) -> RestClient {
    let tls = client_config(&TlsOptions::default()).expect("tls");
    let tokens = Arc::new(StaticToken::new(BOT_ID, Secret::new(BOT_PAT)));
    let opts = RestOptions {
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        ..opts
    };
    RestClient::new(&sim.url(), tls, tokens, opts).expect("rest client")
}

/// A deliverer for the bot.
pub fn deliverer(sim: &Simulator, settings: DeliverySettings) -> Deliverer {
    Deliverer::with_settings(rest(sim), settings, None)
}

/// A deliverer for the bot, typing through `sink`.
pub fn deliverer_typing(
    sim: &Simulator,
    settings: DeliverySettings,
    sink: Arc<dyn TypingSink>,
) -> Deliverer {
    Deliverer::with_settings(rest(sim), settings, Some(sink))
}

/// The bot's messages in `rid`, oldest first (current state: edits applied).
pub fn bot_messages(sim: &Simulator, rid: &str) -> Vec<Value> {
    sim.messages_in(rid)
        .into_iter()
        .filter(|m| m["u"]["username"] == "mybot")
        .collect()
}

/// The texts of the bot's messages in `rid`.
pub fn bot_texts(sim: &Simulator, rid: &str) -> Vec<String> {
    bot_messages(sim, rid)
        .iter()
        .map(|m| m["msg"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Fence lines in `text` come in pairs.
pub fn fences_balanced(text: &str) -> bool {
    text.lines()
        .filter(|l| {
            let t = l.trim_start();
            t.starts_with("```") || t.starts_with("~~~")
        })
        .count()
        % 2
        == 0
}

/// `text` without fence lines and whitespace: what must survive splitting unchanged.
pub fn essence(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("```"))
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// Every message fits `limit` UTF-16 units and keeps its fences balanced.
pub fn assert_well_formed(texts: &[String], limit: usize) {
    for (i, t) in texts.iter().enumerate() {
        assert!(
            utf16_len(t) <= limit,
            "message {i} is {} units > {limit}",
            utf16_len(t)
        );
        assert!(
            fences_balanced(t),
            "message {i} has unbalanced fences:\n{t}"
        );
        assert!(!t.trim().is_empty(), "message {i} is empty");
    }
}

/// A long markdown reply: paragraphs, a list, a code block longer than `code_lines` lines.
pub fn long_reply(paragraphs: usize, code_lines: usize) -> String {
    let mut s = String::new();
    for p in 0..paragraphs {
        s.push_str(&format!(
            "Paragraph {p}: the quick brown fox jumps over the lazy dog, again and again. \
             Sentences end here. Ünïcödé and emoji 🎉 count as JavaScript does.\n\n"
        ));
        if p == paragraphs / 2 {
            s.push_str("```rust\n");
            for l in 0..code_lines {
                s.push_str(&format!(
                    "    let value_{l} = compute({l}) * 2; // line {l}\n"
                ));
            }
            s.push_str("```\n\n");
            s.push_str("- item one\n- item two\n- item three\n\n");
        }
    }
    s.push_str("The end.");
    s
}
