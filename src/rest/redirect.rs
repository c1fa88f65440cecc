//! Redirects: followed only within the server's origin, since `X-Auth-Token` is a custom
//! header that reqwest would otherwise forward to any host. A refused redirect is explained:
//! where it pointed, and for `http://` → `https://` the `baseUrl` to set instead.

use reqwest::header::{HeaderMap, LOCATION};
use url::Url;

use super::RestError;

/// Longest redirect chain followed within the origin.
const MAX_HOPS: usize = 5;

/// The redirect policy of a client for `site`.
pub(super) fn policy(site: &Url) -> reqwest::redirect::Policy {
    let origin = site.origin();
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= MAX_HOPS || attempt.url().origin() != origin {
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

/// The error for a redirect the policy did not follow (`headers` of the 3xx answer).
pub(super) fn refused(route: &str, status: u16, site: &Url, headers: &HeaderMap) -> RestError {
    let target = headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|loc| site.join(loc).ok());
    RestError::Api {
        route: route.to_owned(),
        status,
        error: explain(site, target.as_ref()),
        error_type: None,
        details: None,
    }
}

fn explain(site: &Url, target: Option<&Url>) -> String {
    let Some(target) = target else {
        return "the server answered with a redirect without a valid Location; not followed"
            .to_owned();
    };
    let shown = shown(target);
    if target.origin() == site.origin() {
        return format!("too many redirects (more than {MAX_HOPS}, the last to {shown})");
    }
    let mut text = format!(
        "the server redirected to {shown}, another origin than baseUrl; not followed, so the \
         credentials stay with {}",
        site.origin().ascii_serialization()
    );
    if site.scheme() == "http" && target.scheme() == "https" && site.host() == target.host() {
        let mut https = site.clone();
        let _ = https.set_scheme("https");
        let _ = https.set_port(target.port());
        text.push_str(&format!(
            "; the server wants https: set baseUrl to {}",
            https.as_str().trim_end_matches('/')
        ));
    } else {
        text.push_str("; if the server moved, set baseUrl to its new address");
    }
    text
}

/// A URL for a message: no credentials, query or fragment (they may carry tokens).
fn shown(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn http_to_https_names_the_base_url_to_set() {
        let site = url("http://chat.example.com/rc/");
        let text = explain(
            &site,
            Some(&url("https://chat.example.com/rc/api/v1/me?x=token")),
        );
        assert_eq!(
            text,
            "the server redirected to https://chat.example.com/rc/api/v1/me, another origin \
             than baseUrl; not followed, so the credentials stay with http://chat.example.com; \
             the server wants https: set baseUrl to https://chat.example.com/rc"
        );
        let text = explain(&site, Some(&url("https://chat.example.com:8443/x")));
        assert!(
            text.ends_with("set baseUrl to https://chat.example.com:8443/rc"),
            "{text}"
        );
    }

    #[test]
    fn other_origins_and_loops_are_named() {
        let site = url("https://chat.example.com/");
        let text = explain(&site, Some(&url("https://u:p@login.example.net/sso#frag")));
        assert!(
            text.starts_with("the server redirected to https://login.example.net/sso, another"),
            "{text}"
        );
        assert!(text.ends_with("if the server moved, set baseUrl to its new address"));
        assert!(!text.contains("u:p") && !text.contains("frag"), "{text}");
        let text = explain(&site, Some(&url("https://chat.example.com/loop")));
        assert_eq!(
            text,
            "too many redirects (more than 5, the last to https://chat.example.com/loop)"
        );
        assert!(explain(&site, None).contains("without a valid Location"));
    }

    #[tokio::test]
    async fn a_refused_redirect_reaches_the_caller_with_the_hint() {
        use crate::rest::test_server::{Resp, TestServer};
        use std::sync::{Arc, OnceLock};
        let target: Arc<OnceLock<String>> = Arc::default();
        let location = target.clone();
        let srv = TestServer::start(move |_| {
            Resp::json(301, serde_json::json!({})).header("location", location.get().unwrap())
        })
        .await;
        let https = srv.url.replacen("http://", "https://", 1);
        target.set(format!("{https}/api/v1/me")).unwrap();
        let client = crate::rest::RestClient::new(
            &srv.url,
            crate::tls::client_config(&Default::default()).unwrap(),
            Arc::new(crate::auth::StaticToken::new(
                "u",
                crate::secret::Secret::new("t"),
            )),
            Default::default(),
        )
        .unwrap();
        let err = client.me().await.unwrap_err();
        assert_eq!(err.status(), Some(301));
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "GET /api/v1/me: the server redirected to {https}/api/v1/me, another origin"
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!("the server wants https: set baseUrl to {https}")),
            "{text}"
        );
    }
}
