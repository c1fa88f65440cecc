//! Flood: push N generated messages to every subscriber, as fast as the slowest socket takes
//! them or at a fixed rate, for the throughput and latency benchmarks (`scripts/bench`).
//!
//! The messages are generated deterministically from a seed (ids, rooms, threads, lengths,
//! words), so every client measured receives the same frames. They are broadcast only, not
//! stored: keeping 100 000 documents would measure the simulator's memory, not the client's,
//! and nothing in a benchmark reads them back. Each text starts with `seq=<n> t=<µs> `
//! (sequence number and the epoch microsecond it was published) so a client can check order
//! and measure latency without a side channel.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::ids::UNMISTAKABLE;
use crate::store::{text, ApiError, BusEvent, Room, Store};

/// More events than this waiting for the slowest subscriber pause the flood: the bus holds
/// 65 536 and a connection that falls that far behind is closed as a slow consumer.
const MAX_QUEUED: usize = 4096;

/// Share of messages that are thread replies (one in this many).
const THREAD_EVERY: u32 = 5;

const WORDS: &[&str] = &[
    "deploy",
    "the",
    "build",
    "is",
    "green",
    "again",
    "after",
    "rollback",
    "please",
    "review",
    "ticket",
    "latency",
    "cache",
    "queue",
    "shard",
    "owner",
    "meeting",
    "moved",
    "tomorrow",
    "and",
    "logs",
    "show",
    "a",
    "spike",
    "in",
    "errors",
    "on",
    "node",
    "seven",
    "**urgent**",
    "`config.yaml`",
    "_maybe_",
    "release",
    "notes",
    "draft",
    "ready",
    "for",
    "QA",
    "thanks",
];

/// What to flood: the body of `POST /_sim/flood`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FloodSpec {
    /// Sender (a seeded username).
    pub user: String,
    /// How many messages.
    pub count: u64,
    /// Generator seed: the same seed gives the same messages.
    #[serde(default)]
    pub seed: u64,
    /// Rooms to spread the messages over; every room the sender is a member of when empty.
    #[serde(default)]
    pub rooms: Vec<String>,
    /// Messages per second; as fast as the subscribers read when absent.
    pub rate: Option<f64>,
    /// Smallest text, bytes.
    #[serde(default = "default_min_bytes")]
    pub min_bytes: usize,
    /// Largest text, bytes.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: usize,
}

fn default_min_bytes() -> usize {
    300
}

fn default_max_bytes() -> usize {
    2000
}

/// What a finished flood reports.
#[derive(Clone, Debug, PartialEq)]
pub struct FloodReport {
    /// Messages published.
    pub count: u64,
    /// Time from the first to the last publish.
    pub elapsed: Duration,
}

/// Deterministic message generator for one flood.
pub struct Generator {
    rng: StdRng,
    sender: Value,
    rooms: Vec<Room>,
    /// Thread root per room: the first message generated in it.
    roots: Vec<Option<String>>,
    min_bytes: usize,
    max_bytes: usize,
}

impl Generator {
    /// Resolve the sender and rooms of a spec against the store.
    pub fn new(store: &Store, spec: &FloodSpec) -> Result<Self, ApiError> {
        let user = store
            .user_by_username(&spec.user)
            .ok_or_else(|| ApiError::new("error-invalid-user", "Invalid user"))?;
        let rooms = if spec.rooms.is_empty() {
            store.rooms_of(&user.id)
        } else {
            spec.rooms
                .iter()
                .map(|rid| store.room(rid))
                .collect::<Option<Vec<Room>>>()
                .ok_or_else(|| ApiError::plain("error-invalid-room"))?
        };
        if rooms.is_empty() || rooms.iter().any(|r| !r.members.contains(&user.id)) {
            return Err(ApiError::plain("error-not-allowed"));
        }
        if spec.min_bytes > spec.max_bytes {
            return Err(ApiError::plain("minBytes > maxBytes"));
        }
        Ok(Generator {
            rng: StdRng::seed_from_u64(spec.seed),
            sender: user.brief(),
            roots: vec![None; rooms.len()],
            rooms,
            min_bytes: spec.min_bytes,
            max_bytes: spec.max_bytes,
        })
    }

    /// Message `seq` as a bus event, stamped with the current time.
    pub fn next(&mut self, seq: u64) -> BusEvent {
        let slot = self.rng.random_range(0..self.rooms.len());
        let id: String = (0..17)
            .map(|_| UNMISTAKABLE[self.rng.random_range(0..UNMISTAKABLE.len())] as char)
            .collect();
        let len = self.rng.random_range(self.min_bytes..=self.max_bytes);
        let reply = self.rng.random_ratio(1, THREAD_EVERY);
        let (now_us, now_ms) = now();
        let mut msg = format!("seq={seq} t={now_us}");
        while msg.len() < len {
            msg.push(' ');
            msg.push_str(WORDS[self.rng.random_range(0..WORDS.len())]);
        }
        let room = &self.rooms[slot];
        let mut doc = json!({
            "_id": id,
            "rid": room.id,
            "msg": msg,
            "ts": {"$date": now_ms},
            "u": self.sender,
            "_updatedAt": {"$date": now_ms},
            "urls": [],
            "mentions": [],
            "channels": [],
            "md": text::markdown_ast(&msg, |_| false),
        });
        match &self.roots[slot] {
            Some(root) if reply => {
                doc["tmid"] = json!(root);
                doc["tshow"] = json!(false);
            }
            Some(_) => {}
            None => self.roots[slot] = Some(id),
        }
        BusEvent::RoomMessage {
            message: Arc::new(doc),
            room_type: room.t.clone(),
            room_name: room.name.clone(),
        }
    }
}

fn now() -> (u128, i64) {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_micros(), d.as_millis() as i64)
}

/// Publish the spec's messages. Without a rate, waits whenever the slowest subscriber is
/// [`MAX_QUEUED`] events behind, so nobody is closed as a slow consumer.
pub async fn run(store: &Store, spec: &FloodSpec) -> Result<FloodReport, ApiError> {
    let mut generator = Generator::new(store, spec)?;
    let bus = store.bus();
    let start = Instant::now();
    for seq in 0..spec.count {
        match spec.rate.filter(|r| *r > 0.0) {
            Some(rate) => {
                tokio::time::sleep_until(start + Duration::from_secs_f64(seq as f64 / rate)).await
            }
            None => {
                while bus.queued() >= MAX_QUEUED {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        }
        bus.publish(generator.next(seq));
    }
    Ok(FloodReport {
        count: spec.count,
        elapsed: start.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{default_seed, Profile, Settings};

    fn spec(seed: u64) -> FloodSpec {
        serde_json::from_value(json!({"user": "alice", "count": 50, "seed": seed})).unwrap()
    }

    fn docs(store: &Store, spec: &FloodSpec) -> Vec<Value> {
        let mut g = Generator::new(store, spec).unwrap();
        (0..spec.count)
            .map(|seq| match g.next(seq) {
                BusEvent::RoomMessage { message, .. } => (*message).clone(),
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    /// Ids, rooms, threads and lengths, without the time-dependent parts.
    fn shape(d: &Value) -> (Value, Value, Value, usize) {
        let len = d["msg"].as_str().unwrap().len();
        (d["_id"].clone(), d["rid"].clone(), d["tmid"].clone(), len)
    }

    #[test]
    fn same_seed_same_messages_spread_over_the_senders_rooms() {
        let store = Store::new(&default_seed(), Profile::V8, Settings::default());
        let a = docs(&store, &spec(7));
        let b = docs(&store, &spec(7));
        let c = docs(&store, &spec(8));
        let shapes = |v: &[Value]| v.iter().map(shape).collect::<Vec<_>>();
        assert_eq!(shapes(&a), shapes(&b));
        assert_ne!(shapes(&a), shapes(&c));
        let rooms: std::collections::BTreeSet<&str> =
            a.iter().map(|d| d["rid"].as_str().unwrap()).collect();
        for rid in [
            "GENERAL",
            "pX7aQmTz4cK9rWn2H",
            "Bq7dYg4KxWnZcT3rAk9ZfTqW2mHs8PxLcE",
        ] {
            assert!(rooms.contains(rid), "channel, group and DM: {rooms:?}");
        }
        assert!(
            a.iter().any(|d| d["tmid"].is_string()),
            "some thread replies"
        );
        for (seq, d) in a.iter().enumerate() {
            let msg = d["msg"].as_str().unwrap();
            assert!(msg.starts_with(&format!("seq={seq} t=")), "{msg}");
            assert!((300..2000 + 20).contains(&msg.len()), "{}", msg.len());
            assert_eq!(d["u"]["username"], "alice");
        }
    }

    #[test]
    fn rejects_unknown_senders_and_rooms_they_cannot_post_in() {
        let store = Store::new(&default_seed(), Profile::V8, Settings::default());
        let mut s = spec(1);
        s.user = "nobody".into();
        assert!(Generator::new(&store, &s).is_err());
        let mut s = spec(1);
        s.user = "bob".into();
        s.rooms = vec!["pX7aQmTz4cK9rWn2H".into()];
        assert!(Generator::new(&store, &s).is_err());
    }
}
