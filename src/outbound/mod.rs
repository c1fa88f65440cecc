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
//! - [`deliver`]: [`Deliverer`], one per account: whole replies, reactions, edits,
//!   deletes; [`media`]: file replies; [`stream`]: block streaming over a
//!   [`Coalescer`]; [`typing`]: the typing indicator while a reply is produced;
//!   [`emoji`]: Unicode emoji to the shortnames reactions take.
//!
//! The order a driver applies them in: `convert_tables` on each reply payload,
//! then either `chunk_text` (whole replies) or a [`coalesce::Coalescer`]
//! (streamed replies), which calls `chunk_text` itself.

pub mod chunk;
pub mod claim;
pub mod coalesce;
pub mod deliver;
pub mod emoji;
pub mod media;
pub mod stream;
pub mod tables;
pub mod target;
pub mod typing;

pub use chunk::{chunk_text, utf16_len, ChunkMode};
pub use claim::ReplyTo;
pub use coalesce::{Action, CoalesceConfig, Coalescer, Strategy};
pub use deliver::{
    Deliverer, DeliveryError, DeliverySettings, EventHook, InRoom, MediaFile, SentMessage,
    DEFAULT_SERVER_MAX_MESSAGE_SIZE,
};
pub use stream::ReplyStream;
pub use tables::{convert_tables, TableMode};
pub use typing::{
    RealtimeTyping, TypingError, TypingGuard, TypingIndicator, TypingSink, DEFAULT_TYPING_REFRESH,
};

#[cfg(test)]
pub(crate) mod testutil;
