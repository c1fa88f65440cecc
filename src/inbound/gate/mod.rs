//! Access control for one normalised inbound message: deliver it to the agent,
//! ask the host to pair its sender, or drop it, and why.
//!
//! [`Gate::decide`] is pure and synchronous apart from the gate's own state
//! (pairing requests it has issued, conversation windows). It follows the
//! original plugin's order (FEATURES.md "Gating, in order", items 3–9):
//!
//! 0. Defensive checks the pipeline normally makes first: a blank sender or
//!    room id → [`DropReason::Malformed`], the bot's own message →
//!    [`DropReason::Own`], a system message (`t` set) → [`DropReason::System`].
//! 1. `rooms.<roomId>.enabled: false` → [`DropReason::RoomDisabled`] (DM rooms too).
//! 2. Direct rooms (`d`, and livechat `l`) by `dmPolicy`: `disabled` →
//!    [`DropReason::Policy`]; `open` admits everyone (config validation
//!    demands `"*"` in `allowFrom`; a list replaced at run time does not
//!    change that); `allowlist` needs the sender in the effective `allowFrom`,
//!    else [`DropReason::NotAllowed`]; `pairing` answers an unknown sender with
//!    [`Decision::Pair`] once, then drops their messages with
//!    [`DropReason::NotAllowed`] while the request is pending
//!    ([`Gate::set_pairing_ttl_ms`], default one hour). Those messages, and
//!    the one that raised the request, are held (up to [`MAX_HELD_PER_SENDER`]
//!    per sender) while the request is pending: approvals reach the core with
//!    a lag, however late (or were made before the core heard of them, when the
//!    host finds the sender already in its store), and [`Gate::take_released`]
//!    hands them back, in order, once it arrives, so a DM written before the
//!    approval is answered after it, never lost.
//! 3. Channels and groups (`c`, `p`) by `groupPolicy`: `disabled` →
//!    [`DropReason::Policy`]; `allowlist` → [`DropReason::NotAllowed`] when the
//!    effective group allowlist is empty or lacks the sender; `open` admits all.
//! 4. In groups, a control command ([`is_control_command`]) from a sender in
//!    neither effective allowlist → [`DropReason::NotAllowed`], whatever the
//!    group policy. An authorised one bypasses the mention gate.
//! 5. Mention gate (groups only), by `chatmode`:
//!    - `onmessage`: every message;
//!    - `onchar`: a message starting with a prefix from `oncharPrefixes`
//!      (leading whitespace allowed, prefix stripped), else a mention, an open
//!      conversation window or an authorised control command; `requireMention`
//!      is not consulted (choosing `onchar` means a trigger is required);
//!    - `oncall` (default): `requireMention` for the room (default true)
//!      requires a mention, an open conversation window or an authorised
//!      control command; with `requireMention: false` every message passes.
//!
//!    Otherwise → [`DropReason::NoMention`].
//! 6. Conversation window: when the bot was mentioned (or prefixed) or the
//!    window is open, the window of that room **and thread** is extended from
//!    the message's time (`conversationWindowMinutes`, per room override; 0 =
//!    off). This happens before the empty check, so a bare `@bot` opens it.
//! 7. Empty text after stripping (prefix, the bot's `@username`, whitespace)
//!    and no attachments or files → [`DropReason::Empty`].
//!
//! # Allowlists
//!
//! Effective DM allowlist = `allowFrom` ∪ approvals; effective group allowlist
//! = `groupAllowFrom` (or `allowFrom` when it has no non-blank entry) ∪
//! approvals, as OpenClaw's pairing store. Approvals ([`Gate::approve`]) are
//! the host's pairing store mirrored here; the config lists can be replaced at
//! run time ([`Gate::set_allow_from`], [`Gate::set_group_allow_from`]). Entry
//! syntax: [`AllowRule`].
//!
//! # Mentions
//!
//! The bot is mentioned when the message mentions its user id or username
//! (when the bot's identity is known: [`Gate::set_bot`]), or when
//! `mentions.botMentioned` is set without `@all`/`@here`; `@all` and `@here`
//! count only with `mentionAll`; a match of one of `mentionPatterns`
//! ([`MentionPatterns`]: aliases, the host agent's patterns) counts too. The
//! bot's `@username` is removed from the text handed to the agent
//! ([`strip_bot_mention`]); text matched by a pattern is kept (it is part of
//! what the sender said, e.g. "Claw, what is up?").
//!
//! # Failing closed
//!
//! Policies are enums resolved (with defaults) by the config layer, so there
//! is no "unknown policy" here: a malformed policy is a config error and the
//! account does not start. Every branch that is not an explicit admission
//! drops: empty allowlists admit nobody, blank entries and blank `onchar`
//! prefixes are ignored, `*` is only honoured as a whole entry.

mod allow;
mod pairing;
mod patterns;
mod text;
mod window;

#[cfg(test)]
mod tests;

pub use allow::{AllowList, AllowRule};
pub use pairing::{PendingPairing, DEFAULT_PAIRING_TTL_MS};
pub use patterns::MentionPatterns;
pub use text::{is_control_command, prefixed_command, strip_bot_mention, strip_onchar_prefix};

use std::collections::{BTreeMap, VecDeque};

use crate::config::{AccountConfig, ChatMode, DmPolicy, GroupPolicy, RoomConfig};
use crate::event::{DropReason, Event, InboundMessage, RoomType, Trigger};
use crate::inbound::mentions_username;

use pairing::Pending;
use window::Windows;

/// Why a message was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliverReason {
    /// A direct (or livechat) message from an admitted sender.
    Direct,
    /// A group message mentioning the bot.
    Mention,
    /// A group message in `chatmode: "onmessage"`.
    Onmessage,
    /// A group message starting with an `onchar` prefix.
    Onchar,
    /// A group message in an open conversation window.
    Window,
    /// A group message in a room where `requireMention` is false (`oncall`).
    MentionNotRequired,
    /// An authorised control command without a mention.
    ControlCommand,
}

impl DeliverReason {
    /// A short camelCase name for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliverReason::Direct => "direct",
            DeliverReason::Mention => "mention",
            DeliverReason::Onmessage => "onmessage",
            DeliverReason::Onchar => "onchar",
            DeliverReason::Window => "window",
            DeliverReason::MentionNotRequired => "mentionNotRequired",
            DeliverReason::ControlCommand => "controlCommand",
        }
    }
}

/// The outcome of [`Gate::decide`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Hand the message to the agent.
    Deliver {
        /// The text for the agent: `onchar` prefix and the bot's `@username`
        /// removed, trimmed. May be empty when the message has files.
        text: String,
        /// The bot was addressed: mentioned (`@all`/`@here` only with
        /// `mentionAll`) or, in groups, triggered by an `onchar` prefix.
        was_mentioned: bool,
        /// Which rule admitted it.
        reason: DeliverReason,
        /// `text` is a control command ([`is_control_command`]).
        control_command: bool,
        /// The text as typed, when `text` is a command rewritten from `commandPrefix`.
        typed_as: Option<String>,
        /// The sender is in the effective DM or group allowlist: the host may
        /// run control commands for them (OpenClaw's `CommandAuthorized`).
        command_authorized: bool,
    },
    /// An unknown DM sender under `dmPolicy: "pairing"`: the host issues a
    /// pairing code. Later messages are dropped while the request is pending.
    Pair {
        /// The sender's user id.
        sender_id: String,
        /// The sender's username.
        sender_username: String,
        /// The sender's display name.
        sender_name: Option<String>,
        /// What they wrote (the bot's `@username` removed, trimmed).
        text: String,
    },
    /// Do not deliver.
    Drop(DropReason),
}

impl Decision {
    /// What the host is told of a delivered message's admission (its `trigger`); `None` for a
    /// message that is not delivered. `message_text` is the message's own text: a body equal
    /// to it is left out of the trigger.
    pub fn into_trigger(self, message_text: &str) -> Option<Trigger> {
        match self {
            Decision::Deliver {
                text,
                was_mentioned,
                reason,
                control_command,
                typed_as,
                command_authorized,
            } => Some(Trigger {
                reason: reason.as_str().to_owned(),
                body: (text != message_text).then_some(text),
                was_mentioned,
                control_command,
                command_authorized,
                typed_as,
            }),
            _ => None,
        }
    }

    /// The event reporting a non-delivery: `dropped` or `pairingRequest`;
    /// `None` for [`Decision::Deliver`].
    pub fn report(&self, msg: &InboundMessage) -> Option<Event> {
        match self {
            Decision::Deliver { .. } => None,
            Decision::Pair {
                sender_id,
                sender_username,
                sender_name,
                text,
            } => Some(Event::PairingRequest {
                room_id: msg.room_id.clone(),
                sender_id: sender_id.clone(),
                sender_username: sender_username.clone(),
                sender_name: sender_name.clone(),
                text: text.clone(),
            }),
            Decision::Drop(reason) => Some(Event::Dropped {
                room_id: msg.room_id.clone(),
                message_id: msg.message_id.clone(),
                reason: *reason,
            }),
        }
    }
}

/// Why the access rules close a room: no human's message there reaches the agent, whoever
/// sent it, so nothing of it is the bot's to read or show either ([`Gate::room_closed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomClosed {
    /// What [`Gate::decide`] drops every message of the room with.
    pub reason: DropReason,
    /// The configuration key that closes it (`rooms.<roomId>.enabled`, `dmPolicy`,
    /// `allowFrom`, `groupPolicy`, `groupAllowFrom`), relative to the account.
    pub key: String,
    /// What that key says, e.g. `is "disabled"`.
    pub why: &'static str,
}

impl std::fmt::Display for RoomClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.key, self.why)
    }
}

/// The account's gating settings, copied from its [`AccountConfig`].
#[derive(Debug, Clone)]
struct Policy {
    dm_policy: DmPolicy,
    allow_from: AllowList,
    group_policy: GroupPolicy,
    group_allow_from: AllowList,
    chatmode: ChatMode,
    onchar_prefixes: Vec<String>,
    command_prefix: String,
    require_mention: bool,
    window_minutes: u64,
    mention_all: bool,
    mention_patterns: MentionPatterns,
    rooms: BTreeMap<String, RoomConfig>,
}

impl Policy {
    fn from_config(c: &AccountConfig) -> Policy {
        Policy {
            dm_policy: c.dm_policy,
            allow_from: AllowList::new(&c.allow_from),
            group_policy: c.group_policy,
            group_allow_from: AllowList::new(&c.group_allow_from),
            chatmode: c.chatmode,
            onchar_prefixes: c.onchar_prefixes.clone(),
            command_prefix: c.command_prefix.clone(),
            require_mention: c.require_mention,
            window_minutes: c.conversation_window_minutes,
            mention_all: c.mention_all,
            mention_patterns: MentionPatterns::new(&c.mention_patterns),
            rooms: c.rooms.clone(),
        }
    }

    fn room_enabled(&self, room: &str) -> bool {
        self.rooms.get(room).and_then(|r| r.enabled).unwrap_or(true)
    }

    fn require_mention_in(&self, room: &str) -> bool {
        self.rooms
            .get(room)
            .and_then(|r| r.require_mention)
            .unwrap_or(self.require_mention)
    }

    fn window_minutes_in(&self, room: &str) -> u64 {
        self.rooms
            .get(room)
            .and_then(|r| r.conversation_window_minutes)
            .unwrap_or(self.window_minutes)
    }

    /// The configured group list: `groupAllowFrom`, or `allowFrom` when empty.
    fn group_list(&self) -> &AllowList {
        if self.group_allow_from.is_empty() {
            &self.allow_from
        } else {
            &self.group_allow_from
        }
    }
}

/// The bot's identity, for own-message and mention checks.
#[derive(Debug, Clone)]
struct Bot {
    user_id: String,
    username: String,
}

/// Access control for one account: its policy plus runtime state (pairing
/// approvals and pending requests, conversation windows). See the module docs.
#[derive(Debug, Clone)]
pub struct Gate {
    policy: Policy,
    bot: Option<Bot>,
    approvals: AllowList,
    pending: Pending,
    pairing_ttl_ms: u64,
    windows: Windows,
    /// Per sender, the DMs dropped while their pairing request was pending, oldest first,
    /// with when each was dropped.
    held: BTreeMap<String, VecDeque<(InboundMessage, u64)>>,
}

/// DMs held per sender while their pairing request is pending; beyond this the oldest is
/// forgotten (a sender who writes this much before approval is told again at the next
/// request). Held DMs stay eligible for [`Gate::take_released`] as long as a pairing request
/// lives ([`Gate::set_pairing_ttl_ms`]): the host's approval reaches the core with a lag that
/// a slow event loop can stretch without bound.
pub const MAX_HELD_PER_SENDER: usize = 20;

impl Gate {
    /// A gate for `config`, with no approvals, no windows, and the bot's
    /// identity not yet known ([`Gate::set_bot`]).
    pub fn new(config: &AccountConfig) -> Gate {
        Gate {
            policy: Policy::from_config(config),
            bot: None,
            approvals: AllowList::default(),
            pending: Pending::default(),
            pairing_ttl_ms: DEFAULT_PAIRING_TTL_MS,
            windows: Windows::default(),
            held: BTreeMap::new(),
        }
    }

    /// Take a reloaded config. Approvals, pending pairing requests and open
    /// windows are kept; lists replaced with [`Gate::set_allow_from`] /
    /// [`Gate::set_group_allow_from`] are replaced again by the config's.
    pub fn reconfigure(&mut self, config: &AccountConfig) {
        self.policy = Policy::from_config(config);
    }

    /// Set the bot's identity (from `GET /me` or the login): enables the
    /// own-message check, mention detection by id/username and the removal
    /// of `@username` from the agent's text.
    pub fn set_bot(&mut self, user_id: &str, username: &str) {
        self.bot = Some(Bot {
            user_id: user_id.trim().to_owned(),
            username: username.trim().trim_start_matches('@').to_owned(),
        });
    }

    /// How long a pairing request stays pending before the sender is asked again.
    pub fn set_pairing_ttl_ms(&mut self, ttl_ms: u64) {
        self.pairing_ttl_ms = ttl_ms;
    }

    /// Add a host-approved entry (the pairing store: usually the sender's id)
    /// to both effective allowlists, and forget the pending requests it
    /// admits. `false` when blank or already approved.
    pub fn approve(&mut self, entry: &str) -> bool {
        let added = self.approvals.add(entry);
        if let Some(rule) = AllowRule::parse(entry) {
            self.pending.remove_where(|id, username| {
                rule.matches(&crate::event::Sender {
                    id: id.to_owned(),
                    username: username.to_owned(),
                    name: None,
                })
            });
        }
        added
    }

    /// The DMs held while their senders' pairing requests were pending (dropped at most a
    /// pairing lifetime before `now_ms`) whose senders are now admitted, oldest first, to be
    /// decided again; expired held messages are forgotten.
    pub fn take_released(&mut self, now_ms: u64) -> Vec<InboundMessage> {
        let ttl = self.pairing_ttl_ms;
        let held = std::mem::take(&mut self.held);
        let mut out = Vec::new();
        for (id, mut queue) in held {
            queue.retain(|(_, at)| now_ms.saturating_sub(*at) <= ttl);
            let admitted = queue.front().is_some_and(|(msg, _)| self.dm_allowed(msg));
            if admitted {
                out.extend(queue.into_iter().map(|(msg, _)| msg));
            } else if !queue.is_empty() {
                self.held.insert(id, queue);
            }
        }
        out
    }

    /// Withdraw an approval (any spelling of the same value), and forget a
    /// pending request so the sender can be asked again. The config lists are
    /// not touched. `false` when nothing was approved under that value.
    pub fn revoke(&mut self, entry: &str) -> bool {
        let removed = self.approvals.remove(entry);
        if let Some(rule) = AllowRule::parse(entry) {
            let value = rule.value().to_owned();
            self.pending.remove_where(|id, username| {
                id.to_lowercase() == value || username.to_lowercase() == value
            });
        }
        removed
    }

    /// Replace the approvals with `entries` (e.g. the host's whole pairing store).
    pub fn set_approvals<S: AsRef<str>>(&mut self, entries: &[S]) {
        self.approvals = AllowList::new(entries);
    }

    /// Replace `allowFrom` at run time, without restarting the account.
    pub fn set_allow_from<S: AsRef<str>>(&mut self, entries: &[S]) {
        self.policy.allow_from = AllowList::new(entries);
    }

    /// Replace `groupAllowFrom` at run time (empty = fall back to `allowFrom`).
    pub fn set_group_allow_from<S: AsRef<str>>(&mut self, entries: &[S]) {
        self.policy.group_allow_from = AllowList::new(entries);
    }

    /// The current approvals.
    pub fn approvals(&self) -> &AllowList {
        &self.approvals
    }

    /// Whether `sender_id` has a pairing request pending at `now_ms`.
    pub fn is_pairing_pending(&self, sender_id: &str, now_ms: u64) -> bool {
        self.pending
            .is_pending(sender_id, now_ms, self.pairing_ttl_ms)
    }

    /// The pairing requests issued (sender id → request); expired ones may
    /// linger until swept.
    pub fn pending_pairings(&self) -> impl Iterator<Item = (&str, &PendingPairing)> {
        self.pending.iter()
    }

    /// The bot spoke in `room_id` (and `thread_id`) at `at_ms`: extend that
    /// conversation window (no-op when the room's window is 0 minutes).
    pub fn note_bot_spoke(&mut self, room_id: &str, thread_id: Option<&str>, at_ms: u64) {
        let minutes = self.policy.window_minutes_in(room_id);
        self.windows.extend(room_id, thread_id, at_ms, minutes);
    }

    /// When the conversation window of `room_id`/`thread_id` ends (epoch ms,
    /// exclusive), if one was ever opened.
    pub fn window_until(&self, room_id: &str, thread_id: Option<&str>) -> Option<u64> {
        self.windows.until(room_id, thread_id)
    }

    /// Whether `msg`'s sender is in the effective DM or group allowlist.
    pub fn is_authorized(&self, msg: &InboundMessage) -> bool {
        let s = &msg.sender;
        self.approvals.matches(s)
            || self.policy.allow_from.matches(s)
            || self.policy.group_allow_from.matches(s)
    }

    /// Whether the access rules close room `room_id` (of type `room_type`) whoever writes
    /// there: `rooms.<roomId>.enabled: false`; for DMs `dmPolicy: "disabled"`, or
    /// `"allowlist"` with nobody in `allowFrom` nor approved; for channels and groups
    /// `groupPolicy: "disabled"`, or `"allowlist"` with an empty effective group list.
    /// The one rule for a closed room: [`Gate::decide`] drops with its reason, and what the
    /// host reads of a room (history, search, the room list) is refused or left out.
    pub fn room_closed(&self, room_id: &str, room_type: RoomType) -> Option<RoomClosed> {
        let closed = |reason, key: &str, why| {
            Some(RoomClosed {
                reason,
                key: key.to_owned(),
                why,
            })
        };
        if !self.policy.room_enabled(room_id) {
            return closed(
                DropReason::RoomDisabled,
                &format!("rooms.{room_id}.enabled"),
                "is false",
            );
        }
        if room_type.is_direct() {
            return match self.policy.dm_policy {
                DmPolicy::Disabled => closed(DropReason::Policy, "dmPolicy", "is \"disabled\""),
                DmPolicy::Allowlist
                    if self.approvals.is_empty() && self.policy.allow_from.is_empty() =>
                {
                    closed(
                        DropReason::NotAllowed,
                        "allowFrom",
                        "is empty (dmPolicy \"allowlist\")",
                    )
                }
                _ => None,
            };
        }
        match self.policy.group_policy {
            GroupPolicy::Disabled => closed(DropReason::Policy, "groupPolicy", "is \"disabled\""),
            GroupPolicy::Allowlist if self.group_list_empty() => closed(
                DropReason::NotAllowed,
                "groupAllowFrom",
                "and allowFrom are empty (groupPolicy \"allowlist\")",
            ),
            _ => None,
        }
    }

    /// Whether `msg`'s sender may talk to the bot where it was posted, mentions and
    /// conversation windows aside (the bot's own messages count): what history shown to the
    /// agent is filtered by, so context never carries text from senders the policy shuts out.
    pub fn sender_may_talk(&self, msg: &InboundMessage) -> bool {
        if self
            .bot
            .as_ref()
            .is_some_and(|b| !b.user_id.is_empty() && b.user_id == msg.sender.id)
        {
            return true;
        }
        if self.room_closed(&msg.room_id, msg.room_type).is_some() {
            return false;
        }
        if msg.room_type.is_direct() {
            return match self.policy.dm_policy {
                DmPolicy::Disabled => false,
                DmPolicy::Open => true,
                DmPolicy::Allowlist | DmPolicy::Pairing => self.dm_allowed(msg),
            };
        }
        match self.policy.group_policy {
            GroupPolicy::Disabled => false,
            GroupPolicy::Open => true,
            GroupPolicy::Allowlist => !self.group_list_empty() && self.group_allowed(msg),
        }
    }

    /// Hold a DM of a sender awaiting approval; an edit replaces the held message it edits.
    fn hold(&mut self, msg: &InboundMessage, now_ms: u64) {
        let queue = self.held.entry(msg.sender.id.clone()).or_default();
        let edited = msg.is_edit.then_some(msg.message_id.as_str());
        if let Some(slot) = queue
            .iter_mut()
            .find(|(m, _)| Some(m.message_id.as_str()) == edited)
        {
            slot.0 = msg.clone();
            return;
        }
        if queue.len() >= MAX_HELD_PER_SENDER {
            queue.pop_front();
        }
        queue.push_back((msg.clone(), now_ms));
    }

    fn dm_allowed(&self, msg: &InboundMessage) -> bool {
        self.approvals.matches(&msg.sender) || self.policy.allow_from.matches(&msg.sender)
    }

    fn group_list_empty(&self) -> bool {
        self.approvals.is_empty() && self.policy.group_list().is_empty()
    }

    fn group_allowed(&self, msg: &InboundMessage) -> bool {
        self.approvals.matches(&msg.sender) || self.policy.group_list().matches(&msg.sender)
    }

    /// Whether the bot is addressed by a mention (see the module docs).
    fn was_mentioned(&self, msg: &InboundMessage) -> bool {
        let m = &msg.mentions;
        let broadcast = m.all || m.here;
        let direct = match &self.bot {
            Some(bot) => {
                m.users.iter().any(|u| {
                    (!bot.user_id.is_empty() && u.id == bot.user_id)
                        || (!bot.username.is_empty()
                            && u.username.to_lowercase() == bot.username.to_lowercase())
                }) || mentions_username(&msg.text, &bot.username)
                    || (m.bot_mentioned && !broadcast)
            }
            None => m.bot_mentioned && !broadcast,
        };
        direct
            || (self.policy.mention_all && broadcast)
            || self.policy.mention_patterns.matches(&msg.text)
    }

    /// Decide what to do with `msg` at `now_ms` (epoch ms; used for pairing
    /// TTLs, while conversation windows use the message's own `ts`).
    pub fn decide(&mut self, msg: &InboundMessage, now_ms: u64) -> Decision {
        if msg.sender.id.trim().is_empty() || msg.room_id.trim().is_empty() {
            return Decision::Drop(DropReason::Malformed);
        }
        if self
            .bot
            .as_ref()
            .is_some_and(|b| !b.user_id.is_empty() && b.user_id == msg.sender.id)
        {
            return Decision::Drop(DropReason::Own);
        }
        if msg.message_type.is_some() {
            return Decision::Drop(DropReason::System);
        }
        if let Some(closed) = self.room_closed(&msg.room_id, msg.room_type) {
            return Decision::Drop(closed.reason);
        }
        let bot_username = self.bot.as_ref().map_or("", |b| b.username.as_str());
        let mentioned = self.was_mentioned(msg);
        let has_media = !msg.attachments.is_empty() || !msg.files.is_empty();

        if msg.room_type.is_direct() {
            let text = strip_bot_mention(&msg.text, bot_username);
            match self.policy.dm_policy {
                DmPolicy::Disabled => return Decision::Drop(DropReason::Policy),
                DmPolicy::Open => {}
                DmPolicy::Allowlist => {
                    if !self.dm_allowed(msg) {
                        return Decision::Drop(DropReason::NotAllowed);
                    }
                }
                DmPolicy::Pairing => {
                    if !self.dm_allowed(msg) {
                        let ttl = self.pairing_ttl_ms;
                        // Kept while the request is pending, the one that raises it too: the
                        // host may already have approved the sender (see MAX_HELD_PER_SENDER,
                        // take_released), or approves them later.
                        self.hold(msg, now_ms);
                        if self.pending.is_pending(&msg.sender.id, now_ms, ttl) {
                            return Decision::Drop(DropReason::NotAllowed);
                        }
                        self.pending
                            .insert(&msg.sender.id, &msg.sender.username, now_ms, ttl);
                        return Decision::Pair {
                            sender_id: msg.sender.id.clone(),
                            sender_username: msg.sender.username.clone(),
                            sender_name: msg.sender.name.clone(),
                            text,
                        };
                    }
                }
            }
            if text.is_empty() && !has_media {
                return Decision::Drop(DropReason::Empty);
            }
            let (text, typed_as) = self.command_form(text);
            return Decision::Deliver {
                control_command: is_control_command(&text),
                command_authorized: self.is_authorized(msg),
                text,
                typed_as,
                was_mentioned: mentioned,
                reason: DeliverReason::Direct,
            };
        }

        match self.policy.group_policy {
            GroupPolicy::Disabled => return Decision::Drop(DropReason::Policy),
            GroupPolicy::Open => {}
            GroupPolicy::Allowlist => {
                if self.group_list_empty() || !self.group_allowed(msg) {
                    return Decision::Drop(DropReason::NotAllowed);
                }
            }
        }

        let room = msg.room_id.as_str();
        let thread = msg.thread_id.as_deref();
        let prefixed = match self.policy.chatmode {
            ChatMode::Onchar => strip_onchar_prefix(&msg.text, &self.policy.onchar_prefixes),
            _ => None,
        };
        let text = strip_bot_mention(prefixed.unwrap_or(&msg.text), bot_username);
        let authorized = self.is_authorized(msg);
        if is_control_command(&text) && !authorized {
            return Decision::Drop(DropReason::NotAllowed);
        }
        // `!reset` is `/reset`, also where `!` is an `onchar` prefix: the host runs it if it
        // knows the command, else reads `typed_as`, the text as it was before this rewrite.
        // Whether the sender may run it is the host's call (it may not be a command at all).
        let (text, typed_as) = match prefixed {
            Some(_) => {
                let typed = strip_bot_mention(&msg.text, bot_username);
                match self.command_form(typed) {
                    (command, Some(_)) => (command, Some(text)),
                    _ => (text, None),
                }
            }
            None => self.command_form(text),
        };
        let control = is_control_command(&text);
        let window_open = self.windows.is_active(room, thread, msg.ts);
        let triggered = prefixed.is_some();
        let reason = match self.policy.chatmode {
            ChatMode::Onmessage if mentioned => DeliverReason::Mention,
            ChatMode::Onmessage => DeliverReason::Onmessage,
            ChatMode::Onchar if triggered => DeliverReason::Onchar,
            _ if mentioned => DeliverReason::Mention,
            ChatMode::Oncall if !self.policy.require_mention_in(room) => {
                DeliverReason::MentionNotRequired
            }
            _ if window_open => DeliverReason::Window,
            _ if control && authorized => DeliverReason::ControlCommand,
            _ => return Decision::Drop(DropReason::NoMention),
        };
        if mentioned || triggered || window_open {
            let minutes = self.policy.window_minutes_in(room);
            self.windows.extend(room, thread, msg.ts, minutes);
        }
        if text.is_empty() && !has_media {
            return Decision::Drop(DropReason::Empty);
        }
        Decision::Deliver {
            text,
            was_mentioned: mentioned || triggered,
            reason,
            control_command: control,
            command_authorized: authorized,
            typed_as,
        }
    }

    /// `text` in the `/` form with the text as typed, when it is a command typed with
    /// `commandPrefix`; else `text` unchanged.
    fn command_form(&self, text: String) -> (String, Option<String>) {
        match prefixed_command(&text, &self.policy.command_prefix) {
            Some(command) => (command, Some(text)),
            None => (text, None),
        }
    }
}
