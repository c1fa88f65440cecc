//! The ABI boundary: panic catching, argument checks, out-parameters.
//!
//! Every `extern "C"` function body runs inside [`ffi_status!`] (fallible functions) or
//! [`guard`] (infallible ones): a Rust panic unwinding into C would abort the process, so it
//! is caught and turned into `RCC_STATUS_PANIC` with the panic text as the message.

use std::any::Any;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{rcc_error, rcc_status, Error};

/// Run the body of a fallible entry point: `ffi_status!(err, { ...; Ok(()) })`.
///
/// The body returns `Result<(), Error>`. A panic becomes `RCC_STATUS_PANIC`. When `err` is
/// not NULL, `*err` is set: NULL on success, a new `rcc_error` for every other status.
macro_rules! ffi_status {
    ($err:expr, $body:block) => {
        $crate::boundary::run_status($err, move || -> Result<(), $crate::error::Error> { $body })
    };
}
pub(crate) use ffi_status;

/// Run a fallible body, catch panics, report through `err`.
pub fn run_status(err: *mut *mut rcc_error, f: impl FnOnce() -> Result<(), Error>) -> rcc_status {
    let result = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(Error::new(rcc_status::Panic, panic_message(&*payload))),
    };
    match result {
        Ok(()) => {
            if !err.is_null() {
                // SAFETY: a non-NULL `err` points to writable storage (caller contract).
                unsafe { *err = std::ptr::null_mut() };
            }
            rcc_status::Ok
        }
        Err(e) => {
            let code = e.code;
            if !err.is_null() {
                // SAFETY: as above.
                unsafe { *err = e.into_raw() };
            }
            code
        }
    }
}

/// Run an infallible body; a panic returns `on_panic` (and the panic text went to stderr
/// through the panic hook).
pub fn guard<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(on_panic)
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    let text = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_owned()
    };
    format!("panic in openclaw_rocketchat: {text}")
}

/// A required string argument: NULL is `INVALID_ARGUMENT`, bad UTF-8 is `INVALID_UTF8`.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string that stays valid for `'a`.
pub unsafe fn str_arg<'a>(p: *const c_char, name: &str) -> Result<&'a str, Error> {
    if p.is_null() {
        return Err(Error::null(name));
    }
    // SAFETY: caller contract.
    let bytes = unsafe { CStr::from_ptr(p) };
    bytes.to_str().map_err(|e| {
        Error::new(
            rcc_status::InvalidUtf8,
            format!(
                "{name} is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}

/// An optional string argument: NULL is `None`.
///
/// # Safety
/// As [`str_arg`].
pub unsafe fn opt_str_arg<'a>(p: *const c_char, name: &str) -> Result<Option<&'a str>, Error> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: caller contract.
        unsafe { str_arg(p, name) }.map(Some)
    }
}

/// A JSON argument.
///
/// # Safety
/// As [`str_arg`].
pub unsafe fn json_arg(p: *const c_char, name: &str) -> Result<serde_json::Value, Error> {
    // SAFETY: caller contract.
    let text = unsafe { str_arg(p, name) }?;
    serde_json::from_str(text).map_err(|e| {
        Error::new(
            rcc_status::InvalidJson,
            format!("{name}: invalid JSON: {e}"),
        )
    })
}

/// Check a required out-pointer and clear it, so it is NULL whatever happens next.
///
/// # Safety
/// `out` is NULL or points to writable storage.
pub unsafe fn clear_out<T>(out: *mut *mut T, name: &str) -> Result<(), Error> {
    if out.is_null() {
        return Err(Error::null(name));
    }
    // SAFETY: caller contract.
    unsafe { *out = std::ptr::null_mut() };
    Ok(())
}

/// Hand an owned string to C (freed with `rcc_string_free`).
pub fn owned_string(s: String) -> *mut c_char {
    // JSON and our messages never hold NUL; replace defensively rather than fail.
    let s = if s.contains('\0') {
        s.replace('\0', "\u{fffd}")
    } else {
        s
    };
    CString::new(s).expect("NUL bytes were replaced").into_raw()
}

/// Write an owned string to an out-pointer (a NULL `out` discards it).
///
/// # Safety
/// `out` is NULL or points to writable storage.
pub unsafe fn write_string(out: *mut *mut c_char, s: String) {
    if !out.is_null() {
        // SAFETY: caller contract.
        unsafe { *out = owned_string(s) };
    }
}

/// Serialize a value to JSON (our serializable types never fail).
pub fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value)
        .map_err(|e| Error::new(rcc_status::Internal, format!("cannot serialize: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(err: *mut rcc_error) -> Box<rcc_error> {
        assert!(!err.is_null());
        // SAFETY: from `Error::into_raw` in `run_status`.
        unsafe { Box::from_raw(err) }
    }

    #[test]
    fn panic_message_and_code_are_reported() {
        let mut err = std::ptr::null_mut();
        let st = run_status(&mut err, || panic!("boom {}", 42));
        assert_eq!(st, rcc_status::Panic);
        let e = take(err);
        assert_eq!(crate::error::rcc_error_code(&*e), rcc_status::Panic);
        // SAFETY: the message is borrowed from `e`, alive here.
        let text = unsafe { CStr::from_ptr(crate::error::rcc_error_message(&*e)) };
        assert!(text.to_str().unwrap().contains("boom 42"), "{text:?}");
    }

    #[test]
    fn success_clears_the_error_and_null_err_is_allowed() {
        let mut err = std::ptr::dangling_mut::<rcc_error>();
        assert_eq!(run_status(&mut err, || Ok(())), rcc_status::Ok);
        assert!(err.is_null());
        let st = run_status(std::ptr::null_mut(), || {
            Err(Error::new(rcc_status::NotFound, "x"))
        });
        assert_eq!(st, rcc_status::NotFound);
        assert_eq!(guard(7, || -> i32 { panic!("no") }), 7);
    }

    #[test]
    fn string_arguments_are_checked() {
        // SAFETY: NULL and literal NUL-terminated strings.
        unsafe {
            assert_eq!(
                str_arg(std::ptr::null(), "x").unwrap_err().code,
                rcc_status::InvalidArgument
            );
            let bad = b"a\xffb\0";
            let e = str_arg(bad.as_ptr().cast(), "name").unwrap_err();
            assert_eq!(e.code, rcc_status::InvalidUtf8);
            assert!(e.message.contains("name") && e.message.contains("offset 1"));
            assert_eq!(opt_str_arg(std::ptr::null(), "x").unwrap(), None);
            let json = json_arg(c"{".as_ptr(), "cfg").unwrap_err();
            assert_eq!(json.code, rcc_status::InvalidJson);
        }
    }

    #[test]
    fn strings_with_nul_are_not_truncated_silently() {
        let p = owned_string("a\0b".to_owned());
        // SAFETY: from `owned_string`, freed once below.
        let s = unsafe { CString::from_raw(p) };
        assert_eq!(s.to_str().unwrap(), "a\u{fffd}b");
    }
}
