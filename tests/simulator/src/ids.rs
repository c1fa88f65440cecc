//! Meteor-style random ids and tokens.

use rand::Rng;

/// Meteor's "unmistakable" id alphabet.
pub const UNMISTAKABLE: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz";
const TOKEN_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A 17-character id from Meteor's "unmistakable" alphabet, as Rocket.Chat makes for
/// messages, rooms, users, files and DDP sessions.
pub fn random_id() -> String {
    let mut rng = rand::rng();
    (0..17)
        .map(|_| UNMISTAKABLE[rng.random_range(0..UNMISTAKABLE.len())] as char)
        .collect()
}

/// A 43-character login token, the length Meteor's `Random.secret()` gives.
pub fn random_token() -> String {
    let mut rng = rand::rng();
    (0..43)
        .map(|_| TOKEN_CHARS[rng.random_range(0..TOKEN_CHARS.len())] as char)
        .collect()
}
