//! # openclaw-rocketchat core
//!
//! A Rocket.Chat channel for bots: realtime receive over DDP, send over REST,
//! access control and delivery. Pure Rust on one internal tokio runtime; the C
//! ABI (`bindings/c`) and the Node binding (`bindings/node`) are thin layers
//! over this crate, so every host gets the same behaviour.
//!
//! Start with [`Core`]: it owns the runtime, the event queue hosts pull from, and the accounts.
//!
//! Module map (see `ARCHITECTURE.md`):
//! - [`runtime`]: [`Core`], accounts by id, configuration reloads, the send API.
//! - [`account`]: one bot account: supervisor, inbound pipeline, catch-up, status.
//! - [`event`], [`event_queue`]: the one event enum every host receives, and its bounded queue.
//! - [`host`]: the one surface every binding exposes: verbs, error codes, host options.
//! - [`logs`]: the core's log lines as rate-limited `log` events.
//! - [`inbound`]: normalising, de-duplicating and gating inbound messages.
//! - [`outbound`]: send targets, chunking, tables, block streaming, typing, media.
//! - [`config`]: the `channels.rocketchat` object, accounts, env vars, validation, JSON Schema.
//! - [`auth`]: personal access tokens and password sessions, re-login.
//! - [`rest`]: the REST client: envelopes, typed errors, rate limits, pacing, retries.
//! - [`ddp`]: the DDP realtime client: frames, connection, heartbeats, reconnect.
//! - [`tls`]: the one TLS configuration REST and WebSocket share.
//! - [`secret`]: a string that never prints.

#![warn(missing_docs)]

pub mod account;
pub mod auth;
pub mod config;
pub mod ddp;
pub mod event;
pub mod event_queue;
pub mod host;
pub mod inbound;
pub mod logs;
pub mod outbound;
mod raw_json;
pub mod rest;
pub mod runtime;
pub mod secret;
mod send_order;
pub mod tls;

pub use runtime::{Core, CoreError, CoreOptions, ReloadReport};
