//! The messages the access rules turned away (no mention, sender not allowed, empty), kept
//! briefly so that an edit that now passes (a mention added, a typo fixed) is a new trigger
//! rather than an edit of something the agent never saw. Not saved across restarts: after one,
//! such an edit is an edit, so nothing is ever answered twice.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use crate::event::DropReason;

/// Message ids remembered; the oldest is forgotten beyond this.
const CAPACITY: usize = 4096;

/// A bounded set of message ids dropped by the gate.
#[derive(Debug, Default)]
pub struct GateDropped {
    // One allocation per id, shared by the order and the set.
    order: VecDeque<Arc<str>>,
    ids: HashSet<Arc<str>>,
}

impl GateDropped {
    /// Whether an edit could change this decision.
    pub fn worth_keeping(reason: DropReason) -> bool {
        matches!(
            reason,
            DropReason::NoMention | DropReason::NotAllowed | DropReason::Empty
        )
    }

    /// Remember that `id` was turned away.
    pub fn insert(&mut self, id: &str) {
        if self.ids.contains(id) {
            return;
        }
        let id: Arc<str> = Arc::from(id);
        self.ids.insert(Arc::clone(&id));
        self.order.push_back(id);
        if self.order.len() > CAPACITY {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
    }

    /// Forget `id`; whether it was turned away before.
    pub fn take(&mut self, id: &str) -> bool {
        if !self.ids.remove(id) {
            return false;
        }
        self.order.retain(|x| &**x != id);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_each_id_once_and_forgets_the_oldest() {
        let mut d = GateDropped::default();
        for i in 0..(CAPACITY + 1) {
            d.insert(&format!("m{i}"));
        }
        assert!(!d.take("m0"), "the oldest was forgotten");
        assert!(d.take("m1"));
        assert!(!d.take("m1"), "taken once");
    }
}
