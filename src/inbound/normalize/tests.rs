use serde_json::{json, Value};

use super::*;
use crate::ddp::stream::StreamEvent;

/// [`normalize_json`] of a message given as a JSON tree.
fn normalize_tree(
    raw: &Value,
    ctx: &NormalizeContext<'_>,
) -> Result<InboundMessage, NormalizeError> {
    normalize_json(&raw.to_string(), ctx)
}

fn vectors() -> Value {
    serde_json::from_str(include_str!(
        "../../../tests/fixtures/rocketchat-vectors.json"
    ))
    .unwrap()
}

fn ctx(room_type: RoomType, name: Option<&str>) -> NormalizeContext<'static> {
    NormalizeContext {
        account_id: "default",
        bot_user_id: "Bq7dYg4KxWnZcT3rA",
        bot_username: "mybot",
        room: RoomMeta {
            room_type,
            room_name: name.map(str::to_owned),
            participant: true,
        },
        source: MessageSource::Live,
        mention_all: false,
    }
}

fn general() -> NormalizeContext<'static> {
    ctx(RoomType::Channel, Some("general"))
}

#[test]
fn ddp_and_rest_forms_normalize_identically() {
    let v = vectors();
    let rest = v["messages_rest"].as_object().unwrap();
    assert!(rest.len() >= 5);
    for (name, rest_msg) in rest {
        let ddp_msg = &v["messages_ddp"][name];
        let a = normalize_tree(ddp_msg, &general()).unwrap_or_else(|e| panic!("{name} ddp: {e}"));
        let b = normalize_tree(rest_msg, &general()).unwrap_or_else(|e| panic!("{name} rest: {e}"));
        assert_eq!(a, b, "{name}");
    }
}

#[test]
fn plain_channel_message() {
    let m = normalize_tree(&vectors()["messages_ddp"]["plain_channel"], &general()).unwrap();
    assert_eq!(m.message_id, "Kc9eBwdD4nh9nYZsJ");
    assert_eq!(m.room_id, "GENERAL");
    assert_eq!(m.room_type, RoomType::Channel);
    assert_eq!(m.room_name.as_deref(), Some("general"));
    assert_eq!(m.sender.username, "alice");
    assert_eq!(m.sender.name.as_deref(), Some("Alice Doe"));
    assert_eq!(m.text, "hello @mybot, what's the status?");
    assert_eq!(m.ts, 1763980801000);
    assert!(m.mentions.bot_mentioned);
    assert_eq!(
        m.mentions.users,
        vec![MentionedUser {
            id: "Bq7dYg4KxWnZcT3rA".into(),
            username: "mybot".into()
        }]
    );
    assert!(!m.is_edit && m.edited_at.is_none());
    assert!(m.thread_id.is_none() && !m.thread_shown);
    assert!(m.message_type.is_none());
}

#[test]
fn thread_edit_system_and_own() {
    let v = vectors();
    let t = normalize_tree(&v["messages_ddp"]["thread_reply"], &general()).unwrap();
    assert_eq!(t.thread_id.as_deref(), Some("Kc9eBwdD4nh9nYZsJ"));
    assert!(!t.thread_shown);
    assert!(!t.mentions.bot_mentioned);
    let e = normalize_tree(&v["messages_rest"]["edited"], &general()).unwrap();
    assert!(e.is_edit);
    assert_eq!(e.edited_at, Some(1763980860000));
    let s = normalize_tree(
        &v["messages_ddp"]["system_uj"],
        &ctx(RoomType::Private, None),
    )
    .unwrap();
    assert_eq!(s.message_type.as_deref(), Some("uj"));
    let own = normalize_tree(&v["messages_ddp"]["sent_by_bot"], &general()).unwrap();
    assert_eq!(own.sender.id, "Bq7dYg4KxWnZcT3rA");
}

#[test]
fn file_and_image_attachments() {
    let v = vectors();
    let f = normalize_tree(&v["messages_ddp"]["file_upload"], &general()).unwrap();
    assert_eq!(f.text, "");
    assert_eq!(
        f.attachments,
        vec![Attachment {
            kind: AttachmentKind::File,
            title: Some("report.pdf".into()),
            url: Some("/file-upload/Fs3KqZx7Wc2pTn9Lm/report.pdf".into()),
            mime_type: Some("application/pdf".into()),
            size: Some(48213),
            description: Some("Q3 report".into()),
            file_id: Some("Fs3KqZx7Wc2pTn9Lm".into()),
        }]
    );
    assert_eq!(f.files.len(), 1);
    let i = normalize_tree(
        &v["messages_ddp"]["image_upload_dm"],
        &ctx(RoomType::Direct, None),
    )
    .unwrap();
    assert_eq!(i.room_type, RoomType::Direct);
    let a = &i.attachments[0];
    assert_eq!(a.kind, AttachmentKind::Image);
    assert_eq!(
        a.url.as_deref(),
        Some("/file-upload/Ig7TnQ2cW5zKxR8pL/diagram.png")
    );
    assert_eq!(a.mime_type.as_deref(), Some("image/png"));
    assert_eq!(a.size, Some(20511));
    assert_eq!(i.files.len(), 2);
    let audio = json!({"_id":"x","rid":"r","ts":1,"u":{"_id":"a","username":"a"},
        "attachments":[{"type":"file","title":"v.ogg","audio_url":"/file-upload/F/v.ogg","audio_type":"audio/ogg","audio_size":7},
                       {"type":"file","video_url":"https://cdn.example/v.mp4","video_type":"video/mp4"},
                       {"text":"quoted","author_name":"bob","message_link":"https://c.example/channel/general?msg=1"}]});
    let m = normalize_tree(&audio, &general()).unwrap();
    let kinds: Vec<_> = m.attachments.iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds,
        [
            AttachmentKind::Audio,
            AttachmentKind::Video,
            AttachmentKind::Other
        ]
    );
    assert_eq!(m.attachments[0].size, Some(7));
    assert_eq!(
        m.attachments[1].url.as_deref(),
        Some("https://cdn.example/v.mp4")
    );
    assert_eq!(m.attachments[2].description.as_deref(), Some("quoted"));
    assert_eq!(m.attachments[2].title.as_deref(), Some("bob"));
}

/// A room-message frame's message (JSON text) and its `__my_messages__` meta, read as the
/// live path reads them.
fn stream_message(frame: &Value) -> (String, Option<RoomMeta>) {
    let Some(Ok(StreamEvent::RoomMessage { message, meta, .. })) =
        StreamEvent::from_text(&frame.to_string())
    else {
        panic!("not a room message: {frame}")
    };
    let meta = meta.map(|m| RoomMeta {
        room_type: RoomType::from_code(m.room_type.as_deref().unwrap_or("c")),
        room_name: m.room_name,
        participant: m.room_participant,
    });
    (message.json().to_owned(), meta)
}

#[test]
fn stream_events_from_vectors() {
    let v = vectors();
    let se = &v["ddp"]["stream_events"];
    for name in [
        "room_message_per_room",
        "room_message_my_messages",
        "legacy_4x5x_nested_args",
        "thread_reply",
        "edited",
        "file_message",
        "image_in_dm",
        "own_message_echo",
    ] {
        let (msg, meta) = stream_message(&se[name]);
        let mut c = general();
        if let Some(meta) = meta {
            c.room = meta;
        }
        normalize_json(&msg, &c).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let (msg, meta) = stream_message(&se["room_message_my_messages_nonmember_public"]);
    let meta = meta.unwrap();
    assert!(!meta.participant);
    assert_eq!(meta.room_name.as_deref(), Some("random"));
    let mut c = general();
    c.room = meta;
    let m = normalize_json(&msg, &c).unwrap();
    assert!(!m.room_participant);
    // the legacy nested form gives the same message as the current one
    let (a, _) = stream_message(&se["legacy_4x5x_nested_args"]);
    let (b, _) = stream_message(&se["room_message_my_messages"]);
    assert_eq!(
        normalize_json(&a, &general()).unwrap(),
        normalize_json(&b, &general()).unwrap()
    );
}

#[test]
fn all_and_here() {
    let msg = json!({"_id":"x","rid":"GENERAL","msg":"@all @here hi","ts":{"$date":5},"u":{"_id":"a","username":"alice"},
        "mentions":[{"_id":"all","username":"all"},{"_id":"here","username":"here"}]});
    let m = normalize_tree(&msg, &general()).unwrap();
    assert!(m.mentions.all && m.mentions.here && m.mentions.users.is_empty());
    assert!(!m.mentions.bot_mentioned);
    let mut c = general();
    c.mention_all = true;
    assert!(normalize_tree(&msg, &c).unwrap().mentions.bot_mentioned);
}

#[test]
fn text_mention_fallback_when_mentions_absent() {
    let base = |text: &str| json!({"_id":"x","rid":"GENERAL","msg":text,"ts":"2025-11-24T10:40:01.000Z","u":{"_id":"a","username":"alice"}});
    for (text, want) in [
        ("hey @MyBot can you help", true),
        ("@mybot", true),
        ("(@mybot)", true),
        ("thanks @mybot.", true),
        ("mail bob@mybot.com", false),
        ("@mybot2 not me", false),
        ("@mybot_x no", false),
        ("@my", false),
        ("no mention", false),
    ] {
        let m = normalize_tree(&base(text), &general()).unwrap();
        assert_eq!(m.mentions.bot_mentioned, want, "{text:?}");
    }
    let m = normalize_tree(&base("@all see @here"), &general()).unwrap();
    assert!(m.mentions.all && m.mentions.here);
    // an explicit (empty) mentions array is trusted
    let mut v = base("@mybot");
    v["mentions"] = json!([]);
    assert!(
        !normalize_tree(&v, &general())
            .unwrap()
            .mentions
            .bot_mentioned
    );
    // usernames compare case-insensitively in the mentions array too
    v["mentions"] = json!([{"_id": "other-id", "username": "MYBOT"}]);
    assert!(
        normalize_tree(&v, &general())
            .unwrap()
            .mentions
            .bot_mentioned
    );
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    let ok =
        json!({"_id":"x","rid":"r","msg":"m","ts":{"$date":1},"u":{"_id":"a","username":"alice"}});
    assert!(normalize_tree(&ok, &general()).is_ok());
    let cases: Vec<(Value, &str)> = vec![
        (json!("str"), "not a JSON object"),
        (json!([]), "not a JSON object"),
        (
            json!({"rid":"r","ts":1,"u":{"_id":"a","username":"a"}}),
            "`_id` is missing",
        ),
        (
            json!({"_id":"","rid":"r","ts":1,"u":{"_id":"a","username":"a"}}),
            "`_id` is missing",
        ),
        (
            json!({"_id":5,"rid":"r","ts":1,"u":{"_id":"a","username":"a"}}),
            "`_id` should be a string, got a number",
        ),
        (
            json!({"_id":"x","ts":1,"u":{"_id":"a","username":"a"}}),
            "`rid` is missing",
        ),
        (json!({"_id":"x","rid":"r","ts":1}), "`u` is missing"),
        (
            json!({"_id":"x","rid":"r","ts":1,"u":"alice"}),
            "`u` should be an object",
        ),
        (
            json!({"_id":"x","rid":"r","ts":1,"u":{"username":"a"}}),
            "`u._id` is missing",
        ),
        (
            json!({"_id":"x","rid":"r","ts":1,"u":{"_id":"a"}}),
            "`u.username` is missing",
        ),
        (
            json!({"_id":"x","rid":"r","u":{"_id":"a","username":"a"}}),
            "`ts` is missing",
        ),
        (
            json!({"_id":"x","rid":"r","ts":"yesterday","u":{"_id":"a","username":"a"}}),
            "`ts` is not a date",
        ),
        (
            json!({"_id":"x","rid":"r","ts":{"$date":"x"},"u":{"_id":"a","username":"a"}}),
            "`ts` is not a date",
        ),
        (
            json!({"_id":"x","rid":"r","ts":1,"msg":3,"u":{"_id":"a","username":"a"}}),
            "`msg` should be a string",
        ),
        (
            json!({"_id":"x","rid":"r","ts":1,"tmid":[],"u":{"_id":"a","username":"a"}}),
            "`tmid` should be a string",
        ),
        (
            json!({"_id":"x","rid":"r","ts":1,"tshow":"y","u":{"_id":"a","username":"a"}}),
            "`tshow` should be a boolean",
        ),
        (
            json!({"_id":"x","rid":"r","ts":1,"mentions":{},"u":{"_id":"a","username":"a"}}),
            "`mentions` should be an array",
        ),
        (
            json!({"_id":"x","rid":"r","ts":1,"attachments":"a","u":{"_id":"a","username":"a"}}),
            "`attachments` should be an array",
        ),
        (
            json!({"_id":"x","rid":"r","ts":1,"files":1,"u":{"_id":"a","username":"a"}}),
            "`files` should be an array",
        ),
        (
            json!({"_id":"x","rid":"r","ts":1,"editedAt":true,"u":{"_id":"a","username":"a"}}),
            "`editedAt` is not a date",
        ),
    ];
    for (raw, want) in cases {
        let e = normalize_tree(&raw, &general()).expect_err(&raw.to_string());
        assert!(e.to_string().contains(want), "{raw}: {e}");
    }
    // junk inside optional lists is skipped, not fatal
    let junk = json!({"_id":"x","rid":"r","ts":1,"u":{"_id":"a","username":"a"},
        "mentions":[1,null,{}],"attachments":[3,{"weird":true}],"files":["x",{"name":"no id"}]});
    let m = normalize_tree(&junk, &general()).unwrap();
    assert!(m.mentions.users.is_empty() && m.files.is_empty());
    assert_eq!(m.attachments.len(), 1);
}

#[test]
fn dates() {
    assert_eq!(
        parse_date_ms(&json!({"$date": 1763980801000u64})),
        Some(1763980801000)
    );
    assert_eq!(
        parse_date_ms(&json!("2025-11-24T10:40:01.000Z")),
        Some(1763980801000)
    );
    assert_eq!(
        parse_date_ms(&json!("2025-11-24T11:40:01.5+01:00")),
        Some(1763980801500)
    );
    assert_eq!(parse_date_ms(&json!(12)), Some(12));
    assert_eq!(parse_date_ms(&json!(-1)), None);
    assert_eq!(parse_date_ms(&json!(null)), None);
}

#[test]
fn odd_messages_read_as_a_json_tree_would() {
    let user = r#"{"_id":"u","username":"x"}"#;
    // A repeated key keeps its last value; null is absent; escaped keys are the same keys.
    let m = normalize_json(
        &format!(r#"{{"_id":"a","rid":"R","ts":5,"u":{user},"msg":"1","msg":"2","tshow":null,"t":"","\u0074mid":"T"}}"#),
        &general(),
    )
    .unwrap();
    assert_eq!((m.text.as_str(), m.thread_id.as_deref()), ("2", Some("T")));
    assert!(!m.thread_shown && m.message_type.is_none());
    let m = normalize_json(
        r#"{"_id":"a","rid":"R","ts":5,"u":{"username":"x","_id":"v","_id":"u"},"md":[{"type":"PARAGRAPH"}]}"#,
        &general(),
    )
    .unwrap();
    assert_eq!(m.sender.id, "u");
}

#[test]
fn malformed_messages_name_the_member() {
    use NormalizeError::*;
    let user = r#"{"_id":"u","username":"x"}"#;
    let wrong = |field, expected, got| WrongType {
        field,
        expected,
        got,
    };
    for (json, error) in [
        (r#"["a","R"]"#.to_owned(), NotAnObject("an array")),
        ("7".to_owned(), NotAnObject("a number")),
        (
            r#"{"_id":"#.to_owned(),
            NotAnObject("text that is not JSON"),
        ),
        (
            format!(r#"{{"_id":1,"rid":"R","ts":5,"u":{user}}}"#),
            wrong("_id", "a string", "a number"),
        ),
        (
            format!(r#"{{"_id":"","rid":"R","ts":5,"u":{user}}}"#),
            Missing("_id"),
        ),
        (
            format!(r#"{{"_id":"a","ts":5,"u":{user}}}"#),
            Missing("rid"),
        ),
        (r#"{"_id":"a","rid":"R","ts":5}"#.to_owned(), Missing("u")),
        (
            r#"{"_id":"a","rid":"R","ts":5,"u":null}"#.to_owned(),
            Missing("u"),
        ),
        (
            r#"{"_id":"a","rid":"R","ts":5,"u":"x"}"#.to_owned(),
            wrong("u", "an object", "a string"),
        ),
        (
            r#"{"_id":"a","rid":"R","ts":5,"u":{"_id":"u","username":""}}"#.to_owned(),
            Missing("u.username"),
        ),
        (
            r#"{"_id":"a","rid":"R","ts":5,"u":{"_id":"u","username":"x","name":[]}}"#.to_owned(),
            wrong("u.name", "a string", "an array"),
        ),
        (
            format!(r#"{{"_id":"a","rid":"R","ts":5,"u":{user},"msg":7}}"#),
            wrong("msg", "a string", "a number"),
        ),
        (
            format!(r#"{{"_id":"a","rid":"R","u":{user}}}"#),
            Missing("ts"),
        ),
        (
            format!(r#"{{"_id":"a","rid":"R","ts":"soon","u":{user}}}"#),
            BadDate {
                field: "ts",
                value: "\"soon\"".into(),
            },
        ),
        (
            format!(r#"{{"_id":"a","rid":"R","ts":5,"editedAt":{{"$date":"x"}},"u":{user}}}"#),
            BadDate {
                field: "editedAt",
                value: r#"{"$date":"x"}"#.into(),
            },
        ),
        (
            format!(r#"{{"_id":"a","rid":"R","ts":5,"u":{user},"tmid":true}}"#),
            wrong("tmid", "a string", "a boolean"),
        ),
        (
            format!(r#"{{"_id":"a","rid":"R","ts":5,"u":{user},"tshow":"yes"}}"#),
            wrong("tshow", "a boolean", "a string"),
        ),
        (
            format!(r#"{{"_id":"a","rid":"R","ts":5,"u":{user},"t":{{}}}}"#),
            wrong("t", "a string", "an object"),
        ),
        (
            format!(r#"{{"_id":"a","rid":"R","ts":5,"u":{user},"mentions":{{}}}}"#),
            wrong("mentions", "an array", "an object"),
        ),
        // Several faults: the first in the fixed order is reported.
        (
            r#"{"_id":1,"rid":2,"u":3}"#.to_owned(),
            wrong("_id", "a string", "a number"),
        ),
    ] {
        assert_eq!(normalize_json(&json, &general()), Err(error), "{json}");
    }
}

#[test]
fn raw_dates_read_as_trees() {
    for date in [
        json!({"$date": 1_700_000_000_000_u64}),
        json!({"$date": 1_700_000_000_000.5}),
        json!({"$date": "2023-11-14T22:13:20.000Z", "extra": 1}),
        json!("2023-11-14T22:13:20.000Z"),
        json!(1_700_000_000_000.5),
        json!(-5),
        json!("soon"),
        json!({"$date": {"$date": 7}}),
        json!(null),
    ] {
        let raw = serde_json::value::to_raw_value(&date).unwrap();
        assert_eq!(parse_raw_date_ms(&raw), parse_date_ms(&date), "{date}");
    }
}
