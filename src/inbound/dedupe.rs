//! De-duplication. Rocket.Chat delivers the same message again for edits, reactions, link
//! previews and thread-root counters, and our own overlapping subscriptions
//! (`__my_messages__` plus per-room streams) and the REST catch-up deliver it twice more.
//!
//! Two memories decide: the last [`DEFAULT_WINDOW`] ids (with their last edit time), and per
//! room a watermark, the newest `ts` seen there with the ids that carry it. A re-broadcast
//! keeps the message's original `ts`, so a message older than its room's watermark was seen
//! before even when its id has long left the window (a reaction on an old DM after a busy day
//! in the channels). `ts` is milliseconds and not unique: a message stamped exactly at the
//! watermark is a repeat only if its id is one of those the watermark remembers.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// How many message ids are remembered (the original plugin kept 2 000 for an hour; a larger
/// window costs a few hundred KB and covers a long catch-up).
pub const DEFAULT_WINDOW: usize = 20_000;

/// How far below its room's watermark a message never seen may be stamped and still be new.
/// Rocket.Chat stamps `ts` before it inserts, so concurrent sends (or server instances with
/// skewed clocks) can arrive slightly out of order. Only a message untouched since it was
/// posted (no `editedAt`, `_updatedAt` within this of `ts`) is given that benefit: a
/// re-broadcast carries the newer `_updatedAt` of its reaction, edit or preview.
pub const REORDER_MS: u64 = 1_000;

/// What a delivery of a message id is, compared with what was seen before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// First time: deliver it.
    New,
    /// The text was edited since it was delivered (a newer `editedAt`): an edit event.
    Edited,
    /// Already delivered and not edited since (reaction, preview, thread counter, overlap).
    Repeat,
}

/// The dates of a delivery that de-duplication reads (epoch ms).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stamps {
    /// `ts`: when it was posted; a re-broadcast keeps it.
    pub ts: Option<u64>,
    /// `editedAt`.
    pub edited_at: Option<u64>,
    /// `_updatedAt`: the last change of any kind.
    pub updated_at: Option<u64>,
}

/// A room's watermark: the newest `ts` seen there, the ids stamped with it, and the newest
/// post or edit time seen there (an edit older than that was already seen).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomMark {
    /// Newest `ts` (epoch ms).
    pub ts: u64,
    /// Ids of the messages with that `ts`.
    pub ids: Vec<String>,
    /// Newest `ts` or `editedAt` (epoch ms).
    pub seen_until: u64,
}

/// Everything [`Dedupe`] knows, for keeping it across restarts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeenState {
    /// Watermark per room id.
    pub rooms: BTreeMap<String, RoomMark>,
    /// Remembered ids with their last `editedAt`, oldest first.
    pub recent: Vec<(String, Option<u64>)>,
}

/// A bounded memory of delivered message ids, and a watermark per room.
#[derive(Debug)]
pub struct Dedupe {
    // One allocation per id, shared by the map and the order.
    edited_at: HashMap<Arc<str>, Option<u64>>,
    order: VecDeque<Arc<str>>,
    window: usize,
    rooms: HashMap<String, RoomMark>,
    /// While a catch-up runs, the watermarks from before it: its messages come room after
    /// room, thread replies after the rest, and must be judged against what was seen before
    /// the gap, not against each other.
    held: Option<HashMap<String, RoomMark>>,
    changed: bool,
}

impl Dedupe {
    /// Remember up to `window` ids (oldest forgotten first).
    pub fn new(window: usize) -> Self {
        Dedupe {
            edited_at: HashMap::new(),
            order: VecDeque::new(),
            window: window.max(1),
            rooms: HashMap::new(),
            held: None,
            changed: false,
        }
    }

    /// Continue from a saved [`SeenState`], remembering up to `window` ids.
    pub fn restore(window: usize, state: SeenState) -> Self {
        let mut d = Dedupe::new(window);
        for (id, edited_at) in state.recent {
            if !d.edited_at.contains_key(id.as_str()) {
                d.remember(&id, edited_at);
            }
        }
        d.rooms = state.rooms.into_iter().collect();
        d.changed = false;
        d
    }

    /// Classify a delivery of message `id` in room `rid` and remember it.
    pub fn observe(&mut self, id: &str, rid: &str, stamps: Stamps) -> Seen {
        let seen = match self.edited_at.get_mut(id) {
            Some(prev) => match (stamps.edited_at, *prev) {
                (Some(new), Some(old)) if new <= old => Seen::Repeat,
                (Some(_), _) => {
                    *prev = stamps.edited_at;
                    self.changed = true;
                    Seen::Edited
                }
                (None, _) => Seen::Repeat,
            },
            None => {
                let seen = match self.older_than_watermark(id, rid, &stamps) {
                    // Seen before the window forgot it: an edit only if made after
                    // everything seen in the room (else that edit was seen too).
                    Some(seen_until) => match stamps.edited_at {
                        Some(edited) if edited > seen_until => Seen::Edited,
                        _ => Seen::Repeat,
                    },
                    None => Seen::New,
                };
                self.remember(id, stamps.edited_at);
                seen
            }
        };
        self.advance(id, rid, &stamps);
        seen
    }

    /// `Some(seen_until)` of the room when the message is older than its room's watermark
    /// (see [`REORDER_MS`] for the one exception).
    fn older_than_watermark(&self, id: &str, rid: &str, s: &Stamps) -> Option<u64> {
        let rooms = self.held.as_ref().unwrap_or(&self.rooms);
        let (mark, ts) = (rooms.get(rid)?, s.ts?);
        let older = if ts == mark.ts {
            mark.ids.iter().any(|i| i == id)
        } else if ts < mark.ts {
            let untouched =
                s.edited_at.is_none() && s.updated_at.is_some_and(|u| u <= ts + REORDER_MS);
            !(untouched && ts + REORDER_MS >= mark.ts)
        } else {
            false
        };
        older.then_some(mark.seen_until)
    }

    fn remember(&mut self, id: &str, edited_at: Option<u64>) {
        if self.order.len() >= self.window {
            if let Some(old) = self.order.pop_front() {
                self.edited_at.remove(&old);
            }
        }
        let id: Arc<str> = Arc::from(id);
        self.edited_at.insert(Arc::clone(&id), edited_at);
        self.order.push_back(id);
        self.changed = true;
    }

    fn advance(&mut self, id: &str, rid: &str, s: &Stamps) {
        let newest = s.ts.max(s.edited_at);
        if s.ts.is_none() && newest.is_none() {
            return;
        }
        if !self.rooms.contains_key(rid) {
            self.rooms.insert(rid.to_owned(), RoomMark::default());
        }
        let Some(mark) = self.rooms.get_mut(rid) else {
            return;
        };
        if let Some(ts) = s.ts {
            if ts > mark.ts || mark.ids.is_empty() {
                mark.ts = ts;
                mark.ids.clear();
                mark.ids.push(id.to_owned());
                self.changed = true;
            } else if ts == mark.ts && !mark.ids.iter().any(|i| i == id) {
                mark.ids.push(id.to_owned());
                self.changed = true;
            }
        }
        if let Some(newest) = newest.filter(|n| *n > mark.seen_until) {
            mark.seen_until = newest;
            self.changed = true;
        }
    }

    /// Judge what follows (a catch-up) against the watermarks as they are now, until
    /// [`Dedupe::release_watermarks`].
    pub fn hold_watermarks(&mut self) {
        self.held = Some(self.rooms.clone());
    }

    /// Back to judging against the current watermarks.
    pub fn release_watermarks(&mut self) {
        self.held = None;
    }

    /// Whether an id was delivered (and is still remembered).
    pub fn contains(&self, id: &str) -> bool {
        self.edited_at.contains_key(id)
    }

    /// The newest `ts` seen in any room (epoch ms): where a catch-up starts.
    pub fn newest_ts(&self) -> Option<u64> {
        self.rooms
            .values()
            .filter(|m| !m.ids.is_empty())
            .map(|m| m.ts)
            .max()
    }

    /// Each room's watermark `ts` (epoch ms): the newest message seen there.
    pub fn room_marks(&self) -> impl Iterator<Item = (&str, u64)> {
        self.rooms
            .iter()
            .filter(|(_, m)| !m.ids.is_empty())
            .map(|(rid, m)| (rid.as_str(), m.ts))
    }

    /// Everything remembered, when it changed since the last call (or `force`).
    pub fn take_state(&mut self, force: bool) -> Option<SeenState> {
        if !(self.changed || force) {
            return None;
        }
        self.changed = false;
        Some(SeenState {
            rooms: self
                .rooms
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            recent: self
                .order
                .iter()
                .map(|id| (id.to_string(), self.edited_at.get(id).copied().flatten()))
                .collect(),
        })
    }

    /// Ids remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

impl Default for Dedupe {
    fn default() -> Self {
        Dedupe::new(DEFAULT_WINDOW)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ts: u64) -> Stamps {
        Stamps {
            ts: Some(ts),
            edited_at: None,
            updated_at: Some(ts),
        }
    }

    fn rebroadcast(ts: u64, updated: u64) -> Stamps {
        Stamps {
            updated_at: Some(updated),
            ..at(ts)
        }
    }

    #[test]
    fn repeats_edits_and_window() {
        let mut d = Dedupe::new(2);
        let edit = |t| Stamps {
            edited_at: Some(t),
            ..at(1)
        };
        assert_eq!(d.observe("a", "R", at(1)), Seen::New);
        assert_eq!(
            d.observe("a", "R", at(1)),
            Seen::Repeat,
            "reaction or thread counter"
        );
        assert_eq!(d.observe("a", "R", edit(10)), Seen::Edited);
        assert_eq!(
            d.observe("a", "R", edit(10)),
            Seen::Repeat,
            "same edit seen twice"
        );
        assert_eq!(d.observe("a", "R", edit(11)), Seen::Edited);
        assert_eq!(d.observe("b", "S", at(2)), Seen::New);
        assert_eq!(d.observe("c", "S", at(3)), Seen::New);
        assert!(!d.contains("a"), "oldest id forgotten past the window");
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn a_message_older_than_its_room_is_a_repeat_after_the_window_forgot_it() {
        let mut d = Dedupe::new(1);
        assert_eq!(d.observe("old", "DM", at(1_000)), Seen::New);
        assert_eq!(d.observe("newer", "DM", at(5_000)), Seen::New);
        assert_eq!(d.observe("other", "GENERAL", at(9_000)), Seen::New);
        assert!(!d.contains("old") && !d.contains("newer"));
        assert_eq!(
            d.observe("old", "DM", rebroadcast(1_000, 9_500)),
            Seen::Repeat,
            "a reaction on an old message"
        );
        assert_eq!(
            d.observe("newer", "DM", rebroadcast(5_000, 9_600)),
            Seen::Repeat,
            "the room's newest message, reacted to"
        );
        let edited = Stamps {
            edited_at: Some(9_700),
            ..rebroadcast(1_000, 9_700)
        };
        d.observe("other", "GENERAL", at(9_800));
        assert_eq!(d.observe("old", "DM", edited), Seen::Edited);
        d.observe("other2", "GENERAL", at(9_900));
        assert_eq!(
            d.observe("old", "DM", rebroadcast(1_000, 9_950)),
            Seen::Repeat
        );
        d.observe("other3", "GENERAL", at(9_990));
        let reacted_after_edit = Stamps {
            edited_at: Some(9_700),
            ..rebroadcast(1_000, 9_999)
        };
        assert_eq!(
            d.observe("old", "DM", reacted_after_edit),
            Seen::Repeat,
            "a reaction on a message whose edit was already reported"
        );
    }

    #[test]
    fn equal_ts_with_an_unseen_id_is_new() {
        let mut d = Dedupe::new(1);
        assert_eq!(d.observe("a", "R", at(7)), Seen::New);
        assert_eq!(d.observe("b", "R", at(7)), Seen::New, "same millisecond");
        d.observe("x", "S", at(8));
        assert_eq!(d.observe("a", "R", rebroadcast(7, 20)), Seen::Repeat);
        assert_eq!(d.observe("b", "R", rebroadcast(7, 20)), Seen::Repeat);
        d.observe("y", "S", at(9));
        assert_eq!(d.observe("c", "R", rebroadcast(7, 20)), Seen::New);
    }

    #[test]
    fn a_fresh_message_stamped_a_little_late_is_new() {
        let mut d = Dedupe::new(10);
        d.observe("b", "R", at(10_000));
        assert_eq!(d.observe("a", "R", at(9_990)), Seen::New, "insert race");
        assert_eq!(
            d.observe("c", "R", rebroadcast(9_990, 12_000)),
            Seen::Repeat,
            "touched long after it was posted: a re-broadcast"
        );
        assert_eq!(
            d.observe("e", "R", at(10_000 - REORDER_MS - 1)),
            Seen::Repeat,
            "far below the watermark"
        );
    }

    #[test]
    fn a_catch_up_is_judged_against_the_watermarks_from_before_the_gap() {
        let mut d = Dedupe::new(1);
        d.observe("seen", "R", at(100));
        d.hold_watermarks();
        assert_eq!(d.observe("reply-late", "R", at(8_000)), Seen::New);
        assert_eq!(
            d.observe("root-reply", "R", at(3_000)),
            Seen::New,
            "a thread reply fetched after newer messages of its room"
        );
        let edited_in_the_gap = Stamps {
            edited_at: Some(2_000),
            ..rebroadcast(50, 2_000)
        };
        assert_eq!(d.observe("older", "R", edited_in_the_gap), Seen::Edited);
        d.release_watermarks();
        d.observe("x", "S", at(9_000));
        assert_eq!(
            d.observe("root-reply", "R", rebroadcast(3_000, 9_500)),
            Seen::Repeat
        );
    }

    #[test]
    fn restored_state_decides_as_before() {
        let mut d = Dedupe::new(10);
        d.observe("a", "R", at(5));
        d.observe("b", "S", at(6));
        let state = d.take_state(false).expect("changed");
        assert!(d.take_state(false).is_none(), "nothing new since");
        let mut back = Dedupe::restore(10, state.clone());
        assert_eq!(back.newest_ts(), Some(6));
        assert_eq!(back.observe("a", "R", at(5)), Seen::Repeat);
        assert_eq!(back.observe("c", "R", at(7)), Seen::New);
        let mut small = Dedupe::restore(1, state);
        assert_eq!(small.len(), 1);
        assert_eq!(
            small.observe("a", "R", rebroadcast(5, 50)),
            Seen::Repeat,
            "the watermark remembers what the window no longer holds"
        );
    }
}
