//! Errors as JavaScript sees them: an `Error` whose `code` property is one of [`ErrorCode`]
//! and whose message never contains a secret.
//!
//! The core's errors are written not to carry tokens or passwords; on top of that every
//! message passes through [`Redactor`], which replaces the secret values the binding was
//! handed (`authToken`, `password`, `totpCode`, the `ROCKETCHAT_*` secrets) by `***`.

use napi::bindgen_prelude::{JsObjectValue, ToNapiValue, Unknown};
use napi::{Env, JsError, JsValue, Status};
use openclaw_rocketchat::account::AccountError;
use openclaw_rocketchat::auth::AuthError;
use openclaw_rocketchat::outbound::DeliveryError;
use openclaw_rocketchat::rest::RestError;
use openclaw_rocketchat::CoreError;
use serde_json::{json, Value};

/// The stable codes of the `code` property (documented in `index.d.ts`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// Invalid configuration or constructor options.
    Config,
    /// Bad argument (an unparsable send target, a bad request).
    InvalidArgument,
    /// No running account with this id, or a missing room/user/route.
    NotFound,
    /// The core was closed.
    Closed,
    /// Connection refused, reset, DNS or TLS handshake failure.
    Network,
    /// A call timed out.
    Timeout,
    /// The server refused the credentials.
    Auth,
    /// The bot lacks a permission, or a URL is outside the server's origin.
    Forbidden,
    /// Rate limited longer than the retries allow.
    RateLimited,
    /// The server failed (5xx after retries).
    Server,
    /// The server refused the request (`success: false`).
    Api,
    /// The server's answer could not be read.
    Protocol,
    /// A response or file exceeded its size limit.
    TooLarge,
    /// TLS options are unusable (bad CA file or PEM).
    Tls,
    /// A bug or an unexpected failure inside the binding.
    Internal,
}

impl ErrorCode {
    /// The string JavaScript sees in `error.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Config => "CONFIG",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Closed => "CLOSED",
            ErrorCode::Network => "NETWORK",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::Auth => "AUTH",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Server => "SERVER",
            ErrorCode::Api => "API",
            ErrorCode::Protocol => "PROTOCOL",
            ErrorCode::TooLarge => "TOO_LARGE",
            ErrorCode::Tls => "TLS",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

impl AsRef<str> for ErrorCode {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<Status> for ErrorCode {
    fn from(status: Status) -> Self {
        match status {
            Status::InvalidArg | Status::ObjectExpected | Status::StringExpected => {
                ErrorCode::InvalidArgument
            }
            _ => ErrorCode::Internal,
        }
    }
}

/// An error on its way to JavaScript: code, message and extra properties
/// (`problems` for CONFIG, `retryAfterMs` for RATE_LIMITED, `status` for HTTP failures).
#[derive(Debug, Clone)]
pub struct BindingError {
    /// `error.code`.
    pub code: ErrorCode,
    /// `error.message` (already redacted).
    pub message: String,
    /// Extra properties set on the error object.
    pub extra: Vec<(&'static str, Value)>,
}

impl BindingError {
    /// An error without extra properties.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        BindingError {
            code,
            message: message.into(),
            extra: Vec::new(),
        }
    }

    /// The core was closed.
    pub fn closed() -> Self {
        BindingError::new(ErrorCode::Closed, "the Rocket.Chat core is closed")
    }

    /// Redact every secret `redactor` knows from the message and extra properties.
    pub fn redacted(mut self, redactor: &Redactor) -> Self {
        self.message = redactor.redact(&self.message);
        for (_, v) in &mut self.extra {
            redactor.redact_value(v);
        }
        self
    }

    /// For synchronous functions: an `Error<ErrorCode>` napi throws with `code` set.
    pub fn into_napi(self) -> napi::Error<ErrorCode> {
        napi::Error::new(self.code, self.message)
    }

    /// Build the JS `Error` object (on the JS thread) and wrap it so napi rejects the promise
    /// with exactly this object.
    pub fn into_rejection(self, env: &Env) -> napi::Error {
        let mut obj = match JsError::from(napi::Error::new(self.code, self.message.clone()))
            .into_unknown(*env)
            .coerce_to_object()
        {
            Ok(o) => o,
            Err(e) => return e,
        };
        for (key, value) in self.extra {
            if let Err(e) = obj.set_named_property(key, value) {
                return e;
            }
        }
        // SAFETY: `obj` is a live value of `env`, on the JS thread.
        match unsafe { ToNapiValue::to_napi_value(env.raw(), obj) } {
            Ok(raw) => napi::Error::from(unsafe { Unknown::from_raw_unchecked(env.raw(), raw) }),
            Err(e) => e,
        }
    }
}

impl From<CoreError> for BindingError {
    fn from(err: CoreError) -> Self {
        match err {
            CoreError::Config(errors) => {
                let problems: Vec<Value> = errors
                    .problems()
                    .iter()
                    .map(|p| json!({ "path": p.path, "message": p.message }))
                    .collect();
                BindingError {
                    code: ErrorCode::Config,
                    message: errors.to_string(),
                    extra: vec![("problems", Value::Array(problems))],
                }
            }
            CoreError::UnknownAccount(_) => BindingError::new(ErrorCode::NotFound, err.to_string()),
            CoreError::Closed => BindingError::closed(),
            CoreError::Runtime(_) => BindingError::new(ErrorCode::Internal, err.to_string()),
            CoreError::Account(ref account) => {
                let message = err.to_string();
                match account {
                    AccountError::Tls { .. } => BindingError::new(ErrorCode::Tls, message),
                    AccountError::Target { .. } => {
                        BindingError::new(ErrorCode::InvalidArgument, message)
                    }
                    AccountError::Rest { source, .. } => rest_error(source, message),
                    AccountError::Delivery { source, .. } => match source.as_ref() {
                        DeliveryError::Partial { source, .. } => rest_error(source, message),
                        DeliveryError::Rest(source) => rest_error(source, message),
                        DeliveryError::MediaTooLarge { .. } | DeliveryError::TooLong { .. } => {
                            BindingError::new(ErrorCode::TooLarge, message)
                        }
                        DeliveryError::NotOwnMessage { .. } => {
                            BindingError::new(ErrorCode::Forbidden, message)
                        }
                        DeliveryError::Aborted { .. } | DeliveryError::StreamClosed => {
                            BindingError::new(ErrorCode::Closed, message)
                        }
                    },
                }
            }
        }
    }
}

fn rest_error(err: &RestError, message: String) -> BindingError {
    let code = match err {
        RestError::Unauthorized { .. } => ErrorCode::Auth,
        RestError::Forbidden { .. } | RestError::ForeignOrigin { .. } => ErrorCode::Forbidden,
        RestError::NotFound { .. } => ErrorCode::NotFound,
        RestError::RateLimited { .. } => ErrorCode::RateLimited,
        RestError::Server { .. } => ErrorCode::Server,
        RestError::Api { .. } => ErrorCode::Api,
        RestError::Network { .. } => ErrorCode::Network,
        RestError::Timeout { .. } => ErrorCode::Timeout,
        RestError::Decode { .. } => ErrorCode::Protocol,
        RestError::TooLarge { .. } => ErrorCode::TooLarge,
        RestError::Invalid(_) => ErrorCode::InvalidArgument,
        RestError::Auth(AuthError::RateLimited { .. }) => ErrorCode::RateLimited,
        RestError::Auth(AuthError::Transient(_)) => ErrorCode::Network,
        RestError::Auth(_) => ErrorCode::Auth,
    };
    let mut out = BindingError::new(code, message);
    if let Some(status) = err.status() {
        out.extra.push(("status", json!(status)));
    }
    match err {
        RestError::RateLimited { retry_after_ms, .. }
        | RestError::Auth(AuthError::RateLimited { retry_after_ms }) => {
            out.extra.push(("retryAfterMs", json!(retry_after_ms)));
        }
        RestError::Api {
            error_type: Some(t),
            ..
        } => out.extra.push(("errorType", json!(t))),
        _ => {}
    }
    out
}

/// Keys whose string values are secrets, at any depth of a `channels.rocketchat` object.
const SECRET_KEYS: [&str; 3] = ["authToken", "password", "totpCode"];

/// Replaces known secret values by `***` (defence in depth: the core already keeps them out).
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Collect the secrets of a config section (and, when used, of the process environment).
    pub fn for_config(section: &Value, env_secrets: &[String]) -> Self {
        let mut secrets = env_secrets.to_vec();
        collect_secrets(section, &mut secrets);
        // Very short values would redact ordinary words; the core rejects them anyway.
        secrets.retain(|s| s.trim().chars().count() >= 4);
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Redactor { secrets }
    }

    /// `text` with every known secret replaced.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "***");
            }
        }
        out
    }

    fn redact_value(&self, value: &mut Value) {
        match value {
            Value::String(s) => *s = self.redact(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_value(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.redact_value(v)),
            _ => {}
        }
    }
}

fn collect_secrets(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s) if SECRET_KEYS.contains(&k.as_str()) => out.push(s.clone()),
                    _ => collect_secrets(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_secrets(v, out)),
        _ => {}
    }
}
