//! Lenient, all-problems parsing of config layers, and layer merging.
//!
//! Each key is deserialized on its own (as a one-key object into the layer
//! type), so one bad value yields one problem naming its path and the other
//! keys still parse. Known keys come from the layer type's JSON Schema, so the
//! list cannot drift from the serde types. Nested objects (`tls`, `rooms`, …)
//! are parsed the same way, one level down.

use std::collections::{BTreeMap, BTreeSet};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::error::{ConfigProblem, Diagnostics};
use super::model::*;

/// A config layer: a type whose every field is optional and which can be
/// merged with a layer of the same type.
pub(crate) trait Layer: DeserializeOwned + Default + schemars::JsonSchema {
    /// Override `self` with every key set in `over` (deep for nested layers).
    fn merge_from(&mut self, over: Self);

    /// Parse a nested-object key specially. Returns `true` when handled.
    fn parse_nested(
        &mut self,
        _key: &str,
        _value: &Value,
        _path: &str,
        _d: &mut Diagnostics,
    ) -> bool {
        false
    }
}

/// Join a key path: `""` + `baseUrl` = `baseUrl`, `accounts.a` + `x` = `accounts.a.x`.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The JSON type name of a value, for messages.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The property names the schema of `T` declares.
pub(crate) fn known_keys<T: schemars::JsonSchema>() -> BTreeSet<String> {
    let schema = schemars::schema_for!(T);
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// Keys whose values are secrets: their errors never quote the value.
const SECRET_KEYS: [&str; 3] = ["authToken", "password", "totpCode"];

/// serde's names of the number types the layers use, in words.
const TYPE_WORDS: [(&str, &str); 4] = [
    ("i64", "a whole number"),
    ("u64", "a whole number, 0 or more"),
    ("f64", "a number"),
    ("usize", "a whole number, 0 or more"),
];

/// Turn a serde error on a one-key object into a short message.
fn clean_serde_message(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
    if let Some(rest) = msg.strip_prefix("unknown variant ") {
        return format!("unknown value {rest}");
    }
    if msg.contains("untagged enum AllowEntry") {
        return "wrong type: expected an array of strings or numbers".to_owned();
    }
    // unit enums deserialize from "string or map"; users only ever write strings
    let mut msg = msg.replace("expected string or map", "expected a string");
    // serde names Rust types; users write JSON
    for (rust, words) in TYPE_WORDS {
        if let Some(head) = msg.strip_suffix(&format!("expected {rust}")) {
            msg = format!("{head}expected {words}");
        }
    }
    let msg = msg.replace("floating point `", "number `");
    if msg.starts_with("invalid type") || msg.starts_with("invalid value") {
        return format!("wrong type: {msg}");
    }
    msg
}

/// Parse an object into layer `T`, recording problems at `path` and unknown keys as warnings.
pub(crate) fn parse_layer<T: Layer>(value: &Value, path: &str, d: &mut Diagnostics) -> T {
    let mut out = T::default();
    let Some(obj) = value.as_object() else {
        let shown = if path.is_empty() {
            "channels.rocketchat"
        } else {
            path
        };
        d.error(ConfigProblem::new(
            shown,
            format!("wrong type: expected an object, got {}", type_name(value)),
        ));
        return out;
    };
    let known = known_keys::<T>();
    for (key, v) in obj {
        let p = join(path, key);
        if !known.contains(key) {
            d.warning(ConfigProblem::new(p, "unknown key, ignored"));
            continue;
        }
        if v.is_null() {
            continue;
        }
        if out.parse_nested(key, v, &p, d) {
            continue;
        }
        let mut one = Map::new();
        one.insert(key.clone(), v.clone());
        match serde_json::from_value::<T>(Value::Object(one)) {
            Ok(layer) => out.merge_from(layer),
            Err(_) if SECRET_KEYS.contains(&key.as_str()) => d.unreadable(ConfigProblem::new(
                p,
                format!("wrong type: expected a string, got {}", type_name(v)),
            )),
            Err(e) => d.unreadable(ConfigProblem::new(p, clean_serde_message(&e))),
        }
    }
    out
}

/// Parse an optional nested layer; an object is required.
fn nested<T: Layer>(value: &Value, path: &str, d: &mut Diagnostics) -> Option<T> {
    if value.is_object() {
        Some(parse_layer::<T>(value, path, d))
    } else {
        d.error(ConfigProblem::new(
            path,
            format!("wrong type: expected an object, got {}", type_name(value)),
        ));
        None
    }
}

/// Parse a map of nested layers by id (`rooms`, `accounts`).
pub(crate) fn parse_map<T: Layer>(
    value: &Value,
    path: &str,
    d: &mut Diagnostics,
) -> Option<BTreeMap<String, T>> {
    let Some(obj) = value.as_object() else {
        d.error(ConfigProblem::new(
            path,
            format!(
                "wrong type: expected an object keyed by id, got {}",
                type_name(value)
            ),
        ));
        return None;
    };
    let mut out = BTreeMap::new();
    for (id, v) in obj {
        if let Some(layer) = nested::<T>(v, &join(path, id), d) {
            out.insert(id.clone(), layer);
        }
    }
    Some(out)
}

/// `a = b if b is set`.
fn over<T>(a: &mut Option<T>, b: Option<T>) {
    if b.is_some() {
        *a = b;
    }
}

/// Deep merge of an optional nested layer.
fn over_layer<T: Layer>(a: &mut Option<T>, b: Option<T>) {
    match (a.as_mut(), b) {
        (Some(a), Some(b)) => a.merge_from(b),
        (None, Some(b)) => *a = Some(b),
        (_, None) => {}
    }
}

/// Per-id deep merge of maps of layers.
fn over_map<T: Layer>(a: &mut Option<BTreeMap<String, T>>, b: Option<BTreeMap<String, T>>) {
    let Some(b) = b else { return };
    let a = a.get_or_insert_with(BTreeMap::new);
    for (id, layer) in b {
        match a.get_mut(&id) {
            Some(existing) => existing.merge_from(layer),
            None => {
                a.insert(id, layer);
            }
        }
    }
}

impl Layer for AccountSection {
    fn merge_from(&mut self, o: Self) {
        over(&mut self.enabled, o.enabled);
        over(&mut self.name, o.name);
        over(&mut self.base_url, o.base_url);
        over(&mut self.auth_token, o.auth_token);
        over(&mut self.user_id, o.user_id);
        over(&mut self.username, o.username);
        over(&mut self.password, o.password);
        over(&mut self.dm_policy, o.dm_policy);
        over(&mut self.allow_from, o.allow_from);
        over(&mut self.group_policy, o.group_policy);
        over(&mut self.group_allow_from, o.group_allow_from);
        over(&mut self.chatmode, o.chatmode);
        over(&mut self.onchar_prefixes, o.onchar_prefixes);
        over(&mut self.command_prefix, o.command_prefix);
        over(&mut self.encrypted_notice, o.encrypted_notice);
        over(&mut self.mention_patterns, o.mention_patterns);
        over(&mut self.require_mention, o.require_mention);
        over(
            &mut self.conversation_window_minutes,
            o.conversation_window_minutes,
        );
        over(&mut self.media_max_mb, o.media_max_mb);
        over(&mut self.text_chunk_limit, o.text_chunk_limit);
        over(&mut self.chunk_mode, o.chunk_mode);
        over(&mut self.block_streaming, o.block_streaming);
        over_layer(
            &mut self.block_streaming_coalesce,
            o.block_streaming_coalesce,
        );
        over(&mut self.response_prefix, o.response_prefix);
        over_layer(&mut self.markdown, o.markdown);
        over_map(&mut self.rooms, o.rooms);
        over(&mut self.capabilities, o.capabilities);
        over(&mut self.config_writes, o.config_writes);
        over(&mut self.mention_all, o.mention_all);
        over(&mut self.reply_to_mode, o.reply_to_mode);
        over_layer(
            &mut self.reply_to_mode_by_chat_type,
            o.reply_to_mode_by_chat_type,
        );
        over(&mut self.ack_reaction, o.ack_reaction);
        over(&mut self.send_read_receipts, o.send_read_receipts);
        over_layer(&mut self.streaming, o.streaming);
        over_layer(&mut self.tls, o.tls);
        over_layer(&mut self.two_factor, o.two_factor);
    }

    fn parse_nested(&mut self, key: &str, value: &Value, path: &str, d: &mut Diagnostics) -> bool {
        match key {
            "blockStreamingCoalesce" => self.block_streaming_coalesce = nested(value, path, d),
            "markdown" => self.markdown = nested(value, path, d),
            "tls" => self.tls = nested(value, path, d),
            "twoFactor" => self.two_factor = nested(value, path, d),
            "replyToModeByChatType" => self.reply_to_mode_by_chat_type = nested(value, path, d),
            "streaming" => self.streaming = nested(value, path, d),
            "rooms" => self.rooms = parse_map(value, path, d),
            _ => return false,
        }
        true
    }
}

impl Layer for StreamingSection {
    fn merge_from(&mut self, o: Self) {
        over(&mut self.mode, o.mode);
        over(&mut self.placeholder, o.placeholder);
        over(&mut self.stall_ms, o.stall_ms);
    }
}

impl Layer for ReplyToModeByChatTypeSection {
    fn merge_from(&mut self, o: Self) {
        over(&mut self.direct, o.direct);
        over(&mut self.group, o.group);
        over(&mut self.channel, o.channel);
    }
}

impl Layer for CoalesceSection {
    fn merge_from(&mut self, o: Self) {
        over(&mut self.min_chars, o.min_chars);
        over(&mut self.idle_ms, o.idle_ms);
    }
}

impl Layer for MarkdownSection {
    fn merge_from(&mut self, o: Self) {
        over(&mut self.tables, o.tables);
    }
}

impl Layer for RoomSection {
    fn merge_from(&mut self, o: Self) {
        over(
            &mut self.conversation_window_minutes,
            o.conversation_window_minutes,
        );
        over(&mut self.media_max_mb, o.media_max_mb);
        over(&mut self.require_mention, o.require_mention);
        over(&mut self.enabled, o.enabled);
    }
}

impl Layer for TlsSection {
    fn merge_from(&mut self, o: Self) {
        over(&mut self.ca_file, o.ca_file);
        over(&mut self.ca_pem, o.ca_pem);
        over(&mut self.insecure_skip_verify, o.insecure_skip_verify);
    }
}

impl Layer for TwoFactorSection {
    fn merge_from(&mut self, o: Self) {
        over(&mut self.totp_code, o.totp_code);
    }
}

/// Parse the whole `channels.rocketchat` object.
pub(crate) fn parse_root(value: &Value, d: &mut Diagnostics) -> RocketChatConfig {
    let mut base_value = value.clone();
    let accounts_value = base_value
        .as_object_mut()
        .and_then(|o| o.remove("accounts"));
    let base = parse_layer::<AccountSection>(&base_value, "", d);
    let accounts = match accounts_value {
        None | Some(Value::Null) => None,
        Some(v) => parse_map::<AccountSection>(&v, "accounts", d),
    };
    RocketChatConfig { base, accounts }
}
