//! The emoji names `setReaction` accepts. Rocket.Chat takes `:name:` only when the name is in
//! its emoji list (JoyPixels shortnames and their aliases) or a custom emoji; anything else,
//! a Unicode character included, is `error-not-allowed` "Invalid emoji provided.". This is
//! a subset of that list: the names the bot's reactions and the tests use.

/// Shortnames (without colons) this simulator's server knows.
const KNOWN: &[&str] = &[
    "+1",
    "-1",
    "100",
    "airplane_departure",
    "alarm_clock",
    "arrows_counterclockwise",
    "blush",
    "book",
    "books",
    "brain",
    "broken_heart",
    "bug",
    "bulb",
    "clap",
    "compression",
    "computer",
    "construction",
    "construction_site",
    "cry",
    "desktop",
    "exclamation",
    "exploding_head",
    "eyes",
    "fire",
    "gear",
    "globe_with_meridians",
    "green_circle",
    "grin",
    "grinning",
    "hammer",
    "heart",
    "heart_eyes",
    "heavy_check_mark",
    "heavy_plus_sign",
    "hourglass",
    "hourglass_flowing_sand",
    "information_desk_person",
    "joy",
    "laughing",
    "lobster",
    "mag",
    "mag_right",
    "muscle",
    "negative_squared_cross_mark",
    "new",
    "no_entry",
    "no_entry_sign",
    "ok",
    "ok_hand",
    "open_mouth",
    "package",
    "paperclip",
    "pencil",
    "pencil2",
    "pray",
    "pushpin",
    "question",
    "rage",
    "raised_hands",
    "red_circle",
    "robot",
    "rocket",
    "rofl",
    "scream",
    "slight_smile",
    "smile",
    "smiley",
    "sob",
    "sparkles",
    "speech_balloon",
    "star",
    "sunglasses",
    "sweat_smile",
    "tada",
    "thinking",
    "thought_balloon",
    "thumbsdown",
    "thumbsup",
    "tools",
    "warning",
    "wave",
    "white_check_mark",
    "wink",
    "wrench",
    "writing_hand",
    "x",
    "yellow_circle",
];

/// Whether `setReaction` takes `emoji` (`name` or `:name:`).
pub fn is_known(emoji: &str) -> bool {
    let name = emoji.trim_matches(':');
    name.is_ascii() && KNOWN.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_or_without_colons_are_known() {
        assert!(is_known(":eyes:"));
        assert!(is_known("thumbsup"));
        assert!(is_known(":+1:"));
    }

    #[test]
    fn unicode_and_unknown_names_are_not() {
        assert!(!is_known(":👀:"));
        assert!(!is_known("👀"));
        assert!(!is_known(":no_such_emoji:"));
        assert!(!is_known(""));
    }

    #[test]
    fn the_list_is_sorted_without_duplicates() {
        assert!(KNOWN.windows(2).all(|w| w[0] < w[1]), "keep KNOWN sorted");
    }
}
