//! Conversation windows: answering without a mention for a while after the bot was addressed.

use super::*;

#[test]
fn conversation_window_start_extend_expire() {
    let mut g = gate(json!({"groupPolicy": "open", "conversationWindowMinutes": 5}));
    let w = 5 * MIN;
    let plain = |ts| M::chan().text("more").at(ts);
    // (message, outcome, window end afterwards)
    let steps: Vec<(M, O, Option<u64>)> = vec![
        (plain(T0), O::X(X::NoMention), None),
        (M::chan().mention().at(T0), O::D(R::Mention), Some(T0 + w)),
        (plain(T0 + w - 1), O::D(R::Window), Some(T0 + 2 * w - 1)),
        (plain(T0 + 2 * w - 2), O::D(R::Window), Some(T0 + 3 * w - 2)),
        (
            plain(T0 + 3 * w - 2),
            O::X(X::NoMention),
            Some(T0 + 3 * w - 2),
        ),
        (plain(T0 + 4 * w), O::X(X::NoMention), Some(T0 + 3 * w - 2)),
        // an older (caught-up) mention never shortens the window
        (
            M::chan().mention().at(T0),
            O::D(R::Mention),
            Some(T0 + 3 * w - 2),
        ),
    ];
    for (i, (m, want, until)) in steps.into_iter().enumerate() {
        assert_eq!(o(&decide(&mut g, &m)), want, "step {i}");
        assert_eq!(g.window_until("GENERAL", None), until, "step {i}");
    }
}

#[test]
fn bot_speaking_opens_the_window_at_the_exact_boundary() {
    // (window minutes, message offset after the bot spoke, outcome)
    let rows: &[(u64, u64, O)] = &[
        (1, 0, O::D(R::Window)),
        (1, MIN - 1, O::D(R::Window)),
        (1, MIN, O::X(X::NoMention)),
        (10, 10 * MIN - 1, O::D(R::Window)),
        (10, 10 * MIN, O::X(X::NoMention)),
        (0, 0, O::X(X::NoMention)),
    ];
    for (minutes, offset, want) in rows {
        let mut g = gate(json!({"groupPolicy": "open", "conversationWindowMinutes": minutes}));
        g.note_bot_spoke("GENERAL", None, T0);
        let m = M::chan().at(T0 + offset);
        assert_eq!(&o(&decide(&mut g, &m)), want, "{minutes} min, +{offset} ms");
    }
}

#[test]
fn windows_are_per_room_and_per_thread() {
    let mut g = gate(json!({
        "groupPolicy": "open", "conversationWindowMinutes": 5,
        "rooms": {"QUIET": {"conversationWindowMinutes": 0}, "LONG": {"conversationWindowMinutes": 60}}
    }));
    decide(&mut g, &M::chan().mention());
    decide(&mut g, &M::chan().thread("T1").mention());
    decide(&mut g, &M::chan().room("QUIET").mention());
    decide(&mut g, &M::chan().room("LONG").mention());
    let later = T0 + 10 * MIN;
    // (message, outcome)
    let rows: Vec<(M, O)> = vec![
        (M::chan().at(T0 + MIN), O::D(R::Window)),
        (M::chan().thread("T1").at(T0 + MIN), O::D(R::Window)),
        (M::chan().thread("T2").at(T0 + MIN), O::X(X::NoMention)),
        (M::chan().room("OTHER").at(T0 + MIN), O::X(X::NoMention)),
        (M::chan().room("QUIET").at(T0 + 1), O::X(X::NoMention)),
        (M::chan().room("LONG").at(later), O::D(R::Window)),
        (M::chan().at(later), O::X(X::NoMention)),
    ];
    for (i, (m, want)) in rows.into_iter().enumerate() {
        assert_eq!(o(&decide(&mut g, &m)), want, "row {i}");
    }
    // The host replying in a thread opens that thread only.
    g.note_bot_spoke("GENERAL", Some("T9"), later);
    assert_eq!(
        o(&decide(&mut g, &M::chan().thread("T9").at(later))),
        O::D(R::Window)
    );
    assert_eq!(o(&decide(&mut g, &M::chan().at(later))), O::X(X::NoMention));
    assert_eq!(g.window_until("QUIET", None), None);
}

#[test]
fn onchar_trigger_and_bare_mention_open_the_window() {
    let mut g =
        gate(json!({"groupPolicy": "open", "chatmode": "onchar", "conversationWindowMinutes": 1}));
    assert_eq!(o(&decide(&mut g, &M::chan().text("!hi"))), O::D(R::Onchar));
    assert_eq!(o(&decide(&mut g, &M::chan().at(T0 + 1))), O::D(R::Window));
    let mut g = gate(json!({"groupPolicy": "open", "conversationWindowMinutes": 1}));
    assert_eq!(
        o(&decide(&mut g, &M::chan().text("").mention())),
        O::X(X::Empty)
    );
    assert_eq!(o(&decide(&mut g, &M::chan().at(T0 + 1))), O::D(R::Window));
    // A message in an open window that is empty still keeps it open; a dropped sender does not.
    let mut g = gate(
        json!({"groupPolicy": "allowlist", "groupAllowFrom": ["bob"], "conversationWindowMinutes": 1}),
    );
    decide(&mut g, &M::chan().mention());
    assert_eq!(g.window_until("GENERAL", None), None);
}
