//! The reader task of a [`Connection`](super::Connection): reads the socket, answers pings,
//! resolves calls, runs the watchdog, and hands stream events on along the caller's
//! [`EventRoute`] (backpressure as the module docs of `connection` describe).

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use futures_util::stream::SplitStream;
use futures_util::StreamExt;
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::{
    explain_read_error, finish, handle_text, now_ms, ClientFrame, ConnectionConfig,
    DisconnectReason, EventRoute, Shared, Ws,
};

/// How many more events a held route may park than a released one before reading stops:
/// while the caller logs in and subscribes, the streams already deliver, and stopping the
/// reads then would also stop the `ready` answers it waits for.
const HELD_SLACK: usize = 8;

/// The reader task: runs until the connection ends, then fails what still waits.
pub(super) async fn run<T: Send + 'static>(
    shared: Arc<Shared>,
    stream: SplitStream<Ws>,
    mut route: EventRoute<T>,
    config: ConnectionConfig,
    writer_stop: Arc<Notify>,
) {
    let mut parked = VecDeque::new();
    let mut reader = Reader {
        shared: &shared,
        config: &config,
        held: route.held,
        consumer_gone: false,
    };
    let reason = reader.read(stream, &mut route, &mut parked).await;
    tracing::info!(%reason, "ddp connection ended");
    // Events received before the end are still chat messages: hand them over before
    // announcing the end, so a consumer that drains after `closed()` sees them all. Bounded,
    // because a consumer that stopped reading must not keep us here. Events still held were
    // never released: the session they belong to never started (its catch-up brings them).
    if reason != DisconnectReason::ClosedByUs && !reader.held && !parked.is_empty() {
        let flush = async {
            for event in parked.drain(..) {
                if route.tx.send(event).await.is_err() {
                    break;
                }
            }
        };
        if tokio::time::timeout(config.idle_timeout, flush)
            .await
            .is_err()
        {
            tracing::warn!("ddp events dropped at disconnect: consumer not reading");
        }
    }
    finish(&shared, reason);
    writer_stop.notify_one();
}

struct Reader<'a> {
    shared: &'a Shared,
    config: &'a ConnectionConfig,
    /// Events wait in `parked` until the caller releases them.
    held: bool,
    consumer_gone: bool,
}

impl Reader<'_> {
    async fn read<T>(
        &mut self,
        mut stream: SplitStream<Ws>,
        route: &mut EventRoute<T>,
        parked: &mut VecDeque<T>,
    ) -> DisconnectReason {
        let (shared, config) = (self.shared, self.config);
        let mut last_rx = Instant::now();
        let mut ping_timer =
            tokio::time::interval_at(Instant::now() + config.ping_interval, config.ping_interval);
        ping_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut ping_seq: u64 = 0;
        let mut was_stalled = false;
        // One timer for the whole connection, armed for `last_rx + idle_timeout` only when it
        // fires: moving it at every frame would cost a timer-wheel update per message.
        let watchdog = tokio::time::sleep_until(last_rx + config.idle_timeout);
        tokio::pin!(watchdog);
        // Registered once too: a fresh `notified()` per frame would lock the waiter list twice.
        let close = shared.close_requested.notified();
        tokio::pin!(close);
        let release = shared.release_events.notified();
        tokio::pin!(release);
        loop {
            let limit = config.max_buffered_events.max(1) * if self.held { HELD_SLACK } else { 1 };
            let stalled = parked.len() >= limit;
            if stalled {
                if !was_stalled {
                    shared.stalls.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        parked = parked.len(),
                        "ddp event consumer is slow; pausing socket reads (backpressure)"
                    );
                }
                // Our own pause is not server silence: restart the watchdog from now.
                last_rx = Instant::now();
            }
            was_stalled = stalled;
            tokio::select! {
                biased;
                _ = &mut close => {
                    let write_error = shared.write_error.lock().unwrap_or_else(|p| p.into_inner()).take();
                    return match write_error {
                        Some(e) => DisconnectReason::Io(e),
                        None => DisconnectReason::ClosedByUs,
                    };
                }
                _ = &mut release, if self.held => self.held = false,
                permit = route.tx.reserve(), if !parked.is_empty() && !self.held => match permit {
                    Ok(permit) => {
                        if let Some(event) = parked.pop_front() {
                            permit.send(event);
                        }
                    }
                    Err(_) => {
                        // Nobody listens any more; keep serving calls, stop queueing events.
                        self.consumer_gone = true;
                        parked.clear();
                    }
                },
                msg = stream.next(), if !stalled => {
                    let msg = match msg {
                        None => return DisconnectReason::Closed { code: None, reason: "stream ended".into() },
                        Some(Err(e)) => return DisconnectReason::Io(explain_read_error(&e)),
                        Some(Ok(msg)) => msg,
                    };
                    last_rx = Instant::now();
                    shared.last_frame_ms.store(now_ms(), Ordering::Relaxed);
                    match msg {
                        Message::Text(text) => {
                            shared.frames.fetch_add(1, Ordering::Relaxed);
                            if let Some(event) = handle_text(shared, &text) {
                                if !self.consumer_gone {
                                    if let Some(event) = (route.map)(event) {
                                        self.hand_on(&route.tx, parked, event);
                                    }
                                }
                            }
                        }
                        Message::Close(frame) => {
                            return DisconnectReason::Closed {
                                code: frame.as_ref().map(|f| u16::from(f.code)),
                                reason: frame.map(|f| f.reason.to_string()).unwrap_or_default(),
                            }
                        }
                        // WebSocket-level pings are answered by tungstenite itself; DDP does not
                        // use binary frames.
                        _ => {}
                    }
                }
                _ = ping_timer.tick() => {
                    ping_seq += 1;
                    shared.send(&ClientFrame::Ping { id: Some(format!("p{ping_seq}")) });
                }
                _ = &mut watchdog, if !stalled => {
                    let deadline = last_rx + config.idle_timeout;
                    if deadline <= Instant::now() {
                        return DisconnectReason::IdleTimeout(config.idle_timeout);
                    }
                    // Frames came since the timer was armed: wait out the rest from the last one.
                    watchdog.as_mut().reset(deadline);
                }
            }
        }
    }

    /// Pass an event on at once when the channel has room, in order behind any already
    /// parked; park it otherwise, or while held (the loop sends parked events as room appears).
    fn hand_on<T>(&mut self, tx: &mpsc::Sender<T>, parked: &mut VecDeque<T>, event: T) {
        if self.held || !parked.is_empty() {
            parked.push_back(event);
            return;
        }
        match tx.try_send(event) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(event)) => parked.push_back(event),
            Err(mpsc::error::TrySendError::Closed(_)) => self.consumer_gone = true,
        }
    }
}
