//! Helpers shared by the tests: a local signer in a temp dir, and hand-made tokens.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::Utc;
use costwatch_auth::{LocalSigner, MintRequest, Verifier};
use costwatch_domain::access::Role;
use costwatch_ports::{AuthError, Authenticator};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tempfile::TempDir;

pub(crate) fn signer() -> (TempDir, LocalSigner) {
    let dir = tempfile::tempdir().expect("temp dir");
    let signer = LocalSigner::load_or_create(dir.path()).expect("local signer");
    (dir, signer)
}

pub(crate) fn viewer(tenants: &[&str]) -> MintRequest {
    MintRequest {
        subject: "alice@example.com".into(),
        role: Role::TenantViewer,
        tenants: tenants.iter().map(|t| (*t).to_owned()).collect(),
        ttl: chrono::Duration::hours(1),
    }
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

/// The claims the local signer would mint, as JSON to be altered by a test.
pub(crate) fn local_claims() -> Value {
    let now = Utc::now().timestamp();
    json!({
        "iss": "costwatch-local",
        "aud": "costwatch",
        "sub": "alice@example.com",
        "role": "tenant-viewer",
        "tenants": ["acme"],
        "iat": now,
        "exp": now + 3600,
        "jti": uuid::Uuid::new_v4().to_string(),
    })
}

/// Signs arbitrary claims with the signer's own private key (read from its file), so a test can
/// make validly signed tokens the signer would never mint (expired, wrong issuer, ...).
pub(crate) fn sign_as(signer: &LocalSigner, claims: &Value) -> String {
    let der = std::fs::read(signer.path()).expect("key file");
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(signer.kid().to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(&der)).expect("sign")
}

/// A token from raw header and claims JSON and raw signature bytes.
pub(crate) fn forge(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes()),
        b64(signature)
    )
}

/// Asserts `token` is refused, and that the message does not leak it.
pub(crate) async fn refused(verifier: &Verifier, token: &str) -> AuthError {
    let err = verifier
        .authenticate(token)
        .await
        .expect_err("token should be refused");
    let message = err.to_string();
    assert!(
        !message.contains(token),
        "message leaks the token: {message}"
    );
    if let Some(signature) = token.rsplit('.').next().filter(|s| s.len() > 8) {
        assert!(!message.contains(signature), "message leaks the signature");
    }
    err
}

pub(crate) fn assert_invalid(err: &AuthError, needle: &str) {
    match err {
        AuthError::Invalid(reason) => {
            assert!(
                reason.contains(needle),
                "{reason:?} should mention {needle:?}"
            );
        }
        other => panic!("expected Invalid mentioning {needle:?}, got {other:?}"),
    }
}

/// The test RSA key: its PKCS#1 DER, and its public JWK (n, e computed with ring).
pub(crate) fn rsa_test_key(kid: &str) -> (EncodingKey, Value) {
    let pem = include_str!("../fixtures/rsa-test-key.pem");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(body).expect("fixture base64");
    let pair = ring::rsa::KeyPair::from_der(&der).expect("fixture RSA key");
    let public = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public());
    let jwk = json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
        "n": b64(&public.n), "e": b64(&public.e)});
    (EncodingKey::from_rsa_der(&der), jwk)
}
