//! Outbound: from "the host has a reply" to "the reply is in the room".
//!
//! Text shaping touches neither the network nor a clock; the delivery driver feeds text
//! (and the current time, for streaming) in and sends what comes out.
//!
//! - [`target`]: parse and resolve send targets (`channel:`, `#name`, `@user`, `user:`).
//! - [`chunk`]: split a reply into messages that fit `textChunkLimit`
//!   (UTF-16 units, as Rocket.Chat measures), markdown-aware: fenced code is
//!   closed and reopened across messages, never cut silently.
//! - [`tables`]: convert GitHub-style pipe tables per `markdown.tables`
//!   (`off`, `bullets`, `code`, `block`) before chunking.
//! - [`coalesce`]: block streaming: buffer streamed pieces and decide when to
//!   post new messages or edit the growing one (`minChars`, `idleMs`).
//!
//! The order a driver applies them in: `convert_tables` on each reply payload,
//! then either `chunk_text` (whole replies) or a [`coalesce::Coalescer`]
//! (streamed replies), which calls `chunk_text` itself.

pub mod chunk;
pub mod coalesce;
pub mod tables;
pub mod target;

pub use chunk::{chunk_text, utf16_len, ChunkMode};
pub use coalesce::{Action, CoalesceConfig, Coalescer, Strategy};
pub use tables::{convert_tables, TableMode};

#[cfg(test)]
pub(crate) mod testutil;
