//! Text handling for gating: `onchar` prefixes, removing the bot's `@username`,
//! and recognising control commands.

/// If `text` (after leading whitespace) starts with one of `prefixes`, the rest
/// with leading whitespace removed. The longest matching prefix wins (so `!!`
/// beats `!`); prefixes are trimmed and blank ones ignored, so a blank prefix
/// can never make every message a trigger.
pub fn strip_onchar_prefix<'a, S: AsRef<str>>(text: &'a str, prefixes: &[S]) -> Option<&'a str> {
    let trimmed = text.trim_start();
    prefixes
        .iter()
        .map(|p| p.as_ref().trim())
        .filter(|p| !p.is_empty())
        .filter(|p| trimmed.starts_with(p))
        .max_by_key(|p| p.len())
        .map(|p| trimmed[p.len()..].trim_start())
}

/// Whether `text` is a control command for the host: `/` directly followed by
/// a word (an ASCII letter, then letters, digits, `_` or `-`), ending the text
/// or followed by whitespace or `:`. `/reset`, `/new now` and `/think:high`
/// are; `/`, `/ reset`, `//x`, `/usr/bin` and `a /reset` are not. Leading
/// whitespace is ignored.
pub fn is_control_command(text: &str) -> bool {
    let Some(rest) = text.trim_start().strip_prefix('/') else {
        return false;
    };
    let mut chars = rest.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_alphabetic()) {
        return false;
    }
    for c in chars {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            continue;
        }
        return c.is_whitespace() || c == ':';
    }
    true
}

/// `text` in the `/` form when it is a control command typed with `prefix` instead of `/`
/// (`!reset now` → `/reset now`), else `None`. An empty prefix matches nothing.
pub fn prefixed_command(text: &str, prefix: &str) -> Option<String> {
    if prefix.is_empty() {
        return None;
    }
    let slash = format!("/{}", text.trim_start().strip_prefix(prefix)?);
    is_control_command(&slash).then_some(slash)
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// Byte length of `@username` at the start of `s` (case-insensitive, at a word
/// boundary on the right as in [`crate::inbound::mentions_username`]), if there.
fn mention_len_at(s: &str, username: &str) -> Option<usize> {
    let mut rest = s.strip_prefix('@')?.char_indices();
    let mut end = 1;
    for u in username.chars() {
        let (i, c) = rest.next()?;
        if !c.to_lowercase().eq(u.to_lowercase()) {
            return None;
        }
        end = 1 + i + c.len_utf8();
    }
    let mut after = s[end..].chars();
    let ok = match after.next() {
        None => true,
        Some('.') => after.next().is_none_or(|c| !is_name_char(c)),
        Some(c) => !is_name_char(c),
    };
    ok.then_some(end)
}

/// Remove every `@username` mention (case-insensitive, at word boundaries) and
/// tidy the seams, then trim:
///
/// - `@bot: do X` / `@bot, do X` → `do X` (a leading mention takes its `:`/`,`);
/// - `hello @bot, how?` → `hello, how?` (no space left before punctuation);
/// - `ask @bot about it` → `ask about it` (one space kept).
///
/// Line breaks are kept. An empty `username` removes nothing (text only trimmed).
pub fn strip_bot_mention(text: &str, username: &str) -> String {
    if username.is_empty() {
        return text.trim().to_owned();
    }
    // Every text passes here: copy the stretches between `@`s whole, look only at the `@`s.
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut search = 0;
    while let Some(off) = text[search..].find('@') {
        let at = search + off;
        search = at + 1;
        let before_ok = text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(is_name_char(c) || c == '.'));
        let Some(len) = before_ok
            .then(|| mention_len_at(&text[at..], username))
            .flatten()
        else {
            continue;
        };
        out.push_str(&text[copied..at]);
        let mut i = at + len;
        let leading = out.trim().is_empty();
        let next = text[i..].chars().next();
        if leading && matches!(next, Some(':' | ',')) {
            i += 1;
        } else if matches!(next, Some(',' | ':' | ';' | '.' | '!' | '?')) {
            let kept = out.trim_end_matches([' ', '\t']).len();
            out.truncate(kept);
        }
        if out.is_empty() || out.ends_with([' ', '\t', '\n']) {
            i += text[i..].len() - text[i..].trim_start_matches([' ', '\t']).len();
        }
        copied = i;
        search = i;
    }
    out.push_str(&text[copied..]);
    out.trim().to_owned()
}
