//! The core's own log lines (`tracing` events of this crate: 429 waits, backpressure stalls,
//! catch-up retries, the insecure-TLS warning) as `log` events on the host's queue.
//!
//! A [`LogSink`] is the thread default on every runtime thread of its core (so two cores in
//! one process, or a host with its own `tracing` setup, never see each other's lines). Lines
//! are rate-limited: past [`BURST`] lines within a second the rest are counted, and the next
//! line that gets through says how many were left out, so a storm cannot flood the queue.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event as TracingEvent, Level, Metadata, Subscriber};

use crate::event::{Event, LogLevel};
use crate::event_queue::EventQueue;

/// Lines per second let through before the rest are counted.
pub const BURST: u32 = 20;

/// Only this crate's lines: dependencies' debug chatter is not the host's business.
const TARGET_PREFIX: &str = "openclaw_rocketchat";

/// Turns `tracing` events into `log` events of one queue.
pub struct LogSink {
    queue: Arc<EventQueue>,
    max: Level,
    window: Mutex<Window>,
}

struct Window {
    started: Instant,
    passed: u32,
    suppressed: u64,
}

impl LogSink {
    /// A sink for `queue` passing `level` and more severe.
    pub fn new(queue: Arc<EventQueue>, level: LogLevel) -> LogSink {
        LogSink {
            queue,
            max: to_tracing(level),
            window: Mutex::new(Window {
                started: Instant::now(),
                passed: 0,
                suppressed: 0,
            }),
        }
    }

    /// Whether a line may pass now; `Some(n)` with the lines left out before it.
    fn admit(&self) -> Option<u64> {
        let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
        if w.started.elapsed() >= Duration::from_secs(1) {
            w.started = Instant::now();
            w.passed = 0;
        }
        if w.passed >= BURST {
            w.suppressed += 1;
            return None;
        }
        w.passed += 1;
        Some(std::mem::take(&mut w.suppressed))
    }
}

fn to_tracing(level: LogLevel) -> Level {
    match level {
        LogLevel::Error => Level::ERROR,
        LogLevel::Warn => Level::WARN,
        LogLevel::Info => Level::INFO,
        LogLevel::Debug => Level::DEBUG,
        LogLevel::Trace => Level::TRACE,
    }
}

fn from_tracing(level: &Level) -> LogLevel {
    match *level {
        Level::ERROR => LogLevel::Error,
        Level::WARN => LogLevel::Warn,
        Level::INFO => LogLevel::Info,
        Level::DEBUG => LogLevel::Debug,
        _ => LogLevel::Trace,
    }
}

/// Collects an event's message and fields as one line: `message key=value …`.
#[derive(Default)]
struct Line(String, String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.1, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.1, " {}={value}", field.name());
        }
    }
}

impl Subscriber for LogSink {
    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        *meta.level() <= self.max && meta.target().starts_with(TARGET_PREFIX)
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::from_level(self.max))
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &TracingEvent<'_>) {
        let Some(suppressed) = self.admit() else {
            return;
        };
        let mut line = Line::default();
        event.record(&mut line);
        let mut message = line.0 + &line.1;
        if suppressed > 0 {
            let _ = write!(
                message,
                " ({suppressed} earlier log lines left out: too many at once)"
            );
        }
        self.queue.push(
            None,
            Event::Log {
                level: from_tracing(event.metadata().level()),
                message,
            },
        );
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// Make `sink` the `tracing` default of the calling thread, for as long as the
/// thread lives (called from each runtime thread as it starts).
pub fn enter_thread(sink: &tracing::Dispatch) {
    // The guard would restore the previous default when dropped; a runtime thread keeps
    // this one until it ends.
    std::mem::forget(tracing::dispatcher::set_default(sink));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(queue: &EventQueue) -> Vec<String> {
        std::iter::from_fn(|| queue.try_next())
            .map(|e| match e.event {
                Event::Log { message, level } => format!("{level:?}: {message}"),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_storm_is_cut_and_the_cut_is_reported_with_the_next_line() {
        let queue = Arc::new(EventQueue::new(1000));
        let sink = Arc::new(LogSink::new(queue.clone(), LogLevel::Warn));
        let dispatch = tracing::Dispatch::from(sink.clone());
        tracing::dispatcher::with_default(&dispatch, || {
            tracing::info!("not at warn");
            for i in 0..(BURST + 30) {
                tracing::warn!(attempt = i, "rate limited");
            }
        });
        let first = lines(&queue);
        assert_eq!(first.len(), BURST as usize, "{first:?}");
        assert_eq!(first[0], "Warn: rate limited attempt=0");
        // A second later the next line passes and says what was left out.
        sink.window.lock().unwrap().started -= Duration::from_secs(2);
        tracing::dispatcher::with_default(&dispatch, || tracing::error!("reconnecting"));
        assert_eq!(
            lines(&queue),
            ["Error: reconnecting (30 earlier log lines left out: too many at once)"]
        );
    }
}
