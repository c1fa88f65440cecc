//! Catch-up: after a reconnect, fetch over REST what was posted in the bot's rooms while it
//! was away, oldest first, so the pipeline can deliver it before newer live messages.

use serde_json::Value;

use crate::inbound::parse_date_ms;
use crate::rest::{RestClient, RestError};

/// Messages with a `ts` this close to the watermark are fetched again: de-duplication drops
/// what was already delivered, and a message stamped a little late is not missed.
pub const OVERLAP_MS: i64 = 2_000;

/// History page size.
const PAGE: u32 = 100;

/// Upper bound on pages per room, so a very long outage cannot fetch without end.
const MAX_PAGES_PER_ROOM: usize = 50;

/// What a catch-up fetched.
#[derive(Debug, Default)]
pub struct Missed {
    /// The room documents (`rooms.get`) of the bot's rooms with activity since then. They
    /// include rooms the bot joined while disconnected, which the supervisor has not heard
    /// of (their `subscriptions-changed` event was missed too).
    pub rooms: Vec<Value>,
    /// Their messages posted since then, oldest first.
    pub messages: Vec<Value>,
}

/// Every message posted after `since_ms` in the rooms the bot is a member of, oldest first,
/// with those rooms.
pub async fn missed_messages(rest: &RestClient, since_ms: i64) -> Result<Missed, RestError> {
    let since = iso(since_ms - OVERLAP_MS);
    // Only rooms with activity since then: a room's `_updatedAt` moves with each message.
    let rooms = rest.rooms_get(Some(&since)).await?.update;
    let mut messages = Vec::new();
    for room in &rooms {
        let (Some(rid), Some(t)) = (
            room.get("_id").and_then(Value::as_str),
            room.get("t").and_then(Value::as_str),
        ) else {
            continue;
        };
        if !matches!(t, "c" | "p" | "d") {
            continue;
        }
        messages.extend(room_history(rest, t, rid, &since).await?);
    }
    messages.sort_by_key(|m| m.get("ts").and_then(parse_date_ms).unwrap_or(0));
    Ok(Missed { rooms, messages })
}

/// One room's messages after `since`, paging backwards from the newest.
async fn room_history(
    rest: &RestClient,
    t: &str,
    rid: &str,
    since: &str,
) -> Result<Vec<Value>, RestError> {
    let mut out: Vec<Value> = Vec::new();
    let mut latest: Option<String> = None;
    for _ in 0..MAX_PAGES_PER_ROOM {
        let page = rest
            .history(t, rid, Some(since), latest.as_deref(), PAGE)
            .await?;
        let full = page.len() as u32 >= PAGE;
        let oldest = page
            .first()
            .and_then(|m| m.get("ts").and_then(parse_date_ms))
            .map(|v| v as i64);
        out.splice(0..0, page);
        match (full, oldest) {
            (true, Some(ms)) => latest = Some(iso(ms)),
            _ => break,
        }
    }
    Ok(out)
}

fn iso(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
