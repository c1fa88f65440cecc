//! Control commands and who may send them.

use super::*;

#[test]
fn control_command_recognition() {
    let rows: &[(&str, bool)] = &[
        ("/reset", true),
        ("  /reset", true),
        ("/new now", true),
        ("/think:high", true),
        ("/model_x-2", true),
        ("/", false),
        ("/ reset", false),
        ("//reset", false),
        ("/usr/bin", false),
        ("/1abc", false),
        ("a /reset", false),
        ("reset", false),
        ("/résumé", false),
    ];
    for (text, want) in rows {
        assert_eq!(is_control_command(text), *want, "{text:?}");
    }
}

#[test]
fn control_commands_in_groups_need_an_authorised_sender() {
    /// (groupPolicy, allowFrom, groupAllowFrom, text, outcome, authorised)
    type Row<'a> = (&'a str, &'a [&'a str], &'a [&'a str], &'a str, O, bool);
    let rows: &[Row] = &[
        ("open", &[], &[], "/reset", O::X(X::NotAllowed), false),
        (
            "open",
            &[],
            &[],
            "@mybot /reset",
            O::X(X::NotAllowed),
            false,
        ),
        (
            "open",
            &["alice"],
            &[],
            "/reset",
            O::D(R::ControlCommand),
            true,
        ),
        (
            "open",
            &[],
            &["@alice"],
            "/reset",
            O::D(R::ControlCommand),
            true,
        ),
        (
            "open",
            &["alice"],
            &["bob"],
            "/reset",
            O::D(R::ControlCommand),
            true,
        ),
        (
            "open",
            &["alice"],
            &[],
            "@mybot /reset",
            O::D(R::Mention),
            true,
        ),
        ("open", &[], &[], "@mybot hello", O::D(R::Mention), false),
        ("open", &[], &[], "/reset", O::X(X::NotAllowed), false),
        (
            "allowlist",
            &["*"],
            &[],
            "/reset",
            O::D(R::ControlCommand),
            true,
        ),
        (
            "allowlist",
            &["bob"],
            &[],
            "/reset",
            O::X(X::NotAllowed),
            false,
        ),
        ("disabled", &["alice"], &[], "/reset", O::X(X::Policy), true),
    ];
    for (policy, allow, group, text, want, authorised) in rows {
        let mut g =
            gate(json!({"groupPolicy": policy, "allowFrom": allow, "groupAllowFrom": group}));
        let mut m = M::chan().text(text);
        if text.starts_with("@mybot") {
            m.0.mentions.bot_mentioned = true;
        }
        let d = decide(&mut g, &m);
        assert_eq!(&o(&d), want, "{policy} {allow:?} {group:?} {text:?}");
        if let Decision::Deliver {
            control_command,
            command_authorized,
            ..
        } = d
        {
            assert_eq!(control_command, text.contains('/'));
            assert_eq!(command_authorized, *authorised);
        }
    }
    // In DMs the command is flagged and the host authorises it.
    let mut g = gate(json!({"dmPolicy": "pairing", "allowFrom": ["alice"]}));
    match decide(&mut g, &M::dm().text("/reset")) {
        Decision::Deliver {
            control_command,
            command_authorized,
            text,
            ..
        } => {
            assert!(control_command && command_authorized);
            assert_eq!(text, "/reset");
        }
        other => panic!("{other:?}"),
    }
}

/// What the host gets for `text`: (reason, body, controlCommand, typedAs), or the drop.
fn delivered(g: &mut Gate, m: &M) -> Result<(R, String, bool, Option<String>), X> {
    match decide(g, m) {
        Decision::Deliver {
            reason,
            text,
            control_command,
            typed_as,
            ..
        } => Ok((reason, text, control_command, typed_as)),
        Decision::Drop(x) => Err(x),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_command_typed_with_the_command_prefix_is_the_slash_command() {
    let typed = |t: &str| Some(t.to_owned());
    // Groups: `!reset` from an allowlisted sender is admitted as `/reset`, with the text as typed.
    let mut g = gate(json!({"groupPolicy": "allowlist", "groupAllowFrom": ["alice"]}));
    assert_eq!(
        delivered(&mut g, &M::chan().text("!reset")),
        Ok((R::ControlCommand, "/reset".into(), true, typed("!reset")))
    );
    let mut m = M::chan().text("@mybot  !new now");
    m.0.mentions.bot_mentioned = true;
    assert_eq!(
        delivered(&mut g, &m),
        Ok((R::Mention, "/new now".into(), true, typed("!new now")))
    );
    // Not a command: `! reset`, `!!`, `!1`, text that only contains it.
    for text in ["! reset", "!!", "!1abc", "say !reset"] {
        assert_eq!(
            delivered(&mut g, &M::chan().text(text)),
            Err(X::NoMention),
            "{text:?}"
        );
    }
    // A sender who may not run commands is not admitted by one (nor dropped for it: the host
    // may not know the word as a command).
    let mut open = gate(json!({"groupPolicy": "open"}));
    assert_eq!(
        delivered(&mut open, &M::chan().text("!reset")),
        Err(X::NoMention)
    );
    // DMs: rewritten the same way.
    let mut dm = gate(json!({"dmPolicy": "open", "allowFrom": ["*"]}));
    assert_eq!(
        delivered(&mut dm, &M::dm().text("!reset")),
        Ok((R::Direct, "/reset".into(), true, typed("!reset")))
    );
    assert_eq!(
        delivered(&mut dm, &M::dm().text("!important: the build is red")),
        Ok((
            R::Direct,
            "/important: the build is red".into(),
            true,
            typed("!important: the build is red")
        ))
    );
    // Another prefix, and none.
    let mut dot = gate(json!({"dmPolicy": "open", "allowFrom": ["*"], "commandPrefix": "."}));
    assert_eq!(
        delivered(&mut dot, &M::dm().text(".reset")),
        Ok((R::Direct, "/reset".into(), true, typed(".reset")))
    );
    assert_eq!(
        delivered(&mut dot, &M::dm().text("!reset")),
        Ok((R::Direct, "!reset".into(), false, None))
    );
    let mut off = gate(json!({"dmPolicy": "open", "allowFrom": ["*"], "commandPrefix": ""}));
    assert_eq!(
        delivered(&mut off, &M::dm().text("!reset")),
        Ok((R::Direct, "!reset".into(), false, None))
    );
    // The slash form is unchanged.
    assert_eq!(
        delivered(&mut dm, &M::dm().text("/reset")),
        Ok((R::Direct, "/reset".into(), true, None))
    );
}

#[test]
fn in_onchar_mode_the_shared_prefix_is_a_command_or_the_trigger_it_was() {
    // `!` is both an onchar prefix (the default ones) and the command prefix: `!reset` is
    // `/reset`, and for a host that does not know `/hello` the trigger's text is as before.
    let mut g = gate(json!({"groupPolicy": "open", "chatmode": "onchar"}));
    assert_eq!(
        delivered(&mut g, &M::chan().text("!reset")),
        Ok((R::Onchar, "/reset".into(), true, Some("reset".into())))
    );
    assert_eq!(
        delivered(&mut g, &M::chan().text("!hello there")),
        Ok((
            R::Onchar,
            "/hello there".into(),
            true,
            Some("hello there".into())
        ))
    );
    assert_eq!(
        delivered(&mut g, &M::chan().text(">hello there")),
        Ok((R::Onchar, "hello there".into(), false, None))
    );
}
