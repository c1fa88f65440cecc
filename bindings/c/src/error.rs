//! Status codes and the error object. The codes are the core's host table
//! (`openclaw_rocketchat::host::ErrorCode`): the same numbers, `RCC_STATUS_` + its name. The
//! enum is restated here for cbindgen; `every_status_is_the_host_table` keeps the two equal.

use std::ffi::{c_char, CString};

use rc_core::host::{ErrorCode, HostError};

/// What a call did. Every fallible function returns one; `RCC_STATUS_OK` is 0. The numbers
/// never change; Node's `error.code` is the same table by name.
///
/// New values may be added at the end in later versions: treat an unknown value as a
/// failure and show the error's message.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum rcc_status {
    /// Success.
    Ok = 0,
    /// A required pointer was NULL, or an argument is missing, out of range or not
    /// understood (an unparsable send target, an unknown verb).
    InvalidArgument = 1,
    /// A string argument is not valid UTF-8.
    InvalidUtf8 = 2,
    /// A JSON argument does not parse.
    InvalidJson = 3,
    /// The configuration (or the options) is invalid; the message names every key path.
    Config = 4,
    /// No running account with that id, no such stream, or a missing room, user or route.
    NotFound = 5,
    /// The core was closed (for `rcc_next_event`: closed and every event delivered).
    Closed = 6,
    /// A wait ended without a result: a call timed out, or (`rcc_next_event`) no event came
    /// within the timeout.
    Timeout = 7,
    /// The server could not be reached (refused, reset, DNS, TLS handshake).
    Network = 8,
    /// The server refused the credentials.
    Auth = 9,
    /// The server rate-limited the call beyond the retries (`retryAfterMs` in the details).
    RateLimited = 10,
    /// The server failed (5xx after the retries).
    Server = 11,
    /// The call is not allowed in the current state (e.g. a blocking call from a core
    /// runtime thread, or `rcc_next_event` while an event callback is set).
    InvalidState = 12,
    /// A Rust panic was caught at the ABI boundary; the message holds the panic text.
    /// The core stays usable, but report this as a bug.
    Panic = 13,
    /// Any other failure.
    Internal = 14,
    /// The bot lacks a permission, or the message or URL is not the bot's to touch.
    Forbidden = 15,
    /// The server refused the request (`success: false`; `errorType` in the details).
    Api = 16,
    /// The server's answer could not be read.
    Protocol = 17,
    /// A file, text or response is over its limit (`mediaMaxMb`, one message's length).
    TooLarge = 18,
    /// The TLS options are unusable (unreadable CA file, bad PEM).
    Tls = 19,
}

impl From<ErrorCode> for rcc_status {
    fn from(code: ErrorCode) -> Self {
        match code {
            ErrorCode::Ok => rcc_status::Ok,
            ErrorCode::InvalidArgument => rcc_status::InvalidArgument,
            ErrorCode::InvalidUtf8 => rcc_status::InvalidUtf8,
            ErrorCode::InvalidJson => rcc_status::InvalidJson,
            ErrorCode::Config => rcc_status::Config,
            ErrorCode::NotFound => rcc_status::NotFound,
            ErrorCode::Closed => rcc_status::Closed,
            ErrorCode::Timeout => rcc_status::Timeout,
            ErrorCode::Network => rcc_status::Network,
            ErrorCode::Auth => rcc_status::Auth,
            ErrorCode::RateLimited => rcc_status::RateLimited,
            ErrorCode::Server => rcc_status::Server,
            ErrorCode::InvalidState => rcc_status::InvalidState,
            ErrorCode::Panic => rcc_status::Panic,
            ErrorCode::Internal => rcc_status::Internal,
            ErrorCode::Forbidden => rcc_status::Forbidden,
            ErrorCode::Api => rcc_status::Api,
            ErrorCode::Protocol => rcc_status::Protocol,
            ErrorCode::TooLarge => rcc_status::TooLarge,
            ErrorCode::Tls => rcc_status::Tls,
        }
    }
}

/// An error: a status and a message. Created by the library, freed with
/// [`rcc_error_free`].
#[allow(non_camel_case_types)]
pub struct rcc_error {
    code: rcc_status,
    message: CString,
    details: CString,
}

/// The Rust side of an error, turned into `rcc_error` at the boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The status returned.
    pub code: rcc_status,
    /// The message put in the error object.
    pub message: String,
    /// The host error's details (a JSON object), empty for none.
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl Error {
    /// An error with `code` and `message`.
    pub fn new(code: rcc_status, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            details: serde_json::Map::new(),
        }
    }

    /// `name` was NULL.
    pub fn null(name: &str) -> Self {
        Error::new(rcc_status::InvalidArgument, format!("{name} is NULL"))
    }

    /// Box into the C object.
    pub(crate) fn into_raw(self) -> *mut rcc_error {
        let c =
            |s: String| CString::new(s.replace('\0', "\u{fffd}")).expect("NUL bytes were replaced");
        let details = serde_json::Value::Object(self.details).to_string();
        Box::into_raw(Box::new(rcc_error {
            code: self.code,
            message: c(self.message),
            details: c(details),
        }))
    }
}

impl From<HostError> for Error {
    fn from(e: HostError) -> Self {
        Error {
            code: e.code.into(),
            message: e.message,
            details: e.details,
        }
    }
}

/// The status of an error. Returns `RCC_STATUS_INVALID_ARGUMENT` for NULL.
///
/// Threading: any thread.
#[no_mangle]
pub extern "C" fn rcc_error_code(err: *const rcc_error) -> rcc_status {
    crate::boundary::guard(rcc_status::Panic, || {
        // SAFETY: the caller passes NULL or an error this library returned, not yet freed.
        match unsafe { err.as_ref() } {
            Some(e) => e.code,
            None => rcc_status::InvalidArgument,
        }
    })
}

/// The error's message: UTF-8, NUL-terminated, never NULL for a non-NULL `err`.
///
/// Ownership: borrowed from `err`; valid until `rcc_error_free(err)`. Do not free it.
/// Returns NULL when `err` is NULL.
///
/// Threading: any thread.
#[no_mangle]
pub extern "C" fn rcc_error_message(err: *const rcc_error) -> *const c_char {
    crate::boundary::guard(std::ptr::null(), || {
        // SAFETY: the caller passes NULL or an error this library returned, not yet freed.
        match unsafe { err.as_ref() } {
            Some(e) => e.message.as_ptr(),
            None => std::ptr::null(),
        }
    })
}

/// The error's details as a JSON object (`{}` when none): `problems` (`[{path, message}]`,
/// CONFIG), `status` (HTTP), `retryAfterMs` (RATE_LIMITED), `errorType` (API), `sent` (the
/// messages that landed before a delivery failed).
///
/// Ownership: borrowed from `err`; valid until `rcc_error_free(err)`. Do not free it.
/// Returns NULL when `err` is NULL.
///
/// Threading: any thread.
#[no_mangle]
pub extern "C" fn rcc_error_details(err: *const rcc_error) -> *const c_char {
    crate::boundary::guard(std::ptr::null(), || {
        // SAFETY: the caller passes NULL or an error this library returned, not yet freed.
        match unsafe { err.as_ref() } {
            Some(e) => e.details.as_ptr(),
            None => std::ptr::null(),
        }
    })
}

/// Free an error returned through an `rcc_error **err` out-parameter. NULL is a no-op.
///
/// Threading: any thread; each error once.
#[no_mangle]
pub extern "C" fn rcc_error_free(err: *mut rcc_error) {
    crate::boundary::guard((), || {
        if !err.is_null() {
            // SAFETY: `err` came from `Error::into_raw` and is freed once (caller contract).
            drop(unsafe { Box::from_raw(err) });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_is_the_host_table() {
        for code in ErrorCode::ALL {
            let status = rcc_status::from(code);
            assert_eq!(status as u32, code.number(), "{code:?}");
            let name = format!("{status:?}");
            assert_eq!(
                name.to_ascii_uppercase(),
                code.name().replace('_', ""),
                "RCC_STATUS_{} names {status:?}",
                code.name()
            );
        }
    }
}
