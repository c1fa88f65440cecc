//! Markdown-aware splitting of a reply into messages that fit Rocket.Chat's size limit.
//!
//! Rocket.Chat rejects a message whose JavaScript `msg.length` exceeds
//! `Message_MaxAllowedSize`, so every limit here counts **UTF-16 code units**
//! (an emoji outside the BMP counts 2).
//!
//! Rules, in the order they are applied:
//! - Empty or whitespace-only input gives no chunks; no chunk is empty, and no
//!   chunk starts or ends with whitespace (whitespace at a split point is dropped,
//!   except the indentation of a code line that starts a continued code block, and
//!   of a line that would otherwise read as a fence the input does not have).
//! - [`ChunkMode::Newline`] first splits at every blank line outside fenced code
//!   (each paragraph becomes its own message, as OpenClaw's `chunkMode: "newline"`
//!   does), then length-chunks any paragraph that is still too long.
//! - Length chunking fills each chunk greedily up to the limit and splits at the
//!   best boundary in the window, in this order: a paragraph break (blank line),
//!   a line break, a line break inside a fenced block, a sentence end
//!   (`. ` `! ` `? ` or after `。` `！` `？`), whitespace, whitespace inside a fenced
//!   block, a hard split at a character boundary, and last a cut mid-line that leaves
//!   a line starting with three or more backticks or tildes at the end of this chunk
//!   or the start of the next (it would open or close a code block there, so only a
//!   run or line too long for any other cut gets one). Except: a paragraph
//!   break in the first half of the window gives way to a line or sentence break in
//!   the second half when the text after it needs more than one message anyway (an
//!   intro line is not sent alone ahead of a long list). A hard split never
//!   separates a surrogate pair (we only cut between `char`s) and avoids cutting
//!   before a combining mark, ZWJ, variation selector, emoji modifier or tag
//!   character, after a ZWJ, between two regional indicators, or inside `\r\n`.
//! - A fenced code block (```` ``` ```` or `~~~`, three or more, indented up to three
//!   spaces, with an optional info string) is never cut silently: when a chunk
//!   ends inside one, the chunk gets a closing fence line and the next chunk
//!   starts with the opening line again (info string included). Both lines count
//!   toward the limit. A text block before a fence is preferably sent on its own
//!   so that a code block that fits a message stays whole.
//! - An unclosed fence runs to the end of the input; its last chunk stays
//!   unclosed, exactly like the input.
//! - Degenerate limits never panic or loop: a fence whose opening and closing
//!   lines leave no room for content is treated as plain text, and a single
//!   character wider than the limit is emitted alone.

use serde::{Deserialize, Serialize};

/// How a reply is split into messages (`chunkMode` in the OpenClaw config).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ChunkMode {
    /// Split only when the text exceeds the limit (the default).
    #[default]
    Length,
    /// Split at every paragraph (blank line), then by length inside long paragraphs.
    Newline,
}

/// Length of `s` as JavaScript sees it: UTF-16 code units.
pub fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// Room a split fence must leave for content, in UTF-16 units; below this the
/// fence is treated as plain text.
const MIN_FENCE_CONTENT: usize = 8;

/// A fenced code block found in a text (byte offsets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fence {
    /// Start of the opening line (its indentation included).
    pub start: usize,
    /// End of the opening line (the `\n`, or the text length).
    pub open_end: usize,
    /// Start of the closing line, or the text length when unclosed.
    pub close_start: usize,
    /// End of the closing line (before its `\n`), or the text length when unclosed.
    pub end: usize,
    /// Whether a closing line was found.
    pub closed: bool,
    /// The opening line without indentation or trailing whitespace (used to reopen).
    pub reopen: String,
    /// The closing line's fence run (e.g. ```` ``` ````; the opener's when unclosed), used
    /// as the synthesized closing line.
    pub marker: String,
}

impl Fence {
    /// Whether the fence can be closed and reopened within `limit` units while
    /// leaving room for content; otherwise chunking treats it as plain text.
    pub(crate) fn splittable(&self, limit: usize) -> bool {
        utf16_len(&self.reopen) + self.marker.len() + 2 + MIN_FENCE_CONTENT <= limit
    }
}

/// Parses a fence line: up to three spaces, then a run of at least three
/// backticks or tildes. Returns the fence char, run length and the rest.
pub(crate) fn fence_marker(line: &str) -> Option<(char, usize, &str)> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let body = &line[indent..];
    let ch = body.chars().next()?;
    if ch != '`' && ch != '~' {
        return None;
    }
    let run = body.len() - body.trim_start_matches(ch).len();
    if run < 3 {
        return None;
    }
    Some((ch, run, &body[run..]))
}

/// A chunk's text from its start: the leading whitespace [`Chunker::chunk_start`] kept stays
/// only while it still guards a whole fence-like first line (a tight limit can cut the line
/// short), or when the chunk continues a code block (indentation is code there).
fn kept_lead(piece: &str, in_fence: bool) -> &str {
    let first_line = piece.split('\n').next().unwrap_or_default();
    if in_fence || reads_as_new_fence(first_line) {
        piece
    } else {
        piece.trim_start()
    }
}

/// Whether `rest`, past spaces, tabs and `\r`, begins with a fence-like run.
pub(crate) fn starts_fence_like(rest: &str) -> bool {
    let rest = rest.trim_start_matches([' ', '\t', '\r']);
    rest.starts_with("```") || rest.starts_with("~~~")
}

/// A line that starts with a fence-like run (up to three spaces, then three or more backticks
/// or tildes), with the byte offsets that decide how the part of it before a cut reads.
/// Offsets are absolute in the text the line was found in.
#[derive(Clone, Copy)]
pub(crate) struct FenceHead {
    /// The shortest start of the line that reads as a fence line: three of the run.
    min: usize,
    /// The first non-whitespace character after the run (the line end if none).
    info: usize,
    /// The first backtick after the run (the line end if none).
    tick: usize,
    ch: char,
}

impl FenceHead {
    /// The head of the line starting at `start` in `text`, if it has one; `lead` also
    /// ignores leading tabs and `\r` and any number of spaces (a chunk's first line, which
    /// may start mid-line and loses that whitespace when sent).
    pub(crate) fn of_line(text: &str, start: usize, lead: bool) -> Option<FenceHead> {
        let rest = &text[start..];
        let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
        let body = if lead {
            line.trim_start_matches([' ', '\t', '\r'])
        } else {
            line.trim_start_matches(' ')
        };
        let indent = line.len() - body.len();
        let ch = body.chars().next()?;
        let run = body.len() - body.trim_start_matches(ch).len();
        if !matches!(ch, '`' | '~') || run < 3 || (indent > 3 && !lead) {
            return None;
        }
        let after = indent + run;
        let find = |pred: fn(char) -> bool| {
            start + line[after..].find(pred).map_or(line.len(), |i| after + i)
        };
        Some(FenceHead {
            min: start + indent + 3,
            info: find(|c| !c.is_whitespace()),
            tick: find(|c| c == '`'),
            ch,
        })
    }

    /// Whether the line cut at `b` reads as a fence line the whole line is not: a closing
    /// line (only the run) anywhere, or, outside a code block, an opening line.
    pub(crate) fn cut_reads_as_fence(&self, b: usize, outside: bool) -> bool {
        b >= self.min && (b <= self.info || (outside && (self.ch == '~' || b <= self.tick)))
    }
}

/// A line that is no fence as written but would be one without its leading whitespace.
pub(crate) fn reads_as_new_fence(line: &str) -> bool {
    fence_marker(line).is_none() && fence_marker(line.trim_start()).is_some()
}

/// Finds every fenced code block in `text`, in order, CommonMark style: a
/// backtick opener's info string cannot contain a backtick; a closer uses the
/// same char, is at least as long and has nothing but whitespace after it.
pub(crate) fn parse_fences(text: &str) -> Vec<Fence> {
    let mut fences = Vec::new();
    let mut open: Option<(usize, usize, char, usize, String)> = None;
    let mut offset = 0;
    loop {
        let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        let line = &text[offset..line_end];
        if let Some((ch, run, rest)) = fence_marker(line) {
            match &open {
                None => {
                    if !(ch == '`' && rest.contains('`')) {
                        open = Some((offset, line_end, ch, run, line.trim().to_string()));
                    }
                }
                Some((start, open_end, och, orun, reopen)) => {
                    if ch == *och && run >= *orun && rest.trim().is_empty() {
                        fences.push(Fence {
                            start: *start,
                            open_end: *open_end,
                            close_start: offset,
                            end: line_end,
                            closed: true,
                            reopen: reopen.clone(),
                            // The closer's run, which may be longer than the opener's:
                            // it also closes the reopened block and it replaces the
                            // closing line when that is all a chunk has left.
                            marker: ch.to_string().repeat(run),
                        });
                        open = None;
                    }
                }
            }
        }
        if line_end == text.len() {
            break;
        }
        offset = line_end + 1;
    }
    if let Some((start, open_end, och, orun, reopen)) = open {
        fences.push(Fence {
            start,
            open_end,
            close_start: text.len(),
            end: text.len(),
            closed: false,
            reopen,
            marker: och.to_string().repeat(orun),
        });
    }
    fences
}

/// The fence whose span strictly contains byte offset `b` (`start < b < end`).
pub(crate) fn fence_at(fences: &[Fence], b: usize) -> Option<&Fence> {
    let i = fences.partition_point(|f| f.start < b);
    let f = fences.get(i.checked_sub(1)?)?;
    (b < f.end).then_some(f)
}

/// Whether a blank line (only spaces, tabs or `\r`) follows the `\n` at `b`.
pub(crate) fn blank_line_after(text: &str, b: usize) -> bool {
    let rest = &text[b + 1..];
    let trimmed = rest.trim_start_matches([' ', '\t', '\r']);
    trimmed.starts_with('\n')
}

/// Characters that must stay attached to the character before them.
fn is_extend(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF
        | 0xFE20..=0xFE2F | 0x200D | 0xFE00..=0xFE0F | 0x1F3FB..=0x1F3FF
        | 0xE0020..=0xE007F | 0xE0100..=0xE01EF | 0x3099..=0x309A)
}

fn is_regional_indicator(c: char) -> bool {
    matches!(c as u32, 0x1F1E6..=0x1F1FF)
}

/// Whether cutting between `prev` and `c` keeps user-perceived characters whole
/// (a cheap approximation of grapheme cluster boundaries).
fn soft_boundary(prev: char, c: char) -> bool {
    !(is_extend(c)
        || prev == '\u{200D}'
        || (prev == '\r' && c == '\n')
        || (is_regional_indicator(prev) && is_regional_indicator(c)))
}

/// Sentence-ending punctuation that needs a following space.
pub(crate) fn is_sentence_punct(c: char) -> bool {
    matches!(c, '.' | '!' | '?')
}

/// CJK sentence-ending punctuation (no space follows in CJK text).
pub(crate) fn is_cjk_sentence_punct(c: char) -> bool {
    matches!(c, '。' | '！' | '？')
}

/// Splits `text` into chunks of at most `limit` UTF-16 units following the
/// module rules. A limit of 0 behaves as 1.
pub fn chunk_text(text: &str, limit: usize, mode: ChunkMode) -> Vec<String> {
    let limit = limit.max(1);
    match mode {
        ChunkMode::Length => Chunker::new(text, limit).run(),
        ChunkMode::Newline => split_paragraphs(text)
            .into_iter()
            .flat_map(|p| Chunker::new(p, limit).run())
            .collect(),
    }
}

/// Splits at every blank line outside fenced code; parts are trimmed at the end, blank parts
/// dropped.
pub(crate) fn split_paragraphs(text: &str) -> Vec<&str> {
    let fences = parse_fences(text);
    let mut parts = Vec::new();
    let mut start = 0;
    for (b, _) in text.match_indices('\n') {
        if b >= start && blank_line_after(text, b) && fence_at(&fences, b).is_none() {
            parts.push(&text[start..b]);
            start = b + 1;
        }
    }
    parts.push(&text[start..]);
    // Leading whitespace is the chunker's to drop: it keeps what a line needs.
    parts
        .into_iter()
        .map(str::trim_end)
        .filter(|p| !p.trim_start().is_empty())
        .collect()
}

/// Break preferences, best first.
#[derive(Clone, Copy)]
enum Rank {
    Paragraph = 0,
    Line,
    LineInFence,
    Sentence,
    Word,
    WordInFence,
    Hard,
    AnyChar,
    /// Inside a line, leaving a fence-like line on either side: a run of three or more
    /// backticks or tildes starts the next chunk, or is all this one's last line has.
    /// Only for a run (or such a line) too long for any other cut.
    InRun,
}
const RANKS: usize = 9;

struct Chunker<'a> {
    text: &'a str,
    limit: usize,
    /// `cum[i]` = UTF-16 units in `text[..i]` (meaningful at char boundaries).
    cum: Vec<usize>,
    fences: Vec<Fence>,
}

/// Where a fence stands relative to a candidate break.
enum Place<'f> {
    Outside,
    /// Inside the fence's content: the chunk needs a closing line.
    Inside(&'f Fence),
    /// Inside an opening or closing fence line: never cut there.
    Forbidden,
}

impl<'a> Chunker<'a> {
    fn new(text: &'a str, limit: usize) -> Self {
        let mut cum = vec![0; text.len() + 1];
        let mut acc = 0;
        for (i, c) in text.char_indices() {
            for slot in &mut cum[i..i + c.len_utf8()] {
                *slot = acc;
            }
            acc += c.len_utf16();
        }
        cum[text.len()] = acc;
        let fences = parse_fences(text)
            .into_iter()
            .filter(|f| f.splittable(limit))
            .collect();
        Chunker {
            text,
            limit,
            cum,
            fences,
        }
    }

    fn units(&self, a: usize, b: usize) -> usize {
        self.cum[b] - self.cum[a]
    }

    fn skip_ws(&self, from: usize) -> usize {
        let rest = &self.text[from..];
        from + (rest.len() - rest.trim_start().len())
    }

    /// Start of the line holding byte `pos`.
    fn line_start(&self, pos: usize) -> usize {
        self.text[..pos].rfind('\n').map_or(0, |i| i + 1)
    }

    /// Where a chunk after a split at `from` starts: past the whitespace, unless dropping
    /// the indentation (or a stray `\r`) of its first line would make that line read as a
    /// fence the input does not have (`    ```x` is indented code, `````x` would open a block).
    fn chunk_start(&self, from: usize) -> usize {
        let next = self.skip_ws(from);
        let text = self.text;
        let line_start = self.line_start(next);
        if line_start < from || line_start == next {
            return next;
        }
        let line_end = text[next..].find('\n').map_or(text.len(), |i| next + i);
        if reads_as_new_fence(&text[line_start..line_end]) {
            line_start
        } else {
            next
        }
    }

    /// The fence whose content a chunk starting at `pos` continues.
    fn open_fence_at(&self, pos: usize) -> Option<&Fence> {
        fence_at(&self.fences, pos).filter(|f| pos > f.open_end && pos <= f.close_start)
    }

    fn place(&self, b: usize) -> Place<'_> {
        match fence_at(&self.fences, b) {
            None => Place::Outside,
            Some(f) if b <= f.open_end || (f.closed && b > f.close_start) => Place::Forbidden,
            Some(f) => Place::Inside(f),
        }
    }

    fn run(&self) -> Vec<String> {
        let text = self.text;
        let mut out = Vec::new();
        let mut pos = self.chunk_start(0);
        while pos < text.len() {
            let open = self.open_fence_at(pos);
            let prefix_units = open.map_or(0, |f| utf16_len(&f.reopen) + 1);
            let rest_end = pos + text[pos..].trim_end().len();
            let mut chunk = String::new();
            if let Some(f) = open {
                chunk.push_str(&f.reopen);
                chunk.push('\n');
            }
            if prefix_units + self.units(pos, rest_end) <= self.limit {
                chunk.push_str(kept_lead(&text[pos..rest_end], open.is_some()));
                out.push(chunk);
                break;
            }
            let budget = self.limit.saturating_sub(prefix_units);
            let (b, close) = match self.pick_break(pos, budget) {
                Some(found) => found,
                None => {
                    // The indentation of a continued code line leaves no room: drop it.
                    let first = self.skip_ws(pos);
                    if first > pos && first < text.len() {
                        pos = first;
                    }
                    self.pick_break(pos, budget)
                        .unwrap_or_else(|| self.forced_break(pos))
                }
            };
            chunk.push_str(kept_lead(text[pos..b].trim_end(), open.is_some()));
            let mut next = self.chunk_start(b);
            if let Some(f) = close {
                chunk.push('\n');
                chunk.push_str(&f.marker);
                if f.closed && next >= f.close_start {
                    // Only the closing line is left: the synthesized one replaces it.
                    next = self.chunk_start(f.end);
                } else {
                    // Keep the indentation of the code line the next chunk starts with.
                    let line_start = self.line_start(next);
                    if line_start >= b {
                        next = line_start;
                    }
                }
            }
            if !chunk.trim().is_empty() {
                out.push(chunk);
            }
            debug_assert!(next > pos);
            pos = next;
        }
        out
    }

    /// Picks the split point for a chunk starting at `pos` with `budget` units
    /// for the text itself; returns it and the fence to close when it is inside one,
    /// or `None` when not even one character fits.
    fn pick_break(&self, pos: usize, budget: usize) -> Option<(usize, Option<&Fence>)> {
        let text = self.text;
        let first = self.skip_ws(pos);
        let min_b = first + text[first..].chars().next().map_or(0, char::len_utf8);
        let mut best: [Option<(usize, Option<&Fence>)>; RANKS] = [None; RANKS];
        let mut prev = '\0';
        // How the current line reads when cut (if it starts with a fence-like run).
        let mut head = FenceHead::of_line(text, pos, true);
        for (off, c) in text[pos..].char_indices() {
            let b = pos + off;
            let used = self.units(pos, b);
            if used > budget {
                break;
            }
            if prev == '\n' {
                head = FenceHead::of_line(text, b, false);
            }
            if b >= min_b {
                macro_rules! note {
                    ($rank:expr, $fence:expr) => {
                        best[$rank as usize] = Some((b, $fence))
                    };
                }
                let place = self.place(b);
                // A cut inside a line that leaves a fence-like line on either side of it.
                let makes_fence = c != '\n'
                    && (starts_fence_like(&text[b..])
                        || head.is_some_and(|h| {
                            h.cut_reads_as_fence(b, matches!(place, Place::Outside))
                        }));
                match place {
                    Place::Forbidden => {}
                    // A split inside a line should not leave a line that starts with a run
                    // of backticks or tildes at either end of a chunk: it would open (or
                    // close) a code block there.
                    Place::Outside if makes_fence => {
                        note!(Rank::InRun, None);
                    }
                    Place::Inside(f) if makes_fence => {
                        if used + 1 + f.marker.len() <= budget {
                            note!(Rank::InRun, Some(f));
                        }
                    }
                    Place::Outside => {
                        if c == '\n' {
                            if blank_line_after(text, b) {
                                note!(Rank::Paragraph, None);
                            } else {
                                note!(Rank::Line, None);
                            }
                        } else if is_cjk_sentence_punct(prev)
                            || (c.is_whitespace() && is_sentence_punct(prev))
                        {
                            note!(Rank::Sentence, None);
                        } else if c.is_whitespace() {
                            note!(Rank::Word, None);
                        }
                        if soft_boundary(prev, c) {
                            note!(Rank::Hard, None);
                        }
                        note!(Rank::AnyChar, None);
                    }
                    Place::Inside(f) => {
                        if used + 1 + f.marker.len() <= budget {
                            if c == '\n' {
                                note!(Rank::LineInFence, Some(f));
                            } else if c.is_whitespace() {
                                note!(Rank::WordInFence, Some(f));
                            }
                            if soft_boundary(prev, c) {
                                note!(Rank::Hard, Some(f));
                            }
                            note!(Rank::AnyChar, Some(f));
                        }
                    }
                }
            }
            prev = c;
        }
        self.spend_room_well(pos, budget, &best)
            .or_else(|| best.iter().flatten().next().copied())
    }

    /// The one exception to "best rank first": a paragraph break in the first half of the
    /// window, when what follows it needs more than one message anyway, would only add a
    /// short message (`Intro:` alone, then the long list). A line or sentence break in the
    /// second half is taken instead.
    fn spend_room_well<'f>(
        &self,
        pos: usize,
        budget: usize,
        best: &[Option<(usize, Option<&'f Fence>)>; RANKS],
    ) -> Option<(usize, Option<&'f Fence>)> {
        let (para, _) = best[Rank::Paragraph as usize]?;
        let half = budget / 2;
        let end = self.text.trim_end().len();
        let rest = self.skip_ws(para).min(end);
        if self.units(pos, para) >= half || self.units(rest, end) <= self.limit {
            return None;
        }
        [Rank::Line, Rank::Sentence]
            .into_iter()
            .filter_map(|r| best[r as usize])
            .find(|&(b, _)| self.units(pos, b) >= half)
    }

    /// Nothing fits (degenerate limit): the first character goes alone.
    fn forced_break(&self, pos: usize) -> (usize, Option<&Fence>) {
        let first = self.skip_ws(pos);
        let b = first + self.text[first..].chars().next().map_or(0, char::len_utf8);
        match self.place(b) {
            Place::Inside(f) => (b, Some(f)),
            _ => (b, None),
        }
    }
}

#[doc(hidden)]
pub mod invariants;

#[cfg(test)]
mod tests;
