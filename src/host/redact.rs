//! Defence in depth for everything a host is handed: the core's errors are written not to
//! carry secrets, and on top of that every message passes through a [`Redactor`] that knows
//! the secret values the host gave (`authToken`, `password`, `totpCode`, the `ROCKETCHAT_*`
//! secrets) and replaces them by `***`.

use serde_json::Value;

use crate::config::{EnvSource, ENV_VARS};

/// Keys whose string values are secrets, at any depth of a `channels.rocketchat` object.
const SECRET_KEYS: [&str; 3] = ["authToken", "password", "totpCode"];

/// Replaces known secret values by `***`.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// The secrets of a config section and, when it is used, of the environment.
    pub fn for_config(section: &Value, env: Option<&dyn EnvSource>) -> Self {
        let mut secrets: Vec<String> = match env {
            Some(env) => ENV_VARS
                .iter()
                .filter(|v| v.contains("TOKEN") || v.contains("PASSWORD"))
                .filter_map(|v| env.var(v))
                .collect(),
            None => Vec::new(),
        };
        collect_secrets(section, &mut secrets);
        // Very short values would redact ordinary words; the core rejects them anyway.
        secrets.retain(|s| s.trim().chars().count() >= 4);
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Redactor { secrets }
    }

    /// Know `other`'s secrets too.
    pub fn absorb(&mut self, other: Redactor) {
        self.secrets.extend(other.secrets);
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        self.secrets.dedup();
    }

    /// `text` with every known secret replaced.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "***");
            }
        }
        out
    }

    /// The same inside a JSON value.
    pub fn redact_value(&self, value: &mut Value) {
        match value {
            Value::String(s) => *s = self.redact(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_value(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.redact_value(v)),
            _ => {}
        }
    }
}

fn collect_secrets(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s) if SECRET_KEYS.contains(&k.as_str()) => out.push(s.clone()),
                    _ => collect_secrets(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_secrets(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_of_every_account_are_replaced() {
        let section = serde_json::json!({
            "authToken": "top-level-token",
            "accounts": { "b": { "password": "hunter2-pass" } }
        });
        let r = Redactor::for_config(&section, None);
        assert_eq!(
            r.redact("login with hunter2-pass failed; token top-level-token"),
            "login with *** failed; token ***"
        );
    }
}
