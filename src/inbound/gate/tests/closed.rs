//! Rooms the access rules close: `Gate::room_closed`, the one rule behind the drops of
//! `decide` and the refusals of history, search and the room list.

use super::*;

fn closed(g: &Gate, room: &str, t: RoomType) -> Option<(DropReason, String)> {
    g.room_closed(room, t).map(|c| (c.reason, c.to_string()))
}

#[test]
fn each_policy_that_admits_nobody_closes_its_rooms_and_names_its_key() {
    let open = gate(json!({"dmPolicy": "open", "allowFrom": ["*"], "groupPolicy": "open"}));
    assert_eq!(closed(&open, "GENERAL", RoomType::Channel), None);
    assert_eq!(closed(&open, "DM1", RoomType::Direct), None);

    let off = gate(json!({
        "dmPolicy": "open", "allowFrom": ["*"], "groupPolicy": "open",
        "rooms": {"GENERAL": {"enabled": false}},
    }));
    assert_eq!(
        closed(&off, "GENERAL", RoomType::Channel),
        Some((
            DropReason::RoomDisabled,
            "rooms.GENERAL.enabled is false".into()
        ))
    );
    assert_eq!(closed(&off, "OTHER", RoomType::Channel), None);

    let no_dm = gate(json!({"dmPolicy": "disabled", "groupPolicy": "disabled"}));
    assert_eq!(
        closed(&no_dm, "DM1", RoomType::Direct),
        Some((DropReason::Policy, "dmPolicy is \"disabled\"".into()))
    );
    assert_eq!(
        closed(&no_dm, "OPS", RoomType::Private),
        Some((DropReason::Policy, "groupPolicy is \"disabled\"".into()))
    );

    // The defaults: pairing keeps DMs open, an allowlist with nobody on it closes groups.
    let mut defaults = gate(json!({}));
    assert_eq!(closed(&defaults, "DM1", RoomType::Direct), None);
    let (reason, why) = closed(&defaults, "GENERAL", RoomType::Channel).expect("closed");
    assert_eq!(reason, DropReason::NotAllowed);
    assert!(
        why.starts_with("groupAllowFrom and allowFrom are empty"),
        "{why}"
    );
    // An approval opens them (it admits its sender), as it does in `decide`.
    defaults.approve("@alice");
    assert_eq!(closed(&defaults, "GENERAL", RoomType::Channel), None);

    let listed = gate(json!({"groupPolicy": "allowlist", "groupAllowFrom": ["@alice"]}));
    assert_eq!(closed(&listed, "GENERAL", RoomType::Channel), None);
}

#[test]
fn decide_drops_a_closed_rooms_messages_with_the_rules_reason() {
    let mut g = gate(
        json!({"dmPolicy": "disabled", "groupPolicy": "open", "chatmode": "onmessage",
        "rooms": {"OFF": {"enabled": false}}}),
    );
    let dm = M::new(RoomType::Direct, "DM1").text("hi");
    assert_eq!(decide(&mut g, &dm), Decision::Drop(DropReason::Policy));
    let off = M::new(RoomType::Channel, "OFF").text("hi");
    assert_eq!(
        decide(&mut g, &off),
        Decision::Drop(DropReason::RoomDisabled)
    );
    assert!(!g.sender_may_talk(&off.0));
    let on = M::new(RoomType::Channel, "ON").text("hi");
    assert!(matches!(decide(&mut g, &on), Decision::Deliver { .. }));
}
