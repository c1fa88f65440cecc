//! The DDP realtime client for Rocket.Chat.
//!
//! - [`frame`]: the wire codec (server and client frames, Meteor errors, EJSON dates).
//! - [`stream`]: Rocket.Chat stream events decoded from `changed` frames.
//! - [`connection`]: one live DDP connection: calls, subscriptions, heartbeats, watchdog.
//! - [`realtime`]: the per-account supervisor: login, stream subscriptions, reconnect.
//!
//! Nothing here knows about config files or hosts: callers hand in URLs, a TLS config and a
//! [`crate::auth::TokenSource`].
#![warn(missing_docs)]

pub mod connection;
pub mod frame;
pub mod stream;

pub mod realtime;
#[cfg(test)]
mod testing;
