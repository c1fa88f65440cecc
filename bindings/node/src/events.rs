//! Events from the core's queue to JavaScript callbacks.
//!
//! # Design
//!
//! One **pump** task per core, on the core's runtime, pulls from the core's bounded
//! [`EventQueue`]: it waits for one event, then takes whatever else is ready, up to
//! [`BATCH_MAX`] events, and hands the batch (an array of JSON strings, parsed in JS) to
//! every subscriber's threadsafe function with a non-blocking call.
//!
//! **Backpressure.** Each subscriber has [`IN_FLIGHT`] permits; a batch holds one until the
//! JavaScript callback for it has returned. With no permit free the pump waits, so it pulls
//! from the core only as fast as JavaScript consumes. The core queue then fills up: message
//! events make their producers wait (never lost), other events are counted and reported by
//! an `overflow` event. Memory is therefore bounded by the core's `eventCapacity` plus
//! one batch in the pump plus `IN_FLIGHT` batches per subscriber.
//!
//! The threadsafe function's own queue is bounded too (napi's `max_queue_size`, here
//! [`TSFN_QUEUE`] ≥ `IN_FLIGHT`), so it can never grow without limit even if the permit
//! accounting were wrong; should a call ever find it full (`QueueFull`), the pump keeps the
//! batch and retries after [`RETRY_DELAY`], which again backs up into the core queue.
//!
//! **Ordering and loss.** A batch is delivered to each subscriber in order, exactly once.
//! With several subscribers the slowest sets the pace. Events are not pulled while nobody
//! listens: they wait in the core queue (which buffers from the moment the core exists), and a
//! batch pulled just before the last subscriber left is kept for the next one.
//!
//! **Lifetime.** Threadsafe functions are created weak (unref'd): a forgotten subscription
//! does not keep Node alive. `unsubscribe()` releases one; `close()` lets the pump drain the
//! closed queue, ends it and releases them all.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use napi::bindgen_prelude::{ToNapiValue, Unknown};
use napi::sys;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;
use openclaw_rocketchat::event_queue::EventQueue;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// Most events handed to JavaScript in one callback.
pub const BATCH_MAX: usize = 256;
/// Batches per subscriber handed to JavaScript and not yet consumed.
pub const IN_FLIGHT: usize = 4;
/// napi's bound on a threadsafe function's queue (`max_queue_size`).
pub const TSFN_QUEUE: usize = 8;
/// Wait before retrying a call that found the threadsafe function's queue full.
pub const RETRY_DELAY: Duration = Duration::from_millis(10);

/// A batch of event JSON strings; becomes a JS `string[]` on the JS thread.
pub struct EventBatch(Arc<Vec<String>>);

impl ToNapiValue for EventBatch {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let strs: Vec<&str> = val.0.iter().map(String::as_str).collect();
        // SAFETY: called by napi on the JS thread with a live env.
        unsafe { ToNapiValue::to_napi_value(env, strs) }
    }
}

/// The callback type: `(events: string[]) => void`, errors not passed as the first argument
/// (`CalleeHandled = false`), weak, queue bounded by [`TSFN_QUEUE`].
pub type EventCallback =
    ThreadsafeFunction<EventBatch, Unknown<'static>, EventBatch, Status, false, true, TSFN_QUEUE>;

struct Subscriber {
    id: u64,
    tsfn: Mutex<Option<EventCallback>>,
    permits: Arc<Semaphore>,
}

impl Subscriber {
    fn release(&self) {
        self.permits.close();
        // Dropping the last handle calls napi_release_threadsafe_function (thread-safe).
        drop(lock(&self.tsfn).take());
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The subscribers of one core and its pump.
pub struct Hub {
    queue: Arc<EventQueue>,
    handle: tokio::runtime::Handle,
    subscribers: Mutex<Vec<Arc<Subscriber>>>,
    changed: Notify,
    next_id: AtomicU64,
    closing: AtomicBool,
    pump: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Hub {
    /// A hub over `queue`; its pump will run on `handle`.
    pub fn new(queue: Arc<EventQueue>, handle: tokio::runtime::Handle) -> Arc<Hub> {
        Arc::new(Hub {
            queue,
            handle,
            subscribers: Mutex::new(Vec::new()),
            changed: Notify::new(),
            next_id: AtomicU64::new(1),
            closing: AtomicBool::new(false),
            pump: Mutex::new(None),
        })
    }

    /// Add a subscriber (starting the pump on first use) and return its id.
    pub fn subscribe(self: &Arc<Self>, tsfn: EventCallback) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.subscribers).push(Arc::new(Subscriber {
            id,
            tsfn: Mutex::new(Some(tsfn)),
            permits: Arc::new(Semaphore::new(IN_FLIGHT)),
        }));
        let mut pump = lock(&self.pump);
        if pump.is_none() {
            let hub = Arc::downgrade(self);
            *pump = Some(self.handle.spawn(run_pump(hub, self.queue.clone())));
        }
        drop(pump);
        self.changed.notify_one();
        id
    }

    /// Remove a subscriber and release its callback. Returns false when it was already gone.
    pub fn unsubscribe(&self, id: u64) -> bool {
        let removed = {
            let mut subs = lock(&self.subscribers);
            let pos = subs.iter().position(|s| s.id == id);
            pos.map(|i| subs.remove(i))
        };
        match removed {
            Some(sub) => {
                sub.release();
                self.changed.notify_one();
                true
            }
            None => false,
        }
    }

    fn snapshot(&self) -> Vec<Arc<Subscriber>> {
        lock(&self.subscribers).clone()
    }

    /// After the core queue was closed: let the pump hand out what is left (up to `grace`),
    /// end it, and release every callback.
    pub async fn close(&self, grace: Duration) {
        self.closing.store(true, Ordering::Release);
        self.changed.notify_one();
        let pump = lock(&self.pump).take();
        if let Some(mut pump) = pump {
            if tokio::time::timeout(grace, &mut pump).await.is_err() {
                pump.abort();
            }
        }
        self.release_all();
    }

    /// Release every callback now (also done on drop).
    pub fn release_all(&self) {
        let subs = std::mem::take(&mut *lock(&self.subscribers));
        for s in subs {
            s.release();
        }
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.release_all();
    }
}

/// The pump. Holds the hub weakly so a dropped core ends it.
async fn run_pump(hub: Weak<Hub>, queue: Arc<EventQueue>) {
    let mut pending: Option<Arc<Vec<String>>> = None;
    loop {
        let Some(hub) = hub.upgrade() else { return };
        // Wait until someone listens (or the core closes).
        loop {
            let changed = hub.changed.notified();
            if !lock(&hub.subscribers).is_empty() {
                break;
            }
            if hub.closing.load(Ordering::Acquire) {
                return;
            }
            changed.await;
        }
        let batch = match pending.take() {
            Some(b) => b,
            None => {
                let changed = hub.changed.notified();
                // `EventQueue::next_batch` is cancel-safe: it only awaits before taking an event.
                let batch = tokio::select! {
                    batch = queue.next_batch(BATCH_MAX) => batch,
                    () = changed => continue,
                };
                let Some(batch) = batch else { return }; // closed and drained
                Arc::new(batch.iter().map(|ev| ev.to_json()).collect())
            }
        };
        // Snapshot again now that the batch is pulled: a callback added while the pump was
        // waiting must get every event produced after `onEvent` returned, even when the
        // queue and the change notice became ready together.
        let subscribers = hub.snapshot();
        let mut delivered = false;
        for sub in &subscribers {
            delivered |= deliver(sub, &batch).await;
        }
        if !delivered {
            pending = Some(batch);
        }
    }
}

/// Hand `batch` to one subscriber. Returns false when the subscriber went away first.
async fn deliver(sub: &Subscriber, batch: &Arc<Vec<String>>) -> bool {
    loop {
        let Ok(permit) = sub.permits.clone().acquire_owned().await else {
            return false; // unsubscribed
        };
        let status = {
            let guard = lock(&sub.tsfn);
            let Some(tsfn) = guard.as_ref() else {
                return false;
            };
            call(tsfn, EventBatch(batch.clone()), permit)
        };
        match status {
            Status::Ok => return true,
            Status::QueueFull => tokio::time::sleep(RETRY_DELAY).await,
            // Closing: the environment is going away or the function was released.
            _ => {
                sub.release();
                return false;
            }
        }
    }
}

fn call(tsfn: &EventCallback, batch: EventBatch, permit: OwnedSemaphorePermit) -> Status {
    // The permit is released once the JS callback has returned (or, if it threw or the
    // environment is shutting down, when napi drops the completion closure).
    tsfn.call_with_return_value(
        batch,
        ThreadsafeFunctionCallMode::NonBlocking,
        move |_ret, _env| {
            drop(permit);
            Ok(())
        },
    )
}

/// What `onEvent` returns: call `unsubscribe()` to stop the callback.
#[napi]
pub struct EventSubscription {
    hub: Weak<Hub>,
    id: u64,
}

impl EventSubscription {
    pub(crate) fn new(hub: &Arc<Hub>, id: u64) -> Self {
        EventSubscription {
            hub: Arc::downgrade(hub),
            id,
        }
    }
}

#[napi]
impl EventSubscription {
    /// Stop delivering events to this callback and release it. Idempotent; returns whether
    /// this call removed the subscription. Events not yet handed over stay in the core's queue
    /// for the other (or the next) subscriber.
    #[napi]
    pub fn unsubscribe(&self) -> bool {
        self.hub.upgrade().is_some_and(|h| h.unsubscribe(self.id))
    }

    /// `using sub = core.onEvent(…)` support: same as `unsubscribe()`.
    #[napi(well_known_symbol = "dispose")]
    pub fn dispose(&self) {
        self.unsubscribe();
    }
}
