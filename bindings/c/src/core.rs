//! The core handle and its entry points.

use std::ffi::{c_char, c_int, c_void, CString};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rc_core::config;
use rc_core::host::Host;
use serde_json::{json, Value};

use crate::boundary::{
    clear_out, ffi_status, json_arg, opt_str_arg, str_arg, to_json, write_string,
};
use crate::error::{rcc_error, rcc_status, Error};
use crate::events::{rcc_destroy_callback, rcc_event_callback, Callback, Events};

/// A core: one runtime, one event queue, the accounts. Opaque; created by
/// [`rcc_core_new`], closed by [`rcc_core_close`], freed by [`rcc_core_free`].
///
/// Every function taking a `const rcc_core *` may be called from any thread at the same
/// time (the handle is `Sync`), until `rcc_core_free`.
#[allow(non_camel_case_types)]
pub struct rcc_core {
    host: Arc<Host>,
    events: Arc<Events>,
    /// Held through a close, so a concurrent second close returns only once it is done.
    closing: Mutex<()>,
}

// The ABI promises any function from any thread.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<rcc_core>();
};

impl rcc_core {
    /// Run `fut` on the core's runtime, blocking this thread. Refused on a runtime thread
    /// (tokio would panic); the events thread is not one.
    pub(crate) fn block_on<F: Future>(&self, fut: F) -> Result<F::Output, Error> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::new(
                rcc_status::InvalidState,
                "blocking rcc_ call from an async runtime thread; call it from a plain thread",
            ));
        }
        Ok(self.host.core().block_on(fut))
    }

    /// Run a verb of the host's list, blocking this thread.
    pub(crate) fn call(&self, verb: &str, args: Value) -> Result<Value, Error> {
        self.block_on(self.host.call(verb, args))?
            .map_err(Error::from)
    }

    /// Close: stop the accounts, close the queue, stop the events thread. Idempotent.
    pub(crate) fn close(&self) -> Result<(), Error> {
        // From the event callback: no waiting on other closers, who may be waiting for the
        // events thread to end (it ends once the callback returns).
        let _closing = if self.events.on_events_thread() {
            None
        } else {
            Some(self.closing.lock().unwrap_or_else(|e| e.into_inner()))
        };
        self.call("close", Value::Null)?;
        self.events.shutdown();
        Ok(())
    }
}

/// Borrow the core behind a pointer.
///
/// # Safety
/// `core` is NULL or a live core from `rcc_core_new`.
pub(crate) unsafe fn core_arg<'a>(core: *const rcc_core) -> Result<&'a rcc_core, Error> {
    // SAFETY: caller contract.
    unsafe { core.as_ref() }.ok_or_else(|| Error::null("core"))
}

/// The library version, e.g. `"0.1.0"`.
///
/// Ownership: static; never free it. Threading: any thread.
#[no_mangle]
pub extern "C" fn rcc_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Free a string returned by this library (every `char *` it hands out). NULL is a no-op.
///
/// Never use libc `free` on these strings (the allocators may differ).
/// Threading: any thread; each string once.
#[no_mangle]
pub extern "C" fn rcc_string_free(s: *mut c_char) {
    crate::boundary::guard((), || {
        if !s.is_null() {
            // SAFETY: `s` came from `CString::into_raw` in this library, freed once.
            drop(unsafe { CString::from_raw(s) });
        }
    })
}

/// Create a core: its runtime threads (`rocketchat-core`) and its event queue. No account
/// runs until `rcc_apply_config`; events are kept from now on until someone takes them.
///
/// `options_json` may be NULL (defaults) or a JSON object:
/// `{"workerThreads": 2, "eventCapacity": 10000, "logLevel": "warn", "stateDir": "/var/lib/bot"}`
/// (all optional; a bad value or an unknown key is `RCC_STATUS_CONFIG` naming the key).
/// `logLevel` (`error`, `warn`, `info`, `debug`, `off`) sets which of the core's own log lines
/// arrive as `log` events. `stateDir` is a folder (created when missing) where each account
/// keeps what it has seen, so a restart delivers what was posted meanwhile and nothing twice;
/// default none. `droppedEvents` (`all`, the default; `direct`: only direct messages; `none`)
/// says which messages turned away become `dropped` events; all are counted in the status.
///
/// On success `*out` is a new core. Ownership: the caller closes it with `rcc_core_close`
/// and frees it with `rcc_core_free`. On failure `*out` is NULL.
/// `err` may be NULL; when not, `*err` is NULL on success or an error the caller frees with
/// `rcc_error_free` (the same holds for every function with an `err` parameter).
///
/// Threading: any thread.
#[no_mangle]
pub extern "C" fn rcc_core_new(
    options_json: *const c_char,
    out: *mut *mut rcc_core,
    err: *mut *mut rcc_error,
) -> rcc_status {
    ffi_status!(err, {
        // SAFETY: `out` is NULL or writable (documented contract).
        unsafe { clear_out(out, "out") }?;
        let options = if options_json.is_null() {
            Value::Null
        } else {
            // SAFETY: non-NULL and NUL-terminated (documented contract).
            unsafe { json_arg(options_json, "options_json") }?
        };
        let host = Host::from_json(&options).map_err(Error::from)?;
        let events = Events::new(host.events().clone());
        let handle = Box::new(rcc_core {
            host,
            events,
            closing: Mutex::new(()),
        });
        // SAFETY: checked non-NULL above.
        unsafe { *out = Box::into_raw(handle) };
        Ok(())
    })
}

/// Close a core: stop every account, close the event queue (a blocked `rcc_next_event`
/// wakes; pulls return the remaining events, then `RCC_STATUS_CLOSED`), and, when an event
/// callback is set, let the events thread deliver what is left, call `destroy`, and end.
/// Returns after all that, except when called from the event callback itself (the events
/// thread finishes once the callback returns).
///
/// Idempotent and thread-safe: a second call (concurrent or later) returns `RCC_STATUS_OK`
/// once the first has finished. Calls on a closed core return `RCC_STATUS_CLOSED`. NULL
/// returns `RCC_STATUS_INVALID_ARGUMENT`.
///
/// Threading: any thread that is not a core runtime thread (`RCC_STATUS_INVALID_STATE`
/// there); blocks while accounts stop.
#[no_mangle]
pub extern "C" fn rcc_core_close(core: *const rcc_core) -> rcc_status {
    ffi_status!(std::ptr::null_mut(), {
        // SAFETY: NULL or a live core (documented contract).
        let core = unsafe { core_arg(core) }?;
        core.close()
    })
}

/// Free a core, closing it first if needed. NULL is a no-op.
///
/// Must not race any other call on the same core: every other thread must have returned
/// from its `rcc_` calls on it (close first, which wakes blocked pulls, then join those
/// threads, then free). After this the pointer is dangling. When called from the event
/// callback, the events thread ends after the callback returns; the callback must not use the
/// core afterwards.
///
/// Threading: any thread that is not a core runtime thread.
#[no_mangle]
pub extern "C" fn rcc_core_free(core: *mut rcc_core) {
    crate::boundary::guard((), || {
        if core.is_null() {
            return;
        }
        // SAFETY: a live core from `rcc_core_new`, freed once, with no call in flight.
        let core = unsafe { Box::from_raw(core) };
        let _ = core.close();
        drop(core);
    })
}

/// Apply the whole `channels.rocketchat` object (JSON): start new accounts, restart changed
/// ones, stop removed or disabled ones, leave the rest running. Invalid configuration
/// changes nothing and returns `RCC_STATUS_CONFIG` with every problem, one per line, each
/// naming its key path (`accounts.b.baseUrl: not a valid http(s) URL: ...`).
///
/// `use_process_env` non-zero: the `ROCKETCHAT_*` environment variables fill the default
/// account; zero: the environment is ignored.
///
/// `report_json_out` may be NULL; when not, on success it receives
/// `{"started":[ids],"restarted":[],"stopped":[],"unchanged":[],"warnings":["path: text"]}`.
/// Ownership: the caller frees it with `rcc_string_free`.
///
/// Threading: any non-runtime thread (the event callback included); blocks while accounts
/// start and stop (starting does not wait for the connection: watch the events).
#[no_mangle]
pub extern "C" fn rcc_apply_config(
    core: *const rcc_core,
    channels_rocketchat_json: *const c_char,
    use_process_env: c_int,
    report_json_out: *mut *mut c_char,
    err: *mut *mut rcc_error,
) -> rcc_status {
    ffi_status!(err, {
        if !report_json_out.is_null() {
            // SAFETY: writable (documented contract).
            unsafe { *report_json_out = std::ptr::null_mut() };
        }
        // SAFETY: NULL or live/valid pointers (documented contract).
        let core = unsafe { core_arg(core) }?;
        // SAFETY: as above.
        let section = unsafe { json_arg(channels_rocketchat_json, "channels_rocketchat_json") }?;
        let report = core.call(
            "applyConfig",
            json!({ "config": section, "useProcessEnv": use_process_env != 0 }),
        )?;
        // SAFETY: NULL or writable.
        unsafe { write_string(report_json_out, to_json(&report)?) };
        Ok(())
    })
}

/// Stop one running account. `RCC_STATUS_NOT_FOUND` when none runs with that id.
/// (`rcc_apply_config` starts it again if the configuration still has it.)
///
/// Threading: any non-runtime thread; blocks until the account has stopped.
#[no_mangle]
pub extern "C" fn rcc_stop_account(
    core: *const rcc_core,
    account_id: *const c_char,
    err: *mut *mut rcc_error,
) -> rcc_status {
    ffi_status!(err, {
        // SAFETY: NULL or live/valid pointers (documented contract).
        let core = unsafe { core_arg(core) }?;
        // SAFETY: as above.
        let id = unsafe { str_arg(account_id, "account_id") }?;
        if core.call("stopAccount", json!({ "accountId": id }))? == Value::Bool(true) {
            Ok(())
        } else {
            Err(Error::new(
                rcc_status::NotFound,
                format!("no running account {id:?}"),
            ))
        }
    })
}

/// The status of one running account (a JSON object: `accountId`, `enabled`, `baseUrl`,
/// `state`, `userId`, `username`, `lastError`, counters...), or of all of them as a JSON
/// array when `account_id` is NULL. `RCC_STATUS_NOT_FOUND` for an id that is not running.
///
/// Ownership: `*json_out` (required) is freed by the caller with `rcc_string_free`.
///
/// Threading: any non-runtime thread (the event callback included); does not wait on the
/// network.
#[no_mangle]
pub extern "C" fn rcc_account_status(
    core: *const rcc_core,
    account_id: *const c_char,
    json_out: *mut *mut c_char,
    err: *mut *mut rcc_error,
) -> rcc_status {
    ffi_status!(err, {
        // SAFETY: NULL or live/valid pointers (documented contract).
        unsafe { clear_out(json_out, "json_out") }?;
        // SAFETY: as above.
        let core = unsafe { core_arg(core) }?;
        // SAFETY: as above.
        let json = match unsafe { opt_str_arg(account_id, "account_id") }? {
            None => to_json(&core.call("status", Value::Null)?)?,
            Some(id) => match core.call("status", json!({ "accountId": id }))? {
                Value::Null => {
                    return Err(Error::new(
                        rcc_status::NotFound,
                        format!("no running account {id:?}"),
                    ))
                }
                status => to_json(&status)?,
            },
        };
        // SAFETY: checked non-NULL.
        unsafe { write_string(json_out, json) };
        Ok(())
    })
}

/// Send `text` through a running account. `target` is a room id, `#channel`, `@username`,
/// or `user:<id>` / `room:<id>`; `thread_id` (nullable) replies in that thread. Long text is
/// split per the account's chunking settings.
///
/// The same as the verb `sendText` through [`rcc_call`].
///
/// `message_json_out` may be NULL; when not, on success it receives the messages posted, in
/// order, as a JSON array of `{"id", "roomId", "threadId"?, "text"}` (one per chunk).
/// Ownership: the caller frees it with `rcc_string_free`.
///
/// Errors: `RCC_STATUS_NOT_FOUND` (no such account), `RCC_STATUS_INVALID_ARGUMENT` (bad
/// target), `RCC_STATUS_NETWORK`, `RCC_STATUS_AUTH`, `RCC_STATUS_FORBIDDEN`,
/// `RCC_STATUS_RATE_LIMITED`, `RCC_STATUS_SERVER`, `RCC_STATUS_API`; a failure after some
/// chunks landed lists them under `sent` in `rcc_error_details`.
///
/// Threading: any non-runtime thread (the event callback included); blocks until the server
/// answered.
#[no_mangle]
pub extern "C" fn rcc_send_text(
    core: *const rcc_core,
    account_id: *const c_char,
    target: *const c_char,
    text: *const c_char,
    thread_id: *const c_char,
    message_json_out: *mut *mut c_char,
    err: *mut *mut rcc_error,
) -> rcc_status {
    ffi_status!(err, {
        if !message_json_out.is_null() {
            // SAFETY: writable (documented contract).
            unsafe { *message_json_out = std::ptr::null_mut() };
        }
        // SAFETY: NULL or live/valid pointers (documented contract), for each argument.
        let (core, id, target, text, thread) = unsafe {
            (
                core_arg(core)?,
                str_arg(account_id, "account_id")?,
                str_arg(target, "target")?,
                str_arg(text, "text")?,
                opt_str_arg(thread_id, "thread_id")?,
            )
        };
        let sent = core.call(
            "sendText",
            json!({ "accountId": id, "target": target, "text": text, "threadId": thread }),
        )?;
        // SAFETY: NULL or writable.
        unsafe { write_string(message_json_out, to_json(&sent)?) };
        Ok(())
    })
}

/// Run one verb of the core's host API by name, with its arguments as a JSON object: the one
/// entry that reaches every capability, with the same arguments, results and error codes as
/// the Node binding's methods of the same names. The verbs (`rcc_verbs_schema` has each
/// one's argument and result schema):
///
/// | verb | arguments | result |
/// |---|---|---|
/// | `applyConfig` | `{config, useProcessEnv?}` | `{started, restarted, stopped, unchanged, warnings}` |
/// | `startAccount` | `{accountId, config?, useProcessEnv?}` | `{status, warnings}` |
/// | `stopAccount` | `{accountId}` | `true`, or `false` when none ran |
/// | `probe` | `{accountId?, config?, useProcessEnv?}` | `{accountId, baseUrl, serverVersion, userId, username, name?, authMode, latencyMs}`; nothing is started |
/// | `restartAccount` | `{accountId}` | `{status, warnings}` |
/// | `status` | `{accountId?}` | a status, `null`, or every status as an array |
/// | `sendText`, `sendReply` | `{accountId, target, text, threadId?}` | `[{id, roomId, threadId?, text}]` |
/// | `sendMedia` | `{accountId, target, threadId?, files: [{path} or {base64, fileName}], caption?}` | messages posted |
/// | `typing` | `{accountId, target, threadId?, active}` | `null` |
/// | `streamStart` | `{accountId, target, threadId?}` | `{streamId}` |
/// | `streamPush` | `{streamId, text}` | `null` |
/// | `streamFinish`, `streamAbort` | `{streamId}` | messages of the reply |
/// | `download` | `{accountId, url, roomId?, path?}` | `{fileName, contentType?, size, path?, base64?}` |
/// | `react` | `{accountId, messageId, emoji, add?, target?}` | `null` |
/// | `editMessage` | `{accountId, messageId, text, target?}` | the message |
/// | `deleteMessage` | `{accountId, messageId, target?}` | `null` |
/// | `pin`, `unpin` | `{accountId, messageId, target?}` | `null` |
/// | `updateAllowlist` | `{accountId, approve?, revoke?, allowFrom?, groupAllowFrom?}` | `null` |
/// | `history` | `{accountId, target, threadId?, limit?}` | inbound messages, oldest first |
/// | `search` | `{accountId, target, query, limit?}` | inbound messages, newest first |
/// | `rooms` | `{accountId}` | `[{roomId, name, type, label}]` |
/// | `roomInfo` | `{accountId, target}` | `{roomId, name, type, topic?, description?, memberCount?, readOnly?}` |
/// | `userInfo` | `{accountId, user}` | `{userId, username, name?, status?, roles?}` |
/// | `markRead` | `{accountId, target, readThreads?}` | `null` |
/// | `resolveTarget` | `{accountId, target}` | `{roomId}` |
/// | `close` | `{}` | `null` (as `rcc_core_close`) |
///
/// `args_json` may be NULL for a verb without arguments. `result_json_out` may be NULL; when
/// not, on success it receives the result as JSON. Ownership: the caller frees it with
/// `rcc_string_free`. An unknown verb or a malformed argument is
/// `RCC_STATUS_INVALID_ARGUMENT` naming it.
///
/// Threading: any non-runtime thread (the event callback included); blocks until the verb
/// is done (for sends: until the server answered).
#[no_mangle]
pub extern "C" fn rcc_call(
    core: *const rcc_core,
    verb: *const c_char,
    args_json: *const c_char,
    result_json_out: *mut *mut c_char,
    err: *mut *mut rcc_error,
) -> rcc_status {
    ffi_status!(err, {
        if !result_json_out.is_null() {
            // SAFETY: writable (documented contract).
            unsafe { *result_json_out = std::ptr::null_mut() };
        }
        // SAFETY: NULL or live/valid pointers (documented contract), for each argument.
        let (core, verb) = unsafe { (core_arg(core)?, str_arg(verb, "verb")?) };
        let args = if args_json.is_null() {
            Value::Null
        } else {
            // SAFETY: non-NULL and NUL-terminated (documented contract).
            unsafe { json_arg(args_json, "args_json") }?
        };
        let result = core.call(verb, args)?;
        if verb == "close" {
            core.events.shutdown();
        }
        // SAFETY: NULL or writable.
        unsafe { write_string(result_json_out, to_json(&result)?) };
        Ok(())
    })
}

/// Take the waiting events as one JSON array (at most `max` of them, at least one), waiting
/// up to `timeout_ms` for the first: one call per batch instead of one per event. Returns as
/// `rcc_next_event` does (`RCC_STATUS_TIMEOUT`, `RCC_STATUS_CLOSED`, `RCC_STATUS_INVALID_STATE`
/// while a callback is set). `max` 0 is `RCC_STATUS_INVALID_ARGUMENT`.
///
/// Ownership: `*events_json_out` (required) is freed by the caller with `rcc_string_free`.
///
/// Threading: as `rcc_next_event`.
#[no_mangle]
pub extern "C" fn rcc_next_events(
    core: *const rcc_core,
    timeout_ms: u32,
    max: u32,
    events_json_out: *mut *mut c_char,
    err: *mut *mut rcc_error,
) -> rcc_status {
    ffi_status!(err, {
        // SAFETY: NULL or live/valid pointers (documented contract).
        unsafe { clear_out(events_json_out, "events_json_out") }?;
        // SAFETY: as above.
        let core = unsafe { core_arg(core) }?;
        if max == 0 {
            return Err(Error::new(
                rcc_status::InvalidArgument,
                "max: must be at least 1",
            ));
        }
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::new(
                rcc_status::InvalidState,
                "rcc_next_events blocks: call it from a plain thread",
            ));
        }
        let timeout = Duration::from_millis(u64::from(timeout_ms));
        match core.events.next_batch(timeout, max as usize)? {
            Some(events) => {
                let json = format!("[{}]", events.join(","));
                // SAFETY: checked non-NULL.
                unsafe { write_string(events_json_out, json) };
                Ok(())
            }
            None => Err(Error::new(
                rcc_status::Timeout,
                format!("no event within {timeout_ms} ms"),
            )),
        }
    })
}

/// The JSON Schema of every verb of `rcc_call`: `{"verbs": [{name, doc, args, result}],
/// "$defs": {...}}`.
///
/// Ownership: `*json_out` (required) is freed by the caller with `rcc_string_free`.
///
/// Threading: any thread; no core needed.
#[no_mangle]
pub extern "C" fn rcc_verbs_schema(json_out: *mut *mut c_char) -> rcc_status {
    ffi_status!(std::ptr::null_mut(), {
        // SAFETY: NULL or writable (documented contract).
        unsafe { clear_out(json_out, "json_out") }?;
        let json = to_json(&rc_core::host::verbs_schema())?;
        // SAFETY: checked non-NULL.
        unsafe { write_string(json_out, json) };
        Ok(())
    })
}

/// Take the next event, waiting up to `timeout_ms` (0: do not wait).
///
/// Returns `RCC_STATUS_OK` with `*event_json_out` set to one event (a JSON object: `v`,
/// `seq`, `accountId`, `ts`, `type`, and the event's fields; see `EventEnvelope` in the core),
/// `RCC_STATUS_TIMEOUT` when none came in time, `RCC_STATUS_CLOSED` once the core is closed
/// and every event was taken. Events produced before anyone listened are kept (bounded); a
/// loss is reported in order as `{"type":"overflow","dropped":N}`. Hosts must ignore unknown
/// `type`s and fields.
///
/// While an event callback is set, returns `RCC_STATUS_INVALID_STATE` (a pull already
/// waiting when one is set returns it within about 100 ms).
///
/// Ownership: `*event_json_out` (required) is freed by the caller with `rcc_string_free`.
///
/// Threading: any non-runtime thread; several threads may pull at once (each event goes to
/// exactly one of them). `rcc_core_close` wakes a blocked pull.
#[no_mangle]
pub extern "C" fn rcc_next_event(
    core: *const rcc_core,
    timeout_ms: u32,
    event_json_out: *mut *mut c_char,
    err: *mut *mut rcc_error,
) -> rcc_status {
    ffi_status!(err, {
        // SAFETY: NULL or live/valid pointers (documented contract).
        unsafe { clear_out(event_json_out, "event_json_out") }?;
        // SAFETY: as above.
        let core = unsafe { core_arg(core) }?;
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::new(
                rcc_status::InvalidState,
                "rcc_next_event blocks: call it from a plain thread",
            ));
        }
        match core
            .events
            .next(Duration::from_millis(u64::from(timeout_ms)))?
        {
            Some(json) => {
                // SAFETY: checked non-NULL.
                unsafe { write_string(event_json_out, json) };
                Ok(())
            }
            None => Err(Error::new(
                rcc_status::Timeout,
                format!("no event within {timeout_ms} ms"),
            )),
        }
    })
}

/// Deliver events to `cb` instead of `rcc_next_event`. `cb(user_data, event_json)` runs on
/// one library thread named `rcc-events` (never a runtime thread, never two calls at once),
/// so it may call any `rcc_` function, blocking ones included; `event_json` is borrowed for
/// the call only. Events already waiting (produced before anyone listened) come first.
///
/// Ownership of `user_data`: on `RCC_STATUS_OK` the library owns it and calls
/// `destroy(user_data)` (when `destroy` is not NULL) exactly once, on the events thread,
/// after the last `cb` call for it: when this callback is replaced by another call of
/// this function, removed, or, at `rcc_core_close`, after every remaining event was
/// delivered. On any other status nothing was taken and `destroy` is not called.
/// `user_data` must be usable from the events thread.
///
/// `cb` NULL removes the callback (`user_data` and `destroy` are then ignored); pulls work
/// again and nothing is lost in the switch. `RCC_STATUS_CLOSED` after `rcc_core_close`.
///
/// Threading: any thread, the callback included (the change applies after it returns).
#[no_mangle]
pub extern "C" fn rcc_set_event_callback(
    core: *const rcc_core,
    cb: rcc_event_callback,
    user_data: *mut c_void,
    destroy: rcc_destroy_callback,
    err: *mut *mut rcc_error,
) -> rcc_status {
    ffi_status!(err, {
        // SAFETY: NULL or a live core (documented contract).
        let core = unsafe { core_arg(core) }?;
        let make = cb.map(|cb| move || Callback::new(cb, user_data, destroy));
        core.events.set_callback(make)
    })
}

/// The JSON Schema (draft 2020-12) of the `channels.rocketchat` object.
///
/// Ownership: `*json_out` (required) is freed by the caller with `rcc_string_free`.
/// Returns `RCC_STATUS_INVALID_ARGUMENT` when `json_out` is NULL.
///
/// Threading: any thread; no core needed.
#[no_mangle]
pub extern "C" fn rcc_config_schema(json_out: *mut *mut c_char) -> rcc_status {
    ffi_status!(std::ptr::null_mut(), {
        // SAFETY: NULL or writable (documented contract).
        unsafe { clear_out(json_out, "json_out") }?;
        let json = to_json(&config::json_schema())?;
        // SAFETY: checked non-NULL.
        unsafe { write_string(json_out, json) };
        Ok(())
    })
}
