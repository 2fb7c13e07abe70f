//! Revoked token ids are refused once the revocation file changes.

use std::time::Duration;

use costwatch_auth::revoke;
use costwatch_ports::{AuthError, Authenticator};

use crate::common::{signer, viewer};

#[tokio::test]
async fn a_revoked_jti_is_refused_after_the_file_changes() {
    let (dir, signer) = signer();
    let path = dir.path().join("auth/revoked-tokens");
    std::fs::write(&path, "# revoked token ids\n").unwrap();
    let verifier = signer.verifier().with_revocation_file(&path);
    let token = signer.mint(&viewer(&["acme"])).unwrap();
    let other = signer.mint(&viewer(&["acme"])).unwrap();

    let principal = verifier.authenticate(&token).await.unwrap();
    assert!(!verifier.revoked(&principal).await);
    let jti = principal.credential_id.clone().unwrap();

    revoke(&path, &jti).unwrap();
    // The file is looked at no more than once a second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(verifier.authenticate(&token).await, Err(AuthError::Revoked));
    assert!(verifier.revoked(&principal).await);
    assert!(verifier.authenticate(&other).await.is_ok());
}

#[tokio::test]
async fn a_missing_revocation_file_revokes_nothing() {
    let (dir, signer) = signer();
    let verifier = signer
        .verifier()
        .with_revocation_file(dir.path().join("none"));
    let token = signer.mint(&viewer(&["acme"])).unwrap();
    let principal = verifier.authenticate(&token).await.unwrap();
    assert!(!verifier.revoked(&principal).await);

    // Created later: picked up like any change.
    revoke(
        &dir.path().join("none"),
        principal.credential_id.as_deref().unwrap(),
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(verifier.authenticate(&token).await, Err(AuthError::Revoked));
}
