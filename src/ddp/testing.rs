//! A tiny scripted WebSocket server for the DDP tests (the full Rocket.Chat simulator lives
//! in `tests/simulator` and is for integration tests). Each accepted socket is handed to a
//! test-supplied script.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{accept_async, WebSocketStream};

use super::frame::ClientFrame;

/// How long a test waits for any single expected frame.
pub const STEP: Duration = Duration::from_secs(5);

/// A listening server; every connection runs `script(peer, index)` (index from 0).
pub struct ScriptServer {
    pub url: String,
    pub connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ScriptServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ScriptServer {
    pub async fn start<F, Fut>(script: F) -> Self
    where
        F: Fn(Peer, usize) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("ws://{}/websocket", listener.local_addr().expect("addr"));
        let connections = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&connections);
        let script = Arc::new(script);
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let index = count.fetch_add(1, Ordering::SeqCst);
                let script = Arc::clone(&script);
                tokio::spawn(async move {
                    if let Ok(ws) = accept_async(tcp).await {
                        script(Peer { ws }, index).await;
                    }
                });
            }
        });
        ScriptServer {
            url,
            connections,
            task,
        }
    }
}

/// The server side of one socket.
pub struct Peer {
    pub ws: WebSocketStream<TcpStream>,
}

impl Peer {
    /// The next text frame as JSON; `None` when the client closed or nothing came in time.
    pub async fn recv(&mut self) -> Option<Value> {
        self.recv_within(STEP).await
    }

    pub async fn recv_within(&mut self, limit: Duration) -> Option<Value> {
        loop {
            let msg = tokio::time::timeout(limit, self.ws.next()).await.ok()??;
            match msg {
                Ok(Message::Text(t)) => return serde_json::from_str(t.as_str()).ok(),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// The next frame that is not a client heartbeat (pings are answered).
    pub async fn recv_non_ping(&mut self) -> Option<Value> {
        loop {
            let v = self.recv().await?;
            match v["msg"].as_str() {
                Some("ping") => {
                    let mut pong = json!({"msg": "pong"});
                    if let Some(id) = v.get("id") {
                        pong["id"] = id.clone();
                    }
                    self.send(pong).await;
                }
                Some("pong") => {}
                _ => return Some(v),
            }
        }
    }

    pub async fn send(&mut self, v: Value) {
        let _ = self.ws.send(Message::text(v.to_string())).await;
    }

    pub async fn send_text(&mut self, s: &str) {
        let _ = self.ws.send(Message::text(s.to_owned())).await;
    }

    /// Expect the client's `connect`, optionally greet first, answer `connected`.
    pub async fn handshake(&mut self, greeting: bool) {
        if greeting {
            self.send(json!({"server_id": "0"})).await;
        }
        let connect = self.recv().await.expect("connect frame");
        assert_eq!(
            ClientFrame::from_value(&connect).expect("client frame"),
            ClientFrame::connect()
        );
        self.send(json!({"msg": "connected", "session": "tN7Qx3cW9aEfMkR2p"}))
            .await;
    }

    /// Read (and ignore) everything until the client goes away; `true` if it closed within
    /// `limit`.
    pub async fn drain_until_closed(&mut self, limit: Duration) -> bool {
        tokio::time::timeout(limit, async {
            while let Some(Ok(msg)) = self.ws.next().await {
                if matches!(msg, Message::Close(_)) {
                    break;
                }
            }
        })
        .await
        .is_ok()
    }
}
