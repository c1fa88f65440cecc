//! One rustls [`ClientConfig`] for every connection an account makes.
//!
//! REST (reqwest) and the realtime WebSocket (tokio-tungstenite) must trust the same
//! roots, so the config is built once by [`client_config`] and shared:
//!
//! - reqwest: `ClientBuilder::tls_backend_preconfigured((*config).clone())`
//!   (see [`crate::rest::build_http_client`]);
//! - tokio-tungstenite: `Connector::Rustls(config.clone())`.
//!
//! The ring provider is used explicitly (no process-wide default provider is needed).
//! Trust = the Mozilla roots from `webpki-roots` plus any custom CA certificates
//! (self-hosted servers with a private CA are common); a server whose own certificate is
//! exactly a configured one is trusted too (self-signed servers, see [`verify`]). The
//! insecure switch accepts any certificate and logs a loud warning every time a config is
//! built with it.

mod verify;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// How to verify servers' certificates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// Extra trusted CA certificates, PEM text (one or more `BEGIN CERTIFICATE` blocks).
    pub ca_pem: Option<String>,
    /// A PEM file with extra trusted CA certificates.
    pub ca_file: Option<PathBuf>,
    /// Accept any server certificate. Dangerous: for tests and broken setups only.
    pub insecure_skip_verify: bool,
}

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The CA file could not be read.
    #[error("cannot read CA file {path}: {source}")]
    ReadCaFile {
        /// The configured path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The PEM text is malformed.
    #[error("invalid PEM in {origin}: {reason}")]
    InvalidPem {
        /// `caPem` or the file path.
        origin: String,
        /// What was wrong.
        reason: String,
    },
    /// The PEM text holds no `BEGIN CERTIFICATE` block.
    #[error("no certificate found in {origin} (expected -----BEGIN CERTIFICATE----- blocks)")]
    NoCertificates {
        /// `caPem` or the file path.
        origin: String,
    },
    /// A certificate block does not hold a usable X.509 CA certificate.
    #[error("invalid CA certificate in {origin}: {reason}")]
    BadCertificate {
        /// `caPem` or the file path.
        origin: String,
        /// What rustls said.
        reason: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration error: {0}")]
    Config(#[from] rustls::Error),
}

/// The ring crypto provider, shared by every config.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Build the client config described by `opts`: webpki roots plus custom CAs, or the
/// accept-anything verifier when `insecure_skip_verify` is set (logged as a warning).
pub fn client_config(opts: &TlsOptions) -> Result<Arc<ClientConfig>, TlsError> {
    let provider = crypto_provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;

    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let mut pinned = Vec::new();
    if let Some(pem) = &opts.ca_pem {
        pinned.extend(add_pem(&mut roots, pem.as_bytes(), "caPem")?);
    }
    if let Some(path) = &opts.ca_file {
        let data = std::fs::read(path).map_err(|source| TlsError::ReadCaFile {
            path: path.clone(),
            source,
        })?;
        pinned.extend(add_pem(&mut roots, &data, &path.display().to_string())?);
    }

    let config = if opts.insecure_skip_verify {
        tracing::warn!(
            "TLS certificate verification is DISABLED (insecure_skip_verify): any server, \
             including an attacker's, will be trusted with this account's credentials"
        );
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
            .with_no_client_auth()
    } else {
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| TlsError::Config(rustls::Error::General(e.to_string())))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verify::TrustVerifier::new(webpki, pinned)))
            .with_no_client_auth()
    };
    Ok(Arc::new(config))
}

/// A certificate refusal somewhere in `err`'s chain of causes, in plain words with the fix
/// (the server name, expiry, the `tls.*` key to set); `None` when there is none.
pub fn explain(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return verify::explain(tls);
        }
        // io::Error hides the error it wraps from `source()`
        let inner = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|inner| inner as &(dyn std::error::Error + 'static));
        next = inner.or_else(|| e.source());
    }
    None
}

/// The tokio-tungstenite connector for the realtime WebSocket, on the same config.
pub fn websocket_connector(config: &Arc<ClientConfig>) -> tokio_tungstenite::Connector {
    tokio_tungstenite::Connector::Rustls(config.clone())
}

/// Parse PEM certificates and add them to `roots`; returns them.
fn add_pem(
    roots: &mut RootCertStore,
    pem: &[u8],
    origin: &str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let mut reader = pem;
    let mut added = Vec::new();
    for item in rustls_pemfile::certs(&mut reader) {
        let cert: CertificateDer<'static> = item.map_err(|e| TlsError::InvalidPem {
            origin: origin.to_owned(),
            reason: e.to_string(),
        })?;
        roots
            .add(cert.clone())
            .map_err(|e| TlsError::BadCertificate {
                origin: origin.to_owned(),
                reason: e.to_string(),
            })?;
        added.push(cert);
    }
    if added.is_empty() {
        return Err(TlsError::NoCertificates {
            origin: origin.to_owned(),
        });
    }
    Ok(added)
}

/// Accepts every certificate; signatures are still checked so the handshake is sound.
struct AcceptAnyCert(Arc<CryptoProvider>);

impl fmt::Debug for AcceptAnyCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AcceptAnyCert")
    }
}

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed P-256 CA made for these tests (no private key is kept).
    const TEST_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBjjCCATOgAwIBAgIUDwKO6q6upWgcwEMTSyZU5sXlWGgwCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQb3BlbmNsYXcgdGVzdCBDQTAgFw0yNjExMjUwMzI4MzBaGA8y
MTI2MTEwMTAzMjgzMFowGzEZMBcGA1UEAwwQb3BlbmNsYXcgdGVzdCBDQTBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABCjiPw3l6Wle5GEevfWNwDR381I4HU+0jCav
H2lGeBqy9MUv/pp5nMVmIF5aHSr6hig/vmzULbgdiD++GRRb46ajUzBRMB0GA1Ud
DgQWBBTlgofUrrS39nMj24+ykZEcL4Qd0TAfBgNVHSMEGDAWgBTlgofUrrS39nMj
24+ykZEcL4Qd0TAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQDg
r+8MJQ4n43B+OZuTMNoQQDCGvQvI9dw3M+ICMvhUEgIhANE6XIKNqtUaJikIZOZ5
kAb1lhjXDVdQrpazBjr/M5Jv
-----END CERTIFICATE-----
";

    #[test]
    fn default_config_builds() {
        client_config(&TlsOptions::default()).unwrap();
    }

    #[test]
    fn custom_ca_pem_is_added() {
        let mut roots = RootCertStore::empty();
        assert_eq!(
            add_pem(&mut roots, TEST_CA.as_bytes(), "caPem")
                .unwrap()
                .len(),
            1
        );
        let opts = TlsOptions {
            ca_pem: Some(TEST_CA.to_owned()),
            ..Default::default()
        };
        client_config(&opts).unwrap();
    }

    #[test]
    fn custom_ca_file_is_read() {
        let path = std::env::temp_dir().join(format!("oc-rc-ca-{}.pem", std::process::id()));
        std::fs::write(&path, TEST_CA).unwrap();
        let opts = TlsOptions {
            ca_file: Some(path.clone()),
            ..Default::default()
        };
        let res = client_config(&opts);
        std::fs::remove_file(&path).ok();
        res.unwrap();
    }

    #[test]
    fn garbage_pem_gives_a_clear_error() {
        let opts = TlsOptions {
            ca_pem: Some("this is not a certificate".into()),
            ..Default::default()
        };
        let err = client_config(&opts).unwrap_err();
        assert!(matches!(err, TlsError::NoCertificates { .. }), "{err:?}");
        assert!(err.to_string().contains("no certificate found in caPem"));

        let broken = "-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n";
        let opts = TlsOptions {
            ca_pem: Some(broken.into()),
            ..Default::default()
        };
        let err = client_config(&opts).unwrap_err();
        assert!(
            matches!(
                err,
                TlsError::InvalidPem { .. } | TlsError::BadCertificate { .. }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("caPem"), "{err}");

        let valid_b64_not_x509 =
            "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
        let opts = TlsOptions {
            ca_pem: Some(valid_b64_not_x509.into()),
            ..Default::default()
        };
        let err = client_config(&opts).unwrap_err();
        assert!(matches!(err, TlsError::BadCertificate { .. }), "{err:?}");
    }

    #[test]
    fn missing_ca_file_names_the_path() {
        let opts = TlsOptions {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..Default::default()
        };
        let err = client_config(&opts).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }

    #[test]
    fn insecure_config_builds_and_is_shareable_with_reqwest() {
        let cfg = client_config(&TlsOptions {
            insecure_skip_verify: true,
            ..Default::default()
        })
        .unwrap();
        reqwest::Client::builder()
            .tls_backend_preconfigured((*cfg).clone())
            .build()
            .unwrap();
        assert!(matches!(
            websocket_connector(&cfg),
            tokio_tungstenite::Connector::Rustls(_)
        ));
    }
}
