//! Table-driven tests of the gate. Messages are built with [`M`], configs from
//! JSON through the real resolver, so defaults match what accounts get.

use serde_json::{json, Value};

use super::*;
use crate::config::{resolve, NoEnv};
use crate::event::{
    Attachment, AttachmentKind, MentionedUser, Mentions, MessageSource, RoomType, Sender,
};

const BOT_ID: &str = "BOTID0000000000001";
const BOT: &str = "mybot";
const ALICE_ID: &str = "k9ZfTqW2mHs8PxLcE";
const T0: u64 = 1_763_980_801_000;
const MIN: u64 = 60_000;

/// An account config: a valid base plus `extra` keys.
fn cfg(extra: Value) -> AccountConfig {
    let mut v = json!({"baseUrl": "https://chat.example.com", "authToken": "t", "userId": BOT_ID});
    for (k, val) in extra.as_object().expect("object") {
        v[k] = val.clone();
    }
    let resolved = resolve(&v, &NoEnv).unwrap_or_else(|e| panic!("config {v}: {e}"));
    resolved
        .accounts
        .into_iter()
        .next()
        .expect("default account")
}

fn gate(extra: Value) -> Gate {
    let mut g = Gate::new(&cfg(extra));
    g.set_bot(BOT_ID, BOT);
    g
}

/// Message builder (shapes as in tests/golden/events/message*.json).
#[derive(Clone)]
struct M(InboundMessage);

impl M {
    fn new(room_type: RoomType, room_id: &str) -> M {
        M(InboundMessage {
            account_id: "default".into(),
            room_id: room_id.into(),
            room_type,
            room_name: None,
            message_id: "Kc9eBwdD4nh9nYZsJ".into(),
            thread_id: None,
            thread_shown: false,
            sender: Sender {
                id: ALICE_ID.into(),
                username: "alice".into(),
                name: Some("Alice Doe".into()),
            },
            text: "hello".into(),
            mentions: Mentions::default(),
            attachments: vec![],
            files: vec![],
            ts: T0,
            edited_at: None,
            is_edit: false,
            message_type: None,
            source: MessageSource::Live,
            room_participant: true,
            trigger: None,
        })
    }
    fn dm() -> M {
        M::new(RoomType::Direct, "DMROOM")
    }
    fn chan() -> M {
        M::new(RoomType::Channel, "GENERAL")
    }
    fn from(mut self, id: &str, username: &str) -> M {
        self.0.sender.id = id.into();
        self.0.sender.username = username.into();
        self
    }
    fn text(mut self, t: &str) -> M {
        self.0.text = t.into();
        self
    }
    /// `@mybot <text>` with the mention recorded as the server does.
    fn mention(mut self) -> M {
        self.0.text = format!("@{BOT} {}", self.0.text);
        self.0.mentions.bot_mentioned = true;
        self.0.mentions.users.push(MentionedUser {
            id: BOT_ID.into(),
            username: BOT.into(),
        });
        self
    }
    /// `<text> @mybot`: the mention after the text (so an `onchar` prefix stays first).
    fn mention_after(mut self) -> M {
        self.0.text = format!("{} @{BOT}", self.0.text);
        self.0.mentions.bot_mentioned = true;
        self
    }
    fn all(mut self) -> M {
        self.0.text = format!("@all {}", self.0.text);
        self.0.mentions.all = true;
        self
    }
    fn here(mut self) -> M {
        self.0.text = format!("@here {}", self.0.text);
        self.0.mentions.here = true;
        self
    }
    fn thread(mut self, tmid: &str) -> M {
        self.0.thread_id = Some(tmid.into());
        self
    }
    fn room(mut self, rid: &str) -> M {
        self.0.room_id = rid.into();
        self
    }
    fn at(mut self, ts: u64) -> M {
        self.0.ts = ts;
        self
    }
    fn file(mut self) -> M {
        self.0.attachments.push(Attachment {
            kind: AttachmentKind::Image,
            title: Some("a.png".into()),
            url: Some("/file-upload/x/a.png".into()),
            mime_type: Some("image/png".into()),
            size: Some(10),
            description: None,
            file_id: Some("x".into()),
        });
        self
    }
}

/// A compact view of a decision for tables.
#[derive(Debug, Clone, PartialEq, Eq)]
enum O {
    D(DeliverReason),
    Pair,
    X(DropReason),
}
use DeliverReason as R;
use DropReason as X;

fn o(d: &Decision) -> O {
    match d {
        Decision::Deliver { reason, .. } => O::D(*reason),
        Decision::Pair { .. } => O::Pair,
        Decision::Drop(r) => O::X(*r),
    }
}

fn decide(g: &mut Gate, m: &M) -> Decision {
    g.decide(&m.0, T0)
}

fn text_of(d: &Decision) -> &str {
    match d {
        Decision::Deliver { text, .. } | Decision::Pair { text, .. } => text,
        Decision::Drop(r) => panic!("dropped: {r:?}"),
    }
}

// ---------------------------------------------------------------- allowlists

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

// ---------------------------------------------------------------- DMs

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

// ---------------------------------------------------------------- pairing

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
    // Only the latest held message, and only within the approval lag.
    let out = g.take_released(T0 + 200);
    assert_eq!(
        out.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
        ["ping"]
    );
    assert!(g.take_released(T0 + 300).is_empty(), "released once");

    let mut g = gate(json!({"dmPolicy": "pairing"}));
    assert_eq!(o(&g.decide(&first.0, T0)), O::Pair);
    assert_eq!(o(&g.decide(&racing.0, T0 + 1)), O::X(X::NotAllowed));
    g.approve(ALICE_ID);
    assert!(
        g.take_released(T0 + 1 + APPROVAL_LAG_MS + 1).is_empty(),
        "too old"
    );
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

// ---------------------------------------------------------------- groups

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
                                if let Decision::Deliver {
                                    text,
                                    was_mentioned,
                                    ..
                                } = &got
                                {
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

// ---------------------------------------------------------------- onchar

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

// ---------------------------------------------------------------- windows

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

// ---------------------------------------------------------------- rooms

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

// ---------------------------------------------------------------- mentions

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

// ---------------------------------------------------------------- control commands

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

// ---------------------------------------------------------------- defensive checks

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
