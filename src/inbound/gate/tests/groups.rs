//! Groups: `groupPolicy` x `requireMention` x `chatmode`, `onchar` prefixes, per-room overrides.

use super::*;

/// The expected outcome for the group cross product, stated rule by rule.
fn group_oracle(
    policy: &str,
    sender_listed: bool,
    require: bool,
    mode: &str,
    mentioned: bool,
    prefixed: bool,
) -> O {
    match policy {
        "disabled" => return O::X(X::Policy),
        "allowlist" if !sender_listed => return O::X(X::NotAllowed),
        _ => {}
    }
    match mode {
        "onmessage" if mentioned => O::D(R::Mention),
        "onmessage" => O::D(R::Onmessage),
        "onchar" if prefixed => O::D(R::Onchar),
        _ if mentioned => O::D(R::Mention),
        "oncall" if !require => O::D(R::MentionNotRequired),
        _ => O::X(X::NoMention),
    }
}

#[test]
fn group_policy_x_require_mention_x_chatmode_x_mention() {
    let mut cases = 0;
    for policy in ["open", "allowlist", "disabled"] {
        for listed in [true, false] {
            for require in [true, false] {
                for mode in ["oncall", "onmessage", "onchar"] {
                    for mentioned in [true, false] {
                        for prefixed in [true, false] {
                            let list: &[&str] = if listed { &["@alice"] } else { &["@bob"] };
                            let mut g = gate(json!({
                                "groupPolicy": policy, "groupAllowFrom": list,
                                "requireMention": require, "chatmode": mode,
                                // `!status` probes the onchar prefix here, not commands.
                                "commandPrefix": "",
                            }));
                            let mut m = M::chan().text(if prefixed { "!status" } else { "status" });
                            if mentioned {
                                m = m.mention_after();
                            }
                            // Channels and private groups behave alike.
                            for m in [
                                m.clone(),
                                M(InboundMessage {
                                    room_type: RoomType::Private,
                                    ..m.0
                                }),
                            ] {
                                let got = decide(&mut g, &m);
                                let want = group_oracle(
                                    policy, listed, require, mode, mentioned, prefixed,
                                );
                                assert_eq!(o(&got), want,
                                    "{policy} listed={listed} require={require} {mode} mentioned={mentioned} prefixed={prefixed}");
                                if let Decision::Deliver { was_mentioned, .. } = &got {
                                    let text = text_of(&got);
                                    let onchar_hit = mode == "onchar" && prefixed;
                                    assert_eq!(*was_mentioned, mentioned || onchar_hit);
                                    let want_text = if prefixed && !onchar_hit {
                                        "!status"
                                    } else {
                                        "status"
                                    };
                                    assert_eq!(text, want_text);
                                }
                                cases += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(cases, 288);
}

#[test]
fn group_allowlist_falls_back_to_allow_from_and_is_replaceable() {
    // (allowFrom, groupAllowFrom, outcome for alice)
    let rows: &[(&[&str], &[&str], O)] = &[
        (&[], &[], O::X(X::NotAllowed)),
        (&["alice"], &[], O::D(R::Onmessage)),
        (&["*"], &[], O::D(R::Onmessage)),
        (&["alice"], &["bob"], O::X(X::NotAllowed)),
        (&["bob"], &["ALICE"], O::D(R::Onmessage)),
        (&["bob"], &["*"], O::D(R::Onmessage)),
        (&["alice"], &["  "], O::D(R::Onmessage)),
    ];
    for (allow, group, want) in rows {
        let mut g =
            gate(json!({"allowFrom": allow, "groupAllowFrom": group, "chatmode": "onmessage"}));
        assert_eq!(&o(&decide(&mut g, &M::chan())), want, "{allow:?} {group:?}");
    }
    // Runtime replacement, without a new gate.
    let mut g = gate(json!({"chatmode": "onmessage", "dmPolicy": "allowlist"}));
    assert_eq!(o(&decide(&mut g, &M::chan())), O::X(X::NotAllowed));
    assert_eq!(o(&decide(&mut g, &M::dm())), O::X(X::NotAllowed));
    g.set_allow_from(&["@alice"]);
    assert_eq!(o(&decide(&mut g, &M::chan())), O::D(R::Onmessage));
    assert_eq!(o(&decide(&mut g, &M::dm())), O::D(R::Direct));
    g.set_group_allow_from(&["bob"]);
    assert_eq!(o(&decide(&mut g, &M::chan())), O::X(X::NotAllowed));
    assert_eq!(o(&decide(&mut g, &M::dm())), O::D(R::Direct));
    g.set_group_allow_from::<&str>(&[]);
    assert_eq!(o(&decide(&mut g, &M::chan())), O::D(R::Onmessage));
    g.set_allow_from::<&str>(&[]);
    assert_eq!(o(&decide(&mut g, &M::dm())), O::X(X::NotAllowed));
    // A reload restores the config's lists.
    g.set_allow_from(&["*"]);
    g.reconfigure(&cfg(
        json!({"chatmode": "onmessage", "dmPolicy": "allowlist"}),
    ));
    assert_eq!(o(&decide(&mut g, &M::dm())), O::X(X::NotAllowed));
}

#[test]
fn onchar_prefixes() {
    // (oncharPrefixes or null for the default, text, outcome, agent text)
    let rows: &[(Value, &str, O, &str)] = &[
        (Value::Null, ">status", O::D(R::Onchar), "status"),
        (Value::Null, "!status", O::D(R::Onchar), "status"),
        (Value::Null, "! status", O::D(R::Onchar), "status"),
        (Value::Null, "   >status", O::D(R::Onchar), "status"),
        (Value::Null, "\n!status", O::D(R::Onchar), "status"),
        (Value::Null, "status!", O::X(X::NoMention), ""),
        (Value::Null, "?status", O::X(X::NoMention), ""),
        (Value::Null, "!", O::X(X::Empty), ""),
        (Value::Null, "  >   ", O::X(X::Empty), ""),
        (Value::Null, ">>status", O::D(R::Onchar), ">status"),
        (json!(["?"]), "?status", O::D(R::Onchar), "status"),
        (json!(["?"]), "!status", O::X(X::NoMention), ""),
        (json!(["!!", "!"]), "!!status", O::D(R::Onchar), "status"),
        (json!(["!", "!!"]), "!!status", O::D(R::Onchar), "status"),
        (json!(["!", "!!"]), "!status", O::D(R::Onchar), "status"),
        (json!(["bot,"]), "bot, status", O::D(R::Onchar), "status"),
        (json!(["BOT,"]), "bot, status", O::X(X::NoMention), ""),
        (json!([" ?? "]), "??status", O::D(R::Onchar), "status"),
        (Value::Null, "!@mybot status", O::D(R::Onchar), "status"),
    ];
    for (prefixes, text, want, agent_text) in rows {
        let mut extra = json!({"groupPolicy": "open", "chatmode": "onchar"});
        if !prefixes.is_null() {
            extra["oncharPrefixes"] = prefixes.clone();
        }
        let mut g = gate(extra);
        let d = decide(&mut g, &M::chan().text(text));
        assert_eq!(&o(&d), want, "{prefixes} {text:?}");
        if let O::D(_) = want {
            assert_eq!(text_of(&d), *agent_text, "{prefixes} {text:?}");
        }
    }
    // Config validation rejects blank prefixes; the gate ignores them anyway.
    assert_eq!(strip_onchar_prefix("status", &["", "  "]), None);
    assert_eq!(strip_onchar_prefix("!status", &["", "!"]), Some("status"));
    // Prefixes only matter in groups: a DM keeps its text.
    let mut g = gate(json!({"dmPolicy": "open", "allowFrom": ["*"], "chatmode": "onchar"}));
    assert_eq!(
        text_of(&decide(&mut g, &M::dm().text("!status"))),
        "!status"
    );
}

#[test]
fn prefix_only_file_message_is_delivered() {
    let mut g = gate(json!({"groupPolicy": "open", "chatmode": "onchar"}));
    let d = decide(&mut g, &M::chan().text("!").file());
    assert_eq!(o(&d), O::D(R::Onchar));
    assert_eq!(text_of(&d), "");
}

#[test]
fn per_room_overrides() {
    let mut g = gate(json!({
        "groupPolicy": "open", "dmPolicy": "open", "allowFrom": ["*"], "requireMention": true,
        "rooms": {
            "LOUD": {"requireMention": false},
            "OFF": {"enabled": false},
            "ON": {"enabled": true},
            "DMROOM": {"enabled": false},
        }
    }));
    // (message, outcome)
    let rows: Vec<(M, O)> = vec![
        (M::chan(), O::X(X::NoMention)),
        (M::chan().room("LOUD"), O::D(R::MentionNotRequired)),
        (M::chan().room("OFF").mention(), O::X(X::RoomDisabled)),
        (M::chan().room("ON"), O::X(X::NoMention)),
        (M::chan().room("ON").mention(), O::D(R::Mention)),
        (M::dm(), O::X(X::RoomDisabled)),
        (M::dm().room("DM2"), O::D(R::Direct)),
    ];
    for (i, (m, want)) in rows.into_iter().enumerate() {
        assert_eq!(o(&decide(&mut g, &m)), want, "row {i}");
    }
    // The opposite override: mention required in one room of a quiet account.
    let mut g = gate(json!({"groupPolicy": "open", "requireMention": false,
        "rooms": {"STRICT": {"requireMention": true}}}));
    assert_eq!(o(&decide(&mut g, &M::chan())), O::D(R::MentionNotRequired));
    assert_eq!(
        o(&decide(&mut g, &M::chan().room("STRICT"))),
        O::X(X::NoMention)
    );
}
