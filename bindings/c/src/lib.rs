//! # openclaw_rocketchat: the C ABI
//!
//! A thin `extern "C"` layer over the `openclaw-rocketchat` core, built as
//! `libopenclaw_rocketchat.so` / `.a`; the header `include/openclaw_rocketchat.h` is
//! generated from this crate by cbindgen (`cbindgen.toml`) and checked by `cargo test`.
//!
//! Conventions, the same for every function (rustls-ffi and libsignal are the models):
//! - Names start with `rcc_`. Fallible functions return [`rcc_status`] (`RCC_STATUS_OK` = 0)
//!   and take an optional last `rcc_error **err`: NULL, or set to NULL on success and to an
//!   error (code + message, freed with [`rcc_error_free`]) on every other status. No
//!   thread-local "last error": hosts that move between threads (Go) stay correct.
//! - Strings in are NUL-terminated UTF-8 (checked: `RCC_STATUS_INVALID_UTF8`); a NULL where
//!   one is required is `RCC_STATUS_INVALID_ARGUMENT`. Structured data travels as JSON.
//! - Every `char *` handed out is owned by the caller and freed with [`rcc_string_free`],
//!   never libc `free`. Out-pointers are set to NULL first, so they are NULL on failure.
//! - A Rust panic never crosses the boundary: it becomes `RCC_STATUS_PANIC`.
//! - Thread-safe: any function from any thread; [`rcc_core`] is `Sync`. Blocking functions
//!   run on the core's runtime and must not be called from its threads; nothing of the host
//!   ever runs on them (event callbacks run on the dedicated `rcc-events` thread).
//! - Lifecycle: [`rcc_core_new`] → … → [`rcc_core_close`] (idempotent, thread-safe) →
//!   [`rcc_core_free`] (once, with no call in flight).
//!
//! Every capability of the core is a verb of its host layer (`rc_core::host`), reached by
//! name through [`rcc_call`] with JSON arguments and a JSON result; the few typed functions
//! (`rcc_apply_config`, `rcc_send_text`, …) are conveniences over the same verbs. A new verb
//! in the core is therefore reachable from C at once, with no new function here; its
//! documentation goes in `rcc_call`'s verb table.

// The entry points are C functions: they check every pointer for NULL and document what a
// non-NULL one must be; marking them `unsafe fn` would change nothing for C callers, and
// Rust code uses the core crate, not this ABI.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

#[cfg(test)]
mod abi_tests;
mod boundary;
mod core;
mod error;
mod events;

pub use crate::core::{
    rcc_account_status, rcc_apply_config, rcc_call, rcc_config_schema, rcc_core, rcc_core_close,
    rcc_core_free, rcc_core_new, rcc_next_event, rcc_next_events, rcc_send_text,
    rcc_set_event_callback, rcc_stop_account, rcc_string_free, rcc_verbs_schema, rcc_version,
};
pub use crate::error::{
    rcc_error, rcc_error_code, rcc_error_details, rcc_error_free, rcc_error_message, rcc_status,
};
pub use crate::events::{rcc_destroy_callback, rcc_event_callback};
