//! The normalized server URL and the endpoints derived from it.

use std::fmt;

/// The longest DNS name (RFC 1035).
const MAX_HOST_LEN: usize = 253;

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
        // Checked first: an `@` anywhere is a `user:password@`, also where the URL parser
        // would see the end of the host in the password (`/`, `?`, `#`) or fail on it.
        if input.contains('@') {
            return Err(
                "must not contain credentials (use authToken/userId or username/password)"
                    .to_owned(),
            );
        }
        let url = url::Url::parse(input).map_err(|_| "not a valid http(s) URL".to_owned())?;
        match url.scheme() {
            "http" | "https" => {}
            _ => return Err("not a valid http(s) URL".to_owned()),
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("not a valid http(s) URL (no host)".to_owned());
        }
        if url.host_str().is_some_and(|h| h.len() > MAX_HOST_LEN) {
            return Err(format!(
                "not a valid http(s) URL (the host name is longer than {MAX_HOST_LEN} characters)"
            ));
        }
        if url.query().is_some() {
            return Err("must not have a query string (`?…`)".to_owned());
        }
        if url.fragment().is_some() {
            return Err("must not have a fragment (`#…`)".to_owned());
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
/// hold a password, replaced by `***@`. Works on unparseable input too. A password may hold
/// `/`, `?` or `#`, so everything up to the last `@` is hidden (an `@` in a path hides a
/// little too much, which is the safe side).
pub(crate) fn redacted(raw: &str) -> String {
    if let Some((scheme, rest)) = raw.split_once("://") {
        if let Some(at) = rest.rfind('@') {
            return format!("{scheme}://***@{}", &rest[at + 1..]);
        }
    }
    raw.to_owned()
}

/// Longest value quoted in a message, in characters.
const QUOTE_MAX: usize = 120;

/// `raw` redacted, shortened and quoted for a message.
pub(crate) fn quoted(raw: &str) -> String {
    let r = redacted(raw);
    if r.chars().count() > QUOTE_MAX {
        let head: String = r.chars().take(QUOTE_MAX).collect();
        format!("{head:?}… ({} characters)", raw.chars().count())
    } else {
        format!("{r:?}")
    }
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
        assert_eq!(redacted("http://a b:p@ss@host/x"), "http://***@host/x");
        // a password may hold any of the characters that end the authority
        for raw in [
            "https://bot:s3cr#t@chat.example.com",
            "https://bot:s3cr/t@chat.example.com",
            "https://bot:s3cr?t@chat.example.com",
            "https://bot:1234/s3cr@chat.example.com/base",
        ] {
            let shown = redacted(raw);
            assert!(shown.starts_with("https://***@chat.example.com"), "{shown}");
            assert!(
                !shown.contains("s3cr") && !shown.contains("1234"),
                "{shown}"
            );
        }
        assert_eq!(
            redacted("https://chat.example.com/a"),
            "https://chat.example.com/a"
        );
        assert_eq!(redacted("not a url"), "not a url");
    }
}
