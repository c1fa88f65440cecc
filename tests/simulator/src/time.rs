//! Dates: one stored instant, two wire forms (EJSON `{"$date": ms}` over DDP, ISO-8601 over REST).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// How dates are written on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateForm {
    /// DDP: `{"$date": <epoch ms>}`.
    Ejson,
    /// REST: `"2025-11-24T10:40:01.000Z"`.
    Iso,
}

/// Render an instant in the given wire form.
pub fn date(ms: i64, form: DateForm) -> Value {
    match form {
        DateForm::Ejson => json!({ "$date": ms }),
        DateForm::Iso => Value::String(iso(ms)),
    }
}

/// ISO-8601 with milliseconds and `Z`, as Rocket.Chat's REST API writes dates.
pub fn iso(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parse an ISO-8601 date (as REST clients send in `updatedSince`, `oldest`, `lastUpdate`).
pub fn parse_iso(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.timestamp_millis())
}

/// Parse an EJSON date `{"$date": ms}` (as DDP clients send to `rooms/get`).
pub fn parse_ejson(v: &Value) -> Option<i64> {
    v.get("$date").and_then(Value::as_i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_of_one_instant() {
        assert_eq!(iso(1763980801000), "2025-11-24T10:40:01.000Z");
        assert_eq!(
            date(1763980801000, DateForm::Ejson),
            json!({"$date": 1763980801000i64})
        );
        assert_eq!(parse_iso("2025-11-24T10:40:01.000Z"), Some(1763980801000));
    }
}
