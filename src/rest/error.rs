//! Typed REST errors. They keep Rocket.Chat's `error` / `errorType`, the HTTP status
//! and the route, and never carry a token, a password or a URL's query string.

use serde_json::Value;

use crate::auth::AuthError;

/// A failed REST call.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// 401: the credentials were refused (after one re-login attempt).
    #[error("{route}: unauthorized (401){}", opt(.error))]
    Unauthorized {
        /// Method and route, e.g. `POST /api/v1/chat.sendMessage`.
        route: String,
        /// Rocket.Chat's `error` text.
        error: Option<String>,
    },
    /// 403: the bot lacks a permission or cannot access the room.
    #[error("{route}: forbidden (403){}", opt(.error))]
    Forbidden {
        /// Method and route.
        route: String,
        /// Rocket.Chat's `error` text.
        error: Option<String>,
    },
    /// 404: unknown route (e.g. an endpoint this server version removed) or resource.
    #[error("{route}: not found (404){}", opt(.error))]
    NotFound {
        /// Method and route.
        route: String,
        /// Rocket.Chat's `error` text.
        error: Option<String>,
    },
    /// 429 that outlasted the retries, or a wait longer than the configured maximum.
    #[error("{route}: rate limited; retry in {retry_after_ms} ms")]
    RateLimited {
        /// Method and route.
        route: String,
        /// Milliseconds until the server accepts the call again.
        retry_after_ms: u64,
    },
    /// 5xx after the retries.
    #[error("{route}: server error {status}{}", opt(.error))]
    Server {
        /// Method and route.
        route: String,
        /// HTTP status.
        status: u16,
        /// Rocket.Chat's `error` text.
        error: Option<String>,
    },
    /// Any other failure envelope (usually 400 `{"success":false,"error","errorType"}`).
    #[error("{route}: {} (HTTP {status})", error_type.as_deref().map_or_else(|| error.clone(), |t| with_code(error, t)))]
    Api {
        /// Method and route.
        route: String,
        /// HTTP status.
        status: u16,
        /// Rocket.Chat's `error` text.
        error: String,
        /// Rocket.Chat's `errorType` code, when present.
        error_type: Option<String>,
        /// Rocket.Chat's `details`, when present.
        details: Option<Value>,
    },
    /// Connection refused, reset, DNS, TLS handshake…
    #[error("{route}: network error: {message}")]
    Network {
        /// Method and route.
        route: String,
        /// What failed (without the URL).
        message: String,
    },
    /// The connect or request timeout elapsed.
    #[error("{route}: timed out")]
    Timeout {
        /// Method and route.
        route: String,
    },
    /// The response was not the JSON we expected.
    #[error("{route}: cannot decode response: {message}")]
    Decode {
        /// Method and route.
        route: String,
        /// What was wrong.
        message: String,
    },
    /// A response or download exceeded its size limit.
    #[error("{route}: response too large (limit {limit} bytes)")]
    TooLarge {
        /// Method and route.
        route: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// A download URL points to another origin than the configured server; refused so
    /// that credentials never leave the server's origin.
    #[error("refusing to fetch {origin}: not the configured server's origin")]
    ForeignOrigin {
        /// The foreign origin (scheme://host:port only).
        origin: String,
    },
    /// Credentials could not be obtained.
    #[error("{0}")]
    Auth(#[from] AuthError),
    /// Bad input (URL, room type, a stream that cannot be replayed…).
    #[error("invalid request: {0}")]
    Invalid(String),
}

/// `text [code]`, unless the server's text already names that code (Rocket.Chat's `error`
/// texts often do: `Invalid message [error-invalid-message]`).
pub(crate) fn with_code(text: &str, code: &str) -> String {
    let tag = format!("[{code}]");
    if text.contains(&tag) {
        text.to_owned()
    } else {
        format!("{text} {tag}")
    }
}

fn opt(error: &Option<String>) -> String {
    error
        .as_deref()
        .map(|e| format!(": {e}"))
        .unwrap_or_default()
}

impl RestError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            RestError::Unauthorized { .. } => Some(401),
            RestError::Forbidden { .. } => Some(403),
            RestError::NotFound { .. } => Some(404),
            RestError::RateLimited { .. } => Some(429),
            RestError::Server { status, .. } | RestError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Rocket.Chat's `errorType`, when present.
    pub fn error_type(&self) -> Option<&str> {
        match self {
            RestError::Api { error_type, .. } => error_type.as_deref(),
            _ => None,
        }
    }

    /// True for failures that may go away by themselves (network, timeout, 5xx, 429).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            RestError::Network { .. }
                | RestError::Timeout { .. }
                | RestError::Server { .. }
                | RestError::RateLimited { .. }
        ) || matches!(
            self,
            RestError::Auth(AuthError::Transient(_) | AuthError::RateLimited { .. })
        )
    }

    /// The error text Rocket.Chat sent, when any.
    pub fn server_message(&self) -> Option<&str> {
        match self {
            RestError::Unauthorized { error, .. }
            | RestError::Forbidden { error, .. }
            | RestError::NotFound { error, .. }
            | RestError::Server { error, .. } => error.as_deref(),
            RestError::Api { error, .. } => Some(error),
            _ => None,
        }
    }

    pub(crate) fn from_reqwest(route: &str, err: reqwest::Error) -> RestError {
        if err.is_timeout() {
            return RestError::Timeout {
                route: route.to_owned(),
            };
        }
        let err = err.without_url();
        if let Some(plain) = crate::tls::explain(&err) {
            return RestError::Network {
                route: route.to_owned(),
                message: format!("cannot connect securely: {plain}"),
            };
        }
        let mut message = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        if err.is_decode() {
            RestError::Decode {
                route: route.to_owned(),
                message,
            }
        } else {
            RestError::Network {
                route: route.to_owned(),
                message,
            }
        }
    }

    /// Map a non-success response (not 429) to an error.
    pub(crate) fn from_response(route: &str, status: u16, body: &Value) -> RestError {
        let route = route.to_owned();
        let error = body
            .get("error")
            .and_then(Value::as_str)
            .or_else(|| body.get("message").and_then(Value::as_str))
            .map(str::to_owned);
        match status {
            401 => RestError::Unauthorized { route, error },
            403 => RestError::Forbidden { route, error },
            404 => RestError::NotFound { route, error },
            500..=599 => RestError::Server {
                route,
                status,
                error,
            },
            _ => RestError::Api {
                route,
                status,
                error: error.unwrap_or_else(|| format!("HTTP {status}")),
                error_type: body
                    .get("errorType")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                details: body.get("details").cloned(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_server_error_code_is_shown_once() {
        let body = json!({"success": false, "error": "Invalid message [error-invalid-message]",
                          "errorType": "error-invalid-message"});
        let e = RestError::from_response("POST /api/v1/chat.sendMessage", 400, &body);
        assert_eq!(
            e.to_string(),
            "POST /api/v1/chat.sendMessage: Invalid message [error-invalid-message] (HTTP 400)"
        );
        let body = json!({"success": false, "error": "Room not found", "errorType": "error-room-not-found"});
        let e = RestError::from_response("GET /api/v1/rooms.info", 400, &body);
        assert_eq!(
            e.to_string(),
            "GET /api/v1/rooms.info: Room not found [error-room-not-found] (HTTP 400)"
        );
        let e = RestError::from_response("GET /api/v1/x", 400, &json!({"error": "plain"}));
        assert_eq!(e.to_string(), "GET /api/v1/x: plain (HTTP 400)");
    }
}
