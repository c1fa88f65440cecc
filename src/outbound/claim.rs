//! Replies that two instances of one bot can both send (two gateways for availability), with
//! the server as the only coordinator.
//!
//! Each message of a reply to a given message gets a client `_id` derived from the bot, the
//! message answered and the message's number in the reply ([`ReplyTo`]). A second instance
//! answering the same message derives the same ids, and Rocket.Chat refuses a message whose
//! `_id` it already has. So the first instance to post a message of the reply claims it; the
//! other finds the id taken by a different text and stops sending that reply ([`Claims`]). The
//! agent's work is still done twice: only what reaches the room is once.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::rest::ID_ALPHABET;

/// What a reply answers: the seed of its messages' ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyTo {
    /// The message answered.
    pub message_id: String,
    seed: String,
}

impl ReplyTo {
    /// The reply of bot `bot_user_id` to message `message_id`.
    pub fn new(bot_user_id: &str, message_id: &str) -> Self {
        ReplyTo {
            message_id: message_id.to_owned(),
            seed: format!("openclaw-rocketchat reply\n{bot_user_id}\n{message_id}"),
        }
    }

    /// The client `_id` of the reply's message number `index` (from 0): 17 characters of
    /// Rocket.Chat's id alphabet, the same in every instance.
    pub fn message_id_at(&self, index: u32) -> String {
        let digest = Sha256::digest(format!("{}\n{index}", self.seed));
        digest
            .iter()
            .take(17)
            .map(|b| ID_ALPHABET[usize::from(*b) % ID_ALPHABET.len()] as char)
            .collect()
    }
}

/// Replies remembered per account: enough for every turn in flight, and for a late payload
/// of a turn to still find its numbering.
const REMEMBERED: usize = 1024;

#[derive(Debug, Default)]
struct Reply {
    next: u32,
    claimed_elsewhere: bool,
}

/// Per account: the next message number of each reply, and the replies another instance
/// has claimed.
#[derive(Debug, Default)]
pub struct Claims {
    inner: Mutex<(VecDeque<String>, HashMap<String, Reply>)>,
}

impl Claims {
    /// The id for the next message of `reply`, or `None` once another instance has claimed
    /// the reply (nothing more of it is sent from here).
    pub fn next_id(&self, reply: &ReplyTo) -> Option<String> {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (order, replies) = &mut *guard;
        if !replies.contains_key(&reply.message_id) {
            if order.len() >= REMEMBERED {
                if let Some(old) = order.pop_front() {
                    replies.remove(&old);
                }
            }
            order.push_back(reply.message_id.clone());
        }
        let entry = replies.entry(reply.message_id.clone()).or_default();
        if entry.claimed_elsewhere {
            return None;
        }
        let index = entry.next;
        entry.next += 1;
        Some(reply.message_id_at(index))
    }

    /// Another instance posted a message of `reply` first. Returns true the first time, so
    /// the claim is counted once per reply.
    pub fn lost(&self, reply: &ReplyTo) -> bool {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let entry = guard.1.entry(reply.message_id.clone()).or_default();
        !std::mem::replace(&mut entry.claimed_elsewhere, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_same_in_every_instance_and_differ_per_bot_message_and_index() {
        let a = ReplyTo::new("bot1", "M1");
        let b = ReplyTo::new("bot1", "M1");
        assert_eq!(a.message_id_at(0), b.message_id_at(0));
        assert_eq!(a.message_id_at(0).len(), 17);
        assert!(a.message_id_at(0).bytes().all(|c| ID_ALPHABET.contains(&c)));
        assert_ne!(a.message_id_at(0), a.message_id_at(1));
        assert_ne!(
            a.message_id_at(0),
            ReplyTo::new("bot2", "M1").message_id_at(0)
        );
        assert_ne!(
            a.message_id_at(0),
            ReplyTo::new("bot1", "M2").message_id_at(0)
        );
    }

    #[test]
    fn a_reply_is_numbered_across_calls_and_stops_once_claimed_elsewhere() {
        let claims = Claims::default();
        let r = ReplyTo::new("bot", "M1");
        assert_eq!(claims.next_id(&r), Some(r.message_id_at(0)));
        assert_eq!(claims.next_id(&r), Some(r.message_id_at(1)));
        assert!(claims.lost(&r));
        assert!(!claims.lost(&r), "counted once");
        assert_eq!(claims.next_id(&r), None);
        let other = ReplyTo::new("bot", "M2");
        assert_eq!(claims.next_id(&other), Some(other.message_id_at(0)));
    }
}
