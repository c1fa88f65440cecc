//! Catch-up: after a reconnect, fetch over REST what was posted in the bot's rooms while it
//! was away, oldest first, so the pipeline can deliver it before newer live messages; and the
//! edits and deletions made meanwhile to messages already delivered, so the host hears of
//! those too.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::history::{room_history, ts_ms};
use super::retention::{self, Retention};
use crate::inbound::parse_date_ms;
use crate::rest::{RestClient, RestError};

/// Messages with a `ts` this close to the watermark are fetched again: de-duplication drops
/// what was already delivered, and a message stamped a little late is not missed.
pub const OVERLAP_MS: i64 = 2_000;

/// Rooms searched for edits after a reconnect. An edit of an older message does not move its
/// room's `_updatedAt`, so each room costs one `chat.syncMessages` call; Rocket.Chat's default
/// REST limit is 10 calls a minute per route for accounts without the `bot` role, and a
/// catch-up must not wait out a rate-limit window before live messages flow again.
pub const EDIT_ROOMS: usize = 10;

/// The rooms where messages were delivered most recently: where a catch-up looks for edits.
#[derive(Debug, Default)]
pub struct RecentRooms {
    tick: u64,
    last: HashMap<String, u64>,
}

impl RecentRooms {
    /// Rooms remembered; the least recently touched is forgotten beyond this.
    const CAPACITY: usize = 4 * EDIT_ROOMS;

    /// A message was delivered in `rid`.
    pub fn touch(&mut self, rid: &str) {
        self.tick += 1;
        if let Some(t) = self.last.get_mut(rid) {
            *t = self.tick;
            return;
        }
        self.last.insert(rid.to_owned(), self.tick);
        if self.last.len() > Self::CAPACITY {
            if let Some(oldest) = self
                .last
                .iter()
                .min_by_key(|(_, t)| **t)
                .map(|(r, _)| r.clone())
            {
                self.last.remove(&oldest);
            }
        }
    }

    /// Up to `n` room ids, most recent first.
    pub fn newest(&self, n: usize) -> Vec<String> {
        let mut rooms: Vec<(&String, &u64)> = self.last.iter().collect();
        rooms.sort_by_key(|(_, t)| std::cmp::Reverse(**t));
        rooms.into_iter().take(n).map(|(r, _)| r.clone()).collect()
    }
}

/// What a catch-up fetched.
#[derive(Debug, Default)]
pub struct Missed {
    /// The room documents (`rooms.get`) of the bot's rooms with activity since then. They
    /// include rooms the bot joined while disconnected, which the supervisor has not heard
    /// of (their `subscriptions-changed` event was missed too).
    pub rooms: Vec<Value>,
    /// Their messages posted since then, oldest first, then the messages of `edit_rooms`
    /// edited since then, in the order of their edits.
    pub messages: Vec<Value>,
    /// (room id, message id) of the messages of `edit_rooms` deleted since then.
    pub deleted: Vec<(String, String)>,
    /// The spans of room histories the server would not give.
    pub gaps: Vec<Gap>,
}

/// A span of one room's history that a catch-up could not fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// Room id.
    pub room_id: String,
    /// Room name (none for DMs).
    pub room_name: Option<String>,
    /// Start, epoch ms: where the catch-up started (the last message seen).
    pub from_ms: i64,
    /// End, epoch ms: the oldest message fetched in that room, or when the catch-up started.
    pub to_ms: i64,
    /// Why, for humans.
    pub reason: String,
}

/// Why a room's history stopped short, when the failure is the room's own (the rest of the
/// catch-up goes on); `None` for failures worth retrying the whole catch-up for.
fn gap_reason(e: &RestError) -> Option<String> {
    match e {
        RestError::Forbidden { .. } | RestError::NotFound { .. } | RestError::Api { .. } => {
            Some(format!(
                "the server refused this room's history ({e}): the bot may no longer be allowed to read it"
            ))
        }
        RestError::RateLimited { .. } => Some(format!(
            "the server's REST rate limit ran out before this room's history was read ({e}); \
             a bot user with the `bot` role is exempt from it"
        )),
        _ => None,
    }
}

/// What was posted while the bot was away, in the rooms it is a member of, oldest first.
///
/// Each room in `room_seen_ms` (the newest `ts` seen there) resumes from that; any other room
/// from `since_ms`, up to which the live stream covered every room. One mark for all rooms
/// would not do: a catch-up reads the rooms one after the other, so when the connection
/// drops while it runs, a room read late can carry messages seconds newer than the drop
/// while a room read early, or not read at all, missed what was posted after it.
///
/// Then the messages of `edit_rooms` (rooms with recent deliveries) and of livechat rooms
/// edited or deleted since then; the pipeline tells edits of delivered messages from repeats
/// by `editedAt`. A room whose history the server refuses or keeps rate-limiting is not a
/// reason to hold back the others: what it would not give is listed in [`Missed::gaps`].
pub async fn missed_messages(
    rest: &RestClient,
    since_ms: i64,
    room_seen_ms: &HashMap<String, i64>,
    edit_rooms: &[String],
) -> Result<Missed, RestError> {
    let (last_seen_ms, started_ms) = (since_ms, chrono::Utc::now().timestamp_millis());
    let since_ms = since_ms - OVERLAP_MS;
    let since = iso(since_ms);
    // Where each room resumes: what was seen in it, or where the live stream left off.
    let room_since = |rid: &str| {
        room_seen_ms
            .get(rid)
            .map_or(since_ms, |seen| seen - OVERLAP_MS)
    };
    let oldest_ms = room_seen_ms
        .values()
        .map(|seen| seen - OVERLAP_MS)
        .fold(since_ms, i64::min);
    // Only rooms with activity since then: a room's `_updatedAt` moves with each message.
    // The list is asked from the oldest room's point; a room with nothing newer than what
    // was seen in it costs no history call.
    let rooms: Vec<Value> = rest
        .rooms_get(Some(&iso(oldest_ms)))
        .await?
        .update
        .into_iter()
        .filter(|room| {
            let (Some(rid), Some(updated)) = (
                room.get("_id").and_then(Value::as_str),
                room.get("_updatedAt").and_then(parse_date_ms),
            ) else {
                return true;
            };
            updated as i64 >= room_since(rid)
        })
        .collect();
    // After a long outage the server may have pruned the oldest of it (its retention policy).
    let retention = if started_ms - last_seen_ms >= retention::CHECK_AFTER_MS {
        Retention::fetch(rest).await.unwrap_or_else(|e| {
            tracing::debug!("retention policy not readable, assuming none: {e}");
            Retention::default()
        })
    } else {
        Retention::default()
    };
    let mut messages = Vec::new();
    let mut livechat = Vec::new();
    let mut gaps = Vec::new();
    for room in &rooms {
        let (Some(rid), Some(t)) = (
            room.get("_id").and_then(Value::as_str),
            room.get("t").and_then(Value::as_str),
        ) else {
            continue;
        };
        match t {
            "c" | "p" | "d" => {
                let room_name = || room.get("name").and_then(Value::as_str).map(str::to_owned);
                if let Some(max_age) = retention.max_age_ms(room) {
                    let pruned_before = started_ms - max_age;
                    if last_seen_ms < pruned_before {
                        gaps.push(Gap {
                            room_id: rid.to_owned(),
                            room_name: room_name(),
                            from_ms: last_seen_ms,
                            to_ms: pruned_before,
                            reason: format!(
                                "the server's retention policy deletes this room's messages after {}: \
                                 what was posted in this span may have been pruned before the bot \
                                 could read it",
                                describe_age(max_age)
                            ),
                        });
                    }
                }
                let history = room_history(rest, t, rid, &iso(room_since(rid))).await;
                let oldest_fetched = history.messages.first().and_then(ts_ms);
                messages.extend(history.messages);
                if let Some(e) = history.stopped_by {
                    let reason = gap_reason(&e).ok_or(e)?;
                    gaps.push(Gap {
                        room_id: rid.to_owned(),
                        room_name: room_name(),
                        from_ms: last_seen_ms,
                        to_ms: oldest_fetched.unwrap_or(started_ms),
                        reason,
                    });
                }
            }
            // The history endpoints refuse livechat rooms: `chat.syncMessages` serves their new
            // messages, with the edits and deletions.
            "l" => livechat.push(rid.to_owned()),
            _ => {}
        }
    }
    let fetched: HashSet<String> = messages.iter().filter_map(message_id).collect();
    let mut edits = Vec::new();
    let mut deleted = Vec::new();
    // Livechat rooms first, all of them (their new messages come only this way), then the
    // rooms with recent deliveries while the budget of `EDIT_ROOMS` calls lasts.
    let sync_rooms: Vec<&String> = livechat
        .iter()
        .chain(edit_rooms.iter().filter(|r| !livechat.contains(r)))
        .take(EDIT_ROOMS.max(livechat.len()))
        .collect();
    for rid in sync_rooms {
        let sync = match rest.sync_messages(rid, &since).await {
            Ok(sync) => sync,
            // The bot may have left the room, or the server may lack the route: the edits
            // are lost for this room, which is no reason to hold back the new messages.
            Err(
                e @ (RestError::Api { .. }
                | RestError::Forbidden { .. }
                | RestError::NotFound { .. }),
            ) => {
                tracing::debug!(room = %rid, "no edit catch-up for this room: {e}");
                continue;
            }
            Err(e) => return Err(e),
        };
        deleted.extend(
            sync.deleted
                .iter()
                .filter_map(message_id)
                .map(|id| (rid.clone(), id)),
        );
        let is_livechat = livechat.contains(rid);
        for m in sync.updated {
            let posted_since = m
                .get("ts")
                .and_then(parse_date_ms)
                .is_some_and(|ts| ts as i64 >= since_ms);
            if is_livechat && posted_since {
                messages.push(m);
            } else if m.get("editedAt").is_some()
                && message_id(&m).is_some_and(|id| !fetched.contains(&id))
            {
                edits.push(m);
            }
        }
    }
    messages.sort_by_key(|m| m.get("ts").and_then(parse_date_ms).unwrap_or(0));
    edits.sort_by_key(|m| m.get("editedAt").and_then(parse_date_ms).unwrap_or(0));
    messages.extend(edits);
    Ok(Missed {
        rooms,
        messages,
        deleted,
        gaps,
    })
}

/// "30 days", "12 hours": a maximum age in the words of the server's settings page.
fn describe_age(ms: i64) -> String {
    const HOUR: i64 = 60 * 60 * 1000;
    match ms {
        ms if ms >= 24 * HOUR && ms % (24 * HOUR) == 0 => format!("{} days", ms / (24 * HOUR)),
        ms if ms >= HOUR => format!("{} hours", ms / HOUR),
        ms => format!("{} minutes", (ms / 60_000).max(1)),
    }
}

fn message_id(m: &Value) -> Option<String> {
    m.get("_id").and_then(Value::as_str).map(str::to_owned)
}

pub(super) fn iso(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_rooms_are_listed_newest_first_and_bounded() {
        let mut r = RecentRooms::default();
        for i in 0..(RecentRooms::CAPACITY + 5) {
            r.touch(&format!("R{i}"));
        }
        r.touch("R3"); // forgotten by now: back as the newest
        r.touch(&format!("R{}", RecentRooms::CAPACITY + 4));
        let newest = r.newest(3);
        assert_eq!(
            newest,
            [
                format!("R{}", RecentRooms::CAPACITY + 4),
                "R3".to_owned(),
                format!("R{}", RecentRooms::CAPACITY + 3)
            ]
        );
        assert_eq!(r.newest(usize::MAX).len(), RecentRooms::CAPACITY);
        assert!(!r.newest(usize::MAX).contains(&"R0".to_owned()));
    }
}
