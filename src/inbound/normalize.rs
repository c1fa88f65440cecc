//! Raw Rocket.Chat message JSON → [`InboundMessage`].
//!
//! [`MessageDoc`] is the one reader of a message object, from its JSON text. It accepts both
//! encodings: DDP (EJSON dates `{"$date": ms}`) and REST (ISO-8601 strings); the same message
//! gives the same [`InboundMessage`] either way. Malformed input is an error naming the field,
//! never a panic.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::event::{
    Attachment, AttachmentKind, FileInfo, InboundMessage, MentionedUser, Mentions, MessageSource,
    RoomType, Sender,
};
use crate::raw_json;

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

/// Build an [`InboundMessage`] from a message object's JSON text (DDP or REST form):
/// [`MessageDoc::parse`], then [`MessageDoc::normalize`].
pub fn normalize_json(
    json: &str,
    ctx: &NormalizeContext<'_>,
) -> Result<InboundMessage, NormalizeError> {
    MessageDoc::parse(json)?.normalize(ctx)
}

/// A member read for a string: absent (or null), the string (borrowed unless it has escapes),
/// or the JSON type it has instead.
type Str<'a> = Option<Result<Cow<'a, str>, &'static str>>;

fn str_member(raw: Option<&RawValue>) -> Str<'_> {
    raw.map(raw_json::string)
}

/// A message object read from its JSON text into just the members the pipeline uses: the rest
/// (`md`, `urls`, `reactions`, ...) is skipped without being built, and strings without
/// escapes are borrowed, so a duplicate costs one scan and no allocation. Members are read as
/// a JSON tree would read them (null is absent, a repeated key keeps its last value); a wrong
/// type is an error of [`MessageDoc::normalize`] naming the member.
pub struct MessageDoc<'a> {
    id: Str<'a>,
    rid: Str<'a>,
    /// `u`: its members, or the JSON type it has instead of an object.
    user: Option<Result<DocUser<'a>, &'static str>>,
    msg: Str<'a>,
    ts: Option<&'a RawValue>,
    edited_at: Option<&'a RawValue>,
    updated_at: Option<&'a RawValue>,
    tmid: Str<'a>,
    tshow: Option<&'a RawValue>,
    t: Str<'a>,
    // The lists are rare and read leniently: they become JSON trees for the readers below.
    mentions: Option<&'a RawValue>,
    files: Option<&'a RawValue>,
    file: Option<&'a RawValue>,
    attachments: Option<&'a RawValue>,
}

struct DocUser<'a> {
    id: Str<'a>,
    username: Str<'a>,
    name: Str<'a>,
}

/// A string member, required: absent, null and empty are all missing.
fn required(v: Str<'_>, field: &'static str) -> Result<String, NormalizeError> {
    match optional(v, field)? {
        Some(s) if !s.is_empty() => Ok(s.into_owned()),
        _ => Err(NormalizeError::Missing(field)),
    }
}

/// A string member, optional: absent or null is `None`, another type an error.
fn optional<'a>(v: Str<'a>, field: &'static str) -> Result<Option<Cow<'a, str>>, NormalizeError> {
    v.transpose().map_err(|got| NormalizeError::WrongType {
        field,
        expected: "a string",
        got,
    })
}

/// An optional string member, owned, when present and not empty.
fn non_empty(v: Str<'_>, field: &'static str) -> Result<Option<String>, NormalizeError> {
    Ok(optional(v, field)?
        .filter(|s| !s.is_empty())
        .map(Cow::into_owned))
}

fn borrowed<'d>(v: &'d Str<'_>) -> Option<&'d str> {
    match v {
        Some(Ok(s)) => Some(s),
        _ => None,
    }
}

impl<'a> MessageDoc<'a> {
    /// Read a message object's members from its JSON text.
    pub fn parse(json: &'a str) -> Result<Self, NormalizeError> {
        const KEYS: [&str; 14] = [
            "_id",
            "rid",
            "u",
            "msg",
            "ts",
            "editedAt",
            "_updatedAt",
            "tmid",
            "tshow",
            "t",
            "mentions",
            "files",
            "file",
            "attachments",
        ];
        let Some(
            [id, rid, u, msg, ts, edited_at, updated_at, tmid, tshow, t, mentions, files, file, attachments],
        ) = raw_json::members(json, &KEYS)
        else {
            return Err(NormalizeError::NotAnObject(text_kind(json)));
        };
        let user = u.map(|u| {
            let [id, username, name] = raw_json::members(u.get(), &["_id", "username", "name"])
                .ok_or_else(|| raw_json::kind(u))?;
            Ok(DocUser {
                id: str_member(id),
                username: str_member(username),
                name: str_member(name),
            })
        });
        Ok(MessageDoc {
            id: str_member(id),
            rid: str_member(rid),
            user,
            msg: str_member(msg),
            ts,
            edited_at,
            updated_at,
            tmid: str_member(tmid),
            tshow,
            t: str_member(t),
            mentions,
            files,
            file,
            attachments,
        })
    }

    /// `_id`, when a string.
    pub fn id(&self) -> Option<&str> {
        borrowed(&self.id)
    }

    /// `rid`, when a string.
    pub fn room_id(&self) -> Option<&str> {
        borrowed(&self.rid)
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

    /// `u._id`, when a string.
    pub fn sender_id(&self) -> Option<&str> {
        match &self.user {
            Some(Ok(u)) => borrowed(&u.id),
            _ => None,
        }
    }

    /// `t`, the system message type, when a string.
    pub fn message_type(&self) -> Option<&str> {
        borrowed(&self.t)
    }

    /// The [`InboundMessage`]. Requires `_id`, `rid`, `u._id`, `u.username` and `ts`; other
    /// members are optional but must have the right JSON type when present. Checked in a fixed
    /// order, so a message with several faults always reports the same one.
    pub fn normalize(self, ctx: &NormalizeContext<'_>) -> Result<InboundMessage, NormalizeError> {
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
        let u = match self.user {
            None => return Err(NormalizeError::Missing("u")),
            Some(Err(got)) => {
                return Err(NormalizeError::WrongType {
                    field: "u",
                    expected: "an object",
                    got,
                })
            }
            Some(Ok(u)) => u,
        };
        let sender = Sender {
            id: required(u.id, "u._id")?,
            username: required(u.username, "u.username")?,
            name: non_empty(u.name, "u.name")?,
        };
        let text = optional(self.msg, "msg")?
            .map(Cow::into_owned)
            .unwrap_or_default();
        let ts = date(self.ts, "ts")?.ok_or(NormalizeError::Missing("ts"))?;
        let edited_at = date(self.edited_at, "editedAt")?;
        let thread_id = non_empty(self.tmid, "tmid")?;
        let thread_shown = match self.tshow.map(RawValue::get) {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                return Err(NormalizeError::WrongType {
                    field: "tshow",
                    expected: "a boolean",
                    got: self.tshow.map_or("null", raw_json::kind),
                })
            }
        };
        let message_type = non_empty(self.t, "t")?;
        let [mentions, files, file, attachments] =
            [self.mentions, self.files, self.file, self.attachments].map(|raw| raw.map(tree));
        Parts {
            message_id,
            room_id,
            sender,
            text,
            ts,
            edited_at,
            thread_id,
            thread_shown,
            message_type,
            mentions: mentions.as_ref(),
            files: files.as_ref(),
            file: file.as_ref(),
            attachments: attachments.as_ref(),
        }
        .finish(ctx)
    }
}

/// The JSON type of a text that is not an object, for [`NormalizeError::NotAnObject`].
fn text_kind(json: &str) -> &'static str {
    match RawValue::from_string(json.trim().to_owned()) {
        Ok(raw) => raw_json::kind(&raw),
        Err(_) => "text that is not JSON",
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
