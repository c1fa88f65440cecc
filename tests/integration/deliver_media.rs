//! Media replies against the simulator: caption and thread, the `mediaMaxMb` cap, several
//! files, and the 6.x and 8.x upload forms.

use crate::deliver_support;

use bytes::Bytes;
use deliver_support::*;
use openclaw_rocketchat::outbound::{DeliveryError, DeliverySettings, MediaFile};
use rocketchat_sim::{Fault, Profile};

fn png(len: usize) -> MediaFile {
    MediaFile {
        file_name: "chart.png".into(),
        mime: "image/png".into(),
        bytes: Bytes::from(vec![7u8; len]),
    }
}

async fn caption_and_thread(profile: Profile) {
    let s = sim(profile).await;
    let root = s.post("alice", GENERAL, "@mybot draw it").unwrap();
    let root_id = root["_id"].as_str().unwrap().to_owned();
    let d = deliverer(&s, DeliverySettings::default());
    let sent = d
        .send_media(
            GENERAL,
            Some(&root_id),
            png(2048),
            Some("Here is the chart"),
        )
        .await
        .expect("uploaded");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].file_name.as_deref(), Some("chart.png"));
    let msgs = bot_messages(&s, GENERAL);
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    let m = &msgs[0];
    assert_eq!(m["_id"].as_str(), Some(sent[0].id.as_str()));
    assert_eq!(m["msg"], "Here is the chart", "{m}");
    assert_eq!(m["tmid"], root_id.as_str(), "{m}");
    assert_eq!(m["file"]["name"], "chart.png", "{m}");
}

#[tokio::test]
async fn a_file_lands_with_caption_and_thread_on_8x_two_step() {
    caption_and_thread(Profile::V8).await;
}

#[tokio::test]
async fn a_file_lands_with_caption_and_thread_on_6x() {
    caption_and_thread(Profile::V6).await;
}

#[tokio::test]
async fn without_the_two_step_form_6x_falls_back_to_rooms_upload() {
    let s = sim(Profile::V6).await;
    s.faults().inject(Fault::HttpStatus {
        route: format!("/api/v1/rooms.media/{GENERAL}"),
        status: 404,
        count: 1,
    });
    let d = deliverer(&s, DeliverySettings::default());
    d.send_media(GENERAL, None, png(64), Some("legacy"))
        .await
        .expect("uploaded with rooms.upload");
    let route = format!("/api/v1/rooms.media/{GENERAL}");
    assert_eq!(
        s.faults().take_http(&route),
        None,
        "rooms.media answered 404"
    );
    let msgs = bot_messages(&s, GENERAL);
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["msg"], "legacy");
    assert_eq!(msgs[0]["file"]["name"], "chart.png");
}

#[tokio::test]
async fn over_the_cap_is_refused_before_any_upload() {
    let s = sim(Profile::V8).await;
    let mut settings = DeliverySettings {
        media_max_bytes: 1000,
        ..Default::default()
    };
    settings.room_media_max_bytes.insert(OPS.into(), 5000);
    let d = deliverer(&s, settings);
    let err = d
        .send_media_group(GENERAL, None, vec![png(10), png(1001)], Some("two"))
        .await
        .unwrap_err();
    match &err {
        DeliveryError::MediaTooLarge { size, limit, .. } => {
            assert_eq!((*size, *limit), (1001, 1000));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("nothing was uploaded"), "{err}");
    assert!(bot_messages(&s, GENERAL).is_empty());
    // The room override allows it in OPS.
    d.send_media(OPS, None, png(1001), None)
        .await
        .expect("room cap");
    assert_eq!(bot_messages(&s, OPS).len(), 1);
}

#[tokio::test]
async fn several_files_one_message_each_caption_on_the_first() {
    let s = sim(Profile::V8).await;
    let d = deliverer(
        &s,
        DeliverySettings {
            response_prefix: Some("[bot]".into()),
            ..Default::default()
        },
    );
    let mut second = png(20);
    second.file_name = "second.txt".into();
    second.mime = "text/plain".into();
    let sent = d
        .send_media_group(OPS, None, vec![png(10), second], Some("Both files"))
        .await
        .unwrap();
    assert_eq!(sent.len(), 2);
    let msgs = bot_messages(&s, OPS);
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0]["msg"], "[bot] Both files");
    assert_eq!(msgs[0]["file"]["name"], "chart.png");
    assert_eq!(msgs[1]["msg"], "");
    assert_eq!(msgs[1]["file"]["name"], "second.txt");
}

#[tokio::test]
async fn a_long_caption_continues_as_text_after_the_file() {
    let s = sim(Profile::V8).await;
    let d = deliverer(
        &s,
        DeliverySettings {
            text_chunk_limit: 40,
            ..Default::default()
        },
    );
    let caption = "A caption that is far too long for one forty-unit message.";
    let sent = d
        .send_media(GENERAL, None, png(10), Some(caption))
        .await
        .unwrap();
    assert!(sent.len() >= 2);
    assert!(sent[0].file_name.is_some() && sent[1].file_name.is_none());
    let texts = bot_texts(&s, GENERAL);
    assert_eq!(essence(&texts.join(" ")), essence(caption));
}
