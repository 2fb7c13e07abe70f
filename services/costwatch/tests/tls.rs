//! `tls_cert_file`/`tls_key_file`: both listeners of `costwatch up` serve TLS only, with a
//! self-signed certificate made for each run.

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use costwatch::{Platform, UpConfig};
use futures::{SinkExt, StreamExt};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::json;
use support::embedded::Embedded;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

struct TestCert {
    pem: String,
}

/// Writes `cert.pem` and `key.pem` for `localhost` and 127.0.0.1 into `dir`.
fn write_cert(dir: &Path) -> TestCert {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("self-signed certificate");
    let pem = made.cert.pem();
    std::fs::write(dir.join("cert.pem"), &pem).expect("write cert");
    std::fs::write(dir.join("key.pem"), made.signing_key.serialize_pem()).expect("write key");
    TestCert { pem }
}

fn client(cert: Option<&TestCert>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(10));
    if let Some(cert) = cert {
        let root = reqwest::Certificate::from_pem(cert.pem.as_bytes()).expect("root");
        builder = builder.add_root_certificate(root);
    }
    builder.build().expect("client")
}

/// A raw TLS connection trusting `cert`, offering `alpn`.
async fn tls_connect(
    addr: SocketAddr,
    cert: &TestCert,
    alpn: &[&[u8]],
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(cert.pem.as_bytes()).expect("pem"))
        .expect("root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("tcp");
    let name = ServerName::try_from("localhost").expect("name");
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("tls handshake")
}

#[tokio::test]
async fn both_listeners_serve_tls_only() {
    let mut cert = None;
    let mut app = Embedded::start(|cfg, dir| {
        cert = Some(write_cert(dir));
        cfg.tls_cert_file = Some(dir.join("cert.pem"));
        cfg.tls_key_file = Some(dir.join("key.pem"));
    })
    .await;
    let cert = cert.expect("cert written");
    let platform = app.platform.as_ref().expect("platform");
    let (http, grpc) = (platform.http_addr, platform.grpc_addr);
    assert!(platform.tls);
    assert_eq!(platform.http_url(), format!("https://{http}"));

    // (a) HTTPS with a client trusting the certificate, and HSTS on the answer.
    let health = client(Some(&cert))
        .get(format!("https://{http}/healthz"))
        .send()
        .await
        .expect("https healthz");
    assert_eq!(health.status().as_u16(), 200);
    assert!(
        health
            .headers()
            .get("strict-transport-security")
            .is_some_and(|v| v.to_str().unwrap_or_default().contains("max-age=")),
        "{:?}",
        health.headers()
    );

    // The API behind the same listener (through auth and the audit layer).
    let graphql = client(Some(&cert))
        .post(format!("https://{http}/graphql"))
        .json(&json!({ "query": "{ tenants }" }))
        .send()
        .await
        .expect("https graphql");
    assert_eq!(graphql.status().as_u16(), 200);

    // (b) Plain HTTP on the same port gets no answer.
    let plain = client(None)
        .get(format!("http://{http}/healthz"))
        .send()
        .await;
    assert!(
        plain.as_ref().map_or(true, |r| !r.status().is_success()),
        "{plain:?}"
    );

    // (c) A client that does not trust the certificate fails the handshake.
    let untrusted = client(None)
        .get(format!("https://{http}/healthz"))
        .send()
        .await;
    let err = untrusted.expect_err("untrusted certificate accepted");
    assert!(err.is_connect(), "{err:?}");

    // h2 is offered on the HTTP listener (browsers and proxies pick it over TLS).
    let h2 = tls_connect(http, &cert, &[b"h2", b"http/1.1"]).await;
    assert_eq!(h2.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    drop(h2);

    // (d) gRPC over TLS: the health check, on a channel trusting the certificate.
    let tls = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(&cert.pem))
        .domain_name("localhost");
    let channel = tonic::transport::Channel::from_shared(format!("https://{grpc}"))
        .expect("uri")
        .tls_config(tls)
        .expect("tls config")
        .connect()
        .await
        .expect("grpc over tls");
    let status = tonic_health::pb::health_client::HealthClient::new(channel)
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health check")
        .into_inner()
        .status;
    assert_eq!(
        status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    // …and plain gRPC is refused.
    let plain_grpc = tonic::transport::Channel::from_shared(format!("http://{grpc}"))
        .expect("uri")
        .connect()
        .await;
    if let Ok(channel) = plain_grpc {
        let refused = tonic_health::pb::health_client::HealthClient::new(channel)
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await;
        assert!(refused.is_err(), "plain gRPC answered");
    }

    // (e) The GraphQL WebSocket upgrades over TLS (HTTP/1.1 upgrade).
    let stream = tls_connect(http, &cert, &[b"http/1.1"]).await;
    let mut req = format!("wss://localhost:{}/graphql/ws", http.port())
        .into_client_request()
        .expect("request");
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut ws, response) = tokio_tungstenite::client_async(req, stream)
        .await
        .expect("websocket over tls");
    assert_eq!(response.status().as_u16(), 101);
    ws.send(Message::text(
        json!({"type": "connection_init", "payload": {}}).to_string(),
    ))
    .await
    .expect("init");
    let ack = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("ack in time")
        .expect("a message")
        .expect("ws message");
    assert!(ack.to_text().unwrap_or_default().contains("connection_ack"));

    if let Some(p) = app.platform.take() {
        p.stop().await;
    }
}

async fn start_error(adjust: impl FnOnce(&mut UpConfig, &Path)) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = UpConfig {
        http: "127.0.0.1:0".parse().expect("addr"),
        grpc: "127.0.0.1:0".parse().expect("addr"),
        data_dir: dir.path().join("data"),
        auth: costwatch::auth::AuthSettings::disabled(),
        rate_limit_per_minute: 0,
        ..UpConfig::default()
    };
    adjust(&mut cfg, dir.path());
    match Platform::start(cfg).await {
        Ok(_) => panic!("started with bad tls settings"),
        Err(e) => format!("{e:#}"),
    }
}

#[tokio::test]
async fn bad_tls_settings_are_named() {
    // (f) A certificate without a key.
    let e = start_error(|cfg, dir| {
        write_cert(dir);
        cfg.tls_cert_file = Some(dir.join("cert.pem"));
    })
    .await;
    assert!(e.contains("tls_key_file: required"), "{e}");

    // A file that holds no PEM certificate.
    let e = start_error(|cfg, dir| {
        write_cert(dir);
        std::fs::write(dir.join("garbage.pem"), "not a certificate").expect("write");
        cfg.tls_cert_file = Some(dir.join("garbage.pem"));
        cfg.tls_key_file = Some(dir.join("key.pem"));
    })
    .await;
    assert!(
        e.contains("tls_cert_file") && e.contains("garbage.pem"),
        "{e}"
    );

    // A key that is not the certificate's.
    let e = start_error(|cfg, dir| {
        write_cert(dir);
        let other = rcgen::KeyPair::generate().expect("key");
        std::fs::write(dir.join("other.pem"), other.serialize_pem()).expect("write");
        cfg.tls_cert_file = Some(dir.join("cert.pem"));
        cfg.tls_key_file = Some(dir.join("other.pem"));
    })
    .await;
    assert!(e.contains("tls_key_file") && e.contains("other.pem"), "{e}");
}
