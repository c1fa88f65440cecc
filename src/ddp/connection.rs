//! One live DDP connection over a WebSocket: handshake, method calls, subscriptions,
//! heartbeats, the idle watchdog, and stream events delivered on a channel ([`EventRoute`]).
//!
//! Two tasks per connection:
//! - the **reader** reads the socket, answers server pings, resolves calls and subscriptions,
//!   sends our own pings, runs the watchdog, and pushes stream events to the caller
//!   (`connection_reader.rs`);
//! - the **writer** owns the socket's write half and sends whatever is queued for it, so a
//!   caller never waits on a socket write while holding anything the reader needs.
//!
//! # Slow consumers: backpressure, not loss
//!
//! Stream events go to a bounded `mpsc` channel supplied by the caller. Dropping events when
//! it is full would lose chat messages, so the reader applies backpressure instead, in two
//! steps:
//! 1. While the channel is full the reader keeps reading the socket, handles every control
//!    frame at once (`ping` → `pong`, `result`, `ready`, `nosub`), and parks stream events
//!    in a small local queue (`max_buffered_events`).
//! 2. When that queue is full too, the reader stops reading the socket (TCP pushes back on
//!    the server), logs a warning and counts a stall in [`ConnectionStats::event_stalls`].
//!    The watchdog is suspended during a stall (the silence is ours, not the server's), and
//!    our own pings keep going out: Meteor resets its heartbeat timer on *any* inbound frame,
//!    so the server does not drop us while we catch up. Server pings are answered late in
//!    this state; a consumer stuck for longer than the server's heartbeat timeout (~30 s)
//!    is a bug that a disconnect + catch-up then repairs.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{
    connect_async_tls_with_config, Connector, MaybeTlsStream, WebSocketStream,
};

use super::frame::{offending_summary, ClientFrame, DdpError, ServerFrame};
use super::stream::{StreamEvent, ROOM_MESSAGES};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Largest DDP message we accept (after reassembling fragments). Rocket.Chat frames are a few
/// KiB (a message is capped at `Message_MaxAllowedSize`, 5000 characters by default; method
/// results such as `rooms/get` stay well below a MiB); tungstenite's default (64 MiB) would let
/// a broken or hostile server make us buffer and parse huge frames. Bigger frames close the
/// connection ("the server sent a message of 12.0 MiB, over the 8 MiB limit (message too
/// long)"), and the supervisor reconnects.
pub const MAX_MESSAGE_BYTES: usize = 8 << 20;

/// Largest single WebSocket frame we accept.
pub const MAX_FRAME_BYTES: usize = MAX_MESSAGE_BYTES;

/// Timers and limits of one connection.
#[derive(Clone, Debug)]
pub struct ConnectionConfig {
    /// How often we send our own `ping` (default 25 s: below Meteor's 30 s idle close, so
    /// the server never needs to ping us).
    pub ping_interval: Duration,
    /// Close the socket when nothing at all was received for this long (default 60 s). With
    /// pings every `ping_interval` a live server always answers well within it, so hitting
    /// it means a half-open socket.
    pub idle_timeout: Duration,
    /// Limit for the WebSocket connect plus the DDP handshake (default 15 s); never more
    /// than `idle_timeout`.
    pub connect_timeout: Duration,
    /// Stream events parked while the event channel is full, before reading stops.
    pub max_buffered_events: usize,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            ping_interval: Duration::from_secs(25),
            idle_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(15),
            max_buffered_events: 256,
        }
    }
}

/// Why a connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The server closed the WebSocket (or the stream ended).
    Closed {
        /// The WebSocket close code, when there was a close frame.
        code: Option<u16>,
        /// The close reason text.
        reason: String,
    },
    /// Nothing was received for this long: the watchdog closed a (probably half-open) socket.
    IdleTimeout(Duration),
    /// A network or protocol error on the socket.
    Io(String),
    /// [`Connection::close`] was called (or every handle was dropped).
    ClosedByUs,
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisconnectReason::Closed {
                code: Some(code),
                reason,
            } => write!(f, "closed by server ({code} {reason})"),
            DisconnectReason::Closed { code: None, reason } => {
                write!(f, "closed by server ({reason})")
            }
            DisconnectReason::IdleTimeout(d) => {
                write!(f, "nothing received for {} ms", d.as_millis())
            }
            DisconnectReason::Io(e) => write!(f, "socket error: {e}"),
            DisconnectReason::ClosedByUs => f.write_str("closed locally"),
        }
    }
}

/// Where the reader hands stream events: a bounded channel of the caller's type, and what each
/// event becomes on it (`None`: nothing to hand on). Mapping in the reader spares a task in
/// between, which for a bot in busy rooms is a wake-up per message.
pub struct EventRoute<T> {
    /// The channel (its capacity and the connection's `max_buffered_events` set the
    /// backpressure).
    pub tx: mpsc::Sender<T>,
    /// Turns a stream event into what `tx` carries; runs on the reader, in arrival order.
    pub map: Box<dyn FnMut(StreamEvent) -> Option<T> + Send>,
    /// Events wait in the connection until [`Connection::release_events`]: the caller has
    /// first things to say on the same channel (that the login and subscriptions are done).
    /// Events still held when the connection ends are dropped with it.
    pub held: bool,
}

impl EventRoute<StreamEvent> {
    /// Every stream event as it is, at once.
    pub fn plain(tx: mpsc::Sender<StreamEvent>) -> Self {
        EventRoute {
            tx,
            map: Box::new(Some),
            held: false,
        }
    }
}

/// Why [`Connection::connect`] failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// The WebSocket could not be opened (DNS, TCP, TLS, HTTP upgrade).
    #[error("websocket connect failed: {0}")]
    WebSocket(String),
    /// The server refused our DDP version (`failed`).
    #[error("server refused DDP version 1 (it proposes {server_version:?})")]
    VersionRejected {
        /// The version the server proposed.
        server_version: Option<String>,
    },
    /// The socket closed before `connected`.
    #[error("connection closed during the DDP handshake: {0}")]
    Closed(String),
    /// No `connected` within the connect timeout.
    #[error("no DDP handshake within {0:?}")]
    Timeout(Duration),
}

/// Why a method call failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CallError {
    /// There is no live connection (realtime handle between connections).
    #[error("not connected")]
    NotConnected,
    /// The connection ended before the result arrived.
    #[error("disconnected: {0}")]
    Disconnected(DisconnectReason),
    /// No result within the timeout.
    #[error("no result within {0:?}")]
    Timeout(Duration),
    /// The method threw a Meteor.Error.
    #[error("server error: {0}")]
    Server(DdpError),
    /// The server's `result` frame was malformed.
    #[error("malformed result: {0}")]
    Protocol(String),
}

/// Why a subscription failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SubError {
    /// The connection ended before `ready`.
    #[error("disconnected: {0}")]
    Disconnected(DisconnectReason),
    /// No `ready` within the timeout.
    #[error("no ready within {0:?}")]
    Timeout(Duration),
    /// The server answered `nosub` (not allowed, not found, rate limited).
    #[error("subscription refused: {}", .0.as_ref().map(|e| e.to_string()).unwrap_or_else(|| "no reason".into()))]
    NoSub(Option<DdpError>),
}

/// Counters for status reporting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnectionStats {
    /// Text frames received.
    pub frames_received: u64,
    /// Frames that could not be parsed (logged and skipped).
    pub malformed_frames: u64,
    /// Times reading stopped because the event consumer was too slow.
    pub event_stalls: u64,
}

type CallReply = oneshot::Sender<Result<Option<Value>, CallError>>;
type SubReply = oneshot::Sender<Result<(), SubError>>;

#[derive(Default)]
struct Pending {
    calls: HashMap<String, CallReply>,
    subs: HashMap<String, SubReply>,
    /// Subscriptions this side ended: the server's `nosub` for them is the expected answer.
    unsubscribed: HashSet<String>,
    /// Set once, when the reader ends; checked under the same lock as the inserts so a call
    /// can never be registered after the final drain (it would wait for its whole timeout).
    closed: Option<DisconnectReason>,
}

struct Shared {
    out: mpsc::UnboundedSender<Message>,
    pending: Mutex<Pending>,
    next_id: AtomicU64,
    last_frame_ms: AtomicU64,
    frames: AtomicU64,
    malformed: AtomicU64,
    stalls: AtomicU64,
    close_requested: Notify,
    /// Ends the hold of an [`EventRoute`] made with `held` (a permit, so never missed).
    release_events: Notify,
    write_error: Mutex<Option<String>>,
    closed_tx: watch::Sender<Option<DisconnectReason>>,
    session: String,
}

impl Shared {
    fn pending(&self) -> MutexGuard<'_, Pending> {
        // A poisoned lock only means another thread panicked mid-update; the maps are still
        // usable, and refusing to continue would turn one bug into a dead connection.
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn send(&self, frame: &ClientFrame) {
        // Fails only once the writer is gone, i.e. the connection is closing anyway.
        let _ = self.out.send(Message::text(frame.to_text()));
    }
}

/// Tells the tasks to stop when the last [`Connection`] clone is dropped; the tasks
/// themselves hold only `Shared`, so they do not keep the connection alive.
struct CloseOnDrop(Arc<Shared>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.close_requested.notify_one();
    }
}

/// A live DDP connection. Cheap to clone; the socket closes when [`Connection::close`] is
/// called or the last clone is dropped.
#[derive(Clone)]
pub struct Connection {
    shared: Arc<Shared>,
    _guard: Arc<CloseOnDrop>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("session", &self.shared.session)
            .finish_non_exhaustive()
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Connection {
    /// Open the WebSocket at `url` (`ws://` or `wss://…/websocket`), run the DDP handshake
    /// (`connect` → `connected`; `failed` is an error) and start the reader and writer.
    ///
    /// `tls` is the shared rustls config; it is required for `wss://` (without it
    /// tokio-tungstenite would use an empty root store). Stream events go to `events`.
    pub async fn connect(
        url: &str,
        tls: Option<Arc<rustls::ClientConfig>>,
        config: ConnectionConfig,
        events: mpsc::Sender<StreamEvent>,
    ) -> Result<Connection, ConnectError> {
        Self::connect_routed(url, tls, config, EventRoute::plain(events)).await
    }

    /// [`Connection::connect`], with stream events handed on along `route`.
    pub async fn connect_routed<T: Send + 'static>(
        url: &str,
        tls: Option<Arc<rustls::ClientConfig>>,
        config: ConnectionConfig,
        route: EventRoute<T>,
    ) -> Result<Connection, ConnectError> {
        // A server that accepts the socket but never answers the handshake is as dead as a
        // half-open established socket: give up once it was silent as long as the watchdog
        // allows (with the defaults, 60 s, the connect timeout is the tighter bound).
        let limit = config.connect_timeout.min(config.idle_timeout);
        let (sink, stream, session) = tokio::time::timeout(limit, handshake(url, tls))
            .await
            .map_err(|_| ConnectError::Timeout(limit))??;
        let (out_tx, out_rx) = mpsc::unbounded_channel();
        let (closed_tx, _) = watch::channel(None);
        let shared = Arc::new(Shared {
            out: out_tx,
            pending: Mutex::new(Pending::default()),
            next_id: AtomicU64::new(1),
            last_frame_ms: AtomicU64::new(now_ms()),
            frames: AtomicU64::new(0),
            malformed: AtomicU64::new(0),
            stalls: AtomicU64::new(0),
            close_requested: Notify::new(),
            release_events: Notify::new(),
            write_error: Mutex::new(None),
            closed_tx,
            session,
        });
        let writer_stop = Arc::new(Notify::new());
        tokio::spawn(writer_loop(
            sink,
            out_rx,
            Arc::clone(&shared),
            Arc::clone(&writer_stop),
        ));
        tokio::spawn(reader::run(
            Arc::clone(&shared),
            stream,
            route,
            config,
            writer_stop,
        ));
        Ok(Connection {
            _guard: Arc::new(CloseOnDrop(Arc::clone(&shared))),
            shared,
        })
    }

    /// The server's DDP session id.
    pub fn session(&self) -> &str {
        &self.shared.session
    }

    /// Call a method and wait for its `result` (`updated` is not awaited: it may come before
    /// or after, and a bot never needs the write fence). `Ok(None)` means the server omitted
    /// `result` (the method returned `undefined`).
    pub async fn call(
        &self,
        method: &str,
        params: Vec<Value>,
        timeout: Duration,
    ) -> Result<Option<Value>, CallError> {
        let id = self.next_id();
        let (tx, rx) = oneshot::channel();
        {
            let mut pending = self.shared.pending();
            if let Some(reason) = &pending.closed {
                return Err(CallError::Disconnected(reason.clone()));
            }
            pending.calls.insert(id.clone(), tx);
        }
        self.shared.send(&ClientFrame::Method {
            id: id.clone(),
            method: method.to_owned(),
            params,
        });
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err(CallError::Disconnected(self.closed_reason())),
            Err(_) => {
                self.shared.pending().calls.remove(&id);
                Err(CallError::Timeout(timeout))
            }
        }
    }

    /// Subscribe and wait for `ready`; `nosub` is an error. Returns the subscription id
    /// (for [`Connection::unsubscribe`]).
    pub async fn subscribe(
        &self,
        name: &str,
        params: Vec<Value>,
        timeout: Duration,
    ) -> Result<String, SubError> {
        let id = self.next_id();
        let (tx, rx) = oneshot::channel();
        {
            let mut pending = self.shared.pending();
            if let Some(reason) = &pending.closed {
                return Err(SubError::Disconnected(reason.clone()));
            }
            pending.subs.insert(id.clone(), tx);
        }
        self.shared.send(&ClientFrame::Sub {
            id: id.clone(),
            name: name.to_owned(),
            params,
        });
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(outcome)) => outcome.map(|()| id),
            Ok(Err(_)) => Err(SubError::Disconnected(self.closed_reason())),
            Err(_) => {
                self.shared.pending().subs.remove(&id);
                Err(SubError::Timeout(timeout))
            }
        }
    }

    /// End a subscription (fire and forget; the server acknowledges with a bare `nosub`).
    pub fn unsubscribe(&self, id: &str) {
        self.shared.pending().unsubscribed.insert(id.to_owned());
        self.shared.send(&ClientFrame::Unsub { id: id.to_owned() });
    }

    /// Start handing on the stream events of a route made with `held`, those parked first.
    pub fn release_events(&self) {
        self.shared.release_events.notify_one();
    }

    /// Close the socket. Pending calls fail with [`DisconnectReason::ClosedByUs`].
    pub fn close(&self) {
        self.shared.close_requested.notify_one();
    }

    /// True once the connection has ended.
    pub fn is_closed(&self) -> bool {
        self.shared.closed_tx.borrow().is_some()
    }

    /// Wait until the connection ends and say why. Stream events received before the end
    /// are already in the event channel when this returns.
    pub async fn closed(&self) -> DisconnectReason {
        let mut rx = self.shared.closed_tx.subscribe();
        let reason = match rx.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone(),
            Err(_) => None,
        };
        reason.unwrap_or(DisconnectReason::ClosedByUs)
    }

    /// Wall-clock time (epoch ms) of the last frame received, for REST catch-up after a gap.
    pub fn last_frame_at_ms(&self) -> u64 {
        self.shared.last_frame_ms.load(Ordering::Relaxed)
    }

    /// Counters for status reporting.
    pub fn stats(&self) -> ConnectionStats {
        ConnectionStats {
            frames_received: self.shared.frames.load(Ordering::Relaxed),
            malformed_frames: self.shared.malformed.load(Ordering::Relaxed),
            event_stalls: self.shared.stalls.load(Ordering::Relaxed),
        }
    }

    fn next_id(&self) -> String {
        self.shared
            .next_id
            .fetch_add(1, Ordering::Relaxed)
            .to_string()
    }

    fn closed_reason(&self) -> DisconnectReason {
        self.shared
            .pending()
            .closed
            .clone()
            .unwrap_or(DisconnectReason::ClosedByUs)
    }
}

/// A read error in the user's words: tungstenite says "Space limit exceeded: Message too
/// long: 12582987 > 8388608" for a frame over [`MAX_MESSAGE_BYTES`].
fn explain_read_error(e: &tokio_tungstenite::tungstenite::Error) -> String {
    use tokio_tungstenite::tungstenite::error::{CapacityError, Error};
    match e {
        Error::Capacity(CapacityError::MessageTooLong { size, max_size }) => format!(
            "the server sent a message of {:.1} MiB, over the {:.0} MiB limit (message too long)",
            *size as f64 / 1048576.0,
            *max_size as f64 / 1048576.0
        ),
        other => other.to_string(),
    }
}

/// Open the socket and run `connect` → `connected`.
async fn handshake(
    url: &str,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<(SplitSink<Ws, Message>, SplitStream<Ws>, String), ConnectError> {
    let connector = tls.map(Connector::Rustls);
    let limits = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_FRAME_BYTES));
    let (ws, _response) = connect_async_tls_with_config(url, Some(limits), true, connector)
        .await
        .map_err(|e| {
            ConnectError::WebSocket(crate::tls::explain(&e).unwrap_or_else(|| e.to_string()))
        })?;
    let (mut sink, mut stream) = ws.split();
    sink.send(Message::text(ClientFrame::connect().to_text()))
        .await
        .map_err(|e| ConnectError::WebSocket(e.to_string()))?;
    loop {
        let msg = match stream.next().await {
            None => return Err(ConnectError::Closed("stream ended".into())),
            Some(Err(e)) => return Err(ConnectError::Closed(e.to_string())),
            Some(Ok(msg)) => msg,
        };
        let text = match msg {
            Message::Text(t) => t,
            Message::Close(frame) => {
                return Err(ConnectError::Closed(
                    frame.map(|f| f.reason.to_string()).unwrap_or_default(),
                ))
            }
            _ => continue,
        };
        match ServerFrame::parse(text.as_str()) {
            Ok(ServerFrame::Connected { session }) => return Ok((sink, stream, session)),
            Ok(ServerFrame::Failed { version }) => {
                return Err(ConnectError::VersionRejected {
                    server_version: version,
                })
            }
            Ok(ServerFrame::Ping { id }) => {
                let _ = sink
                    .send(Message::text(ClientFrame::Pong { id }.to_text()))
                    .await;
            }
            // The `server_id` greeting, errors and anything else before `connected` carry
            // nothing we need.
            Ok(other) => tracing::debug!(?other, "ignored frame before connected"),
            Err(e) => tracing::warn!(error = %e, "malformed frame during handshake"),
        }
    }
}

async fn writer_loop(
    mut sink: SplitSink<Ws, Message>,
    mut rx: mpsc::UnboundedReceiver<Message>,
    shared: Arc<Shared>,
    stop: Arc<Notify>,
) {
    loop {
        tokio::select! {
            biased;
            _ = stop.notified() => break,
            msg = rx.recv() => {
                let Some(msg) = msg else { break };
                if let Err(e) = sink.send(msg).await {
                    *shared.write_error.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some(e.to_string());
                    shared.close_requested.notify_one();
                    break;
                }
            }
        }
    }
    // A polite close frame, but never wait long: on a half-open socket it cannot arrive
    // anyway, and dropping the sink (with the reader's half) closes the TCP connection.
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
}

/// Handle one text frame; returns a stream event to deliver, if it was one.
fn handle_text(shared: &Shared, frame: &Utf8Bytes) -> Option<StreamEvent> {
    let text = frame.as_str();
    // Room messages are nearly all the traffic: read them without building a JSON tree.
    match StreamEvent::from_frame(frame) {
        Some(Ok(event)) => return Some(event),
        Some(Err(e)) => {
            shared.malformed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %e, collection = ROOM_MESSAGES, "malformed stream event skipped");
            return None;
        }
        None => {}
    }
    let frame = match ServerFrame::parse(text) {
        Ok(frame) => frame,
        Err(e) => {
            shared.malformed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %e, "malformed ddp frame skipped");
            fail_malformed_result(shared, text, &e.to_string());
            return None;
        }
    };
    match frame {
        ServerFrame::Ping { id } => shared.send(&ClientFrame::Pong { id }),
        ServerFrame::Result { id, result, error } => {
            let reply = shared.pending().calls.remove(&id);
            match reply {
                Some(tx) => {
                    let _ = tx.send(match error {
                        Some(e) => Err(CallError::Server(e)),
                        None => Ok(result),
                    });
                }
                None => tracing::debug!(%id, "result for an unknown or timed-out call"),
            }
        }
        ServerFrame::Ready { subs } => {
            let mut pending = shared.pending();
            for id in subs {
                if let Some(tx) = pending.subs.remove(&id) {
                    let _ = tx.send(Ok(()));
                }
            }
        }
        ServerFrame::NoSub { id, error } => {
            let (reply, ours) = {
                let mut pending = shared.pending();
                let reply = pending.subs.remove(&id);
                let ours = reply.is_none() && pending.unsubscribed.remove(&id);
                (reply, ours)
            };
            match reply {
                Some(tx) => {
                    let _ = tx.send(Err(SubError::NoSub(error)));
                }
                None if ours => {
                    tracing::debug!(%id, "subscription ended as asked")
                }
                None => tracing::warn!(%id, ?error, "server ended a subscription"),
            }
        }
        ServerFrame::Changed {
            collection, fields, ..
        } => match StreamEvent::from_changed(&collection, fields) {
            Ok(event) => return event,
            Err(e) => {
                shared.malformed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, %collection, "malformed stream event skipped");
            }
        },
        ServerFrame::Error {
            reason,
            offending_message,
        } => {
            let offending = offending_message.as_ref().map(offending_summary);
            tracing::warn!(%reason, ?offending, "ddp error frame from server");
        }
        // `added` appears for `useCollection: true` subscriptions; `updated` is the write
        // fence we do not wait for; the rest carry nothing for us after the handshake.
        other => tracing::trace!(?other, "ignored ddp frame"),
    }
    None
}

/// A `result` frame we could not parse still names its call: fail that call now instead of
/// leaving it to time out.
fn fail_malformed_result(shared: &Shared, text: &str, error: &str) {
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return;
    };
    if value.get("msg").and_then(Value::as_str) != Some("result") {
        return;
    }
    let Some(id) = value.get("id").and_then(Value::as_str) else {
        return;
    };
    let reply = shared.pending().calls.remove(id);
    if let Some(tx) = reply {
        let _ = tx.send(Err(CallError::Protocol(error.to_owned())));
    }
}

/// Record the end of the connection and fail everything still waiting.
fn finish(shared: &Shared, reason: DisconnectReason) {
    let (calls, subs) = {
        let mut pending = shared.pending();
        pending.closed = Some(reason.clone());
        (
            std::mem::take(&mut pending.calls),
            std::mem::take(&mut pending.subs),
        )
    };
    for (_, tx) in calls {
        let _ = tx.send(Err(CallError::Disconnected(reason.clone())));
    }
    for (_, tx) in subs {
        let _ = tx.send(Err(SubError::Disconnected(reason.clone())));
    }
    shared.closed_tx.send_replace(Some(reason));
}

#[path = "connection_reader.rs"]
mod reader;

#[cfg(test)]
#[path = "connection_tests.rs"]
mod tests;
