//! Verifies bearer tokens (JWT, RS256 or ES256) into a [`Principal`].
//!
//! The header is inspected by hand before anything else so that only RS256 and ES256 reach the
//! library: `alg: none`, HMAC (where a public key could be abused as the shared secret) and every
//! other algorithm are refused by name. Error messages describe the claim that failed and never
//! echo the token.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::DateTime;
use costwatch_domain::access::{Principal, PrincipalError};
use costwatch_ports::{AuthError, Authenticator};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};

use crate::jwks::{KeySet, Lookup, RemoteKeys, VerifyKey};
use crate::revocation::RevocationList;

/// Where the verification keys come from.
#[derive(Debug, Clone, PartialEq)]
pub enum KeySource {
    /// A JWK Set given in configuration (`{"keys": [...]}`).
    Static(Value),
    /// A JWKS endpoint, fetched on first use and again when a token names an unknown `kid`
    /// (at most once a minute), which is how the identity provider's key rotation reaches us.
    Url(String),
}

/// What a token must look like to be accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifierConfig {
    /// Required `iss`.
    pub issuer: String,
    /// Required member of `aud`.
    pub audience: String,
    pub keys: KeySource,
    /// Claim holding the Costwatch role (`admin`, `tenant-viewer`, ...); default `role`.
    pub role_claim: String,
    /// Claim holding the tenant ids (array, or a single string); default `tenants`.
    pub tenants_claim: String,
    /// Clock skew tolerated on `exp` and `nbf`; default 30 s.
    pub leeway_secs: u64,
}

impl VerifierConfig {
    /// A configuration with the default claim names and leeway.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>, keys: KeySource) -> Self {
        VerifierConfig {
            issuer: issuer.into(),
            audience: audience.into(),
            keys,
            role_claim: "role".into(),
            tenants_claim: "tenants".into(),
            leeway_secs: 30,
        }
    }
}

/// A configuration that cannot work (reported at startup, not per request).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifierError {
    #[error("static JWK Set: {0}")]
    Jwks(String),
    #[error("static JWK Set has no RS256 or ES256 signing key")]
    NoKeys,
    #[error("{0}")]
    Url(String),
}

enum Keys {
    Static(Arc<KeySet>),
    Remote(RemoteKeys),
}

/// JWT verifier: the production [`Authenticator`].
pub struct Verifier {
    issuer: String,
    audience: String,
    role_claim: String,
    tenants_claim: String,
    leeway_secs: u64,
    keys: Keys,
    revocation: Option<RevocationList>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// Builds a verifier; a static key set is parsed now, a URL is only checked for syntax (the
    /// endpoint is fetched on the first token, so startup does not depend on the provider).
    pub fn new(config: VerifierConfig) -> Result<Verifier, VerifierError> {
        let keys = match &config.keys {
            KeySource::Static(set) => {
                let keys = KeySet::parse(set).map_err(VerifierError::Jwks)?;
                if keys.len() == 0 {
                    return Err(VerifierError::NoKeys);
                }
                Keys::Static(Arc::new(keys))
            }
            KeySource::Url(url) => {
                Keys::Remote(RemoteKeys::new(url.clone()).map_err(VerifierError::Url)?)
            }
        };
        Ok(Verifier::build(config, keys))
    }

    /// A verifier over an already parsed key set (the local signer's own key).
    pub(crate) fn with_keys(config: VerifierConfig, keys: KeySet) -> Verifier {
        Verifier::build(config, Keys::Static(Arc::new(keys)))
    }

    fn build(config: VerifierConfig, keys: Keys) -> Verifier {
        Verifier {
            issuer: config.issuer,
            audience: config.audience,
            role_claim: config.role_claim,
            tenants_claim: config.tenants_claim,
            leeway_secs: config.leeway_secs,
            keys,
            revocation: None,
        }
    }

    /// Refuses tokens whose `jti` is listed in `path` (see [`crate::revoke`]). The file may not
    /// exist yet; it is re-read when it changes. A token without `jti` cannot be revoked (the
    /// local signer always sets one; configure the identity provider to do the same).
    #[must_use]
    pub fn with_revocation_file(mut self, path: impl Into<PathBuf>) -> Verifier {
        self.revocation = Some(RevocationList::new(path.into()));
        self
    }

    /// The key for a token's `kid` and `alg`, re-fetching a remote set once for an unknown kid.
    async fn key_for(&self, kid: Option<&str>, alg: Algorithm) -> Result<VerifyKey, AuthError> {
        let set = match &self.keys {
            Keys::Static(set) => Arc::clone(set),
            Keys::Remote(remote) => remote.current().await.map_err(AuthError::Unavailable)?,
        };
        let lookup = match (set.find(kid, alg), &self.keys) {
            (Lookup::Unknown, Keys::Remote(remote)) => remote
                .refresh()
                .await
                .map_err(AuthError::Unavailable)?
                .find(kid, alg),
            (lookup, _) => lookup,
        };
        match lookup {
            Lookup::Found(key) => Ok(key),
            Lookup::Unknown => Err(AuthError::Invalid(match kid {
                Some(kid) => format!("unknown key id {}", printable(kid)),
                None => format!("no key for algorithm {alg:?}"),
            })),
            Lookup::WrongAlgorithm => Err(AuthError::Invalid(format!(
                "algorithm {alg:?} does not match key {}",
                printable(kid.unwrap_or_default())
            ))),
            Lookup::Ambiguous => Err(AuthError::Invalid(
                "token names no kid and several keys could verify it".into(),
            )),
        }
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = self.leeway_secs;
        validation
    }

    /// Turns verified claims into a principal, reading role and tenants from the configured
    /// claims so tokens of an external identity provider can be mapped without rewriting them.
    fn principal(&self, claims: &Map<String, Value>) -> Result<Principal, AuthError> {
        let invalid = |msg: String| AuthError::Invalid(msg);
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("sub: missing".into()))?;
        let role_claim = &self.role_claim;
        let role = match claims.get(role_claim) {
            Some(Value::String(role)) => role,
            Some(_) => {
                return Err(invalid(format!(
                    "{role_claim}: role claim must be a string"
                )));
            }
            None => return Err(invalid(format!("{role_claim}: missing role claim"))),
        };
        let tenants_claim = &self.tenants_claim;
        let tenants = match claims.get(tenants_claim) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(one)) => vec![one.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    item.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| invalid(format!("{tenants_claim}[{i}]: must be a string")))
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => {
                return Err(invalid(format!(
                    "{tenants_claim}: must be an array of tenant ids"
                )));
            }
        };
        let expires_at = claims
            .get("exp")
            .and_then(Value::as_i64)
            .and_then(|exp| DateTime::from_timestamp(exp, 0));
        let mut principal =
            Principal::from_claims(subject, role, &tenants, expires_at).map_err(|e| match e {
                PrincipalError::Role(reason) => invalid(format!("{role_claim}: {reason}")),
                other => invalid(other.to_string()),
            })?;
        principal.credential_id = claims.get("jti").and_then(Value::as_str).map(str::to_owned);
        Ok(principal)
    }
}

#[async_trait]
impl Authenticator for Verifier {
    async fn authenticate(&self, credential: &str) -> Result<Principal, AuthError> {
        let token = credential.trim();
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        let (alg, kid) = read_header(token)?;
        let key = self.key_for(kid.as_deref(), alg).await?;
        let data =
            jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &self.validation(alg))
                .map_err(|e| jwt_error(e.kind()))?;
        let principal = self.principal(&data.claims)?;
        if let (Some(list), Some(jti)) = (&self.revocation, &principal.credential_id) {
            // Fail closed: an unreadable revocation file must not let a revoked token in.
            if list.is_revoked(jti).map_err(AuthError::Unavailable)? {
                return Err(AuthError::Revoked);
            }
        }
        Ok(principal)
    }

    async fn revoked(&self, principal: &Principal) -> bool {
        let (Some(list), Some(jti)) = (&self.revocation, &principal.credential_id) else {
            return false;
        };
        list.is_revoked(jti).unwrap_or_else(|reason| {
            // A live subscription is not cut for an I/O hiccup: answer from the last list read.
            tracing::warn!(%reason, "revocation file unreadable; using the last list read");
            list.known_revoked(jti)
        })
    }
}

/// Reads `alg` and `kid` from the header, refusing every algorithm but RS256 and ES256.
fn read_header(token: &str) -> Result<(Algorithm, Option<String>), AuthError> {
    let malformed =
        || AuthError::Invalid("malformed token: expected header.payload.signature".into());
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let header: Value = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| AuthError::Invalid("malformed token header".into()))?;
    let alg = match header.get("alg").and_then(Value::as_str) {
        Some("RS256") => Algorithm::RS256,
        Some("ES256") => Algorithm::ES256,
        Some(other) => {
            return Err(AuthError::Invalid(format!(
                "algorithm {} is not accepted",
                printable(other)
            )));
        }
        None => return Err(AuthError::Invalid("token header has no alg".into())),
    };
    // RFC 7515 §4.1.11: extensions marked critical must be understood; we understand none.
    if header.get("crit").is_some() {
        return Err(AuthError::Invalid(
            "critical header extensions are not supported".into(),
        ));
    }
    let kid = header.get("kid").and_then(Value::as_str).map(str::to_owned);
    Ok((alg, kid))
}

/// A header value as it may appear in an error message: short, printable ASCII only, so a
/// crafted header cannot inject text or stuff logs.
fn printable(raw: &str) -> String {
    let mut shown: String = raw
        .chars()
        .take(40)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect();
    if raw.chars().count() > 40 {
        shown.push('…');
    }
    shown
}

/// Maps a library error to what the caller is told.
fn jwt_error(kind: &ErrorKind) -> AuthError {
    let invalid = |msg: &str| AuthError::Invalid(msg.to_owned());
    match kind {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::InvalidIssuer => invalid("iss: not the expected issuer"),
        ErrorKind::InvalidAudience => invalid("aud: not the expected audience"),
        ErrorKind::ImmatureSignature => invalid("nbf: token is not valid yet"),
        ErrorKind::InvalidSignature => invalid("signature does not verify"),
        ErrorKind::MissingRequiredClaim(claim) => AuthError::Invalid(format!("{claim}: missing")),
        ErrorKind::InvalidAlgorithm => invalid("algorithm does not match the key"),
        ErrorKind::Base64(_)
        | ErrorKind::Json(_)
        | ErrorKind::Utf8(_)
        | ErrorKind::InvalidToken => invalid("malformed token"),
        _ => invalid("token rejected"),
    }
}
