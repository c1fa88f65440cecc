//! The one error every host sees: a stable code from [`ErrorCode`], a message in the user's
//! words with every known secret redacted, and a few typed details.
//!
//! [`HostError::from_core`] is the only place a core error becomes a code (rustls-ffi's
//! `map_error` is the model): bindings render a [`HostError`], they never look inside the
//! core's error types.

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::account::AccountError;
use crate::auth::AuthError;
use crate::outbound::DeliveryError;
use crate::rest::RestError;
use crate::CoreError;

use super::redact::Redactor;

/// The stable error codes. The numbers never change and are never reused; new codes are
/// added at the end. C sees them as `rcc_status` (the same numbers, `RCC_STATUS_<NAME>`),
/// Node as `error.code` (the [`ErrorCode::name`]).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// Success (C's `RCC_STATUS_OK`; never in an error).
    Ok = 0,
    /// A required argument is missing, out of range or not understood (an unparsable send
    /// target, a NULL pointer, an unknown verb).
    InvalidArgument = 1,
    /// A string argument is not valid UTF-8.
    InvalidUtf8 = 2,
    /// A JSON argument does not parse.
    InvalidJson = 3,
    /// The configuration or the host options are invalid; the message names every key path.
    Config = 4,
    /// No running account with that id, no such stream, or a missing room, user or route.
    NotFound = 5,
    /// The core (or the stream) was closed.
    Closed = 6,
    /// A wait ended without a result: a call timed out, or no event came in time.
    Timeout = 7,
    /// The server could not be reached (refused, reset, DNS, TLS handshake).
    Network = 8,
    /// The server refused the credentials.
    Auth = 9,
    /// Rate limited beyond the retries; `retryAfterMs` says when to try again.
    RateLimited = 10,
    /// The server failed (5xx after the retries).
    Server = 11,
    /// The call is not allowed now (a blocking C call from a core runtime thread, a pull
    /// while an event callback is set).
    InvalidState = 12,
    /// A panic was caught at the boundary; report it as a bug.
    Panic = 13,
    /// Any other failure.
    Internal = 14,
    /// The bot lacks a permission, or the message or URL is not the bot's to touch.
    Forbidden = 15,
    /// The server refused the request (`success: false`); `errorType` has its code.
    Api = 16,
    /// The server's answer could not be read.
    Protocol = 17,
    /// A file, text or response is over its limit (`mediaMaxMb`, one message's length).
    TooLarge = 18,
    /// The TLS options are unusable (unreadable CA file, bad PEM).
    Tls = 19,
}

impl ErrorCode {
    /// Every code, in number order (for tables, docs and the bindings' checks).
    pub const ALL: [ErrorCode; 20] = [
        ErrorCode::Ok,
        ErrorCode::InvalidArgument,
        ErrorCode::InvalidUtf8,
        ErrorCode::InvalidJson,
        ErrorCode::Config,
        ErrorCode::NotFound,
        ErrorCode::Closed,
        ErrorCode::Timeout,
        ErrorCode::Network,
        ErrorCode::Auth,
        ErrorCode::RateLimited,
        ErrorCode::Server,
        ErrorCode::InvalidState,
        ErrorCode::Panic,
        ErrorCode::Internal,
        ErrorCode::Forbidden,
        ErrorCode::Api,
        ErrorCode::Protocol,
        ErrorCode::TooLarge,
        ErrorCode::Tls,
    ];

    /// The name hosts show: `NOT_FOUND`, `RATE_LIMITED`, … (C prefixes `RCC_STATUS_`).
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::Ok => "OK",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::InvalidUtf8 => "INVALID_UTF8",
            ErrorCode::InvalidJson => "INVALID_JSON",
            ErrorCode::Config => "CONFIG",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Closed => "CLOSED",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::Network => "NETWORK",
            ErrorCode::Auth => "AUTH",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Server => "SERVER",
            ErrorCode::InvalidState => "INVALID_STATE",
            ErrorCode::Panic => "PANIC",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::Api => "API",
            ErrorCode::Protocol => "PROTOCOL",
            ErrorCode::TooLarge => "TOO_LARGE",
            ErrorCode::Tls => "TLS",
        }
    }

    /// The number (C's `rcc_status` value).
    pub fn number(self) -> u32 {
        self as u32
    }
}

/// An error on its way to a host.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HostError {
    /// The stable code.
    pub code: ErrorCode,
    /// What went wrong, for people; secrets redacted.
    pub message: String,
    /// Typed extras: `problems` (`[{path, message}]`, CONFIG), `status` (HTTP), `retryAfterMs`
    /// (RATE_LIMITED), `errorType` (API), `sent` (what landed before a failed delivery).
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub details: Map<String, Value>,
}

impl HostError {
    /// An error without details.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        HostError {
            code,
            message: message.into(),
            details: Map::new(),
        }
    }

    /// The core is closed.
    pub fn closed() -> Self {
        HostError::new(ErrorCode::Closed, "the Rocket.Chat core is closed")
    }

    /// A bad argument of `verb`.
    pub fn invalid(verb: &str, message: impl std::fmt::Display) -> Self {
        HostError::new(ErrorCode::InvalidArgument, format!("{verb}: {message}"))
    }

    fn with(mut self, key: &str, value: Value) -> Self {
        self.details.insert(key.to_owned(), value);
        self
    }

    /// Replace every secret `redactor` knows, in the message and the details.
    pub fn redacted(mut self, redactor: &Redactor) -> Self {
        self.message = redactor.redact(&self.message);
        for value in self.details.values_mut() {
            redactor.redact_value(value);
        }
        self
    }

    /// The single mapping from the core's errors to codes.
    pub fn from_core(err: CoreError) -> Self {
        let message = err.to_string();
        match &err {
            CoreError::Config(errors) => {
                let problems: Vec<Value> = errors
                    .problems()
                    .iter()
                    .map(|p| json!({ "path": p.path, "message": p.message }))
                    .collect();
                HostError::new(ErrorCode::Config, message).with("problems", Value::Array(problems))
            }
            CoreError::UnknownAccount(_) => HostError::new(ErrorCode::NotFound, message),
            CoreError::Closed => HostError::closed(),
            CoreError::Runtime(_) => HostError::new(ErrorCode::Internal, message),
            CoreError::Account(account) => match account {
                AccountError::Tls { .. } => HostError::new(ErrorCode::Tls, message),
                AccountError::Target { .. } => HostError::new(ErrorCode::InvalidArgument, message),
                AccountError::Forbidden { .. } => HostError::new(ErrorCode::Forbidden, message),
                AccountError::Rest { source, .. } | AccountError::Probe { source, .. } => {
                    rest_error(source, message)
                }
                AccountError::Delivery { source, .. } => match source.as_ref() {
                    DeliveryError::Partial { source, sent, .. } => rest_error(source, message)
                        .with("sent", serde_json::to_value(sent).unwrap_or_default()),
                    DeliveryError::Rest(source) => rest_error(source, message),
                    DeliveryError::MediaTooLarge { .. } | DeliveryError::TooLong { .. } => {
                        HostError::new(ErrorCode::TooLarge, message)
                    }
                    DeliveryError::NotOwnMessage { .. } | DeliveryError::NotInRoom { .. } => {
                        HostError::new(ErrorCode::Forbidden, message)
                    }
                    DeliveryError::UnknownEmoji { .. } => {
                        HostError::new(ErrorCode::InvalidArgument, message)
                    }
                    DeliveryError::Aborted { .. } | DeliveryError::StreamClosed => {
                        HostError::new(ErrorCode::Closed, message)
                    }
                },
            },
        }
    }
}

impl From<CoreError> for HostError {
    fn from(err: CoreError) -> Self {
        HostError::from_core(err)
    }
}

/// Rocket.Chat's `errorType`s that mean "no such room, user or message".
const NOT_FOUND_TYPES: [&str; 5] = [
    "error-room-not-found",
    "error-invalid-room",
    "error-user-not-found",
    "error-invalid-user",
    "error-message-not-found",
];

fn rest_error(err: &RestError, message: String) -> HostError {
    let code = match err {
        RestError::Unauthorized { .. } => ErrorCode::Auth,
        RestError::Forbidden { .. } | RestError::ForeignOrigin { .. } => ErrorCode::Forbidden,
        RestError::NotFound { .. } => ErrorCode::NotFound,
        RestError::RateLimited { .. } => ErrorCode::RateLimited,
        RestError::Server { .. } => ErrorCode::Server,
        // Rocket.Chat answers a missing room or user with 400 and one of these codes.
        RestError::Api {
            error_type: Some(t),
            ..
        } if NOT_FOUND_TYPES.contains(&t.as_str()) => ErrorCode::NotFound,
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
    let mut out = HostError::new(code, message);
    if let Some(status) = err.status() {
        out = out.with("status", json!(status));
    }
    match err {
        RestError::RateLimited { retry_after_ms, .. }
        | RestError::Auth(AuthError::RateLimited { retry_after_ms }) => {
            out.with("retryAfterMs", json!(retry_after_ms))
        }
        RestError::Api {
            error_type: Some(t),
            ..
        } => out.with("errorType", json!(t)),
        _ => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_the_table_in_order_and_names_are_unique() {
        for (i, code) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(code.number() as usize, i, "{code:?}");
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, json!(code.name()), "serde name = name()");
        }
        let mut names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.name()).collect();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn rate_limits_carry_the_wait_and_partial_deliveries_what_landed() {
        let err = CoreError::Account(AccountError::Rest {
            account: "a".into(),
            source: Box::new(RestError::RateLimited {
                route: "POST /api/v1/chat.sendMessage".into(),
                retry_after_ms: 1500,
            }),
        });
        let host = HostError::from_core(err);
        assert_eq!(host.code, ErrorCode::RateLimited);
        assert_eq!(host.details["retryAfterMs"], json!(1500));
        assert!(
            host.message.contains("retry in 1500 ms"),
            "{}",
            host.message
        );
    }
}
