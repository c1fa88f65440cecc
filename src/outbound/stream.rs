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
//!
//! A live message ([`Deliverer::start_live_stream`]): a placeholder ("Working…") is posted at
//! once and becomes the reply's first message. Until the reply's text starts,
//! [`ReplyStream::status`] shows progress in it; the text then replaces it and grows by edits
//! (the edit strategy, whatever `stream_strategy` says), new messages starting only when the
//! reply outgrows one. A stream that finishes without text deletes the placeholder; an aborted
//! one leaves it showing the last status, so the host can say there what went wrong.

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::chunk::{fence_at, parse_fences};
use super::claim::ReplyTo;
use super::coalesce::{Action, Coalescer};
use super::deliver::{Deliverer, DeliveryError, SentMessage};
use super::tables::{convert_tables, TableMode};
use super::typing::TypingGuard;

enum Cmd {
    Piece(String),
    Status(String),
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

    /// A live message's progress line ("Working… (reading a file)"), shown in the
    /// placeholder until the reply's text starts; ignored after that and by other streams.
    pub fn status(&self, text: &str) -> Result<(), DeliveryError> {
        if text.trim().is_empty() {
            return Ok(());
        }
        self.tx
            .send(Cmd::Status(text.to_owned()))
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
        self.start_reply_stream(rid, thread_id, None, None)
    }

    /// Start a live message: `placeholder` is posted at once and edited into the reply as it
    /// comes (see the module docs).
    pub fn start_live_stream(
        &self,
        rid: &str,
        thread_id: Option<&str>,
        placeholder: &str,
    ) -> ReplyStream {
        self.start_reply_stream(rid, thread_id, Some(placeholder), None)
    }

    /// A stream, live with a `placeholder`, numbered as the reply to message `reply` when
    /// given (see [`super::claim`]: another instance's copy of the reply is not posted).
    pub fn start_reply_stream(
        &self,
        rid: &str,
        thread_id: Option<&str>,
        placeholder: Option<&str>,
        reply: Option<ReplyTo>,
    ) -> ReplyStream {
        let (tx, rx) = mpsc::unbounded_channel();
        let typing = self.inner.typing.start(rid, thread_id);
        let driver = Driver {
            deliverer: self.clone(),
            rid: rid.to_owned(),
            tmid: thread_id.map(str::to_owned),
            posted: Vec::new(),
            placeholder: placeholder.map(str::to_owned),
            text_started: false,
            reply,
            claimed: false,
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
    /// Messages by coalescer key (keys start at 0 and increase by one). A live message's
    /// placeholder is key 0 from the start.
    posted: Vec<SentMessage>,
    /// A live message's placeholder text (`None`: an ordinary stream).
    placeholder: Option<String>,
    /// Whether any of the reply's text has been shown (a live message's status is then over).
    text_started: bool,
    /// The message this stream answers, when its messages are numbered for claims.
    reply: Option<ReplyTo>,
    /// Another instance of the bot answers it: nothing more is posted or edited.
    claimed: bool,
}

impl Driver {
    async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<Cmd>,
        typing: TypingGuard,
    ) -> Result<Vec<SentMessage>, DeliveryError> {
        let settings = self.deliverer.settings();
        let result = match self.post_placeholder().await {
            Err(e) => Err(e),
            Ok(()) if settings.block_streaming => self.stream(&mut rx).await,
            Ok(()) => self.buffer(&mut rx).await,
        };
        typing.stop().await;
        result
    }

    /// A live message's placeholder, posted before anything else.
    async fn post_placeholder(&mut self) -> Result<(), DeliveryError> {
        let Some(text) = self.placeholder.clone() else {
            return Ok(());
        };
        match self
            .deliverer
            .post_text_as(&self.rid, self.tmid.as_deref(), &text, self.reply.as_ref())
            .await
        {
            Ok(Some(m)) => {
                self.posted.push(m);
                Ok(())
            }
            Ok(None) => {
                self.claimed = true;
                Ok(())
            }
            Err(source) => Err(self.deliverer.failed(&self.rid, vec![], None, source)),
        }
    }

    /// Show a live message's progress, while its text has not started. A failed edit only
    /// costs the progress line: the reply itself goes on.
    async fn show_status(&mut self, text: &str) {
        if self.placeholder.is_none() || self.text_started || self.claimed {
            return;
        }
        if let Some(m) = self.posted.first_mut() {
            match self
                .deliverer
                .rest()
                .update_message(&self.rid, &m.id, text)
                .await
            {
                Ok(_) => m.text = text.to_owned(),
                Err(e) => tracing::debug!("live message status not shown: {e}"),
            }
        }
    }

    /// The stream ends without text: a live message's placeholder is not left behind.
    async fn drop_placeholder(&mut self) {
        if self.placeholder.is_some() && !self.text_started {
            if let Some(m) = self.posted.pop() {
                if let Err(e) = self.deliverer.rest().delete_message(&self.rid, &m.id).await {
                    tracing::warn!("live message placeholder not deleted: {e}");
                }
            }
        }
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
                Some(Cmd::Status(s)) => self.show_status(&s).await,
                Some(Cmd::Finish) => break,
                Some(Cmd::Abort) | None => {
                    return Err(DeliveryError::Aborted {
                        sent: std::mem::take(&mut self.posted),
                    })
                }
            }
        }
        let mut chunks = self.deliverer.settings().shape(&text);
        if self.claimed {
            return Ok(vec![]);
        }
        if self.placeholder.is_none() {
            return self
                .deliverer
                .send_chunks_as(&self.rid, self.tmid.as_deref(), chunks, self.reply.as_ref())
                .await;
        }
        if chunks.is_empty() {
            self.drop_placeholder().await;
            return Ok(vec![]);
        }
        // The first message of the reply replaces the placeholder, the rest follow it.
        let rest = chunks.split_off(1);
        let first = chunks.remove(0);
        self.text_started = true;
        self.apply(vec![Action::Edit {
            key: 0,
            text: first,
        }])
        .await?;
        let mut sent = std::mem::take(&mut self.posted);
        match self
            .deliverer
            .send_chunks_as(&self.rid, self.tmid.as_deref(), rest, self.reply.as_ref())
            .await
        {
            Ok(more) => {
                self.deliverer.report_sent(&sent);
                sent.extend(more);
                Ok(sent)
            }
            Err(e) => Err(e),
        }
    }

    async fn stream(
        &mut self,
        rx: &mut mpsc::UnboundedReceiver<Cmd>,
    ) -> Result<Vec<SentMessage>, DeliveryError> {
        let settings = self.deliverer.settings();
        let mut config = settings.coalesce_config();
        if self.placeholder.is_some() {
            // A live message grows in place.
            config.strategy = super::coalesce::Strategy::Edit;
        }
        let mut co = Coalescer::new(config);
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
                    Some(Cmd::Status(text)) => {
                        self.show_status(&text).await;
                        Vec::new()
                    }
                    Some(Cmd::Finish) => {
                        let mut actions = match gate.finish() {
                            Some(text) => co.push(&text, now()),
                            None => Vec::new(),
                        };
                        actions.extend(co.finish(now()));
                        self.apply(actions).await?;
                        self.drop_placeholder().await;
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
            if self.claimed {
                return Ok(());
            }
            self.text_started = true;
            // A live message's first message is its placeholder: posted already, edited.
            let action = match action {
                Action::Post { key, text } if key < self.posted.len() => Action::Edit { key, text },
                other => other,
            };
            let res = match action {
                Action::Post { key, text } => {
                    debug_assert_eq!(key, self.posted.len());
                    self.deliverer
                        .post_text_as(&self.rid, self.tmid.as_deref(), &text, self.reply.as_ref())
                        .await
                        .map(|m| match m {
                            Some(m) => self.posted.push(m),
                            None => self.claimed = true,
                        })
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
