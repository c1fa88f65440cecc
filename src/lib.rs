//! # openclaw-rocketchat core
//!
//! A Rocket.Chat channel for bots: realtime receive over DDP, send over REST,
//! access control and delivery. Pure Rust on one internal tokio runtime; the C
//! ABI (`bindings/c`) and the Node binding (`bindings/node`) are thin layers
//! over this crate, so every host gets the same behaviour.
//!
//! Module map (see `ARCHITECTURE.md`):
//! - [`config`]: the `channels.rocketchat` object, accounts, env vars, validation, JSON Schema.
//! - [`auth`]: personal access tokens and password sessions, re-login.
//! - [`rest`]: the REST client: envelopes, typed errors, rate limits, pacing, retries.
//! - [`ddp`]: the DDP realtime client: frames, connection, heartbeats, reconnect.
//! - [`event`]: the one event enum every host receives.
//! - [`secret`]: a string that never prints.

pub mod account;
pub mod auth;
pub mod config;
pub mod ddp;
pub mod event;
pub mod event_queue;
pub mod inbound;
pub mod outbound;
pub mod rest;
pub mod runtime;
pub mod secret;
pub mod tls;

pub use runtime::{Core, CoreError, CoreOptions, ReloadReport};
