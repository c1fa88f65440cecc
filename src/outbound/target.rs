//! Send targets as users and OpenClaw write them: `channel:ROOM_ID`, `room:ROOM_ID`, `#name`,
//! `@username`, `user:USER_ID`, OpenClaw's `rocketchat:…` addresses, or a bare room id.

use std::fmt;

use serde_json::Value;

use crate::rest::{RestClient, RestError};

/// A parsed send target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A room by id.
    Room(String),
    /// A channel or group by name (`#name`).
    RoomName(String),
    /// A DM with a user by username (`@username`).
    Username(String),
    /// A DM with a user by id (`user:ID`): resolved to the username first, since `im.create`
    /// takes usernames (the original plugin passed ids and failed).
    UserId(String),
}

/// A target that cannot be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot resolve Rocket.Chat target {0:?}: use channel:ROOM_ID, room:ROOM_ID, #name, @username or user:USER_ID")]
pub struct TargetError(pub String);

impl Target {
    /// Parse a target string.
    pub fn parse(input: &str) -> Result<Target, TargetError> {
        let s = input.trim();
        let s = s.strip_prefix("rocketchat:").unwrap_or(s);
        let bad = || TargetError(input.to_owned());
        let non_empty = |v: &str| {
            let v = v.trim();
            (!v.is_empty()).then(|| v.to_owned()).ok_or_else(bad)
        };
        if let Some(rest) = s.strip_prefix('#') {
            return non_empty(rest).map(Target::RoomName);
        }
        if let Some(rest) = s.strip_prefix('@') {
            return non_empty(rest).map(Target::Username);
        }
        match s.split_once(':') {
            Some(("channel" | "room" | "group", id)) => non_empty(id).map(Target::Room),
            Some(("user", id)) => non_empty(id).map(Target::UserId),
            Some((_, _)) => Err(bad()),
            None => non_empty(s).map(Target::Room),
        }
    }

    /// The room id to send to, opening a DM when needed.
    pub async fn resolve(&self, rest: &RestClient) -> Result<String, RestError> {
        match self {
            Target::Room(id) => Ok(id.clone()),
            Target::RoomName(name) => room_id(&rest.rooms_info_by_name(name).await?),
            Target::Username(name) => room_id(&rest.im_create(name).await?),
            Target::UserId(id) => {
                let user = rest.users_info_by_id(id).await?;
                let username = user
                    .get("username")
                    .and_then(Value::as_str)
                    .ok_or_else(|| RestError::Invalid(format!("user {id} has no username")))?;
                room_id(&rest.im_create(username).await?)
            }
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Room(id) => write!(f, "channel:{id}"),
            Target::RoomName(name) => write!(f, "#{name}"),
            Target::Username(name) => write!(f, "@{name}"),
            Target::UserId(id) => write!(f, "user:{id}"),
        }
    }
}

fn room_id(room: &Value) -> Result<String, RestError> {
    room.get("_id")
        .or_else(|| room.get("rid"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| RestError::Invalid("room without an id".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_documented_form() {
        let cases = [
            ("channel:GENERAL", Target::Room("GENERAL".into())),
            ("room:abc", Target::Room("abc".into())),
            ("#general", Target::RoomName("general".into())),
            ("@alice", Target::Username("alice".into())),
            ("user:k9Zf", Target::UserId("k9Zf".into())),
            ("rocketchat:user:k9Zf", Target::UserId("k9Zf".into())),
            ("rocketchat:channel:R1", Target::Room("R1".into())),
            ("  GENERAL ", Target::Room("GENERAL".into())),
        ];
        for (input, want) in cases {
            assert_eq!(Target::parse(input).unwrap(), want, "{input}");
        }
        for bad in ["", "@", "user:", "mailto:x", "#"] {
            let err = Target::parse(bad).unwrap_err();
            assert!(err.to_string().contains("channel:ROOM_ID"), "{bad}: {err}");
        }
    }
}
