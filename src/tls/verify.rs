//! The certificate check: the web PKI (Mozilla roots plus the configured CAs), and the one
//! exception self-hosted servers need: a server whose own certificate is exactly one the
//! user configured (`openssl req -x509` makes a certificate marked as a CA, which the web
//! PKI refuses as a server certificate). [`explain`] puts refusals in plain words.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};

/// Web PKI verification, plus: accept a server certificate equal to a configured one.
pub(super) struct TrustVerifier {
    webpki: Arc<WebPkiServerVerifier>,
    /// The configured certificates (`tls.caPem`, `tls.caFile`), DER.
    pinned: Vec<CertificateDer<'static>>,
}

impl TrustVerifier {
    pub(super) fn new(
        webpki: Arc<WebPkiServerVerifier>,
        pinned: Vec<CertificateDer<'static>>,
    ) -> Self {
        TrustVerifier { webpki, pinned }
    }

    /// The web PKI refused `end_entity` with `err`; is it a configured certificate that is
    /// fine apart from how it was issued?
    fn accept_pinned(
        &self,
        end_entity: &CertificateDer<'_>,
        server_name: &ServerName<'_>,
        err: &rustls::Error,
    ) -> Result<(), rustls::Error> {
        if !self
            .pinned
            .iter()
            .any(|c| c.as_ref() == end_entity.as_ref())
        {
            return Err(err.clone());
        }
        // webpki checks the server certificate's validity period before its CA flag and
        // before looking for an issuer, so these two errors mean the dates are fine
        // (tests pin this: an expired configured certificate is still refused).
        let dates_checked = match err {
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => true,
            rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(e))) => {
                matches!(
                    e.downcast_ref::<webpki::Error>(),
                    Some(webpki::Error::CaUsedAsEndEntity)
                )
            }
            _ => false,
        };
        if !dates_checked {
            return Err(err.clone());
        }
        let cert = ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_name(&cert, server_name)
    }
}

impl fmt::Debug for TrustVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustVerifier")
            .field("pinned", &self.pinned.len())
            .finish_non_exhaustive()
    }
}

impl ServerCertVerifier for TrustVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(v) => Ok(v),
            Err(err) => self
                .accept_pinned(end_entity, server_name, &err)
                .map(|()| ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

const TRUST_IT: &str = "tls.caFile or tls.caPem";

/// The certificate errors users meet in plain words, with the fix; `None` for others.
pub(super) fn explain(err: &rustls::Error) -> Option<String> {
    let rustls::Error::InvalidCertificate(cert_err) = err else {
        return None;
    };
    let text = match cert_err {
        CertificateError::NotValidForNameContext {
            expected,
            presented,
        } => {
            let want = expected.to_str();
            if presented.is_empty() {
                format!(
                    "the server's certificate names no host (no subjectAltName), so it is not \
                     valid for {want}; reissue it with subjectAltName {want}"
                )
            } else {
                let names: Vec<&str> = presented.iter().map(|n| plain_name(n)).collect();
                format!(
                    "the server's certificate is for {}, not {want}; use that name in baseUrl, \
                     or reissue the certificate for {want}",
                    names.join(", ")
                )
            }
        }
        CertificateError::NotValidForName => {
            "the server's certificate is not valid for the host in baseUrl; use the name the \
             certificate was issued for, or reissue it"
                .to_owned()
        }
        CertificateError::ExpiredContext { not_after, .. } => format!(
            "the server's certificate expired on {}; renew it on the server",
            date(not_after)
        ),
        CertificateError::Expired => {
            "the server's certificate has expired; renew it on the server".to_owned()
        }
        CertificateError::NotValidYetContext { not_before, .. } => format!(
            "the server's certificate is valid only from {}; check the clock of this machine \
             and of the server",
            date(not_before)
        ),
        CertificateError::UnknownIssuer => format!(
            "the server's certificate is not signed by an authority this machine trusts; put \
             the certificate of the authority that signed it (for a self-signed server, the \
             server's own certificate) in {TRUST_IT}"
        ),
        CertificateError::Other(OtherError(e))
            if matches!(
                e.downcast_ref::<webpki::Error>(),
                Some(webpki::Error::CaUsedAsEndEntity)
            ) =>
        {
            format!(
                "the server uses a CA certificate as its own certificate; put exactly that \
                 certificate in {TRUST_IT} to trust it"
            )
        }
        _ => return None,
    };
    Some(text)
}

/// `DnsName("chat.example.com")` / `IpAddress(10.0.0.1)` (webpki's forms) → the name.
fn plain_name(presented: &str) -> &str {
    ["DnsName(\"", "IpAddress("]
        .iter()
        .find_map(|p| presented.strip_prefix(p))
        .map(|rest| rest.trim_end_matches(')').trim_end_matches('"'))
        .unwrap_or(presented)
}

fn date(t: &UnixTime) -> String {
    i64::try_from(t.as_secs())
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| format!("{} (Unix time)", t.as_secs()))
}

#[cfg(test)]
mod tests;
