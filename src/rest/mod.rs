//! The REST client for one account: envelopes, typed errors, 429 handling, pacing,
//! retries and the endpoints the channel uses.
//!
//! - Credentials come from a [`TokenSource`]; on 401 the token is invalidated and the
//!   call is retried once with fresh credentials (a password session logs in again).
//! - 429: waits until `X-RateLimit-Reset` (or the "wait N seconds" text) plus jitter and
//!   retries; a per-route [`ratelimit::Pacer`] holds further calls once `Remaining` is 0.
//! - 5xx and network errors are retried with capped exponential backoff and jitter, but
//!   only for idempotent calls (GET, and sends made idempotent by a client-chosen `_id`).
//! - Sends to one room run in call order; different rooms run concurrently.

mod endpoints;
mod error;
mod media;
pub mod ratelimit;
mod redirect;
#[cfg(test)]
pub(crate) mod test_server;
#[cfg(test)]
mod tests_http;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;

pub use endpoints::{
    parse_login as parse_login_response, LoginResult, Me, OutgoingMessage, SendOutcome, ServerInfo,
    SyncResult, Updates,
};
pub(crate) use error::with_code;
pub use error::RestError;
pub use media::{sanitize_file_name, Download, UploadData, UploadOptions};

use crate::auth::{AuthToken, TokenSource};
use crate::send_order::{SendQueues, Turn};
use ratelimit::{Pacer, RateLimitInfo};

/// Tunables of a [`RestClient`].
#[derive(Clone, Debug)]
pub struct RestOptions {
    /// TCP + TLS connect timeout (default 10 s).
    pub connect_timeout: Duration,
    /// Whole-request timeout for API calls (default 30 s).
    pub request_timeout: Duration,
    /// Timeout for uploads and downloads (default 5 min).
    pub transfer_timeout: Duration,
    /// Retries of 5xx / network errors for idempotent calls (default 3).
    pub max_retries: u32,
    /// Retries after 429 (default 3).
    pub max_rate_limit_retries: u32,
    /// First backoff step (default 500 ms).
    pub backoff_base: Duration,
    /// Backoff cap (default 10 s).
    pub backoff_max: Duration,
    /// Longest 429 wait honoured before giving up with [`RestError::RateLimited`] (default 120 s).
    pub max_rate_limit_wait: Duration,
    /// Largest JSON response accepted (default 16 MiB).
    pub max_response_bytes: u64,
}

impl Default for RestOptions {
    fn default() -> Self {
        RestOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            transfer_timeout: Duration::from_secs(300),
            max_retries: 3,
            max_rate_limit_retries: 3,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(10),
            max_rate_limit_wait: Duration::from_secs(120),
            max_response_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Normalize a configured server URL to its site root with a trailing slash:
/// `https://chat.example.com/api/v1/` → `https://chat.example.com/`; sub-paths are kept.
pub fn normalize_base_url(base: &str) -> Result<Url, RestError> {
    let trimmed = base.trim();
    let mut url = Url::parse(trimmed)
        .map_err(|e| RestError::Invalid(format!("server URL is not a valid URL: {e}")))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(RestError::Invalid(format!(
            "server URL must be http or https, not {}",
            url.scheme()
        )));
    }
    if url.host_str().is_none() {
        return Err(RestError::Invalid("server URL has no host".into()));
    }
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    let mut path = url.path().trim_end_matches('/').to_owned();
    for suffix in ["/api/v1", "/api"] {
        if path.ends_with(suffix) {
            path.truncate(path.len() - suffix.len());
            break;
        }
    }
    path.push('/');
    url.set_path(&path);
    Ok(url)
}

/// Build the reqwest client used by an account, on the shared rustls config.
pub fn build_http_client(
    tls: &Arc<rustls::ClientConfig>,
    opts: &RestOptions,
    site: &Url,
) -> Result<reqwest::Client, RestError> {
    let policy = redirect::policy(site);
    reqwest::Client::builder()
        .tls_backend_preconfigured((**tls).clone())
        .connect_timeout(opts.connect_timeout)
        .timeout(opts.request_timeout)
        .redirect(policy)
        .user_agent(concat!("openclaw-rocketchat/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| RestError::Invalid(format!("cannot build HTTP client: {e}")))
}

/// Alphabet of Meteor random ids.
pub(crate) const ID_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz";

/// A 17-character Meteor-style id, for client-chosen message `_id`s.
pub fn new_message_id() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..17)
        .map(|_| ID_ALPHABET[rng.random_range(0..ID_ALPHABET.len())] as char)
        .collect()
}

/// Whether a call may be repeated after a 5xx or a network error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Repeating has no extra effect: retried with backoff.
    Idempotent,
    /// Only 401 (once) and 429 (rejected before the handler ran) are retried.
    Once,
}

/// A request body that can be rebuilt for each attempt.
pub(crate) enum CallBody {
    Empty,
    Json(Value),
    Form(Box<dyn Fn() -> Result<reqwest::multipart::Form, RestError> + Send + Sync>),
}

/// One logical call.
pub(crate) struct Call {
    pub method: Method,
    /// `METHOD /path-pattern`, used in errors and as the pacing key.
    pub route: String,
    pub url: Url,
    pub query: Vec<(String, String)>,
    pub body: CallBody,
    pub auth: bool,
    pub retry: Retry,
    pub timeout: Option<Duration>,
}

/// The REST client of one account. Cheap to clone (shared state).
#[derive(Clone)]
pub struct RestClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    site: Url,
    api: Url,
    tokens: Arc<dyn TokenSource>,
    opts: RestOptions,
    pacer: Pacer,
    rooms: SendQueues,
}

impl fmt::Debug for RestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestClient")
            .field("site", &self.inner.site.as_str())
            .finish_non_exhaustive()
    }
}

impl RestClient {
    /// A client for the server at `base_url` (normalized; `<base>/api/v1` is the API root),
    /// trusting `tls`, authenticating with `tokens`.
    pub fn new(
        base_url: &str,
        tls: Arc<rustls::ClientConfig>,
        tokens: Arc<dyn TokenSource>,
        opts: RestOptions,
    ) -> Result<Self, RestError> {
        let site = normalize_base_url(base_url)?;
        let http = build_http_client(&tls, &opts, &site)?;
        Ok(Self::with_http(http, site, tokens, opts))
    }

    /// A client over an existing reqwest client (built by [`build_http_client`]).
    pub fn with_http(
        http: reqwest::Client,
        site: Url,
        tokens: Arc<dyn TokenSource>,
        opts: RestOptions,
    ) -> Self {
        let api = site.join("api/v1/").expect("site root joins");
        RestClient {
            inner: Arc::new(Inner {
                http,
                site,
                api,
                tokens,
                opts,
                pacer: Pacer::default(),
                rooms: SendQueues::default(),
            }),
        }
    }

    /// The server's site root (`https://host[/subpath]/`).
    pub fn site_url(&self) -> &Url {
        &self.inner.site
    }

    /// The API root (`<site>/api/v1/`).
    pub fn api_url(&self) -> &Url {
        &self.inner.api
    }

    /// The token source this client authenticates with.
    pub fn token_source(&self) -> &Arc<dyn TokenSource> {
        &self.inner.tokens
    }

    /// `<api>/<segments…>`, each segment percent-encoded.
    pub(crate) fn api_endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.api.clone();
        {
            let mut seg = url.path_segments_mut().expect("http url has a path");
            seg.pop_if_empty();
            for s in segments {
                seg.push(s);
            }
        }
        url
    }

    /// Queue position for a send to `rid`: taken when called, so sends to one room
    /// run in the order their futures were created.
    pub(crate) fn room_ticket(&self, rid: &str) -> Turn {
        self.inner.rooms.enqueue(rid)
    }

    /// A simple authenticated JSON call returning the response body.
    pub(crate) async fn call_json(
        &self,
        method: Method,
        route_path: &str,
        segments: &[&str],
        query: Vec<(String, String)>,
        body: Option<Value>,
        retry: Retry,
    ) -> Result<Value, RestError> {
        let call = Call {
            route: format!("{method} /api/v1/{route_path}"),
            url: self.api_endpoint(segments),
            method,
            query,
            body: body.map_or(CallBody::Empty, CallBody::Json),
            auth: true,
            retry,
            timeout: None,
        };
        self.execute(call).await.map(|(_, body)| body)
    }

    /// Run a call with auth, pacing, 401 re-login, 429 waits and retries.
    pub(crate) async fn execute(&self, call: Call) -> Result<(HeaderMap, Value), RestError> {
        let resp = self.execute_raw(&call).await?;
        let headers = resp.headers().clone();
        let status = resp.status();
        let bytes = read_limited(resp, &call.route, self.inner.opts.max_response_bytes).await?;
        let body = parse_body(&call.route, status, &bytes)?;
        if body.get("success") == Some(&Value::Bool(false)) {
            return Err(RestError::from_response(
                &call.route,
                status.as_u16(),
                &body,
            ));
        }
        Ok((headers, body))
    }

    /// Like [`Self::execute`] but hands back the successful (2xx) response unread.
    pub(crate) async fn execute_raw(&self, call: &Call) -> Result<reqwest::Response, RestError> {
        let opts = &self.inner.opts;
        let mut attempt = 0u32;
        let mut rate_attempt = 0u32;
        let mut reauthed = false;
        loop {
            self.inner.pacer.wait(&call.route).await;
            let token = if call.auth {
                Some(self.inner.tokens.current().await?)
            } else {
                None
            };
            let req = self.build_request(call, token.as_ref())?;
            let result = self.inner.http.execute(req).await;
            let resp = match result {
                Ok(r) => r,
                Err(e) => {
                    let err = RestError::from_reqwest(&call.route, e);
                    if call.retry == Retry::Idempotent && attempt < opts.max_retries {
                        let d = ratelimit::backoff(attempt, opts.backoff_base, opts.backoff_max);
                        tracing::debug!(route = %call.route, error = %err, delay_ms = d.as_millis() as u64, "retrying");
                        attempt += 1;
                        tokio::time::sleep(d).await;
                        continue;
                    }
                    return Err(err);
                }
            };
            let info = RateLimitInfo::from_headers(resp.headers());
            self.inner
                .pacer
                .observe(&call.route, &info, opts.max_rate_limit_wait);
            let status = resp.status();
            if status.is_success() {
                return Ok(resp);
            }
            if status.is_redirection() {
                return Err(redirect::refused(
                    &call.route,
                    status.as_u16(),
                    &self.inner.site,
                    resp.headers(),
                ));
            }
            let bytes = read_limited(resp, &call.route, 64 * 1024)
                .await
                .unwrap_or_default();
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let text = body
                .get("error")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());

            if status == StatusCode::UNAUTHORIZED && call.auth && !reauthed {
                if let Some(token) = &token {
                    tracing::info!(route = %call.route, "credentials rejected (401); renewing and retrying once");
                    self.inner.tokens.invalidate(token).await;
                }
                reauthed = true;
                continue;
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                let wait = ratelimit::retry_after(&info, &text).unwrap_or_else(|| {
                    ratelimit::backoff(rate_attempt, opts.backoff_base, opts.backoff_max)
                });
                if rate_attempt < opts.max_rate_limit_retries && wait <= opts.max_rate_limit_wait {
                    tracing::warn!(route = %call.route, wait_ms = wait.as_millis() as u64, "rate limited (429); waiting");
                    self.inner.pacer.block_for(&call.route, wait);
                    rate_attempt += 1;
                    continue;
                }
                return Err(RestError::RateLimited {
                    route: call.route.clone(),
                    retry_after_ms: wait.as_millis() as u64,
                });
            }
            if status.is_server_error()
                && call.retry == Retry::Idempotent
                && attempt < opts.max_retries
            {
                let d = ratelimit::backoff(attempt, opts.backoff_base, opts.backoff_max);
                tracing::debug!(route = %call.route, status = status.as_u16(), delay_ms = d.as_millis() as u64, "retrying after server error");
                attempt += 1;
                tokio::time::sleep(d).await;
                continue;
            }
            return Err(RestError::from_response(
                &call.route,
                status.as_u16(),
                &body,
            ));
        }
    }

    fn build_request(
        &self,
        call: &Call,
        token: Option<&AuthToken>,
    ) -> Result<reqwest::Request, RestError> {
        let mut rb = self
            .inner
            .http
            .request(call.method.clone(), call.url.clone());
        if !call.query.is_empty() {
            rb = rb.query(&call.query);
        }
        if let Some(t) = call.timeout {
            rb = rb.timeout(t);
        }
        if let Some(token) = token {
            let mut h = HeaderMap::new();
            let uid = HeaderValue::from_str(&token.user_id)
                .map_err(|_| RestError::Invalid("user id is not a valid header value".into()))?;
            let mut tok = HeaderValue::from_str(token.token.expose())
                .map_err(|_| RestError::Invalid("token is not a valid header value".into()))?;
            tok.set_sensitive(true);
            h.insert("X-User-Id", uid);
            h.insert("X-Auth-Token", tok);
            rb = rb.headers(h);
        }
        rb = match &call.body {
            CallBody::Empty => rb,
            CallBody::Json(v) => rb
                .header(CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(v).expect("Value serializes")),
            CallBody::Form(make) => rb.multipart(make()?),
        };
        rb.build()
            .map_err(|e| RestError::from_reqwest(&call.route, e))
    }
}

/// Read a body, failing with [`RestError::TooLarge`] past `limit` bytes (checks
/// `Content-Length` first, then counts while streaming).
pub(crate) async fn read_limited(
    mut resp: reqwest::Response,
    route: &str,
    limit: u64,
) -> Result<bytes::Bytes, RestError> {
    let too_large = || RestError::TooLarge {
        route: route.to_owned(),
        limit,
    };
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| RestError::from_reqwest(route, e))?
    {
        if buf.len() as u64 + chunk.len() as u64 > limit {
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

fn parse_body(route: &str, status: StatusCode, bytes: &[u8]) -> Result<Value, RestError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(bytes).map_err(|e| RestError::Decode {
        route: route.to_owned(),
        message: format!("HTTP {}: {e}", status.as_u16()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_base_urls() {
        for (input, want) in [
            ("https://chat.example.com", "https://chat.example.com/"),
            ("https://chat.example.com/", "https://chat.example.com/"),
            (
                "https://chat.example.com/api/v1/",
                "https://chat.example.com/",
            ),
            ("https://chat.example.com/api", "https://chat.example.com/"),
            (" http://h:3000/rc/ ", "http://h:3000/rc/"),
            ("http://u:p@h/x?y#z", "http://h/x/"),
        ] {
            assert_eq!(normalize_base_url(input).unwrap().as_str(), want, "{input}");
        }
        assert!(normalize_base_url("ftp://h").is_err());
        assert!(normalize_base_url("not a url").is_err());
    }

    #[test]
    fn message_ids_look_like_meteor_ids() {
        let id = new_message_id();
        assert_eq!(id.len(), 17);
        assert!(id.bytes().all(|b| ID_ALPHABET.contains(&b)));
        assert_ne!(new_message_id(), id);
    }
}
