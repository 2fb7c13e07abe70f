//! A JWKS endpoint over HTTP: fetched on first use, re-fetched once for a rotated key.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use costwatch_auth::{KeySource, LocalSigner, Verifier, VerifierConfig};
use costwatch_ports::{AuthError, Authenticator};
use serde_json::Value;

use crate::common::{assert_invalid, refused, signer, viewer};

#[derive(Clone)]
struct Jwks {
    body: Arc<Mutex<Value>>,
    hits: Arc<AtomicUsize>,
}

impl Jwks {
    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn serve_keys_of(&self, signer: &LocalSigner) {
        *self.body.lock().expect("jwks lock") = signer.public_jwks();
    }
}

async fn jwks(State(state): State<Jwks>) -> Json<Value> {
    state.hits.fetch_add(1, Ordering::SeqCst);
    Json(state.body.lock().expect("jwks lock").clone())
}

async fn serve(initial: Value) -> (String, Jwks) {
    let state = Jwks {
        body: Arc::new(Mutex::new(initial)),
        hits: Arc::new(AtomicUsize::new(0)),
    };
    let app = Router::new()
        .route("/jwks.json", get(jwks))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/jwks.json"), state)
}

fn remote_verifier(url: String) -> Verifier {
    Verifier::new(VerifierConfig::new(
        "costwatch-local",
        "costwatch",
        KeySource::Url(url),
    ))
    .expect("remote verifier")
}

#[tokio::test]
async fn a_rotated_key_triggers_one_refetch() {
    let (_a_dir, old) = signer();
    let (_b_dir, new) = signer();
    let (_c_dir, stranger) = signer();
    let (url, server) = serve(old.public_jwks()).await;
    let verifier = remote_verifier(url);
    assert_eq!(
        server.hits(),
        0,
        "nothing is fetched before the first token"
    );

    let token = old.mint(&viewer(&["acme"])).unwrap();
    verifier.authenticate(&token).await.unwrap();
    verifier.authenticate(&token).await.unwrap();
    assert_eq!(server.hits(), 1);

    // The provider rotates: the old key is gone, the new one is served.
    server.serve_keys_of(&new);
    let token = new.mint(&viewer(&["acme"])).unwrap();
    let principal = verifier.authenticate(&token).await.unwrap();
    assert_eq!(principal.subject, "alice@example.com");
    assert_eq!(server.hits(), 2, "exactly one re-fetch for the new kid");
    verifier.authenticate(&token).await.unwrap();
    assert_eq!(server.hits(), 2);

    // Another unknown kid within the minute: no fetch, refused.
    let token = stranger.mint(&viewer(&["acme"])).unwrap();
    let err = refused(&verifier, &token).await;
    assert_invalid(&err, "unknown key id");
    assert_eq!(server.hits(), 2, "re-fetches are rate limited");
}

#[tokio::test]
async fn an_unreachable_jwks_endpoint_is_unavailable() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let verifier = remote_verifier(format!("http://{addr}/jwks.json"));
    let (_dir, signer) = signer();
    let token = signer.mint(&viewer(&["acme"])).unwrap();
    let err = refused(&verifier, &token).await;
    assert!(matches!(err, AuthError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn a_jwks_endpoint_serving_garbage_is_unavailable() {
    let (url, _server) = serve(serde_json::json!({"not": "a jwks"})).await;
    let verifier = remote_verifier(url);
    let (_dir, signer) = signer();
    let token = signer.mint(&viewer(&["acme"])).unwrap();
    let err = refused(&verifier, &token).await;
    assert!(matches!(err, AuthError::Unavailable(_)), "{err:?}");
}
