//! The bot's typing indicator while a reply is being produced.
//!
//! Rocket.Chat has one way to show typing: the DDP method `stream-notify-room` with
//! `["<rid>/user-activity", <username>, ["user-typing"], {tmid?}]`, and the same with an
//! empty activity list to stop (ROCKETCHAT.md §2.4). There is no REST endpoint for it, so
//! there is no REST fallback here.
//!
//! Receivers expire an activity on their own: the web client (`UserAction.ts`) drops it
//! 15 s after the last notification (`TIMEOUT = 15000`) and renews its own every
//! `TIMEOUT / 3` = 5 s. [`DEFAULT_TYPING_REFRESH`] follows the web client, so a bot
//! that stalls for a moment never flickers, and a crashed one disappears within 15 s.
//!
//! Legacy `<rid>/typing` (`[username, bool]`): 6.0 bridged it both ways to
//! `user-activity` and later versions removed it (7.x/8.x accept only `user-activity`),
//! so a `user-activity` write reaches every client of every supported server. The legacy
//! form only helps servers older than 4.0, which had no `user-activity` event:
//! [`RealtimeTyping::with_legacy_typing`] adds it, [`needs_legacy_typing`] tells from
//! `GET /api/info`'s version whether a server is one of them.
//!
//! [`TypingIndicator`] reference-counts per room and thread: two replies produced at the
//! same time in one room show one indicator, which stops when the last one ends. Each
//! holder gets a [`TypingGuard`]; dropping it (error, abort, cancelled future) stops the
//! indicator too.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::ddp::connection::CallError;
use crate::ddp::realtime::RealtimeHandle;
use crate::ddp::stream::NOTIFY_ROOM;

/// How often an active indicator is sent again (the web client's renew interval).
pub const DEFAULT_TYPING_REFRESH: Duration = Duration::from_secs(5);

/// The future a [`TypingSink`] returns.
pub type TypingFuture<'a> = Pin<Box<dyn Future<Output = Result<(), TypingError>> + Send + 'a>>;

/// A typing notification that could not be sent (logged, never fatal to a reply).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("typing notification failed: {0}")]
pub struct TypingError(pub String);

/// Where typing notifications go; the account implements it over its realtime connection.
pub trait TypingSink: Send + Sync {
    /// Show (`active`) or clear the bot's typing indicator in room `rid`, thread `tmid`.
    fn set_typing<'a>(
        &'a self,
        rid: &'a str,
        tmid: Option<&'a str>,
        active: bool,
    ) -> TypingFuture<'a>;
}

/// Whether a server (version as `GET /api/info` reports it, e.g. `"8.3"`) predates the
/// `user-activity` event (Rocket.Chat < 4.0) and so needs the legacy `<rid>/typing` form.
/// Unparseable versions answer `false`.
pub fn needs_legacy_typing(version: &str) -> bool {
    version
        .trim()
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .is_some_and(|major| major < 4)
}

/// [`TypingSink`] over the account's [`RealtimeHandle`], as the bot's `username`.
pub struct RealtimeTyping {
    handle: Arc<RealtimeHandle>,
    username: String,
    legacy: bool,
    /// Set when the server refused a notification for rate limiting: none is sent before
    /// then. Typing writes share the bot's per-user DDP budget with its subscriptions, so
    /// insisting would only keep the limit tripped.
    paused_until: Mutex<Option<tokio::time::Instant>>,
}

impl RealtimeTyping {
    /// Typing as `username` (the server drops notifications for any other name).
    pub fn new(handle: Arc<RealtimeHandle>, username: impl Into<String>) -> Self {
        RealtimeTyping {
            handle,
            username: username.into(),
            legacy: false,
            paused_until: Mutex::new(None),
        }
    }

    /// Also send the legacy `<rid>/typing` event (servers before 4.0 only; see the module docs).
    pub fn with_legacy_typing(mut self, on: bool) -> Self {
        self.legacy = on;
        self
    }
}

impl TypingSink for RealtimeTyping {
    fn set_typing<'a>(
        &'a self,
        rid: &'a str,
        tmid: Option<&'a str>,
        active: bool,
    ) -> TypingFuture<'a> {
        Box::pin(async move {
            let now = tokio::time::Instant::now();
            if lock(&self.paused_until).is_some_and(|until| now < until) {
                return Ok(()); // said once, when the pause began
            }
            if let Err(e) = self
                .handle
                .set_typing(rid, &self.username, active, tmid)
                .await
            {
                if let CallError::Server(err) = &e {
                    if err.is_text_code("too-many-requests") {
                        let wait = Duration::from_millis(err.time_to_reset_ms().unwrap_or(1000));
                        *lock(&self.paused_until) = Some(now + wait);
                    }
                }
                return Err(TypingError(e.to_string()));
            }
            if self.legacy {
                self.handle
                    .call(
                        NOTIFY_ROOM,
                        vec![
                            json!(format!("{rid}/typing")),
                            json!(self.username),
                            json!(active),
                        ],
                    )
                    .await
                    .map_err(|e| TypingError(e.to_string()))?;
            }
            Ok(())
        })
    }
}

type Key = (String, Option<String>);

struct Active {
    holders: usize,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

struct Inner {
    sink: Option<Arc<dyn TypingSink>>,
    refresh: Duration,
    active: Mutex<HashMap<Key, Active>>,
    /// One lock per room/thread, held by its refresh task from the first start to the
    /// final stop, so a new indicator never overtakes the previous one's stop.
    order: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<()>>>>,
}

/// Shows the bot typing in a room while at least one [`TypingGuard`] for it is alive.
/// Cheap to clone.
#[derive(Clone)]
pub struct TypingIndicator {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TypingIndicator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypingIndicator")
            .field("enabled", &self.inner.sink.is_some())
            .field("refresh", &self.inner.refresh)
            .finish_non_exhaustive()
    }
}

impl TypingIndicator {
    /// Typing through `sink` (none: a no-op indicator), sent again every `refresh`.
    pub fn new(sink: Option<Arc<dyn TypingSink>>, refresh: Duration) -> Self {
        TypingIndicator {
            inner: Arc::new(Inner {
                sink,
                refresh: refresh.max(Duration::from_millis(100)),
                active: Mutex::default(),
                order: Mutex::default(),
            }),
        }
    }

    /// An indicator that sends nothing.
    pub fn disabled() -> Self {
        Self::new(None, DEFAULT_TYPING_REFRESH)
    }

    /// Start (or join) the indicator in `rid` / thread `tmid`. Must be called inside a
    /// Tokio runtime.
    pub fn start(&self, rid: &str, tmid: Option<&str>) -> TypingGuard {
        let Some(sink) = self.inner.sink.clone() else {
            return TypingGuard {
                inner: None,
                key: None,
            };
        };
        let key: Key = (rid.to_owned(), tmid.map(str::to_owned));
        let mut active = lock(&self.inner.active);
        match active.get_mut(&key) {
            Some(a) => a.holders += 1,
            None => {
                let (stop_tx, stop_rx) = oneshot::channel();
                let order = {
                    let mut order = lock(&self.inner.order);
                    order.retain(|_, l| Arc::strong_count(l) > 1);
                    order.entry(key.clone()).or_default().clone()
                };
                let task = tokio::spawn(refresh_loop(
                    sink,
                    key.clone(),
                    self.inner.refresh,
                    stop_rx,
                    order,
                ));
                active.insert(
                    key.clone(),
                    Active {
                        holders: 1,
                        stop: Some(stop_tx),
                        task: Some(task),
                    },
                );
            }
        }
        TypingGuard {
            inner: Some(self.inner.clone()),
            key: Some(key),
        }
    }
}

/// Keeps the typing indicator of one room/thread on; see [`TypingIndicator`].
#[must_use = "typing stops when the guard is dropped"]
pub struct TypingGuard {
    inner: Option<Arc<Inner>>,
    key: Option<Key>,
}

impl std::fmt::Debug for TypingGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypingGuard")
            .field("key", &self.key)
            .finish()
    }
}

impl TypingGuard {
    /// Release this hold; when it was the last one, wait until the stop notification
    /// has been sent (or failed).
    pub async fn stop(mut self) {
        if let Some(task) = self.release() {
            let _ = task.await;
        }
    }

    fn release(&mut self) -> Option<JoinHandle<()>> {
        let inner = self.inner.take()?;
        let key = self.key.take()?;
        let mut active = lock(&inner.active);
        let a = active.get_mut(&key)?;
        a.holders -= 1;
        if a.holders > 0 {
            return None;
        }
        let mut a = active.remove(&key)?;
        if let Some(stop) = a.stop.take() {
            let _ = stop.send(());
        }
        a.task.take()
    }
}

impl Drop for TypingGuard {
    fn drop(&mut self) {
        // The refresh task sends the stop notification on its own.
        let _ = self.release();
    }
}

async fn refresh_loop(
    sink: Arc<dyn TypingSink>,
    (rid, tmid): Key,
    refresh: Duration,
    mut stop: oneshot::Receiver<()>,
    order: Arc<tokio::sync::Mutex<()>>,
) {
    let _turn = order.lock().await;
    loop {
        if let Err(e) = sink.set_typing(&rid, tmid.as_deref(), true).await {
            tracing::debug!(%rid, error = %e, "typing start not sent");
        }
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(refresh) => {}
        }
    }
    if let Err(e) = sink.set_typing(&rid, tmid.as_deref(), false).await {
        tracing::debug!(%rid, error = %e, "typing stop not sent");
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<(String, Option<String>, bool)>>);

    impl TypingSink for Recorder {
        fn set_typing<'a>(
            &'a self,
            rid: &'a str,
            tmid: Option<&'a str>,
            active: bool,
        ) -> TypingFuture<'a> {
            lock(&self.0).push((rid.to_owned(), tmid.map(str::to_owned), active));
            Box::pin(async { Ok(()) })
        }
    }

    #[test]
    fn legacy_typing_only_before_4() {
        assert!(needs_legacy_typing("3.18.7"));
        assert!(!needs_legacy_typing("4.0"));
        assert!(!needs_legacy_typing("6.13"));
        assert!(!needs_legacy_typing("8.3"));
        assert!(!needs_legacy_typing("garbage"));
    }

    /// Polls `cond` until it holds; panics after 10 s (a loaded machine is slow, not wrong).
    async fn until(what: &str, cond: impl Fn() -> bool) {
        let end = std::time::Instant::now() + Duration::from_secs(10);
        while !cond() {
            assert!(std::time::Instant::now() < end, "timed out waiting: {what}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test]
    async fn refreshes_until_the_last_holder_stops() {
        let rec = Arc::new(Recorder::default());
        let ind = TypingIndicator::new(Some(rec.clone()), Duration::from_millis(100));
        let starts = || lock(&rec.0).iter().filter(|s| s.2).count();
        let stops = || lock(&rec.0).iter().filter(|s| !s.2).count();
        let a = ind.start("R", Some("T"));
        let b = ind.start("R", Some("T"));
        until("a refresh while both hold it", || starts() >= 2).await;
        a.stop().await; // not the last holder: typing goes on
        let after_a = starts();
        until("a refresh after the first holder stopped", || {
            starts() > after_a
        })
        .await;
        assert_eq!(stops(), 0, "{:?}", lock(&rec.0));
        b.stop().await; // the last one: returns once the refresh task sent the stop and ended
        let seen = lock(&rec.0).clone();
        assert_eq!(seen.last(), Some(&("R".into(), Some("T".into()), false)));
        assert_eq!(stops(), 1, "{seen:?}");
        assert!(seen
            .iter()
            .all(|s| s.0 == "R" && s.1.as_deref() == Some("T")));
    }

    #[tokio::test]
    async fn dropping_the_guard_stops_typing() {
        let rec = Arc::new(Recorder::default());
        let ind = TypingIndicator::new(Some(rec.clone()), Duration::from_secs(5));
        drop(ind.start("R", None));
        until("the stop after the drop", || lock(&rec.0).len() >= 2).await;
        assert_eq!(
            lock(&rec.0).clone(),
            vec![("R".into(), None, true), ("R".into(), None, false)]
        );
    }
}
