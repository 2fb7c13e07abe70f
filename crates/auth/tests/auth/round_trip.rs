//! Minted tokens verify into the principal they were minted for.

use std::collections::BTreeSet;

use chrono::Utc;
use costwatch_auth::{KeySource, MintError, MintRequest, Verifier, VerifierConfig};
use costwatch_domain::TenantId;
use costwatch_domain::access::{Role, TenantScope};
use costwatch_ports::Authenticator;
use jsonwebtoken::{Algorithm, Header};
use serde_json::{Value, json};

use crate::common::{assert_invalid, refused, rsa_test_key, signer, unb64, viewer};

#[tokio::test]
async fn mint_then_verify_gives_the_principal() {
    let (_dir, signer) = signer();
    let token = signer.mint(&viewer(&["acme", "globex"])).unwrap();
    let principal = signer.verifier().authenticate(&token).await.unwrap();

    let payload: Value = serde_json::from_slice(&unb64(token.split('.').nth(1).unwrap())).unwrap();
    assert_eq!(payload["iss"], "costwatch-local");
    assert_eq!(payload["aud"], "costwatch");
    assert_eq!(payload["role"], "tenant-viewer");
    let header: Value = serde_json::from_slice(&unb64(token.split('.').next().unwrap())).unwrap();
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], signer.kid());

    assert_eq!(principal.subject, "alice@example.com");
    assert_eq!(principal.role, Role::TenantViewer);
    let tenants: BTreeSet<TenantId> = ["acme", "globex"]
        .iter()
        .map(|t| TenantId::parse(t).unwrap())
        .collect();
    assert_eq!(principal.tenants, TenantScope::Only(tenants));
    assert_eq!(principal.credential_id.as_deref(), payload["jti"].as_str());
    let expires = principal.expires_at.unwrap();
    let expected = Utc::now() + chrono::Duration::hours(1);
    assert!((expires - expected).num_seconds().abs() <= 5);
}

#[tokio::test]
async fn admin_spans_all_tenants_and_each_token_has_its_own_jti() {
    let (_dir, signer) = signer();
    let request = MintRequest {
        subject: "root".into(),
        role: Role::Admin,
        tenants: vec![],
        ttl: chrono::Duration::minutes(5),
    };
    let verifier = signer.verifier();
    let first = verifier
        .authenticate(&signer.mint(&request).unwrap())
        .await
        .unwrap();
    let second = verifier
        .authenticate(&signer.mint(&request).unwrap())
        .await
        .unwrap();
    assert_eq!(first.tenants, TenantScope::All);
    assert_ne!(first.credential_id, second.credential_id);
}

#[test]
fn mint_refuses_claims_the_verifier_would_refuse() {
    let (_dir, signer) = signer();
    assert!(matches!(
        signer.mint(&viewer(&[])),
        Err(MintError::Claims(_))
    ));
    assert!(matches!(
        signer.mint(&viewer(&["no spaces"])),
        Err(MintError::Claims(_))
    ));
    let mut blank = viewer(&["acme"]);
    blank.subject = " ".into();
    assert!(matches!(signer.mint(&blank), Err(MintError::Claims(_))));
    let mut zero = viewer(&["acme"]);
    zero.ttl = chrono::Duration::zero();
    assert!(matches!(signer.mint(&zero), Err(MintError::Ttl)));
}

#[test]
fn public_jwks_is_an_es256_jwk_set() {
    let (_dir, signer) = signer();
    let jwks = signer.public_jwks();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["crv"], "P-256");
    assert_eq!(key["alg"], "ES256");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["kid"], signer.kid());
    assert_eq!(unb64(key["x"].as_str().unwrap()).len(), 32);
    assert_eq!(unb64(key["y"].as_str().unwrap()).len(), 32);
    assert_eq!(signer.kid().len(), 16);
}

/// An external identity provider: RS256 key from a static JWKS, custom role/tenants claims.
fn idp_verifier(jwk: Value) -> Verifier {
    let mut config = VerifierConfig::new(
        "https://idp.example",
        "costwatch-api",
        KeySource::Static(json!({"keys": [jwk]})),
    );
    config.role_claim = "costwatch_role".into();
    config.tenants_claim = "costwatch_tenants".into();
    Verifier::new(config).expect("idp verifier")
}

fn idp_claims() -> Value {
    let now = Utc::now().timestamp();
    json!({"iss": "https://idp.example", "aud": ["costwatch-api", "other"], "sub": "bob",
        "costwatch_role": "tenant-admin", "costwatch_tenants": ["acme"],
        "iat": now, "nbf": now, "exp": now + 600, "jti": "idp-token-1"})
}

#[tokio::test]
async fn rs256_from_a_jwks_with_custom_claims_is_accepted() {
    let (key, jwk) = rsa_test_key("rsa-1");
    let verifier = idp_verifier(jwk);
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("rsa-1".into());
    let token = jsonwebtoken::encode(&header, &idp_claims(), &key).unwrap();
    let principal = verifier.authenticate(&token).await.unwrap();
    assert_eq!(principal.subject, "bob");
    assert_eq!(principal.role, Role::TenantAdmin);
    assert_eq!(principal.credential_id.as_deref(), Some("idp-token-1"));

    // The default claim names are not consulted when others are configured.
    let mut claims = idp_claims();
    claims["role"] = json!("admin");
    claims.as_object_mut().unwrap().remove("costwatch_role");
    let token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    let err = refused(&verifier, &token).await;
    assert_invalid(&err, "costwatch_role: missing role claim");
}

#[tokio::test]
async fn an_rsa_kid_with_an_es256_header_is_refused() {
    let (_key, jwk) = rsa_test_key("rsa-1");
    let verifier = idp_verifier(jwk);
    let (_dir, signer) = signer();
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("rsa-1".into());
    let der = std::fs::read(signer.path()).unwrap();
    let key = jsonwebtoken::EncodingKey::from_ec_der(&der);
    let token = jsonwebtoken::encode(&header, &idp_claims(), &key).unwrap();
    assert_invalid(&refused(&verifier, &token).await, "does not match key");
}

#[test]
fn a_static_jwks_without_usable_keys_is_a_configuration_error() {
    let only_hmac = json!({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]});
    let config = VerifierConfig::new("i", "a", KeySource::Static(only_hmac));
    assert!(Verifier::new(config).is_err());
    let config = VerifierConfig::new("i", "a", KeySource::Static(json!({"nokeys": 1})));
    assert!(Verifier::new(config).is_err());
    let config = VerifierConfig::new("i", "a", KeySource::Url("not a url".into()));
    assert!(Verifier::new(config).is_err());
}
