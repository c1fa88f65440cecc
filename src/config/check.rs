//! Checks of single values, run once per layer where the value is written, so an inherited
//! bad value is reported once, at its own path. The ranges of every number live here.

use super::base_url::{quoted, BaseUrl};
use super::error::{ConfigProblem, Diagnostics};
use super::layer::join;
use super::model::AccountSection;
use crate::secret::Secret;

pub(super) const PEM_CERT: &str = "-----BEGIN CERTIFICATE-----";

/// A whole-number key and its allowed range.
struct WholeRange {
    min: i64,
    max: i64,
    /// How the range reads in a message.
    words: &'static str,
}

const WINDOW_MINUTES: WholeRange = WholeRange {
    min: 0,
    max: 525_600,
    words: "a whole number of minutes from 0 (off) to 525600 (a year)",
};
const TEXT_CHUNK_LIMIT: WholeRange = WholeRange {
    min: 20,
    max: 100_000,
    words: "a whole number of characters from 20 to 100000",
};
const COALESCE_MIN_CHARS: WholeRange = WholeRange {
    min: 0,
    max: 100_000,
    words: "a whole number of characters from 0 to 100000",
};
const STALL_MS: WholeRange = WholeRange {
    min: 5_000,
    max: 3_600_000,
    words: "a whole number of milliseconds from 5000 to 3600000 (an hour)",
};

const COALESCE_IDLE_MS: WholeRange = WholeRange {
    min: 0,
    max: 600_000,
    words: "a whole number of milliseconds from 0 to 600000 (10 minutes)",
};
/// Uploads are read into memory; more than this is a typo, not a plan.
const MEDIA_MAX_MB: f64 = 4096.0;

/// Every value check of one layer, at `prefix`.
pub(super) fn check_values(l: &AccountSection, prefix: &str, d: &mut Diagnostics) {
    let at = |key: &str| join(prefix, key);
    if let Some(raw) = &l.base_url {
        if let Err(reason) = BaseUrl::parse(raw) {
            d.error(ConfigProblem::new(
                at("baseUrl"),
                format!("{reason}: {}", quoted(raw)),
            ));
        }
    }
    check_id(
        l.auth_token.as_ref().map(Secret::expose),
        &at("authToken"),
        d,
    );
    check_id(l.user_id.as_deref(), &at("userId"), d);
    check_id(l.username.as_deref(), &at("username"), d);
    if l.onchar_prefixes
        .as_ref()
        .is_some_and(|p| p.iter().any(String::is_empty))
    {
        d.error(ConfigProblem::new(
            at("oncharPrefixes"),
            "must not contain an empty prefix",
        ));
    }
    if let Some(p) = l.command_prefix.as_deref() {
        if p.chars().count() > 4
            || p.chars()
                .any(|c| c.is_alphanumeric() || c.is_whitespace() || c.is_control())
        {
            d.error(ConfigProblem::new(
                at("commandPrefix"),
                format!("{} cannot stand for `/`: use up to 4 symbols such as \"!\" or \".\", or \"\" to accept only `/`", quoted(p)),
            ));
        }
    }
    if let Some(r) = l.ack_reaction.as_deref() {
        check_reaction(r, &at("ackReaction"), d);
    }
    if let Some(s) = &l.streaming {
        let sp = at("streaming");
        check_whole_u(s.stall_ms, &STALL_MS, &join(&sp, "stallMs"), d);
        if let Some(p) = &s.placeholder {
            if p.trim().is_empty() || p.chars().count() > 200 {
                d.error(ConfigProblem::new(
                    join(&sp, "placeholder"),
                    "must be a short text (1 to 200 characters), e.g. \"Working…\"",
                ));
            }
        }
    }
    for (i, pattern) in l.mention_patterns.iter().flatten().enumerate() {
        if let Err(why) = crate::inbound::gate::MentionPatterns::compile(pattern) {
            d.error(ConfigProblem::new(
                format!("{}[{i}]", at("mentionPatterns")),
                format!("the pattern {} is not a regular expression the core can use ({why}); write it without lookaround or backreferences, or remove it", quoted(pattern)),
            ));
        }
    }
    check_whole(
        l.conversation_window_minutes,
        &WINDOW_MINUTES,
        &at("conversationWindowMinutes"),
        d,
    );
    check_mb(l.media_max_mb, &at("mediaMaxMb"), d);
    check_whole(
        l.text_chunk_limit,
        &TEXT_CHUNK_LIMIT,
        &at("textChunkLimit"),
        d,
    );
    if let Some(c) = &l.block_streaming_coalesce {
        let cp = at("blockStreamingCoalesce");
        check_whole_u(c.min_chars, &COALESCE_MIN_CHARS, &join(&cp, "minChars"), d);
        check_whole_u(c.idle_ms, &COALESCE_IDLE_MS, &join(&cp, "idleMs"), d);
    }
    for (room_id, r) in l.rooms.iter().flatten() {
        let rp = join(&at("rooms"), room_id);
        check_whole(
            r.conversation_window_minutes,
            &WINDOW_MINUTES,
            &join(&rp, "conversationWindowMinutes"),
            d,
        );
        check_mb(r.media_max_mb, &join(&rp, "mediaMaxMb"), d);
    }
    if let Some(tls) = &l.tls {
        if tls.ca_pem.as_deref().is_some_and(|p| !p.contains(PEM_CERT)) {
            d.error(ConfigProblem::new(
                at("tls.caPem"),
                format!("not a PEM certificate (expected {PEM_CERT:?})"),
            ));
        }
        if tls.ca_file.as_deref().is_some_and(|f| f.trim().is_empty()) {
            d.error(ConfigProblem::new(at("tls.caFile"), "must not be empty"));
        }
    }
}

/// A reaction is `""` (none), a shortname (`eyes`, `:eyes:`), or a Unicode emoji the core
/// knows a shortname for: Rocket.Chat refuses anything else, on every message.
fn check_reaction(raw: &str, path: &str, d: &mut Diagnostics) {
    use crate::outbound::emoji::{reaction_name, ReactionEmoji};
    let r = raw.trim();
    if r.is_empty() {
        return;
    }
    match reaction_name(r) {
        ReactionEmoji::Name(name)
            if !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-')) => {}
        ReactionEmoji::Name(_) => d.error(ConfigProblem::new(
            path,
            format!(
                "{} is not an emoji name: use a name such as \"eyes\" or \":eyes:\", a Unicode emoji such as \"👀\", or \"\" for none",
                quoted(raw)
            ),
        )),
        ReactionEmoji::Unknown(emoji) => d.error(ConfigProblem::new(
            path,
            format!("emoji {emoji} has no Rocket.Chat name this bot knows; write its name instead (e.g. \"eyes\"), or \"\" for none"),
        )),
    }
}

/// Ids, names and tokens go into HTTP headers and JSON as they are: a control character
/// (often a line break pasted along) would only fail later, far from the config.
/// The value is never quoted: it may be a secret.
fn check_id(v: Option<&str>, path: &str, d: &mut Diagnostics) {
    if v.is_some_and(|s| s.trim().chars().any(char::is_control)) {
        d.error(ConfigProblem::new(
            path,
            "contains a control character (a line break, tab or similar); copy the value \
             again without it",
        ));
    }
}

fn check_whole(v: Option<i64>, range: &WholeRange, path: &str, d: &mut Diagnostics) {
    if let Some(n) = v.filter(|n| !(range.min..=range.max).contains(n)) {
        d.error(ConfigProblem::new(
            path,
            format!("must be {}, got {n}", range.words),
        ));
    }
}

fn check_whole_u(v: Option<u64>, range: &WholeRange, path: &str, d: &mut Diagnostics) {
    check_whole(
        v.map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
        range,
        path,
        d,
    );
}

fn check_mb(v: Option<f64>, path: &str, d: &mut Diagnostics) {
    if let Some(n) = v.filter(|n| !(n.is_finite() && *n > 0.0 && *n <= MEDIA_MAX_MB)) {
        d.error(ConfigProblem::new(
            path,
            format!(
                "must be a number of megabytes above 0 and at most {MEDIA_MAX_MB}, got {}",
                short(n)
            ),
        ));
    }
}

/// `1e308` rather than 309 digits.
fn short(n: f64) -> String {
    if n.is_finite() && n.abs() >= 1e9 {
        format!("{n:e}")
    } else {
        n.to_string()
    }
}
