//! Outbound text shaping: the pure, synchronous half of reply delivery.
//!
//! Nothing here touches the network or a clock; the delivery driver feeds text
//! (and the current time, for streaming) in and sends what comes out.
//!
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

pub use chunk::{chunk_text, utf16_len, ChunkMode};
pub use coalesce::{Action, CoalesceConfig, Coalescer, Strategy};
pub use tables::{convert_tables, TableMode};

#[cfg(test)]
pub(crate) mod testutil;
