//! Mentions: `@all`/`@here`, detection without a known identity, stripping the bot's mention.

use super::*;

#[test]
fn all_and_here_count_only_with_mention_all() {
    // (mentionAll, @all, @here, bot mentioned too, outcome)
    let rows: &[(bool, bool, bool, bool, O)] = &[
        (false, true, false, false, O::X(X::NoMention)),
        (false, false, true, false, O::X(X::NoMention)),
        (false, true, true, true, O::D(R::Mention)),
        (true, true, false, false, O::D(R::Mention)),
        (true, false, true, false, O::D(R::Mention)),
        (true, false, false, false, O::X(X::NoMention)),
    ];
    for (mention_all, all, here, bot, want) in rows {
        let mut g = gate(json!({"groupPolicy": "open", "mentionAll": mention_all}));
        let mut m = M::chan();
        if *all {
            m = m.all();
        }
        if *here {
            m = m.here();
        }
        if *bot {
            m = m.mention();
        }
        // The normaliser sets botMentioned for @all/@here when its own mentionAll is on;
        // the gate decides by its config either way.
        for normalizer_flag in [false, true] {
            let mut m = m.clone();
            m.0.mentions.bot_mentioned |= normalizer_flag && (*all || *here);
            assert_eq!(
                &o(&decide(&mut g, &m)),
                want,
                "mentionAll={mention_all} all={all} here={here} bot={bot} flag={normalizer_flag}"
            );
        }
    }
}

#[test]
fn mention_detection_without_a_known_identity() {
    let mut g = Gate::new(&cfg(json!({"groupPolicy": "open"})));
    assert_eq!(o(&g.decide(&M::chan().mention().0, T0)), O::D(R::Mention));
    // Without the username nothing is stripped.
    assert_eq!(
        text_of(&g.decide(&M::chan().text("hi").mention().0, T0)),
        "@mybot hi"
    );
    let mut m = M::chan().text("@MyBot hi");
    assert_eq!(o(&g.decide(&m.0, T0)), O::X(X::NoMention));
    g.set_bot(BOT_ID, "@MyBot");
    assert_eq!(
        text_of(&g.decide(&m.0, T0)),
        "hi",
        "text mention, case-insensitive"
    );
    m.0.text = "hi".into();
    m.0.mentions.users.push(MentionedUser {
        id: BOT_ID.into(),
        username: String::new(),
    });
    assert_eq!(o(&g.decide(&m.0, T0)), O::D(R::Mention), "mention by id");
}

#[test]
fn bot_mention_is_removed_from_the_agent_text() {
    let rows: &[(&str, &str)] = &[
        ("@mybot hello", "hello"),
        ("@mybot: hello", "hello"),
        ("@mybot, hello", "hello"),
        ("@MYBOT hello", "hello"),
        ("hello @mybot", "hello"),
        (
            "hello @mybot, what's the status?",
            "hello, what's the status?",
        ),
        ("ask @mybot about it", "ask about it"),
        ("hey @mybot.", "hey."),
        ("@mybot\nline two", "line two"),
        ("a\n@mybot b\nc", "a\nb\nc"),
        ("@mybot @mybot twice", "twice"),
        ("@mybotty stays", "@mybotty stays"),
        ("mail me@mybot.com", "mail me@mybot.com"),
        ("@mybot.com stays", "@mybot.com stays"),
        ("@mybot", ""),
        ("ünï @mybot cödé", "ünï cödé"),
    ];
    for (input, want) in rows {
        assert_eq!(strip_bot_mention(input, BOT), *want, "{input:?}");
    }
    assert_eq!(strip_bot_mention("  @mybot x ", ""), "@mybot x");
}

#[test]
fn mention_patterns_count_as_mentions_and_are_not_stripped() {
    // As OpenClaw builds them: `\b` word boundaries, escaped punctuation, case-insensitive.
    let mut g = gate(json!({
        "groupPolicy": "open",
        "mentionPatterns": [r"\bclaw\b", r"hey\s+bot\/x"]
    }));
    let d = decide(&mut g, &M::chan().text("CLAW, what is up?"));
    assert_eq!(o(&d), O::D(R::Mention));
    assert_eq!(
        text_of(&d),
        "CLAW, what is up?",
        "the alias is part of what was said"
    );
    assert_eq!(
        o(&decide(&mut g, &M::chan().text("well hey  bot/x"))),
        O::D(R::Mention)
    );
    // Zero-width characters do not hide an alias (OpenClaw removes them before matching).
    assert_eq!(
        o(&decide(&mut g, &M::chan().text("cl\u{200b}aw help"))),
        O::D(R::Mention)
    );
    for miss in ["clawed my way", "nothing here", "hey bot"] {
        assert_eq!(
            o(&decide(&mut g, &M::chan().text(miss))),
            O::X(X::NoMention),
            "{miss}"
        );
    }
    // A DM is delivered either way and reports the alias as a mention.
    let mut g = gate(json!({"dmPolicy": "open", "allowFrom": ["*"], "mentionPatterns": ["claw"]}));
    assert!(matches!(
        decide(&mut g, &M::dm().text("claw?")),
        Decision::Deliver {
            was_mentioned: true,
            ..
        }
    ));
}

#[test]
fn mention_patterns_still_need_an_admitted_sender() {
    let mut g = gate(json!({"groupAllowFrom": ["alice"], "mentionPatterns": ["claw"]}));
    let bob = M::chan().from("BOBID", "bob").text("claw help");
    assert_eq!(o(&decide(&mut g, &bob)), O::X(X::NotAllowed));
    assert_eq!(
        o(&decide(&mut g, &M::chan().text("claw help"))),
        O::D(R::Mention)
    );
}

#[test]
fn no_mention_patterns_match_nothing() {
    let mut g = gate(json!({"groupPolicy": "open", "mentionPatterns": ["", "  "]}));
    assert_eq!(
        o(&decide(&mut g, &M::chan().text("anything"))),
        O::X(X::NoMention)
    );
}
