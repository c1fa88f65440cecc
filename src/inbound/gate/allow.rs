//! Allowlist entries (`allowFrom`, `groupAllowFrom`, pairing approvals) and matching.
//!
//! Accepted spellings, all compared case-insensitively after trimming:
//!
//! | entry                               | matches                         |
//! |-------------------------------------|---------------------------------|
//! | `*`                                 | every sender                    |
//! | `k9ZfTqW2mHs8PxLcE`, `alice`        | the sender's id **or** username |
//! | `@alice`                            | the sender's username only      |
//! | `user:ID`, `rocketchat:ID`          | the sender's id only            |
//! | `user:@alice`, `rocketchat:@alice`  | the sender's username only      |
//!
//! Blank entries (and prefixes with nothing after them) are ignored. The
//! prefixed forms are stricter than the bare form on purpose: Rocket.Chat lets
//! users pick their username, so a bare id could otherwise be claimed as a
//! username by someone else; `user:ID` cannot.

use crate::event::Sender;

/// One parsed allowlist entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowRule {
    /// `*`: everyone.
    Any,
    /// `user:ID` / `rocketchat:ID`: this user id (lowercased).
    Id(String),
    /// `@name`: this username (lowercased).
    Username(String),
    /// A bare entry: this user id or username (lowercased).
    IdOrUsername(String),
}

impl AllowRule {
    /// Parse one entry; `None` for blank entries.
    pub fn parse(raw: &str) -> Option<AllowRule> {
        let s = raw.trim();
        if s.is_empty() {
            return None;
        }
        if s == "*" {
            return Some(AllowRule::Any);
        }
        let lower = s.to_lowercase();
        for prefix in ["rocketchat:", "user:"] {
            if let Some(rest) = lower.strip_prefix(prefix) {
                let rest = rest.trim();
                return match rest.strip_prefix('@') {
                    Some(name) => non_empty(name.trim()).map(AllowRule::Username),
                    None => non_empty(rest).map(AllowRule::Id),
                };
            }
        }
        match lower.strip_prefix('@') {
            Some(name) => non_empty(name.trim()).map(AllowRule::Username),
            None => Some(AllowRule::IdOrUsername(lower)),
        }
    }

    /// Whether this entry admits `sender`.
    pub fn matches(&self, sender: &Sender) -> bool {
        let id = || sender.id.trim().to_lowercase();
        let name = || sender.username.trim().to_lowercase();
        match self {
            AllowRule::Any => true,
            AllowRule::Id(v) => *v == id(),
            AllowRule::Username(v) => *v == name(),
            AllowRule::IdOrUsername(v) => *v == id() || *v == name(),
        }
    }

    /// The compared value (`*` for [`AllowRule::Any`]), used to revoke an entry
    /// whatever spelling it was added with.
    pub fn value(&self) -> &str {
        match self {
            AllowRule::Any => "*",
            AllowRule::Id(v) | AllowRule::Username(v) | AllowRule::IdOrUsername(v) => v,
        }
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// A parsed allowlist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    rules: Vec<AllowRule>,
}

impl AllowList {
    /// Parse a list of entries, skipping blank ones.
    pub fn new<S: AsRef<str>>(entries: &[S]) -> AllowList {
        AllowList {
            rules: entries
                .iter()
                .filter_map(|e| AllowRule::parse(e.as_ref()))
                .collect(),
        }
    }

    /// Whether no (non-blank) entry is present.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether some entry admits `sender`.
    pub fn matches(&self, sender: &Sender) -> bool {
        self.rules.iter().any(|r| r.matches(sender))
    }

    /// The parsed entries.
    pub fn rules(&self) -> &[AllowRule] {
        &self.rules
    }

    /// Add one entry; `false` when it is blank or already present.
    pub fn add(&mut self, entry: &str) -> bool {
        match AllowRule::parse(entry) {
            Some(rule) if !self.rules.contains(&rule) => {
                self.rules.push(rule);
                true
            }
            _ => false,
        }
    }

    /// Remove every entry with the same value as `entry` (`alice`, `@alice`
    /// and `user:alice` all remove each other); `false` when none was present.
    pub fn remove(&mut self, entry: &str) -> bool {
        let Some(target) = AllowRule::parse(entry) else {
            return false;
        };
        let before = self.rules.len();
        self.rules.retain(|r| r.value() != target.value());
        self.rules.len() != before
    }
}
