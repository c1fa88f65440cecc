use serde_json::{json, Value};

use super::*;

const NO_ENV: [(&str, &str); 0] = [];

fn ok(v: Value) -> ResolvedConfig {
    match resolve(&v, &NO_ENV) {
        Ok(c) => c,
        Err(e) => panic!("expected ok, got:\n{e}"),
    }
}

fn errs(v: Value) -> Vec<String> {
    resolve(&v, &NO_ENV)
        .expect_err("expected errors")
        .messages()
}

fn has(list: &[String], needle: &str) -> bool {
    list.iter().any(|m| m.contains(needle))
}

#[test]
fn seed_pat_example_resolves_with_defaults() {
    let c = ok(json!({
        "enabled": true,
        "baseUrl": "https://chat.example.com/",
        "authToken": "your-personal-access-token",
        "userId": "your-user-id",
        "dmPolicy": "open",
        "allowFrom": ["*"]
    }));
    assert_eq!(c.accounts.len(), 1);
    let a = &c.accounts[0];
    assert_eq!(a.account_id, "default");
    assert!(a.enabled);
    assert_eq!(a.base_url.as_str(), "https://chat.example.com");
    assert_eq!(a.base_url.rest_base(), "https://chat.example.com/api/v1");
    assert_eq!(a.base_url.ws_url(), "wss://chat.example.com/websocket");
    let t = a.credentials.token.as_ref().unwrap();
    assert_eq!(t.user_id, "your-user-id");
    assert_eq!(t.auth_token.expose(), "your-personal-access-token");
    assert!(a.credentials.login.is_none());
    assert_eq!(a.dm_policy, DmPolicy::Open);
    assert_eq!(a.allow_from, vec!["*"]);
    assert_eq!(a.group_policy, GroupPolicy::Allowlist);
    assert_eq!(a.chatmode, ChatMode::Oncall);
    assert_eq!(a.onchar_prefixes, vec![">", "!"]);
    assert!(a.require_mention);
    assert_eq!(a.conversation_window_minutes, 0);
    assert_eq!(a.media_max_mb, 8.0);
    assert_eq!(a.text_chunk_limit, 4000);
    assert_eq!(a.chunk_mode, ChunkMode::Length);
    assert_eq!(a.block_streaming, None);
    assert_eq!(
        a.block_streaming_coalesce,
        Coalesce {
            min_chars: 1500,
            idle_ms: 1000
        }
    );
    assert!(!a.mention_all);
    assert!(!a.tls.insecure_skip_verify);
}

#[test]
fn seed_password_example_resolves() {
    let c = ok(json!({
        "enabled": true,
        "baseUrl": "https://chat.example.com",
        "username": "openclaw",
        "password": "your-password",
        "dmPolicy": "open",
        "allowFrom": ["*"]
    }));
    let login = c.accounts[0].credentials.login.as_ref().unwrap();
    assert_eq!(login.username, "openclaw");
    assert_eq!(login.password.expose(), "your-password");
    assert!(c.accounts[0].credentials.token.is_none());
}

#[test]
fn seed_multi_account_example_has_no_implicit_default() {
    let c = ok(json!({
        "enabled": true,
        "accounts": {
            "primary": {"baseUrl": "https://chat.example.com", "authToken": "token1", "userId": "uid1", "allowFrom": ["@admin"]},
            "secondary": {"baseUrl": "https://other-server.com", "authToken": "token2", "userId": "uid2", "allowFrom": ["@user"]}
        }
    }));
    let ids: Vec<_> = c.accounts.iter().map(|a| a.account_id.as_str()).collect();
    assert_eq!(ids, ["primary", "secondary"]);
    assert_eq!(c.account("secondary").unwrap().allow_from, vec!["@user"]);
    assert!(c.account("default").is_none());
}

#[test]
fn accounts_inherit_top_level_deeply() {
    let c = ok(json!({
        "baseUrl": "https://chat.example.com/base/",
        "authToken": "t0", "userId": "u0",
        "dmPolicy": "allowlist", "allowFrom": ["alice", 12345],
        "blockStreamingCoalesce": {"minChars": 10, "idleMs": 20},
        "markdown": {"tables": "bullets"},
        "rooms": {"R1": {"requireMention": false, "mediaMaxMb": 2}, "R2": {"enabled": false}},
        "tls": {"insecureSkipVerify": false},
        "accounts": {
            "b": {
                "authToken": "t1", "userId": "u1",
                "blockStreamingCoalesce": {"idleMs": 99},
                "rooms": {"R1": {"conversationWindowMinutes": 5}, "R3": {"requireMention": true}},
                "enabled": false
            }
        }
    }));
    let d = c.account("default").unwrap();
    assert_eq!(d.allow_from, vec!["alice", "12345"]);
    assert_eq!(d.base_url.as_str(), "https://chat.example.com/base");
    assert_eq!(d.base_url.ws_url(), "wss://chat.example.com/base/websocket");
    let b = c.account("b").unwrap();
    assert!(!b.enabled, "disabled accounts are kept");
    assert_eq!(c.enabled_accounts().count(), 1);
    assert_eq!(b.base_url.as_str(), "https://chat.example.com/base");
    assert_eq!(b.credentials.token.as_ref().unwrap().user_id, "u1");
    assert_eq!(b.dm_policy, DmPolicy::Allowlist);
    assert_eq!(
        b.block_streaming_coalesce,
        Coalesce {
            min_chars: 10,
            idle_ms: 99
        }
    );
    assert_eq!(b.markdown_tables, Some(TableMode::Bullets));
    let r1 = b.room("R1").unwrap();
    assert_eq!(r1.require_mention, Some(false));
    assert_eq!(r1.media_max_mb, Some(2.0));
    assert_eq!(r1.conversation_window_minutes, Some(5));
    assert!(!b.room_enabled("R2"));
    assert!(b.room_enabled("R3"));
    assert!(!b.require_mention_in("R1"));
    assert!(b.require_mention_in("elsewhere"));
    assert_eq!(b.conversation_window_minutes_in("R1"), 5);
    assert_eq!(b.media_max_bytes_in("R1"), 2 * 1024 * 1024);
    assert_eq!(b.media_max_bytes_in("other"), 8 * 1024 * 1024);
}

#[test]
fn env_fills_default_account_only_and_config_wins() {
    let env = [
        ("ROCKETCHAT_URL", "http://env.example.com:3000/"),
        ("ROCKETCHAT_AUTH_TOKEN", "env-token"),
        ("ROCKETCHAT_USER_ID", "env-uid"),
        ("ROCKETCHAT_USERNAME", "envbot"),
        ("ROCKETCHAT_PASSWORD", "env-pass"),
    ];
    let c = resolve(&json!({}), &env).unwrap();
    let d = c.account("default").unwrap();
    assert_eq!(d.base_url.as_str(), "http://env.example.com:3000");
    assert_eq!(d.base_url.ws_url(), "ws://env.example.com:3000/websocket");
    assert_eq!(
        d.credentials.token.as_ref().unwrap().auth_token.expose(),
        "env-token"
    );
    assert_eq!(
        d.credentials.login.as_ref().unwrap().password.expose(),
        "env-pass"
    );

    let v = json!({
        "baseUrl": "https://config.example.com", "userId": "cfg-uid",
        "accounts": {"other": {"baseUrl": "https://other.example.com"}}
    });
    let err = resolve(&v, &env).unwrap_err();
    // the default account is fine (env token + config user id); `other` gets no env credentials
    assert_eq!(err.errors.len(), 1, "{err}");
    assert!(err.errors[0].path.starts_with("accounts.other."), "{err}");
    let v = json!({"baseUrl": "https://config.example.com", "userId": "cfg-uid"});
    let c = resolve(&v, &env).unwrap();
    let d = c.account("default").unwrap();
    assert_eq!(d.base_url.as_str(), "https://config.example.com");
    let t = d.credentials.token.as_ref().unwrap();
    assert_eq!(t.user_id, "cfg-uid");
    assert_eq!(t.auth_token.expose(), "env-token");
}

#[test]
fn env_closure_and_map_sources() {
    let f = EnvFn(|k: &str| (k == "ROCKETCHAT_URL").then(|| "https://x.example".to_owned()));
    let e = resolve(&json!({}), &f).unwrap_err();
    assert!(has(&e.messages(), "ROCKETCHAT_AUTH_TOKEN"), "{e}");
    let mut m = std::collections::HashMap::new();
    m.insert("ROCKETCHAT_URL".to_owned(), "https://x.example".to_owned());
    m.insert("ROCKETCHAT_USERNAME".to_owned(), "bot".to_owned());
    m.insert("ROCKETCHAT_PASSWORD".to_owned(), "pw".to_owned());
    m.insert("ROCKETCHAT_AUTH_TOKEN".to_owned(), "   ".to_owned());
    let c = resolve(&json!({}), &m).unwrap();
    assert!(c.accounts[0].credentials.token.is_none());
}

#[test]
fn empty_config_is_ok_with_a_warning() {
    let c = ok(json!({}));
    assert!(c.accounts.is_empty());
    assert!(c.warnings.iter().any(|w| w.message.contains("no account")));
}

#[test]
fn collects_every_problem_with_paths() {
    let e = errs(json!({
        "baseUrl": "https://ok.example.com",
        "dmPolicy": "friends",
        "groupPolicy": 3,
        "textChunkLimit": 0,
        "mediaMaxMb": -1,
        "requireMention": "yes",
        "allowFrom": ["ok", true],
        "groupAllowFrom": "alice",
        "tls": {"caPem": "nope", "insecureSkipVerify": "no"},
        "rooms": {"R": {"conversationWindowMinutes": -5}},
        "accounts": {
            "secondary": {"baseUrl": "ftp://x", "authToken": "t2", "userId": "u2"},
            "third": {"baseUrl": "https://h.example?x=1", "userId": "u3"},
            "fourth": {"baseUrl": "https://h.example", "username": "bot"},
            "fifth": {"baseUrl": "https://h.example", "password": "p"},
            "sixth": "not an object"
        }
    }));
    let want = [
        "dmPolicy: unknown value `friends`, expected one of `pairing`, `allowlist`, `open`, `disabled`",
        "groupPolicy: wrong type: invalid type: integer `3`, expected a string",
        "allowFrom: wrong type: expected an array of strings or numbers",
        "groupAllowFrom: wrong type: invalid type: string \"alice\", expected a sequence",
        "requireMention: wrong type",
        "tls.insecureSkipVerify: wrong type",
        "authToken: no credentials",
        "textChunkLimit: must be a whole number of characters from 20 to 100000, got 0",
        "mediaMaxMb: must be a number of megabytes above 0 and at most 4096, got -1",
        "rooms.R.conversationWindowMinutes: must be a whole number of minutes from 0 (off) to 525600 (a year), got -5",
        "tls.caPem: not a PEM certificate",
        "accounts.secondary.baseUrl: not a valid http(s) URL: \"ftp://x\"",
        "accounts.third.baseUrl: must not have a query string",
        "accounts.third.authToken: missing: userId is set without authToken",
        "accounts.fourth.password: missing: username is set without password",
        "accounts.fifth.username: missing: password is set without username",
        "accounts.sixth: wrong type: expected an object, got a string",
    ];
    for w in want {
        assert!(has(&e, w), "missing {w:?} in:\n{}", e.join("\n"));
    }
}

#[test]
fn inherited_bad_values_are_reported_once() {
    let e = errs(json!({
        "mediaMaxMb": 0,
        "accounts": {"a": {"baseUrl": "https://a.example", "authToken": "t", "userId": "u"},
                     "b": {"baseUrl": "https://b.example", "authToken": "t", "userId": "u"}}
    }));
    assert_eq!(
        e,
        vec!["mediaMaxMb: must be a number of megabytes above 0 and at most 4096, got 0"]
    );
    let e = errs(json!({"baseUrl": "https://c.example", "authToken": "t"}));
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("userId: missing: authToken is set without userId"),
        "{e:?}"
    );
}

#[test]
fn missing_base_url_and_credentials() {
    let e = errs(json!({"accounts": {"a": {"enabled": true, "userId": "x", "authToken": "y"}}}));
    assert!(has(&e, "accounts.a.baseUrl: missing"), "{e:?}");
    let e = errs(json!({"baseUrl": "https://chat.example.com"}));
    assert!(
        has(&e, "authToken: no credentials: set authToken + userId"),
        "{e:?}"
    );
    assert!(has(&e, "ROCKETCHAT_AUTH_TOKEN"), "{e:?}");
}

#[test]
fn open_dm_policy_requires_star() {
    let e = errs(
        json!({"baseUrl": "https://c.example", "authToken": "t", "userId": "u", "dmPolicy": "open"}),
    );
    assert_eq!(e, vec!["allowFrom: dmPolicy \"open\" requires \"*\" in allowFrom (add \"*\" to admit everyone, or use dmPolicy \"allowlist\")"]);
}

#[test]
fn base_url_rules() {
    for good in ["http://h", "https://h:8443/", "https://h/chat/"] {
        assert!(BaseUrl::parse(good).is_ok(), "{good}");
    }
    for bad in [
        "",
        "ftp://h",
        "h.example.com",
        "https://h/#x",
        "https://h/?a",
        "https://u:p@h",
        "https://",
    ] {
        assert!(BaseUrl::parse(bad).is_err(), "{bad}");
    }
    let u = BaseUrl::parse("https://h/chat/").unwrap();
    assert_eq!(u.as_str(), "https://h/chat");
    assert_eq!(u.rest_base(), "https://h/chat/api/v1");
    assert_eq!(u.ws_url(), "wss://h/chat/websocket");
    assert_eq!(u.origin(), "https://h");
    assert_eq!(
        u.join("/file-upload/a/b.png").unwrap().as_str(),
        "https://h/chat/file-upload/a/b.png"
    );
    assert!(u.same_origin(&url::Url::parse("https://h/other").unwrap()));
    assert!(!u.same_origin(&url::Url::parse("https://evil/").unwrap()));
}

#[test]
fn unknown_keys_are_warnings() {
    let c = ok(json!({
        "baseUrl": "https://c.example", "authToken": "t", "userId": "u",
        "futureKey": 1,
        "tls": {"pinning": true},
        "accounts": {"x": {"baseUrl": "https://d.example", "authToken": "t", "userId": "u", "mystery": {}}}
    }));
    let w: Vec<String> = c.warnings.iter().map(ToString::to_string).collect();
    for p in [
        "futureKey: unknown key",
        "tls.pinning: unknown key",
        "accounts.x.mystery: unknown key",
    ] {
        assert!(has(&w, p), "{w:?}");
    }
}

#[test]
fn debug_never_shows_secrets() {
    let v = json!({
        "baseUrl": "https://c.example", "authToken": "TOKEN-SHOULD-NOT-LEAK", "userId": "u",
        "username": "bot", "password": "PASSWORD-SHOULD-NOT-LEAK",
        "twoFactor": {"totpCode": "123987"},
        "accounts": {"b": {"authToken": "OTHER-TOKEN-SECRET"}}
    });
    let c = ok(v.clone());
    let dbg = format!("{c:?} {c:#?}");
    for s in [
        "TOKEN-SHOULD-NOT-LEAK",
        "PASSWORD-SHOULD-NOT-LEAK",
        "OTHER-TOKEN-SECRET",
        "123987",
    ] {
        assert!(!dbg.contains(s), "Debug leaked {s}");
    }
    assert!(dbg.contains("***"));
    let raw: RocketChatConfig = serde_json::from_value(v).unwrap();
    assert!(!format!("{raw:?}").contains("LEAK"));
    // errors never echo secret values either, even of the wrong type
    let e = resolve(
        &json!({"password": 987654321, "twoFactor": {"totpCode": 123987}}),
        &NO_ENV,
    )
    .unwrap_err();
    assert!(
        !format!("{e} {e:?}").contains("987654321") && !format!("{e}").contains("123987"),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("password: wrong type: expected a string, got a number"),
        "{e}"
    );
    let e = resolve(
        &json!({"baseUrl": "x", "authToken": "TOKEN-SHOULD-NOT-LEAK"}),
        &NO_ENV,
    )
    .unwrap_err();
    assert!(!format!("{e} {e:?}").contains("LEAK"));
}

#[test]
fn display_lists_one_problem_per_line() {
    let e = resolve(&json!({"accounts": {"a": {"baseUrl": "ftp://x"}}}), &NO_ENV).unwrap_err();
    let text = e.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + e.problems().len());
    assert!(lines[0].starts_with("invalid channels.rocketchat config (2 problems)"));
    assert!(text.contains("\n  accounts.a.baseUrl: not a valid http(s) URL: \"ftp://x\""));
}

#[test]
fn openclaw_root_and_non_object() {
    let root = json!({"channels": {"rocketchat": {"baseUrl": "https://c.example", "username": "b", "password": "p"}}});
    assert_eq!(
        resolve_openclaw_config(&root, &NO_ENV)
            .unwrap()
            .accounts
            .len(),
        1
    );
    let e = errs(json!([1, 2]));
    assert!(has(
        &e,
        "channels.rocketchat: wrong type: expected an object, got an array"
    ));
}

fn enum_values(schema: &Value, def: &str) -> Vec<String> {
    let d = &schema["$defs"][def];
    if let Some(list) = d["enum"].as_array() {
        return list
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
    }
    d["oneOf"]
        .as_array()
        .unwrap_or_else(|| panic!("{def}: {d}"))
        .iter()
        .filter_map(|v| v["const"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn json_schema_has_keys_and_enums() {
    let s = json_schema();
    let props = s["properties"].as_object().unwrap();
    for k in [
        "enabled",
        "name",
        "baseUrl",
        "authToken",
        "userId",
        "username",
        "password",
        "dmPolicy",
        "allowFrom",
        "groupPolicy",
        "groupAllowFrom",
        "chatmode",
        "oncharPrefixes",
        "requireMention",
        "conversationWindowMinutes",
        "mediaMaxMb",
        "textChunkLimit",
        "chunkMode",
        "blockStreaming",
        "blockStreamingCoalesce",
        "responsePrefix",
        "markdown",
        "rooms",
        "capabilities",
        "configWrites",
        "mentionAll",
        "mentionPatterns",
        "tls",
        "twoFactor",
        "accounts",
    ] {
        assert!(props.contains_key(k), "schema lacks {k}");
    }
    assert_eq!(
        enum_values(&s, "DmPolicy"),
        ["pairing", "allowlist", "open", "disabled"]
    );
    assert_eq!(
        enum_values(&s, "GroupPolicy"),
        ["allowlist", "open", "disabled"]
    );
    assert_eq!(
        enum_values(&s, "ChatMode"),
        ["oncall", "onmessage", "onchar"]
    );
    assert_eq!(enum_values(&s, "ChunkMode"), ["length", "newline"]);
    assert_eq!(
        enum_values(&s, "TableMode"),
        ["off", "bullets", "code", "block"]
    );
    for k in ["caFile", "caPem", "insecureSkipVerify"] {
        assert!(
            s["$defs"]["TlsSection"]["properties"].get(k).is_some(),
            "{k}"
        );
    }
    assert!(s["$defs"]["CoalesceSection"]["properties"]
        .get("minChars")
        .is_some());
    assert!(s["$defs"]["TwoFactorSection"]["properties"]
        .get("totpCode")
        .is_some());
    // secrets are plain strings in the schema
    assert!(props["authToken"]["type"].to_string().contains("string"));
}

#[test]
fn schema_keys_match_the_parser() {
    // every schema property of a layer is accepted without an "unknown key" warning
    let s = json_schema();
    let mut obj = serde_json::Map::new();
    for k in s["properties"].as_object().unwrap().keys() {
        obj.insert(k.clone(), Value::Null);
    }
    let c = resolve(&Value::Object(obj), &NO_ENV).unwrap();
    assert!(
        c.warnings
            .iter()
            .all(|w| !w.message.contains("unknown key")),
        "{:?}",
        c.warnings
    );
}

#[test]
fn invalid_env_url_is_named_and_overridable() {
    let env = [
        ("ROCKETCHAT_URL", "chat.example.com"),
        ("ROCKETCHAT_AUTH_TOKEN", "t"),
        ("ROCKETCHAT_USER_ID", "u"),
    ];
    let e = resolve(&json!({}), &env).unwrap_err();
    assert_eq!(
        e.messages(),
        vec!["baseUrl: not a valid http(s) URL: \"chat.example.com\" (from ROCKETCHAT_URL)"]
    );
    let c = resolve(&json!({"baseUrl": "https://chat.example.com"}), &env).unwrap();
    assert_eq!(c.accounts[0].base_url.as_str(), "https://chat.example.com");
}

#[test]
fn a_password_in_base_url_is_never_shown_whatever_it_contains() {
    for url in [
        "https://bot:s3cr#t@chat.example.com",
        "https://bot:s3cr/t@chat.example.com",
        "https://bot:s3cr?t@chat.example.com",
        "https://bot:1234/s3cr@chat.example.com",
    ] {
        let e = errs(json!({"baseUrl": url, "authToken": "t", "userId": "u"}));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("baseUrl: must not contain credentials"),
            "{e:?}"
        );
        assert!(e[0].contains("\"https://***@chat.example.com\""), "{e:?}");
        assert!(!e[0].contains("s3cr") && !e[0].contains("1234"), "{e:?}");
    }
}

#[test]
fn control_characters_in_ids_and_tokens_are_refused_without_quoting() {
    let e = errs(json!({
        "baseUrl": "https://chat.example.com",
        "authToken": "sec\nret-token",
        "userId": "u\u{1}",
        "accounts": {"b": {"username": "b\tot", "password": "p"}}
    }));
    for key in ["authToken", "userId", "accounts.b.username"] {
        assert!(
            has(&e, &format!("{key}: contains a control character")),
            "{key} in {e:?}"
        );
    }
    assert!(!e.iter().any(|m| m.contains("sec")), "{e:?}");
    // a trailing line break pasted with the token is only trimmed
    let c =
        ok(json!({"baseUrl": "https://chat.example.com", "authToken": "tok\n", "userId": "u\n"}));
    let token = c.accounts[0].credentials.token.as_ref().unwrap();
    assert_eq!(token.auth_token.expose(), "tok");
    assert_eq!(token.user_id, "u");
}

#[test]
fn absurd_numbers_are_refused_naming_the_range() {
    let e = errs(json!({
        "baseUrl": "https://chat.example.com", "authToken": "t", "userId": "u",
        "mediaMaxMb": 1e308,
        "textChunkLimit": 1,
        "conversationWindowMinutes": 9_000_000_000_i64,
        "blockStreamingCoalesce": {"minChars": 1_000_000_000, "idleMs": 86_400_000},
        "rooms": {"R": {"mediaMaxMb": 1e9}},
    }));
    let want = [
        "mediaMaxMb: must be a number of megabytes above 0 and at most 4096, got 1e308",
        "textChunkLimit: must be a whole number of characters from 20 to 100000, got 1",
        "conversationWindowMinutes: must be a whole number of minutes from 0 (off) to 525600 (a year), got 9000000000",
        "blockStreamingCoalesce.minChars: must be a whole number of characters from 0 to 100000, got 1000000000",
        "blockStreamingCoalesce.idleMs: must be a whole number of milliseconds from 0 to 600000 (10 minutes), got 86400000",
        "rooms.R.mediaMaxMb: must be a number of megabytes above 0 and at most 4096",
    ];
    for w in want {
        assert!(has(&e, w), "missing {w:?} in:\n{}", e.join("\n"));
    }
    assert_eq!(e.len(), want.len(), "{e:?}");

    // a 100 000-character host: refused, and the message stays short
    let host = format!("https://{}.example.com", "a".repeat(100_000));
    let e = errs(json!({"baseUrl": host, "authToken": "t", "userId": "u"}));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with(
            "baseUrl: not a valid http(s) URL (the host name is longer than 253 characters)"
        ),
        "{}",
        &e[0][..200]
    );
    assert!(e[0].len() < 400, "{} characters", e[0].len());
}

#[test]
fn wrong_types_are_said_in_json_words_and_reported_once() {
    let e = errs(json!({
        "baseUrl": "https://chat.example.com", "authToken": "t", "userId": "u",
        "textChunkLimit": 1.5,
        "conversationWindowMinutes": "x",
        "mediaMaxMb": "big",
        "blockStreamingCoalesce": {"minChars": -1},
    }));
    let want = [
        "textChunkLimit: wrong type: invalid type: number `1.5`, expected a whole number",
        "conversationWindowMinutes: wrong type: invalid type: string \"x\", expected a whole number",
        "mediaMaxMb: wrong type: invalid type: string \"big\", expected a number",
        "blockStreamingCoalesce.minChars: wrong type: invalid value: integer `-1`, expected a whole number, 0 or more",
    ];
    for w in want {
        assert!(has(&e, w), "missing {w:?} in:\n{}", e.join("\n"));
    }
    for m in &e {
        for rust in ["i64", "u64", "f64", "usize", "floating point"] {
            assert!(!m.contains(rust), "{m}");
        }
    }

    // a key of the wrong type is one problem, not also "missing"
    for (v, key) in [
        (
            json!({"baseUrl": 42, "authToken": "t", "userId": "u"}),
            "baseUrl",
        ),
        (
            json!({"baseUrl": "https://c.example", "authToken": 5, "userId": "u"}),
            "authToken",
        ),
        (
            json!({"baseUrl": "https://c.example", "authToken": "t", "userId": true}),
            "userId",
        ),
        (
            json!({"baseUrl": "https://c.example", "username": ["x"], "password": "p"}),
            "username",
        ),
        (
            json!({"accounts": {"a": {"baseUrl": 1, "authToken": "t", "userId": "u"}}}),
            "accounts.a.baseUrl",
        ),
        (
            json!({"baseUrl": 1, "accounts": {"a": {"authToken": "t", "userId": "u"}}}),
            "baseUrl",
        ),
    ] {
        let e = errs(v);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].starts_with(&format!("{key}: wrong type")), "{e:?}");
    }
}

#[test]
fn mention_patterns_must_compile_and_the_error_names_the_pattern() {
    let base = json!({"baseUrl": "https://chat.example.com", "authToken": "t", "userId": "u"});
    let mut v = base.clone();
    v["mentionPatterns"] = json!([r"\bclaw\b", r"(?<!x)bot", "(unclosed"]);
    let e = errs(v);
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        has(&e, "mentionPatterns[1]") && has(&e, r#""(?<!x)bot""#),
        "{e:?}"
    );
    assert!(
        has(&e, "mentionPatterns[2]") && has(&e, r#""(unclosed""#),
        "{e:?}"
    );
    assert!(has(&e, "lookaround"), "the fix is named: {e:?}");

    let mut v = base;
    v["mentionPatterns"] = json!([r"\bclaw\b"]);
    v["accounts"] = json!({"ops": {"mentionPatterns": ["ops-bot"]}});
    let c = ok(v);
    assert_eq!(
        c.account("default").unwrap().mention_patterns,
        vec![r"\bclaw\b"]
    );
    assert_eq!(c.account("ops").unwrap().mention_patterns, vec!["ops-bot"]);
}

#[test]
fn reply_and_ack_keys_default_off() {
    let c = ok(json!({"baseUrl": "https://c.example", "authToken": "t", "userId": "u"}));
    let a = &c.accounts[0];
    assert_eq!(a.reply_to_mode, ReplyToMode::Off);
    assert_eq!(
        a.reply_to_mode_by_chat_type,
        ReplyToModeByChatTypeSection::default()
    );
    assert_eq!(a.ack_reaction, None);
    assert!(!a.send_read_receipts);
}

#[test]
fn reply_and_ack_keys_are_read_and_inherited_without_warnings() {
    let c = ok(json!({
        "baseUrl": "https://c.example", "authToken": "t", "userId": "u",
        "replyToMode": "first",
        "replyToModeByChatType": {"direct": "off", "channel": "all"},
        "ackReaction": "👀",
        "sendReadReceipts": true,
        "accounts": {
            "b": {"authToken": "t2", "userId": "u2", "replyToMode": "batched",
                  "replyToModeByChatType": {"group": "batched"}, "ackReaction": ""},
            "c": {"authToken": "t3", "userId": "u3", "ackReaction": ":white_check_mark:",
                  "sendReadReceipts": false}
        }
    }));
    assert!(
        c.warnings
            .iter()
            .all(|w| !w.message.contains("unknown key")),
        "{:?}",
        c.warnings
    );
    let by_id = |id: &str| c.accounts.iter().find(|a| a.account_id == id).unwrap();
    let d = by_id("default");
    assert_eq!(d.reply_to_mode, ReplyToMode::First);
    assert_eq!(
        d.reply_to_mode_by_chat_type,
        ReplyToModeByChatTypeSection {
            direct: Some(ReplyToMode::Off),
            group: None,
            channel: Some(ReplyToMode::All),
        }
    );
    assert_eq!(d.ack_reaction.as_deref(), Some("👀"));
    assert!(d.send_read_receipts);
    let b = by_id("b");
    assert_eq!(b.reply_to_mode, ReplyToMode::Batched);
    // Merged per kind over the top level.
    assert_eq!(
        b.reply_to_mode_by_chat_type,
        ReplyToModeByChatTypeSection {
            direct: Some(ReplyToMode::Off),
            group: Some(ReplyToMode::Batched),
            channel: Some(ReplyToMode::All),
        }
    );
    assert_eq!(b.ack_reaction.as_deref(), Some(""));
    assert!(b.send_read_receipts);
    let c3 = by_id("c");
    assert_eq!(c3.reply_to_mode, ReplyToMode::First);
    assert_eq!(c3.ack_reaction.as_deref(), Some(":white_check_mark:"));
    assert!(!c3.send_read_receipts);
}

#[test]
fn bad_reply_and_ack_values_are_errors_naming_the_key() {
    let e = errs(json!({
        "baseUrl": "https://c.example", "authToken": "t", "userId": "u",
        "replyToMode": "sometimes",
        "replyToModeByChatType": {"direct": "always", "room": "all"},
        "ackReaction": "🦄",
        "sendReadReceipts": "yes",
        "accounts": {"b": {"ackReaction": "not an emoji", "replyToModeByChatType": "all",
                           "replyToMode": 1}}
    }));
    for needle in [
        "replyToMode: unknown value `sometimes`",
        "replyToModeByChatType.direct: unknown value `always`",
        "ackReaction: emoji 🦄 has no Rocket.Chat name",
        "sendReadReceipts: wrong type",
        "accounts.b.ackReaction: \"not an emoji\" is not an emoji name",
        "accounts.b.replyToModeByChatType: wrong type: expected an object",
        "accounts.b.replyToMode: wrong type",
    ] {
        assert!(has(&e, needle), "{needle} not in {e:#?}");
    }
    // An unknown kind of room is a warning, like any unknown key.
    let c = ok(json!({
        "baseUrl": "https://c.example", "authToken": "t", "userId": "u",
        "replyToModeByChatType": {"room": "all"}
    }));
    let w: Vec<String> = c.warnings.iter().map(ToString::to_string).collect();
    assert!(has(&w, "replyToModeByChatType.room: unknown key"), "{w:?}");
    assert!(has(
        &errs(json!({
            "baseUrl": "https://c.example", "authToken": "t", "userId": "u", "ackReaction": 5
        })),
        "ackReaction: wrong type"
    ));
}

#[test]
fn reply_and_ack_keys_are_in_the_schema() {
    let s = json_schema();
    let props = s["properties"].as_object().unwrap();
    for k in [
        "replyToMode",
        "replyToModeByChatType",
        "ackReaction",
        "sendReadReceipts",
    ] {
        assert!(props.contains_key(k), "{k}");
    }
    let text = s.to_string();
    for v in ["\"off\"", "\"first\"", "\"all\"", "\"batched\""] {
        assert!(text.contains(v), "{v}");
    }
    assert!(s["$defs"]["ReplyToModeByChatTypeSection"]["properties"]
        .get("direct")
        .is_some());
}

#[test]
fn streaming_is_read_inherited_and_checked() {
    let c = ok(json!({
        "baseUrl": "https://c.example", "authToken": "t", "userId": "u",
        "streaming": {"mode": "progress", "placeholder": "Thinking…"},
        "accounts": {"b": {"authToken": "t2", "userId": "u2", "streaming": {"mode": "partial", "stallMs": 30000}}}
    }));
    assert!(
        c.warnings
            .iter()
            .all(|w| !w.message.contains("unknown key")),
        "{:?}",
        c.warnings
    );
    let e = errs(json!({
        "baseUrl": "https://c.example", "authToken": "t", "userId": "u",
        "streaming": {"mode": "sometimes", "stallMs": 10},
        "accounts": {"b": {"streaming": {"placeholder": " "}}}
    }));
    for needle in [
        "streaming.mode: unknown value `sometimes`",
        "accounts.b.streaming.placeholder: must be a short text",
    ] {
        assert!(has(&e, needle), "{needle} not in {e:#?}");
    }
    let e = errs(json!({
        "baseUrl": "https://c.example", "authToken": "t", "userId": "u",
        "streaming": {"stallMs": 10}
    }));
    assert!(
        has(
            &e,
            "streaming.stallMs: must be a whole number of milliseconds from 5000"
        ),
        "{e:#?}"
    );
}
