//! The fuzz harnesses: one function per target, from raw bytes to the core call and its
//! invariant checks. Shared by the libFuzzer targets in `fuzz/fuzz_targets/` (which include
//! this file by path) and by `tests/fuzz_regressions.rs`, which replays the saved corpus
//! in `tests/fuzz-corpus/<target>/` under plain `cargo test`.
//!
//! Every function panics on a broken invariant, and only then.

#![allow(dead_code)]

use std::collections::BTreeMap;

use openclaw_rocketchat::config::{self, NoEnv};
use openclaw_rocketchat::ddp::frame::ServerFrame;
use openclaw_rocketchat::ddp::stream::StreamEvent;
use openclaw_rocketchat::event::{MessageSource, RoomType};
use openclaw_rocketchat::inbound::normalize::{
    mentions_username, normalize_json, parse_date_ms, MessageDoc, NormalizeContext, RoomMeta,
};
use openclaw_rocketchat::outbound::chunk::invariants::check_chunks;
use openclaw_rocketchat::outbound::{
    chunk_text, convert_tables, Action, ChunkMode, CoalesceConfig, Coalescer, DeliverySettings,
    Strategy, TableMode,
};
use serde_json::Value;

/// A harness: raw bytes in, panics on a broken invariant.
pub type Harness = fn(&[u8]);

/// Every target, by the name of its corpus directory.
pub const TARGETS: &[(&str, Harness)] = &[
    ("ddp_frame", ddp_frame),
    ("normalize", normalize),
    ("config", config),
    ("chunk", chunk),
    ("tables", tables),
    ("coalesce", coalesce),
];

/// A DDP text frame: `StreamEvent::from_text` (room messages) and `ServerFrame::parse`, then,
/// for `changed` frames, `StreamEvent::from_changed`.
pub fn ddp_frame(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let frame = ServerFrame::parse(text);
    if let Ok(ServerFrame::Changed {
        collection, fields, ..
    }) = &frame
    {
        let _ = StreamEvent::from_changed(collection, fields.clone());
        // The same fields on the collections the realtime client subscribes to.
        for c in [
            "stream-room-messages",
            "stream-notify-user",
            "stream-notify-room",
        ] {
            let _ = StreamEvent::from_changed(c, fields.clone());
        }
    }
    // Room-message frames have one reader, and it takes every one the general parser reads:
    // none is left to the general path on the socket.
    match StreamEvent::from_text(text) {
        Some(Ok(StreamEvent::RoomMessage { message, .. })) => {
            assert!(
                message.to_value().is_object(),
                "a message that is not an object"
            );
        }
        Some(Ok(other)) => panic!("from_text read a room-message frame as {other:?}"),
        Some(Err(_)) => {}
        None => assert!(
            !matches!(&frame, Ok(ServerFrame::Changed { collection, .. }) if collection == "stream-room-messages"),
            "a room-message frame left to the general parser: {frame:?}"
        ),
    }
    // Whatever parsed as an object is also tried as the fields of a stream event.
    if let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(text) {
        let _ = StreamEvent::from_changed("stream-room-messages", obj.clone());
        let _ = ServerFrame::from_value(&Value::Object(obj));
    }
}

/// A raw message: byte 0 picks the context (room type, source, `mentionAll`), the rest is
/// the message's JSON text given to `normalize_json` and `MessageDoc`.
pub fn normalize(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let room_type = ["c", "p", "d", "l", "x"][usize::from(flags & 7) % 5];
    let ctx = NormalizeContext {
        account_id: "default",
        bot_user_id: "bot-id",
        bot_username: if flags & 8 == 0 { "mybot" } else { "Bot.Ü" },
        room: RoomMeta {
            room_type: RoomType::from_code(room_type),
            room_name: (flags & 16 != 0).then(|| "general".to_owned()),
            participant: flags & 32 != 0,
        },
        source: if flags & 64 == 0 {
            MessageSource::Live
        } else {
            MessageSource::CatchUp
        },
        mention_all: flags & 128 != 0,
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let _ = mentions_username(text, ctx.bot_username);
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        let _ = parse_date_ms(&value);
    }
    let result = normalize_json(text, &ctx);
    if let Ok(msg) = &result {
        // What hosts receive must serialize.
        serde_json::to_string(msg).expect("an InboundMessage serializes");
    }
    // The pipeline's accessors read what normalizing reads.
    if let (Ok(doc), Ok(msg)) = (MessageDoc::parse(text), &result) {
        assert_eq!(doc.id(), Some(msg.message_id.as_str()), "_id");
        assert_eq!(doc.room_id(), Some(msg.room_id.as_str()), "rid");
        assert_eq!(doc.sender_id(), Some(msg.sender.id.as_str()), "u._id");
        assert_eq!(doc.ts_ms(), Some(msg.ts), "ts");
    }
}

/// A `channels.rocketchat` object and an environment: JSON, then optionally a NUL byte and
/// `NAME=value` lines. `config::resolve`, then the delivery settings of every account.
pub fn config(data: &[u8]) {
    let (json, env) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(value) = serde_json::from_slice::<Value>(json) else {
        return;
    };
    let env: BTreeMap<String, String> = String::from_utf8_lossy(env)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let resolved = config::resolve(&value, &env);
    let _ = config::resolve(&value, &NoEnv);
    if let Ok(cfg) = resolved {
        for acc in &cfg.accounts {
            let settings = DeliverySettings::from_account(acc);
            let limit = settings.chunk_limit();
            assert!(limit >= 1, "chunk limit 0 for {}", acc.account_id);
            let _ = settings.shape("hello | a |\n|---|\n| b |");
            let _ = settings.coalesce_config();
        }
    } else if let Err(e) = resolved {
        assert!(!e.problems().is_empty(), "an error without problems");
    }
}

/// Bytes 0-1: the limit (little endian, 0..=65535); byte 2 bit 0: the mode; the rest: the
/// text (lossy UTF-8). `chunk_text` must keep every invariant of `check_chunks`.
pub fn chunk(data: &[u8]) {
    if data.len() < 3 {
        return;
    }
    let limit = usize::from(u16::from_le_bytes([data[0], data[1]]));
    let mode = if data[2] & 1 == 0 {
        ChunkMode::Length
    } else {
        ChunkMode::Newline
    };
    let text = String::from_utf8_lossy(&data[3..]);
    let chunks = chunk_text(&text, limit, mode);
    if let Err(e) = check_chunks(&text, &chunks, limit) {
        panic!("chunk_text({text:?}, {limit}, {mode:?}): {e}\nchunks: {chunks:#?}");
    }
}

/// Byte 0: the table mode; the rest: the text (lossy UTF-8). `convert_tables` never
/// panics, `off` changes nothing, and the result chunks like any text.
pub fn tables(data: &[u8]) {
    let Some((&m, rest)) = data.split_first() else {
        return;
    };
    let mode = [
        TableMode::Off,
        TableMode::Bullets,
        TableMode::Code,
        TableMode::Block,
    ][usize::from(m & 3)];
    let text = String::from_utf8_lossy(rest);
    let out = convert_tables(&text, mode);
    if mode == TableMode::Off {
        assert_eq!(out, text, "tables off changed the text");
    }
    let chunks = chunk_text(&out, 200, ChunkMode::Length);
    if let Err(e) = check_chunks(&out, &chunks, 200) {
        panic!("chunking converted tables {out:?}: {e}");
    }
}

/// Bytes 0-1: `minChars`, 2-3: the limit, 4: mode, strategy and piece size, 5: timing
/// seed; the rest: the streamed reply (lossy UTF-8), pushed in pieces with polls in
/// between. The messages the room ends up with must be a valid chunking of the reply.
pub fn coalesce(data: &[u8]) {
    if data.len() < 6 {
        return;
    }
    let min_chars = usize::from(u16::from_le_bytes([data[0], data[1]]));
    let limit = usize::from(u16::from_le_bytes([data[2], data[3]]) % 8192);
    let cfg = CoalesceConfig {
        min_chars,
        idle_ms: 1000,
        limit,
        mode: if data[4] & 1 == 0 {
            ChunkMode::Length
        } else {
            ChunkMode::Newline
        },
        strategy: if data[4] & 2 == 0 {
            Strategy::Append
        } else {
            Strategy::Edit
        },
    };
    let max_piece = usize::from(data[4] >> 2) + 1;
    let mut seed = u32::from(data[5]) | 1;
    let mut next = move || {
        // xorshift: deterministic piece sizes and delays from one byte.
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    let text = String::from_utf8_lossy(&data[6..]);
    let mut room = Vec::new();
    type Room = Vec<(usize, String)>;
    let apply = |actions: Vec<Action>, room: &mut Room| {
        for a in actions {
            match a {
                Action::Post { key, text } => {
                    assert!(
                        room.last().is_none_or(|(k, _)| *k < key),
                        "post keys must increase"
                    );
                    room.push((key, text));
                }
                Action::Edit { key, text } => {
                    let m = room
                        .iter_mut()
                        .find(|(k, _)| *k == key)
                        .unwrap_or_else(|| panic!("edit of unknown key {key}"));
                    m.1 = text;
                }
            }
        }
    };
    let mut c = Coalescer::new(cfg);
    let mut now = 0u64;
    let mut rest: &str = &text;
    while !rest.is_empty() {
        let n = (next() as usize % max_piece) + 1;
        let cut = rest.char_indices().nth(n).map_or(rest.len(), |(i, _)| i);
        let (piece, tail) = rest.split_at(cut);
        rest = tail;
        now += u64::from(next() % 1500);
        if next() % 4 == 0 {
            apply(c.poll(now), &mut room);
        }
        apply(c.push(piece, now), &mut room);
        if let Some(d) = c.next_deadline() {
            assert!(d > now || cfg.idle_ms == 0, "deadline in the past");
        }
    }
    apply(c.finish(now + 1), &mut room);
    assert!(c.buffered().is_empty(), "finish left text buffered");
    let texts: Vec<String> = room.into_iter().map(|(_, t)| t).collect();
    if limit >= 16 {
        if let Err(e) = check_chunks(&text, &texts, limit) {
            panic!("coalescer {cfg:?} on {text:?}: {e}\nmessages: {texts:#?}");
        }
    }
}
