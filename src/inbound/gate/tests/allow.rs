//! Allowlist entries: ids, usernames, prefixes.

use super::*;

#[test]
fn allow_entries_match_id_username_and_prefixes() {
    // (entry, sender id, sender username, matches)
    let rows: &[(&str, &str, &str, bool)] = &[
        ("*", ALICE_ID, "alice", true),
        (ALICE_ID, ALICE_ID, "alice", true),
        ("k9zftqw2mhs8pxlce", ALICE_ID, "alice", true),
        ("alice", ALICE_ID, "alice", true),
        ("ALICE", ALICE_ID, "alice", true),
        ("alice", ALICE_ID, "Alice", true),
        ("@alice", ALICE_ID, "alice", true),
        ("@Alice", ALICE_ID, "ALICE", true),
        ("  @alice  ", ALICE_ID, "alice", true),
        ("user:k9ZfTqW2mHs8PxLcE", ALICE_ID, "alice", true),
        ("rocketchat:k9ZfTqW2mHs8PxLcE", ALICE_ID, "alice", true),
        ("RocketChat:K9ZFTQW2MHS8PXLCE", ALICE_ID, "alice", true),
        ("user:@alice", ALICE_ID, "alice", true),
        ("rocketchat:@alice", ALICE_ID, "alice", true),
        // prefixed ids match ids only, @names usernames only
        ("user:alice", ALICE_ID, "alice", false),
        ("rocketchat:alice", ALICE_ID, "alice", false),
        ("@k9ZfTqW2mHs8PxLcE", ALICE_ID, "alice", false),
        // a username that spells someone's id is not that id
        (
            "user:k9ZfTqW2mHs8PxLcE",
            "other",
            "k9ZfTqW2mHs8PxLcE",
            false,
        ),
        ("bob", ALICE_ID, "alice", false),
        ("alic", ALICE_ID, "alice", false),
        ("@", ALICE_ID, "alice", false),
        ("user:", ALICE_ID, "alice", false),
        ("", ALICE_ID, "alice", false),
        ("   ", ALICE_ID, "alice", false),
        ("**", ALICE_ID, "alice", false),
        ("user:*", ALICE_ID, "alice", false),
    ];
    for (entry, id, username, want) in rows {
        let list = AllowList::new(&[*entry]);
        let s = Sender {
            id: (*id).into(),
            username: (*username).into(),
            name: None,
        };
        assert_eq!(
            list.matches(&s),
            *want,
            "entry {entry:?} vs {id}/{username}"
        );
    }
    assert!(AllowList::new(&["", "  ", "@", "user:"]).is_empty());
}
