//! The bot's own, system and malformed messages.

use super::*;

#[test]
fn own_system_and_malformed_messages_are_dropped() {
    let mut g = gate(
        json!({"groupPolicy": "open", "chatmode": "onmessage", "dmPolicy": "open", "allowFrom": ["*"]}),
    );
    let mut system = M::chan();
    system.0.message_type = Some("uj".into());
    // (message, outcome)
    let rows: Vec<(M, O)> = vec![
        (M::chan().from(BOT_ID, BOT), O::X(X::Own)),
        (M::dm().from(BOT_ID, BOT), O::X(X::Own)),
        (system, O::X(X::System)),
        (M::chan().from("", "ghost"), O::X(X::Malformed)),
        (M::chan().from("  ", "ghost"), O::X(X::Malformed)),
        (M::chan().room(""), O::X(X::Malformed)),
        (M::chan().text(""), O::X(X::Empty)),
        (M::chan().text("").file(), O::D(R::Onmessage)),
    ];
    for (i, (m, want)) in rows.into_iter().enumerate() {
        let d = decide(&mut g, &m);
        assert_eq!(o(&d), want, "row {i}");
        if let O::X(reason) = want {
            assert_eq!(
                d.report(&m.0),
                Some(Event::Dropped {
                    room_id: m.0.room_id.clone(),
                    message_id: m.0.message_id.clone(),
                    reason,
                })
            );
        } else {
            assert_eq!(d.report(&m.0), None);
        }
    }
    assert_eq!(
        DeliverReason::MentionNotRequired.as_str(),
        "mentionNotRequired"
    );
}
