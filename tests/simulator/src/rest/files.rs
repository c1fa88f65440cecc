//! Files (§4.4): two-step `rooms.media` + `rooms.mediaConfirm`, the legacy one-step
//! `rooms.upload` (6.x/7.x only), and protected downloads under `/file-upload`.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::auth::{header_user, parse_query, Auth, JsonBody};
use super::envelope::{ok, Fail, Reply};
use crate::server::AppState;
use crate::store::{render, urlencode, ApiError};
use crate::time::DateForm;

/// A Meteor.Error with a code and no reason (`"[invalid-field]"`).
fn bare(code: &str) -> Fail {
    Fail::Api(ApiError {
        code: code.into(),
        reason: None,
        details: None,
        plain: false,
    })
}

/// The file part of a multipart upload and the other (text) fields.
struct Form {
    name: String,
    mime: String,
    bytes: Vec<u8>,
    fields: HashMap<String, String>,
}

/// A MIME type for a name when the client sent none (or the generic one).
fn guess_mime(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("svg") => "image/svg+xml",
        Some("pdf") => "application/pdf",
        Some("txt" | "log") => "text/plain",
        Some("json") => "application/json",
        Some("mp3") => "audio/mpeg",
        Some("ogg") => "audio/ogg",
        Some("mp4") => "video/mp4",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    }
}

/// Read a multipart upload as `getUploadFormData` does: the file part must be named `file`,
/// other parts are fields. Oversize files are read to the end (so the client sees the answer
/// rather than a reset) and refused.
async fn read_form(
    state: &AppState,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Form, Fail> {
    let mut mp = mp.map_err(|_| bare("invalid-field"))?;
    let max = state.store.settings.file_upload_max_size;
    let mut file: Option<(String, String, Vec<u8>)> = None;
    let mut fields = HashMap::new();
    let mut too_large = false;
    while let Some(mut field) = mp.next_field().await.map_err(|_| bare("invalid-field"))? {
        let field_name = field.name().unwrap_or_default().to_owned();
        let Some(file_name) = field.file_name().map(str::to_owned) else {
            let text = field.text().await.map_err(|_| bare("invalid-field"))?;
            fields.insert(field_name, text);
            continue;
        };
        if field_name != "file" || file.is_some() {
            return Err(bare("invalid-field"));
        }
        let mime = field
            .content_type()
            .filter(|m| *m != "application/octet-stream")
            .map(str::to_owned)
            .unwrap_or_else(|| guess_mime(&file_name).to_owned());
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|_| bare("invalid-field"))? {
            if bytes.len() + chunk.len() > max {
                too_large = true;
                bytes.clear();
            }
            if !too_large {
                bytes.extend_from_slice(&chunk);
            }
        }
        file = Some((file_name, mime, bytes));
    }
    if too_large {
        return Err(Fail::meteor(
            "error-file-too-large",
            "File size exceeds the allowed limit",
        ));
    }
    let (name, mime, bytes) = file.ok_or_else(|| bare("invalid-field"))?;
    Ok(Form {
        name,
        mime,
        bytes,
        fields,
    })
}

/// `POST /api/v1/rooms.media/<rid>`: a temporary upload, no message yet.
pub async fn media(
    State(state): State<AppState>,
    auth: Auth,
    Path(rid): Path<String>,
    mp: Result<Multipart, MultipartRejection>,
) -> Reply {
    if !state.store.can_access(&rid, &auth.user.id) {
        return Err(Fail::Forbidden);
    }
    let form = read_form(&state, mp).await?;
    let up = state
        .store
        .add_upload(&auth.user.id, &rid, &form.name, &form.mime, form.bytes)?;
    Ok(ok(json!({
        "file": {"_id": up.id, "url": format!("/file-upload/{}/{}", up.id, urlencode(&up.name))}
    })))
}

/// Keys `rooms.mediaConfirm` accepts and the type each must have (its Match pattern).
const CONFIRM_KEYS: &[(&str, &str)] = &[
    ("msg", "string"),
    ("description", "string"),
    ("tmid", "string"),
    ("alias", "string"),
    ("emoji", "string"),
    ("avatar", "string"),
    ("groupable", "boolean"),
    ("customFields", "string"),
    ("t", "string"),
    ("content", "object"),
];

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `POST /api/v1/rooms.mediaConfirm/<rid>/<fileId>`: posts the file message. Not idempotent.
pub async fn media_confirm(
    State(state): State<AppState>,
    auth: Auth,
    Path((rid, file_id)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Reply {
    for (k, v) in &body {
        let Some((_, want)) = CONFIRM_KEYS.iter().find(|(key, _)| key == k) else {
            return Err(Fail::Api(ApiError::plain(&format!(
                "Match error: Unknown key in field {k}"
            ))));
        };
        let got = json_type(v);
        if got != *want {
            return Err(Fail::Api(ApiError::plain(&format!(
                "Match error: Expected {want}, got {got} in field {k}"
            ))));
        }
    }
    if !state.store.can_access(&rid, &auth.user.id) {
        return Err(Fail::Forbidden);
    }
    if state
        .store
        .upload(&file_id)
        .is_none_or(|u| u.user_id != auth.user.id)
    {
        return Err(Fail::meteor("invalid-file", "Invalid file"));
    }
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let doc = state.store.confirm_upload(
        &auth.user.id,
        &rid,
        &file_id,
        s("msg"),
        s("description"),
        s("tmid"),
    )?;
    Ok(ok(json!({"message": render(&doc, DateForm::Iso)})))
}

/// `POST /api/v1/rooms.upload/<rid>`: upload and post in one step. Only routed for profiles
/// that still have it (gone in 8.0: 404); those mark it deprecated in headers.
pub async fn upload(
    State(state): State<AppState>,
    auth: Auth,
    Path(rid): Path<String>,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, Fail> {
    if !state.store.can_access(&rid, &auth.user.id) {
        return Err(Fail::Forbidden);
    }
    let form = read_form(&state, mp).await?;
    let field = |k: &str| form.fields.get(k).filter(|v| !v.is_empty()).cloned();
    let up = state.store.add_upload(
        &auth.user.id,
        &rid,
        &form.name,
        &form.mime,
        form.bytes.clone(),
    )?;
    let doc = state.store.confirm_upload(
        &auth.user.id,
        &rid,
        &up.id,
        field("msg"),
        field("description"),
        field("tmid"),
    )?;
    let mut res = ok(json!({"message": render(&doc, DateForm::Iso)})).into_response();
    let h = res.headers_mut();
    h.insert(
        "x-deprecation-type",
        HeaderValue::from_static("endpoint-deprecation"),
    );
    h.insert(
        "x-deprecation-message",
        HeaderValue::from_static(
            "The endpoint \"rooms.upload\" is deprecated and will be removed on version 8.0.0",
        ),
    );
    h.insert("x-deprecation-version", HeaderValue::from_static("8.0.0"));
    Ok(res)
}

/// `rc_uid`/`rc_token` from the `Cookie` header.
fn cookie_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let mut uid = None;
    let mut token = None;
    for cookie in headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
    {
        match cookie.trim().split_once('=') {
            Some(("rc_uid", v)) => uid = Some(v.to_owned()),
            Some(("rc_token", v)) => token = Some(v.to_owned()),
            _ => {}
        }
    }
    Some((uid?, token?))
}

fn empty(status: StatusCode) -> Response {
    Response::builder()
        .status(status)
        .body(Body::empty())
        .expect("valid response")
}

/// `GET /file-upload/<fileId>/<name>` with `FileUpload_ProtectFiles` on: auth by headers,
/// `rc_uid`/`rc_token` cookies or query; 403 with an empty body otherwise, 404 for unknown ids.
pub async fn download(
    State(state): State<AppState>,
    Path((file_id, _name)): Path<(String, String)>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let query = parse_query(uri.query().unwrap_or(""));
    let by_query = match (query.get("rc_uid"), query.get("rc_token")) {
        (Some(u), Some(t)) => Some((u.clone(), t.clone())),
        _ => None,
    };
    let authed = header_user(&state, &headers).is_some()
        || [cookie_auth(&headers), by_query]
            .into_iter()
            .flatten()
            .any(|(uid, token)| state.store.authenticate(&uid, &token).is_some());
    if !authed {
        return empty(StatusCode::FORBIDDEN);
    }
    let Some(up) = state.store.upload(&file_id) else {
        return empty(StatusCode::NOT_FOUND);
    };
    let mut res = Response::new(Body::from(up.bytes.as_ref().clone()));
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&up.mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename*=UTF-8''{}",
        urlencode(&up.name)
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(up.bytes.len()));
    res
}
