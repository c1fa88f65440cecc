//! Block streaming: a reply that arrives in pieces, delivered while it is produced.
//!
//! [`Deliverer::start_stream`] spawns a driver task that owns a [`Coalescer`] and real
//! timers: each piece is pushed with the time since the stream started, the coalescer is
//! polled at its [`Coalescer::next_deadline`] (`blockStreamingCoalesce.idleMs`), and
//! [`ReplyStream::finish`] flushes the rest. `Post` actions become `chat.sendMessage`
//! (idempotent client `_id`, so 5xx/429 retries never duplicate), `Edit` actions
//! `chat.update` on the message posted under the same key. Actions run one after the
//! other, so the room sees the reply in order.
//!
//! - Strategy: [`Strategy::Append`](super::Strategy::Append) by default (each flushed block is new messages, as
//!   OpenClaw's block streaming does), [`Strategy::Edit`](super::Strategy::Edit) as an option
//!   ([`super::deliver::DeliverySettings::stream_strategy`]).
//! - The response prefix is put in front of the first non-blank piece.
//! - With `markdown.tables` other than `off`, text is handed to the coalescer a
//!   paragraph at a time (up to a blank line outside fenced code), so that a table is
//!   converted whole; with `off` pieces go straight through.
//! - `blockStreaming: false`: everything is buffered and sent at finish exactly as
//!   [`Deliverer::send_reply`] would.
//!
//! Guarantee: the final texts of the room's messages, in order, are the reply up to
//! whitespace at split points and fence lines added around split code blocks, each within
//! the chunk limit (the [`super::coalesce`] invariant).
//!
//! The bot shows as typing from `start_stream` until the stream finishes, fails, is
//! aborted or dropped.

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::chunk::{fence_at, parse_fences};
use super::coalesce::{Action, Coalescer};
use super::deliver::{Deliverer, DeliveryError, SentMessage};
use super::tables::{convert_tables, TableMode};
use super::typing::TypingGuard;

enum Cmd {
    Piece(String),
    Finish,
    Abort,
}

/// A streamed reply in progress; see the module docs. Dropping it without
/// [`finish`](Self::finish) aborts it (what was posted stays).
#[derive(Debug)]
pub struct ReplyStream {
    tx: mpsc::UnboundedSender<Cmd>,
    task: Option<JoinHandle<Result<Vec<SentMessage>, DeliveryError>>>,
}

impl ReplyStream {
    /// Add a piece of the reply. Fails with [`DeliveryError::StreamClosed`] once delivery
    /// has failed; [`finish`](Self::finish) then tells why.
    pub fn push(&self, piece: &str) -> Result<(), DeliveryError> {
        if piece.is_empty() {
            return Ok(());
        }
        self.tx
            .send(Cmd::Piece(piece.to_owned()))
            .map_err(|_| DeliveryError::StreamClosed)
    }

    /// The reply is complete: send what is buffered and return every message of the
    /// reply, in order, with its final text.
    pub async fn finish(mut self) -> Result<Vec<SentMessage>, DeliveryError> {
        let _ = self.tx.send(Cmd::Finish);
        self.join().await
    }

    /// Stop without sending what is still buffered. Messages already posted stay; they
    /// are returned.
    pub async fn abort(mut self) -> Vec<SentMessage> {
        let _ = self.tx.send(Cmd::Abort);
        match self.join().await {
            Ok(sent) => sent,
            Err(e) => e.sent().to_vec(),
        }
    }

    async fn join(&mut self) -> Result<Vec<SentMessage>, DeliveryError> {
        match self.task.take() {
            Some(task) => task.await.unwrap_or(Err(DeliveryError::StreamClosed)),
            None => Err(DeliveryError::StreamClosed),
        }
    }
}

impl Drop for ReplyStream {
    fn drop(&mut self) {
        if self.task.is_some() {
            let _ = self.tx.send(Cmd::Abort);
        }
    }
}

impl Deliverer {
    /// Start a streamed reply to room `rid` (thread `thread_id`). Must be called inside a
    /// Tokio runtime. Uses the settings current at this moment.
    pub fn start_stream(&self, rid: &str, thread_id: Option<&str>) -> ReplyStream {
        let (tx, rx) = mpsc::unbounded_channel();
        let typing = self.inner.typing.start(rid, thread_id);
        let driver = Driver {
            deliverer: self.clone(),
            rid: rid.to_owned(),
            tmid: thread_id.map(str::to_owned),
            posted: Vec::new(),
        };
        let task = tokio::spawn(driver.run(rx, typing));
        ReplyStream {
            tx,
            task: Some(task),
        }
    }
}

struct Driver {
    deliverer: Deliverer,
    rid: String,
    tmid: Option<String>,
    /// Messages by coalescer key (keys start at 0 and increase by one).
    posted: Vec<SentMessage>,
}

impl Driver {
    async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<Cmd>,
        typing: TypingGuard,
    ) -> Result<Vec<SentMessage>, DeliveryError> {
        let settings = self.deliverer.settings();
        let result = if settings.block_streaming {
            self.stream(&mut rx).await
        } else {
            self.buffer(&mut rx).await
        };
        typing.stop().await;
        result
    }

    /// `blockStreaming: false`: collect, then send as one reply.
    async fn buffer(
        &mut self,
        rx: &mut mpsc::UnboundedReceiver<Cmd>,
    ) -> Result<Vec<SentMessage>, DeliveryError> {
        let mut text = String::new();
        loop {
            match rx.recv().await {
                Some(Cmd::Piece(p)) => text.push_str(&p),
                Some(Cmd::Finish) => break,
                Some(Cmd::Abort) | None => return Err(DeliveryError::Aborted { sent: vec![] }),
            }
        }
        let chunks = self.deliverer.settings().shape(&text);
        self.deliverer
            .send_chunks(&self.rid, self.tmid.as_deref(), chunks)
            .await
    }

    async fn stream(
        &mut self,
        rx: &mut mpsc::UnboundedReceiver<Cmd>,
    ) -> Result<Vec<SentMessage>, DeliveryError> {
        let settings = self.deliverer.settings();
        let mut co = Coalescer::new(settings.coalesce_config());
        let mut gate = ParagraphGate::new(settings.table_mode);
        let mut prefix_pending = settings.response_prefix.is_some();
        let start = Instant::now();
        let now = || start.elapsed().as_millis() as u64;
        loop {
            let deadline = co.next_deadline();
            let wake = deadline.map(|d| start + std::time::Duration::from_millis(d));
            let actions = tokio::select! {
                biased;
                cmd = rx.recv() => match cmd {
                    Some(Cmd::Piece(mut piece)) => {
                        if prefix_pending && !piece.trim().is_empty() {
                            piece = settings.with_prefix(&piece);
                            prefix_pending = false;
                        }
                        match gate.push(&piece) {
                            Some(text) => co.push(&text, now()),
                            None => Vec::new(),
                        }
                    }
                    Some(Cmd::Finish) => {
                        let mut actions = match gate.finish() {
                            Some(text) => co.push(&text, now()),
                            None => Vec::new(),
                        };
                        actions.extend(co.finish(now()));
                        self.apply(actions).await?;
                        let sent = std::mem::take(&mut self.posted);
                        self.deliverer.report_sent(&sent);
                        return Ok(sent);
                    }
                    Some(Cmd::Abort) | None => {
                        return Err(DeliveryError::Aborted { sent: std::mem::take(&mut self.posted) });
                    }
                },
                _ = sleep_until(wake), if wake.is_some() => co.poll(now()),
            };
            self.apply(actions).await?;
        }
    }

    async fn apply(&mut self, actions: Vec<Action>) -> Result<(), DeliveryError> {
        for action in actions {
            let res = match action {
                Action::Post { key, text } => {
                    debug_assert_eq!(key, self.posted.len());
                    self.deliverer
                        .post_text(&self.rid, self.tmid.as_deref(), &text)
                        .await
                        .map(|m| self.posted.push(m))
                }
                Action::Edit { key, text } => match self.posted.get_mut(key) {
                    Some(m) => self
                        .deliverer
                        .rest()
                        .update_message(&self.rid, &m.id, &text)
                        .await
                        .map(|_| m.text = text),
                    None => {
                        tracing::warn!(key, "edit of a message that was never posted; skipped");
                        Ok(())
                    }
                },
            };
            if let Err(source) = res {
                let sent = std::mem::take(&mut self.posted);
                return Err(self.deliverer.failed(&self.rid, sent, None, source));
            }
        }
        Ok(())
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Releases streamed text a paragraph at a time (up to the last blank line outside fenced
/// code) so that tables are converted whole; passes everything through when tables are
/// left alone.
struct ParagraphGate {
    mode: TableMode,
    buf: String,
}

impl ParagraphGate {
    fn new(mode: TableMode) -> Self {
        ParagraphGate {
            mode,
            buf: String::new(),
        }
    }

    fn push(&mut self, piece: &str) -> Option<String> {
        if self.mode == TableMode::Off {
            return Some(piece.to_owned());
        }
        self.buf.push_str(piece);
        let fences = parse_fences(&self.buf);
        let cut = self
            .buf
            .rmatch_indices("\n\n")
            .map(|(i, _)| i)
            .find(|&i| fence_at(&fences, i).is_none())?;
        let rest = self.buf.split_off(cut + 2);
        let ready = std::mem::replace(&mut self.buf, rest);
        Some(convert_tables(&ready, self.mode))
    }

    fn finish(&mut self) -> Option<String> {
        if self.mode == TableMode::Off || self.buf.is_empty() {
            return None;
        }
        Some(convert_tables(&std::mem::take(&mut self.buf), self.mode))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_releases_whole_paragraphs_outside_code() {
        let mut g = ParagraphGate::new(TableMode::Bullets);
        assert_eq!(g.push("intro\n\n| a | b |\n"), Some("intro\n\n".into()));
        assert_eq!(g.push("|---|---|\n| 1 | 2 |\n"), None);
        let out = g.push("\nafter\n\n```\nx\n\ny\n").unwrap();
        assert!(!out.contains('|'), "{out}");
        assert!(out.ends_with("\n\n"), "{out:?}");
        assert_eq!(g.push("```\n"), None);
        assert_eq!(g.finish().unwrap(), "```\nx\n\ny\n```\n");
        let mut off = ParagraphGate::new(TableMode::Off);
        assert_eq!(off.push("| a |"), Some("| a |".into()));
        assert_eq!(off.finish(), None);
    }
}
