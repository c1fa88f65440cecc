//! The inbound pipeline: turning Rocket.Chat messages into [`InboundMessage`]s.
//!
//! [`normalize`] reads one raw message (DDP or REST form) into the event
//! contract's [`InboundMessage`]; [`gate`] decides whether it reaches the
//! agent; delivery builds on both.

pub mod dedupe;
pub mod gate;
pub mod normalize;

pub use crate::event::InboundMessage;
pub use normalize::{
    mentions_username, normalize_json, parse_date_ms, parse_raw_date_ms, MessageDoc,
    NormalizeContext, NormalizeError, RoomMeta,
};
