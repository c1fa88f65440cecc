//! Event delivery: the blocking pull and the callback on one dedicated thread.
//!
//! The core's [`EventQueue`] keeps every event from the moment the core exists (bounded;
//! losses arrive as an `overflow` event), so a host that starts listening late misses nothing.
//! A host takes events one of two ways, never both at once:
//!
//! - **pull**: `rcc_next_event` blocks up to a timeout and returns one event as owned JSON;
//! - **callback**: `rcc_set_event_callback` starts one library thread, `rcc-events`, that
//!   pulls and calls the callback. The callback and its `destroy` only ever run on that
//!   thread, one call at a time, and it is never a runtime worker, so callbacks may call any
//!   `rcc_` function (blocking ones included). A callback that frees the core is not called
//!   again: once it returns, `destroy` runs and the thread ends; events still queued are
//!   discarded with the core.
//!
//! While a callback is set, pulls fail with `RCC_STATUS_INVALID_STATE` (two consumers
//! would split the stream unpredictably). An event the events thread took after the callback
//! was removed is kept in a small hand-over buffer and is the next one pulled, so switching
//! between the two ways loses nothing.

use std::collections::VecDeque;
use std::ffi::{c_char, c_void, CString};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, Instant};

use rc_core::event_queue::EventQueue;

use crate::error::{rcc_status, Error};

/// How long a wait lasts before looking again for a change of callback.
const SLICE: Duration = Duration::from_millis(100);

/// Called with one event: `event_json` is a NUL-terminated UTF-8 JSON object (one
/// `EventEnvelope`), borrowed for the duration of the call only (copy it to keep it).
#[allow(non_camel_case_types)]
pub type rcc_event_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, event_json: *const c_char)>;

/// Called exactly once when the library is done with a `user_data` it was given.
#[allow(non_camel_case_types)]
pub type rcc_destroy_callback = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// A registered callback. Dropping it calls `destroy(user_data)`; the events thread is the
/// only place one is dropped once accepted.
pub(crate) struct Callback {
    cb: unsafe extern "C" fn(*mut c_void, *const c_char),
    user_data: *mut c_void,
    destroy: rcc_destroy_callback,
}

// SAFETY: the host promises (documented on `rcc_set_event_callback`) that `user_data` may be
// used from the events thread; the library never touches it except through `cb`/`destroy`.
unsafe impl Send for Callback {}

impl Callback {
    pub(crate) fn new(
        cb: unsafe extern "C" fn(*mut c_void, *const c_char),
        user_data: *mut c_void,
        destroy: rcc_destroy_callback,
    ) -> Self {
        Callback {
            cb,
            user_data,
            destroy,
        }
    }

    fn call(&self, json: &str) {
        let json = CString::new(json).expect("event JSON never contains NUL");
        // SAFETY: `cb` is the host's function with the documented signature.
        unsafe { (self.cb)(self.user_data, json.as_ptr()) }
    }
}

impl Drop for Callback {
    fn drop(&mut self) {
        if let Some(destroy) = self.destroy {
            // SAFETY: called once, on the events thread, as documented.
            unsafe { destroy(self.user_data) }
        }
    }
}

/// Event delivery state shared by the core handle and the events thread.
pub(crate) struct Events {
    queue: Arc<EventQueue>,
    state: Mutex<State>,
    wake: Condvar,
    /// The events thread, joined by the first `close`; later closers wait on this lock.
    thread: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Default)]
struct State {
    /// A change of callback not yet applied by the thread (`Some(None)`: remove it).
    change: Option<Option<Callback>>,
    /// Whether a callback is set, as of the latest request.
    callback_set: bool,
    /// Events the thread took when the callback had just been removed: pulled first.
    handover: VecDeque<String>,
    /// Callbacks replaced before the thread applied them, destroyed by the thread.
    retired: Vec<Callback>,
    /// The events thread, once started.
    thread_id: Option<ThreadId>,
    /// `close` was called.
    shutdown: bool,
}

impl Events {
    pub(crate) fn new(queue: Arc<EventQueue>) -> Arc<Self> {
        Arc::new(Events {
            queue,
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            thread: Mutex::new(None),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the calling thread is the events thread.
    pub(crate) fn on_events_thread(&self) -> bool {
        self.lock().thread_id == Some(std::thread::current().id())
    }

    /// Set (`Some`) or remove (`None`) the callback. On error nothing was taken: the caller
    /// keeps `user_data` (the `Callback` is only built once accepted, so no destroy runs).
    pub(crate) fn set_callback(
        self: &Arc<Self>,
        new: Option<impl FnOnce() -> Callback>,
    ) -> Result<(), Error> {
        let mut st = self.lock();
        if st.shutdown {
            return Err(Error::new(rcc_status::Closed, "the core is closed"));
        }
        let starting = new.is_some() && st.thread_id.is_none();
        if starting {
            let me = self.clone();
            let handle = std::thread::Builder::new()
                .name("rcc-events".to_owned())
                .spawn(move || me.run())
                .map_err(|e| {
                    Error::new(
                        rcc_status::Internal,
                        format!("cannot start the events thread: {e}"),
                    )
                })?;
            st.thread_id = Some(handle.thread().id());
            *self.thread.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
        }
        st.callback_set = new.is_some();
        // A change the thread has not applied yet is replaced: its callback was never
        // called, but its destroy still runs exactly once, on the events thread.
        if let Some(Some(unapplied)) = st.change.take() {
            st.retired.push(unapplied);
        }
        st.change = Some(new.map(|make| make()));
        drop(st);
        self.wake.notify_all();
        Ok(())
    }

    /// Pull one event, waiting up to `timeout`. `Ok(None)`: timed out.
    pub(crate) fn next(&self, timeout: Duration) -> Result<Option<String>, Error> {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let mut st = self.lock();
                if st.callback_set {
                    return Err(Error::new(
                        rcc_status::InvalidState,
                        "an event callback is set: events go to it (remove it to pull)",
                    ));
                }
                if let Some(json) = st.handover.pop_front() {
                    return Ok(Some(json));
                }
            }
            let now = Instant::now();
            let wait = deadline.saturating_duration_since(now).min(SLICE);
            if let Some(event) = self.queue.next_blocking(wait) {
                return Ok(Some(event.to_json()));
            }
            if self.queue.is_closed() {
                // Closed and drained; the hand-over buffer may still hold one.
                return match self.lock().handover.pop_front() {
                    Some(json) => Ok(Some(json)),
                    None => Err(Error::new(
                        rcc_status::Closed,
                        "the core is closed and every event was delivered",
                    )),
                };
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
        }
    }

    /// Pull what is waiting, at most `max` events, waiting up to `timeout` for the first.
    /// `Ok(None)`: timed out.
    pub(crate) fn next_batch(
        &self,
        timeout: Duration,
        max: usize,
    ) -> Result<Option<Vec<String>>, Error> {
        let Some(first) = self.next(timeout)? else {
            return Ok(None);
        };
        let mut batch = vec![first];
        while batch.len() < max {
            let held = {
                let mut st = self.lock();
                if st.callback_set {
                    break;
                }
                st.handover.pop_front()
            };
            match held.or_else(|| self.queue.try_next().map(|e| e.to_json())) {
                Some(json) => batch.push(json),
                None => break,
            }
        }
        Ok(Some(batch))
    }

    /// Stop delivering: the events thread drains the (closed) queue into the callback, calls
    /// destroy and ends; this waits for it unless called from that thread.
    pub(crate) fn shutdown(&self) {
        self.lock().shutdown = true;
        self.wake.notify_all();
        if self.on_events_thread() {
            return;
        }
        let mut thread = self.thread.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(handle) = thread.take() {
            // The thread catches its own panics; a join error cannot happen.
            let _ = handle.join();
        }
    }

    /// Apply a pending change of callback; the replaced one is destroyed here.
    fn apply_change(&self, current: &mut Option<Callback>) -> bool {
        let (change, retired) = {
            let mut st = self.lock();
            (st.change.take(), std::mem::take(&mut st.retired))
        };
        drop(retired);
        match change {
            Some(new) => {
                drop(std::mem::replace(current, new));
                true
            }
            None => false,
        }
    }

    /// Whether the core handle, the only other owner of this state, was freed: only by
    /// `rcc_core_free` from the callback (a free elsewhere joins this thread first).
    fn core_freed(self: &Arc<Self>) -> bool {
        Arc::strong_count(self) == 1
    }

    /// The events thread.
    fn run(self: Arc<Self>) {
        let mut current: Option<Callback> = None;
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| loop {
            if self.core_freed() {
                return;
            }
            if self.apply_change(&mut current) {
                continue;
            }
            let Some(cb) = current.as_ref() else {
                let st = self.lock();
                if st.shutdown {
                    return;
                }
                if st.change.is_none() {
                    drop(self.wake.wait(st).unwrap_or_else(|e| e.into_inner()));
                }
                continue;
            };
            let handed_over = self.lock().handover.pop_front();
            if let Some(json) = handed_over {
                cb.call(&json);
                continue;
            }
            match self.queue.next_blocking(SLICE) {
                Some(event) => {
                    let json = event.to_json();
                    // A change made while we waited applies before this event.
                    self.apply_change(&mut current);
                    match current.as_ref() {
                        Some(cb) => cb.call(&json),
                        None => self.lock().handover.push_back(json),
                    }
                }
                // Closed and drained; a callback set just before the close still gets
                // its turn (and its destroy) before the thread ends.
                None if self.queue.is_closed() && !self.apply_change(&mut current) => return,
                None => {}
            }
        }));
        // Closed and drained (or removed at shutdown): destroy whatever is still held.
        drop(current);
        let (change, retired) = {
            let mut st = self.lock();
            // Nothing delivers to a callback any more: pulls get what is left.
            st.callback_set = false;
            (st.change.take(), std::mem::take(&mut st.retired))
        };
        drop(retired);
        drop(change);
    }
}
