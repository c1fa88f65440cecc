//! Flood: push N generated messages to every subscriber, as fast as the slowest socket takes
//! them or at a fixed rate, for the throughput and latency benchmarks (`scripts/bench`).
//!
//! The messages are generated deterministically from a seed (ids, rooms, threads, lengths,
//! words), so every client measured receives the same frames. They are broadcast only, not
//! stored: keeping 100 000 documents would measure the simulator's memory, not the client's,
//! and nothing in a benchmark reads them back. Each text starts with `seq=<n> t=<µs> `
//! (sequence number and the epoch microsecond it was published) so a client can check order
//! and measure latency without a side channel.
//!
//! A replay (`"replay": true`) takes the simulator's own work out of the measurement: every
//! message's DDP frames are encoded once, before the flood starts (`POST /_sim/flood/prepare`,
//! or at the start of the flood when nothing matching was prepared), and each connection
//! writes the same shared bytes, with no per-subscriber JSON work. Its `t=` stamps are the
//! encoding time, so a replay measures throughput, not latency.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::ws::Utf8Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::ddp::streams::{self, Sub, Viewer};
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
    /// A user (username) that one message in `mentionEvery` mentions: messages `seq` with
    /// `(seq + 1) % mentionEvery == 0`, so the last of a whole number of periods is one.
    #[serde(default)]
    pub mention: Option<String>,
    /// See `mention`; every message when absent.
    #[serde(default)]
    pub mention_every: Option<u64>,
    /// Send frames encoded beforehand (the module's doc).
    #[serde(default)]
    pub replay: bool,
}

impl FloodSpec {
    /// Whether two specs generate the same messages (the rate and the mode aside).
    fn same_messages(&self, other: &FloodSpec) -> bool {
        (
            &self.user,
            self.count,
            self.seed,
            &self.rooms,
            self.min_bytes,
            self.max_bytes,
        ) == (
            &other.user,
            other.count,
            other.seed,
            &other.rooms,
            other.min_bytes,
            other.max_bytes,
        ) && (&self.mention, self.mention_every) == (&other.mention, other.mention_every)
    }

    /// Whether message `seq` mentions `mention`.
    fn mentions(&self, seq: u64) -> bool {
        self.mention.is_some() && (seq + 1) % self.mention_every.unwrap_or(1).max(1) == 0
    }
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
    /// The mentioned user (`mentions` entry) and the spec, for which messages mention them.
    mention: Option<(Value, String)>,
    spec: FloodSpec,
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
        let mention = match &spec.mention {
            Some(name) => {
                let u = store
                    .user_by_username(name)
                    .ok_or_else(|| ApiError::new("error-invalid-user", "Invalid mention"))?;
                let entry =
                    json!({"_id": u.id, "username": u.username, "name": u.name, "type": "user"});
                Some((entry, u.username))
            }
            None => None,
        };
        Ok(Generator {
            mention,
            spec: spec.clone(),
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
        let mention = self.mention.as_ref().filter(|_| self.spec.mentions(seq));
        if let Some((_, name)) = mention {
            msg.push_str(" @");
            msg.push_str(name);
        }
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
            "mentions": mention.map(|(entry, _)| vec![entry.clone()]).unwrap_or_default(),
            "channels": [],
            "md": text::markdown_ast(&msg, |n| mention.is_some_and(|(_, name)| name == n)),
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

/// The frames of one replayed message, encoded once for every subscriber.
#[derive(Debug)]
pub struct ReplayFrame {
    room: Arc<RoomAccess>,
    /// `__my_messages__` for a member (`roomParticipant: true`).
    mine: Utf8Bytes,
    /// `__my_messages__` for a reader of a public room who is not a member.
    mine_visitor: Option<Utf8Bytes>,
    /// The per-room stream's frame.
    room_frame: Utf8Bytes,
    /// `<uid>/notification` frames, by user id.
    notifications: Vec<(String, Utf8Bytes)>,
}

/// Who may read a room, as it was when the replay was encoded.
#[derive(Debug)]
struct RoomAccess {
    id: String,
    public: bool,
    members: BTreeSet<String>,
    /// Its messages go on `__my_messages__` (see `Settings::my_messages_private_rooms`).
    on_my_messages: bool,
}

impl ReplayFrame {
    /// Encode one generated message the way [`streams::frames_for`] would for each reader.
    fn encode(store: &Store, event: &BusEvent, room: Arc<RoomAccess>) -> Self {
        let BusEvent::RoomMessage {
            message,
            room_type,
            room_name,
        } = event
        else {
            unreachable!("the generator makes room messages")
        };
        let bytes = |v: Value| Utf8Bytes::from(v.to_string());
        let mine_for = |participant: bool| {
            let mut meta = json!({"roomParticipant": participant, "roomType": room_type});
            if let Some(name) = room_name.as_ref().filter(|_| room_type != "d") {
                meta["roomName"] = json!(name);
            }
            let args = vec![(**message).clone(), meta];
            bytes(streams::changed(
                "stream-room-messages",
                "__my_messages__",
                args,
            ))
        };
        let mut notifications = Vec::new();
        for uid in &room.members {
            let notify_event = format!("{uid}/notification");
            let mut notified = HashSet::new();
            let mut viewer = Viewer {
                store,
                connection: 0,
                user: Some(uid),
                notified: &mut notified,
            };
            let sub = Sub {
                id: String::new(),
                name: "stream-notify-user".into(),
                event: notify_event,
            };
            if let Some(frame) = streams::frames_for(event, std::slice::from_ref(&sub), &mut viewer)
                .into_iter()
                .next()
            {
                notifications.push((uid.clone(), bytes(frame)));
            }
        }
        ReplayFrame {
            mine: mine_for(true),
            mine_visitor: room.public.then(|| mine_for(false)),
            room_frame: bytes(streams::changed(
                "stream-room-messages",
                &room.id,
                vec![(**message).clone()],
            )),
            notifications,
            room,
        }
    }

    /// The frames for one connection's subscriptions, in [`streams::frames_for`]'s order.
    pub fn frames_for<'a>(
        &'a self,
        user: &'a str,
        subs: &'a [Sub],
    ) -> impl Iterator<Item = Utf8Bytes> + 'a {
        let member = self.room.members.contains(user);
        let readable = member || self.room.public;
        let streams = subs.iter().filter(|s| s.name == "stream-room-messages");
        let mine = streams
            .clone()
            .filter(move |s| readable && self.room.on_my_messages && s.event == "__my_messages__")
            .map(move |_| match (&self.mine_visitor, member) {
                (Some(visitor), false) => visitor.clone(),
                _ => self.mine.clone(),
            });
        let room = streams
            .filter(move |s| readable && s.event == self.room.id)
            .map(|_| self.room_frame.clone());
        let notify = self
            .notifications
            .iter()
            .filter(move |(uid, _)| uid == user)
            .flat_map(move |(_, frame)| {
                subs.iter()
                    .filter(move |s| {
                        s.name == "stream-notify-user"
                            && s.event.strip_suffix("/notification") == Some(user)
                    })
                    .map(move |_| frame.clone())
            });
        mine.chain(room).chain(notify)
    }
}

/// A replay encoded ahead of its flood.
pub struct Prepared {
    spec: FloodSpec,
    frames: Vec<Arc<ReplayFrame>>,
}

/// The replay waiting for its flood (`POST /_sim/flood/prepare`).
pub type PreparedSlot = Arc<Mutex<Option<Prepared>>>;

/// Encode every message of a spec (the module's doc). Returns the frames and their bytes.
pub fn prepare(store: &Store, spec: &FloodSpec) -> Result<Prepared, ApiError> {
    let mut generator = Generator::new(store, spec)?;
    let rooms: Vec<Arc<RoomAccess>> = generator
        .rooms
        .iter()
        .map(|r| {
            Arc::new(RoomAccess {
                id: r.id.clone(),
                public: r.t == "c",
                members: r.members.iter().cloned().collect(),
                on_my_messages: r.t == "c" || store.settings.my_messages_private_rooms,
            })
        })
        .collect();
    let frames = (0..spec.count)
        .map(|seq| {
            let event = generator.next(seq);
            let BusEvent::RoomMessage { message, .. } = &event else {
                unreachable!("the generator makes room messages")
            };
            let rid = message["rid"].as_str().unwrap_or_default();
            let room = rooms
                .iter()
                .find(|r| r.id == rid)
                .expect("a room of the spec")
                .clone();
            Arc::new(ReplayFrame::encode(store, &event, room))
        })
        .collect();
    Ok(Prepared {
        spec: spec.clone(),
        frames,
    })
}

impl Prepared {
    /// Messages encoded.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Bytes held by the encoded frames.
    pub fn bytes(&self) -> usize {
        self.frames
            .iter()
            .map(|f| {
                f.mine.len()
                    + f.mine_visitor.as_ref().map_or(0, |v| v.len())
                    + f.room_frame.len()
                    + f.notifications.iter().map(|(_, n)| n.len()).sum::<usize>()
            })
            .sum()
    }
}

/// Publish the spec's messages. Without a rate, waits whenever the slowest subscriber is
/// [`MAX_QUEUED`] events behind, so nobody is closed as a slow consumer. A replay encodes its
/// frames first.
pub async fn run(store: &Store, spec: &FloodSpec) -> Result<FloodReport, ApiError> {
    run_prepared(store, &PreparedSlot::default(), spec).await
}

/// [`run`], a replay taking the frames in `prepared` when they match the spec.
pub async fn run_prepared(
    store: &Store,
    prepared: &PreparedSlot,
    spec: &FloodSpec,
) -> Result<FloodReport, ApiError> {
    if spec.replay {
        let ready = prepared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .filter(|p| p.spec.same_messages(spec));
        let frames = match ready {
            Some(p) => p.frames,
            None => prepare(store, spec)?.frames,
        };
        let mut frames = frames.into_iter();
        return publish(store, spec, |_| {
            BusEvent::Replay(frames.next().expect("count"))
        })
        .await;
    }
    let mut generator = Generator::new(store, spec)?;
    publish(store, spec, |seq| generator.next(seq)).await
}

async fn publish(
    store: &Store,
    spec: &FloodSpec,
    mut next: impl FnMut(u64) -> BusEvent,
) -> Result<FloodReport, ApiError> {
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
        bus.publish(next(seq));
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
