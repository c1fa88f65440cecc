//! The host options (`new RocketChatCore(options)`, `rcc_core_new(options_json)`): parsed and
//! checked here once, so every binding accepts and refuses exactly the same.

use serde::Deserialize;
use serde_json::Value;

use super::error::{ErrorCode, HostError};
use crate::event::{DroppedEvents, LogLevel};
use crate::CoreOptions;

/// Most runtime worker threads (the work is I/O; more only costs memory).
pub const MAX_WORKER_THREADS: u64 = 64;
/// Most events held for the host; beyond this a slow host would only hide in memory.
pub const MAX_EVENT_CAPACITY: u64 = 1_000_000;

/// What a host may set, camelCase JSON; every key optional.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HostOptionsJson {
    /// Runtime worker threads, 1 to 64 (default 2).
    pub worker_threads: Option<Value>,
    /// Events held for the host before message producers wait and other events are dropped
    /// and reported by an `overflow` event, 1 to 1 000 000 (default 10 000).
    pub event_capacity: Option<Value>,
    /// The lowest level of the core's own log lines delivered as `log` events:
    /// `error`, `warn` (default), `info`, `debug`, or `off`.
    pub log_level: Option<Value>,
    /// A folder where each account keeps what it has seen (per-room watermarks, recent
    /// ids), so a restart delivers what was posted meanwhile and nothing twice. Created
    /// when missing. Default: none (memory only).
    pub state_dir: Option<Value>,
    /// Which messages the access rules (or the core) turned away become `dropped` events:
    /// `all` (default), `direct` (only direct messages: a person who wrote to the bot; a busy
    /// room's chatter stays in the core), or `none`. Every drop is counted in `status` anyway.
    pub dropped_events: Option<Value>,
}

/// Checked host options.
#[derive(Clone, Debug)]
pub struct HostOptions {
    /// What the core is built with.
    pub core: CoreOptions,
    /// `log` events at this level and above; `None`: no log events.
    pub log_level: Option<LogLevel>,
}

impl Default for HostOptions {
    fn default() -> Self {
        HostOptions {
            core: CoreOptions::default(),
            log_level: Some(LogLevel::Warn),
        }
    }
}

impl HostOptions {
    /// Parse `null` (defaults) or an options object; every problem in one CONFIG error.
    pub fn parse(value: &Value) -> Result<HostOptions, HostError> {
        let mut out = HostOptions::default();
        if value.is_null() {
            return Ok(out);
        }
        let json: HostOptionsJson = serde_json::from_value(value.clone()).map_err(|e| {
            let text = e.to_string();
            let message = if value.is_object() {
                // serde names the unknown field and lists the known ones.
                format!("options: {text}")
            } else {
                "options: must be a JSON object such as {\"workerThreads\": 2}".to_owned()
            };
            HostError::new(ErrorCode::Config, message)
        })?;
        let mut problems = Vec::new();
        if let Some(v) = &json.worker_threads {
            match whole(v, 1, MAX_WORKER_THREADS) {
                Ok(n) => out.core.worker_threads = n as usize,
                Err(why) => problems.push(format!("workerThreads: {why}")),
            }
        }
        if let Some(v) = &json.event_capacity {
            match whole(v, 1, MAX_EVENT_CAPACITY) {
                Ok(n) => out.core.event_capacity = n as usize,
                Err(why) => problems.push(format!("eventCapacity: {why}")),
            }
        }
        if let Some(v) = &json.log_level {
            match v.as_str().map(str::to_ascii_lowercase).as_deref() {
                Some("off") => out.log_level = None,
                Some("error") => out.log_level = Some(LogLevel::Error),
                Some("warn") => out.log_level = Some(LogLevel::Warn),
                Some("info") => out.log_level = Some(LogLevel::Info),
                Some("debug") => out.log_level = Some(LogLevel::Debug),
                _ => problems.push(format!(
                    "logLevel: must be one of \"error\", \"warn\", \"info\", \"debug\", \"off\", got {v}"
                )),
            }
        }
        if let Some(v) = &json.state_dir {
            match v.as_str().map(str::trim) {
                Some(dir) if !dir.is_empty() && !dir.chars().any(char::is_control) => {
                    out.core.account.state_dir = Some(dir.into());
                }
                _ => problems.push(format!(
                    "stateDir: must be the path of a folder the process may write, got {v}"
                )),
            }
        }
        if let Some(v) = &json.dropped_events {
            match v.as_str().map(str::to_ascii_lowercase).as_deref() {
                Some("all") => out.core.account.dropped_events = DroppedEvents::All,
                Some("direct") => out.core.account.dropped_events = DroppedEvents::Direct,
                Some("none") => out.core.account.dropped_events = DroppedEvents::None,
                _ => problems.push(format!(
                    "droppedEvents: must be one of \"all\", \"direct\", \"none\", got {v}"
                )),
            }
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(HostError::new(ErrorCode::Config, problems.join("\n")))
        }
    }
}

/// A whole number in `min..=max`, or why not, in words.
fn whole(v: &Value, min: u64, max: u64) -> Result<u64, String> {
    match v.as_u64() {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be a whole number between {min} and {max}, got {v}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn defaults_and_bounds() {
        let o = HostOptions::parse(&Value::Null).unwrap();
        assert_eq!(o.core.worker_threads, 2);
        assert_eq!(o.log_level, Some(LogLevel::Warn));
        let o = HostOptions::parse(
            &json!({"workerThreads": 4, "eventCapacity": 16, "logLevel": "off"}),
        )
        .unwrap();
        assert_eq!((o.core.worker_threads, o.core.event_capacity), (4, 16));
        assert_eq!(o.log_level, None);
    }

    #[test]
    fn dropped_events_all_by_default_or_as_named() {
        let o = HostOptions::parse(&Value::Null).unwrap();
        assert_eq!(o.core.account.dropped_events, DroppedEvents::All);
        for (given, want) in [
            ("all", DroppedEvents::All),
            ("Direct", DroppedEvents::Direct),
            ("none", DroppedEvents::None),
        ] {
            let o = HostOptions::parse(&json!({ "droppedEvents": given })).unwrap();
            assert_eq!(o.core.account.dropped_events, want);
        }
        let err = HostOptions::parse(&json!({"droppedEvents": "dm"})).unwrap_err();
        assert!(
            err.message
                .contains("droppedEvents: must be one of \"all\", \"direct\", \"none\""),
            "{}",
            err.message
        );
    }

    #[test]
    fn every_problem_is_named_by_its_key_in_words() {
        let e = HostOptions::parse(&json!({
            "workerThreads": 0,
            "eventCapacity": 18446744073709551615u64,
            "logLevel": "loud"
        }))
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::Config);
        assert!(
            e.message
                .contains("workerThreads: must be a whole number between 1 and 64, got 0"),
            "{}",
            e.message
        );
        assert!(
            e.message
                .contains("eventCapacity: must be a whole number between 1 and 1000000"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("logLevel: must be one of"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("usize") && !e.message.contains("u64"));
        let e = HostOptions::parse(&json!({"stateDir": ""})).unwrap_err();
        assert!(
            e.message.contains("stateDir: must be the path of a folder"),
            "{}",
            e.message
        );
        let o = HostOptions::parse(&json!({"stateDir": "/var/lib/bot"})).unwrap();
        assert_eq!(
            o.core.account.state_dir.as_deref(),
            Some(std::path::Path::new("/var/lib/bot"))
        );
        let e = HostOptions::parse(&json!({"workerThread": 2})).unwrap_err();
        assert!(e.message.contains("workerThread"), "{}", e.message);
        let e = HostOptions::parse(&json!({"workerThreads": "2"})).unwrap_err();
        assert!(
            e.message.contains("workerThreads: must be a whole number"),
            "{}",
            e.message
        );
    }
}
