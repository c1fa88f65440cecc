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
