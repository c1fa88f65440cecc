//! Uploads (two-step and legacy), confirm rules, and protected downloads with each auth mode.

use crate::rest_support;

use reqwest::multipart::{Form, Part};
use reqwest::Method;
use rest_support::*;
use rocketchat_sim::{Profile, Settings};
use serde_json::json;

fn pdf_form(field: &str, bytes: Vec<u8>) -> Form {
    Form::new().part(
        field.to_owned(),
        Part::bytes(bytes)
            .file_name("report.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    )
}

async fn media(s: &Sim, rid: &str, form: Form) -> Reply {
    reply(
        s.req(
            Method::POST,
            &format!("/api/v1/rooms.media/{rid}"),
            Some((BOT_ID, BOT_TOKEN)),
        )
        .multipart(form)
        .send()
        .await
        .unwrap(),
    )
    .await
}

#[tokio::test]
async fn upload_confirm_download() {
    let s = start(Profile::V8).await;
    let content = b"%PDF-1.4 quarterly".to_vec();
    let r = media(&s, "GENERAL", pdf_form("file", content.clone())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let file_id = r.body["file"]["_id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.body["file"]["url"],
        format!("/file-upload/{file_id}/report.pdf")
    );
    assert!(
        s.sim.messages_in("GENERAL").is_empty(),
        "no message before the confirm"
    );

    let confirm = format!("/api/v1/rooms.mediaConfirm/GENERAL/{file_id}");
    let r = s
        .bot_post(&confirm, &json!({"msg": "", "description": "Q3 report"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let m = &r.body["message"];
    let want = &vector("rooms_mediaConfirm_step2")["response"]["body"]["message"];
    assert_eq!(m["file"]["name"], want["file"]["name"]);
    assert_eq!(m["file"]["type"], want["file"]["type"]);
    assert_eq!(m["files"][0]["_id"], file_id.as_str());
    let a = &m["attachments"][0];
    for k in [
        "title",
        "type",
        "format",
        "description",
        "title_link_download",
    ] {
        assert_eq!(a[k], want["attachments"][0][k], "{k}");
    }
    assert!(a["ts"].is_string());
    let link = a["title_link"].as_str().unwrap().to_owned();

    // Not idempotent: a second confirm posts a second message.
    let r = s.bot_post(&confirm, &json!({"msg": "again"})).await;
    assert_eq!(r.status, 200);
    assert_eq!(s.sim.messages_in("GENERAL").len(), 2);

    // Match rules: unknown keys and nulls.
    let r = s
        .bot_post(&confirm, &json!({"msg": "", "tmid": null}))
        .await;
    assert_eq!(
        r.body,
        json!({"success": false, "error": "Match error: Expected string, got null in field tmid"})
    );
    let r = s.bot_post(&confirm, &json!({"caption": "x"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"], "Match error: Unknown key in field caption");
    let r = s
        .bot_post("/api/v1/rooms.mediaConfirm/GENERAL/nope", &json!({}))
        .await;
    assert_eq!(r.body["errorType"], "invalid-file");

    // Downloads: headers, cookies, query; 403 without; 404 for unknown ids.
    let check = |r: Reply| {
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("application/pdf"));
        assert_eq!(
            r.header("content-disposition"),
            Some("attachment; filename*=UTF-8''report.pdf")
        );
        assert_eq!(
            r.header("content-length"),
            Some(content.len().to_string().as_str())
        );
    };
    let raw = |b: reqwest::RequestBuilder| async move { b.send().await.unwrap() };
    let res = raw(s.req(Method::GET, &link, Some((BOT_ID, BOT_TOKEN)))).await;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    assert_eq!(res.bytes().await.unwrap().as_ref(), content.as_slice());
    check(Reply {
        status,
        headers,
        body: serde_json::Value::Null,
    });
    check(
        reply(
            raw(s.req(Method::GET, &link, None).header(
                "Cookie",
                format!("rc_uid={ALICE_ID}; rc_token={ALICE_TOKEN}"),
            ))
            .await,
        )
        .await,
    );
    check(
        reply(
            raw(s.req(
                Method::GET,
                &format!("{link}?rc_uid={BOT_ID}&rc_token={BOT_TOKEN}"),
                None,
            ))
            .await,
        )
        .await,
    );
    let res = raw(s.req(Method::GET, &link, None)).await;
    assert_eq!(res.status().as_u16(), 403);
    assert!(res.bytes().await.unwrap().is_empty());
    let res = raw(s.req(
        Method::GET,
        &format!("{link}?rc_uid={BOT_ID}&rc_token=bad"),
        None,
    ))
    .await;
    assert_eq!(res.status().as_u16(), 403);
    let res = raw(s.req(
        Method::GET,
        "/file-upload/nope/x.pdf",
        Some((BOT_ID, BOT_TOKEN)),
    ))
    .await;
    assert_eq!(res.status().as_u16(), 404);
}

#[tokio::test]
async fn upload_errors() {
    let settings = Settings {
        file_upload_max_size: 1024,
        ..Settings::default()
    };
    let s = start_with(Profile::V8, settings).await;
    let r = media(&s, "GENERAL", pdf_form("file", vec![0u8; 4096])).await;
    assert_eq!(r.body, vector("rooms_media_too_large")["response"]["body"]);
    let r = media(&s, "GENERAL", pdf_form("upload", vec![1, 2, 3])).await;
    assert_eq!(
        r.body,
        json!({"success": false, "error": "[invalid-field]", "errorType": "invalid-field"})
    );
    let r = reply(
        s.req(
            Method::POST,
            &format!("/api/v1/rooms.media/{OPS}"),
            Some((BOB_ID, BOB_TOKEN)),
        )
        .multipart(pdf_form("file", vec![1]))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (r.status, &r.body),
        (403, &json!({"success": false, "error": "unauthorized"}))
    );
}

#[tokio::test]
async fn rooms_upload_exists_only_before_8() {
    let form = || {
        pdf_form("file", b"%PDF".to_vec())
            .text("msg", "see attached")
            .text("description", "Q3 report")
    };
    let v8 = start(Profile::V8).await;
    let r = reply(
        v8.req(
            Method::POST,
            "/api/v1/rooms.upload/GENERAL",
            Some((BOT_ID, BOT_TOKEN)),
        )
        .multipart(form())
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (r.status, &r.body),
        (
            404,
            &json!({"success": false, "error": "Resource not found"})
        )
    );

    let v6 = start(Profile::V6).await;
    let r = reply(
        v6.req(
            Method::POST,
            "/api/v1/rooms.upload/GENERAL",
            Some((BOT_ID, BOT_TOKEN)),
        )
        .multipart(form())
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["message"]["msg"], "see attached");
    assert_eq!(
        r.body["message"]["attachments"][0]["description"],
        "Q3 report"
    );
    assert_eq!(r.header("x-deprecation-version"), Some("8.0.0"));
    assert!(r.header("x-deprecation-type").is_some());
}
