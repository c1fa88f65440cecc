use super::*;
use crate::outbound::testutil::{check_chunks, proptest_params, random_text};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn len(text: &str, limit: usize) -> Vec<String> {
    chunk_text(text, limit, ChunkMode::Length)
}

#[test]
fn empty_and_whitespace_give_no_chunks() {
    assert!(len("", 10).is_empty());
    assert!(len(" \n\n\t ", 10).is_empty());
    assert!(chunk_text("\n\n", 10, ChunkMode::Newline).is_empty());
}

#[test]
fn short_text_is_one_trimmed_chunk() {
    assert_eq!(len("  hello world \n", 100), ["hello world"]);
}

#[test]
fn serde_names_are_lowercase() {
    assert_eq!(
        serde_json::to_string(&ChunkMode::Newline).unwrap(),
        "\"newline\""
    );
    let m: ChunkMode = serde_json::from_str("\"length\"").unwrap();
    assert_eq!(m, ChunkMode::Length);
    assert_eq!(ChunkMode::default(), ChunkMode::Length);
}

#[test]
fn split_preferences_table() {
    let cases: &[(&str, usize, &[&str])] = &[
        // Paragraph beats a later line break.
        (
            "aaaa bbbb\n\ncccc\ndddd eeee",
            20,
            &["aaaa bbbb", "cccc\ndddd eeee"],
        ),
        // ... unless it comes early and what follows needs two messages anyway: then a
        // late line break saves a message.
        (
            "Intro:\n\nl1 aa\nl2 bb\nl3 cc\nl4 dd",
            20,
            &["Intro:\n\nl1 aa\nl2 bb", "l3 cc\nl4 dd"],
        ),
        // An early paragraph break still wins when the rest fits one message.
        (
            "Intro:\n\nl1 aa\nl2 bb\nl3 cc",
            20,
            &["Intro:", "l1 aa\nl2 bb\nl3 cc"],
        ),
        // Line break beats a later sentence end and word.
        ("aaaa\nbbb. ccc ddd eee", 16, &["aaaa", "bbb. ccc ddd eee"]),
        // Sentence end beats a later space.
        (
            "One two. Three four five",
            16,
            &["One two.", "Three four five"],
        ),
        ("Wow! Such words here", 12, &["Wow!", "Such words", "here"]),
        // CJK sentence end, no space needed.
        ("你好世界。再见朋友们", 6, &["你好世界。", "再见朋友们"]),
        // Word boundary.
        ("alpha beta gamma delta", 11, &["alpha beta", "gamma delta"]),
        // Hard split of a long word.
        ("abcdefghij", 4, &["abcd", "efgh", "ij"]),
    ];
    for (text, limit, expected) in cases {
        assert_eq!(len(text, *limit), *expected, "{text:?} @ {limit}");
    }
}

#[test]
fn limit_counts_utf16_units() {
    // 😀 is 2 units: four fit in 8.
    let text = "😀😀😀😀😀😀";
    assert_eq!(len(text, 8), ["😀😀😀😀", "😀😀"]);
    assert_eq!(utf16_len("😀é"), 3);
}

#[test]
fn hard_split_keeps_clusters_whole() {
    // Never split between a base char and its combining mark.
    let text = "ae\u{301}e\u{301}e\u{301}";
    for c in len(text, 2) {
        assert!(!c.starts_with('\u{301}'), "{c:?}");
    }
    // ZWJ family (11 units) is not cut when the limit allows it whole.
    let fam = "👨\u{200D}👩\u{200D}👧\u{200D}👦";
    let text = format!("{fam}{fam}{fam}");
    assert_eq!(len(&text, 12), [fam, fam, fam]);
    // Flags stay paired; skin tone stays with its emoji.
    assert_eq!(len("🇫🇷🇩🇪🇮🇹", 4), ["🇫🇷", "🇩🇪", "🇮🇹"]);
    assert_eq!(len("👍🏽👍🏽", 5), ["👍🏽", "👍🏽"]);
}

#[test]
fn fence_moves_whole_to_next_chunk_when_it_fits() {
    let text = "intro text here\n```\ncode 1\ncode 2\n```\nafter";
    let chunks = len(text, 30);
    assert_eq!(chunks[0], "intro text here");
    assert_eq!(chunks[1], "```\ncode 1\ncode 2\n```\nafter");
}

#[test]
fn long_fence_is_closed_and_reopened_with_info_string() {
    let body: Vec<String> = (0..10).map(|i| format!("let x{i} = {i};")).collect();
    let text = format!("```rust\n{}\n```", body.join("\n"));
    let chunks = len(&text, 60);
    assert!(chunks.len() > 1);
    for c in &chunks {
        assert!(c.starts_with("```rust\n"), "{c:?}");
        assert!(c.ends_with("\n```"), "{c:?}");
        assert!(utf16_len(c) <= 60);
    }
    check_chunks(&text, &chunks, 60, "fence");
    // Code lines are not split: every body line appears whole in some chunk.
    for line in &body {
        assert!(
            chunks.iter().any(|c| c.lines().any(|l| l == line)),
            "{line}"
        );
    }
}

#[test]
fn fence_variants_are_recognised() {
    for (open, close) in [("~~~", "~~~"), ("````py", "````"), ("   ```sh", "```")] {
        let body = "line one here\nline two here\nline three here\nline four here";
        let text = format!("{open}\n{body}\n{close}");
        let chunks = len(&text, 40);
        assert!(chunks.len() > 1, "{open}");
        for c in &chunks {
            assert!(c.starts_with(open.trim()), "{c:?}");
            assert!(c.ends_with(close), "{c:?}");
        }
    }
}

#[test]
fn code_indentation_survives_reopen() {
    let text = "```\nfn a() {\n    one();\n    two();\n    three();\n}\n```";
    let chunks = len(text, 30);
    assert!(
        chunks.iter().skip(1).any(|c| c.contains("```\n    ")),
        "{chunks:?}"
    );
}

#[test]
fn unclosed_fence_runs_to_end() {
    let text = "```\naaaa aaaa\nbbbb bbbb\ncccc cccc\ndddd dddd";
    let chunks = len(text, 24);
    assert!(chunks.len() > 1);
    for c in &chunks[..chunks.len() - 1] {
        assert!(c.ends_with("\n```"), "{c:?}");
    }
    let last = chunks.last().unwrap();
    assert!(
        last.starts_with("```\n") && !last.ends_with("\n```"),
        "{last:?}"
    );
}

#[test]
fn blank_lines_inside_fence_are_not_paragraphs() {
    let text = "para one\n\n```\ncode a\n\ncode b\n```\n\npara two";
    assert_eq!(
        chunk_text(text, 100, ChunkMode::Newline),
        ["para one", "```\ncode a\n\ncode b\n```", "para two"]
    );
}

#[test]
fn newline_mode_splits_every_paragraph_then_by_length() {
    let text = "first\nstill first\n\n \n\nsecond is a longer one here";
    assert_eq!(
        chunk_text(text, 100, ChunkMode::Newline),
        ["first\nstill first", "second is a longer one here"]
    );
    assert_eq!(
        chunk_text(text, 16, ChunkMode::Newline),
        ["first", "still first", "second is a", "longer one here"]
    );
}

#[test]
fn tiny_limits_never_panic_or_loop() {
    let text = "```rust\nfn main() {}\n```\n😀 héllo 👨\u{200D}👩\u{200D}👧 wörld\n\n你好。";
    for limit in 0..20 {
        for mode in [ChunkMode::Length, ChunkMode::Newline] {
            let chunks = chunk_text(text, limit, mode);
            check_chunks(text, &chunks, limit, &format!("limit {limit}"));
        }
    }
}

#[test]
fn chunks_are_stable_under_rechunking() {
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..100 {
        let text = random_text(&mut rng, 120);
        let limit = rng.random_range(40..300);
        for c in len(&text, limit) {
            assert_eq!(len(&c, limit), vec![c]);
        }
    }
}

#[test]
fn property_random_texts_and_limits() {
    let (cases, seed) = proptest_params(600, 0x5eed_c0de);
    let mut rng = StdRng::seed_from_u64(seed);
    for case in 0..cases {
        let tokens = rng.random_range(0..250);
        let text = random_text(&mut rng, tokens);
        let limit = match case % 4 {
            0 => rng.random_range(1..32),
            1 => rng.random_range(32..80),
            _ => rng.random_range(80..1200),
        };
        for mode in [ChunkMode::Length, ChunkMode::Newline] {
            let chunks = chunk_text(&text, limit, mode);
            check_chunks(
                &text,
                &chunks,
                limit,
                &format!("case {case} {mode:?} @ {limit}"),
            );
        }
    }
}

#[test]
fn a_chunk_never_turns_indented_code_into_a_fence() {
    // `    ```x` is an indented code line, not a fence: dropping its indentation at a split
    // would open a code block in Rocket.Chat that swallows the rest of the chunk.
    let text = "Some intro text here.\n    ```not a fence\nmore text after it";
    let chunks = len(text, 25);
    assert_eq!(
        chunks,
        [
            "Some intro text here.",
            "    ```not a fence",
            "more text after it"
        ]
    );
    check_chunks(text, &chunks, 25, "indented code");
    // The same in newline mode, where the paragraph split used to trim it away.
    let text = "intro\n\n    ```x\ncode";
    let chunks = chunk_text(text, 100, ChunkMode::Newline);
    assert_eq!(chunks, ["intro", "    ```x\ncode"]);
    // A real fence indented up to three spaces is still trimmed like any line.
    assert_eq!(len("   ```\ncode\n```", 100), ["```\ncode\n```"]);
}

#[test]
fn a_longer_closing_fence_is_kept_as_written() {
    // Every chunk of the block closes with the input's longer run, whether the chunker
    // adds the line or the input's own closing line is all that is left.
    for n in 25..40 {
        let body = "x".repeat(n);
        let text = format!("```\n{body}\n{body}\n````\nafter");
        let chunks = len(&text, 40);
        let closes: Vec<&str> = chunks
            .iter()
            .filter_map(|c| c.lines().last().filter(|l| l.starts_with('`')))
            .collect();
        assert!(
            !closes.is_empty() && closes.iter().all(|l| *l == "````"),
            "{chunks:#?}"
        );
        check_chunks(&text, &chunks, 40, "long closing fence");
    }
}

#[test]
fn a_run_of_backticks_longer_than_a_chunk_is_cut_inside_it() {
    // Before: no cut was allowed before a mid-line run, so nothing fit and the opening
    // fence line went out one backtick per message.
    let run = "`".repeat(60);
    let text = format!("Intro.\n```\n{run}x\n```");
    let chunks = len(&text, 40);
    assert_eq!(chunks[0], "Intro.");
    assert!(chunks[1].starts_with("```\n``"), "{chunks:?}");
    assert!(chunks.iter().all(|c| c.len() > 3), "{chunks:?}");
    check_chunks(&text, &chunks, 40, "long run");
    // A run that fits is still never cut with three or more backticks left over.
    let text = format!("{} then {}x here", "a".repeat(20), "`".repeat(10));
    let chunks = len(&text, 20);
    assert!(
        chunks.iter().all(|c| fence_marker(c).is_none()),
        "{chunks:?}"
    );
    check_chunks(&text, &chunks, 20, "run that fits");
}

#[test]
fn a_cut_never_leaves_a_line_of_only_backticks_that_the_input_did_not_have() {
    // The space after the run is the best word break, but cut there the chunk's code line
    // would be the run alone, which closes the reopened block early.
    let text = format!("```\n{} {}\n```", "`".repeat(20), "y".repeat(30));
    let chunks = len(&text, 40);
    check_chunks(&text, &chunks, 40, "run, space, word in a block");
    for c in &chunks {
        assert!(parse_fences(c).iter().all(|f| f.closed), "{chunks:#?}");
    }
}
