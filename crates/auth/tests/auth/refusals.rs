//! Tokens that must be refused, and what the caller is told.

use chrono::Utc;
use costwatch_ports::{AuthError, Authenticator};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::common::{
    assert_invalid, b64, forge, local_claims, refused, sign_as, signer, unb64, viewer,
};

#[tokio::test]
async fn an_expired_token_is_expired() {
    let (_dir, signer) = signer();
    let mut claims = local_claims();
    claims["exp"] = json!(Utc::now().timestamp() - 120);
    let err = refused(&signer.verifier(), &sign_as(&signer, &claims)).await;
    assert_eq!(err, AuthError::Expired);
}

#[tokio::test]
async fn expiry_within_the_leeway_is_tolerated() {
    let (_dir, signer) = signer();
    let mut claims = local_claims();
    claims["exp"] = json!(Utc::now().timestamp() - 5);
    let token = sign_as(&signer, &claims);
    assert!(signer.verifier().authenticate(&token).await.is_ok());
}

#[tokio::test]
async fn wrong_issuer_or_audience_is_named() {
    let (_dir, signer) = signer();
    let verifier = signer.verifier();
    let mut claims = local_claims();
    claims["iss"] = json!("someone-else");
    assert_invalid(&refused(&verifier, &sign_as(&signer, &claims)).await, "iss");

    let mut claims = local_claims();
    claims["aud"] = json!("another-service");
    assert_invalid(&refused(&verifier, &sign_as(&signer, &claims)).await, "aud");

    let mut claims = local_claims();
    claims.as_object_mut().unwrap().remove("aud");
    assert_invalid(
        &refused(&verifier, &sign_as(&signer, &claims)).await,
        "aud: missing",
    );
}

#[tokio::test]
async fn not_yet_valid_missing_sub_and_missing_role_are_refused() {
    let (_dir, signer) = signer();
    let verifier = signer.verifier();
    let mut claims = local_claims();
    claims["nbf"] = json!(Utc::now().timestamp() + 600);
    assert_invalid(&refused(&verifier, &sign_as(&signer, &claims)).await, "nbf");

    let mut claims = local_claims();
    claims.as_object_mut().unwrap().remove("sub");
    assert_invalid(&refused(&verifier, &sign_as(&signer, &claims)).await, "sub");

    let mut claims = local_claims();
    claims.as_object_mut().unwrap().remove("role");
    assert_invalid(
        &refused(&verifier, &sign_as(&signer, &claims)).await,
        "role: missing role claim",
    );

    let mut claims = local_claims();
    claims["role"] = json!("superuser");
    assert_invalid(
        &refused(&verifier, &sign_as(&signer, &claims)).await,
        "role",
    );

    let mut claims = local_claims();
    claims["tenants"] = json!([]);
    assert_invalid(
        &refused(&verifier, &sign_as(&signer, &claims)).await,
        "tenants",
    );
}

#[tokio::test]
async fn a_tampered_payload_is_refused() {
    let (_dir, signer) = signer();
    let token = signer.mint(&viewer(&["acme"])).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let payload = String::from_utf8(unb64(parts[1])).unwrap();
    assert!(payload.contains("\"acme\""));
    let tampered = b64(payload.replace("\"acme\"", "\"evil\"").as_bytes());
    let token = format!("{}.{}.{}", parts[0], tampered, parts[2]);
    let err = refused(&signer.verifier(), &token).await;
    assert_invalid(&err, "signature does not verify");
}

#[tokio::test]
async fn alg_none_is_refused() {
    let (_dir, signer) = signer();
    let header = json!({"alg": "none", "typ": "JWT", "kid": signer.kid()});
    let token = forge(&header, &local_claims(), b"");
    assert_invalid(
        &refused(&signer.verifier(), &token).await,
        "algorithm none is not accepted",
    );
    let token = token.trim_end_matches('.').to_owned();
    assert!(matches!(
        refused(&signer.verifier(), &token).await,
        AuthError::Invalid(_)
    ));
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let (_dir, signer) = signer();
    let jwks = signer.public_jwks();
    let key = &jwks["keys"][0];
    let mut point = vec![0x04];
    point.extend(unb64(key["x"].as_str().unwrap()));
    point.extend(unb64(key["y"].as_str().unwrap()));
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(signer.kid().to_owned());
    for secret in [
        point,
        jwks.to_string().into_bytes(),
        key.to_string().into_bytes(),
    ] {
        let token =
            jsonwebtoken::encode(&header, &local_claims(), &EncodingKey::from_secret(&secret))
                .unwrap();
        let err = refused(&signer.verifier(), &token).await;
        assert_invalid(&err, "algorithm HS256 is not accepted");
    }
}

#[tokio::test]
async fn other_algorithms_and_critical_headers_are_refused() {
    let (_dir, signer) = signer();
    for alg in ["RS512", "PS256", "ES384", "EdDSA", "HS512"] {
        let token = forge(
            &json!({"alg": alg, "kid": signer.kid()}),
            &local_claims(),
            b"sig",
        );
        let err = refused(&signer.verifier(), &token).await;
        assert_invalid(&err, &format!("algorithm {alg} is not accepted"));
    }
    let token = forge(
        &json!({"alg": "ES256", "crit": ["exp"]}),
        &local_claims(),
        b"sig",
    );
    assert_invalid(&refused(&signer.verifier(), &token).await, "critical");
}

#[tokio::test]
async fn an_unknown_kid_is_refused() {
    let (_dir, signer) = signer();
    let (_other_dir, other) = crate::common::signer();
    let token = other.mint(&viewer(&["acme"])).unwrap();
    let err = refused(&signer.verifier(), &token).await;
    assert_invalid(&err, &format!("unknown key id {}", other.kid()));

    // Another key claiming our kid: the signature gives it away.
    let der = std::fs::read(other.path()).unwrap();
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(signer.kid().to_owned());
    let token =
        jsonwebtoken::encode(&header, &local_claims(), &EncodingKey::from_ec_der(&der)).unwrap();
    assert_invalid(
        &refused(&signer.verifier(), &token).await,
        "signature does not verify",
    );
}

#[tokio::test]
async fn malformed_and_missing_credentials() {
    let (_dir, signer) = signer();
    let verifier = signer.verifier();
    assert_eq!(verifier.authenticate("").await, Err(AuthError::Missing));
    assert_eq!(verifier.authenticate("   ").await, Err(AuthError::Missing));
    for junk in ["abc", "a.b", "a.b.c.d", "!!!.e30.sig", "e30.e30.sig"] {
        assert!(matches!(
            refused(&verifier, junk).await,
            AuthError::Invalid(_)
        ));
    }
    let header: Value = json!({"alg": "ES256", "kid": signer.kid()});
    let token = format!(
        "{}.not-json.{}",
        b64(header.to_string().as_bytes()),
        b64(b"x")
    );
    assert!(matches!(
        refused(&verifier, &token).await,
        AuthError::Invalid(_)
    ));
}
