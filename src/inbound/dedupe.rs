//! De-duplication by message `_id`. Rocket.Chat delivers the same message again for edits,
//! reactions, link previews and thread-root counters, and our own overlapping subscriptions
//! (`__my_messages__` plus per-room streams) and the REST catch-up deliver it twice more.

use std::collections::{HashMap, VecDeque};

/// How many message ids are remembered (the original plugin kept 2 000 for an hour; a larger
/// window costs a few hundred KB and covers a long catch-up).
pub const DEFAULT_WINDOW: usize = 20_000;

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

/// A bounded memory of delivered message ids and their last edit time.
#[derive(Debug)]
pub struct Dedupe {
    edited_at: HashMap<String, Option<u64>>,
    order: VecDeque<String>,
    window: usize,
}

impl Dedupe {
    /// Remember up to `window` ids (oldest forgotten first).
    pub fn new(window: usize) -> Self {
        Dedupe {
            edited_at: HashMap::new(),
            order: VecDeque::new(),
            window: window.max(1),
        }
    }

    /// Classify a delivery and remember it.
    pub fn observe(&mut self, id: &str, edited_at: Option<u64>) -> Seen {
        match self.edited_at.get_mut(id) {
            None => {
                if self.order.len() >= self.window {
                    if let Some(old) = self.order.pop_front() {
                        self.edited_at.remove(&old);
                    }
                }
                self.order.push_back(id.to_owned());
                self.edited_at.insert(id.to_owned(), edited_at);
                Seen::New
            }
            Some(prev) => match (edited_at, *prev) {
                (Some(new), Some(old)) if new <= old => Seen::Repeat,
                (Some(_), _) => {
                    *prev = edited_at;
                    Seen::Edited
                }
                (None, _) => Seen::Repeat,
            },
        }
    }

    /// Whether an id was delivered (and is still remembered).
    pub fn contains(&self, id: &str) -> bool {
        self.edited_at.contains_key(id)
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

    #[test]
    fn repeats_edits_and_window() {
        let mut d = Dedupe::new(2);
        assert_eq!(d.observe("a", None), Seen::New);
        assert_eq!(
            d.observe("a", None),
            Seen::Repeat,
            "reaction or thread counter"
        );
        assert_eq!(d.observe("a", Some(10)), Seen::Edited);
        assert_eq!(
            d.observe("a", Some(10)),
            Seen::Repeat,
            "same edit seen twice"
        );
        assert_eq!(d.observe("a", Some(11)), Seen::Edited);
        assert_eq!(d.observe("b", None), Seen::New);
        assert_eq!(d.observe("c", None), Seen::New);
        assert!(!d.contains("a"), "oldest id forgotten past the window");
        assert_eq!(d.len(), 2);
    }
}
