use std::path::PathBuf;

use serde_json::{json, Value};

use super::*;
use crate::inbound::{normalize_json, NormalizeContext, RoomMeta};

const TS: u64 = 1763980801500;

fn vector(form: &str, name: &str) -> Value {
    let all: Value =
        serde_json::from_str(include_str!("../../tests/fixtures/rocketchat-vectors.json")).unwrap();
    all[form][name].clone()
}

fn inbound(name: &str, room_type: RoomType, room_name: Option<&str>) -> InboundMessage {
    let ctx = NormalizeContext {
        account_id: "default",
        bot_user_id: "Bq7dYg4KxWnZcT3rA",
        bot_username: "mybot",
        room: RoomMeta {
            room_type,
            room_name: room_name.map(str::to_owned),
            participant: true,
        },
        source: MessageSource::Live,
        mention_all: false,
    };
    normalize_json(&vector("messages_ddp", name).to_string(), &ctx).unwrap()
}

/// (golden file stem, event) for every variant, plus a few extra shapes.
fn samples() -> Vec<(&'static str, Event)> {
    let mut catch_up = inbound("thread_reply", RoomType::Channel, Some("general"));
    catch_up.source = MessageSource::CatchUp;
    let mut gated = inbound("plain_channel", RoomType::Channel, Some("general"));
    gated.trigger = Some(Trigger {
        reason: "mention".into(),
        body: Some("hello, what's the status?".into()),
        was_mentioned: true,
        control_command: false,
        command_authorized: true,
        typed_as: None,
    });
    // A DM admitted as it is: its body is its text, so the trigger leaves it out.
    let mut direct = inbound("image_upload_dm", RoomType::Direct, None);
    direct.trigger = Some(Trigger {
        reason: "direct".into(),
        body: None,
        was_mentioned: false,
        control_command: false,
        command_authorized: true,
        typed_as: None,
    });
    vec![
        ("accountStarted", Event::AccountStarted),
        (
            "accountStopped",
            Event::AccountStopped {
                reason: "closed".into(),
                undelivered: 0,
            },
        ),
        ("connecting", Event::Connecting { attempt: 2 }),
        ("connected", Event::Connected),
        (
            "authenticated",
            Event::Authenticated {
                user_id: "Bq7dYg4KxWnZcT3rA".into(),
                username: "mybot".into(),
            },
        ),
        (
            "disconnected",
            Event::Disconnected {
                reason: "socket closed by server".into(),
                retry_in_ms: Some(2000),
            },
        ),
        (
            "authFailed",
            Event::AuthFailed {
                reason: "You must be logged in to do this.".into(),
                retrying: true,
            },
        ),
        (
            "message",
            Event::Message {
                message: inbound("plain_channel", RoomType::Channel, Some("general")),
            },
        ),
        (
            "message-thread-catchUp",
            Event::Message { message: catch_up },
        ),
        (
            "message-file",
            Event::Message {
                message: inbound("file_upload", RoomType::Channel, Some("general")),
            },
        ),
        ("message-image-dm", Event::Message { message: direct }),
        (
            "messageEdited",
            Event::MessageEdited {
                message: inbound("edited", RoomType::Channel, Some("general")),
            },
        ),
        (
            "messageDeleted",
            Event::MessageDeleted {
                room_id: "GENERAL".into(),
                message_id: "Kc9eBwdD4nh9nYZsJ".into(),
            },
        ),
        (
            "dropped",
            Event::Dropped {
                room_id: "GENERAL".into(),
                message_id: "b0tMsg7Qw3Xz9Kc2P".into(),
                reason: DropReason::NoMention,
            },
        ),
        (
            "pairingRequest",
            Event::PairingRequest {
                room_id: "Bq7dYg4KxWnZcT3rAYh3nR6vPq2XzMt8Ws".into(),
                sender_id: "Yh3nR6vPq2XzMt8Ws".into(),
                sender_username: "bob".into(),
                sender_name: Some("Bob Roe".into()),
                text: "hi, can I use the bot?".into(),
            },
        ),
        (
            "sent",
            Event::Sent {
                room_id: "GENERAL".into(),
                message_id: "s3ntMsg7Qw3Xz9Kc2".into(),
                thread_id: Some("Kc9eBwdD4nh9nYZsJ".into()),
                chunk_index: 0,
                chunk_count: 2,
            },
        ),
        (
            "sendFailed",
            Event::SendFailed {
                room_id: "GENERAL".into(),
                error: "HTTP 403: error-not-allowed".into(),
            },
        ),
        (
            "typing",
            Event::Typing {
                room_id: "GENERAL".into(),
                username: "alice".into(),
                thread_id: None,
                active: true,
            },
        ),
        ("overflow", Event::Overflow { dropped: 17 }),
        (
            "error",
            Event::Error {
                message: "room not found".into(),
                code: Some("error-room-not-found".into()),
            },
        ),
        (
            "log",
            Event::Log {
                level: LogLevel::Warn,
                message: "reconnecting in 2s".into(),
            },
        ),
        ("message-gated", Event::Message { message: gated }),
        (
            "catchUpGap",
            Event::CatchUpGap {
                room_id: "Bq7dYg4KxWnZcT3rAk9ZfTqW2mHs8PxLcE".into(),
                room_name: None,
                from: 1763980801000,
                to: 1763984401000,
                reason: "the server refused this room's history (forbidden (403)): the bot may \
                         no longer read it"
                    .into(),
            },
        ),
        (
            "accountStopped-undelivered",
            Event::AccountStopped {
                reason: "stopped".into(),
                undelivered: 1,
            },
        ),
    ]
}

fn envelope(i: usize, event: Event) -> EventEnvelope {
    let account_id = match event {
        Event::Overflow { .. } => None,
        _ => Some("default".to_owned()),
    };
    EventEnvelope {
        v: EVENT_SCHEMA_VERSION,
        seq: i as u64 + 1,
        account_id,
        ts: TS,
        event,
    }
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/events")
}

#[test]
fn every_variant_has_a_sample() {
    let mut names: Vec<&str> = samples().iter().map(|(_, e)| e.type_name()).collect();
    names.sort();
    names.dedup();
    let mut all = vec![
        "accountStarted",
        "accountStopped",
        "connecting",
        "connected",
        "authenticated",
        "disconnected",
        "authFailed",
        "message",
        "messageEdited",
        "messageDeleted",
        "catchUpGap",
        "dropped",
        "pairingRequest",
        "sent",
        "sendFailed",
        "typing",
        "overflow",
        "error",
        "log",
    ];
    all.sort();
    assert_eq!(names, all);
    for (_, e) in samples() {
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["type"], e.type_name());
    }
}

/// Compares each sample to `tests/golden/events/<name>.json`; `UPDATE_GOLDEN=1` rewrites them.
#[test]
fn golden_files() {
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let dir = golden_dir();
    let mut mismatches = Vec::new();
    for (i, (name, event)) in samples().into_iter().enumerate() {
        let text = serde_json::to_string_pretty(&envelope(i, event)).unwrap() + "\n";
        let path = dir.join(format!("{name}.json"));
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(want) if want == text => {}
            Ok(want) => mismatches.push(format!(
                "{name}: differs\n--- golden\n{want}--- now\n{text}"
            )),
            Err(e) => mismatches.push(format!("{name}: cannot read {}: {e}", path.display())),
        }
    }
    assert!(
        mismatches.is_empty(),
        "event JSON changed (run with UPDATE_GOLDEN=1 if intended):\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn golden_files_roundtrip() {
    for (i, (name, event)) in samples().into_iter().enumerate() {
        let text = std::fs::read_to_string(golden_dir().join(format!("{name}.json"))).unwrap();
        let parsed: EventEnvelope =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(parsed, envelope(i, event), "{name}");
        let again = serde_json::to_string_pretty(&parsed).unwrap() + "\n";
        assert_eq!(again, text, "{name}");
    }
}

#[test]
fn envelope_shape() {
    let e = EventEnvelope::new(3, Some("a".into()), Event::Connecting { attempt: 1 });
    assert_eq!(e.v, EVENT_SCHEMA_VERSION);
    assert!(e.ts > 1_700_000_000_000);
    let v: Value = serde_json::from_str(&e.to_json()).unwrap();
    assert_eq!(
        v,
        json!({"v":2,"seq":3,"accountId":"a","ts":e.ts,"type":"connecting","attempt":1})
    );
    let none = serde_json::to_value(EventEnvelope::new(1, None, Event::Connected)).unwrap();
    assert!(none.get("accountId").is_none());
}

#[test]
fn event_fields_never_collide_with_envelope_keys() {
    for (name, e) in samples() {
        let v = serde_json::to_value(&e).unwrap();
        for key in ["v", "seq", "accountId", "ts"] {
            assert!(v.get(key).is_none(), "{name} has envelope key {key}");
        }
    }
}

#[test]
fn hosts_tolerate_additions() {
    // unknown fields are ignored, unknown drop reasons map to `other`
    let v = json!({"v":1,"seq":9,"ts":1,"type":"dropped","roomId":"r","messageId":"m","reason":"someNewReason","extra":true});
    let e: EventEnvelope = serde_json::from_value(v).unwrap();
    assert_eq!(
        e.event,
        Event::Dropped {
            room_id: "r".into(),
            message_id: "m".into(),
            reason: DropReason::Other
        }
    );
}

#[test]
fn room_type_codes() {
    for (t, c) in [
        (RoomType::Channel, "c"),
        (RoomType::Private, "p"),
        (RoomType::Direct, "d"),
        (RoomType::Livechat, "l"),
    ] {
        assert_eq!(serde_json::to_value(t).unwrap(), json!(c));
        assert_eq!(RoomType::from_code(c), t);
        assert_eq!(t.code(), c);
    }
    assert_eq!(RoomType::from_code("x"), RoomType::Channel);
    assert!(RoomType::Livechat.is_direct() && !RoomType::Private.is_direct());
}

#[test]
fn event_schema_lists_types() {
    let s = json_schema().to_string();
    for t in [
        "\"accountStarted\"",
        "\"messageEdited\"",
        "\"pairingRequest\"",
        "\"overflow\"",
        "\"catchUp\"",
        "\"noMention\"",
    ] {
        assert!(s.contains(t), "{t}");
    }
}
