//! Block streaming: turning streamed reply pieces into posts and edits.
//!
//! [`Coalescer`] is a pure state machine: the driver passes each piece and the
//! current time in milliseconds, calls [`Coalescer::poll`] at
//! [`Coalescer::next_deadline`], and [`Coalescer::finish`] when the reply ends.
//! It answers with [`Action`]s to perform in order.
//!
//! Buffered text is flushed
//! - when it reaches `min_chars` UTF-16 units: up to the last paragraph, line
//!   or sentence boundary (or, once the buffer exceeds the chunk limit, the
//!   last word boundary); if there is none yet it keeps buffering;
//! - when no piece arrived for `idle_ms`: up to the last boundary, words
//!   included (a partial word stays buffered);
//! - in both cases never inside a line before its continuation arrived: after
//!   `Done. ` the next piece may start with a run of backticks, and a message
//!   starting with that run would open a code block;
//! - at finish: everything.
//!
//! A flush never ends inside a fenced code block: a block that is still open
//! is kept buffered (with everything after it) until its closing fence
//! arrives or the reply finishes. A code block is therefore only ever split by
//! [`chunk_text`], which closes and reopens the fence.
//!
//! [`Strategy::Append`] posts each flush as new messages (`chunk_text` of the
//! flushed text, so each is within the limit). [`Strategy::Edit`] keeps one
//! growing message: each flush edits it (at most one edit per flush) with the
//! first chunk of `chunk_text(its text + flushed text)`; when that no longer
//! fits, the message is frozen at that chunk and the rest continues in new
//! posts, the last of which becomes the growing message.
//!
//! Invariant (tested with random pieces and timings): the final texts of the
//! messages, in key order, each fit the limit, keep fences balanced, and
//! concatenate to the whole reply up to whitespace at split points and added
//! fence lines. With a single flush (e.g. no idle gap and fewer than
//! `min_chars`) they are exactly `chunk_text(reply, limit, mode)`.

use super::chunk::{
    chunk_text, fence_at, is_cjk_sentence_punct, is_sentence_punct, parse_fences,
    starts_fence_like, utf16_len, ChunkMode, FenceHead,
};
use serde::{Deserialize, Serialize};

/// How streamed text reaches the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Every flush becomes one or more new messages.
    #[default]
    Append,
    /// One message grows by edits; a new one starts when it would exceed the limit.
    Edit,
}

/// Coalescing settings (`blockStreamingCoalesce`, `textChunkLimit`, `chunkMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoalesceConfig {
    /// Buffered UTF-16 units that trigger a flush (default 1500).
    pub min_chars: usize,
    /// Silence after the last piece that triggers a flush, in ms (default 1000).
    pub idle_ms: u64,
    /// Maximum message size in UTF-16 units (default 4000).
    pub limit: usize,
    /// How flushed text is chunked.
    pub mode: ChunkMode,
    /// Post new messages or edit a growing one.
    pub strategy: Strategy,
}

impl Default for CoalesceConfig {
    fn default() -> Self {
        CoalesceConfig {
            min_chars: 1500,
            idle_ms: 1000,
            limit: 4000,
            mode: ChunkMode::Length,
            strategy: Strategy::Append,
        }
    }
}

/// Something the driver must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send a new message; `key` names it for later edits (keys increase from 0).
    Post {
        /// Identifies the message in later [`Action::Edit`]s.
        key: usize,
        /// The message text.
        text: String,
    },
    /// Replace the whole text of the message posted under `key`.
    Edit {
        /// The message posted earlier under this key.
        key: usize,
        /// Its new text.
        text: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    MinChars,
    Idle,
    Finish,
}

/// The growing message of the edit strategy.
#[derive(Debug)]
struct Growing {
    key: usize,
    /// The text it stands for (a chunk plus the whitespace that followed it).
    raw: String,
    /// What the room currently shows.
    shown: String,
}

/// Buffers streamed pieces and decides when to post or edit. See the module docs.
#[derive(Debug)]
pub struct Coalescer {
    cfg: CoalesceConfig,
    buf: String,
    buf_units: usize,
    last_piece_ms: u64,
    idle_armed: bool,
    /// A min-chars flush found no boundary: don't rescan before the buffer reaches this length.
    rescan_at: usize,
    next_key: usize,
    growing: Option<Growing>,
}

/// Bytes the buffer must grow before a boundary-less buffer is scanned again.
const RESCAN_STEP: usize = 256;

impl Coalescer {
    /// A coalescer with nothing buffered.
    pub fn new(cfg: CoalesceConfig) -> Self {
        Coalescer {
            cfg,
            buf: String::new(),
            buf_units: 0,
            last_piece_ms: 0,
            idle_armed: false,
            rescan_at: 0,
            next_key: 0,
            growing: None,
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &CoalesceConfig {
        &self.cfg
    }

    /// Adds a streamed piece received at `now_ms`. If an idle flush was due
    /// (the driver polled late), it happens now, with this piece included, so
    /// one call is one flush at most (and at most one [`Action::Edit`]).
    pub fn push(&mut self, piece: &str, now_ms: u64) -> Vec<Action> {
        if piece.is_empty() {
            return self.poll(now_ms);
        }
        let idle_due = self.next_deadline().is_some_and(|d| now_ms >= d);
        self.buf.push_str(piece);
        self.buf_units += utf16_len(piece);
        self.last_piece_ms = now_ms;
        self.idle_armed = true;
        if idle_due {
            return self.flush(Trigger::Idle);
        }
        let has_boundary = piece
            .chars()
            .any(|c| c.is_whitespace() || is_cjk_sentence_punct(c));
        if self.buf_units >= self.cfg.min_chars
            && (has_boundary || self.buf.len() >= self.rescan_at)
        {
            return self.flush(Trigger::MinChars);
        }
        Vec::new()
    }

    /// Flushes when `idle_ms` have passed since the last piece.
    pub fn poll(&mut self, now_ms: u64) -> Vec<Action> {
        match self.next_deadline() {
            Some(deadline) if now_ms >= deadline => {
                self.idle_armed = false;
                self.flush(Trigger::Idle)
            }
            _ => Vec::new(),
        }
    }

    /// Flushes everything; the coalescer is then empty and ready for another
    /// reply (keys keep increasing).
    pub fn finish(&mut self, _now_ms: u64) -> Vec<Action> {
        let actions = self.flush(Trigger::Finish);
        self.growing = None;
        self.idle_armed = false;
        actions
    }

    /// When [`poll`](Self::poll) should next be called, if anything is pending.
    pub fn next_deadline(&self) -> Option<u64> {
        (self.idle_armed && !self.buf.trim().is_empty())
            .then(|| self.last_piece_ms.saturating_add(self.cfg.idle_ms))
    }

    /// Text received but not yet handed out in an action.
    pub fn buffered(&self) -> &str {
        &self.buf
    }

    fn flush(&mut self, trigger: Trigger) -> Vec<Action> {
        let point = match trigger {
            Trigger::Finish => Some(self.buf.len()),
            Trigger::Idle => flush_point(&self.buf, true),
            Trigger::MinChars => flush_point(&self.buf, self.buf_units > self.cfg.limit),
        };
        let Some(point) = point else {
            self.rescan_at = self.buf.len() + RESCAN_STEP;
            return Vec::new();
        };
        let tail = self.buf.split_off(point);
        let text = std::mem::replace(&mut self.buf, tail);
        self.buf_units = utf16_len(&self.buf);
        self.rescan_at = 0;
        match self.cfg.strategy {
            Strategy::Append => chunk_text(&text, self.cfg.limit, self.cfg.mode)
                .into_iter()
                .map(|text| self.post(text))
                .collect(),
            Strategy::Edit => self.grow(&text),
        }
    }

    fn post(&mut self, text: String) -> Action {
        let key = self.next_key;
        self.next_key += 1;
        Action::Post { key, text }
    }

    fn grow(&mut self, text: &str) -> Vec<Action> {
        let mut candidate = self
            .growing
            .as_ref()
            .map_or(String::new(), |g| g.raw.clone());
        candidate.push_str(text);
        let chunks = chunk_text(&candidate, self.cfg.limit, self.cfg.mode);
        let Some((first, rest)) = chunks.split_first() else {
            if let Some(g) = &mut self.growing {
                g.raw = candidate;
            }
            return Vec::new();
        };
        let mut actions = Vec::new();
        let key = match self.growing.take() {
            Some(g) => {
                if g.shown != *first {
                    actions.push(Action::Edit {
                        key: g.key,
                        text: first.clone(),
                    });
                }
                g.key
            }
            None => {
                let action = self.post(first.clone());
                let key = self.next_key - 1;
                actions.push(action);
                key
            }
        };
        let mut growing = Growing {
            key,
            raw: candidate.clone(),
            shown: first.clone(),
        };
        if let Some((last, middle)) = rest.split_last() {
            for chunk in middle {
                actions.push(self.post(chunk.clone()));
            }
            actions.push(self.post(last.clone()));
            let trailing = &candidate[candidate.trim_end().len()..];
            growing = Growing {
                key: self.next_key - 1,
                raw: format!("{last}{trailing}"),
                shown: last.clone(),
            };
        }
        self.growing = Some(growing);
        actions
    }
}

/// The last good place to end a flush in `buf`: just before the whitespace of
/// a paragraph, line or sentence end (or any whitespace when `words`), or just
/// after CJK sentence punctuation; never inside a fenced block, nor after the
/// start of one still open, nor inside a line whose continuation has not arrived
/// yet. `None` when there is none with text before it.
fn flush_point(buf: &str, words: bool) -> Option<usize> {
    let fences = parse_fences(buf);
    let end = fences
        .iter()
        .find(|f| !f.closed)
        .map_or(buf.len(), |f| f.start);
    let first = buf.len() - buf.trim_start().len();
    let mut best = None;
    let mut prev = '\0';
    // How the current line reads when cut (if it starts with a fence-like run).
    let mut head = FenceHead::of_line(buf, 0, true);
    for (b, c) in buf[..end].char_indices() {
        if prev == '\n' {
            head = FenceHead::of_line(buf, b, false);
        }
        let good = c == '\n'
            || is_cjk_sentence_punct(prev)
            || (c.is_whitespace() && (words || is_sentence_punct(prev)));
        // As in `chunk_text`: no cut inside a line that leaves a fence-like line on either
        // side, nor where the line goes on in text not received yet (it may start with a
        // run of backticks).
        let mid_line_ok = || {
            line_goes_on_plain(&buf[b..]) && !head.is_some_and(|h| h.cut_reads_as_fence(b, true))
        };
        if good && b > first && fence_at(&fences, b).is_none() && (c == '\n' || mid_line_ok()) {
            best = Some(b);
        }
        prev = c;
    }
    // A boundary right before an open fence (which starts a line).
    if end > first && end < buf.len() {
        best = Some(end);
    }
    best
}

/// Whether the text after a cut inside a line, `rest`, shows that the line goes on with
/// something other than a run of backticks or tildes (a run of one or two that reaches the
/// end of the buffer may still grow into one).
fn line_goes_on_plain(rest: &str) -> bool {
    let next = rest.trim_start_matches([' ', '\t', '\r']);
    let Some(c) = next.chars().next() else {
        return false;
    };
    let unfinished_run = matches!(c, '`' | '~') && next.trim_start_matches(c).is_empty();
    !(starts_fence_like(next) || unfinished_run)
}

#[cfg(test)]
mod tests;
