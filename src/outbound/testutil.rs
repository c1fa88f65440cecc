//! Shared helpers for the outbound property tests: a seeded generator of
//! markdown-ish replies and the invariants every chunking must keep.

use super::chunk::invariants;
use rand::rngs::StdRng;
use rand::Rng;

const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789";
const EMOJI: &[&str] = &[
    "😀",
    "👨\u{200D}👩\u{200D}👧\u{200D}👦",
    "🇫🇷",
    "👍🏽",
    "❤\u{FE0F}",
];
const CJK: &[&str] = &["你好世界。", "日本語です！", "这是什么？", "漢字"];
const COMBINING: &[&str] = &["e\u{301}", "a\u{308}\u{323}", "n\u{303}"];
const FENCES: &[(&str, &str)] = &[
    ("```", "```"),
    ("```rust", "```"),
    ("~~~~ python", "~~~~"),
    ("  ```", "```"),
    ("````js", "````"),
];

/// Property-test size and seed: `OUTBOUND_PROPTEST_CASES` and
/// `OUTBOUND_PROPTEST_SEED` override the defaults for longer local runs.
pub(crate) fn proptest_params(default_cases: usize, default_seed: u64) -> (usize, u64) {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    (
        env("OUTBOUND_PROPTEST_CASES").map_or(default_cases, |n| n as usize),
        env("OUTBOUND_PROPTEST_SEED").unwrap_or(default_seed),
    )
}

fn word(rng: &mut StdRng, min: usize, max: usize) -> String {
    let n = rng.random_range(min..=max);
    (0..n)
        .map(|_| LETTERS[rng.random_range(0..LETTERS.len())] as char)
        .collect()
}

fn pick<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

/// A random reply mixing words, long words, newlines, paragraphs, sentence
/// ends, fenced blocks (always closed), emoji, CJK and combining marks.
/// Backticks and tildes appear only in fence lines.
pub(crate) fn random_text(rng: &mut StdRng, tokens: usize) -> String {
    let mut s = String::new();
    for _ in 0..tokens {
        match rng.random_range(0..100) {
            0..=39 => {
                s.push_str(&word(rng, 1, 9));
                s.push(' ');
            }
            40..=43 => {
                s.push_str(&word(rng, 30, 140));
                s.push(' ');
            }
            44..=51 => s.push('\n'),
            52..=56 => s.push_str(pick(rng, &["\n\n", "\n \n", "\n\n\n"])),
            57..=63 => s.push_str(pick(rng, &[". ", "! ", "? ", ".\n"])),
            64..=69 => s.push_str(pick(rng, EMOJI)),
            70..=75 => s.push_str(pick(rng, CJK)),
            76..=80 => {
                s.push_str(pick(rng, COMBINING));
                s.push(' ');
            }
            81..=84 => {
                let (open, close) = FENCES[rng.random_range(0..FENCES.len())];
                if !s.is_empty() && !s.ends_with('\n') {
                    s.push('\n');
                }
                s.push_str(open);
                s.push('\n');
                for _ in 0..rng.random_range(0..12) {
                    let indent = rng.random_range(0..3) * 4;
                    s.push_str(&" ".repeat(indent));
                    match rng.random_range(0..6) {
                        0 => {}
                        1 => s.push_str(&word(rng, 40, 160)),
                        2 => s.push_str(pick(rng, EMOJI)),
                        _ => {
                            s.push_str(&word(rng, 1, 8));
                            s.push_str(" = ");
                            s.push_str(&word(rng, 1, 12));
                            s.push(';');
                        }
                    }
                    s.push('\n');
                }
                s.push_str(close);
                s.push('\n');
            }
            _ => s.push(' '),
        }
    }
    s
}

/// Asserts the invariants of a chunking of `input` (see [`invariants::check_chunks`]).
pub(crate) fn check_chunks(input: &str, chunks: &[String], limit: usize, ctx: &str) {
    if let Err(e) = invariants::check_chunks(input, chunks, limit) {
        panic!("{e} ({ctx})");
    }
}
