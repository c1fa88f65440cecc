//! Uploads (`rooms.media` + `rooms.mediaConfirm`, legacy `rooms.upload`) and downloads
//! that send credentials only to the configured server's origin.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};
use url::Url;

use super::{read_limited, Call, CallBody, RestClient, RestError, Retry};

/// File content to upload.
pub enum UploadData {
    /// In memory; can be re-sent on retry.
    Bytes(Bytes),
    /// A stream (sent once; a retry that needs the body again fails).
    Stream {
        /// The body.
        body: reqwest::Body,
        /// Its length, when known.
        len: Option<u64>,
    },
}

impl std::fmt::Debug for UploadData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UploadData::Bytes(b) => write!(f, "UploadData::Bytes({} bytes)", b.len()),
            UploadData::Stream { len, .. } => write!(f, "UploadData::Stream({len:?})"),
        }
    }
}

impl UploadData {
    /// Wrap a stream of byte chunks.
    pub fn from_stream<S, E>(stream: S, len: Option<u64>) -> Self
    where
        S: futures_util::Stream<Item = Result<Bytes, E>> + Send + Sync + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        UploadData::Stream {
            body: reqwest::Body::wrap_stream(stream),
            len,
        }
    }
}

/// Caption, description and thread of an uploaded file's message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UploadOptions {
    /// Message text (caption).
    pub msg: Option<String>,
    /// Attachment description.
    pub description: Option<String>,
    /// Thread root id.
    pub tmid: Option<String>,
}

/// A downloaded file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Download {
    /// The content.
    pub bytes: Bytes,
    /// `Content-Type`, when sent.
    pub content_type: Option<String>,
    /// A safe file name (from `Content-Disposition` or the URL).
    pub file_name: String,
}

/// Builds the multipart form anew for each attempt.
type FormMaker = Box<dyn Fn() -> Result<Form, RestError> + Send + Sync>;

fn form_maker(
    file_name: &str,
    mime: &str,
    data: UploadData,
    fields: Vec<(&'static str, String)>,
) -> Result<FormMaker, RestError> {
    let file_name = sanitize_file_name(file_name);
    // validate once so a bad MIME type fails before any request
    Part::bytes(Vec::new())
        .mime_str(mime)
        .map_err(|_| RestError::Invalid(format!("invalid MIME type {mime:?}")))?;
    let mime = mime.to_owned();
    let stream = Arc::new(Mutex::new(None));
    let bytes = match data {
        UploadData::Bytes(b) => Some(b),
        UploadData::Stream { body, len } => {
            *stream.lock().unwrap_or_else(|e| e.into_inner()) = Some((body, len));
            None
        }
    };
    Ok(Box::new(move || {
        let part = match &bytes {
            Some(b) => Part::stream_with_length(reqwest::Body::from(b.clone()), b.len() as u64),
            None => {
                let taken = stream.lock().unwrap_or_else(|e| e.into_inner()).take();
                match taken {
                    Some((body, Some(len))) => Part::stream_with_length(body, len),
                    Some((body, None)) => Part::stream(body),
                    None => {
                        return Err(RestError::Invalid(
                            "upload stream already consumed; cannot retry".into(),
                        ))
                    }
                }
            }
        };
        let part = part
            .file_name(file_name.clone())
            .mime_str(&mime)
            .map_err(|_| RestError::Invalid("invalid MIME type".into()))?;
        let mut form = Form::new().part("file", part);
        for (k, v) in &fields {
            form = form.text(*k, v.clone());
        }
        Ok(form)
    }))
}

impl RestClient {
    /// `POST /api/v1/rooms.media/<rid>` (multipart field `file`): step 1 of an upload;
    /// returns the temporary file id.
    pub async fn upload_media(
        &self,
        rid: &str,
        file_name: &str,
        mime: &str,
        data: UploadData,
    ) -> Result<String, RestError> {
        let route = "POST /api/v1/rooms.media/:rid".to_owned();
        let call = Call {
            method: Method::POST,
            url: self.api_endpoint(&["rooms.media", rid]),
            route: route.clone(),
            query: vec![],
            body: CallBody::Form(form_maker(file_name, mime, data, vec![])?),
            auth: true,
            retry: Retry::Idempotent,
            timeout: Some(self.inner.opts.transfer_timeout),
        };
        let (_, body) = self.execute(call).await?;
        body.pointer("/file/_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or(RestError::Decode {
                route,
                message: "response has no file._id".into(),
            })
    }

    /// `POST /api/v1/rooms.mediaConfirm/<rid>/<fileId>`: step 2, posts the file message.
    /// Not idempotent (every call posts), so never retried on 5xx.
    pub async fn media_confirm(
        &self,
        rid: &str,
        file_id: &str,
        opts: &UploadOptions,
    ) -> Result<Value, RestError> {
        let mut body = serde_json::Map::new();
        if let Some(m) = &opts.msg {
            body.insert("msg".into(), json!(m));
        }
        if let Some(d) = &opts.description {
            body.insert("description".into(), json!(d));
        }
        if let Some(t) = &opts.tmid {
            body.insert("tmid".into(), json!(t));
        }
        let res = self
            .call_json(
                Method::POST,
                "rooms.mediaConfirm/:rid/:fileId",
                &["rooms.mediaConfirm", rid, file_id],
                vec![],
                Some(Value::Object(body)),
                Retry::Once,
            )
            .await?;
        message_of("POST /api/v1/rooms.mediaConfirm/:rid/:fileId", res)
    }

    /// `POST /api/v1/rooms.upload/<rid>`: the legacy one-step upload (removed in 8.0).
    pub async fn rooms_upload(
        &self,
        rid: &str,
        file_name: &str,
        mime: &str,
        data: UploadData,
        opts: &UploadOptions,
    ) -> Result<Value, RestError> {
        let mut fields = Vec::new();
        if let Some(m) = &opts.msg {
            fields.push(("msg", m.clone()));
        }
        if let Some(d) = &opts.description {
            fields.push(("description", d.clone()));
        }
        if let Some(t) = &opts.tmid {
            fields.push(("tmid", t.clone()));
        }
        let route = "POST /api/v1/rooms.upload/:rid".to_owned();
        let call = Call {
            method: Method::POST,
            url: self.api_endpoint(&["rooms.upload", rid]),
            route: route.clone(),
            query: vec![],
            body: CallBody::Form(form_maker(file_name, mime, data, fields)?),
            auth: true,
            retry: Retry::Once,
            timeout: Some(self.inner.opts.transfer_timeout),
        };
        let (_, body) = self.execute(call).await?;
        message_of(&route, body)
    }

    /// Upload a file and post it: `rooms.media` + `rooms.mediaConfirm`, falling back to
    /// `rooms.upload` when `rooms.media` answers 404 (servers before the two-step form).
    /// Runs in the room's send order. A stream body cannot be replayed for the fallback.
    pub async fn upload_file(
        &self,
        rid: &str,
        file_name: &str,
        mime: &str,
        data: UploadData,
        opts: &UploadOptions,
    ) -> Result<Value, RestError> {
        let mut ticket = self.room_ticket(rid);
        ticket.wait().await;
        let replay = match &data {
            UploadData::Bytes(b) => Some(b.clone()),
            UploadData::Stream { .. } => None,
        };
        match self.upload_media(rid, file_name, mime, data).await {
            Ok(file_id) => self.media_confirm(rid, &file_id, opts).await,
            Err(RestError::NotFound { .. }) if replay.is_some() => {
                tracing::info!("rooms.media not available; using legacy rooms.upload");
                let data = UploadData::Bytes(replay.expect("checked"));
                self.rooms_upload(rid, file_name, mime, data, opts).await
            }
            Err(e) => Err(e),
        }
    }

    /// Resolve a download URL: relative paths resolve against the server; absolute URLs
    /// must have the server's origin.
    pub fn resolve_download_url(&self, url_or_path: &str) -> Result<Url, RestError> {
        let site = self.site_url();
        let url = match Url::parse(url_or_path) {
            Ok(u) => u,
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                let path = url_or_path.trim_start_matches('/');
                site.join(path)
                    .map_err(|e| RestError::Invalid(format!("bad download path: {e}")))?
            }
            Err(e) => return Err(RestError::Invalid(format!("bad download URL: {e}"))),
        };
        if url.origin() != site.origin() {
            return Err(RestError::ForeignOrigin {
                origin: url.origin().ascii_serialization(),
            });
        }
        Ok(url)
    }

    /// Download a file from the server (credentials only go to the server's own origin;
    /// other origins are refused with [`RestError::ForeignOrigin`]). Streams the body and
    /// fails with [`RestError::TooLarge`] past `max_bytes`.
    pub async fn download(&self, url_or_path: &str, max_bytes: u64) -> Result<Download, RestError> {
        let url = self.resolve_download_url(url_or_path)?;
        let route = format!("GET {}", url.path());
        let call = Call {
            method: Method::GET,
            url: url.clone(),
            route: route.clone(),
            query: vec![],
            body: CallBody::Empty,
            auth: true,
            retry: Retry::Idempotent,
            timeout: Some(self.inner.opts.transfer_timeout),
        };
        let resp = self.execute_raw(&call).await?;
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let disposition = resp
            .headers()
            .get(reqwest::header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .and_then(file_name_from_disposition);
        let from_url = resp
            .url()
            .path_segments()
            .and_then(|mut s| s.next_back().map(percent_decode))
            .filter(|s| !s.is_empty());
        let bytes = read_limited(resp, &route, max_bytes).await?;
        Ok(Download {
            bytes,
            content_type,
            file_name: sanitize_file_name(&disposition.or(from_url).unwrap_or_default()),
        })
    }
}

fn message_of(route: &str, mut body: Value) -> Result<Value, RestError> {
    match body.get_mut("message").map(Value::take) {
        Some(m) if m.is_object() => Ok(m),
        _ => Err(RestError::Decode {
            route: route.to_owned(),
            message: "response has no message".into(),
        }),
    }
}

/// `filename*=UTF-8''…` (preferred) or `filename="…"`.
fn file_name_from_disposition(header: &str) -> Option<String> {
    let mut plain = None;
    for part in header.split(';') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("filename*=") {
            let v = v.trim_matches('"');
            let encoded = v.split_once("''").map_or(v, |(_, rest)| rest);
            return Some(percent_decode(encoded));
        }
        if let Some(v) = part.strip_prefix("filename=") {
            plain = Some(v.trim_matches('"').to_owned());
        }
    }
    plain
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Make a file name safe to store: no directories, no control or reserved characters,
/// no leading dots, at most 200 bytes; `"file"` when nothing is left.
pub fn sanitize_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let mut out: String = base
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') {
                '_'
            } else {
                c
            }
        })
        .collect();
    out = out.trim().trim_start_matches('.').trim().to_owned();
    if out.len() > 200 {
        let mut cut = 200;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    if out.is_empty() {
        "file".to_owned()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_file_names() {
        assert_eq!(sanitize_file_name("report.pdf"), "report.pdf");
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("C:\\x\\a:b?.txt"), "a_b_.txt");
        assert_eq!(sanitize_file_name("..."), "file");
        assert_eq!(sanitize_file_name(".bashrc"), "bashrc");
        assert_eq!(sanitize_file_name("a\u{0}b\nc"), "a_b_c");
        assert_eq!(sanitize_file_name(&"é".repeat(300)).len(), 200);
    }

    #[test]
    fn reads_content_disposition() {
        assert_eq!(
            file_name_from_disposition("attachment; filename*=UTF-8''r%C3%A9port%20q3.pdf")
                .as_deref(),
            Some("réport q3.pdf")
        );
        assert_eq!(
            file_name_from_disposition("inline; filename=\"a.png\"").as_deref(),
            Some("a.png")
        );
        assert_eq!(file_name_from_disposition("inline"), None);
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%4"), "%4");
    }
}
