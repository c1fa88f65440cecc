//! Media replies: one file message per file, the reply text as the first file's caption
//! (as the original plugin and OpenClaw's media payloads do).
//!
//! Every file is checked against `mediaMaxMb` (per room) before anything is uploaded, so
//! an oversized file fails the whole batch with [`DeliveryError::MediaTooLarge`] and the
//! room sees nothing. Uploads use [`RestClient::upload_file`](crate::rest::RestClient::upload_file):
//! `rooms.media` + `rooms.mediaConfirm` (6.10+, the only form on 8.x), falling back to
//! the legacy `rooms.upload` where the two-step form answers 404.
//!
//! The caption is shaped like a text reply (prefix, tables, chunking): its first chunk
//! is the first file's caption, any further chunks follow the files as text messages.

use crate::rest::{UploadData, UploadOptions};

use super::deliver::{message_id, Deliverer, DeliveryError, MediaFile, SentMessage};

impl Deliverer {
    /// Send one file to room `rid` (thread `thread_id`) with an optional caption.
    pub async fn send_media(
        &self,
        rid: &str,
        thread_id: Option<&str>,
        file: MediaFile,
        caption: Option<&str>,
    ) -> Result<Vec<SentMessage>, DeliveryError> {
        self.send_media_group(rid, thread_id, vec![file], caption)
            .await
    }

    /// Send several files, one message each, in order; the caption goes on the first.
    /// Without files this is [`Deliverer::send_reply`] of the caption.
    pub async fn send_media_group(
        &self,
        rid: &str,
        thread_id: Option<&str>,
        files: Vec<MediaFile>,
        caption: Option<&str>,
    ) -> Result<Vec<SentMessage>, DeliveryError> {
        let settings = self.settings();
        let limit = settings.media_max_bytes_in(rid);
        if let Some(f) = files.iter().find(|f| f.bytes.len() as u64 > limit) {
            return Err(DeliveryError::MediaTooLarge {
                room_id: rid.to_owned(),
                file_name: f.file_name.clone(),
                size: f.bytes.len() as u64,
                limit,
            });
        }
        if files.is_empty() {
            return self
                .send_reply(rid, thread_id, caption.unwrap_or_default())
                .await;
        }
        let typing = self.inner.typing.start(rid, thread_id);
        let mut captions = caption.map(|c| settings.shape(c)).unwrap_or_default();
        let rest_of_caption = if captions.is_empty() {
            Vec::new()
        } else {
            captions.split_off(1)
        };
        let mut first_caption = captions.pop();
        let total = files.len() + rest_of_caption.len();
        let mut sent = Vec::with_capacity(total);
        let mut outcome = Ok(());
        for file in files {
            let opts = UploadOptions {
                msg: first_caption.take(),
                description: None,
                tmid: thread_id.map(str::to_owned),
            };
            let res = self
                .rest()
                .upload_file(
                    rid,
                    &file.file_name,
                    &file.mime,
                    UploadData::Bytes(file.bytes),
                    &opts,
                )
                .await;
            match res {
                Ok(msg) => sent.push(SentMessage {
                    id: message_id(&msg),
                    room_id: rid.to_owned(),
                    thread_id: thread_id.map(str::to_owned),
                    text: opts.msg.unwrap_or_default(),
                    file_name: Some(file.file_name),
                }),
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        if outcome.is_ok() {
            for text in rest_of_caption {
                match self.post_text(rid, thread_id, &text).await {
                    Ok(m) => sent.push(m),
                    Err(e) => {
                        outcome = Err(e);
                        break;
                    }
                }
            }
        }
        typing.stop().await;
        match outcome {
            Ok(()) => {
                self.report_sent(&sent);
                Ok(sent)
            }
            Err(source) => Err(self.failed(rid, sent, Some(total), source)),
        }
    }
}
