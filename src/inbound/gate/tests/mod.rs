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

mod allow;
mod closed;
mod commands;
mod defensive;
mod direct;
mod groups;
mod mentions;
mod windows;

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

/// The text a host reads, when it is not a command the host knows (`typed_as` if set).
fn text_of(d: &Decision) -> &str {
    match d {
        Decision::Deliver { text, typed_as, .. } => typed_as.as_deref().unwrap_or(text),
        Decision::Pair { text, .. } => text,
        Decision::Drop(r) => panic!("dropped: {r:?}"),
    }
}
