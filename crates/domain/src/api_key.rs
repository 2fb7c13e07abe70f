//! API keys for machines (collectors, scripts): `cwk_<id>_<secret>`.
//!
//! Pure: the caller supplies the random bytes and the clock. Only `SHA-256(secret)` is ever
//! stored, so a leaked key store does not leak usable keys; the id is public (it names the key
//! in listings, the audit log and revocation).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::TenantId;
use crate::access::{Principal, PrincipalError, Role, TenantScope};

/// Every key starts with this, so a credential can be routed without trying to decode it.
pub const PREFIX: &str = "cwk_";
/// Random bytes behind a key id (12 lowercase hex characters).
pub const ID_BYTES: usize = 6;
/// Random bytes of the secret (43 base64url characters, no padding).
pub const SECRET_BYTES: usize = 32;
const ID_CHARS: usize = ID_BYTES * 2;
const SECRET_CHARS: usize = 43;
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Why a presented key is malformed. Never contains the key or its secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFormatError {
    #[error("an API key starts with `cwk_`")]
    Prefix,
    #[error("an API key is `cwk_<id>_<secret>`")]
    Shape,
    #[error("API key id: expected 12 lowercase hex characters")]
    Id,
    #[error("API key secret: expected 43 base64url characters (32 bytes)")]
    Secret,
}

/// Why a key record cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiKeyError {
    #[error("name: {0}")]
    Name(&'static str),
    #[error(transparent)]
    Principal(#[from] PrincipalError),
    /// Admin keys are refused: a never-expiring bearer credential for everything is too much
    /// to leave in a script (see docs/security.md).
    #[error("role: admin keys are not allowed; use a short-lived `costwatch token` for admin work")]
    Admin,
}

/// The public half of a key: 12 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

impl KeyId {
    pub fn from_bytes(bytes: [u8; ID_BYTES]) -> KeyId {
        KeyId(hex::encode(bytes))
    }

    pub fn parse(raw: &str) -> Result<KeyId, KeyFormatError> {
        let ok = raw.len() == ID_CHARS
            && raw
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if ok {
            Ok(KeyId(raw.to_string()))
        } else {
            Err(KeyFormatError::Id)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for KeyId {
    type Err = KeyFormatError;
    fn from_str(raw: &str) -> Result<KeyId, KeyFormatError> {
        KeyId::parse(raw)
    }
}

/// `SHA-256(secret bytes)`, shown as 64 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    pub fn of(secret: &[u8; SECRET_BYTES]) -> SecretHash {
        SecretHash(Sha256::digest(secret).into())
    }

    /// Constant-time equality: every byte is compared whatever the first difference, so the
    /// time taken says nothing about how much of a guessed secret was right.
    pub fn matches(&self, other: &SecretHash) -> bool {
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl fmt::Display for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl FromStr for SecretHash {
    type Err = String;
    fn from_str(raw: &str) -> Result<SecretHash, String> {
        if raw.len() != 64 || raw.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err("expected 64 lowercase hex digits".into());
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(raw, &mut out).map_err(|e| e.to_string())?;
        Ok(SecretHash(out))
    }
}

/// A key as presented by a caller. `Debug` hides the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct PresentedKey {
    pub id: KeyId,
    secret: [u8; SECRET_BYTES],
}

impl fmt::Debug for PresentedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PresentedKey({PREFIX}{}_…)", self.id)
    }
}

impl PresentedKey {
    /// A new key from fresh random bytes (the caller's CSPRNG).
    pub fn new(id: [u8; ID_BYTES], secret: [u8; SECRET_BYTES]) -> PresentedKey {
        PresentedKey {
            id: KeyId::from_bytes(id),
            secret,
        }
    }

    /// Strict: exactly `cwk_`, 12 lowercase hex, `_`, 43 canonical base64url characters.
    pub fn parse(raw: &str) -> Result<PresentedKey, KeyFormatError> {
        let rest = raw.strip_prefix(PREFIX).ok_or(KeyFormatError::Prefix)?;
        // The id has no `_`; the secret may (base64url), so split at the first one.
        let (id, secret) = rest.split_once('_').ok_or(KeyFormatError::Shape)?;
        Ok(PresentedKey {
            id: KeyId::parse(id)?,
            secret: decode_secret(secret).ok_or(KeyFormatError::Secret)?,
        })
    }

    pub fn hash(&self) -> SecretHash {
        SecretHash::of(&self.secret)
    }

    /// The full key text. Shown once, when the key is created.
    pub fn reveal(&self) -> String {
        format!("{PREFIX}{}_{}", self.id, encode_secret(&self.secret))
    }
}

fn encode_secret(bytes: &[u8; SECRET_BYTES]) -> String {
    let mut out = String::with_capacity(SECRET_CHARS);
    let mut bits = 0u32;
    let mut n = 0;
    for &b in bytes {
        bits = (bits << 8) | u32::from(b);
        n += 8;
        while n >= 6 {
            n -= 6;
            out.push(char::from(B64[((bits >> n) & 63) as usize]));
        }
    }
    if n > 0 {
        out.push(char::from(B64[((bits << (6 - n)) & 63) as usize]));
    }
    out
}

/// Decodes exactly 43 characters to 32 bytes; the 2 unused bits of the last character must be
/// zero, so every secret has one spelling.
fn decode_secret(text: &str) -> Option<[u8; SECRET_BYTES]> {
    if text.len() != SECRET_CHARS {
        return None;
    }
    let mut out = [0u8; SECRET_BYTES];
    let mut bits = 0u32;
    let mut n = 0;
    let mut i = 0;
    for c in text.bytes() {
        let v = B64.iter().position(|&b| b == c)? as u32;
        bits = ((bits << 6) | v) & 0xFFFF;
        n += 6;
        if n >= 8 {
            n -= 8;
            *out.get_mut(i)? = (bits >> n) as u8;
            i += 1;
        }
    }
    (i == SECRET_BYTES && bits & ((1 << n) - 1) == 0).then_some(out)
}

/// A stored key: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: KeyId,
    pub name: String,
    pub role: Role,
    /// Empty for roles that span every tenant (finance).
    pub tenants: Vec<TenantId>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub secret_hash: SecretHash,
}

impl ApiKeyRecord {
    /// Validates role and tenants exactly as a token's claims are (`Principal::from_claims`),
    /// then refuses admin.
    pub fn new(
        key: &PresentedKey,
        name: &str,
        role: &str,
        tenants: &[String],
        created_at: DateTime<Utc>,
    ) -> Result<ApiKeyRecord, ApiKeyError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(ApiKeyError::Name("must not be empty"));
        }
        if name.chars().count() > 100 {
            return Err(ApiKeyError::Name("at most 100 characters"));
        }
        if name.chars().any(char::is_control) {
            return Err(ApiKeyError::Name("no control characters"));
        }
        let principal = Principal::from_claims(&subject(&key.id), role, tenants, None)?;
        if principal.role == Role::Admin {
            return Err(ApiKeyError::Admin);
        }
        let tenants = match principal.tenants {
            TenantScope::All => Vec::new(),
            TenantScope::Only(set) => set.into_iter().collect(),
        };
        Ok(ApiKeyRecord {
            id: key.id.clone(),
            name: name.to_string(),
            role: principal.role,
            tenants,
            created_at,
            last_used_at: None,
            revoked_at: None,
            secret_hash: key.hash(),
        })
    }

    /// The caller this key authenticates as: subject `key:<id>`, never expiring (revocation
    /// ends it).
    pub fn principal(&self) -> Principal {
        let tenants = if self.role.spans_all_tenants() {
            TenantScope::All
        } else {
            TenantScope::Only(self.tenants.iter().cloned().collect())
        };
        Principal {
            subject: subject(&self.id),
            role: self.role,
            tenants,
            expires_at: None,
            credential_id: Some(self.id.to_string()),
        }
    }
}

/// The audit-log subject of a key.
pub fn subject(id: &KeyId) -> String {
    format!("key:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn key(seed: u8) -> PresentedKey {
        PresentedKey::new(
            [seed; ID_BYTES],
            std::array::from_fn(|i| seed ^ (i as u8).wrapping_mul(37)),
        )
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 29, 17, 0, 0)
            .single()
            .expect("time")
    }

    #[test]
    fn format_round_trips_and_has_the_documented_shape() {
        for seed in [0u8, 1, 0x7f, 0xff] {
            let k = key(seed);
            let text = k.reveal();
            assert_eq!(text.len(), 4 + 12 + 1 + 43, "{text}");
            assert!(text.starts_with("cwk_"));
            assert_eq!(PresentedKey::parse(&text), Ok(k.clone()));
        }
        // base64url, no padding: 0xff bytes encode as `_`, so the secret may contain `_`.
        let ones = PresentedKey::new([0xab; ID_BYTES], [0xff; SECRET_BYTES]);
        assert_eq!(
            ones.reveal(),
            format!("cwk_abababababab_{}8", "_".repeat(42))
        );
        assert_eq!(PresentedKey::parse(&ones.reveal()), Ok(ones));
    }

    #[test]
    fn parse_is_strict_and_never_echoes_the_secret() {
        let good = key(9).reveal();
        let secret = &good[17..];
        let cases = [
            (String::new(), KeyFormatError::Prefix),
            (good.replacen("cwk_", "CWK_", 1), KeyFormatError::Prefix),
            ("cwk_abc".to_string(), KeyFormatError::Shape),
            (good.replacen("cwk_0909", "cwk_0A09", 1), KeyFormatError::Id),
            (format!("cwk_0909_{secret}"), KeyFormatError::Id),
            (format!("{good}A"), KeyFormatError::Secret),
            (good[..good.len() - 1].to_string(), KeyFormatError::Secret),
            (
                format!("{}=", &good[..good.len() - 1]),
                KeyFormatError::Secret,
            ),
            (
                format!("{} ", &good[..good.len() - 1]),
                KeyFormatError::Secret,
            ),
        ];
        for (text, want) in cases {
            let err = PresentedKey::parse(&text).expect_err(&text);
            assert_eq!(err, want, "{text:?}");
            assert!(!err.to_string().contains(secret));
        }
        // Non-canonical: the last character carries 4 bits; the 2 spare bits must be zero.
        let last = good.as_bytes()[good.len() - 1];
        let pos = B64.iter().position(|&b| b == last).expect("b64");
        let bad = format!("{}{}", &good[..good.len() - 1], char::from(B64[pos | 1]));
        assert_eq!(PresentedKey::parse(&bad), Err(KeyFormatError::Secret));
        assert!(
            !format!("{:?}", key(9)).contains(secret),
            "Debug hides the secret"
        );
    }

    #[test]
    fn hashes_compare_in_constant_time_and_round_trip_as_hex() {
        let a = key(1).hash();
        let b = key(2).hash();
        assert!(a.matches(&a));
        assert!(!a.matches(&b));
        assert_eq!(a.to_string().parse::<SecretHash>(), Ok(a));
        assert!(a.to_string().to_uppercase().parse::<SecretHash>().is_err());
        assert!("abc".parse::<SecretHash>().is_err());
        // SHA-256 of 32 zero bytes, computed independently.
        assert_eq!(
            SecretHash::of(&[0; 32]).to_string(),
            "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
        );
    }

    #[test]
    fn records_validate_role_tenants_and_name() {
        let k = key(3);
        let t = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let r = ApiKeyRecord::new(&k, " collector ", "ingest", &t(&["globex", "acme"]), now())
            .expect("ingest key");
        assert_eq!(r.name, "collector");
        assert_eq!(
            r.tenants.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
            ["acme", "globex"]
        );
        assert_eq!(r.secret_hash, k.hash());
        let p = r.principal();
        assert_eq!(p.subject, format!("key:{}", k.id));
        assert_eq!(p.credential_id.as_deref(), Some(k.id.as_str()));
        assert_eq!(p.expires_at, None);
        let acme = TenantId::parse("acme").expect("tenant");
        assert!(
            p.authorize(crate::access::Action::Ingest, Some(&acme))
                .is_ok()
        );
        assert!(
            p.authorize(crate::access::Action::ReadCosts, Some(&acme))
                .is_err()
        );

        let finance = ApiKeyRecord::new(&k, "bi", "finance", &[], now()).expect("finance");
        assert!(finance.tenants.is_empty());
        assert_eq!(finance.principal().tenants, TenantScope::All);

        let err = |role: &str, tenants: &[&str], name: &str| {
            ApiKeyRecord::new(&k, name, role, &t(tenants), now()).expect_err(role)
        };
        assert_eq!(err("admin", &[], "x"), ApiKeyError::Admin);
        assert!(matches!(
            err("root", &["acme"], "x"),
            ApiKeyError::Principal(_)
        ));
        assert!(matches!(err("ingest", &[], "x"), ApiKeyError::Principal(_)));
        assert!(matches!(
            err("tenant-viewer", &["a b"], "x"),
            ApiKeyError::Principal(_)
        ));
        assert!(matches!(
            err("ingest", &["acme"], "  "),
            ApiKeyError::Name(_)
        ));
        assert!(matches!(
            err("ingest", &["acme"], "a\nb"),
            ApiKeyError::Name(_)
        ));
        assert!(matches!(
            err("ingest", &["acme"], &"n".repeat(101)),
            ApiKeyError::Name(_)
        ));
    }
}
