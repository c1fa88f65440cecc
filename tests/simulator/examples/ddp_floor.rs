//! The floor of `scripts/bench`: the least a DDP client can do with a flood. One thread
//! reads the WebSocket, parses each frame's JSON (keeping only the message text) and counts
//! the messages; no gating, no event queue, no host. Whatever a real client achieves is measured against this.
//!
//! `ddp_floor WS_URL TOKEN COUNT [latency]` subscribes to `stream-room-messages` for each
//! room in `BENCH_ROOMS` (comma-separated; one frame per message, the simulator's cheapest
//! path) and speaks the harness's line protocol on stdin/stdout (`bench/README.md`): `ready`,
//! then `go`, then one JSON result line, then waits for `quit`.

use std::borrow::Cow;
use std::io::BufRead;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, token, count, rest @ ..] = args.as_slice() else {
        return Err("usage: ddp_floor WS_URL TOKEN COUNT [latency]".into());
    };
    let count: usize = count.parse()?;
    let latency = rest.first().is_some_and(|m| m == "latency");
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str()).await?;
    let rooms = std::env::var("BENCH_ROOMS")?;
    let mut frames = vec![
        json!({"msg": "connect", "version": "1", "support": ["1"]}),
        json!({"msg": "method", "method": "login", "id": "1", "params": [{"resume": token}]}),
    ];
    frames.extend(rooms.split(',').map(|rid| {
        json!({"msg": "sub", "id": rid, "name": "stream-room-messages",
               "params": [rid, {"useCollection": false, "args": []}]})
    }));
    let mut pending = frames.len() - 2;
    for f in frames {
        ws.send(Message::text(f.to_string())).await?;
    }
    while let Some(m) = ws.next().await {
        if let Message::Text(t) = m? {
            let v: Value = serde_json::from_str(t.as_str())?;
            if v["msg"] == "ready" {
                pending -= 1;
                if pending == 0 {
                    break;
                }
            }
            if v["msg"] == "nosub" || v["error"].is_object() {
                return Err(format!("setup failed: {v}").into());
            }
        }
    }
    println!("ready");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;

    let start = Instant::now();
    let mut tally = Tally::new(count);
    while tally.received < count {
        let Some(m) = ws.next().await else { break };
        let text = match m? {
            Message::Text(t) => t,
            Message::Ping(p) => {
                ws.send(Message::Pong(p)).await?;
                continue;
            }
            _ => continue,
        };
        let frame: Frame<'_> = serde_json::from_str(text.as_str())?;
        match frame.msg.as_deref() {
            Some("changed") => {
                let first = frame.fields.and_then(|f| f.args.into_iter().next());
                tally.record(
                    first.and_then(|a| a.msg).as_deref().unwrap_or_default(),
                    latency,
                );
            }
            Some("ping") => ws.send(Message::text(r#"{"msg":"pong"}"#)).await?,
            _ => {}
        }
    }
    println!("{}", tally.report(start.elapsed().as_secs_f64()));
    line.clear();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(())
}

/// What the loop reads of a frame. serde still checks that the whole text is valid JSON but
/// builds no tree of it: the least any client must do.
#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(borrow)]
    msg: Option<Cow<'a, str>>,
    #[serde(borrow)]
    fields: Option<Fields<'a>>,
}

#[derive(Deserialize)]
struct Fields<'a> {
    #[serde(borrow, default)]
    args: Vec<Arg<'a>>,
}

/// A stream event's argument: the message (its text) or the room meta.
#[derive(Deserialize)]
struct Arg<'a> {
    #[serde(borrow)]
    msg: Option<Cow<'a, str>>,
}

/// Counts, order and latency of the flood's `seq=<n> t=<µs>` texts.
struct Tally {
    seen: Vec<bool>,
    received: usize,
    duplicates: usize,
    out_of_order: usize,
    last: Option<usize>,
    latencies_us: Vec<u64>,
}

impl Tally {
    fn new(count: usize) -> Self {
        Tally {
            seen: vec![false; count],
            received: 0,
            duplicates: 0,
            out_of_order: 0,
            last: None,
            latencies_us: Vec::new(),
        }
    }

    fn record(&mut self, msg: &str, latency: bool) {
        let mut fields = msg.split(' ');
        let seq = fields.next().and_then(|s| s.strip_prefix("seq="));
        let Some(seq) = seq.and_then(|s| s.parse::<usize>().ok()) else {
            return;
        };
        if seq >= self.seen.len() || std::mem::replace(&mut self.seen[seq], true) {
            self.duplicates += 1;
            return;
        }
        self.received += 1;
        if self.last.is_some_and(|l| seq < l) {
            self.out_of_order += 1;
        }
        self.last = Some(seq);
        if latency {
            let sent = fields.next().and_then(|t| t.strip_prefix("t="));
            if let Some(sent) = sent.and_then(|t| t.parse::<u64>().ok()) {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default();
                self.latencies_us
                    .push((now.as_micros() as u64).saturating_sub(sent));
            }
        }
    }

    fn report(&mut self, seconds: f64) -> Value {
        self.latencies_us.sort_unstable();
        json!({
            "received": self.received,
            "duplicates": self.duplicates,
            "outOfOrder": self.out_of_order,
            "seconds": seconds,
            "latenciesUs": self.latencies_us,
        })
    }
}
