//! Authentication port: turns a presented credential (a bearer token or an API key) into a
//! [`Principal`]. Adapters: JWT/JWKS verification (`costwatch-auth`), disabled auth (`--auth
//! none`, every caller is the local admin).

use async_trait::async_trait;
use costwatch_domain::access::Principal;

/// Why a credential was refused. The message is safe to return to the caller: it never
/// contains the credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("authentication required: send `Authorization: Bearer <token>`")]
    Missing,
    #[error("invalid credential: {0}")]
    Invalid(String),
    #[error("credential expired")]
    Expired,
    #[error("credential revoked")]
    Revoked,
    /// The verifier could not decide (e.g. the JWKS endpoint is down): not the caller's fault.
    #[error("authentication unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Authenticator: Send + Sync {
    /// Verifies `credential` (the text after `Bearer `, or an API key).
    async fn authenticate(&self, credential: &str) -> Result<Principal, AuthError>;

    /// Whether the credential behind `principal` was revoked since it was verified (long-lived
    /// subscriptions ask this periodically). Default: revocation is not supported.
    async fn revoked(&self, _principal: &Principal) -> bool {
        false
    }

    /// `false` when auth is off (`--auth none`): every caller is the local admin and a missing
    /// credential is fine.
    fn required(&self) -> bool {
        true
    }
}

/// Auth turned off: everyone is [`Principal::local_admin`]. Only for loopback listeners.
pub struct NoAuth;

#[async_trait]
impl Authenticator for NoAuth {
    async fn authenticate(&self, _credential: &str) -> Result<Principal, AuthError> {
        Ok(Principal::local_admin())
    }

    fn required(&self) -> bool {
        false
    }
}

/// The credential of an `Authorization: Bearer <token>` header value.
pub fn bearer(value: &str) -> Result<&str, AuthError> {
    match value.trim().split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(AuthError::Invalid(
            "Authorization: expected `Bearer <token>`".into(),
        )),
    }
}

/// The principal for a request's `Authorization` header value (if any): a missing header is
/// the local admin only when auth is off.
pub async fn principal_for(
    authenticator: &dyn Authenticator,
    header: Option<&str>,
) -> Result<Principal, AuthError> {
    match header.map(bearer) {
        Some(Ok(token)) => authenticator.authenticate(token).await,
        Some(Err(e)) => Err(e),
        None if !authenticator.required() => Ok(Principal::local_admin()),
        None => Err(AuthError::Missing),
    }
}
