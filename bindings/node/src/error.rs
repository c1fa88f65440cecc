//! A [`HostError`] as JavaScript sees it: an `Error` whose `code` is the host table's name
//! (`NOT_FOUND`, `RATE_LIMITED`, …) with the error's details as properties (`problems`,
//! `status`, `retryAfterMs`, `errorType`, `sent`). Codes, messages and redaction are the
//! core's (`openclaw_rocketchat::host::error`); this file only renders them.

use napi::bindgen_prelude::{JsObjectValue, ToNapiValue, Unknown};
use napi::{Env, JsError, JsValue};
use openclaw_rocketchat::host::{ErrorCode, HostError};

/// `error.code` for napi's typed errors.
#[derive(Clone, Copy, Debug)]
pub struct Code(pub ErrorCode);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0.name()
    }
}

/// For synchronous functions: an error napi throws with `code` set (details dropped: the
/// synchronous calls are the constructor and `onEvent`, whose errors have none).
pub fn thrown(e: HostError) -> napi::Error<Code> {
    napi::Error::new(Code(e.code), e.message)
}

/// Build the JS `Error` (on the JS thread) so napi rejects the promise with exactly it.
pub fn rejection(e: HostError, env: &Env) -> napi::Error {
    let mut obj = match JsError::from(napi::Error::new(Code(e.code), e.message))
        .into_unknown(*env)
        .coerce_to_object()
    {
        Ok(o) => o,
        Err(err) => return err,
    };
    for (key, value) in e.details {
        if let Err(err) = obj.set_named_property(&key, value) {
            return err;
        }
    }
    // SAFETY: `obj` is a live value of `env`, on the JS thread.
    match unsafe { ToNapiValue::to_napi_value(env.raw(), obj) } {
        Ok(raw) => napi::Error::from(unsafe { Unknown::from_raw_unchecked(env.raw(), raw) }),
        Err(err) => err,
    }
}
