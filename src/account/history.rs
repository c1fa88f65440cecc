//! One room's history since a date, complete: paged backwards from the newest message until
//! the date, however long the outage was. Bounds are inclusive, so messages sharing a
//! millisecond at a page boundary all come back (Rocket.Chat's `ts` is not unique); the
//! overlap between pages is kept once, by `_id`. The REST client paces the calls within
//! the server's rate limit.

use std::collections::HashSet;

use serde_json::Value;

use crate::inbound::parse_date_ms;
use crate::rest::{RestClient, RestError};

/// History page size: Rocket.Chat's upper limit for `count` (`API_Upper_Count_Limit`).
pub const PAGE: u32 = 100;

/// Times a page the server rate-limited beyond the REST client's own retries is asked again,
/// after the wait the server named: a burst of 429s is not a gap; a limit that outlasts
/// these rounds is ("the budget really is exhausted").
pub const RATE_LIMIT_ROUNDS: u32 = 3;

/// Longest wait honoured between those rounds.
const MAX_ROUND_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// What was fetched of one room.
#[derive(Debug)]
pub struct RoomHistory {
    /// The messages, oldest first.
    pub messages: Vec<Value>,
    /// The error that stopped the paging before it reached the date, if any: the older
    /// part of the range was not fetched.
    pub stopped_by: Option<RestError>,
}

/// The messages of room `rid` (type `t`: `c`, `p` or `d`) posted at or after `oldest` (ISO).
pub async fn room_history(rest: &RestClient, t: &str, rid: &str, oldest: &str) -> RoomHistory {
    let mut newest_first: Vec<Value> = Vec::new();
    let mut ids: HashSet<String> = HashSet::new();
    let mut latest: Option<i64> = None;
    let mut offset = 0usize;
    let mut rounds = 0;
    let stopped_by = loop {
        let latest_iso = latest.map(super::catchup::iso);
        let page = match rest
            .history(t, rid, Some(oldest), latest_iso.as_deref(), offset, PAGE)
            .await
        {
            Ok(page) => page,
            Err(RestError::RateLimited { retry_after_ms, .. }) if rounds < RATE_LIMIT_ROUNDS => {
                rounds += 1;
                let wait = std::time::Duration::from_millis(retry_after_ms).min(MAX_ROUND_WAIT);
                tracing::warn!(room = rid, "history rate limited; asking again in {wait:?}");
                tokio::time::sleep(wait).await;
                continue;
            }
            Err(e) => break Some(e),
        };
        let len = page.len();
        let page_oldest = page.first().and_then(ts_ms);
        let mut fresh = 0;
        for m in page.into_iter().rev() {
            let Some(id) = m.get("_id").and_then(Value::as_str) else {
                continue;
            };
            if ids.insert(id.to_owned()) {
                newest_first.push(m);
                fresh += 1;
            }
        }
        match page_oldest {
            // A short page is the last one: the server had nothing older in the range.
            Some(ms) if len >= PAGE as usize => {
                if latest == Some(ms) || fresh == 0 {
                    // A whole page in one millisecond: the bound cannot move, skip what
                    // was read of it instead.
                    offset += len;
                } else {
                    latest = Some(ms);
                    offset = 0;
                }
            }
            _ => break None,
        }
    };
    newest_first.reverse();
    RoomHistory {
        messages: newest_first,
        stopped_by,
    }
}

/// A message's `ts`, epoch ms.
pub fn ts_ms(m: &Value) -> Option<i64> {
    m.get("ts").and_then(parse_date_ms).map(|v| v as i64)
}
