//! Username/password sessions: `POST /api/v1/login`, token kept in memory only,
//! single-flight logins, re-login after the server rejects the token.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::Instant;
use url::Url;

use super::{AuthError, AuthToken, BoxFuture, TokenSource};
use crate::rest::ratelimit::{jitter, retry_after, RateLimitInfo};
use crate::rest::{build_http_client, normalize_base_url, RestError, RestOptions};
use crate::secret::Secret;

/// Where a 2FA (TOTP) code comes from when the server asks for one: called at most once
/// per login; `None` means no code is available.
pub type TotpSource = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// Logs in with username (or email) and password and keeps the token in memory.
///
/// Concurrent [`TokenSource::current`] callers share one login. After a rejection (wrong
/// password, 2FA needed) further calls fail fast with the same error for a cool-down
/// (60 s by default) instead of hammering the rate-limited login route; after a 429 they
/// fail fast until the server's reset.
pub struct PasswordSession {
    http: reqwest::Client,
    login_url: Url,
    username: String,
    password: Secret,
    totp: Option<TotpSource>,
    cooldown: Duration,
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    token: Option<AuthToken>,
    me: Option<Value>,
    failure: Option<(AuthError, Instant)>,
    logins: u64,
}

impl fmt::Debug for PasswordSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordSession")
            .field("login_url", &self.login_url.as_str())
            .field("username", &self.username)
            .field("password", &self.password)
            .field("totp", &self.totp.is_some())
            .finish_non_exhaustive()
    }
}

impl PasswordSession {
    /// A session for `username` on the server at `base_url`, over the shared TLS config.
    pub fn new(
        base_url: &str,
        username: impl Into<String>,
        password: Secret,
        tls: Arc<rustls::ClientConfig>,
        opts: &RestOptions,
    ) -> Result<Self, RestError> {
        let site = normalize_base_url(base_url)?;
        let http = build_http_client(&tls, opts, &site)?;
        Ok(Self::with_http(http, &site, username, password))
    }

    /// A session over an existing reqwest client; `site` is the normalized server root.
    pub fn with_http(
        http: reqwest::Client,
        site: &Url,
        username: impl Into<String>,
        password: Secret,
    ) -> Self {
        PasswordSession {
            http,
            login_url: site.join("api/v1/login").expect("site root joins"),
            username: username.into(),
            password,
            totp: None,
            cooldown: Duration::from_secs(60),
            state: tokio::sync::Mutex::new(State::default()),
        }
    }

    /// Answer `totp-required` with codes from `source`.
    pub fn with_totp(mut self, source: TotpSource) -> Self {
        self.totp = Some(source);
        self
    }

    /// How long a rejection is remembered before the next login attempt (default 60 s).
    pub fn with_cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// The `/me` payload of the last successful login.
    pub async fn me(&self) -> Option<Value> {
        self.state.lock().await.me.clone()
    }

    /// How many login requests succeeded so far.
    pub async fn login_count(&self) -> u64 {
        self.state.lock().await.logins
    }

    async fn login(&self) -> Result<(AuthToken, Option<Value>), AuthError> {
        let mut code: Option<String> = None;
        loop {
            let mut body = json!({"user": self.username, "password": self.password.expose()});
            if let Some(c) = &code {
                body["code"] = json!(c);
            }
            let resp = self
                .http
                .post(self.login_url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string())
                .send()
                .await
                .map_err(|e| {
                    AuthError::Transient(
                        RestError::from_reqwest("POST /api/v1/login", e).to_string(),
                    )
                })?;
            let status = resp.status().as_u16();
            let info = RateLimitInfo::from_headers(resp.headers());
            let bytes = resp.bytes().await.map_err(|e| {
                AuthError::Transient(RestError::from_reqwest("POST /api/v1/login", e).to_string())
            })?;
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let field = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("");
            let error = field("error").to_owned();
            let error_type = field("errorType").to_owned();
            let message = match field("message") {
                "" => error.clone(),
                m => m.to_owned(),
            };
            match status {
                200..=299 => {
                    let r = crate::rest::parse_login_response("POST /api/v1/login", &body)
                        .map_err(|e| AuthError::Transient(e.to_string()))?;
                    let token = AuthToken {
                        user_id: r.user_id,
                        token: r.auth_token,
                    };
                    return Ok((token, r.me));
                }
                400 | 401 | 403
                    if error == "totp-required" || error_type == "totp-required" =>
                {
                    if code.is_some() {
                        return Err(AuthError::TwoFactorRequired(
                            "the server refused the 2FA code".into(),
                        ));
                    }
                    match self.totp.as_ref().and_then(|f| f()) {
                        Some(c) => {
                            code = Some(c);
                            continue;
                        }
                        None => {
                            return Err(AuthError::TwoFactorRequired(
                                "the server asks for a 2FA code and none is configured".into(),
                            ))
                        }
                    }
                }
                400 | 401 | 403 if error == "totp-invalid" || error_type == "totp-invalid" => {
                    return Err(AuthError::TwoFactorRequired(
                        "the server refused the 2FA code".into(),
                    ))
                }
                401 | 403 => {
                    return Err(AuthError::Rejected(format!(
                        "login refused for user {:?} (HTTP {status}: {message}); check username/password",
                        self.username
                    )))
                }
                429 => {
                    let text = if error.is_empty() {
                        String::from_utf8_lossy(&bytes).into_owned()
                    } else {
                        error
                    };
                    let wait = retry_after(&info, &text).unwrap_or(Duration::from_secs(60))
                        + jitter(250);
                    return Err(AuthError::RateLimited {
                        retry_after_ms: wait.as_millis() as u64,
                    });
                }
                _ => {
                    return Err(AuthError::Transient(format!(
                        "login failed with HTTP {status}{}",
                        if message.is_empty() {
                            String::new()
                        } else {
                            format!(": {message}")
                        }
                    )))
                }
            }
        }
    }
}

impl TokenSource for PasswordSession {
    fn current(&self) -> BoxFuture<'_, Result<AuthToken, AuthError>> {
        Box::pin(async move {
            // Holding the lock across the login makes concurrent callers share it.
            let mut st = self.state.lock().await;
            if let Some(t) = &st.token {
                return Ok(t.clone());
            }
            if let Some((err, until)) = &st.failure {
                let now = Instant::now();
                if now < *until {
                    return Err(match err {
                        AuthError::RateLimited { .. } => AuthError::RateLimited {
                            retry_after_ms: (*until - now).as_millis() as u64,
                        },
                        other => other.clone(),
                    });
                }
                st.failure = None;
            }
            match self.login().await {
                Ok((token, me)) => {
                    tracing::info!(user_id = %token.user_id, "logged in");
                    st.token = Some(token.clone());
                    st.me = me;
                    st.logins += 1;
                    Ok(token)
                }
                Err(e) => {
                    let hold = match &e {
                        AuthError::Rejected(_) | AuthError::TwoFactorRequired(_) => {
                            Some(self.cooldown)
                        }
                        AuthError::RateLimited { retry_after_ms } => {
                            Some(Duration::from_millis(*retry_after_ms))
                        }
                        AuthError::Transient(_) => None,
                    };
                    tracing::warn!(error = %e, "login failed");
                    if let Some(hold) = hold {
                        st.failure = Some((e.clone(), Instant::now() + hold));
                    }
                    Err(e)
                }
            }
        })
    }

    fn invalidate<'a>(&'a self, token: &'a AuthToken) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let mut st = self.state.lock().await;
            if st.token.as_ref() == Some(token) {
                tracing::info!("session token rejected; will log in again");
                st.token = None;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::rest::test_server::{Req, Resp, TestServer};
    use crate::tls::{client_config, TlsOptions};

    const PASSWORD: &str = "hunter2-password";
    const TOKEN: &str = "9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq";

    fn ok_login() -> Resp {
        Resp::json(
            200,
            json!({"status":"success","data":{"userId":"Bq7dYg4KxWnZcT3rA","authToken":TOKEN,"me":{"_id":"Bq7dYg4KxWnZcT3rA","username":"mybot"}},"success":true}),
        )
    }

    fn session(url: &str) -> PasswordSession {
        let tls = client_config(&TlsOptions::default()).unwrap();
        PasswordSession::new(
            url,
            "mybot",
            Secret::new(PASSWORD),
            tls,
            &RestOptions::default(),
        )
        .unwrap()
    }

    fn assert_no_secrets(s: &str) {
        assert!(!s.contains(PASSWORD), "password leaked: {s}");
        assert!(!s.contains(TOKEN), "token leaked: {s}");
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_login() {
        let srv = TestServer::start(|r: &Req| {
            assert_eq!(r.json(), json!({"user":"mybot","password":PASSWORD}));
            ok_login().delay(Duration::from_millis(100))
        })
        .await;
        let s = Arc::new(session(&srv.url));
        let calls: Vec<_> = (0..5)
            .map(|_| {
                let s = s.clone();
                tokio::spawn(async move { s.current().await })
            })
            .collect();
        for c in calls {
            let t = c.await.unwrap().unwrap();
            assert_eq!(t.user_id, "Bq7dYg4KxWnZcT3rA");
            assert_eq!(t.token.expose(), TOKEN);
            assert_no_secrets(&format!("{t:?}"));
        }
        assert_eq!(srv.requests().len(), 1);
        assert_eq!(s.me().await.unwrap()["username"], "mybot");
        assert_no_secrets(&format!("{s:?}"));
        // invalidate → next call logs in again
        let t = s.current().await.unwrap();
        s.invalidate(&t).await;
        s.current().await.unwrap();
        assert_eq!(srv.requests().len(), 2);
    }

    #[tokio::test]
    async fn rejection_is_remembered_for_a_cooldown() {
        let srv = TestServer::start(|_| {
            Resp::json(
                401,
                json!({"success":false,"error":"Unauthorized","status":"error","message":"Unauthorized"}),
            )
        })
        .await;
        let s = session(&srv.url).with_cooldown(Duration::from_millis(300));
        let e1 = s.current().await.unwrap_err();
        assert!(matches!(e1, AuthError::Rejected(_)), "{e1:?}");
        assert_no_secrets(&format!("{e1} {e1:?} {s:?}"));
        let e2 = s.current().await.unwrap_err();
        assert_eq!(e1, e2);
        assert_eq!(srv.requests().len(), 1, "no login during the cool-down");
        tokio::time::sleep(Duration::from_millis(350)).await;
        s.current().await.unwrap_err();
        assert_eq!(srv.requests().len(), 2);
    }

    #[tokio::test]
    async fn totp_code_is_sent_when_asked() {
        let srv = TestServer::start(|r: &Req| {
            if r.json()["code"] == "123456" {
                ok_login()
            } else {
                Resp::json(
                    401,
                    json!({"success":false,"status":"error","error":"totp-required","details":{"method":"totp"},"message":"TOTP Required"}),
                )
            }
        })
        .await;
        let without = session(&srv.url);
        let err = without.current().await.unwrap_err();
        assert!(matches!(err, AuthError::TwoFactorRequired(_)), "{err:?}");
        assert_eq!(srv.requests().len(), 1);

        let asked = Arc::new(AtomicUsize::new(0));
        let a = asked.clone();
        let with = session(&srv.url).with_totp(Arc::new(move || {
            a.fetch_add(1, Ordering::SeqCst);
            Some("123456".into())
        }));
        with.current().await.unwrap();
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        assert_eq!(srv.requests().len(), 3);

        let wrong = session(&srv.url).with_totp(Arc::new(|| Some("000000".into())));
        let err = wrong.current().await.unwrap_err();
        assert_eq!(
            err,
            AuthError::TwoFactorRequired("the server refused the 2FA code".into())
        );
    }

    #[tokio::test]
    async fn rate_limited_login_honours_reset_and_fails_fast() {
        let srv = TestServer::start(|_| {
            Resp::json(429, json!({"success":false,"error":"Error, too many requests. Please slow down. You must wait 52 seconds before trying this endpoint again. [error-too-many-requests]"}))
                .header("x-ratelimit-remaining", 0)
                .header("x-ratelimit-reset", chrono::Utc::now().timestamp_millis() + 30_000)
        })
        .await;
        let s = session(&srv.url);
        match s.current().await.unwrap_err() {
            AuthError::RateLimited { retry_after_ms } => {
                assert!(
                    (29_000..=30_300).contains(&retry_after_ms),
                    "{retry_after_ms}"
                )
            }
            e => panic!("{e:?}"),
        }
        assert!(matches!(
            s.current().await,
            Err(AuthError::RateLimited { .. })
        ));
        assert_eq!(srv.requests().len(), 1);
    }

    #[tokio::test]
    async fn server_errors_are_transient_and_not_cached() {
        let srv = TestServer::start(|_| {
            Resp::json(
                500,
                json!({"success":false,"error":"Internal server error"}),
            )
        })
        .await;
        let s = session(&srv.url);
        let e = s.current().await.unwrap_err();
        assert!(matches!(e, AuthError::Transient(_)), "{e:?}");
        s.current().await.unwrap_err();
        assert_eq!(srv.requests().len(), 2);
    }
}
