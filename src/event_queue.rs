//! The one event queue a host pulls from (Delta Chat style): bounded, sequence-numbered,
//! and kept from the moment the core exists, so nothing produced before a host starts
//! listening is lost.
//!
//! Two kinds of producers, two policies:
//! - **Messages** (`message`, `messageEdited`, `pairingRequest`) are never dropped: when the
//!   queue is full the producing account waits ([`EventQueue::push_wait_or`]), which slows its
//!   inbound pipeline instead of losing anything.
//! - **Everything else** (state changes, `sent`, `dropped`, logs) is pushed without waiting
//!   ([`EventQueue::push`]); when the queue is full the event is discarded and counted, and an
//!   `overflow` event with the count goes out as soon as there is room, so loss is never silent.
//! - An account's **last event** (`accountStopped`) is always queued ([`EventQueue::push_final`]):
//!   a stopping account gives up waiting for room, and says in it how many messages it could
//!   not hand over, so a stop finishes even when nobody pulls.
//!
//! Consumers pull with [`EventQueue::next_blocking`] (any thread that is not a runtime worker;
//! what the C ABI uses) or [`EventQueue::next`] (async).

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::event::{Event, EventEnvelope};

/// Default number of events held before producers wait or overflow.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// A bounded multi-producer event queue with blocking and async pulls.
pub struct EventQueue {
    inner: Mutex<Inner>,
    /// Wakes blocking consumers.
    readable: Condvar,
    /// Wakes async consumers.
    readable_async: Notify,
    /// Wakes producers waiting for room.
    writable: Notify,
    capacity: usize,
    seq: AtomicU64,
    closed: AtomicBool,
}

struct Inner {
    queue: VecDeque<EventEnvelope>,
    /// Events discarded since the last `overflow` event went out.
    overflowed: u64,
}

impl EventQueue {
    /// A queue that holds up to `capacity` events (at least 1).
    pub fn new(capacity: usize) -> Self {
        EventQueue {
            inner: Mutex::new(Inner {
                queue: VecDeque::new(),
                overflowed: 0,
            }),
            readable: Condvar::new(),
            readable_async: Notify::new(),
            writable: Notify::new(),
            capacity: capacity.max(1),
            seq: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn envelope(&self, account_id: Option<&str>, event: Event) -> EventEnvelope {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        EventEnvelope::new(seq, account_id.map(str::to_owned), event)
    }

    fn wake_readers(&self) {
        self.readable.notify_all();
        self.readable_async.notify_waiters();
        self.readable_async.notify_one();
    }

    /// Push without waiting. Returns false (and counts the loss, reported later as an
    /// `overflow` event) when the queue is full or closed.
    pub fn push(&self, account_id: Option<&str>, event: Event) -> bool {
        if self.closed.load(Ordering::Acquire) {
            return false;
        }
        let mut inner = self.lock();
        if inner.queue.len() >= self.capacity {
            inner.overflowed += 1;
            return false;
        }
        let envelope = self.envelope(account_id, event);
        inner.queue.push_back(envelope);
        drop(inner);
        self.wake_readers();
        true
    }

    /// Push, waiting for room when the queue is full (for events that must not be lost), but
    /// giving up when `cancel` completes first: the account is stopping, and a host that does
    /// not pull (one stopping from its event callback) must never keep a stop waiting. There
    /// is no wait without a way out. Returns whether the event was queued; on false it was not
    /// (cancelled or closed).
    pub async fn push_wait_or(
        &self,
        account_id: Option<&str>,
        event: Event,
        cancel: impl Future<Output = ()>,
    ) -> bool {
        tokio::pin!(cancel);
        loop {
            if self.closed.load(Ordering::Acquire) {
                return false;
            }
            // Register for the wake-up before looking, so a pull in between is not missed.
            let room = self.writable.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            {
                let mut inner = self.lock();
                if inner.queue.len() < self.capacity {
                    let envelope = self.envelope(account_id, event);
                    inner.queue.push_back(envelope);
                    drop(inner);
                    self.wake_readers();
                    return true;
                }
            }
            tokio::select! {
                () = &mut room => {}
                () = &mut cancel => return false,
            }
        }
    }

    /// Push even when the queue is full: for an account's last event (`accountStopped`), so
    /// a host always learns that an account stopped and what it could not deliver. At most
    /// one per account run, so the queue exceeds its capacity by that much at most. Returns
    /// false only when the queue was closed.
    pub fn push_final(&self, account_id: Option<&str>, event: Event) -> bool {
        if self.closed.load(Ordering::Acquire) {
            return false;
        }
        let mut inner = self.lock();
        let envelope = self.envelope(account_id, event);
        inner.queue.push_back(envelope);
        drop(inner);
        self.wake_readers();
        true
    }

    /// Take the next event, if any, without waiting.
    pub fn try_next(&self) -> Option<EventEnvelope> {
        let mut inner = self.lock();
        let event = self.pop(&mut inner);
        drop(inner);
        if event.is_some() {
            self.writable.notify_waiters();
        }
        event
    }

    fn pop(&self, inner: &mut Inner) -> Option<EventEnvelope> {
        // Report a loss before the next event, so the host sees it in order.
        if inner.overflowed > 0 {
            let dropped = std::mem::take(&mut inner.overflowed);
            return Some(self.envelope(None, Event::Overflow { dropped }));
        }
        inner.queue.pop_front()
    }

    /// Wait up to `timeout` for the next event. Returns `None` on timeout or when the queue is
    /// closed and empty. Must not be called from a runtime worker thread (it blocks).
    pub fn next_blocking(&self, timeout: Duration) -> Option<EventEnvelope> {
        let deadline = Instant::now() + timeout;
        let mut inner = self.lock();
        loop {
            if let Some(event) = self.pop(&mut inner) {
                drop(inner);
                self.writable.notify_waiters();
                return Some(event);
            }
            if self.closed.load(Ordering::Acquire) {
                return None;
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            inner = self
                .readable
                .wait_timeout(inner, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Wait for the next event. Returns `None` once the queue is closed and drained.
    pub async fn next(&self) -> Option<EventEnvelope> {
        loop {
            let readable = self.readable_async.notified();
            if let Some(event) = self.try_next() {
                return Some(event);
            }
            if self.closed.load(Ordering::Acquire) {
                return None;
            }
            readable.await;
        }
    }

    /// Wait for the next event, then take whatever else is ready, up to `max` events in all
    /// (Delta Chat's `recv_batch`): hosts pay one hand-over per batch, not per event.
    /// Returns `None` once the queue is closed and drained. Cancel-safe, as [`Self::next`].
    pub async fn next_batch(&self, max: usize) -> Option<Vec<EventEnvelope>> {
        let first = self.next().await?;
        Some(self.fill_batch(first, max))
    }

    /// [`Self::next_batch`] for plain threads: waits up to `timeout` for the first event.
    /// Returns `None` on timeout or once the queue is closed and drained.
    pub fn next_batch_blocking(&self, timeout: Duration, max: usize) -> Option<Vec<EventEnvelope>> {
        let first = self.next_blocking(timeout)?;
        Some(self.fill_batch(first, max))
    }

    fn fill_batch(&self, first: EventEnvelope, max: usize) -> Vec<EventEnvelope> {
        let mut batch = vec![first];
        {
            let mut inner = self.lock();
            while batch.len() < max.max(1) {
                match self.pop(&mut inner) {
                    Some(ev) => batch.push(ev),
                    None => break,
                }
            }
        }
        self.writable.notify_waiters();
        batch
    }

    /// Events waiting to be pulled.
    pub fn len(&self) -> usize {
        self.lock().queue.len()
    }

    /// Whether no event is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Close: producers stop, consumers drain what is left and then get `None`.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.wake_readers();
        self.writable.notify_waiters();
    }

    /// Whether [`EventQueue::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

impl Default for EventQueue {
    fn default() -> Self {
        EventQueue::new(DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn log(n: u32) -> Event {
        Event::Connecting { attempt: n }
    }

    #[test]
    fn keeps_events_before_anyone_listens_and_numbers_them() {
        let q = EventQueue::new(8);
        q.push(Some("a"), log(1));
        q.push(Some("a"), log(2));
        let first = q.try_next().unwrap();
        let second = q.try_next().unwrap();
        assert_eq!((first.seq, second.seq), (1, 2));
        assert_eq!(first.account_id.as_deref(), Some("a"));
        assert!(q.try_next().is_none());
    }

    #[test]
    fn overflow_is_reported_in_order_never_silently() {
        let q = EventQueue::new(2);
        assert!(q.push(None, log(1)));
        assert!(q.push(None, log(2)));
        assert!(!q.push(None, log(3)));
        assert!(!q.push(None, log(4)));
        let types: Vec<Event> = std::iter::from_fn(|| q.try_next())
            .map(|e| e.event)
            .collect();
        assert_eq!(types, vec![Event::Overflow { dropped: 2 }, log(1), log(2)]);
    }

    #[tokio::test]
    async fn messages_wait_for_room_instead_of_being_dropped() {
        let q = Arc::new(EventQueue::new(1));
        q.push(None, log(1));
        let producer = {
            let q = q.clone();
            tokio::spawn(async move { q.push_wait_or(None, log(2), std::future::pending()).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !producer.is_finished(),
            "producer waits while the queue is full"
        );
        assert_eq!(q.next().await.unwrap().event, log(1));
        assert!(producer.await.unwrap());
        assert_eq!(q.next().await.unwrap().event, log(2));
    }

    #[tokio::test]
    async fn a_waiting_push_gives_up_when_cancelled() {
        let q = Arc::new(EventQueue::new(1));
        q.push(None, log(1));
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let producer = {
            let q = q.clone();
            tokio::spawn(async move {
                let cancel = async move {
                    let _ = stopped.wait_for(|s| *s).await;
                };
                q.push_wait_or(None, log(2), cancel).await
            })
        };
        stop.send(true).unwrap();
        let queued = tokio::time::timeout(Duration::from_secs(10), producer)
            .await
            .expect("a cancelled push returns although nobody pulls")
            .unwrap();
        assert!(!queued);
        assert_eq!(q.try_next().unwrap().event, log(1));
        assert!(q.try_next().is_none(), "the cancelled event was not queued");
    }

    #[test]
    fn the_final_event_is_queued_even_when_full() {
        let q = EventQueue::new(1);
        assert!(q.push(None, log(1)));
        assert!(!q.push(None, log(2)));
        let stopped = Event::AccountStopped {
            reason: "stopped".into(),
            undelivered: 3,
        };
        assert!(q.push_final(Some("a"), stopped.clone()));
        let got: Vec<Event> = std::iter::from_fn(|| q.try_next())
            .map(|e| e.event)
            .collect();
        assert_eq!(got, vec![Event::Overflow { dropped: 1 }, log(1), stopped]);
        q.close();
        assert!(!q.push_final(Some("a"), log(3)), "nothing after close");
    }

    #[test]
    fn blocking_pull_times_out_and_wakes_on_push() {
        let q = Arc::new(EventQueue::new(4));
        let start = Instant::now();
        assert!(q.next_blocking(Duration::from_millis(30)).is_none());
        assert!(start.elapsed() >= Duration::from_millis(30));
        let pusher = {
            let q = q.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                q.push(None, log(7));
            })
        };
        let got = q.next_blocking(Duration::from_secs(5)).unwrap();
        assert_eq!(got.event, log(7));
        pusher.join().unwrap();
    }

    #[test]
    fn batches_take_what_is_ready_up_to_the_limit_in_order() {
        let q = EventQueue::new(8);
        for n in 1..=5 {
            q.push(None, log(n));
        }
        let first = q.next_batch_blocking(Duration::from_secs(5), 3).unwrap();
        let rest = q.next_batch_blocking(Duration::from_secs(5), 3).unwrap();
        let seqs: Vec<u64> = first.iter().chain(&rest).map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5]);
        assert_eq!((first.len(), rest.len()), (3, 2));
        assert!(q
            .next_batch_blocking(Duration::from_millis(10), 3)
            .is_none());
    }

    #[test]
    fn close_drains_then_ends() {
        let q = EventQueue::new(4);
        q.push(None, log(1));
        q.close();
        assert!(!q.push(None, log(2)));
        assert_eq!(
            q.next_blocking(Duration::from_millis(10)).unwrap().event,
            log(1)
        );
        assert!(q.next_blocking(Duration::from_secs(5)).is_none());
    }
}
