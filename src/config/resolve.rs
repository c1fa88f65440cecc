//! Inheritance, env vars, defaults and validation: layers in, accounts out.

use serde_json::Value;

use super::account::*;
use super::base_url::{quoted, BaseUrl};
use super::check::{check_values, PEM_CERT};
use super::env::{self, EnvSource};
use super::error::{ConfigErrors, ConfigProblem, Diagnostics};
use super::layer::{join, parse_root, Layer};
use super::model::*;
use crate::secret::Secret;

/// Resolve a `channels.rocketchat` object into accounts.
///
/// The top-level keys form the `default` account, which exists when the top
/// level (or the environment, or `accounts.default`) provides a `baseUrl` or
/// credentials. Each `accounts.<id>` inherits every top-level key it does not
/// override (nested objects merge key by key, `rooms` merge per room id).
/// `ROCKETCHAT_*` variables from `env` fill the default account only, and
/// config values win over them. Every problem is collected: the error lists
/// all of them, each naming its key path.
pub fn resolve(
    value: &Value,
    env: &(impl EnvSource + ?Sized),
) -> Result<ResolvedConfig, ConfigErrors> {
    let mut d = Diagnostics::default();
    let root = parse_root(value, &mut d);
    let top = root.base;
    let mut accounts = root.accounts.unwrap_or_default();

    check_values(&top, "", &mut d);
    for (id, acc) in &accounts {
        check_values(acc, &join("accounts", id), &mut d);
    }

    let env_layer = env_layer(env);
    let explicit_default = accounts.remove(DEFAULT_ACCOUNT_ID);
    let has_default =
        has_connection_keys(&top) || has_connection_keys(&env_layer) || explicit_default.is_some();

    let mut out = Vec::new();
    if has_default {
        let mut layer = env_layer.clone();
        layer.merge_from(top.clone());
        let prefix = if explicit_default.is_some() {
            "accounts.default"
        } else {
            ""
        };
        if let Some(acc) = explicit_default {
            layer.merge_from(acc);
        }
        let from_env = EnvOrigin {
            base_url: layer.base_url.is_some()
                && layer.base_url == env_layer.base_url
                && top.base_url.is_none(),
            allowed: true,
        };
        if let Some(a) = finalize(DEFAULT_ACCOUNT_ID, prefix, layer, from_env, &mut d) {
            out.push(a);
        }
    }
    for (id, acc) in accounts {
        let mut layer = top.clone();
        layer.merge_from(acc);
        let prefix = join("accounts", &id);
        let origin = EnvOrigin {
            base_url: false,
            allowed: false,
        };
        if let Some(a) = finalize(&id, &prefix, layer, origin, &mut d) {
            out.push(a);
        }
    }

    if out.is_empty() && d.errors.is_empty() {
        d.warning(ConfigProblem::new(
            "channels.rocketchat",
            "no account configured: set baseUrl and credentials (or the ROCKETCHAT_* env vars), or accounts.<id>",
        ));
    }

    if d.errors.is_empty() {
        Ok(ResolvedConfig {
            accounts: out,
            warnings: d.warnings,
        })
    } else {
        Err(ConfigErrors {
            errors: d.errors,
            warnings: d.warnings,
        })
    }
}

/// Resolve from a whole OpenClaw config (`{"channels":{"rocketchat":{…}}}`).
/// A missing `channels.rocketchat` counts as `{}`.
pub fn resolve_openclaw_config(
    root: &Value,
    env: &(impl EnvSource + ?Sized),
) -> Result<ResolvedConfig, ConfigErrors> {
    let empty = Value::Object(Default::default());
    let section = root
        .get("channels")
        .and_then(|c| c.get("rocketchat"))
        .unwrap_or(&empty);
    resolve(section, env)
}

/// [`resolve`] with the process environment.
pub fn resolve_with_process_env(value: &Value) -> Result<ResolvedConfig, ConfigErrors> {
    resolve(value, &env::ProcessEnv)
}

/// Where env vars may have contributed, for messages.
#[derive(Clone, Copy)]
struct EnvOrigin {
    /// The baseUrl came from `ROCKETCHAT_URL`.
    base_url: bool,
    /// This is the default account (env vars apply).
    allowed: bool,
}

fn env_layer(env: &(impl EnvSource + ?Sized)) -> AccountSection {
    AccountSection {
        base_url: env::read(env, env::ENV_URL),
        auth_token: env::read(env, env::ENV_AUTH_TOKEN).map(Secret::from),
        user_id: env::read(env, env::ENV_USER_ID),
        username: env::read(env, env::ENV_USERNAME),
        password: env::read(env, env::ENV_PASSWORD).map(Secret::from),
        ..AccountSection::default()
    }
}

fn has_connection_keys(l: &AccountSection) -> bool {
    l.base_url.is_some()
        || l.auth_token.is_some()
        || l.user_id.is_some()
        || l.username.is_some()
        || l.password.is_some()
}

fn nonblank(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn nonblank_secret(s: Option<Secret>) -> Option<Secret> {
    s.filter(|v| !v.expose().trim().is_empty())
}

/// Whether `key`, at `prefix` or inherited from the top level, had a value of the wrong
/// type: that was reported, so it is not reported again as missing.
fn unreadable(d: &Diagnostics, prefix: &str, key: &str) -> bool {
    d.was_unreadable(&join(prefix, key)) || d.was_unreadable(key)
}

fn strings(list: Option<Vec<AllowEntry>>) -> Vec<String> {
    list.unwrap_or_default()
        .iter()
        .map(AllowEntry::to_text)
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn finalize(
    id: &str,
    prefix: &str,
    l: AccountSection,
    origin: EnvOrigin,
    d: &mut Diagnostics,
) -> Option<AccountConfig> {
    let at = |key: &str| join(prefix, key);
    let errors_before = d.errors.len();

    // baseUrl
    let base_url = match nonblank(l.base_url.clone()) {
        None if unreadable(d, prefix, "baseUrl") => None,
        None => {
            let hint = if origin.allowed {
                " (or set ROCKETCHAT_URL)"
            } else {
                ""
            };
            d.error(ConfigProblem::new(
                at("baseUrl"),
                format!(
                    "missing: the Rocket.Chat server URL, e.g. \"https://chat.example.com\"{hint}"
                ),
            ));
            None
        }
        Some(raw) => match BaseUrl::parse(&raw) {
            Ok(u) => Some(u),
            Err(reason) => {
                // config values were reported where they are written (check_values)
                if origin.base_url {
                    d.error(ConfigProblem::new(
                        at("baseUrl"),
                        format!("{reason}: {} (from ROCKETCHAT_URL)", quoted(&raw)),
                    ));
                }
                None
            }
        },
    };

    // credentials
    let credentials = credentials(&l, prefix, origin, d);

    // policies and numbers
    let dm_policy = l.dm_policy.unwrap_or_default();
    let allow_from = strings(l.allow_from);
    if dm_policy == DmPolicy::Open && !allow_from.iter().any(|e| e == "*") {
        d.error(ConfigProblem::new(
            at("allowFrom"),
            "dmPolicy \"open\" requires \"*\" in allowFrom (add \"*\" to admit everyone, or use dmPolicy \"allowlist\")",
        ));
    }
    let group_policy = l.group_policy.unwrap_or_default();
    let group_allow_from = strings(l.group_allow_from);
    if group_policy == GroupPolicy::Allowlist
        && group_allow_from.is_empty()
        && allow_from.is_empty()
    {
        d.warning(ConfigProblem::new(
            at("groupAllowFrom"),
            "groupPolicy \"allowlist\" with empty groupAllowFrom and allowFrom: group and channel messages are dropped unless the host's pairing store admits the sender",
        ));
    }

    // Value checks ran per layer (check_values); here invalid values fall back silently.
    let onchar_prefixes: Vec<String> = match l.onchar_prefixes {
        None => DEFAULT_ONCHAR_PREFIXES
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        Some(list) => list.into_iter().filter(|p| !p.is_empty()).collect(),
    };
    let chatmode = l.chatmode.unwrap_or_default();
    if chatmode == ChatMode::Onchar && onchar_prefixes.is_empty() {
        d.warning(ConfigProblem::new(
            at("oncharPrefixes"),
            "chatmode \"onchar\" with no prefixes: the bot never triggers in groups",
        ));
    }

    let conversation_window_minutes = non_negative(l.conversation_window_minutes).unwrap_or(0);
    let media_max_mb = positive_f64(l.media_max_mb).unwrap_or(DEFAULT_MEDIA_MAX_MB);
    let text_chunk_limit = positive_int(l.text_chunk_limit).unwrap_or(DEFAULT_TEXT_CHUNK_LIMIT);

    let coalesce = l.block_streaming_coalesce.unwrap_or_default();
    let block_streaming_coalesce = Coalesce {
        min_chars: coalesce.min_chars.unwrap_or(DEFAULT_COALESCE_MIN_CHARS),
        idle_ms: coalesce.idle_ms.unwrap_or(DEFAULT_COALESCE_IDLE_MS),
    };

    let rooms = l
        .rooms
        .unwrap_or_default()
        .into_iter()
        .map(|(room_id, r)| {
            let room = RoomConfig {
                conversation_window_minutes: non_negative(r.conversation_window_minutes),
                media_max_mb: positive_f64(r.media_max_mb),
                require_mention: r.require_mention,
                enabled: r.enabled,
            };
            (room_id, room)
        })
        .collect();

    let tls_section = l.tls.unwrap_or_default();
    let tls = TlsConfig {
        ca_file: nonblank(tls_section.ca_file),
        ca_pem: tls_section.ca_pem.filter(|p| p.contains(PEM_CERT)),
        insecure_skip_verify: tls_section.insecure_skip_verify.unwrap_or(false),
    };
    if tls.insecure_skip_verify {
        d.warning(ConfigProblem::new(
            at("tls.insecureSkipVerify"),
            "certificate verification is OFF: anyone on the network path can read the bot's token",
        ));
    }

    if d.errors.len() > errors_before {
        return None;
    }
    Some(AccountConfig {
        account_id: id.to_owned(),
        enabled: l.enabled.unwrap_or(true),
        name: l.name,
        base_url: base_url?,
        credentials: credentials?,
        dm_policy,
        allow_from,
        group_policy,
        group_allow_from,
        chatmode,
        onchar_prefixes,
        command_prefix: l
            .command_prefix
            .unwrap_or_else(|| super::account::DEFAULT_COMMAND_PREFIX.to_owned()),
        encrypted_notice: l
            .encrypted_notice
            .map(|n| n.trim().to_owned())
            .unwrap_or_else(|| super::account::DEFAULT_ENCRYPTED_NOTICE.to_owned()),
        require_mention: l.require_mention.unwrap_or(true),
        conversation_window_minutes,
        media_max_mb,
        text_chunk_limit,
        chunk_mode: l.chunk_mode.unwrap_or_default(),
        block_streaming: l.block_streaming,
        block_streaming_coalesce,
        response_prefix: l.response_prefix,
        markdown_tables: l.markdown.and_then(|m| m.tables),
        rooms,
        capabilities: l.capabilities,
        config_writes: l.config_writes,
        mention_all: l.mention_all.unwrap_or(false),
        mention_patterns: l
            .mention_patterns
            .unwrap_or_default()
            .into_iter()
            .filter(|p| !p.trim().is_empty())
            .collect(),
        reply_to_mode: l.reply_to_mode.unwrap_or_default(),
        reply_to_mode_by_chat_type: l.reply_to_mode_by_chat_type.unwrap_or_default(),
        ack_reaction: l.ack_reaction.map(|r| r.trim().to_owned()),
        send_read_receipts: l.send_read_receipts.unwrap_or(false),
        tls,
    })
}

fn non_negative(v: Option<i64>) -> Option<u64> {
    v.and_then(|n| u64::try_from(n).ok())
}

fn positive_int(v: Option<i64>) -> Option<usize> {
    v.filter(|n| *n > 0).and_then(|n| usize::try_from(n).ok())
}

fn positive_f64(v: Option<f64>) -> Option<f64> {
    v.filter(|n| n.is_finite() && *n > 0.0)
}

fn credentials(
    l: &AccountSection,
    prefix: &str,
    origin: EnvOrigin,
    d: &mut Diagnostics,
) -> Option<Credentials> {
    let at = |key: &str| join(prefix, key);
    // a token has no spaces; a line break pasted along would break the auth header
    let token = nonblank_secret(l.auth_token.clone()).map(|t| Secret::new(t.expose().trim()));
    let user_id = nonblank(l.user_id.clone());
    let username = nonblank(l.username.clone());
    let password = nonblank_secret(l.password.clone());
    let totp_code = l
        .two_factor
        .as_ref()
        .and_then(|t| nonblank_secret(t.totp_code.clone()));
    let has_login = username.is_some() && password.is_some();
    let env_hint = |var: &str| {
        if origin.allowed {
            format!(" (or {var})")
        } else {
            String::new()
        }
    };

    if ["authToken", "userId", "username", "password"]
        .iter()
        .any(|key| unreadable(d, prefix, key))
    {
        // the wrong-typed key was reported; what it leaves missing would only repeat it
        return None;
    }
    let mut ok = true;
    match (&token, &user_id) {
        (Some(_), None) => {
            d.error(ConfigProblem::new(
                at("userId"),
                format!(
                    "missing: authToken is set without userId (the bot user's id){}",
                    env_hint("ROCKETCHAT_USER_ID")
                ),
            ));
            ok = false;
        }
        (None, Some(_)) if !has_login => {
            d.error(ConfigProblem::new(
                at("authToken"),
                format!(
                    "missing: userId is set without authToken{}",
                    env_hint("ROCKETCHAT_AUTH_TOKEN")
                ),
            ));
            ok = false;
        }
        _ => {}
    }
    let has_token = token.is_some() && user_id.is_some();
    if !has_token {
        match (&username, &password) {
            (Some(_), None) => {
                d.error(ConfigProblem::new(
                    at("password"),
                    format!(
                        "missing: username is set without password{}",
                        env_hint("ROCKETCHAT_PASSWORD")
                    ),
                ));
                ok = false;
            }
            (None, Some(_)) => {
                d.error(ConfigProblem::new(
                    at("username"),
                    format!(
                        "missing: password is set without username{}",
                        env_hint("ROCKETCHAT_USERNAME")
                    ),
                ));
                ok = false;
            }
            _ => {}
        }
    }
    if ok && !has_token && !has_login {
        let env = if origin.allowed {
            " (or ROCKETCHAT_AUTH_TOKEN + ROCKETCHAT_USER_ID, or ROCKETCHAT_USERNAME + ROCKETCHAT_PASSWORD)"
        } else {
            ""
        };
        d.error(ConfigProblem::new(
            at("authToken"),
            format!("no credentials: set authToken + userId (personal access token) or username + password{env}"),
        ));
        ok = false;
    }
    if !ok {
        return None;
    }
    Some(Credentials {
        token: match (token, user_id) {
            (Some(auth_token), Some(user_id)) => Some(TokenCredentials {
                user_id,
                auth_token,
            }),
            _ => None,
        },
        login: match (username.clone(), password) {
            (Some(username), Some(password)) => Some(LoginCredentials {
                username,
                password,
                totp_code,
            }),
            _ => None,
        },
        username,
    })
}
