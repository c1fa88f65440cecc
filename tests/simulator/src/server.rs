//! The HTTP server: one loopback port for DDP (`/websocket`), REST (`/api`), file downloads,
//! the control API (`/_sim`) and the chat view (`/view`). The listener can refuse connections
//! (a fault), and the server can be stopped and started again on the same port (a restart
//! keeps the state, as a real server keeps its database).

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::{Json, Router};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::faults::Faults;
use crate::store::Store;
use crate::time::now_ms;
use crate::SimConfig;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The server state.
    pub store: Arc<Store>,
    /// Armed faults.
    pub faults: Arc<Faults>,
    /// Start-up configuration.
    pub config: Arc<SimConfig>,
    /// The address clients use, for absolute URLs.
    pub base_url: Arc<String>,
    /// Source of DDP connection ids.
    pub next_conn_id: Arc<AtomicU64>,
    /// REST rate limiter buckets.
    pub rest_limiter: Arc<crate::rest::RateLimiter>,
    /// A flood replay encoded ahead of its flood.
    pub prepared_flood: crate::flood::PreparedSlot,
    /// Logins and rate-limit refusals, for `GET /_sim/stats`.
    pub stats: Arc<crate::stats::Stats>,
    /// The serving instance, which `POST /_sim/restart` replaces.
    pub instance: Arc<Instance>,
}

/// The full router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/websocket", get(crate::ddp::ws_handler))
        .route("/websocket/", get(crate::ddp::ws_handler))
        .route(crate::view::PATH, get(crate::view::page))
        .merge(crate::rest::router(state.clone()))
        .nest("/_sim", crate::control::router())
        .layer(middleware::from_fn_with_state(state.clone(), http_faults))
        .with_state(state)
}

/// Armed `delay` and `httpStatus` faults, applied before the real handler.
async fn http_faults(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path.starts_with("/_sim") {
        return next.run(req).await;
    }
    if let Some(d) = state.faults.take_delay(&path) {
        tokio::time::sleep(d).await;
    }
    let response = match state.faults.take_http(&path) {
        Some(status) => fault_response(status),
        None => next.run(req).await,
    };
    state.faults.count_answer(&path);
    response
}

/// The body Rocket.Chat (or the proxy in front of it) gives for a status.
pub fn fault_response(status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match status {
        429 => {
            let wait_s = 1;
            let mut res = (
                code,
                Json(json!({"success": false, "error": format!(
                    "Error, too many requests. Please slow down. You must wait {wait_s} seconds before trying this endpoint again. [error-too-many-requests]"
                )})),
            )
                .into_response();
            let h = res.headers_mut();
            h.insert("x-ratelimit-limit", HeaderValue::from_static("10"));
            h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
            h.insert(
                "x-ratelimit-reset",
                HeaderValue::from_str(&(now_ms() + wait_s * 1000).to_string()).expect("digits"),
            );
            res
        }
        500 => (
            code,
            Json(json!({"success": false, "error": "Internal server error"})),
        )
            .into_response(),
        _ => Response::builder()
            .status(code)
            .header("content-type", "text/html")
            .body(Body::from(format!(
                "<html><body><h1>{status} {}</h1></body></html>",
                code.canonical_reason().unwrap_or("Error")
            )))
            .expect("valid response"),
    }
}

/// A TCP listener that resets connections while the `refuseConnections` fault is armed.
struct FaultyListener {
    inner: TcpListener,
    faults: Arc<Faults>,
}

impl axum::serve::Listener for FaultyListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    if self.faults.refusing() {
                        // RST instead of FIN, so the client sees "connection reset". A zero
                        // linger never blocks on drop, which is what the deprecation is about.
                        #[allow(deprecated)]
                        let _ = stream.set_linger(Some(Duration::ZERO));
                        drop(stream);
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    return (stream, addr);
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A running server instance (one bind of the port).
pub struct Running {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

/// Serve `state` on `listener` until stopped.
pub fn serve(listener: TcpListener, state: AppState) -> Running {
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let faults = state.faults.clone();
    let app = router(state);
    // `tap_io` only to get axum's `ConnectInfo<SocketAddr>` for a custom listener: the REST
    // rate limiter keys its buckets by client IP.
    let listener = FaultyListener {
        inner: listener,
        faults,
    }
    .tap_io(|_| {});
    let task = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = stop_rx.await;
        })
        .await;
    });
    Running {
        stop: Some(stop_tx),
        task,
    }
}

/// The port and the instance serving it now (none while a restart is down).
pub struct Instance {
    addr: SocketAddr,
    running: Mutex<Option<Running>>,
}

impl Instance {
    /// Not serving yet.
    pub fn new(addr: SocketAddr) -> Self {
        Instance {
            addr,
            running: Mutex::new(None),
        }
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Running>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Serve `state` on `listener` from now on.
    pub fn start(&self, listener: TcpListener, state: AppState) {
        *self.slot() = Some(serve(listener, state));
    }

    /// Stop serving: every WebSocket is closed and the port released.
    pub async fn stop(&self, state: &AppState) {
        state.faults.drop_sockets();
        let running = self.slot().take();
        if let Some(r) = running {
            r.stop().await;
        }
    }

    /// End the serving task now (the simulator is dropped).
    pub fn abort(&self) {
        self.slot().take();
    }
}

/// A server restart: WebSockets closed, the port released for `down`, then the same state
/// served on the same port, as a real server keeps its database. The rate limiters' counters,
/// which Rocket.Chat keeps in memory, start over. `while_down` runs once the port is closed.
pub async fn restart(
    state: &AppState,
    down: Duration,
    while_down: impl FnOnce(),
) -> std::io::Result<()> {
    state.instance.stop(state).await;
    state.stats.count_restart();
    state.rest_limiter.clear();
    crate::ddp::ratelimit::for_store(&state.store).clear();
    while_down();
    tokio::time::sleep(down).await;
    let listener = TcpListener::bind(state.instance.addr).await?;
    state.instance.start(listener, state.clone());
    Ok(())
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Running {
    /// Stop accepting, close WebSockets (the caller publishes DropSockets) and wait a little
    /// for HTTP connections to finish; then abort.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let abort = self.task.abort_handle();
        if tokio::time::timeout(Duration::from_secs(2), &mut self.task)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
}
