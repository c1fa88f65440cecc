//! The ABI called from Rust: callback ownership and threads, buffering before
//! anyone listens, re-entrant close, and the runtime-thread guard. No server needed: an
//! account pointed at a closed port produces connection events on its own.

use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::*;

/// What a callback saw.
#[derive(Default)]
struct Seen {
    events: Mutex<Vec<String>>,
    threads: Mutex<Vec<String>>,
    destroyed: AtomicUsize,
    destroy_threads: Mutex<Vec<String>>,
    /// Close the core from inside the callback at the first event.
    close_from_callback: Mutex<Option<usize>>,
}

fn thread_name() -> String {
    std::thread::current().name().unwrap_or("?").to_owned()
}

unsafe extern "C" fn on_event(user_data: *mut c_void, json: *const c_char) {
    // SAFETY: user_data is the `Arc<Seen>` leaked by `callback_data`, alive until destroy.
    let seen = unsafe { &*(user_data as *const Seen) };
    // SAFETY: the library passes a valid NUL-terminated string for the call.
    let json = unsafe { CStr::from_ptr(json) }.to_str().unwrap().to_owned();
    seen.events.lock().unwrap().push(json);
    seen.threads.lock().unwrap().push(thread_name());
    if let Some(core) = seen.close_from_callback.lock().unwrap().take() {
        assert_eq!(rcc_core_close(core as *const rcc_core), rcc_status::Ok);
    }
}

unsafe extern "C" fn on_destroy(user_data: *mut c_void) {
    // SAFETY: the pointer from `Arc::into_raw`, given back exactly once.
    let seen = unsafe { Arc::from_raw(user_data as *const Seen) };
    seen.destroyed.fetch_add(1, Ordering::SeqCst);
    seen.destroy_threads.lock().unwrap().push(thread_name());
}

fn callback_data(seen: &Arc<Seen>) -> *mut c_void {
    Arc::into_raw(seen.clone()) as *mut c_void
}

fn new_core() -> *mut rcc_core {
    let mut core = ptr::null_mut();
    assert_eq!(
        rcc_core_new(ptr::null(), &mut core, ptr::null_mut()),
        rcc_status::Ok
    );
    core
}

/// Start an account against a port nobody listens on: it emits accountStarted, connecting,
/// disconnected… by itself.
fn start_unreachable_account(core: *mut rcc_core) {
    let config = CString::new(
        r#"{"baseUrl":"http://127.0.0.1:9","authToken":"t","userId":"u","dmPolicy":"open","allowFrom":["*"]}"#,
    )
    .unwrap();
    let mut err = ptr::null_mut();
    let st = rcc_apply_config(core, config.as_ptr(), 0, ptr::null_mut(), &mut err);
    assert_eq!(st, rcc_status::Ok, "{}", message(err));
}

fn message(err: *mut rcc_error) -> String {
    if err.is_null() {
        return String::new();
    }
    // SAFETY: a live error from the library.
    let text = unsafe { CStr::from_ptr(rcc_error_message(err)) }
        .to_string_lossy()
        .into_owned();
    rcc_error_free(err);
    text
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn events_before_anyone_listens_reach_a_late_callback_in_order() {
    let core = new_core();
    start_unreachable_account(core);
    std::thread::sleep(Duration::from_millis(200));
    let seen = Arc::new(Seen::default());
    let st = rcc_set_event_callback(
        core,
        Some(on_event),
        callback_data(&seen),
        Some(on_destroy),
        ptr::null_mut(),
    );
    assert_eq!(st, rcc_status::Ok);
    wait_until("two events", || seen.events.lock().unwrap().len() >= 2);
    let first: serde_json::Value = serde_json::from_str(&seen.events.lock().unwrap()[0]).unwrap();
    assert_eq!(first["seq"], 1);
    assert_eq!(first["type"], "accountStarted");
    assert!(seen
        .threads
        .lock()
        .unwrap()
        .iter()
        .all(|t| t == "rcc-events"));
    assert_eq!(rcc_core_close(core), rcc_status::Ok);
    assert_eq!(seen.destroyed.load(Ordering::SeqCst), 1);
    assert_eq!(*seen.destroy_threads.lock().unwrap(), ["rcc-events"]);
    rcc_core_free(core);
}

#[test]
fn replacing_a_callback_destroys_the_old_user_data_once_on_the_events_thread() {
    let core = new_core();
    let (a, b, c) = (
        Arc::new(Seen::default()),
        Arc::new(Seen::default()),
        Arc::new(Seen::default()),
    );
    for seen in [&a, &b, &c] {
        let st = rcc_set_event_callback(
            core,
            Some(on_event),
            callback_data(seen),
            Some(on_destroy),
            ptr::null_mut(),
        );
        assert_eq!(st, rcc_status::Ok);
    }
    wait_until("a and b destroyed", || {
        a.destroyed.load(Ordering::SeqCst) == 1 && b.destroyed.load(Ordering::SeqCst) == 1
    });
    assert_eq!(c.destroyed.load(Ordering::SeqCst), 0);
    // Removing the callback destroys c; pulls work again.
    let st = rcc_set_event_callback(core, None, ptr::null_mut(), None, ptr::null_mut());
    assert_eq!(st, rcc_status::Ok);
    wait_until("c destroyed", || c.destroyed.load(Ordering::SeqCst) == 1);
    let mut json = ptr::null_mut();
    assert_eq!(
        rcc_next_event(core, 0, &mut json, ptr::null_mut()),
        rcc_status::Timeout
    );
    assert_eq!(rcc_core_close(core), rcc_status::Ok);
    for seen in [&a, &b, &c] {
        assert_eq!(seen.destroyed.load(Ordering::SeqCst), 1);
        assert_eq!(*seen.destroy_threads.lock().unwrap(), ["rcc-events"]);
        assert_eq!(Arc::strong_count(seen), 1, "the library kept a reference");
    }
    rcc_core_free(core);
}

#[test]
fn switching_from_callback_to_pull_loses_nothing() {
    let core = new_core();
    let seen = Arc::new(Seen::default());
    let st = rcc_set_event_callback(
        core,
        Some(on_event),
        callback_data(&seen),
        Some(on_destroy),
        ptr::null_mut(),
    );
    assert_eq!(st, rcc_status::Ok);
    start_unreachable_account(core);
    wait_until("first event", || !seen.events.lock().unwrap().is_empty());
    assert_eq!(
        rcc_set_event_callback(core, None, ptr::null_mut(), None, ptr::null_mut()),
        rcc_status::Ok
    );
    wait_until("destroyed", || seen.destroyed.load(Ordering::SeqCst) == 1);
    // Stop the account so the stream ends, then close and pull the rest.
    let id = CString::new("default").unwrap();
    assert_eq!(
        rcc_stop_account(core, id.as_ptr(), ptr::null_mut()),
        rcc_status::Ok
    );
    assert_eq!(rcc_core_close(core), rcc_status::Ok);
    let mut seqs: Vec<u64> = seen
        .events
        .lock()
        .unwrap()
        .iter()
        .map(|j| {
            serde_json::from_str::<serde_json::Value>(j).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    loop {
        let mut json = ptr::null_mut();
        match rcc_next_event(core, 1000, &mut json, ptr::null_mut()) {
            rcc_status::Ok => {
                // SAFETY: an owned string from the library.
                let text = unsafe { CStr::from_ptr(json) }.to_str().unwrap().to_owned();
                rcc_string_free(json);
                let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                seqs.push(v["seq"].as_u64().unwrap());
            }
            rcc_status::Closed => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
    assert_eq!(seqs, expected, "every event exactly once, in order");
    rcc_core_free(core);
}

#[test]
fn close_from_inside_the_callback_does_not_deadlock() {
    let core = new_core();
    let seen = Arc::new(Seen::default());
    *seen.close_from_callback.lock().unwrap() = Some(core as usize);
    let st = rcc_set_event_callback(
        core,
        Some(on_event),
        callback_data(&seen),
        Some(on_destroy),
        ptr::null_mut(),
    );
    assert_eq!(st, rcc_status::Ok);
    start_unreachable_account(core);
    wait_until("destroyed after the re-entrant close", || {
        seen.destroyed.load(Ordering::SeqCst) == 1
    });
    // A close from another thread afterwards just returns.
    assert_eq!(rcc_core_close(core), rcc_status::Ok);
    rcc_core_free(core);
}

#[test]
fn blocking_calls_are_refused_on_an_async_runtime_thread() {
    let core = new_core() as usize;
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (st, msg) = rt.block_on(async move {
        let mut json = ptr::null_mut();
        let mut err = ptr::null_mut();
        let st = rcc_account_status(core as *const rcc_core, ptr::null(), &mut json, &mut err);
        (st, message(err))
    });
    assert_eq!(st, rcc_status::InvalidState);
    assert!(msg.contains("runtime"), "{msg}");
    rcc_core_free(core as *mut rcc_core);
}

#[test]
fn owned_strings_and_errors_round_trip() {
    let mut schema = ptr::null_mut();
    assert_eq!(rcc_config_schema(&mut schema), rcc_status::Ok);
    // SAFETY: an owned string from the library.
    let text = unsafe { CStr::from_ptr(schema) }.to_str().unwrap();
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(v["title"], "channels.rocketchat");
    rcc_string_free(schema);
    // SAFETY: rcc_version returns a static NUL-terminated string.
    let version = unsafe { CStr::from_ptr(rcc_version()) }.to_str().unwrap();
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
}
