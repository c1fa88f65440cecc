//! What the server derives from a message's text: `mentions`, `channels`, `urls` and the `md` AST.

use serde_json::{json, Value};

/// A `@name` or `#name` token found in text, with its byte range.
struct Token<'a> {
    start: usize,
    end: usize,
    name: &'a str,
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Tokens `<sigil>name` that start the text or follow a non-name character.
fn tokens(text: &str, sigil: char) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        if c == sigil && prev.is_none_or(|p| !is_name_char(p) && p != sigil) {
            let rest = &text[i + c.len_utf8()..];
            let len: usize = rest
                .chars()
                .take_while(|&c| is_name_char(c))
                .map(char::len_utf8)
                .sum();
            // Names do not end with a dot (a sentence's full stop).
            let name = rest[..len].trim_end_matches('.');
            if !name.is_empty() {
                out.push(Token {
                    start: i,
                    end: i + c.len_utf8() + name.len(),
                    name,
                });
            }
        }
        prev = Some(c);
    }
    out
}

/// Usernames mentioned with `@name` (including `all` and `here`), in order, without repeats.
pub fn mentioned_names(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for t in tokens(text, '@') {
        if !names.iter().any(|n| n == t.name) {
            names.push(t.name.to_owned());
        }
    }
    names
}

/// Channel names referenced with `#name`.
pub fn channel_names(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for t in tokens(text, '#') {
        if !names.iter().any(|n| n == t.name) {
            names.push(t.name.to_owned());
        }
    }
    names
}

/// `http(s)://` links, as `urls: [{url}]` entries.
pub fn urls(text: &str) -> Vec<Value> {
    text.split(|c: char| c.is_whitespace() || c == '<' || c == '>')
        .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
        .map(|w| json!({ "url": w.trim_end_matches(['.', ',', ')', '!', '?']) }))
        .collect()
}

/// A small `md` AST: one PARAGRAPH per line (a CODE block for fenced code), with PLAIN_TEXT and
/// MENTION_USER inlines. Real servers produce a richer tree; clients read only what this gives.
pub fn markdown_ast(text: &str, known_user: impl Fn(&str) -> bool) -> Value {
    if text.is_empty() {
        return json!([]);
    }
    let mut blocks = Vec::new();
    let mut in_code: Option<Vec<Value>> = None;
    for line in text.split('\n') {
        if line.trim_start().starts_with("```") {
            match in_code.take() {
                Some(lines) => {
                    blocks.push(json!({"type": "CODE", "language": "none", "value": lines}))
                }
                None => in_code = Some(Vec::new()),
            }
            continue;
        }
        if let Some(lines) = in_code.as_mut() {
            lines
                .push(json!({"type": "CODE_LINE", "value": {"type": "PLAIN_TEXT", "value": line}}));
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let mut inlines = Vec::new();
        let mut pos = 0;
        for t in tokens(line, '@') {
            if !known_user(t.name) && t.name != "all" && t.name != "here" {
                continue;
            }
            if t.start > pos {
                inlines.push(json!({"type": "PLAIN_TEXT", "value": &line[pos..t.start]}));
            }
            inlines.push(
                json!({"type": "MENTION_USER", "value": {"type": "PLAIN_TEXT", "value": t.name}}),
            );
            pos = t.end;
        }
        if pos < line.len() {
            inlines.push(json!({"type": "PLAIN_TEXT", "value": &line[pos..]}));
        }
        blocks.push(json!({"type": "PARAGRAPH", "value": inlines}));
    }
    if let Some(lines) = in_code {
        blocks.push(json!({"type": "CODE", "language": "none", "value": lines}));
    }
    Value::Array(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_mentions_like_the_server() {
        assert_eq!(
            mentioned_names("hello @mybot, what's up? cc @Alice."),
            ["mybot", "Alice"]
        );
        assert_eq!(mentioned_names("mail me at a@b.c"), Vec::<String>::new());
        assert_eq!(mentioned_names("@all @here @all"), ["all", "here"]);
    }

    #[test]
    fn md_matches_the_vector_shape() {
        let md = markdown_ast("hello @mybot, what's the status?", |u| u == "mybot");
        assert_eq!(
            md,
            json!([{"type": "PARAGRAPH", "value": [
                {"type": "PLAIN_TEXT", "value": "hello "},
                {"type": "MENTION_USER", "value": {"type": "PLAIN_TEXT", "value": "mybot"}},
                {"type": "PLAIN_TEXT", "value": ", what's the status?"}]}])
        );
    }

    #[test]
    fn finds_links() {
        assert_eq!(
            urls("see https://x.test/a. ok"),
            vec![json!({"url": "https://x.test/a"})]
        );
    }
}
