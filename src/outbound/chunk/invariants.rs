//! The invariants every chunking keeps, as a checker shared by the unit property tests,
//! the fuzz targets (`fuzz/`) and their regression tests (`tests/fuzz_regressions.rs`).
//! Not part of the supported API.

use super::{fence_marker, parse_fences, reads_as_new_fence, utf16_len};

/// Checks a chunking of `input` at `limit`; `Err` names the first broken invariant.
///
/// - no chunk is empty or starts/ends with whitespace (except leading whitespace that keeps
///   its first line from reading as a fence), none holds a lone surrogate;
/// - every chunk is at most `limit` UTF-16 units (for `limit >= 2`: below that a single
///   character may be wider than the limit);
/// - content is preserved modulo whitespace and the fence lines the chunker adds (see
///   [`content_preserved`]);
/// - for `limit >= 32`, when every fence of the input is closed and splittable, every
///   chunk's fences that open like one of the input's are closed too. Not checked when a
///   line too long for one chunk (with the fence lines around it) holds a run of three
///   backticks or tildes: every cut of it may leave a piece that reads as a fence line.
///   (A hard split inside a line can also leave a chunk starting with a fence-like run the
///   input did not have as a fence; such chunks are not checked either.)
pub fn check_chunks(input: &str, chunks: &[String], limit: usize) -> Result<(), String> {
    content_preserved(input, chunks)?;
    let fences = parse_fences(input);
    let overhead = fences
        .iter()
        .map(|f| utf16_len(&f.reopen) + f.marker.len() + 2)
        .max()
        .unwrap_or(0);
    // A line that must be cut and holds a run of three backticks or tildes may have no cut
    // that keeps every piece from reading as a fence line (```` ``x`` ```` runs on both sides).
    let cut_run_line = input.split('\n').any(|line| {
        utf16_len(line) + overhead > limit && (line.contains("```") || line.contains("~~~"))
    });
    let balanced_input = fences.iter().all(|f| f.closed && f.splittable(limit)) && !cut_run_line;
    for c in chunks {
        if c.trim().is_empty() {
            return Err("empty chunk".to_owned());
        }
        let first_line = c.split('\n').next().unwrap_or_default();
        if c.trim_end() != c || (c.trim_start() != c && !reads_as_new_fence(first_line)) {
            return Err(format!("chunk not trimmed: {c:?}"));
        }
        if !char::decode_utf16(c.encode_utf16()).all(|r| r.is_ok()) {
            return Err(format!("lone surrogate in {c:?}"));
        }
        if limit >= 2 && utf16_len(c) > limit {
            return Err(format!("chunk of {} > {limit}: {c:?}", utf16_len(c)));
        }
        if limit >= 32
            && balanced_input
            && parse_fences(c)
                .iter()
                .any(|f| !f.closed && fences.iter().any(|g| g.reopen == f.reopen))
        {
            return Err(format!("unbalanced fence: {c:?}"));
        }
    }
    Ok(())
}

/// The chunks, whitespace removed, spell the input, whitespace removed, once the fence lines
/// the chunker added (closing a split block, reopening it) are skipped.
///
/// Matched line by line against the input: a chunk line that continues the input is
/// consumed, a fence line may be taken as added instead, anything else is an error. Line
/// based on the chunks only, so a hard split that makes a chunk start with a fence-like run
/// (`~~~` cut out of `A~~~`) is no false alarm.
pub fn content_preserved(input: &str, chunks: &[String]) -> Result<(), String> {
    let plain = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let want = plain(input);
    // (plain text, is a fence line) of every chunk line, in order.
    let lines: Vec<(String, bool)> = chunks
        .iter()
        .flat_map(|c| c.split('\n'))
        .map(|l| (plain(l), fence_marker(l).is_some()))
        .collect();
    // Depth-first over (line, input offset): a fence line that also continues the input may
    // be either, so both are tried; `seen` keeps it linear in lines x offsets.
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![(0usize, 0usize)];
    let mut furthest = (0usize, 0usize);
    while let Some((i, pos)) = stack.pop() {
        if !seen.insert((i, pos)) {
            continue;
        }
        furthest = furthest.max((i, pos));
        let Some((line, fence)) = lines.get(i) else {
            if pos == want.len() {
                return Ok(());
            }
            continue;
        };
        if *fence {
            stack.push((i + 1, pos));
        }
        if want[pos..].starts_with(line.as_str()) {
            stack.push((i + 1, pos + line.len()));
        }
    }
    let (i, pos) = furthest;
    Err(format!(
        "content changed: chunk line {:?} does not continue the input at {:?}",
        lines.get(i).map_or("<end>", |l| l.0.as_str()),
        want[pos..].chars().take(40).collect::<String>()
    ))
}
