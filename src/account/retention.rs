//! The server's retention policy (Rocket.Chat's "Retention Policy" settings, and a room's own
//! `retention` override): messages older than a room's maximum age are pruned. After an
//! outage longer than that, the oldest part of what was posted meanwhile may be gone before
//! the catch-up can read it: that span is reported as a gap, never passed over in silence.

use serde_json::Value;

use reqwest::Method;

use crate::rest::{RestClient, RestError, Retry};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The public settings read (`GET /api/v1/settings.public?_id=…`).
const SETTINGS: [&str; 8] = [
    "RetentionPolicy_Enabled",
    "RetentionPolicy_FilesOnly",
    "RetentionPolicy_AppliesToChannels",
    "RetentionPolicy_AppliesToGroups",
    "RetentionPolicy_AppliesToDMs",
    "RetentionPolicy_MaxAge_Channels",
    "RetentionPolicy_MaxAge_Groups",
    "RetentionPolicy_MaxAge_DMs",
];

/// An outage shorter than this is never checked against the policy: no server prunes that
/// young, and the settings call is saved.
pub const CHECK_AFTER_MS: i64 = 60 * 60 * 1000;

/// The workspace-wide policy: the maximum age per room type, `None` where nothing is pruned.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Retention {
    channels: Option<i64>,
    groups: Option<i64>,
    dms: Option<i64>,
}

impl Retention {
    /// Read the policy from the server. A server that does not say (an old version, a
    /// restricted route) prunes nothing as far as the catch-up can tell.
    pub async fn fetch(rest: &RestClient) -> Result<Retention, RestError> {
        let body = rest
            .call_json(
                Method::GET,
                "settings.public",
                &["settings.public"],
                vec![("_id".into(), SETTINGS.join(","))],
                None,
                Retry::Idempotent,
            )
            .await?;
        Ok(Retention::from_settings(
            body.get("settings")
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice),
        ))
    }

    /// The policy from `settings.public`'s `settings` list.
    pub fn from_settings(settings: &[Value]) -> Retention {
        let get = |id: &str| {
            settings
                .iter()
                .find(|s| s.get("_id").and_then(Value::as_str) == Some(id))
                .and_then(|s| s.get("value"))
        };
        let on = |id: &str| get(id).and_then(Value::as_bool).unwrap_or(false);
        // "Files only" prunes attachments, never the messages themselves.
        if !on("RetentionPolicy_Enabled") || on("RetentionPolicy_FilesOnly") {
            return Retention::default();
        }
        let age = |applies: &str, max_age: &str| {
            on(applies)
                .then(|| get(max_age).and_then(setting_max_age_ms))
                .flatten()
        };
        Retention {
            channels: age(
                "RetentionPolicy_AppliesToChannels",
                "RetentionPolicy_MaxAge_Channels",
            ),
            groups: age(
                "RetentionPolicy_AppliesToGroups",
                "RetentionPolicy_MaxAge_Groups",
            ),
            dms: age("RetentionPolicy_AppliesToDMs", "RetentionPolicy_MaxAge_DMs"),
        }
    }

    /// How old a message of `room` (a `rooms.get` document) may get before it is pruned,
    /// in ms; `None` when it is kept. The room's own policy wins when it overrides.
    pub fn max_age_ms(&self, room: &Value) -> Option<i64> {
        if let Some(own) = room
            .get("retention")
            .filter(|r| r.get("overrideGlobal").and_then(Value::as_bool) == Some(true))
        {
            let enabled = own.get("enabled").and_then(Value::as_bool) == Some(true);
            let files_only = own.get("filesOnly").and_then(Value::as_bool) == Some(true);
            // A room's own maximum age is in days on every version.
            return (enabled && !files_only)
                .then(|| own.get("maxAge").and_then(Value::as_f64))
                .flatten()
                .filter(|d| *d > 0.0)
                .map(|d| (d * DAY_MS as f64) as i64);
        }
        match room.get("t").and_then(Value::as_str) {
            Some("c") => self.channels,
            Some("p") => self.groups,
            Some("d") => self.dms,
            _ => None,
        }
    }
}

/// A workspace maximum age: days before Rocket.Chat 7.0 (30 by default), milliseconds since
/// (2 592 000 000 by default). No sane value is ambiguous: 100 000 ms is under two minutes,
/// 100 000 days is centuries.
fn setting_max_age_ms(v: &Value) -> Option<i64> {
    let n = v.as_f64().or_else(|| v.as_str()?.trim().parse().ok())?;
    if !(n > 0.0) {
        return None;
    }
    Some(if n < 100_000.0 {
        (n * DAY_MS as f64) as i64
    } else {
        n as i64
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(pairs: &[(&str, Value)]) -> Vec<Value> {
        pairs
            .iter()
            .map(|(id, v)| json!({"_id": id, "value": v}))
            .collect()
    }

    #[test]
    fn days_and_milliseconds_are_both_read_and_only_where_the_policy_applies() {
        let r = Retention::from_settings(&settings(&[
            ("RetentionPolicy_Enabled", json!(true)),
            ("RetentionPolicy_AppliesToChannels", json!(true)),
            ("RetentionPolicy_AppliesToGroups", json!(true)),
            ("RetentionPolicy_AppliesToDMs", json!(false)),
            ("RetentionPolicy_MaxAge_Channels", json!(30)),
            ("RetentionPolicy_MaxAge_Groups", json!(2_592_000_000i64)),
            ("RetentionPolicy_MaxAge_DMs", json!(30)),
        ]));
        assert_eq!(r.max_age_ms(&json!({"t": "c"})), Some(30 * DAY_MS));
        assert_eq!(r.max_age_ms(&json!({"t": "p"})), Some(30 * DAY_MS));
        assert_eq!(r.max_age_ms(&json!({"t": "d"})), None);
        // A room's own policy wins, in days.
        let own =
            json!({"t": "d", "retention": {"enabled": true, "overrideGlobal": true, "maxAge": 2}});
        assert_eq!(r.max_age_ms(&own), Some(2 * DAY_MS));
        let off =
            json!({"t": "c", "retention": {"enabled": false, "overrideGlobal": true, "maxAge": 2}});
        assert_eq!(r.max_age_ms(&off), None);
    }

    #[test]
    fn a_disabled_or_files_only_policy_or_a_silent_server_prunes_nothing() {
        let base = [
            ("RetentionPolicy_AppliesToChannels", json!(true)),
            ("RetentionPolicy_MaxAge_Channels", json!(30)),
        ];
        let off = Retention::from_settings(&settings(&base));
        assert_eq!(off.max_age_ms(&json!({"t": "c"})), None);
        let mut files = base.to_vec();
        files.push(("RetentionPolicy_Enabled", json!(true)));
        files.push(("RetentionPolicy_FilesOnly", json!(true)));
        assert_eq!(
            Retention::from_settings(&settings(&files)).max_age_ms(&json!({"t": "c"})),
            None
        );
        assert_eq!(Retention::from_settings(&[]), Retention::default());
    }
}
