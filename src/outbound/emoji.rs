//! Emoji for reactions: Rocket.Chat's `chat.react` takes a shortname the server knows
//! (`:eyes:`), never the Unicode character, so Unicode emoji (what OpenClaw's status
//! reactions use) are looked up here by their JoyPixels shortname, Rocket.Chat's set.

/// Unicode emoji (without variation selectors or skin tones) and their shortnames.
const TABLE: &[(&str, &str)] = &[
    ("👀", "eyes"),
    ("✅", "white_check_mark"),
    ("✔", "heavy_check_mark"),
    ("❌", "x"),
    ("❎", "negative_squared_cross_mark"),
    ("⏳", "hourglass_flowing_sand"),
    ("⌛", "hourglass"),
    ("⏰", "alarm_clock"),
    ("⚠", "warning"),
    ("🚫", "no_entry_sign"),
    ("⛔", "no_entry"),
    ("🧠", "brain"),
    ("🛠", "tools"),
    ("🔧", "wrench"),
    ("🔨", "hammer"),
    ("⚙", "gear"),
    ("💻", "computer"),
    ("🖥", "desktop"),
    ("🌐", "globe_with_meridians"),
    ("🛫", "airplane_departure"),
    ("🏗", "construction_site"),
    ("🚧", "construction"),
    ("💁", "information_desk_person"),
    ("🗜", "compression"),
    ("👍", "thumbsup"),
    ("👎", "thumbsdown"),
    ("👌", "ok_hand"),
    ("👏", "clap"),
    ("🙌", "raised_hands"),
    ("💪", "muscle"),
    ("🎉", "tada"),
    ("❤", "heart"),
    ("💔", "broken_heart"),
    ("🔥", "fire"),
    ("✨", "sparkles"),
    ("⭐", "star"),
    ("💯", "100"),
    ("🤔", "thinking"),
    ("🙏", "pray"),
    ("😀", "grinning"),
    ("😃", "smiley"),
    ("😄", "smile"),
    ("😁", "grin"),
    ("😅", "sweat_smile"),
    ("😂", "joy"),
    ("🤣", "rofl"),
    ("🙂", "slight_smile"),
    ("😉", "wink"),
    ("😊", "blush"),
    ("😍", "heart_eyes"),
    ("😎", "sunglasses"),
    ("😢", "cry"),
    ("😭", "sob"),
    ("😮", "open_mouth"),
    ("😱", "scream"),
    ("😡", "rage"),
    ("🤯", "exploding_head"),
    ("🤖", "robot"),
    ("👋", "wave"),
    ("🚀", "rocket"),
    ("✍", "writing_hand"),
    ("📝", "pencil"),
    ("🔍", "mag"),
    ("🔎", "mag_right"),
    ("💬", "speech_balloon"),
    ("💭", "thought_balloon"),
    ("🆗", "ok"),
    ("🆕", "new"),
    ("📌", "pushpin"),
    ("📎", "paperclip"),
    ("📦", "package"),
    ("📚", "books"),
    ("📖", "book"),
    ("💡", "bulb"),
    ("🐛", "bug"),
    ("🦞", "lobster"),
    ("❓", "question"),
    ("❗", "exclamation"),
    ("➕", "heavy_plus_sign"),
    ("🔄", "arrows_counterclockwise"),
    ("🟢", "green_circle"),
    ("🔴", "red_circle"),
    ("🟡", "yellow_circle"),
];

/// What a reaction's emoji is sent as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReactionEmoji {
    /// The shortname, without colons (`eyes`).
    Name(String),
    /// A Unicode emoji this table has no shortname for (as given, trimmed).
    Unknown(String),
}

/// Variation selectors (U+FE0E, U+FE0F) and skin-tone modifiers (U+1F3FB..U+1F3FF): dropped
/// before the lookup (`❤️` is `❤` + U+FE0F; `👍🏽` is `👍` + a skin tone).
fn is_modifier(c: char) -> bool {
    matches!(c, '\u{FE0E}' | '\u{FE0F}' | '\u{1F3FB}'..='\u{1F3FF}')
}

/// The shortname for `emoji`: `name` and `:name:` pass through (without the colons); a
/// Unicode emoji is looked up in the table.
pub fn reaction_name(emoji: &str) -> ReactionEmoji {
    let trimmed = emoji.trim();
    if trimmed.is_ascii() {
        return ReactionEmoji::Name(trimmed.trim_matches(':').to_owned());
    }
    let bare: String = trimmed.chars().filter(|c| !is_modifier(*c)).collect();
    match TABLE.iter().find(|(u, _)| *u == bare) {
        Some((_, name)) => ReactionEmoji::Name((*name).to_owned()),
        None => ReactionEmoji::Unknown(trimmed.to_owned()),
    }
}

/// Every shortname the table maps to.
pub fn known_names() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> String {
        match reaction_name(s) {
            ReactionEmoji::Name(n) => n,
            ReactionEmoji::Unknown(u) => panic!("{u} has no name"),
        }
    }

    #[test]
    fn openclaw_status_reactions_have_names() {
        for (emoji, want) in [
            ("👀", "eyes"),
            ("✅", "white_check_mark"),
            ("❌", "x"),
            ("⏳", "hourglass_flowing_sand"),
            ("⌛", "hourglass"),
            ("⚠️", "warning"),
            ("🧠", "brain"),
            ("🛠️", "tools"),
            ("💻", "computer"),
            ("🌐", "globe_with_meridians"),
            ("🛫", "airplane_departure"),
            ("🏗️", "construction_site"),
            ("💁", "information_desk_person"),
            ("🗜️", "compression"),
        ] {
            assert_eq!(name(emoji), want, "{emoji}");
        }
    }

    #[test]
    fn common_reactions_have_names() {
        for (emoji, want) in [
            ("👍", "thumbsup"),
            ("👎", "thumbsdown"),
            ("🎉", "tada"),
            ("❤️", "heart"),
            ("🔥", "fire"),
            ("🤔", "thinking"),
            ("🙏", "pray"),
            ("😀", "grinning"),
            ("😂", "joy"),
            ("👋", "wave"),
            ("🚀", "rocket"),
            ("✍️", "writing_hand"),
            ("📝", "pencil"),
            ("🔍", "mag"),
            ("💬", "speech_balloon"),
            ("🆗", "ok"),
        ] {
            assert_eq!(name(emoji), want, "{emoji}");
        }
    }

    #[test]
    fn variation_selectors_and_skin_tones_are_ignored() {
        // With and without U+FE0F.
        assert_eq!(name("\u{2764}"), "heart");
        assert_eq!(name("\u{2764}\u{FE0F}"), "heart");
        assert_eq!(name("\u{26A0}"), "warning");
        assert_eq!(name("🛠"), "tools");
        // Skin tones.
        assert_eq!(name("👍🏽"), "thumbsup");
        assert_eq!(name("👋🏿"), "wave");
        assert_eq!(name("🙏🏻"), "pray");
        assert_eq!(name(" 👀 "), "eyes");
    }

    #[test]
    fn names_pass_through_without_colons() {
        assert_eq!(name("eyes"), "eyes");
        assert_eq!(name(":eyes:"), "eyes");
        assert_eq!(name(" :thumbsup: "), "thumbsup");
        assert_eq!(name(":+1:"), "+1");
    }

    #[test]
    fn an_emoji_not_in_the_table_is_unknown() {
        assert_eq!(reaction_name("🦄"), ReactionEmoji::Unknown("🦄".to_owned()));
        assert_eq!(
            reaction_name("eyes👀"),
            ReactionEmoji::Unknown("eyes👀".to_owned())
        );
    }

    #[test]
    fn the_table_has_no_duplicates() {
        let mut seen = std::collections::BTreeSet::new();
        for (u, n) in TABLE {
            assert!(seen.insert(*u), "{u} twice");
            assert!(!u.chars().any(is_modifier), "{u} holds a modifier");
            assert!(
                n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{n}"
            );
        }
    }
}
