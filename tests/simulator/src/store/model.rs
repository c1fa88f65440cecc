//! The stored documents: users, rooms, subscriptions. Messages are stored as JSON
//! documents with EJSON dates (as Mongo holds them) and rendered per transport by
//! [`render`]: EJSON for DDP, ISO strings for REST.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use crate::time::{date, DateForm};

/// Whether a login token is a session token (expires) or a personal access token (never).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// Created by a login; valid for `Accounts_LoginExpiration` days from `when`.
    Login,
    /// A personal access token: no `when`, never expires.
    PersonalAccess,
}

/// One entry of `services.resume.loginTokens`.
#[derive(Clone, Debug)]
pub struct LoginToken {
    /// The plain token (the real server keeps only a hash; nothing observable depends on it).
    pub token: String,
    /// Session or personal access token.
    pub kind: TokenKind,
    /// Creation time, epoch ms.
    pub when: i64,
    /// Set by the `expireToken` fault: the token is still stored but resume reports it expired.
    pub expired: bool,
}

/// A user account.
#[derive(Clone, Debug)]
pub struct User {
    /// `_id`.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Display name.
    pub name: String,
    /// Plain password.
    pub password: String,
    /// Roles (`bot` and `admin` bypass REST rate limits; `bot` may send many messages).
    pub roles: Vec<String>,
    /// Login tokens and personal access tokens.
    pub tokens: Vec<LoginToken>,
    /// 2FA: when set, password logins need this code.
    pub totp_code: Option<String>,
    /// Deactivated users cannot log in.
    pub active: bool,
}

impl User {
    /// `{_id, username, name}` as messages carry it in `u`.
    pub fn brief(&self) -> Value {
        json!({ "_id": self.id, "username": self.username, "name": self.name })
    }

    /// Whether the user has a role.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// Permission `api-bypass-rate-limit` (roles admin, bot, app).
    pub fn bypasses_rate_limit(&self) -> bool {
        self.has_role("admin") || self.has_role("bot") || self.has_role("app")
    }

    /// The `/me` and `users.info` document, in the given date form.
    pub fn document(&self, form: DateForm, full: bool) -> Value {
        let mut doc = json!({
            "_id": self.id,
            "username": self.username,
            "name": self.name,
            "type": if self.has_role("bot") { "bot" } else { "user" },
            "status": "online",
            "active": self.active,
            "utcOffset": 0,
            "roles": self.roles,
        });
        if full {
            let email = format!("{}@example.com", self.username);
            let extra = json!({
                "statusConnection": "online",
                "emails": [{ "address": email, "verified": true }],
                "email": email,
                "settings": { "preferences": {} },
                "services": { "password": { "exists": true } },
                "_updatedAt": date(0, form),
            });
            merge(&mut doc, extra);
        }
        doc
    }
}

/// A room: channel `c`, private group `p`, direct message `d`, livechat `l`.
#[derive(Clone, Debug)]
pub struct Room {
    /// `_id`.
    pub id: String,
    /// Type.
    pub t: String,
    /// Name (none for DMs).
    pub name: Option<String>,
    /// Member user ids.
    pub members: BTreeSet<String>,
    /// Read-only.
    pub read_only: bool,
    /// Topic.
    pub topic: Option<String>,
    /// Creation time, epoch ms.
    pub ts: i64,
    /// Last change, epoch ms.
    pub updated_at: i64,
    /// Last message time, epoch ms.
    pub lm: Option<i64>,
    /// Number of messages.
    pub msgs: u64,
}

impl Room {
    /// The room document (`rooms.info`, `rooms/get`, `rooms-changed`), given the member usernames.
    pub fn document(&self, usernames: &[String], form: DateForm) -> Value {
        let mut doc = json!({
            "_id": self.id,
            "t": self.t,
            "usersCount": self.members.len(),
            "msgs": self.msgs,
            "ts": date(self.ts, form),
            "_updatedAt": date(self.updated_at, form),
            "ro": self.read_only,
            "sysMes": true,
        });
        let obj = doc.as_object_mut().expect("object");
        if let Some(name) = &self.name {
            obj.insert("name".into(), json!(name));
            obj.insert("fname".into(), json!(name));
        }
        if self.t == "d" {
            obj.insert("usernames".into(), json!(usernames));
            obj.insert(
                "uids".into(),
                json!(self.members.iter().collect::<Vec<_>>()),
            );
        }
        if let Some(topic) = &self.topic {
            obj.insert("topic".into(), json!(topic));
        }
        if let Some(lm) = self.lm {
            obj.insert("lm".into(), date(lm, form));
        }
        if self.id == "GENERAL" {
            obj.insert("default".into(), json!(true));
        }
        doc
    }
}

/// A user's subscription to a room (membership, unread counters, display name).
#[derive(Clone, Debug)]
pub struct Subscription {
    /// `_id`.
    pub id: String,
    /// Room id.
    pub rid: String,
    /// Room type.
    pub t: String,
    /// Subscribed user id.
    pub uid: String,
    /// Room name, or for DMs the other user's username.
    pub name: String,
    /// Room display name, or for DMs the other user's display name.
    pub fname: String,
    /// Creation time.
    pub ts: i64,
    /// Last seen.
    pub ls: i64,
    /// Unread count.
    pub unread: u64,
    /// Unread mentions of this user.
    pub user_mentions: u64,
    /// Last change.
    pub updated_at: i64,
}

impl Subscription {
    /// The subscription document, given the subscriber's brief `u`.
    pub fn document(&self, user: &Value, form: DateForm) -> Value {
        json!({
            "_id": self.id,
            "rid": self.rid,
            "t": self.t,
            "name": self.name,
            "fname": self.fname,
            "u": user,
            "ts": date(self.ts, form),
            "ls": date(self.ls, form),
            "open": true,
            "alert": self.unread > 0,
            "unread": self.unread,
            "userMentions": self.user_mentions,
            "groupMentions": 0,
            "_updatedAt": date(self.updated_at, form),
        })
    }
}

/// Render a stored document (EJSON dates) for a transport: DDP keeps `{"$date": ms}`,
/// REST turns every such object into an ISO string.
pub fn render(doc: &Value, form: DateForm) -> Value {
    match form {
        DateForm::Ejson => doc.clone(),
        DateForm::Iso => to_iso(doc),
    }
}

fn to_iso(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            if map.len() == 1 {
                if let Some(ms) = map.get("$date").and_then(Value::as_i64) {
                    return date(ms, DateForm::Iso);
                }
            }
            Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), to_iso(v)))
                    .collect::<Map<_, _>>(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(to_iso).collect()),
        other => other.clone(),
    }
}

/// Shallow-merge the keys of `extra` into `doc`.
pub fn merge(doc: &mut Value, extra: Value) {
    if let (Some(doc), Value::Object(extra)) = (doc.as_object_mut(), extra) {
        doc.extend(extra);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_form_turns_every_date_into_iso() {
        let doc = json!({"ts": {"$date": 1763980807000i64}, "attachments": [{"ts": {"$date": 1763980807000i64}}], "n": 1});
        let rest = render(&doc, DateForm::Iso);
        assert_eq!(rest["ts"], "2025-11-24T10:40:07.000Z");
        assert_eq!(rest["attachments"][0]["ts"], "2025-11-24T10:40:07.000Z");
        assert_eq!(rest["n"], 1);
    }
}
