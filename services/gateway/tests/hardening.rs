//! The hardened gateway as served: security headers on the dashboard's static files and on
//! GraphQL, and a `/graphql/ws` WebSocket session that outlives the request timeout.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use costwatch_gateway::hardening::{HardeningConfig, harden};
use costwatch_gateway::router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;

/// The router, and the dashboard folder it serves (removed when dropped).
fn hardened(timeout: Duration) -> (tempfile::TempDir, axum::Router) {
    let web = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    std::fs::write(
        web.path().join("index.html"),
        "<!doctype html><title>cw</title>",
    )
    .unwrap_or_else(|e| panic!("index.html: {e}"));
    let app = router(state(&FakeStore::default(), &FakeUpdates::default()))
        .fallback_service(tower_http::services::ServeDir::new(web.path()));
    let app = harden(
        app,
        &HardeningConfig {
            request_timeout: timeout,
            ..HardeningConfig::default()
        },
    );
    (web, app)
}

fn assert_security_headers(res: &axum::response::Response, what: &str) {
    let h = res.headers();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cross-origin-opener-policy", "same-origin"),
    ] {
        assert_eq!(
            h.get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{what}: {name}"
        );
    }
    assert!(h.contains_key("content-security-policy"), "{what}: CSP");
}

#[tokio::test]
async fn static_files_graphql_and_graphiql_carry_the_security_headers() {
    let (_web, app) = hardened(Duration::from_secs(30));
    let res = app
        .clone()
        .oneshot(Request::get("/").body(Body::empty()).unwrap_or_default())
        .await
        .unwrap_or_else(|e| match e {});
    assert_eq!(res.status(), StatusCode::OK);
    assert_security_headers(&res, "GET /");

    let res = app
        .clone()
        .oneshot(
            Request::get("/graphql")
                .body(Body::empty())
                .unwrap_or_default(),
        )
        .await
        .unwrap_or_else(|e| match e {});
    assert_eq!(res.status(), StatusCode::OK);
    assert_security_headers(&res, "GET /graphql");
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap_or_default();
    assert!(csp.contains("https://unpkg.com"), "GraphiQL blocked: {csp}");

    let res = app
        .oneshot(
            Request::post("/graphql")
                .header("content-type", "application/json")
                .body(Body::from(r#"{"query":"{ tenants }"}"#))
                .unwrap_or_default(),
        )
        .await
        .unwrap_or_else(|e| match e {});
    assert_eq!(res.status(), StatusCode::OK);
    assert_security_headers(&res, "POST /graphql");
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap_or_default();
    assert!(!csp.contains("unpkg"), "{csp}");
}

/// Reads one unmasked server frame (short payloads only) and returns its text.
async fn read_text_frame(stream: &mut TcpStream) -> String {
    let mut head = [0u8; 2];
    stream
        .read_exact(&mut head)
        .await
        .unwrap_or_else(|e| panic!("frame header: {e}"));
    assert_eq!(head[0], 0x81, "not a final text frame: {head:?}");
    let mut len = usize::from(head[1] & 0x7f);
    if len == 126 {
        let mut ext = [0u8; 2];
        stream
            .read_exact(&mut ext)
            .await
            .unwrap_or_else(|e| panic!("frame length: {e}"));
        len = usize::from(u16::from_be_bytes(ext));
    }
    let mut payload = vec![0u8; len];
    stream
        .read_exact(&mut payload)
        .await
        .unwrap_or_else(|e| panic!("frame payload: {e}"));
    String::from_utf8(payload).unwrap_or_default()
}

/// A masked client text frame (RFC 6455 requires clients to mask).
fn text_frame(text: &str) -> Vec<u8> {
    let mask = [0x11, 0x22, 0x33, 0x44];
    let bytes = text.as_bytes();
    assert!(bytes.len() < 126);
    let mut frame = vec![0x81, 0x80 | bytes.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend(bytes.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

#[tokio::test]
async fn a_websocket_session_outlives_the_request_timeout() {
    let timeout = Duration::from_millis(200);
    let (_web, app) = hardened(timeout);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("addr: {e}"));
    let server = tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let _ = axum::serve(listener, app).await;
    });

    let mut ws = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let upgrade = format!(
        "GET /graphql/ws HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
    );
    ws.write_all(upgrade.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("upgrade request: {e}"));
    let mut response = Vec::new();
    while !response.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        ws.read_exact(&mut byte)
            .await
            .unwrap_or_else(|e| panic!("upgrade response: {e}"));
        response.push(byte[0]);
    }
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 101"), "{response}");

    // Well past the request timeout, the session still answers.
    tokio::time::sleep(timeout * 3).await;
    ws.write_all(&text_frame(r#"{"type":"connection_init","payload":{}}"#))
        .await
        .unwrap_or_else(|e| panic!("connection_init: {e}"));
    let ack = tokio::time::timeout(Duration::from_secs(5), read_text_frame(&mut ws))
        .await
        .unwrap_or_else(|_| panic!("no connection_ack"));
    assert!(ack.contains("connection_ack"), "{ack}");
    server.abort();
}
