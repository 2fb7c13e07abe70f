//! The local signing key: lets a single-host installation issue its own tokens (ES256) without
//! an identity provider. The key lives in the data directory and is created on first use.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use costwatch_domain::access::Principal;
use costwatch_domain::access::{PrincipalError, Role};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::jwks::KeySet;
use crate::verify::{Verifier, VerifierConfig};

/// `iss` of locally minted tokens.
pub const LOCAL_ISSUER: &str = "costwatch-local";
/// `aud` of locally minted tokens (and the default audience Costwatch expects).
pub const LOCAL_AUDIENCE: &str = "costwatch";

/// Where the key lives under the data directory.
const KEY_DIR: &str = "auth";
const KEY_FILE: &str = "signing-key.p8";

/// Why the local signing key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum AuthKeyError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Never replaced automatically: a new key would silently invalidate every issued token.
    #[error("{path}: not a PKCS#8 ECDSA P-256 key ({reason}); move it away to create a new one")]
    Corrupt { path: PathBuf, reason: String },
    #[error("generating the signing key failed")]
    Generate,
}

/// Why a token could not be minted.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    /// The claims would not verify (e.g. a tenant-viewer without tenants): refuse up front.
    #[error("{0}")]
    Claims(#[from] PrincipalError),
    #[error("ttl must be positive and under 100 years")]
    Ttl,
    #[error("signing failed: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// What a minted token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintRequest {
    pub subject: String,
    pub role: Role,
    pub tenants: Vec<String>,
    pub ttl: chrono::Duration,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    role: &'a str,
    tenants: &'a [String],
    iat: i64,
    exp: i64,
    jti: String,
}

/// The installation's ES256 signing key.
pub struct LocalSigner {
    kid: String,
    /// Uncompressed P-256 point `0x04 || x || y`.
    public_key: Vec<u8>,
    encoding: EncodingKey,
    path: PathBuf,
}

impl std::fmt::Debug for LocalSigner {
    // The private key never appears in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalSigner")
            .field("kid", &self.kid)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl LocalSigner {
    /// Loads `<data_dir>/auth/signing-key.p8`, creating it (mode 0600) when absent. Two processes
    /// starting together end up with the same key: the new key is written to a temporary file
    /// and hard-linked to the final name, which fails if another process got there first; the
    /// loser then reads the winner's key.
    pub fn load_or_create(data_dir: &Path) -> Result<LocalSigner, AuthKeyError> {
        let dir = data_dir.join(KEY_DIR);
        let path = dir.join(KEY_FILE);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| AuthKeyError::Io { path, source }
        };
        create_private_dir(&dir).map_err(io(&dir))?;
        match std::fs::read(&path) {
            Ok(pkcs8) => return LocalSigner::from_pkcs8(&pkcs8, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&path)(e)),
        }
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| AuthKeyError::Generate)?;
        let tmp = dir.join(format!(".{KEY_FILE}.{}.tmp", uuid::Uuid::new_v4()));
        write_private(&tmp, pkcs8.as_ref()).map_err(io(&tmp))?;
        let linked = std::fs::hard_link(&tmp, &path);
        // The temporary name is removed whatever happened; a leftover would only be clutter.
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => tracing::info!(path = %path.display(), "created the local signing key"),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            // No hard links on this filesystem: exclusive create of the final name instead.
            Err(_) => match write_private(&path, pkcs8.as_ref()) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io(&path)(e)),
            },
        }
        let stored = std::fs::read(&path).map_err(io(&path))?;
        LocalSigner::from_pkcs8(&stored, path)
    }

    fn from_pkcs8(pkcs8: &[u8], path: PathBuf) -> Result<LocalSigner, AuthKeyError> {
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &rng)
            .map_err(|e| AuthKeyError::Corrupt {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        warn_if_readable_by_others(&path);
        let public_key = pair.public_key().as_ref().to_vec();
        let kid = hex::encode(Sha256::digest(&public_key))[..16].to_owned();
        Ok(LocalSigner {
            kid,
            public_key,
            encoding: EncodingKey::from_ec_der(pkcs8),
            path,
        })
    }

    /// The key id: first 16 hex digits of the SHA-256 of the public key, stable across restarts.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Where the key is stored.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Mints an ES256 token for `req`. The claims are checked with [`Principal::from_claims`]
    /// first, so a token that the verifier would refuse is never issued.
    pub fn mint(&self, req: &MintRequest) -> Result<String, MintError> {
        if req.ttl <= chrono::Duration::zero() || req.ttl > chrono::Duration::days(36_500) {
            return Err(MintError::Ttl);
        }
        let now = Utc::now();
        let expires = now + req.ttl;
        Principal::from_claims(&req.subject, req.role.as_str(), &req.tenants, Some(expires))?;
        let claims = Claims {
            iss: LOCAL_ISSUER,
            aud: LOCAL_AUDIENCE,
            sub: &req.subject,
            role: req.role.as_str(),
            tenants: &req.tenants,
            iat: now.timestamp(),
            exp: expires.timestamp(),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, &claims, &self.encoding)?)
    }

    /// The public key as a JWK Set, for `/.well-known/jwks.json` and for other verifiers.
    pub fn public_jwks(&self) -> serde_json::Value {
        // The point is 0x04 || x || y (32 bytes each), checked by ring when the key was parsed.
        let (x, y) = self.public_key[1..].split_at(32);
        serde_json::json!({
            "keys": [{
                "kty": "EC",
                "crv": "P-256",
                "x": URL_SAFE_NO_PAD.encode(x),
                "y": URL_SAFE_NO_PAD.encode(y),
                "kid": self.kid,
                "alg": "ES256",
                "use": "sig",
            }]
        })
    }

    /// A verifier that accepts this key's tokens (issuer `costwatch-local`, audience `costwatch`).
    pub fn verifier(&self) -> Verifier {
        let keys = KeySet::parse(&self.public_jwks()).unwrap_or_default();
        let config = VerifierConfig::new(
            LOCAL_ISSUER,
            LOCAL_AUDIENCE,
            crate::KeySource::Static(self.public_jwks()),
        );
        Verifier::with_keys(config, keys)
    }
}

/// Creates the key directory, readable by the owner only (unix). The data directory itself is
/// created with default permissions: other services share it.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        other => other,
    }
}

/// Writes a new file (never overwriting) with mode 0600 on unix, flushed to disk.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// A private key readable by group or others is worth a warning (not an error: the operator may
/// have reasons, e.g. a shared service group).
fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(path = %path.display(), "signing key is readable by other users; chmod 600 it");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
