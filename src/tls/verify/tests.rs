//! Handshakes in memory against servers with self-signed certificates.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, ServerName};

use crate::tls::{client_config, crypto_provider, TlsOptions};

struct ServerCert {
    pem: String,
    server: Arc<rustls::ServerConfig>,
}

/// What `openssl req -x509 -addext subjectAltName=DNS:<name>` makes: one self-signed
/// certificate marked as a CA, used as the server's own.
fn self_signed_ca(name: &str, years: (i32, i32)) -> ServerCert {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec![name.to_owned()]).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.not_before = rcgen::date_time_ymd(years.0, 1, 1);
    params.not_after = rcgen::date_time_ymd(years.1, 1, 1);
    let cert = params.self_signed(&key).unwrap();
    let server = rustls::ServerConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    ServerCert {
        pem: cert.pem(),
        server: Arc::new(server),
    }
}

const VALID: (i32, i32) = (2020, 2200);

/// Connect to `server` as `name` with `opts`; the client's error text on failure.
async fn handshake(server: &ServerCert, name: &str, opts: &TlsOptions) -> Result<(), String> {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let acceptor = tokio_rustls::TlsAcceptor::from(server.server.clone());
    let connector = tokio_rustls::TlsConnector::from(client_config(opts).unwrap());
    let name = ServerName::try_from(name.to_owned()).unwrap();
    let (client, _server) = tokio::join!(
        connector.connect(name, client_io),
        acceptor.accept(server_io)
    );
    client
        .map(drop)
        .map_err(|e| crate::tls::explain(&e).unwrap_or_else(|| format!("not explained: {e}")))
}

fn ca_pem(pem: &str) -> TlsOptions {
    TlsOptions {
        ca_pem: Some(pem.to_owned()),
        ..TlsOptions::default()
    }
}

#[tokio::test]
async fn a_self_signed_server_certificate_configured_as_ca_is_trusted() {
    let srv = self_signed_ca("localhost", VALID);
    handshake(&srv, "localhost", &ca_pem(&srv.pem))
        .await
        .expect("caPem holding the server's own certificate is trusted");

    let path = std::env::temp_dir().join(format!("oc-rc-self-{}.pem", std::process::id()));
    std::fs::write(&path, &srv.pem).unwrap();
    let by_file = TlsOptions {
        ca_file: Some(path.clone()),
        ..TlsOptions::default()
    };
    let res = handshake(&srv, "localhost", &by_file).await;
    std::fs::remove_file(&path).ok();
    res.expect("caFile holding the server's own certificate is trusted");
}

#[tokio::test]
async fn a_configured_certificate_for_another_name_is_refused_in_plain_words() {
    let srv = self_signed_ca("chat.example.com", VALID);
    let err = handshake(&srv, "localhost", &ca_pem(&srv.pem))
        .await
        .expect_err("the name is still checked");
    assert!(
        err.contains("the server's certificate is for chat.example.com, not localhost"),
        "{err}"
    );
    assert!(err.contains("baseUrl"), "{err}");
}

#[tokio::test]
async fn an_expired_configured_certificate_is_refused() {
    let srv = self_signed_ca("localhost", (2019, 2021));
    let err = handshake(&srv, "localhost", &ca_pem(&srv.pem))
        .await
        .expect_err("the validity period is still checked");
    assert!(
        err.contains("the server's certificate expired on 2021-01-01"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unconfigured_self_signed_certificate_names_the_fix() {
    let srv = self_signed_ca("localhost", VALID);
    let other = self_signed_ca("localhost", VALID);
    for opts in [TlsOptions::default(), ca_pem(&other.pem)] {
        let err = handshake(&srv, "localhost", &opts)
            .await
            .expect_err("a certificate that is not configured is not trusted");
        assert!(err.contains("tls.caFile or tls.caPem"), "{err}");
        assert!(!err.contains("UnknownIssuer"), "{err}");
    }
}

/// An HTTPS server on loopback answering every request with the bot's `/me`.
async fn https_me(server: Arc<rustls::ServerConfig>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tokio_rustls::TlsAcceptor::from(server);
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(sock).await else {
                    return;
                };
                let mut buf = [0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let body = r#"{"_id":"Bq7dYg4KxWnZcT3rA","username":"mybot","success":true}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    format!("https://127.0.0.1:{port}")
}

fn rest(base: &str, opts: &TlsOptions) -> crate::rest::RestClient {
    use crate::auth::StaticToken;
    use crate::secret::Secret;
    crate::rest::RestClient::new(
        base,
        client_config(opts).unwrap(),
        Arc::new(StaticToken::new("Bq7dYg4KxWnZcT3rA", Secret::new("pat"))),
        crate::rest::RestOptions {
            max_retries: 0,
            ..Default::default()
        },
    )
    .unwrap()
}

#[tokio::test]
async fn rest_calls_reach_a_self_signed_server_and_say_why_when_they_cannot() {
    let srv = self_signed_ca("127.0.0.1", VALID);
    let base = https_me(srv.server.clone()).await;
    let me = rest(&base, &ca_pem(&srv.pem)).me().await.expect("trusted");
    assert_eq!(me.username.as_deref(), Some("mybot"));

    let err = rest(&base, &TlsOptions::default()).me().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "GET /api/v1/me: network error: cannot connect securely: the server uses a CA \
         certificate as its own certificate; put exactly that certificate in tls.caFile or \
         tls.caPem to trust it"
    );

    let other = self_signed_ca("chat.example.com", VALID);
    let base = https_me(other.server.clone()).await;
    let err = rest(&base, &ca_pem(&other.pem)).me().await.unwrap_err();
    assert!(
        err.to_string().contains(
            "cannot connect securely: the server's certificate is for chat.example.com, not \
             127.0.0.1"
        ),
        "{err}"
    );
}
