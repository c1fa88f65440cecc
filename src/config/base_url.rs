//! The normalized server URL and the endpoints derived from it.

use std::fmt;

/// A validated Rocket.Chat server URL: `http` or `https`, no query, fragment or
/// credentials, trailing slash removed, base path kept (`https://host/chat`).
#[derive(Clone, PartialEq, Eq)]
pub struct BaseUrl {
    url: url::Url,
    text: String,
}

impl BaseUrl {
    /// Parse and normalize. The error is the reason, without the value.
    pub fn parse(input: &str) -> Result<BaseUrl, String> {
        let input = input.trim();
        if input.is_empty() {
            return Err("is empty".to_owned());
        }
        let url = url::Url::parse(input).map_err(|_| "not a valid http(s) URL".to_owned())?;
        match url.scheme() {
            "http" | "https" => {}
            _ => return Err("not a valid http(s) URL".to_owned()),
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("not a valid http(s) URL (no host)".to_owned());
        }
        if url.query().is_some() {
            return Err("must not have a query string (`?…`)".to_owned());
        }
        if url.fragment().is_some() {
            return Err("must not have a fragment (`#…`)".to_owned());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(
                "must not contain credentials (use authToken/userId or username/password)"
                    .to_owned(),
            );
        }
        let text = url.as_str().trim_end_matches('/').to_owned();
        Ok(BaseUrl { url, text })
    }

    /// The normalized URL, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The parsed URL.
    pub fn url(&self) -> &url::Url {
        &self.url
    }

    /// `<base>/api/v1`.
    pub fn rest_base(&self) -> String {
        format!("{}/api/v1", self.text)
    }

    /// The DDP endpoint: `http`→`ws`, `https`→`wss`, base path kept, plus `/websocket`.
    pub fn ws_url(&self) -> String {
        let rest = self
            .text
            .split_once("://")
            .map(|(_, r)| r)
            .unwrap_or(&self.text);
        let scheme = if self.url.scheme() == "https" {
            "wss"
        } else {
            "ws"
        };
        format!("{scheme}://{rest}/websocket")
    }

    /// The origin (`https://host:port`): credentials are only ever sent here.
    pub fn origin(&self) -> String {
        self.url.origin().ascii_serialization()
    }

    /// Whether `other` has the same origin (scheme, host, port) as the server.
    pub fn same_origin(&self, other: &url::Url) -> bool {
        self.url.origin() == other.origin()
    }

    /// Resolve a server-relative path (`/file-upload/…`) or absolute URL against the base.
    pub fn join(&self, path_or_url: &str) -> Option<url::Url> {
        if let Ok(abs) = url::Url::parse(path_or_url) {
            return Some(abs);
        }
        let rel = path_or_url.trim_start_matches('/');
        url::Url::parse(&format!("{}/{rel}", self.text)).ok()
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BaseUrl({:?})", self.text)
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `raw` as it may be quoted in a message: the userinfo part (`user:password@`), which may
/// hold a password, replaced by `***@`. Works on unparseable input too.
pub(crate) fn redacted(raw: &str) -> String {
    if let Some((scheme, rest)) = raw.split_once("://") {
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            return format!("{scheme}://***@{}", &rest[at + 1..]);
        }
    }
    raw.to_owned()
}

#[cfg(test)]
mod redaction_tests {
    use super::redacted;

    #[test]
    fn userinfo_is_hidden() {
        assert_eq!(
            redacted("https://bot:hunter2@chat.example.com/x?y#z"),
            "https://***@chat.example.com/x?y#z"
        );
        assert_eq!(redacted("http://a b:p@ss@host"), "http://***@host");
        assert_eq!(
            redacted("https://chat.example.com/a@b"),
            "https://chat.example.com/a@b"
        );
        assert_eq!(redacted("not a url"), "not a url");
    }
}
