//! `mentionPatterns`: regular expressions that count as mentioning the bot (a name alias,
//! the host agent's own patterns). The sources usually come from OpenClaw, written for
//! JavaScript's `RegExp` with the `i` flag; the common subset (classes, groups, `\b`,
//! quantifiers, escaped punctuation such as `\/`) means the same here. Lookaround and
//! backreferences do not exist in this engine: such a pattern is a config error naming it
//! (see `config::check`), never a silently ignored alias.

use regex_automata::meta::{self, Regex};
use regex_automata::util::syntax;

/// Bigger compiled patterns than this are refused: an alias list, not a program.
const NFA_SIZE_LIMIT: usize = 1 << 20;

/// The compiled `mentionPatterns` of one account (none: never matches).
#[derive(Debug, Clone, Default)]
pub struct MentionPatterns {
    regexes: Vec<Regex>,
}

impl MentionPatterns {
    /// Compile one pattern (case-insensitive, as OpenClaw's), or say why it cannot be used.
    pub fn compile(pattern: &str) -> Result<Regex, String> {
        Regex::builder()
            .syntax(syntax::Config::new().case_insensitive(true))
            .configure(meta::Config::new().nfa_size_limit(Some(NFA_SIZE_LIMIT)))
            .build(pattern)
            .map_err(|e| {
                // A syntax error's last line is the reason; the lines above repeat the pattern.
                let text = e
                    .syntax_error()
                    .map_or_else(|| e.to_string(), ToString::to_string);
                let reason = text
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("");
                reason.trim().trim_start_matches("error:").trim().to_owned()
            })
    }

    /// The patterns that compile (the config check reported the others) and are not blank.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> MentionPatterns {
        let regexes = patterns
            .iter()
            .map(AsRef::as_ref)
            .filter(|p| !p.trim().is_empty())
            .filter_map(|p| Self::compile(p).ok())
            .collect();
        MentionPatterns { regexes }
    }

    /// Whether any pattern matches `text`, ignoring zero-width and bidi control characters
    /// (which OpenClaw removes before matching too, so `Bo\u{200b}t` still names `bot`).
    pub fn matches(&self, text: &str) -> bool {
        if self.regexes.is_empty() {
            return false;
        }
        let cleaned: String = text.chars().filter(|c| !is_invisible(*c)).collect();
        self.regexes.iter().any(|r| r.is_match(cleaned.as_str()))
    }
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{206f}')
}
