//! Direct and livechat rooms: `dmPolicy`, and pairing.

use super::*;

#[test]
fn dm_policy_table() {
    // (dmPolicy, allowFrom, sender id, sender username, outcome)
    let rows: &[(&str, &[&str], &str, &str, O)] = &[
        ("disabled", &["*"], ALICE_ID, "alice", O::X(X::Policy)),
        ("disabled", &["alice"], ALICE_ID, "alice", O::X(X::Policy)),
        ("open", &["*"], ALICE_ID, "alice", O::D(R::Direct)),
        ("open", &["*"], "u2", "bob", O::D(R::Direct)),
        ("allowlist", &["*"], "u2", "bob", O::D(R::Direct)),
        ("allowlist", &[ALICE_ID], ALICE_ID, "alice", O::D(R::Direct)),
        ("allowlist", &["@alice"], ALICE_ID, "alice", O::D(R::Direct)),
        ("allowlist", &["alice"], ALICE_ID, "alice", O::D(R::Direct)),
        ("allowlist", &["ALICE"], ALICE_ID, "Alice", O::D(R::Direct)),
        (
            "allowlist",
            &["user:k9ZfTqW2mHs8PxLcE"],
            ALICE_ID,
            "alice",
            O::D(R::Direct),
        ),
        (
            "allowlist",
            &["rocketchat:k9ZfTqW2mHs8PxLcE"],
            ALICE_ID,
            "alice",
            O::D(R::Direct),
        ),
        (
            "allowlist",
            &["bob", " alice "],
            ALICE_ID,
            "alice",
            O::D(R::Direct),
        ),
        (
            "allowlist",
            &["bob"],
            ALICE_ID,
            "alice",
            O::X(X::NotAllowed),
        ),
        ("allowlist", &[], ALICE_ID, "alice", O::X(X::NotAllowed)),
        (
            "allowlist",
            &["", " "],
            ALICE_ID,
            "alice",
            O::X(X::NotAllowed),
        ),
        ("pairing", &["*"], "u2", "bob", O::D(R::Direct)),
        ("pairing", &["@alice"], ALICE_ID, "alice", O::D(R::Direct)),
        ("pairing", &["alice"], ALICE_ID, "ALICE", O::D(R::Direct)),
        ("pairing", &[ALICE_ID], ALICE_ID, "alice", O::D(R::Direct)),
        ("pairing", &["bob"], ALICE_ID, "alice", O::Pair),
        ("pairing", &[], ALICE_ID, "alice", O::Pair),
    ];
    for (policy, allow, id, username, want) in rows {
        for room_type in [RoomType::Direct, RoomType::Livechat] {
            let mut g = gate(json!({"dmPolicy": policy, "allowFrom": allow}));
            let m = M::new(room_type, "DMROOM").from(id, username);
            let got = o(&decide(&mut g, &m));
            assert_eq!(
                &got, want,
                "{policy} {allow:?} {id}/{username} in {room_type:?}"
            );
        }
    }
}

#[test]
fn dm_delivery_carries_text_without_the_bot_mention() {
    let mut g = gate(json!({"dmPolicy": "open", "allowFrom": ["*"]}));
    let d = decide(&mut g, &M::dm().text("what's up?").mention());
    assert_eq!(
        d,
        Decision::Deliver {
            text: "what's up?".into(),
            was_mentioned: true,
            reason: R::Direct,
            control_command: false,
            command_authorized: true,
            typed_as: None,
        }
    );
    // DMs need no mention, and empty text without files is dropped.
    assert_eq!(o(&decide(&mut g, &M::dm().text("hi"))), O::D(R::Direct));
    assert_eq!(o(&decide(&mut g, &M::dm().text("  "))), O::X(X::Empty));
    assert_eq!(
        o(&decide(&mut g, &M::dm().text("").file())),
        O::D(R::Direct)
    );
}

#[test]
fn pairing_asks_once_until_approved_or_expired() {
    let mut g = gate(json!({"dmPolicy": "pairing", "allowFrom": ["bob"]}));
    let m = M::dm().text("hi there");
    let first = g.decide(&m.0, T0);
    assert_eq!(
        first,
        Decision::Pair {
            sender_id: ALICE_ID.into(),
            sender_username: "alice".into(),
            sender_name: Some("Alice Doe".into()),
            text: "hi there".into(),
        }
    );
    assert!(matches!(
        first.report(&m.0),
        Some(Event::PairingRequest { ref room_id, .. }) if room_id == "DMROOM"
    ));
    assert!(g.is_pairing_pending(ALICE_ID, T0 + 1));
    // Not re-asked while pending…
    assert_eq!(
        g.decide(&m.0, T0 + 1).report(&m.0),
        Some(Event::Dropped {
            room_id: "DMROOM".into(),
            message_id: "Kc9eBwdD4nh9nYZsJ".into(),
            reason: X::NotAllowed,
        })
    );
    let ttl = DEFAULT_PAIRING_TTL_MS;
    assert_eq!(o(&g.decide(&m.0, T0 + ttl - 1)), O::X(X::NotAllowed));
    // …asked again once the request is older than the TTL (boundary: expired at T0 + ttl).
    assert_eq!(o(&g.decide(&m.0, T0 + ttl)), O::Pair);
    assert_eq!(g.pending_pairings().count(), 1);
    // Approval admits and clears the request.
    assert!(g.approve(ALICE_ID));
    assert!(!g.approve(ALICE_ID), "already approved");
    assert!(!g.is_pairing_pending(ALICE_ID, T0 + ttl));
    assert_eq!(o(&g.decide(&m.0, T0 + ttl + 1)), O::D(R::Direct));
    // Revoke: asked again.
    assert!(g.revoke(&format!("user:{ALICE_ID}")));
    assert!(!g.revoke(ALICE_ID), "nothing left to revoke");
    assert_eq!(o(&g.decide(&m.0, T0 + ttl + 2)), O::Pair);
    // Other senders are unaffected by alice's request.
    let bob = M::dm().from("u2", "bob");
    assert_eq!(o(&g.decide(&bob.0, T0)), O::D(R::Direct));
    let carol = M::dm().from("u3", "carol");
    assert_eq!(o(&g.decide(&carol.0, T0)), O::Pair);
}

#[test]
fn message_dropped_just_before_approval_is_released() {
    let mut g = gate(json!({"dmPolicy": "pairing"}));
    let first = M::dm().text("may I?");
    assert_eq!(o(&g.decide(&first.0, T0)), O::Pair);
    let early = M::dm().text("too early");
    assert_eq!(o(&g.decide(&early.0, T0 + 1)), O::X(X::NotAllowed));
    let racing = M::dm().text("ping");
    assert_eq!(o(&g.decide(&racing.0, T0 + 100)), O::X(X::NotAllowed));
    // Not approved yet: nothing released, and the message stays held.
    assert!(g.take_released(T0 + 200).is_empty());
    g.approve(ALICE_ID);
    // Every message she wrote before the approval, in order: the one that raised the request
    // (answered with the pairing code) is answered now too.
    let out = g.take_released(T0 + 200);
    assert_eq!(
        out.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
        ["may I?", "too early", "ping"]
    );
    assert!(g.take_released(T0 + 300).is_empty(), "released once");
}

#[test]
fn a_late_approval_still_releases_what_was_held_until_the_request_expires() {
    let ttl = DEFAULT_PAIRING_TTL_MS;
    let mut g = gate(json!({"dmPolicy": "pairing"}));
    assert_eq!(o(&g.decide(&M::dm().text("hi").0, T0)), O::Pair);
    let waiting = M::dm().text("still there?");
    assert_eq!(o(&g.decide(&waiting.0, T0 + 1)), O::X(X::NotAllowed));
    g.approve(ALICE_ID);
    // A minute late (a busy gateway): still answered, the first message too.
    let out = g.take_released(T0 + 60_000);
    assert_eq!(out.len(), 2);

    let mut g = gate(json!({"dmPolicy": "pairing"}));
    assert_eq!(o(&g.decide(&M::dm().text("hi").0, T0)), O::Pair);
    assert_eq!(o(&g.decide(&waiting.0, T0 + 1)), O::X(X::NotAllowed));
    g.approve(ALICE_ID);
    assert!(
        g.take_released(T0 + 1 + ttl + 1).is_empty(),
        "the request had expired"
    );
}

#[test]
fn held_messages_are_bounded_per_sender_keeping_the_newest() {
    let mut g = gate(json!({"dmPolicy": "pairing"}));
    assert_eq!(o(&g.decide(&M::dm().text("hi").0, T0)), O::Pair);
    for i in 0..(MAX_HELD_PER_SENDER + 5) {
        let m = M::dm().text(&format!("m{i}"));
        assert_eq!(o(&g.decide(&m.0, T0 + 1 + i as u64)), O::X(X::NotAllowed));
    }
    g.approve(ALICE_ID);
    let out = g.take_released(T0 + 1000);
    assert_eq!(out.len(), MAX_HELD_PER_SENDER);
    assert_eq!(out[0].text, "m5");
}

#[test]
fn pairing_ttl_and_approval_spellings() {
    // (approval entry, admits alice)
    let rows: &[(&str, bool)] = &[
        (ALICE_ID, true),
        ("alice", true),
        ("@ALICE", true),
        ("user:k9ZfTqW2mHs8PxLcE", true),
        ("rocketchat:k9ZfTqW2mHs8PxLcE", true),
        ("*", true),
        ("@bob", false),
        ("", false),
    ];
    for (entry, admits) in rows {
        let mut g = gate(json!({"dmPolicy": "pairing"}));
        g.set_pairing_ttl_ms(1000);
        let m = M::dm();
        assert_eq!(o(&g.decide(&m.0, T0)), O::Pair);
        g.approve(entry);
        let want = if *admits {
            O::D(R::Direct)
        } else {
            O::X(X::NotAllowed)
        };
        assert_eq!(o(&g.decide(&m.0, T0 + 999)), want, "approve {entry:?}");
        if !admits {
            assert_eq!(o(&g.decide(&m.0, T0 + 1000)), O::Pair, "ttl {entry:?}");
        }
    }
}

#[test]
fn approvals_extend_the_group_allowlist_too() {
    let mut g = gate(json!({"groupPolicy": "allowlist", "chatmode": "onmessage"}));
    let m = M::chan();
    assert_eq!(
        o(&decide(&mut g, &m)),
        O::X(X::NotAllowed),
        "empty effective list"
    );
    g.approve("@alice");
    assert_eq!(o(&decide(&mut g, &m)), O::D(R::Onmessage));
    g.set_approvals(&["bob"]);
    assert_eq!(o(&decide(&mut g, &m)), O::X(X::NotAllowed));
    assert_eq!(g.approvals().rules().len(), 1);
}

#[test]
fn an_edit_of_a_held_message_replaces_it() {
    let mut g = gate(json!({"dmPolicy": "pairing"}));
    assert_eq!(o(&g.decide(&M::dm().text("may I?").0, T0)), O::Pair);
    let mut second = M::dm().text("typo");
    second.0.message_id = "SECOND0000000000A".into();
    assert_eq!(o(&g.decide(&second.0, T0 + 1)), O::X(X::NotAllowed));
    let mut fixed = second.clone().text("fixed");
    fixed.0.is_edit = true;
    assert_eq!(o(&g.decide(&fixed.0, T0 + 2)), O::X(X::NotAllowed));
    g.approve(ALICE_ID);
    let out = g.take_released(T0 + 3);
    assert_eq!(
        out.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
        ["may I?", "fixed"],
        "each message once, as last edited"
    );
}
