//! Status codes and the error object.

use std::ffi::{c_char, CString};

use rc_core::account::AccountError;
use rc_core::auth::AuthError;
use rc_core::outbound::DeliveryError;
use rc_core::rest::RestError;
use rc_core::CoreError;

/// What a call did. Every fallible function returns one; `RCC_STATUS_OK` is 0.
///
/// New values may be added at the end in later versions: treat an unknown value as a
/// failure and show the error's message.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum rcc_status {
    /// Success.
    Ok = 0,
    /// A required pointer was NULL, or an argument is out of range or not understood
    /// (e.g. an unparseable send target).
    InvalidArgument = 1,
    /// A string argument is not valid UTF-8.
    InvalidUtf8 = 2,
    /// A JSON argument does not parse.
    InvalidJson = 3,
    /// The configuration (or the options) is invalid; the message names every key path.
    Config = 4,
    /// No running account (or other object) with that id.
    NotFound = 5,
    /// The core was closed (for `rcc_next_event`: closed and every event delivered).
    Closed = 6,
    /// The wait ended without a result (`rcc_next_event`: no event within the timeout).
    Timeout = 7,
    /// The server could not be reached, or the request timed out.
    Network = 8,
    /// The server refused the credentials or the permission.
    Auth = 9,
    /// The server rate-limited the call beyond the retries.
    RateLimited = 10,
    /// The server answered with an error (5xx, or a failure envelope such as an unknown room).
    Server = 11,
    /// The call is not allowed in the current state (e.g. a blocking call from a core
    /// runtime thread, or `rcc_next_event` while an event callback is set).
    InvalidState = 12,
    /// A Rust panic was caught at the ABI boundary; the message holds the panic text.
    /// The core stays usable, but report this as a bug.
    Panic = 13,
    /// Any other failure.
    Internal = 14,
}

/// An error: a status and a message. Created by the library, freed with
/// [`rcc_error_free`].
#[allow(non_camel_case_types)]
pub struct rcc_error {
    code: rcc_status,
    message: CString,
}

/// The Rust side of an error, turned into `rcc_error` at the boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The status returned.
    pub code: rcc_status,
    /// The message put in the error object.
    pub message: String,
}

impl Error {
    /// An error with `code` and `message`.
    pub fn new(code: rcc_status, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
        }
    }

    /// `name` was NULL.
    pub fn null(name: &str) -> Self {
        Error::new(rcc_status::InvalidArgument, format!("{name} is NULL"))
    }

    /// Box into the C object.
    pub(crate) fn into_raw(self) -> *mut rcc_error {
        let message =
            CString::new(self.message.replace('\0', "\u{fffd}")).expect("NUL bytes were replaced");
        Box::into_raw(Box::new(rcc_error {
            code: self.code,
            message,
        }))
    }
}

impl From<CoreError> for Error {
    fn from(e: CoreError) -> Self {
        let code = match &e {
            CoreError::Runtime(_) => rcc_status::Internal,
            CoreError::Config(_) => rcc_status::Config,
            CoreError::UnknownAccount(_) => rcc_status::NotFound,
            CoreError::Closed => rcc_status::Closed,
            CoreError::Account(a) => match a {
                AccountError::Tls { .. } => rcc_status::Config,
                AccountError::Target { .. } => rcc_status::InvalidArgument,
                AccountError::Rest { source, .. } => rest_status(source),
                AccountError::Delivery { source, .. } => match source.as_ref() {
                    DeliveryError::Partial { source, .. } => rest_status(source),
                    DeliveryError::Rest(source) => rest_status(source),
                    DeliveryError::MediaTooLarge { .. }
                    | DeliveryError::TooLong { .. }
                    | DeliveryError::NotOwnMessage { .. } => rcc_status::InvalidArgument,
                    DeliveryError::Aborted { .. } | DeliveryError::StreamClosed => {
                        rcc_status::InvalidState
                    }
                },
            },
        };
        Error::new(code, e.to_string())
    }
}

/// The status for a REST failure.
pub(crate) fn rest_status(e: &RestError) -> rcc_status {
    match e {
        RestError::Unauthorized { .. } | RestError::Forbidden { .. } => rcc_status::Auth,
        RestError::NotFound { .. } => rcc_status::NotFound,
        RestError::RateLimited { .. } => rcc_status::RateLimited,
        RestError::Server { .. }
        | RestError::Api { .. }
        | RestError::Decode { .. }
        | RestError::TooLarge { .. } => rcc_status::Server,
        RestError::Network { .. } | RestError::Timeout { .. } => rcc_status::Network,
        RestError::ForeignOrigin { .. } | RestError::Invalid(_) => rcc_status::InvalidArgument,
        RestError::Auth(a) => match a {
            AuthError::Rejected(_) | AuthError::TwoFactorRequired(_) => rcc_status::Auth,
            AuthError::RateLimited { .. } => rcc_status::RateLimited,
            AuthError::Transient(_) => rcc_status::Network,
        },
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
