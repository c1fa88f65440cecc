//! File uploads and the file messages that confirm them.

use std::sync::Arc;

use serde_json::{json, Value};

use super::{urlencode, ApiError, NewMessage, Store, Upload};
use crate::ids::random_id;
use crate::time::now_ms;

impl Store {
    /// Store an upload (temporary until confirmed). Checks access and size.
    pub fn add_upload(
        &self,
        user_id: &str,
        rid: &str,
        name: &str,
        mime: &str,
        bytes: Vec<u8>,
    ) -> Result<Upload, ApiError> {
        if !self.can_access(rid, user_id) {
            return Err(ApiError::plain("unauthorized"));
        }
        if bytes.len() > self.settings.file_upload_max_size {
            return Err(ApiError::new(
                "error-file-too-large",
                "File size exceeds the allowed limit",
            ));
        }
        let up = Upload {
            id: random_id(),
            rid: rid.into(),
            user_id: user_id.into(),
            name: name.into(),
            mime: mime.into(),
            bytes: Arc::new(bytes),
            confirmed: false,
        };
        self.lock().uploads.insert(up.id.clone(), up.clone());
        Ok(up)
    }

    /// An upload by id.
    pub fn upload(&self, file_id: &str) -> Option<Upload> {
        self.lock().uploads.get(file_id).cloned()
    }

    /// Post the file message for an upload (`rooms.mediaConfirm`, or the second half of
    /// `rooms.upload`). Not idempotent: every call posts a new message, as the real server.
    pub fn confirm_upload(
        &self,
        user_id: &str,
        rid: &str,
        file_id: &str,
        msg: Option<String>,
        description: Option<String>,
        tmid: Option<String>,
    ) -> Result<Value, ApiError> {
        let up = self
            .upload(file_id)
            .filter(|u| u.rid == rid)
            .ok_or_else(|| ApiError::new("invalid-file", "Invalid file"))?;
        let now = now_ms();
        let ext = up
            .name
            .rsplit_once('.')
            .map(|(_, e)| e)
            .unwrap_or("")
            .to_owned();
        let file = json!({"_id": up.id, "name": up.name, "type": up.mime, "size": up.bytes.len(), "format": ext});
        let link = format!("/file-upload/{}/{}", up.id, urlencode(&up.name));
        let mut attachment = json!({
            "title": up.name,
            "type": "file",
            "title_link": link,
            "title_link_download": true,
            "fileId": up.id,
            "ts": {"$date": now},
        });
        if let Some(d) = &description {
            attachment["description"] = json!(d);
        }
        let kind = up.mime.split('/').next().unwrap_or("");
        match kind {
            "image" => {
                attachment["image_url"] = json!(link);
                attachment["image_type"] = json!(up.mime);
                attachment["image_size"] = json!(up.bytes.len());
            }
            "audio" | "video" => {
                attachment[format!("{kind}_url")] = json!(link);
                attachment[format!("{kind}_type")] = json!(up.mime);
                attachment[format!("{kind}_size")] = json!(up.bytes.len());
            }
            _ => {
                attachment["format"] = json!(ext.to_uppercase());
                attachment["size"] = json!(up.bytes.len());
            }
        }
        let doc = self.send_message(
            user_id,
            NewMessage {
                rid: rid.into(),
                msg: msg.unwrap_or_default(),
                tmid,
                attachments: Some(json!([attachment])),
                extra: Some(json!({"file": file, "files": [file], "groupable": false})),
                ..Default::default()
            },
        )?;
        if let Some(u) = self.lock().uploads.get_mut(file_id) {
            u.confirmed = true;
        }
        Ok(doc)
    }
}
