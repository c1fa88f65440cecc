//! The DDP frame codec: server frames parsed from text, client frames serialized to text,
//! the Meteor.Error shape and EJSON date helpers.
//!
//! Parsing goes through `serde_json::Value` and checks each field by hand instead of a
//! derived `Deserialize`: the server is outside our control, and a frame with a wrong
//! type must turn into a [`FrameError`] that names the field, never a panic and never a
//! silently half-filled struct.

use std::fmt;

use serde_json::{json, Map, Value};

/// The DDP protocol version we propose, and the versions we accept, most preferred first.
pub const DDP_VERSION: &str = "1";
/// The `support` list sent with `connect` (same as Meteor's own client).
pub const DDP_SUPPORT: [&str; 3] = ["1", "pre2", "pre1"];

/// Why a text frame could not be understood.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The text is not JSON at all.
    #[error("frame is not valid JSON: {0}")]
    NotJson(String),
    /// The JSON is valid but is not an object.
    #[error("frame is not a JSON object")]
    NotAnObject,
    /// A field the frame kind requires is absent.
    #[error("`{msg}` frame has no `{field}` field")]
    MissingField {
        /// The frame's `msg` value.
        msg: String,
        /// The missing field.
        field: &'static str,
    },
    /// A field has the wrong JSON type.
    #[error("`{msg}` frame: field `{field}` should be {expected}")]
    WrongType {
        /// The frame's `msg` value.
        msg: String,
        /// The offending field.
        field: &'static str,
        /// What the field should have been.
        expected: &'static str,
    },
}

/// The `error` member of a Meteor.Error: a number (HTTP-like status) or a string code.
#[derive(Clone, Debug, PartialEq)]
pub enum ErrorCode {
    /// A numeric code such as `403` or `404`.
    Number(i64),
    /// A string code such as `"too-many-requests"` or `"totp-required"`.
    Text(String),
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorCode::Number(n) => write!(f, "{n}"),
            ErrorCode::Text(s) => f.write_str(s),
        }
    }
}

/// A Meteor.Error as sent over DDP in `result.error` and `nosub.error`.
#[derive(Clone, Debug, PartialEq)]
pub struct DdpError {
    /// The code: `403`, `404`, `"not-allowed"`, ...
    pub error: ErrorCode,
    /// Human readable reason, when the server gave one.
    pub reason: Option<String>,
    /// `"<reason> [<error>]"` as Meteor formats it.
    pub message: Option<String>,
    /// Normally `"Meteor.Error"`.
    pub error_type: Option<String>,
    /// Extra data (for example `{timeToReset}` on rate limits, `{method}` on 2FA).
    pub details: Option<Value>,
}

impl DdpError {
    /// True when the code is this number (for example `is_code(403)` for a refused login).
    pub fn is_code(&self, code: i64) -> bool {
        self.error == ErrorCode::Number(code)
    }

    /// True when the code is this string (for example `"too-many-requests"`).
    pub fn is_text_code(&self, code: &str) -> bool {
        matches!(&self.error, ErrorCode::Text(t) if t == code)
    }

    /// Milliseconds until a rate limit resets (`details.timeToReset`), when present.
    pub fn time_to_reset_ms(&self) -> Option<u64> {
        self.details.as_ref()?.get("timeToReset")?.as_u64()
    }

    /// Parse the error object of a `result` or `nosub` frame. `frame_msg` names the frame
    /// in error messages.
    pub fn from_value(value: &Value, frame_msg: &str) -> Result<Self, FrameError> {
        let wrong = |field, expected| FrameError::WrongType {
            msg: frame_msg.to_owned(),
            field,
            expected,
        };
        let obj = value
            .as_object()
            .ok_or_else(|| wrong("error", "an object"))?;
        let error = match obj.get("error") {
            Some(Value::Number(n)) => ErrorCode::Number(
                n.as_i64()
                    .ok_or_else(|| wrong("error.error", "an integer"))?,
            ),
            Some(Value::String(s)) => ErrorCode::Text(s.clone()),
            Some(_) => return Err(wrong("error.error", "a number or a string")),
            None => {
                return Err(FrameError::MissingField {
                    msg: frame_msg.to_owned(),
                    field: "error.error",
                })
            }
        };
        Ok(DdpError {
            error,
            reason: opt_str(obj, "reason", frame_msg, "error.reason")?,
            message: opt_str(obj, "message", frame_msg, "error.message")?,
            error_type: opt_str(obj, "errorType", frame_msg, "error.errorType")?,
            details: obj.get("details").cloned(),
        })
    }

    /// The Meteor.Error object, as a server would send it (used by tests and simulators).
    pub fn to_value(&self) -> Value {
        let mut obj = Map::new();
        obj.insert(
            "error".into(),
            match &self.error {
                ErrorCode::Number(n) => json!(n),
                ErrorCode::Text(t) => json!(t),
            },
        );
        if let Some(r) = &self.reason {
            obj.insert("reason".into(), json!(r));
        }
        if let Some(d) = &self.details {
            obj.insert("details".into(), d.clone());
        }
        if let Some(m) = &self.message {
            obj.insert("message".into(), json!(m));
        }
        if let Some(t) = &self.error_type {
            obj.insert("errorType".into(), json!(t));
        }
        Value::Object(obj)
    }
}

impl fmt::Display for DdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.error.to_string();
        match &self.reason {
            Some(r) => f.write_str(&crate::rest::with_code(r, &code)),
            None => write!(f, "[{code}]"),
        }
    }
}

/// What a log may say of an error frame's `offendingMessage`: its kind, method or
/// subscription name and id, never its params (a `login` carries a password or a resume
/// token).
pub fn offending_summary(frame: &Value) -> String {
    let field = |key: &str| {
        frame
            .get(key)
            .and_then(Value::as_str)
            .map(|s| s.chars().take(64).collect::<String>())
    };
    let mut out = field("msg").unwrap_or_else(|| "a frame without msg".to_owned());
    if let Some(name) = field("method").or_else(|| field("name")) {
        out.push(' ');
        out.push_str(&name);
    }
    if let Some(id) = field("id") {
        out.push_str(&format!(" (id {id})"));
    }
    out
}

impl std::error::Error for DdpError {}

/// A frame received from the server.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerFrame {
    /// The greeting: bare `{"server_id":"0"}` (Meteor 2) or `{"msg":"server_id"}`
    /// (EE ddp-streamer). Carries nothing useful; ignored.
    ServerId,
    /// Handshake accepted.
    Connected {
        /// The server's session id.
        session: String,
    },
    /// Handshake refused; the server proposes this version and closes.
    Failed {
        /// The version the server would have accepted.
        version: Option<String>,
    },
    /// Heartbeat request; answer with `pong` carrying the same id.
    Ping {
        /// Echo this id back, when present.
        id: Option<String>,
    },
    /// Heartbeat answer.
    Pong {
        /// The id of our ping, when we sent one.
        id: Option<String>,
    },
    /// The outcome of a method call.
    Result {
        /// The method call id.
        id: String,
        /// The return value; `None` when the key is absent (the method returned `undefined`).
        result: Option<Value>,
        /// Set when the method threw.
        error: Option<DdpError>,
    },
    /// The writes of these method calls are visible. May come before or after `result`.
    Updated {
        /// Method call ids.
        methods: Vec<String>,
    },
    /// These subscriptions have their initial data.
    Ready {
        /// Subscription ids.
        subs: Vec<String>,
    },
    /// A subscription was refused or ended.
    NoSub {
        /// The subscription id.
        id: String,
        /// Why, when it was refused (absent for an acknowledged `unsub`).
        error: Option<DdpError>,
    },
    /// A document was added to a collection.
    Added {
        /// Collection name.
        collection: String,
        /// Document id.
        id: String,
        /// Document fields (empty when absent).
        fields: Map<String, Value>,
    },
    /// A document changed; streams (`stream-*`) deliver every event this way.
    Changed {
        /// Collection name, e.g. `stream-room-messages`.
        collection: String,
        /// Document id (literally `"id"` for streams).
        id: String,
        /// Changed fields (for streams: `eventName` and `args`).
        fields: Map<String, Value>,
        /// Removed field names.
        cleared: Vec<String>,
    },
    /// A document was removed.
    Removed {
        /// Collection name.
        collection: String,
        /// Document id.
        id: String,
    },
    /// A connection-level protocol error; the socket stays open.
    Error {
        /// `Parse error`, `Bad request`, `Must connect first`, ...
        reason: String,
        /// The frame the server objected to.
        offending_message: Option<Value>,
    },
    /// A `msg` we do not know. Ignored, so newer servers do not break us.
    Unknown {
        /// The unknown `msg` value.
        msg: String,
    },
}

impl ServerFrame {
    /// Parse one text frame.
    pub fn parse(text: &str) -> Result<Self, FrameError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| FrameError::NotJson(e.to_string()))?;
        Self::from_owned(value)
    }

    /// Parse one frame that is already JSON.
    pub fn from_value(value: &Value) -> Result<Self, FrameError> {
        Self::from_owned(value.clone())
    }

    /// Parse one frame, moving its payload (`fields`, `result`) into the frame: on the socket
    /// reader's path every message is parsed once and never copied.
    pub fn from_owned(mut value: Value) -> Result<Self, FrameError> {
        let obj = value.as_object_mut().ok_or(FrameError::NotAnObject)?;
        let payload = obj.remove("fields");
        let result = obj.remove("result");
        let offending_message = obj.remove("offendingMessage");
        let obj = &*obj;
        let msg = match obj.get("msg") {
            None if obj.contains_key("server_id") => return Ok(ServerFrame::ServerId),
            None => {
                return Err(FrameError::MissingField {
                    msg: String::new(),
                    field: "msg",
                })
            }
            Some(Value::String(s)) => s.as_str(),
            Some(_) => {
                return Err(FrameError::WrongType {
                    msg: String::new(),
                    field: "msg",
                    expected: "a string",
                })
            }
        };
        let f = Fields { obj, msg };
        Ok(match msg {
            "server_id" => ServerFrame::ServerId,
            "connected" => ServerFrame::Connected {
                session: f.req_str("session")?,
            },
            "failed" => ServerFrame::Failed {
                version: f.opt_str("version")?,
            },
            "ping" => ServerFrame::Ping {
                id: f.opt_str("id")?,
            },
            "pong" => ServerFrame::Pong {
                id: f.opt_str("id")?,
            },
            "result" => ServerFrame::Result {
                id: f.req_str("id")?,
                result,
                error: f.opt_error()?,
            },
            "updated" => ServerFrame::Updated {
                methods: f.str_list("methods")?,
            },
            "ready" => ServerFrame::Ready {
                subs: f.str_list("subs")?,
            },
            "nosub" => ServerFrame::NoSub {
                id: f.req_str("id")?,
                error: f.opt_error()?,
            },
            "added" => ServerFrame::Added {
                collection: f.req_str("collection")?,
                id: f.req_str("id")?,
                fields: f.map("fields", payload)?,
            },
            "changed" => ServerFrame::Changed {
                collection: f.req_str("collection")?,
                id: f.req_str("id")?,
                fields: f.map("fields", payload)?,
                cleared: match obj.get("cleared") {
                    None => Vec::new(),
                    Some(_) => f.str_list("cleared")?,
                },
            },
            "removed" => ServerFrame::Removed {
                collection: f.req_str("collection")?,
                id: f.req_str("id")?,
            },
            "error" => ServerFrame::Error {
                reason: f.opt_str("reason")?.unwrap_or_default(),
                offending_message,
            },
            other => ServerFrame::Unknown {
                msg: other.to_owned(),
            },
        })
    }
}

/// Field access with errors that name the frame and the field.
struct Fields<'a> {
    obj: &'a Map<String, Value>,
    msg: &'a str,
}

impl Fields<'_> {
    fn wrong(&self, field: &'static str, expected: &'static str) -> FrameError {
        FrameError::WrongType {
            msg: self.msg.to_owned(),
            field,
            expected,
        }
    }

    fn req_str(&self, field: &'static str) -> Result<String, FrameError> {
        self.opt_str(field)?
            .ok_or_else(|| FrameError::MissingField {
                msg: self.msg.to_owned(),
                field,
            })
    }

    fn opt_str(&self, field: &'static str) -> Result<Option<String>, FrameError> {
        opt_str(self.obj, field, self.msg, field)
    }

    fn str_list(&self, field: &'static str) -> Result<Vec<String>, FrameError> {
        let list = self
            .obj
            .get(field)
            .ok_or_else(|| FrameError::MissingField {
                msg: self.msg.to_owned(),
                field,
            })?
            .as_array()
            .ok_or_else(|| self.wrong(field, "an array of strings"))?;
        list.iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| self.wrong(field, "an array of strings"))
            })
            .collect()
    }

    /// An optional object field, taken out of the frame beforehand.
    fn map(
        &self,
        field: &'static str,
        value: Option<Value>,
    ) -> Result<Map<String, Value>, FrameError> {
        match value {
            None | Some(Value::Null) => Ok(Map::new()),
            Some(Value::Object(m)) => Ok(m),
            Some(_) => Err(self.wrong(field, "an object")),
        }
    }

    fn opt_error(&self) -> Result<Option<DdpError>, FrameError> {
        match self.obj.get("error") {
            None | Some(Value::Null) => Ok(None),
            Some(v) => DdpError::from_value(v, self.msg).map(Some),
        }
    }
}

fn opt_str(
    obj: &Map<String, Value>,
    key: &str,
    msg: &str,
    field: &'static str,
) -> Result<Option<String>, FrameError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(FrameError::WrongType {
            msg: msg.to_owned(),
            field,
            expected: "a string",
        }),
    }
}

/// A frame we send to the server.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientFrame {
    /// Handshake: `{"msg":"connect","version":..,"support":[..]}`.
    Connect {
        /// Proposed version.
        version: String,
        /// Versions we can speak, most preferred first.
        support: Vec<String>,
    },
    /// A method call.
    Method {
        /// Call id, echoed in `result` and `updated`.
        id: String,
        /// Method name.
        method: String,
        /// Positional parameters.
        params: Vec<Value>,
    },
    /// Subscribe to a publication.
    Sub {
        /// Subscription id, echoed in `ready` / `nosub`.
        id: String,
        /// Publication name, e.g. `stream-room-messages`.
        name: String,
        /// Positional parameters.
        params: Vec<Value>,
    },
    /// End a subscription.
    Unsub {
        /// Subscription id.
        id: String,
    },
    /// Heartbeat request.
    Ping {
        /// Id the server echoes in its `pong`.
        id: Option<String>,
    },
    /// Heartbeat answer (echoes the server ping's id).
    Pong {
        /// The server ping's id, when it had one.
        id: Option<String>,
    },
}

impl ClientFrame {
    /// The handshake we always send: version `"1"`, support `["1","pre2","pre1"]`.
    pub fn connect() -> Self {
        ClientFrame::Connect {
            version: DDP_VERSION.to_owned(),
            support: DDP_SUPPORT.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// The frame as JSON.
    pub fn to_value(&self) -> Value {
        let with_id = |msg: &str, id: &Option<String>| match id {
            Some(id) => json!({"msg": msg, "id": id}),
            None => json!({"msg": msg}),
        };
        match self {
            ClientFrame::Connect { version, support } => {
                json!({"msg": "connect", "version": version, "support": support})
            }
            ClientFrame::Method { id, method, params } => {
                json!({"msg": "method", "method": method, "id": id, "params": params})
            }
            ClientFrame::Sub { id, name, params } => {
                json!({"msg": "sub", "id": id, "name": name, "params": params})
            }
            ClientFrame::Unsub { id } => json!({"msg": "unsub", "id": id}),
            ClientFrame::Ping { id } => with_id("ping", id),
            ClientFrame::Pong { id } => with_id("pong", id),
        }
    }

    /// The frame as the text sent on the socket.
    pub fn to_text(&self) -> String {
        self.to_value().to_string()
    }

    /// Parse a client frame (the inverse of [`ClientFrame::to_value`]); used by tests and by
    /// scripted servers to check what a client sent.
    pub fn from_value(value: &Value) -> Result<Self, FrameError> {
        let obj = value.as_object().ok_or(FrameError::NotAnObject)?;
        let msg = obj
            .get("msg")
            .and_then(Value::as_str)
            .ok_or(FrameError::MissingField {
                msg: String::new(),
                field: "msg",
            })?;
        let f = Fields { obj, msg };
        let params = |f: &Fields<'_>| match obj.get("params") {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) => Ok(a.clone()),
            Some(_) => Err(f.wrong("params", "an array")),
        };
        Ok(match msg {
            "connect" => ClientFrame::Connect {
                version: f.req_str("version")?,
                support: f.str_list("support")?,
            },
            "method" => ClientFrame::Method {
                id: f.req_str("id")?,
                method: f.req_str("method")?,
                params: params(&f)?,
            },
            "sub" => ClientFrame::Sub {
                id: f.req_str("id")?,
                name: f.req_str("name")?,
                params: params(&f)?,
            },
            "unsub" => ClientFrame::Unsub {
                id: f.req_str("id")?,
            },
            "ping" => ClientFrame::Ping {
                id: f.opt_str("id")?,
            },
            "pong" => ClientFrame::Pong {
                id: f.opt_str("id")?,
            },
            _ => {
                return Err(FrameError::WrongType {
                    msg: msg.to_owned(),
                    field: "msg",
                    expected: "a client message kind",
                })
            }
        })
    }
}

/// EJSON helpers. DDP carries dates as `{"$date": <epoch ms>}`; REST uses ISO strings instead.
pub mod ejson {
    use serde_json::{json, Value};

    /// `{"$date": ms}` for an epoch-milliseconds timestamp.
    pub fn date(ms: i64) -> Value {
        json!({ "$date": ms })
    }

    /// The epoch milliseconds of an EJSON date, or `None` when `value` is not one.
    /// A fractional value is truncated (some serializers emit `1.7e12`).
    pub fn date_ms(value: &Value) -> Option<i64> {
        let obj = value.as_object()?;
        if obj.len() != 1 {
            return None;
        }
        let d = obj.get("$date")?;
        d.as_i64().or_else(|| {
            d.as_f64()
                .filter(|f| f.is_finite() && f.abs() < 9.0e15)
                .map(|f| f as i64)
        })
    }
}

#[cfg(test)]
#[path = "frame_tests.rs"]
mod tests;
