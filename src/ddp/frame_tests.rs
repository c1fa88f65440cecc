use super::*;

fn vectors() -> Value {
    let text = include_str!("testdata/vectors-ddp.json");
    serde_json::from_str(text).expect("vectors.json parses")
}

/// Every `{dir, frame}` entry under `ddp.session_*` and `ddp.errors`.
fn session_frames(v: &Value) -> Vec<(String, Value)> {
    let ddp = &v["ddp"];
    let mut out = Vec::new();
    let mut push_list = |list: &Value| {
        for entry in list.as_array().expect("a list of frames") {
            out.push((
                entry["dir"].as_str().expect("dir").to_owned(),
                entry["frame"].clone(),
            ));
        }
    };
    for (key, list) in ddp.as_object().expect("ddp object") {
        if key.starts_with("session_") {
            push_list(list);
        }
    }
    for list in ddp["errors"].as_object().expect("errors").values() {
        push_list(list);
    }
    out
}

#[test]
fn every_server_frame_in_the_vectors_parses() {
    let v = vectors();
    let mut n = 0;
    for (dir, frame) in session_frames(&v) {
        if dir == "s2c" {
            let text = frame.to_string();
            let parsed = ServerFrame::parse(&text);
            assert!(parsed.is_ok(), "{text}: {parsed:?}");
            assert!(!matches!(parsed, Ok(ServerFrame::Unknown { .. })), "{text}");
            n += 1;
        }
    }
    for (name, entry) in v["ddp"]["stream_events"].as_object().expect("streams") {
        let frames = match entry {
            Value::Array(list) => list.iter().map(|e| e["frame"].clone()).collect(),
            other => vec![other.clone()],
        };
        for frame in frames {
            let parsed = ServerFrame::from_value(&frame);
            assert!(parsed.is_ok(), "{name}: {parsed:?}");
            n += 1;
        }
    }
    assert!(n > 40, "only {n} server frames found");
}

#[test]
fn client_frames_in_the_vectors_round_trip() {
    let v = vectors();
    let mut ours = 0;
    for (dir, frame) in session_frames(&v) {
        if dir != "c2s" {
            continue;
        }
        match ClientFrame::from_value(&frame) {
            Ok(parsed) => {
                assert_eq!(parsed.to_value(), frame, "round trip of {frame}");
                let reparsed: Value = serde_json::from_str(&parsed.to_text()).expect("json");
                assert_eq!(reparsed, frame);
                ours += 1;
            }
            // The vectors also show frames a broken client sends (`"not json"`, numeric
            // method id, `{"msg":"bogus"}`); those must be refused, not mangled.
            Err(_) => assert!(
                frame.is_string()
                    || frame["msg"] == "bogus"
                    || (frame["msg"] == "method" && !frame["id"].is_string()),
                "unexpected refusal of {frame}"
            ),
        }
    }
    assert!(ours >= 15, "only {ours} client frames round-tripped");
}

#[test]
fn connect_frame_is_the_meteor_one() {
    assert_eq!(
        ClientFrame::connect().to_value(),
        json!({"msg":"connect","version":"1","support":["1","pre2","pre1"]})
    );
    assert_eq!(
        ClientFrame::Pong { id: None }.to_text(),
        r#"{"msg":"pong"}"#.to_owned()
    );
}

#[test]
fn greetings_are_server_id() {
    assert_eq!(
        ServerFrame::parse(r#"{"server_id":"0"}"#),
        Ok(ServerFrame::ServerId)
    );
    assert_eq!(
        ServerFrame::parse(r#"{"msg":"server_id","server_id":"0"}"#),
        Ok(ServerFrame::ServerId)
    );
}

#[test]
fn result_without_result_key_is_none_and_null_is_some() {
    assert_eq!(
        ServerFrame::parse(r#"{"msg":"result","id":"5"}"#),
        Ok(ServerFrame::Result {
            id: "5".into(),
            result: None,
            error: None
        })
    );
    assert_eq!(
        ServerFrame::parse(r#"{"msg":"result","id":"5","result":null}"#),
        Ok(ServerFrame::Result {
            id: "5".into(),
            result: Some(Value::Null),
            error: None
        })
    );
}

#[test]
fn meteor_errors_parse_with_both_code_kinds() {
    let frame = ServerFrame::parse(
        r#"{"msg":"result","id":"1","error":{"isClientSafe":true,"error":403,"reason":"nope","message":"nope [403]","errorType":"Meteor.Error"}}"#,
    )
    .expect("parses");
    let ServerFrame::Result { error: Some(e), .. } = frame else {
        panic!("no error in {frame:?}")
    };
    assert!(e.is_code(403));
    assert_eq!(e.to_string(), "nope [403]");
    let e = DdpError::from_value(
        &json!({"error":"too-many-requests","details":{"timeToReset":6512}}),
        "result",
    )
    .expect("parses");
    assert!(e.is_text_code("too-many-requests"));
    assert_eq!(e.time_to_reset_ms(), Some(6512));
    assert_eq!(e.to_string(), "[too-many-requests]");
    assert_eq!(DdpError::from_value(&e.to_value(), "result"), Ok(e));
}

#[test]
fn malformed_frames_give_errors_not_panics() {
    let cases = [
        ("{not json", "not valid JSON"),
        ("[1,2]", "not a JSON object"),
        ("42", "not a JSON object"),
        (r#"{"foo":1}"#, "no `msg`"),
        (r#"{"msg":7}"#, "`msg` should be"),
        (r#"{"msg":"connected"}"#, "no `session`"),
        (r#"{"msg":"result","id":5}"#, "`id` should be a string"),
        (r#"{"msg":"result","id":"5","error":"boom"}"#, "`error`"),
        (
            r#"{"msg":"result","id":"5","error":{"error":[1]}}"#,
            "error.error",
        ),
        (r#"{"msg":"ready","subs":"2"}"#, "array of strings"),
        (r#"{"msg":"ready","subs":[2]}"#, "array of strings"),
        (r#"{"msg":"updated"}"#, "no `methods`"),
        (
            r#"{"msg":"changed","collection":"c","id":"i","fields":[]}"#,
            "`fields`",
        ),
        (r#"{"msg":"ping","id":{}}"#, "`id`"),
    ];
    for (text, expected) in cases {
        let err = ServerFrame::parse(text).expect_err(text);
        assert!(err.to_string().contains(expected), "{text}: {err}");
    }
}

#[test]
fn unknown_msg_is_tolerated() {
    assert_eq!(
        ServerFrame::parse(r#"{"msg":"something-new","x":1}"#),
        Ok(ServerFrame::Unknown {
            msg: "something-new".into()
        })
    );
}

#[test]
fn ejson_dates() {
    assert_eq!(
        ejson::date(1763980801000),
        json!({"$date": 1763980801000_i64})
    );
    assert_eq!(
        ejson::date_ms(&json!({"$date": 1763980801000_i64})),
        Some(1763980801000)
    );
    assert_eq!(ejson::date_ms(&json!({"$date": 1.5e3})), Some(1500));
    assert_eq!(ejson::date_ms(&json!({"$date": "x"})), None);
    assert_eq!(ejson::date_ms(&json!({"$date": 1, "b": 2})), None);
    assert_eq!(ejson::date_ms(&json!("2025-11-24T10:40:00.000Z")), None);
    for ms in [0_i64, -1, 1763980800000, i64::from(i32::MAX) * 1000] {
        assert_eq!(ejson::date_ms(&ejson::date(ms)), Some(ms));
    }
}

#[test]
fn method_error_codes_are_shown_once() {
    let err = |reason: &str| DdpError {
        error: ErrorCode::Text("error-invalid-message".into()),
        reason: Some(reason.into()),
        message: None,
        error_type: None,
        details: None,
    };
    assert_eq!(
        err("Invalid message [error-invalid-message]").to_string(),
        "Invalid message [error-invalid-message]"
    );
    assert_eq!(
        err("Invalid message").to_string(),
        "Invalid message [error-invalid-message]"
    );
}

#[test]
fn an_offending_message_is_summarised_without_its_params() {
    let login = json!({"msg": "method", "method": "login", "id": "7",
                       "params": [{"resume": "resume-token-secret"}]});
    assert_eq!(offending_summary(&login), "method login (id 7)");
    let sub = json!({"msg": "sub", "name": "stream-room-messages", "id": "s1", "params": ["x"]});
    assert_eq!(offending_summary(&sub), "sub stream-room-messages (id s1)");
    assert_eq!(offending_summary(&json!([1])), "a frame without msg");
}
