//! Raw Rocket.Chat message JSON → [`InboundMessage`].
//!
//! Accepts both encodings of the message object: DDP (EJSON dates
//! `{"$date": ms}`) and REST (ISO-8601 strings); the same message gives the
//! same [`InboundMessage`] either way. Malformed input is an error, never a panic.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::event::{
    Attachment, AttachmentKind, FileInfo, InboundMessage, MentionedUser, Mentions, MessageSource,
    RoomType, Sender,
};

/// What the normalizer needs besides the message: the room and the bot.
#[derive(Debug, Clone)]
pub struct NormalizeContext<'a> {
    /// The receiving account's id.
    pub account_id: &'a str,
    /// The bot's user id.
    pub bot_user_id: &'a str,
    /// The bot's username (compared case-insensitively).
    pub bot_username: &'a str,
    /// The room's type, name and the bot's membership.
    pub room: RoomMeta,
    /// Live or catch-up.
    pub source: MessageSource,
    /// Whether `@all`/`@here` count as mentioning the bot (config `mentionAll`).
    pub mention_all: bool,
}

/// Room facts that the message itself does not carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomMeta {
    /// The room's type.
    pub room_type: RoomType,
    /// The room's name, when known.
    pub room_name: Option<String>,
    /// Whether the bot is a member.
    pub participant: bool,
}

impl RoomMeta {
    /// Read the second argument of a `__my_messages__` stream event:
    /// `{"roomParticipant": true, "roomType": "c", "roomName": "general"}`.
    pub fn from_stream_meta(meta: &Value) -> Option<RoomMeta> {
        let obj = meta.as_object()?;
        let room_type = obj.get("roomType").and_then(Value::as_str)?;
        Some(RoomMeta {
            room_type: RoomType::from_code(room_type),
            room_name: obj
                .get("roomName")
                .and_then(Value::as_str)
                .map(str::to_owned),
            participant: obj
                .get("roomParticipant")
                .and_then(Value::as_bool)
                .unwrap_or(true),
        })
    }
}

/// Why a message could not be normalized.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NormalizeError {
    /// The message is not a JSON object.
    #[error("message is not a JSON object (got {0})")]
    NotAnObject(&'static str),
    /// A required field is missing or empty.
    #[error("message field `{0}` is missing")]
    Missing(&'static str),
    /// A field has the wrong JSON type.
    #[error("message field `{field}` should be {expected}, got {got}")]
    WrongType {
        /// The field path.
        field: &'static str,
        /// The expected type.
        expected: &'static str,
        /// The JSON type found.
        got: &'static str,
    },
    /// A date field is neither `{"$date": ms}`, an ISO-8601 string, nor epoch ms.
    #[error("message field `{field}` is not a date: {value}")]
    BadDate {
        /// The field path.
        field: &'static str,
        /// The value found (truncated).
        value: String,
    },
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn req_str<'v>(
    obj: &'v Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<&'v str, NormalizeError> {
    match obj.get(key) {
        None | Some(Value::Null) => Err(NormalizeError::Missing(field)),
        Some(Value::String(s)) if s.is_empty() => Err(NormalizeError::Missing(field)),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(NormalizeError::WrongType {
            field,
            expected: "a string",
            got: json_type(other),
        }),
    }
}

fn opt_str<'v>(
    obj: &'v Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<Option<&'v str>, NormalizeError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(NormalizeError::WrongType {
            field,
            expected: "a string",
            got: json_type(other),
        }),
    }
}

fn opt_array<'v>(
    value: Option<&'v Value>,
    field: &'static str,
) -> Result<Option<&'v [Value]>, NormalizeError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(other) => Err(NormalizeError::WrongType {
            field,
            expected: "an array",
            got: json_type(other),
        }),
    }
}

/// Parse a Rocket.Chat date: EJSON `{"$date": ms}`, an ISO-8601 string, or epoch ms.
pub fn parse_date_ms(v: &Value) -> Option<u64> {
    match v {
        Value::Object(o) => o.get("$date").and_then(parse_date_ms),
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .and_then(|d| u64::try_from(d.timestamp_millis()).ok()),
        _ => None,
    }
}

/// [`parse_date_ms`] of a date still in JSON text; the usual `{"$date": ms}` is read without
/// building a tree.
pub fn parse_raw_date_ms(raw: &RawValue) -> Option<u64> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct EjsonDate {
        #[serde(rename = "$date")]
        ms: u64,
    }
    match serde_json::from_str::<EjsonDate>(raw.get()) {
        Ok(date) => Some(date.ms),
        Err(_) => parse_date_ms(&serde_json::from_str(raw.get()).ok()?),
    }
}

fn date_field(
    obj: &Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<Option<u64>, NormalizeError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => parse_date_ms(v).map(Some).ok_or_else(|| {
            let mut value = v.to_string();
            value.truncate(60);
            NormalizeError::BadDate { field, value }
        }),
    }
}

fn u64_of(v: Option<&Value>) -> Option<u64> {
    v.and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
    })
}

fn str_of(obj: &Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Split the `args` of a `stream-room-messages` event into the message and the
/// room meta (present on `__my_messages__`). Tolerates the 4.x/5.x form that
/// wrapped the message in an extra array.
pub fn stream_message_args(args: &Value) -> Option<(&Value, Option<RoomMeta>)> {
    let list = args.as_array()?;
    let first = list.first()?;
    let message = match first {
        Value::Array(inner) => inner.first()?,
        other => other,
    };
    let meta = list.get(1).and_then(RoomMeta::from_stream_meta);
    Some((message, meta))
}

/// Whether `text` mentions `@username` (case-insensitive) at a word boundary:
/// not inside an e-mail address or a longer username.
pub fn mentions_username(text: &str, username: &str) -> bool {
    // Most texts mention nobody: skip lowercasing a copy of them.
    if username.is_empty() || !text.contains('@') {
        return false;
    }
    let text = text.to_lowercase();
    let needle = format!("@{}", username.to_lowercase());
    let is_name_char = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let mut from = 0;
    while let Some(pos) = text[from..].find(&needle) {
        let start = from + pos;
        let end = start + needle.len();
        let before_ok = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !(is_name_char(c) || c == '.'));
        let mut after = text[end..].chars();
        let after_ok = match after.next() {
            None => true,
            Some('.') => after.next().is_none_or(|c| !is_name_char(c)),
            Some(c) => !is_name_char(c),
        };
        if before_ok && after_ok {
            return true;
        }
        from = start + 1;
        while !text.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

/// Build an [`InboundMessage`] from a raw Rocket.Chat message (DDP or REST form).
///
/// Requires `_id`, `rid`, `u._id`, `u.username` and `ts`; other fields are
/// optional but must have the right JSON type when present.
pub fn normalize_message(
    raw: &Value,
    ctx: &NormalizeContext<'_>,
) -> Result<InboundMessage, NormalizeError> {
    let obj = raw
        .as_object()
        .ok_or(NormalizeError::NotAnObject(json_type(raw)))?;
    let message_id = req_str(obj, "_id", "_id")?.to_owned();
    let room_id = req_str(obj, "rid", "rid")?.to_owned();
    let u = match obj.get("u") {
        None | Some(Value::Null) => return Err(NormalizeError::Missing("u")),
        Some(Value::Object(u)) => u,
        Some(other) => {
            return Err(NormalizeError::WrongType {
                field: "u",
                expected: "an object",
                got: json_type(other),
            })
        }
    };
    let sender = Sender {
        id: req_str(u, "_id", "u._id")?.to_owned(),
        username: req_str(u, "username", "u.username")?.to_owned(),
        name: opt_str(u, "name", "u.name")?
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
    };
    let text = opt_str(obj, "msg", "msg")?.unwrap_or_default().to_owned();
    let ts = date_field(obj, "ts", "ts")?.ok_or(NormalizeError::Missing("ts"))?;
    let edited_at = date_field(obj, "editedAt", "editedAt")?;
    let thread_id = opt_str(obj, "tmid", "tmid")?
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let thread_shown = match obj.get("tshow") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(NormalizeError::WrongType {
                field: "tshow",
                expected: "a boolean",
                got: json_type(other),
            })
        }
    };
    let message_type = opt_str(obj, "t", "t")?
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let parts = Parts {
        message_id,
        room_id,
        sender,
        text,
        ts,
        edited_at,
        thread_id,
        thread_shown,
        message_type,
        mentions: obj.get("mentions"),
        files: obj.get("files"),
        file: obj.get("file"),
        attachments: obj.get("attachments"),
    };
    parts.finish(ctx)
}

/// A message read from its JSON text into just the fields [`normalize_message`] reads; the
/// rest (`md`, `urls`, `reactions`, ...) is skipped without being built, and strings without
/// escapes are borrowed, so a duplicate costs one scan and no allocation. Only a well-typed
/// message parses: for anything else (a wrong type, duplicate keys) [`MessageDoc::parse`]
/// gives `None`, and [`normalize_message`] on the JSON tree gives the precise error.
#[derive(Deserialize)]
pub struct MessageDoc<'a> {
    #[serde(borrow, rename = "_id")]
    id: Option<Text<'a>>,
    #[serde(borrow)]
    rid: Option<Text<'a>>,
    #[serde(borrow)]
    u: Option<DocUser<'a>>,
    #[serde(borrow)]
    msg: Option<Text<'a>>,
    #[serde(borrow)]
    ts: Option<&'a RawValue>,
    #[serde(borrow, rename = "editedAt")]
    edited_at: Option<&'a RawValue>,
    #[serde(borrow, rename = "_updatedAt")]
    updated_at: Option<&'a RawValue>,
    #[serde(borrow)]
    tmid: Option<Text<'a>>,
    tshow: Option<bool>,
    #[serde(borrow)]
    t: Option<Text<'a>>,
    // The lists are rare and read leniently: they become JSON trees for the shared code.
    #[serde(borrow)]
    mentions: Option<&'a RawValue>,
    #[serde(borrow)]
    files: Option<&'a RawValue>,
    #[serde(borrow)]
    file: Option<&'a RawValue>,
    #[serde(borrow)]
    attachments: Option<&'a RawValue>,
}

/// A string field, borrowed from the text unless it has escapes. (serde borrows a `Cow`
/// field, but not one inside an `Option`: hence the newtype.)
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

#[derive(Deserialize)]
struct DocUser<'a> {
    #[serde(borrow, rename = "_id")]
    id: Option<Text<'a>>,
    #[serde(borrow)]
    username: Option<Text<'a>>,
    #[serde(borrow)]
    name: Option<Text<'a>>,
}

fn text<'d>(field: &'d Option<Text<'_>>) -> Option<&'d str> {
    field.as_ref().map(|t| t.0.as_ref())
}

/// A field's string, owned, when present and not empty.
fn non_empty(field: Option<Text<'_>>) -> Option<String> {
    field
        .map(|t| t.0)
        .filter(|s| !s.is_empty())
        .map(Cow::into_owned)
}

impl<'a> MessageDoc<'a> {
    /// Read a message object; `None` when it is not a well-typed one.
    pub fn parse(json: &'a str) -> Option<Self> {
        // serde would also accept an array, as the fields in order.
        if !json.trim_start().starts_with('{') {
            return None;
        }
        serde_json::from_str(json).ok()
    }

    /// `_id`.
    pub fn id(&self) -> Option<&str> {
        text(&self.id)
    }

    /// `rid`.
    pub fn room_id(&self) -> Option<&str> {
        text(&self.rid)
    }

    /// `ts`, as [`parse_date_ms`] reads it.
    pub fn ts_ms(&self) -> Option<u64> {
        self.ts.and_then(parse_raw_date_ms)
    }

    /// `editedAt`, as [`parse_date_ms`] reads it.
    pub fn edited_at_ms(&self) -> Option<u64> {
        self.edited_at.and_then(parse_raw_date_ms)
    }

    /// `_updatedAt`, as [`parse_date_ms`] reads it.
    pub fn updated_at_ms(&self) -> Option<u64> {
        self.updated_at.and_then(parse_raw_date_ms)
    }

    /// `u._id`.
    pub fn sender_id(&self) -> Option<&str> {
        text(&self.u.as_ref()?.id)
    }

    /// `t`, the system message type.
    pub fn message_type(&self) -> Option<&str> {
        text(&self.t)
    }

    /// [`normalize_message`] of this message: the same result, the same checks in the same
    /// order.
    pub fn normalize(self, ctx: &NormalizeContext<'_>) -> Result<InboundMessage, NormalizeError> {
        fn required(v: Option<Text<'_>>, field: &'static str) -> Result<String, NormalizeError> {
            non_empty(v).ok_or(NormalizeError::Missing(field))
        }
        fn date(
            raw: Option<&RawValue>,
            field: &'static str,
        ) -> Result<Option<u64>, NormalizeError> {
            let Some(raw) = raw else { return Ok(None) };
            parse_raw_date_ms(raw).map(Some).ok_or_else(|| {
                let mut value = tree(raw).to_string();
                value.truncate(60);
                NormalizeError::BadDate { field, value }
            })
        }
        fn tree(raw: &RawValue) -> Value {
            // Validated JSON already: the fallback is unreachable.
            serde_json::from_str(raw.get()).unwrap_or(Value::Null)
        }
        let message_id = required(self.id, "_id")?;
        let room_id = required(self.rid, "rid")?;
        let u = self.u.ok_or(NormalizeError::Missing("u"))?;
        let sender = Sender {
            id: required(u.id, "u._id")?,
            username: required(u.username, "u.username")?,
            name: non_empty(u.name),
        };
        let text = self.msg.map(|t| t.0.into_owned()).unwrap_or_default();
        let ts = date(self.ts, "ts")?.ok_or(NormalizeError::Missing("ts"))?;
        let edited_at = date(self.edited_at, "editedAt")?;
        let [mentions, files, file, attachments] =
            [self.mentions, self.files, self.file, self.attachments].map(|raw| raw.map(tree));
        Parts {
            message_id,
            room_id,
            sender,
            text,
            ts,
            edited_at,
            thread_id: non_empty(self.tmid),
            thread_shown: self.tshow.unwrap_or(false),
            message_type: non_empty(self.t),
            mentions: mentions.as_ref(),
            files: files.as_ref(),
            file: file.as_ref(),
            attachments: attachments.as_ref(),
        }
        .finish(ctx)
    }
}

/// A message's fields after the type checks of its scalar fields; the lists are read last.
struct Parts<'v> {
    message_id: String,
    room_id: String,
    sender: Sender,
    text: String,
    ts: u64,
    edited_at: Option<u64>,
    thread_id: Option<String>,
    thread_shown: bool,
    message_type: Option<String>,
    mentions: Option<&'v Value>,
    files: Option<&'v Value>,
    file: Option<&'v Value>,
    attachments: Option<&'v Value>,
}

impl Parts<'_> {
    fn finish(self, ctx: &NormalizeContext<'_>) -> Result<InboundMessage, NormalizeError> {
        let Parts {
            message_id,
            room_id,
            sender,
            text,
            ts,
            edited_at,
            thread_id,
            thread_shown,
            message_type,
            ..
        } = self;
        let mentions = read_mentions(self.mentions, &text, ctx)?;
        let files = read_files(self.files, self.file)?;
        let attachments = read_attachments(self.attachments, &files)?;
        Ok(InboundMessage {
            account_id: ctx.account_id.to_owned(),
            room_id,
            room_type: ctx.room.room_type,
            room_name: ctx.room.room_name.clone(),
            message_id,
            thread_id,
            thread_shown,
            sender,
            text,
            mentions,
            attachments,
            files,
            ts,
            is_edit: edited_at.is_some(),
            edited_at,
            message_type,
            source: ctx.source,
            room_participant: ctx.room.participant,
            trigger: None,
        })
    }
}

fn read_mentions(
    mentions: Option<&Value>,
    text: &str,
    ctx: &NormalizeContext<'_>,
) -> Result<Mentions, NormalizeError> {
    let mut m = Mentions::default();
    match opt_array(mentions, "mentions")? {
        Some(list) => {
            for entry in list.iter().filter_map(Value::as_object) {
                let id = entry.get("_id").and_then(Value::as_str).unwrap_or_default();
                let username = entry
                    .get("username")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if id == "all" || username == "all" {
                    m.all = true;
                    continue;
                }
                if id == "here" || username == "here" {
                    m.here = true;
                    continue;
                }
                let is_bot = (!id.is_empty() && id == ctx.bot_user_id)
                    || (!username.is_empty()
                        && username.to_lowercase() == ctx.bot_username.to_lowercase());
                if is_bot {
                    m.bot_mentioned = true;
                }
                let is_team = entry.get("type").and_then(Value::as_str) == Some("team");
                if !is_team && (!id.is_empty() || !username.is_empty()) {
                    m.users.push(MentionedUser {
                        id: id.to_owned(),
                        username: username.to_owned(),
                    });
                }
            }
        }
        None => {
            if mentions_username(text, ctx.bot_username) {
                m.bot_mentioned = true;
                m.users.push(MentionedUser {
                    id: ctx.bot_user_id.to_owned(),
                    username: ctx.bot_username.to_owned(),
                });
            }
            m.all = mentions_username(text, "all");
            m.here = mentions_username(text, "here");
        }
    }
    if ctx.mention_all && (m.all || m.here) {
        m.bot_mentioned = true;
    }
    Ok(m)
}

fn read_files(
    files: Option<&Value>,
    file: Option<&Value>,
) -> Result<Vec<FileInfo>, NormalizeError> {
    let single;
    let list: &[Value] = match opt_array(files, "files")? {
        Some(list) => list,
        None => match file {
            Some(f @ Value::Object(_)) => {
                single = [f.clone()];
                &single
            }
            _ => &[],
        },
    };
    Ok(list
        .iter()
        .filter_map(Value::as_object)
        .filter_map(|f| {
            Some(FileInfo {
                id: str_of(f, "_id")?,
                name: str_of(f, "name"),
                mime_type: str_of(f, "type"),
                size: u64_of(f.get("size")),
            })
        })
        .collect())
}

fn read_attachments(
    attachments: Option<&Value>,
    files: &[FileInfo],
) -> Result<Vec<Attachment>, NormalizeError> {
    let Some(list) = opt_array(attachments, "attachments")? else {
        return Ok(Vec::new());
    };
    Ok(list
        .iter()
        .filter_map(Value::as_object)
        .map(|a| attachment(a, files))
        .collect())
}

fn attachment(a: &Map<String, Value>, files: &[FileInfo]) -> Attachment {
    let file_id = str_of(a, "fileId");
    let file = file_id
        .as_deref()
        .and_then(|id| files.iter().find(|f| f.id == id));
    let title_link = str_of(a, "title_link");
    let media = [
        (AttachmentKind::Image, "image"),
        (AttachmentKind::Audio, "audio"),
        (AttachmentKind::Video, "video"),
    ]
    .into_iter()
    .find_map(|(kind, prefix)| str_of(a, &format!("{prefix}_url")).map(|url| (kind, prefix, url)));

    let (kind, url, mime_type, size) = match media {
        Some((kind, prefix, media_url)) => (
            kind,
            // the full file rather than a thumbnail
            title_link.or(Some(media_url)),
            str_of(a, &format!("{prefix}_type")).or_else(|| file.and_then(|f| f.mime_type.clone())),
            u64_of(a.get(&format!("{prefix}_size")))
                .or_else(|| u64_of(a.get("size")))
                .or_else(|| file.and_then(|f| f.size)),
        ),
        None if a.get("type").and_then(Value::as_str) == Some("file") || file_id.is_some() => (
            AttachmentKind::File,
            title_link,
            file.and_then(|f| f.mime_type.clone()),
            u64_of(a.get("size")).or_else(|| file.and_then(|f| f.size)),
        ),
        None => (
            AttachmentKind::Other,
            title_link
                .or_else(|| str_of(a, "message_link"))
                .or_else(|| str_of(a, "author_link")),
            None,
            None,
        ),
    };
    let (title, description) = if kind == AttachmentKind::Other {
        (
            str_of(a, "title").or_else(|| str_of(a, "author_name")),
            str_of(a, "text").or_else(|| str_of(a, "description")),
        )
    } else {
        (str_of(a, "title"), str_of(a, "description"))
    };
    Attachment {
        kind,
        title,
        url,
        mime_type,
        size,
        description,
        file_id,
    }
}

#[cfg(test)]
mod tests;
