//! The inbound pipeline of one account: every message from the realtime streams or the
//! catch-up passes here once, in order: de-duplicate, describe the room, filter (own, system,
//! rooms the bot has not joined), normalise, apply the access rules ([`Gate`]), and hand to
//! the host.
//!
//! Messages go to the event queue with [`EventQueue::push_wait_or`]: a slow host slows this
//! pipeline down rather than losing anything, until the account is stopped; what a full queue
//! then had no room for is counted in [`Inbound::undelivered`]. Drops are counted by reason in the status and
//! (except plain duplicates, which are the normal double delivery) reported as `dropped` events.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::ddp::stream::RawMessage;
use crate::event::{now_ms, DropReason, DroppedEvents, Event, MessageSource, RoomType};
use crate::event_queue::EventQueue;
use crate::inbound::dedupe::{Dedupe, Seen, SeenState, Stamps, DEFAULT_WINDOW};
use crate::inbound::gate::{Decision, Gate};
use crate::inbound::{MessageDoc, NormalizeContext, RoomMeta};

use super::catchup::RecentRooms;
use super::gate_dropped::GateDropped;
use super::rooms::RoomDirectory;
use super::status::AccountStatus;

/// The bot's identity on its server.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// User id.
    pub user_id: String,
    /// Username.
    pub username: String,
}

/// Per-account inbound state.
pub struct Inbound {
    account_id: String,
    bot: Identity,
    mention_all: bool,
    dedupe: Dedupe,
    /// Room facts, shared with the supervisor that keeps them current.
    pub rooms: RoomDirectory,
    /// Newest server `ts` of a message received live, or restored from the state file (epoch
    /// ms): up to about there the live stream covered every room, so a catch-up starts there
    /// for rooms nothing was seen in. Not moved by catch-up: a catch-up cut short reads some
    /// rooms past the moment the connection dropped again and others not at all.
    pub watermark_ms: Option<i64>,
    /// Rooms with recent deliveries: where a catch-up looks for edits.
    pub recent_rooms: RecentRooms,
    queue: Arc<EventQueue>,
    status: Arc<Mutex<AccountStatus>>,
    /// The access rules, shared with the account handle (pairing approvals at run time, and
    /// the conversation window the bot's own replies extend).
    gate: Arc<Mutex<Gate>>,
    /// The account's stop signal: a wait for room in the queue ends with it.
    stop: Option<watch::Receiver<bool>>,
    /// Events for the host not queued because the account stopped while the queue was full.
    pub undelivered: u64,
    /// Messages the gate turned away: an edit of one that now passes is a new trigger.
    gate_dropped: GateDropped,
    /// `encryptedNotice` ("" = none).
    encrypted_notice: String,
    /// Rooms told that encrypted messages cannot be read.
    told_encrypted: HashSet<String>,
    /// Texts the supervisor posts for the pipeline: (room id, text).
    pub notices: Vec<(String, String)>,
    /// Which drops become `dropped` events (host option `droppedEvents`).
    dropped_events: DroppedEvents,
}

impl Inbound {
    /// A pipeline for an account whose identity is known.
    pub fn new(
        account_id: &str,
        bot: Identity,
        mention_all: bool,
        queue: Arc<EventQueue>,
        status: Arc<Mutex<AccountStatus>>,
        gate: Arc<Mutex<Gate>>,
    ) -> Self {
        Inbound {
            gate,
            account_id: account_id.to_owned(),
            bot,
            mention_all,
            dedupe: Dedupe::default(),
            rooms: RoomDirectory::default(),
            watermark_ms: None,
            recent_rooms: RecentRooms::default(),
            queue,
            status,
            stop: None,
            undelivered: 0,
            gate_dropped: GateDropped::default(),
            encrypted_notice: String::new(),
            told_encrypted: HashSet::new(),
            notices: Vec::new(),
            dropped_events: DroppedEvents::All,
        }
    }

    /// Which drops become `dropped` events (every drop is counted in the status anyway).
    pub fn with_dropped_events(mut self, which: DroppedEvents) -> Self {
        self.dropped_events = which;
        self
    }

    /// What to post, once per room, when an encrypted message arrives ("" = nothing).
    pub fn with_encrypted_notice(mut self, notice: &str) -> Self {
        self.encrypted_notice = notice.to_owned();
        self
    }

    /// Give up waiting for room in the queue once `stop` turns true.
    pub fn with_stop(mut self, stop: watch::Receiver<bool>) -> Self {
        self.stop = Some(stop);
        self
    }

    /// Queue an event that must not be lost, waiting for room unless the account stops.
    async fn hand_over(&mut self, event: Event) {
        let stop = self.stop.clone();
        let stopped = async move {
            match stop {
                Some(stop) => super::supervisor::until_stopped(stop).await,
                None => std::future::pending().await,
            }
        };
        if !self
            .queue
            .push_wait_or(Some(&self.account_id), event, stopped)
            .await
        {
            self.undelivered += 1;
        }
    }

    /// Whether a message with this id passed here recently (delivered or not).
    pub fn has_seen(&self, id: &str) -> bool {
        self.dedupe.contains(id)
    }

    /// Continue from what an earlier run of this account had seen (its state file).
    pub fn restore_seen(&mut self, state: SeenState) {
        self.dedupe = Dedupe::restore(DEFAULT_WINDOW, state);
        self.watermark_ms = self.dedupe.newest_ts().map(|v| v as i64);
    }

    /// The newest `ts` seen in each room (epoch ms): where a catch-up resumes that room.
    pub fn room_seen_ms(&self) -> std::collections::HashMap<String, i64> {
        self.dedupe
            .room_marks()
            .map(|(rid, ts)| (rid.to_owned(), ts as i64))
            .collect()
    }

    /// A catch-up starts: its messages are judged against what was seen before the gap,
    /// whatever order they come in, until [`Inbound::end_catch_up`].
    pub fn begin_catch_up(&mut self) {
        self.dedupe.hold_watermarks();
    }

    /// The catch-up is over.
    pub fn end_catch_up(&mut self) {
        self.dedupe.release_watermarks();
    }

    /// What has been seen, for the state file: `None` when nothing changed since the last
    /// call, unless `force`.
    pub fn seen_state(&mut self, force: bool) -> Option<SeenState> {
        self.dedupe.take_state(force)
    }

    fn status(&self) -> std::sync::MutexGuard<'_, AccountStatus> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Count a drop; report it as a `dropped` event unless it is a repeat or the host's
    /// `droppedEvents` leaves drops of this kind of room out. The room's kind as far as it is
    /// known: see [`Inbound::drop_in`] where the message says it.
    fn drop_message(&self, rid: &str, id: &str, reason: DropReason) {
        self.drop_reported(rid, id, reason, || self.rooms.get(rid).map(|m| m.room_type));
    }

    fn drop_in(&self, rid: &str, id: &str, reason: DropReason, room_type: Option<RoomType>) {
        self.drop_reported(rid, id, reason, || room_type);
    }

    fn drop_reported(
        &self,
        rid: &str,
        id: &str,
        reason: DropReason,
        room_type: impl FnOnce() -> Option<RoomType>,
    ) {
        self.status().count_drop(reason);
        if reason != DropReason::Duplicate && self.dropped_events.reports(room_type) {
            self.queue.push(
                Some(&self.account_id),
                Event::Dropped {
                    room_id: rid.to_owned(),
                    message_id: id.to_owned(),
                    reason,
                },
            );
        }
    }

    /// Process one message, still JSON text (a realtime stream's, or a catch-up's REST one). It
    /// is read once, into just the fields the pipeline uses and borrowing its strings, so a
    /// repeat (most deliveries: the overlapping subscriptions, reactions, previews) costs a
    /// scan of the text and no allocation. `stream_meta` is the `__my_messages__` meta when
    /// the message came that way.
    pub async fn handle_raw(
        &mut self,
        raw: &RawMessage,
        stream_meta: Option<RoomMeta>,
        source: MessageSource,
    ) {
        let doc = match MessageDoc::parse(raw.json()) {
            Ok(doc) => doc,
            Err(e) => {
                tracing::warn!(account = %self.account_id, "unreadable message: {e}");
                self.drop_message("", "", DropReason::Malformed);
                return;
            }
        };
        let (Some(id), Some(rid)) = (doc.id(), doc.room_id()) else {
            self.drop_message("", "", DropReason::Malformed);
            return;
        };
        let stamps = Stamps {
            ts: doc.ts_ms(),
            edited_at: doc.edited_at_ms(),
            updated_at: doc.updated_at_ms(),
        };
        let Some(seen) = self.admit(id, rid, stamps, source) else {
            return;
        };
        let (id, rid) = (id.to_owned(), rid.to_owned());
        self.process(doc, &id, &rid, seen, stream_meta, source)
            .await;
    }

    /// Advance the watermark and de-duplicate; `None` when the message is a repeat (counted
    /// and dropped here).
    fn admit(
        &mut self,
        id: &str,
        rid: &str,
        stamps: Stamps,
        source: MessageSource,
    ) -> Option<Seen> {
        if let (Some(ts), MessageSource::Live) = (stamps.ts.map(|v| v as i64), source) {
            self.watermark_ms = Some(self.watermark_ms.map_or(ts, |w| w.max(ts)));
        }
        let seen = self.dedupe.observe(id, rid, stamps);
        if seen == Seen::Repeat {
            self.drop_message(rid, id, DropReason::Duplicate);
            return None;
        }
        Some(seen)
    }

    /// Everything after de-duplication: filter, normalise, gate, deliver.
    async fn process(
        &mut self,
        raw: MessageDoc<'_>,
        id: &str,
        rid: &str,
        seen: Seen,
        stream_meta: Option<RoomMeta>,
        source: MessageSource,
    ) {
        if raw.sender_id() == Some(self.bot.user_id.as_str()) {
            self.drop_message(rid, id, DropReason::Own);
            return;
        }
        if raw.message_type() == Some("e2e") {
            self.drop_message(rid, id, DropReason::Encrypted);
            // Said once per room (while the account runs): the sender would otherwise wait
            // for an answer that cannot come.
            if !self.encrypted_notice.is_empty() && self.told_encrypted.insert(rid.to_owned()) {
                self.notices
                    .push((rid.to_owned(), self.encrypted_notice.clone()));
            }
            return;
        }
        if raw.message_type().is_some_and(|t| !t.is_empty()) {
            self.drop_message(rid, id, DropReason::System);
            return;
        }
        let room = match stream_meta {
            Some(meta) => {
                // Keep what the stream says about rooms we are in; never let a non-member
                // delivery overwrite a membership we know of.
                if meta.participant || self.rooms.get(rid).is_none() {
                    self.rooms.remember(rid, meta.clone());
                }
                meta
            }
            None => self.rooms.get(rid).cloned().unwrap_or(RoomMeta {
                // Delivered on a per-room stream we subscribed to: we are in it.
                room_type: RoomType::Channel,
                room_name: None,
                participant: true,
            }),
        };
        if !room.participant {
            self.drop_in(rid, id, DropReason::NotParticipant, Some(room.room_type));
            return;
        }
        let ctx = NormalizeContext {
            account_id: &self.account_id,
            bot_user_id: &self.bot.user_id,
            bot_username: &self.bot.username,
            room,
            source,
            mention_all: self.mention_all,
        };
        let message = match raw.normalize(&ctx) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(account = %self.account_id, message_id = id, "unreadable message: {e}");
                self.drop_message(rid, id, DropReason::Malformed);
                return;
            }
        };
        let decision = self
            .gate
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .decide(&message, now_ms());
        let mut message = message;
        match decision {
            deliver @ Decision::Deliver { .. } => {
                message.trigger = deliver.into_trigger(&message.text);
            }
            Decision::Drop(reason) => {
                // Only a first sight counts: an edit turned away must not make a later edit of a
                // delivered message look new.
                if seen != Seen::Edited && GateDropped::worth_keeping(reason) {
                    self.gate_dropped.insert(id);
                }
                self.drop_in(rid, id, reason, Some(message.room_type));
                return;
            }
            Decision::Pair { .. } => {
                // An edit never asks again; the first message already did.
                if seen != Seen::Edited {
                    if let Some(event) = decision.report(&message) {
                        self.status().pairing_requests += 1;
                        self.hand_over(event).await;
                        return;
                    }
                }
                self.drop_in(rid, id, DropReason::NotAllowed, Some(message.room_type));
                return;
            }
        }
        // An edit of a message the agent never saw (turned away, now passing) is a new one.
        let new_trigger = seen == Seen::Edited && self.gate_dropped.take(id);
        let event = if seen == Seen::Edited && !new_trigger {
            self.status().edits += 1;
            Event::MessageEdited { message }
        } else {
            let mut st = self.status();
            st.delivered += 1;
            if source == MessageSource::CatchUp {
                st.caught_up += 1;
            }
            st.last_inbound_at = Some(now_ms());
            drop(st);
            Event::Message { message }
        };
        self.recent_rooms.touch(rid);
        self.hand_over(event).await;
    }
}
