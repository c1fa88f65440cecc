//! Response envelopes (ROCKETCHAT.md §4.1): `success: true` on success, and the failure bodies
//! with the status mapping of each version profile.
//!
//! Handlers return [`Fail`] without knowing the profile; [`finish`] renders it, because the
//! 401/403 shapes differ between versions and only the middleware has the state at hand.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::profile::Profile;
use crate::server::AppState;
use crate::store::ApiError;

/// What a REST handler returns.
pub type Reply = Result<Json<Value>, Fail>;

/// A failed REST call, rendered per profile by [`finish`].
#[derive(Clone, Debug)]
pub enum Fail {
    /// No valid `X-User-Id`/`X-Auth-Token` on an authenticated route: 401.
    NotLoggedIn,
    /// `API.v1.forbidden()`: 403.
    Forbidden,
    /// `API.v1.notFound()` and unknown routes: 404.
    NotFound,
    /// A Meteor.Error or a plain `Error` thrown by the handler.
    Api(ApiError),
    /// `API.v1.failure(error, errorType?)`: 400 with the text as given (no `" [code]"` suffix).
    Failure {
        /// `error`.
        error: String,
        /// `errorType`.
        error_type: Option<String>,
    },
    /// A body the handler built itself (login failures), with its status.
    Raw(StatusCode, Value),
}

impl Fail {
    /// `API.v1.failure("text")`.
    pub fn text(error: impl Into<String>) -> Self {
        Fail::Failure {
            error: error.into(),
            error_type: None,
        }
    }

    /// `API.v1.failure(error, errorType)`.
    pub fn typed(error: impl Into<String>, error_type: &str) -> Self {
        Fail::Failure {
            error: error.into(),
            error_type: Some(error_type.into()),
        }
    }

    /// A Meteor.Error with a reason: `"<reason> [<code>]"`, `errorType: <code>`.
    pub fn meteor(code: &str, reason: &str) -> Self {
        Fail::Api(ApiError::new(code, reason))
    }

    /// The status and body for a profile.
    pub fn render(&self, profile: Profile) -> (StatusCode, Value) {
        let breaking = profile.breaking_rest_shapes();
        match self {
            Fail::NotLoggedIn => {
                let text = "You must be logged in to do this.";
                let body = if breaking {
                    json!({"success": false, "error": text})
                } else {
                    json!({"success": false, "error": text, "status": "error", "message": text})
                };
                (StatusCode::UNAUTHORIZED, body)
            }
            Fail::Forbidden => (
                StatusCode::FORBIDDEN,
                json!({"success": false, "error": if breaking { "forbidden" } else { "unauthorized" }}),
            ),
            Fail::NotFound => (
                StatusCode::NOT_FOUND,
                json!({"success": false, "error": "Resource not found"}),
            ),
            Fail::Api(e) => api_error(e, breaking),
            Fail::Failure { error, error_type } => {
                let mut body = json!({"success": false, "error": error});
                if let Some(t) = error_type {
                    body["errorType"] = json!(t);
                }
                (StatusCode::BAD_REQUEST, body)
            }
            Fail::Raw(status, body) => (*status, body.clone()),
        }
    }
}

impl From<ApiError> for Fail {
    fn from(e: ApiError) -> Self {
        Fail::Api(e)
    }
}

/// The REST rendering of a thrown error (the `catch` in Rocket.Chat's route wrapper).
fn api_error(e: &ApiError, breaking: bool) -> (StatusCode, Value) {
    if e.plain {
        return (
            StatusCode::BAD_REQUEST,
            json!({"success": false, "error": e.code}),
        );
    }
    match e.code.as_str() {
        // Missing permission: 403 before 9.0, 401 with the breaking shapes.
        "error-unauthorized" | "unauthorized" => (
            if breaking {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::FORBIDDEN
            },
            json!({"success": false, "error": e.message()}),
        ),
        "error-forbidden" | "forbidden" if breaking => (
            StatusCode::FORBIDDEN,
            json!({"success": false, "error": "forbidden"}),
        ),
        "error-too-many-requests" => (
            StatusCode::TOO_MANY_REQUESTS,
            json!({"success": false, "error": e.message()}),
        ),
        _ => {
            let mut body = json!({
                "success": false,
                "error": e.message(),
                "errorType": e.numeric().map(Value::from).unwrap_or_else(|| json!(e.code)),
            });
            if let Some(d) = &e.details {
                body["details"] = d.clone();
            }
            (StatusCode::BAD_REQUEST, body)
        }
    }
}

impl IntoResponse for Fail {
    /// An empty response carrying the failure; [`finish`] writes the body. Without the
    /// middleware (never the case in the simulator) the profile-neutral 8.x shape is used.
    fn into_response(self) -> Response {
        let mut res = StatusCode::BAD_REQUEST.into_response();
        res.extensions_mut().insert(self);
        res
    }
}

/// The success envelope: the endpoint's object plus `"success": true`.
pub fn ok(mut body: Value) -> Json<Value> {
    if let Some(obj) = body.as_object_mut() {
        obj.insert("success".into(), json!(true));
    }
    Json(body)
}

/// A JSON response with a status, outside the envelope helpers.
pub fn json_response(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// Middleware on every REST route: renders [`Fail`]s for the profile and adds the no-cache
/// headers Rocket.Chat puts on JSON responses.
pub async fn finish(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    if let Some(fail) = res.extensions_mut().remove::<Fail>() {
        let (status, body) = fail.render(state.store.profile);
        let mut rendered = json_response(status, body);
        // Keep headers set on the way out (rate-limit, deprecation) by inner layers.
        for (k, v) in res.headers() {
            if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
                rendered.headers_mut().insert(k.clone(), v.clone());
            }
        }
        res = rendered;
    }
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json {
        let h = res.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meteor_errors_get_the_code_suffix_and_plain_errors_do_not() {
        let (s, b) = Fail::meteor("error-room-not-found", "nope").render(Profile::V8);
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(
            b,
            json!({"success": false, "error": "nope [error-room-not-found]", "errorType": "error-room-not-found"})
        );
        let (_, b) = Fail::Api(ApiError::plain("error-not-allowed")).render(Profile::V8);
        assert_eq!(b, json!({"success": false, "error": "error-not-allowed"}));
    }

    #[test]
    fn unauthorized_maps_per_version() {
        let e = Fail::meteor("error-unauthorized", "No");
        assert_eq!(e.render(Profile::V8).0, StatusCode::FORBIDDEN);
        assert_eq!(e.render(Profile::V9).0, StatusCode::UNAUTHORIZED);
        assert_eq!(Fail::Forbidden.render(Profile::V9).1["error"], "forbidden");
        assert!(Fail::NotLoggedIn
            .render(Profile::V9)
            .1
            .get("status")
            .is_none());
        assert_eq!(Fail::NotLoggedIn.render(Profile::V7).1["status"], "error");
    }
}
